//! The clear-text part of SSH-2 after the version lines (RFC 4253): the
//! binary packet framing, SSH_MSG_KEXINIT, the server host key of the key
//! exchange reply, and what Zeek and HASSH derive from them (negotiated
//! algorithms, host key fingerprint, HASSH). Every read is checked: a
//! message that runs short yields `None`, never a panic.

use base64::Engine as _;
use md5::{Digest as _, Md5};
use sha2::Sha256;

pub const MSG_KEXINIT: u8 = 20;
pub const MSG_NEWKEYS: u8 = 21;

/// Reads big-endian integers and SSH strings from a message.
pub struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { b, at: 0 }
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    pub fn u32(&mut self) -> Option<u32> {
        let b = self.bytes(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An SSH `string`: a u32 length and that many bytes.
    pub fn string(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }
}

/// The name-lists of a KEXINIT, as sent (comma-separated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KexInit {
    pub kex: String,
    pub host_key: String,
    pub enc_c2s: String,
    pub enc_s2c: String,
    pub mac_c2s: String,
    pub mac_s2c: String,
    pub comp_c2s: String,
    pub comp_s2c: String,
}

/// Reads a KEXINIT payload (after the message type): a 16-byte cookie and
/// ten name-lists (the two language lists are not kept).
pub fn kexinit(payload: &[u8]) -> Option<KexInit> {
    let mut r = Reader::new(payload);
    r.bytes(16)?;
    let mut next = || r.string().map(|s| String::from_utf8_lossy(s).into_owned());
    let k = KexInit {
        kex: next()?,
        host_key: next()?,
        enc_c2s: next()?,
        enc_s2c: next()?,
        mac_c2s: next()?,
        mac_s2c: next()?,
        comp_c2s: next()?,
        comp_s2c: next()?,
    };
    // Languages: present in any valid KEXINIT; Zeek's parser needs them too.
    next()?;
    next()?;
    Some(k)
}

/// The names of a name-list, empty names skipped (as Zeek splits them).
fn names(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').filter(|n| !n.is_empty())
}

/// The algorithm SSH negotiates: the client's first that the server also
/// offers (Zeek's `find_alg`, with its text when there is none).
pub fn find_alg(client: &str, server: &str) -> String {
    // A set, not a scan of the server's list per client name: a hostile
    // KEXINIT with thousands of names would otherwise cost their square.
    let offered: std::collections::HashSet<&str> = names(server).collect();
    names(client)
        .find(|c| offered.contains(c))
        .unwrap_or("Algorithm negotiation failed")
        .to_string()
}

/// `find_alg` for both directions; one name when they agree (Zeek's
/// `find_bidirectional_alg`).
pub fn find_bidirectional(c_c2s: &str, c_s2c: &str, s_c2s: &str, s_s2c: &str) -> String {
    let to_server = find_alg(c_c2s, s_c2s);
    let to_client = find_alg(c_s2c, s_s2c);
    if to_server == to_client {
        to_server
    } else {
        format!("To server: {to_server}, to client: {to_client}")
    }
}

/// How the key exchange after KEXINIT runs, which decides what message
/// types 30 to 34 mean (Zeek's KEX_* states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KexMode {
    Dh,
    DhGex,
    Ecc,
    Gss,
    Rsa,
    Unknown,
}

/// The mode of a negotiated key-exchange algorithm, by Zeek's rules.
pub fn kex_mode(alg: &str) -> KexMode {
    match alg {
        "rsa1024-sha1" | "rsa2048-sha256" => KexMode::Rsa,
        "diffie-hellman-group1-sha1" | "diffie-hellman-group14-sha1" => KexMode::Dh,
        "diffie-hellman-group-exchange-sha1" | "diffie-hellman-group-exchange-sha256" => {
            KexMode::DhGex
        }
        "ecmqv-sha2" => KexMode::Ecc,
        a if a.starts_with("gss-") => KexMode::Gss,
        // The post-quantum hybrids (sntrup761, ML-KEM) and curve448 carry
        // their keys in the ECDH messages (30, 31), as curve25519 does.
        a if a.starts_with("ecdh-sha2-")
            || a.starts_with("curve25519-sha256")
            || a.starts_with("curve448-sha512")
            || a.starts_with("sntrup761x25519-sha512")
            || a.starts_with("mlkem") =>
        {
            KexMode::Ecc
        }
        _ => KexMode::Unknown,
    }
}

/// The server host key blob carried by message `msg_type` in `mode`, if
/// that message carries one: the DH and ECDH replies (31), the group
/// exchange reply and GSS host key message (33). Each starts with it.
pub fn host_key(mode: KexMode, msg_type: u8, payload: &[u8]) -> Option<&[u8]> {
    let carries = matches!(
        (mode, msg_type),
        (KexMode::Dh | KexMode::Ecc, 31) | (KexMode::DhGex | KexMode::Gss, 33)
    );
    if !carries {
        return None;
    }
    Reader::new(payload).string()
}

