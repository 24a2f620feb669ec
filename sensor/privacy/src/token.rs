//! The token formats and the keyed HMAC behind them. This module owns the
//! exact bytes that go into HMAC-SHA256 and how its output is written, so
//! that the pseudonymiser and the revealer cannot drift apart.
//!
//! * An address becomes an IPv6 address in `fd00::/8`: `fd` followed by
//!   the first 15 bytes of HMAC-SHA256(key, `"ip"` || the address's 16-byte
//!   IPv4-mapped form). Typed `IpAddr` fields stay typed.
//! * A string becomes `~` + kind letter + `_` + 20 lower-case base32
//!   characters (100 bits) of HMAC-SHA256(key, kind letter || `":"` ||
//!   value).
//!
//! The keyed state (key XOR ipad/opad absorbed) is computed once; each
//! token clones it, which costs a copy of two hash states, not two
//! compressions.

use crate::key::Key;
use hmac::{KeyInit, Mac};
use sha2::Sha256;
use std::net::{IpAddr, Ipv6Addr};

type HmacSha256 = hmac::Hmac<Sha256>;

/// What a string token stands for: its letter is in the token, so the
/// centre knows a user from a host without knowing either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Host, computer, NetBIOS or internal domain name (`~h_`).
    Host,
    /// User name or principal (`~u_`).
    User,
    /// MAC address, lower case with colons (`~m_`).
    Mac,
    /// Mail address (`~e_`).
    Mail,
    /// Path, URI, share or file name (`~p_`).
    Path,
    /// Other personal text: subjects, LDAP filters, log lines (`~x_`).
    Text,
    /// Community ID of a connection (`~c_`): it is a hash of the
    /// addresses, so in clear it would give the addresses back to anyone
    /// who enumerates them. Never journalled.
    Community,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Host,
        Kind::User,
        Kind::Mac,
        Kind::Mail,
        Kind::Path,
        Kind::Text,
        Kind::Community,
    ];

    pub fn letter(self) -> char {
        match self {
            Kind::Host => 'h',
            Kind::User => 'u',
            Kind::Mac => 'm',
            Kind::Mail => 'e',
            Kind::Path => 'p',
            Kind::Text => 'x',
            Kind::Community => 'c',
        }
    }

    pub fn from_letter(c: char) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.letter() == c)
    }

    /// The word used in the journal and by `reveal`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Host => "host",
            Kind::User => "user",
            Kind::Mac => "mac",
            Kind::Mail => "mail",
            Kind::Path => "path",
            Kind::Text => "text",
            Kind::Community => "community_id",
        }
    }

    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Length of a string token: `~`, letter, `_`, 20 characters.
pub const STR_TOKEN_LEN: usize = 23;

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Keyed HMAC state, cloned per token.
#[derive(Clone)]
pub struct Tokeniser {
    mac: HmacSha256,
}

impl Tokeniser {
    pub fn new(key: &Key) -> Tokeniser {
        // A 32-byte key is always accepted by HMAC (any length is); the
        // fallback can therefore not happen, but no panic either way.
        let mac = match HmacSha256::new_from_slice(key.bytes()) {
            Ok(m) => m,
            Err(_) => HmacSha256::new(&Default::default()),
        };
        Tokeniser { mac }
    }

    /// The IP token of an address.
    pub fn ip(&self, addr: IpAddr) -> Ipv6Addr {
        let mapped = match addr {
            IpAddr::V4(a) => a.to_ipv6_mapped(),
            IpAddr::V6(a) => a,
        };
        let mut m = self.mac.clone();
        m.update(b"ip");
        m.update(&mapped.octets());
        let out = m.finalize().into_bytes();
        let mut o = [0u8; 16];
        o[0] = 0xfd;
        o[1..].copy_from_slice(&out[..15]);
        Ipv6Addr::from(o)
    }

    /// The string token of `value` of `kind`, appended to `out`.
    pub fn string_into(&self, kind: Kind, value: &[u8], out: &mut String) {
        let mut m = self.mac.clone();
        let mut dom = [0u8; 4];
        let letter = kind.letter().encode_utf8(&mut dom).len();
        dom[letter] = b':';
        m.update(&dom[..letter + 1]);
        m.update(value);
        let h = m.finalize().into_bytes();
        out.reserve(STR_TOKEN_LEN);
        out.push('~');
        out.push(kind.letter());
        out.push('_');
        // 20 characters of 5 bits from the first 13 bytes (104 bits).
        let mut acc: u32 = 0;
        let mut bits = 0;
        let mut written = 0;
        for &b in &h[..13] {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 && written < 20 {
                bits -= 5;
                out.push(char::from(BASE32[((acc >> bits) & 31) as usize]));
                written += 1;
            }
            acc &= (1 << bits) - 1;
        }
    }

    pub fn string(&self, kind: Kind, value: &str) -> String {
        let mut s = String::with_capacity(STR_TOKEN_LEN);
        self.string_into(kind, value.as_bytes(), &mut s);
        s
    }
}

/// Whether `addr` is in `fd00::/8`, where IP tokens live.
pub fn is_ip_token(addr: Ipv6Addr) -> bool {
    addr.octets()[0] == 0xfd
}

/// The kind of a string token, if `s` is one.
pub fn parse_string_token(s: &str) -> Option<Kind> {
    let b = s.as_bytes();
    if b.len() != STR_TOKEN_LEN || b[0] != b'~' || b[2] != b'_' {
        return None;
    }
    if !b[3..].iter().all(|c| BASE32.contains(c)) {
        return None;
    }
    Kind::from_letter(char::from(b[1]))
}

/// A MAC address in the one spelling tokens are made of (lower case,
/// colons), or `None` when `s` is not six hex pairs separated by `:` or
/// `-`.
pub fn canonical_mac(s: &str) -> Option<[u8; 17]> {
    let b = s.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let sep = b[2];
    if sep != b':' && sep != b'-' {
        return None;
    }
    let mut out = [0u8; 17];
    for (i, &c) in b.iter().enumerate() {
        if i % 3 == 2 {
            if c != sep {
                return None;
            }
            out[i] = b':';
        } else if c.is_ascii_hexdigit() {
            out[i] = c.to_ascii_lowercase();
        } else {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_tokens_have_the_documented_shape() {
        let t = Tokeniser::new(&Key::from_bytes([7; 32]));
        let s = t.string(Kind::Host, "anne-pc");
        assert_eq!(s.len(), STR_TOKEN_LEN);
        assert!(s.starts_with("~h_"), "{s}");
        assert_eq!(parse_string_token(&s), Some(Kind::Host));
        assert_eq!(t.string(Kind::Host, "anne-pc"), s);
        // The kind is part of the input: a user named like a host gets
        // another token.
        assert_ne!(t.string(Kind::User, "anne-pc")[3..], s[3..]);
    }

    #[test]
    fn ip_tokens_live_in_fd00_and_v4_equals_its_mapped_form() {
        let t = Tokeniser::new(&Key::from_bytes([7; 32]));
        let a = t.ip("10.1.2.3".parse().unwrap());
        assert!(is_ip_token(a));
        assert_eq!(a, t.ip("::ffff:10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn macs_are_canonicalised() {
        assert_eq!(
            canonical_mac("AA-bb-CC-dd-EE-0f").map(|m| m.to_vec()),
            Some(b"aa:bb:cc:dd:ee:0f".to_vec())
        );
        assert!(canonical_mac("aa:bb:cc:dd:ee").is_none());
        assert!(canonical_mac("aa:bb-cc:dd:ee:ff").is_none());
    }
}
