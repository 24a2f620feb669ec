//! TLS fingerprints of the hellos: JA3 and JA3S (Salesforce; MD5 of a
//! decimal string) and JA4 and JA4S (FoxIO; a readable prefix and
//! truncated SHA-256 hashes). GREASE values are left out everywhere, as
//! both specifications ask, because clients pick them at random.

use super::client_hello::ClientHello;
use super::extensions::{hex, is_grease, ALPN, SERVER_NAME};
use super::server_hello::ServerHello;
use md5::Md5;
use sha2::{Digest, Sha256};

/// What carried the hello: the first character of JA4 and JA4S.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    Tcp,
    Quic,
    Dtls,
}

impl Carrier {
    fn letter(self) -> char {
        match self {
            Carrier::Tcp => 't',
            Carrier::Quic => 'q',
            Carrier::Dtls => 'd',
        }
    }
}

fn join<T: ToString>(v: impl Iterator<Item = T>, sep: &str) -> String {
    v.map(|x| x.to_string()).collect::<Vec<_>>().join(sep)
}

/// The JA3 string: version,ciphers,extensions,groups,point formats.
pub fn ja3_string(ch: &ClientHello) -> String {
    let no_grease = |v: &&u16| !is_grease(**v);
    format!(
        "{},{},{},{},{}",
        ch.legacy_version,
        join(ch.ciphers.iter().filter(no_grease), "-"),
        join(ch.extensions.iter().filter(no_grease), "-"),
        join(ch.supported_groups.iter().filter(no_grease), "-"),
        join(ch.ec_point_formats.iter(), "-"),
    )
}

/// JA3: the MD5 of [`ja3_string`], lower-case hex.
pub fn ja3(ch: &ClientHello) -> String {
    hex(&Md5::digest(ja3_string(ch).as_bytes()))
}

/// The JA3S string: version,cipher,extensions.
pub fn ja3s_string(sh: &ServerHello) -> String {
    format!(
        "{},{},{}",
        sh.legacy_version,
        sh.cipher,
        join(sh.extensions.iter().filter(|v| !is_grease(**v)), "-"),
    )
}

/// JA3S: the MD5 of [`ja3s_string`].
pub fn ja3s(sh: &ServerHello) -> String {
    hex(&Md5::digest(ja3s_string(sh).as_bytes()))
}

/// JA4's two-character version.
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// The first and last character of an ALPN value, or of its hex form when
/// either end is not alphanumeric; "00" when there is none.
fn ja4_alpn(first: Option<&[u8]>) -> String {
    let Some(p) = first.filter(|p| !p.is_empty()) else {
        return "00".to_string();
    };
    let (a, z) = (p[0], p[p.len() - 1]);
    if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
        format!("{}{}", a as char, z as char)
    } else {
        let h = hex(p);
        let b = h.as_bytes();
        format!("{}{}", b[0] as char, b[b.len() - 1] as char)
    }
}

fn count2(n: usize) -> String {
    format!("{:02}", n.min(99))
}

/// The first 12 hex characters of the SHA-256 of `s`; twelve zeros for an
/// empty list, as the specification asks.
fn hash12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_string();
    }
    let mut h = hex(&Sha256::digest(s.as_bytes()));
    h.truncate(12);
    h
}

fn hex4_list(v: impl Iterator<Item = u16>) -> String {
    join(v.map(|x| format!("{x:04x}")), ",")
}

/// The JA4 parts: (a, raw cipher list, raw extension list with signature
/// algorithms), before hashing; JA4_r joins them with '_'.
fn ja4_parts(ch: &ClientHello, carrier: Carrier) -> (String, String, String) {
    let mut ciphers: Vec<u16> = ch
        .ciphers
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let exts: Vec<u16> = ch
        .extensions
        .iter()
        .copied()
        .filter(|e| !is_grease(*e))
        .collect();
    let a = format!(
        "{}{}{}{}{}{}",
        carrier.letter(),
        ja4_version(ch.max_version()),
        if ch.extensions.contains(&SERVER_NAME) {
            'd'
        } else {
            'i'
        },
        count2(ciphers.len()),
        count2(exts.len()),
        ja4_alpn(ch.alpn.first().map(Vec::as_slice)),
    );
    ciphers.sort_unstable();
    let mut sorted: Vec<u16> = exts
        .into_iter()
        .filter(|e| *e != SERVER_NAME && *e != ALPN)
        .collect();
    sorted.sort_unstable();
    let mut c = hex4_list(sorted.into_iter());
    let sigs: Vec<u16> = ch
        .signature_algorithms
        .iter()
        .copied()
        .filter(|s| !is_grease(*s))
        .collect();
    // With no extensions left the part is empty (hashed to zeros) even if
    // signature algorithms exist; they travel in an extension anyway.
    if !c.is_empty() && !sigs.is_empty() {
        c.push('_');
        c.push_str(&hex4_list(sigs.into_iter()));
    }
    (a, hex4_list(ciphers.into_iter()), c)
}