/// The host key fingerprint as Zeek writes it: "SHA256:" and the padded
/// base64 of the key blob's SHA-256, of which Zeek keeps 32 characters.
pub fn fingerprint(key: &[u8]) -> String {
    let digest = Sha256::digest(key);
    let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
    format!("SHA256:{}", b64.get(..32).unwrap_or(&b64))
}

/// HASSH (Salesforce): MD5, in hex, of "kex;encryption;mac;compression"
/// from one KEXINIT. The client's uses its client-to-server lists, the
/// server's (HASSH-server) its server-to-client lists.
pub fn hassh(k: &KexInit, client: bool) -> String {
    let (enc, mac, comp) = if client {
        (&k.enc_c2s, &k.mac_c2s, &k.comp_c2s)
    } else {
        (&k.enc_s2c, &k.mac_s2c, &k.comp_s2c)
    };
    let mut h = Md5::new();
    for (i, part) in [&k.kex, enc, mac, comp].into_iter().enumerate() {
        if i > 0 {
            h.update(b";");
        }
        h.update(part.as_bytes());
    }
    crate::applayer::hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &[u8]) -> Vec<u8> {
        let mut v = (s.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(s);
        v
    }

    pub fn kexinit_payload(lists: [&str; 10]) -> Vec<u8> {
        let mut p = vec![7u8; 16];
        for l in lists {
            p.extend(string(l.as_bytes()));
        }
        p.extend([0, 0, 0, 0, 0]);
        p
    }

    #[test]
    fn reads_kexinit_and_negotiates() {
        let c = kexinit(&kexinit_payload([
            "curve25519-sha256,ecdh-sha2-nistp256",
            "ssh-ed25519,rsa-sha2-512",
            "aes128-ctr,aes256-ctr",
            "aes256-ctr",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "none,zlib",
            "none,zlib",
            "",
            "",
        ]))
        .expect("kexinit");
        let s = kexinit(&kexinit_payload([
            "ecdh-sha2-nistp256,curve25519-sha256",
            "rsa-sha2-512",
            "aes256-ctr,aes128-ctr",
            "aes256-ctr",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "zlib",
            "zlib",
            "",
            "",
        ]))
        .expect("kexinit");
        assert_eq!(find_alg(&c.kex, &s.kex), "curve25519-sha256");
        assert_eq!(find_alg(&c.host_key, &s.host_key), "rsa-sha2-512");
        assert_eq!(
            find_bidirectional(&c.enc_c2s, &c.enc_s2c, &s.enc_c2s, &s.enc_s2c),
            "To server: aes128-ctr, to client: aes256-ctr"
        );
        assert_eq!(
            find_bidirectional(&c.comp_c2s, &c.comp_s2c, &s.comp_c2s, &s.comp_s2c),
            "zlib"
        );
        assert_eq!(find_alg("a,b", "c"), "Algorithm negotiation failed");
        assert_eq!(kex_mode("curve25519-sha256@libssh.org"), KexMode::Ecc);
        assert_eq!(kex_mode("sntrup761x25519-sha512@openssh.com"), KexMode::Ecc);
        assert_eq!(kex_mode("mlkem768x25519-sha256"), KexMode::Ecc);
        assert_eq!(kex_mode("ext-info-c"), KexMode::Unknown);
    }

    #[test]
    fn short_kexinit_is_none() {
        let p = kexinit_payload(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
        for n in 0..p.len() - 5 {
            assert_eq!(kexinit(&p[..n]), None, "{n}");
        }
        let mut huge = vec![0u8; 16];
        huge.extend([0xff, 0xff, 0xff, 0xff]);
        assert_eq!(kexinit(&huge), None);
    }

    #[test]
    fn hassh_of_known_lists() {
        // The HASSH README's example strings hash as it says.
        let k = KexInit {
            kex: "curve25519-sha256@libssh.org,ecdh-sha2-nistp256".into(),
            enc_c2s: "aes128-ctr".into(),
            mac_c2s: "hmac-sha1".into(),
            comp_c2s: "none".into(),
            ..KexInit::default()
        };
        let mut h = Md5::new();
        h.update(b"curve25519-sha256@libssh.org,ecdh-sha2-nistp256;aes128-ctr;hmac-sha1;none");
        let want: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hassh(&k, true), want);
    }

    #[test]
    fn fingerprint_is_cut_like_zeek() {
        let f = fingerprint(b"key");
        assert!(f.starts_with("SHA256:"));
        assert_eq!(f.len(), 7 + 32);
    }
}
