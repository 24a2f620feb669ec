//! The hello extension block: a walk over (type, data) pairs in wire order
//! (the fingerprints need the order and the raw types, including ones no
//! parser knows) and readers for the few extension bodies ssl.log, quic.log
//! and the fingerprints use. Every reader returns `None` on a body that
//! does not hold together rather than guessing.

use super::HelloError;

pub const SERVER_NAME: u16 = 0;
pub const SUPPORTED_GROUPS: u16 = 10;
pub const EC_POINT_FORMATS: u16 = 11;
pub const SIGNATURE_ALGORITHMS: u16 = 13;
pub const ALPN: u16 = 16;
pub const SESSION_TICKET: u16 = 35;
pub const PRE_SHARED_KEY: u16 = 41;
pub const SUPPORTED_VERSIONS: u16 = 43;
pub const KEY_SHARE: u16 = 51;

/// GREASE values (RFC 8701): 0x?a?a with both bytes equal. Fingerprints
/// ignore them, since clients pick them at random per connection.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// Splits an extension block (without its 2-byte length) into
/// (type, body) pairs.
pub fn split(mut block: &[u8]) -> Result<Vec<(u16, &[u8])>, HelloError> {
    let mut out = Vec::new();
    while !block.is_empty() {
        let (t, rest) = u16_at(block).ok_or(HelloError::Truncated)?;
        let (len, rest) = u16_at(rest).ok_or(HelloError::Truncated)?;
        let len = usize::from(len);
        if rest.len() < len {
            return Err(HelloError::Truncated);
        }
        out.push((t, &rest[..len]));
        block = &rest[len..];
    }
    Ok(out)
}

pub fn u16_at(b: &[u8]) -> Option<(u16, &[u8])> {
    match b {
        [a, c, rest @ ..] => Some((u16::from_be_bytes([*a, *c]), rest)),
        _ => None,
    }
}

/// A vector with a length prefix of `len_bytes` (1 or 2) that must fill
/// `b` exactly.
fn exact_vec(b: &[u8], len_bytes: usize) -> Option<&[u8]> {
    let (len, rest) = match len_bytes {
        1 => (usize::from(*b.first()?), b.get(1..)?),
        _ => {
            let (l, r) = u16_at(b)?;
            (usize::from(l), r)
        }
    };
    (rest.len() == len).then_some(rest)
}

fn u16_list(b: &[u8]) -> Option<Vec<u16>> {
    let pairs = b.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    Some(pairs.map(|c| u16::from_be_bytes([c[0], c[1]])).collect())
}

/// server_name (RFC 6066 §3): the host names, in order.
pub fn server_names(b: &[u8]) -> Option<Vec<String>> {
    let mut list = exact_vec(b, 2)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let kind = *list.first()?;
        let (len, rest) = u16_at(list.get(1..)?)?;
        let name = rest.get(..usize::from(len))?;
        if kind == 0 {
            out.push(String::from_utf8_lossy(name).into_owned());
        }
        list = &rest[usize::from(len)..];
    }
    Some(out)
}

/// application_layer_protocol_negotiation (RFC 7301): the protocol names
/// as raw bytes (JA4 needs the bytes; logs want them as text).
pub fn alpn(b: &[u8]) -> Option<Vec<&[u8]>> {
    let mut list = exact_vec(b, 2)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let len = usize::from(*list.first()?);
        out.push(list.get(1..1 + len)?);
        list = &list[1 + len..];
    }
    Some(out)
}

/// supported_groups, signature_algorithms: a 2-byte-length list of u16.
pub fn u16_vec(b: &[u8]) -> Option<Vec<u16>> {
    u16_list(exact_vec(b, 2)?)
}

/// ec_point_formats: a 1-byte-length list of u8.
pub fn u8_vec(b: &[u8]) -> Option<Vec<u8>> {
    Some(exact_vec(b, 1)?.to_vec())
}

/// supported_versions in a ClientHello: a 1-byte-length list of u16.
pub fn client_versions(b: &[u8]) -> Option<Vec<u16>> {
    u16_list(exact_vec(b, 1)?)
}

/// key_share in a ServerHello: the selected group (the key is not needed);
/// in a HelloRetryRequest the body is the group alone.
pub fn server_key_share_group(b: &[u8]) -> Option<u16> {
    u16_at(b).map(|(g, _)| g)
}

/// key_share in a ClientHello: the offered groups.
pub fn client_key_share_groups(b: &[u8]) -> Option<Vec<u16>> {
    let mut list = exact_vec(b, 2)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let (g, rest) = u16_at(list)?;
        let (len, rest) = u16_at(rest)?;
        rest.get(..usize::from(len))?;
        out.push(g);
        list = &rest[usize::from(len)..];
    }
    Some(out)
}

pub use crate::applayer::hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_is_recognised() {
        for v in [0x0a0a, 0x1a1a, 0xfafa, 0xeaea] {
            assert!(is_grease(v));
        }
        for v in [0x0a1a, 0x0000, 0x1301, 0xfefe, 0x0a0b] {
            assert!(!is_grease(v));
        }
    }

    #[test]
    fn extension_bodies() {
        let sni = [
            0, 14, 0, 0, 11, b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'c', b'o', b'm',
        ];
        assert_eq!(server_names(&sni), Some(vec!["example.com".to_string()]));
        assert_eq!(server_names(&sni[..10]), None);
        let alpn_body = [
            0, 12, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
        ];
        assert_eq!(alpn(&alpn_body), Some(vec![&b"h2"[..], &b"http/1.1"[..]]));
        assert_eq!(alpn(&alpn_body[..5]), None);
        assert_eq!(
            client_versions(&[4, 0x03, 0x04, 0x03, 0x03]),
            Some(vec![0x0304, 0x0303])
        );
        assert_eq!(client_versions(&[3, 0x03, 0x04, 0x03]), None);
        assert_eq!(split(&[0, 0, 0, 5, 1]), Err(HelloError::Truncated));
        assert_eq!(
            client_key_share_groups(&[0, 6, 0, 29, 0, 2, 1, 2]),
            Some(vec![29])
        );
    }
}