/// JA4 of a ClientHello carried by `carrier`.
pub fn ja4(ch: &ClientHello, carrier: Carrier) -> String {
    let (a, b, c) = ja4_parts(ch, carrier);
    format!("{a}_{}_{}", hash12(&b), hash12(&c))
}

/// JA4_r: JA4 with the sorted lists in place of their hashes.
pub fn ja4_raw(ch: &ClientHello, carrier: Carrier) -> String {
    let (a, b, c) = ja4_parts(ch, carrier);
    format!("{a}_{b}_{c}")
}

/// JA4S of a ServerHello carried by `carrier`.
pub fn ja4s(sh: &ServerHello, carrier: Carrier) -> String {
    let exts: Vec<u16> = sh
        .extensions
        .iter()
        .copied()
        .filter(|e| !is_grease(*e))
        .collect();
    format!(
        "{}{}{}{}_{:04x}_{}",
        carrier.letter(),
        ja4_version(sh.version()),
        count2(exts.len()),
        ja4_alpn(sh.alpn.as_deref()),
        sh.cipher,
        hash12(&hex4_list(exts.into_iter())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applayer::tls::client_hello::parse_client_hello;
    use crate::applayer::tls::testutil::rfc9001_client_hello;

    #[test]
    fn ja4_spec_hash_examples() {
        // FoxIO's JA4 specification (technical_details/JA4.md), "Cipher
        // hash" and "Extension hash" sections.
        assert_eq!(
            hash12("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"),
            "8daaf6152771"
        );
        assert_eq!(
            hash12(
                "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_\
                 0403,0804,0401,0503,0805,0501,0806,0601"
            ),
            "e5627efa2ab1"
        );
        assert_eq!(
            hash12("0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01"),
            "6d807ffa2a79"
        );
        // JA4S.md: extensions 0005,0017,ff01,0000 hash to 4e8089b08790.
        let sh = ServerHello {
            legacy_version: 0x0303,
            cipher: 0xc030,
            extensions: vec![0x0005, 0x0017, 0xff01, 0x0000],
            ..ServerHello::default()
        };
        assert_eq!(ja4s(&sh, Carrier::Tcp), "t120400_c030_4e8089b08790");
    }

    #[test]
    fn ja4_spec_full_example() {
        // The JA4.md example hello, rebuilt from its raw (-o) listing.
        let ch = ClientHello {
            legacy_version: 0x0303,
            ciphers: vec![
                0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
                0xc014, 0x009c, 0x009d, 0x002f, 0x0035, 0x0a0a,
            ],
            extensions: vec![
                0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005,
                0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
            ],
            supported_versions: vec![0x3a3a, 0x0304, 0x0303],
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            signature_algorithms: vec![
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ],
            ..ClientHello::default()
        };
        assert_eq!(
            ja4(&ch, Carrier::Tcp),
            "t13d1516h2_8daaf6152771_e5627efa2ab1"
        );
    }

    #[test]
    fn ja3_readme_example() {
        // Salesforce JA3 README: this string hashes to this MD5.
        let ch = ClientHello {
            legacy_version: 769,
            ciphers: vec![47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
            extensions: vec![0, 10, 11],
            supported_groups: vec![23, 24, 25],
            ec_point_formats: vec![0],
            ..ClientHello::default()
        };
        assert_eq!(
            ja3_string(&ch),
            "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"
        );
        assert_eq!(ja3(&ch), "ada70206e40642a3e4461f35503241d5");
    }

    #[test]
    fn alpn_characters() {
        assert_eq!(ja4_alpn(Some(b"h2")), "h2");
        assert_eq!(ja4_alpn(Some(b"http/1.1")), "h1");
        assert_eq!(ja4_alpn(Some(b"h")), "hh");
        assert_eq!(ja4_alpn(Some(b"")), "00");
        assert_eq!(ja4_alpn(None), "00");
        // The specification's non-alphanumeric examples.
        assert_eq!(ja4_alpn(Some(&[0xab])), "ab");
        assert_eq!(ja4_alpn(Some(&[0xab, 0xcd])), "ad");
        assert_eq!(ja4_alpn(Some(&[0x30, 0xab])), "3b");
        assert_eq!(ja4_alpn(Some(&[0x30, 0x31, 0xab, 0xcd])), "3d");
        assert_eq!(ja4_alpn(Some(&[0x30, 0xab, 0xcd, 0x31])), "01");
    }

    #[test]
    fn rfc9001_hello_in_quic() {
        let ch = parse_client_hello(&rfc9001_client_hello()).expect("parses");
        let j = ja4(&ch, Carrier::Quic);
        // q, TLS 1.3, SNI, 2 ciphers, 11 extensions, ALPN "alpn" -> "an".
        assert!(j.starts_with("q13d0211an_"), "{j}");
        assert_eq!(
            ja4_raw(&ch, Carrier::Quic),
            "q13d0211an_1301,1302_\
             0005,000a,000d,001c,002b,002d,0033,0039,ff01_\
             0403,0503,0603,0203,0804,0805,0806"
        );
    }
}
