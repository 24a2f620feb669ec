//! The Certificate handshake message (TLS 1.2 and earlier, where it is
//! plaintext) and the x509.log fields of a certificate, written the way
//! Zeek writes them through OpenSSL: names in RFC 2253 order and escaping
//! ("CN=...,O=...,C=US", last RDN first), serials in upper-case hex,
//! validity in seconds, OpenSSL's algorithm names.

use super::extensions::hex;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use x509_parser::der_parser::asn1_rs::{Any, Class, Tag};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

/// Why a certificate could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertError {
    /// The message ends before a length it announces.
    Truncated,
    /// The message holds no certificate.
    Empty,
    /// The DER does not parse as an X.509 certificate.
    Der,
}

/// What x509.log reports of one certificate (Zeek's column names in the
/// comments where they differ).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertInfo {
    /// `certificate.version`: 1, 2 or 3.
    pub version: u32,
    /// `certificate.serial`.
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    /// `certificate.not_valid_before`, seconds since the epoch.
    pub not_valid_before: i64,
    pub not_valid_after: i64,
    /// `certificate.key_alg`, e.g. "rsaEncryption", "id-ecPublicKey".
    pub key_alg: String,
    /// `certificate.sig_alg`, e.g. "sha256WithRSAEncryption".
    pub sig_alg: String,
    /// `certificate.key_type`: "rsa", "dsa" or "ecdsa".
    pub key_type: Option<&'static str>,
    pub key_length: Option<u32>,
    /// `certificate.exponent` of an RSA key, in decimal.
    pub exponent: Option<String>,
    /// `certificate.curve` of an EC key, OpenSSL's short name.
    pub curve: Option<&'static str>,
    pub san_dns: Vec<String>,
    pub san_uri: Vec<String>,
    pub san_email: Vec<String>,
    pub san_ip: Vec<IpAddr>,
    pub basic_constraints_ca: Option<bool>,
    pub basic_constraints_path_len: Option<u32>,
    /// SHA-1 of the DER, lower-case hex.
    pub fingerprint_sha1: String,
    /// SHA-256 of the DER: x509.log `fingerprint` and ssl.log
    /// `cert_chain_fps` in Zeek's default configuration.
    pub fingerprint_sha256: String,
}

/// The DER certificates of a Certificate message body, in order (the
/// server's own first).
pub fn certificate_chain(body: &[u8]) -> Result<Vec<&[u8]>, CertError> {
    let total = u24(body).ok_or(CertError::Truncated)?;
    let mut list = body.get(3..3 + total).ok_or(CertError::Truncated)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let len = u24(list).ok_or(CertError::Truncated)?;
        out.push(list.get(3..3 + len).ok_or(CertError::Truncated)?);
        list = &list[3 + len..];
    }
    Ok(out)
}

/// The first (server or client) certificate of a Certificate message.
pub fn parse_certificate_message(body: &[u8]) -> Result<CertInfo, CertError> {
    let chain = certificate_chain(body)?;
    parse_certificate(chain.first().ok_or(CertError::Empty)?)
}

/// x509.log fields of one DER certificate.
pub fn parse_certificate(der: &[u8]) -> Result<CertInfo, CertError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| CertError::Der)?;
    let tbs = &cert.tbs_certificate;
    let spki = tbs.subject_pki.clone();
    let mut info = CertInfo {
        version: tbs.version.0 + 1,
        serial: serial(tbs.raw_serial()),
        subject: rfc2253(tbs.subject()),
        issuer: rfc2253(tbs.issuer()),
        not_valid_before: tbs.validity.not_before.timestamp(),
        not_valid_after: tbs.validity.not_after.timestamp(),
        key_alg: oid_name(&spki.algorithm.algorithm.to_id_string()),
        sig_alg: oid_name(&cert.signature_algorithm.algorithm.to_id_string()),
        fingerprint_sha1: hex(&Sha1::digest(der)),
        fingerprint_sha256: hex(&Sha256::digest(der)),
        ..CertInfo::default()
    };
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            info.key_type = Some("rsa");
            info.key_length = Some(bits(rsa.modulus));
            info.exponent = rsa.try_exponent().ok().map(|e| e.to_string());
        }
        Ok(PublicKey::DSA(_)) => {
            info.key_type = Some("dsa");
            // OpenSSL reports the size of p, the first DSA parameter.
            info.key_length = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| first_integer_bits(p.data));
        }
        Ok(PublicKey::EC(_)) => {
            info.key_type = Some("ecdsa");
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .and_then(|o| ec_curve(&o.to_id_string()));
            info.curve = curve.map(|c| c.0);
            info.key_length = curve.map(|c| c.1);
        }
        _ => {}
    }
    for e in tbs.extensions() {
        match e.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for n in &san.general_names {
                    match n {
                        GeneralName::DNSName(s) => info.san_dns.push(s.to_string()),
                        GeneralName::URI(s) => info.san_uri.push(s.to_string()),
                        GeneralName::RFC822Name(s) => info.san_email.push(s.to_string()),
                        GeneralName::IPAddress(b) => {
                            if let Some(ip) = ip_from(b) {
                                info.san_ip.push(ip);
                            }
                        }
                        _ => {}
                    }
                }
            }
            ParsedExtension::BasicConstraints(bc) => {
                info.basic_constraints_ca = Some(bc.ca);
                info.basic_constraints_path_len = bc.path_len_constraint;
            }
            _ => {}
        }
    }
    Ok(info)
}

/// SHA-256 of a DER certificate, as in ssl.log `cert_chain_fps`.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    hex(&Sha256::digest(der))
}

fn u24(b: &[u8]) -> Option<usize> {
    match b {
        [a, c, d, ..] => Some((usize::from(*a) << 16) | (usize::from(*c) << 8) | usize::from(*d)),
        _ => None,
    }
}

/// OpenSSL's `i2a_ASN1_INTEGER`: the magnitude's bytes in upper-case hex,
/// without the sign byte DER adds.
fn serial(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    raw[start..].iter().map(|b| format!("{b:02X}")).collect()
}

/// Bit length of an unsigned big-endian integer.
fn bits(n: &[u8]) -> u32 {
    match n.iter().position(|b| *b != 0) {
        Some(i) => (n.len() - i - 1) as u32 * 8 + (8 - n[i].leading_zeros()),
        None => 0,
    }
}

/// The bit length of the first INTEGER in a DER SEQUENCE body.
fn first_integer_bits(seq: &[u8]) -> Option<u32> {
    let (_, any) = Any::from_der(seq).ok()?;
    (any.tag() == Tag::Integer).then(|| bits(any.data))
}

fn ip_from(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => <[u8; 4]>::try_from(b).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
        _ => None,
    }
}

/// OpenSSL's name for a curve OID, with the curve's size in bits.
fn ec_curve(oid: &str) -> Option<(&'static str, u32)> {
    Some(match oid {
        "1.2.840.10045.3.1.7" => ("prime256v1", 256),
        "1.3.132.0.34" => ("secp384r1", 384),
        "1.3.132.0.35" => ("secp521r1", 521),
        "1.3.132.0.10" => ("secp256k1", 256),
        "1.2.840.10045.3.1.1" => ("prime192v1", 192),
        "1.3.132.0.33" => ("secp224r1", 224),
        "1.3.36.3.3.2.8.1.1.7" => ("brainpoolP256r1", 256),
        "1.3.36.3.3.2.8.1.1.11" => ("brainpoolP384r1", 384),
        "1.3.36.3.3.2.8.1.1.13" => ("brainpoolP512r1", 512),
        _ => return None,
    })
}

/// OpenSSL's long names for the key and signature algorithms seen on
/// the web; other OIDs print dotted, as OpenSSL prints unknown ones.
fn oid_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.1" => "dsaEncryption",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        "2.16.840.1.101.3.4.3.17" => "ML-DSA-44",
        "2.16.840.1.101.3.4.3.18" => "ML-DSA-65",
        "2.16.840.1.101.3.4.3.19" => "ML-DSA-87",
        _ => return oid.to_string(),
    };
    name.to_string()
}

/// OpenSSL's short names for attribute types (`XN_FLAG_FN_SN`).
fn attr_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// `X509_NAME_print_ex(.., XN_FLAG_RFC2253)`: attributes last first,
/// '+' inside a multi-valued RDN, ',' between RDNs.
fn rfc2253(name: &X509Name<'_>) -> String {
    let mut flat: Vec<(usize, &AttributeTypeAndValue<'_>)> = Vec::new();
    for (i, rdn) in name.iter_rdn().enumerate() {
        for a in rdn.iter() {
            flat.push((i, a));
        }
    }
    let mut out = String::new();
    let mut prev: Option<usize> = None;
    for (set, a) in flat.into_iter().rev() {
        if let Some(p) = prev {
            out.push(if p == set { '+' } else { ',' });
        }
        prev = Some(set);
        let oid = a.attr_type().to_id_string();
        match attr_short_name(&oid) {
            Some(sn) => {
                out.push_str(sn);
                out.push('=');
                value_2253(a.attr_value(), &mut out);
            }
            // Unknown types are dumped as the DER of their value.
            None => {
                out.push_str(&oid);
                out.push_str("=#");
                out.push_str(&hex(&der_of(a.attr_value())));
            }
        }
    }
    out
}

fn der_of(v: &Any<'_>) -> Vec<u8> {
    let h = &v.header;
    let class = match h.class() {
        Class::Universal => 0u8,
        Class::Application => 0x40,
        Class::ContextSpecific => 0x80,
        Class::Private => 0xc0,
    };
    let mut out =
        vec![class | if h.is_constructed() { 0x20 } else { 0 } | (h.tag().0 as u8 & 0x1f)];
    let n = v.data.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(v.data);
    out
}

/// A value's characters as OpenSSL's `ASN1_STRFLGS_RFC2253` prints them.
fn value_2253(v: &Any<'_>, out: &mut String) {
    let chars: Vec<char> = match v.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => String::from_utf8_lossy(v.data).chars().collect(),
        // Teletex and the like: one byte per character, Latin-1.
        Tag::T61String | Tag::VideotexString | Tag::GeneralString | Tag::GraphicString => {
            v.data.iter().map(|b| char::from(*b)).collect()
        }
        Tag::BmpString => char::decode_utf16(
            v.data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]])),
        )
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect(),
        Tag::UniversalString => v
            .data
            .chunks_exact(4)
            .map(|c| {
                char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        _ => {
            out.push('#');
            out.push_str(&hex(&der_of(v)));
            return;
        }
    };
    let last = chars.len().saturating_sub(1);
    for (i, c) in chars.iter().enumerate() {
        let mut buf = [0u8; 4];
        for b in c.encode_utf8(&mut buf).bytes() {
            let special = matches!(b, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';')
                || (i == 0 && matches!(b, b'#' | b' '))
                || (i == last && b == b' ');
            if !(0x20..0x7f).contains(&b) {
                out.push_str(&format!("\\{b:02X}"));
            } else if special {
                out.push('\\');
                out.push(b as char);
            } else {
                out.push(b as char);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applayer::tls::handshake::{Event, RecordReader};
    use crate::applayer::tls::testutil::{read_flows, zeek_app, zeek_column};

    /// The first Certificate message of each direction of each TCP stream.
    fn certificate_messages(case: &str) -> Option<(std::path::PathBuf, Vec<Vec<u8>>)> {
        let trace = zeek_app(case)?;
        let flows = read_flows(&trace);
        let mut out = Vec::new();
        for stream in flows.tcp.values() {
            // STARTTLS: the TLS part begins at the first handshake record.
            let Some(start) = stream
                .windows(3)
                .position(|w| w[0] == 22 && w[1] == 3 && w[2] <= 4)
            else {
                continue;
            };
            let mut r = RecordReader::default();
            let _ = r.feed(&stream[start..], &mut |e| {
                if let Event::Handshake { msg_type: 11, body } = e {
                    out.push(body.to_vec());
                }
            });
        }
        Some((trace, out))
    }

    #[test]
    fn x509_log_fields_match_zeek() {
        let cases = [
            "scripts.base.protocols.ssl.tls-1.2",
            "scripts.base.protocols.ssl.ecdhe",
            "scripts.base.protocols.ssl.ecdsa",
            "scripts.base.protocols.ssl.tls1_1",
            "scripts.base.protocols.irc.starttls",
            "scripts.base.protocols.pop3.starttls",
            "scripts.base.protocols.ssl.tls-1.2-late-protocol-error",
        ];
        let mut checked = 0;
        for case in cases {
            let Some((trace, msgs)) = certificate_messages(case) else {
                continue;
            };
            let want_fp = zeek_column(&trace, "x509.log", "fingerprint");
            let want_subject = zeek_column(&trace, "x509.log", "certificate.subject");
            let want_issuer = zeek_column(&trace, "x509.log", "certificate.issuer");
            let want_serial = zeek_column(&trace, "x509.log", "certificate.serial");
            let want_before = zeek_column(&trace, "x509.log", "certificate.not_valid_before");
            let want_after = zeek_column(&trace, "x509.log", "certificate.not_valid_after");
            let want_len = zeek_column(&trace, "x509.log", "certificate.key_length");
            let want_alg = zeek_column(&trace, "x509.log", "certificate.key_alg");
            let want_sig = zeek_column(&trace, "x509.log", "certificate.sig_alg");
            let want_curve = zeek_column(&trace, "x509.log", "certificate.curve");
            let want_dns = zeek_column(&trace, "x509.log", "san.dns");
            let want_ca = zeek_column(&trace, "x509.log", "basic_constraints.ca");
            let chain: Vec<CertInfo> = msgs
                .iter()
                .flat_map(|m| certificate_chain(m).expect("chain"))
                .map(|der| parse_certificate(der).expect("certificate"))
                .collect();
            for (i, fp) in want_fp.iter().enumerate() {
                let c = chain
                    .iter()
                    .find(|c| &c.fingerprint_sha256 == fp)
                    .unwrap_or_else(|| panic!("{case}: no certificate with fingerprint {fp}"));
                assert_eq!(c.subject, want_subject[i], "{case}");
                assert_eq!(c.issuer, want_issuer[i], "{case}");
                assert_eq!(c.serial, want_serial[i], "{case}");
                assert_eq!(
                    format!("{}.000000", c.not_valid_before),
                    want_before[i],
                    "{case}"
                );
                assert_eq!(
                    format!("{}.000000", c.not_valid_after),
                    want_after[i],
                    "{case}"
                );
                assert_eq!(
                    c.key_length.map(|l| l.to_string()).unwrap_or("-".into()),
                    want_len[i],
                    "{case}"
                );
                assert_eq!(c.key_alg, want_alg[i], "{case}");
                assert_eq!(c.sig_alg, want_sig[i], "{case}");
                assert_eq!(c.curve.unwrap_or("-"), want_curve[i], "{case}");
                let dns = if c.san_dns.is_empty() {
                    "-".to_string()
                } else {
                    c.san_dns.join(",")
                };
                assert_eq!(dns, want_dns[i], "{case}");
                let ca = c
                    .basic_constraints_ca
                    .map(|b| if b { "T" } else { "F" })
                    .unwrap_or("-");
                assert_eq!(ca, want_ca[i], "{case}");
                checked += 1;
            }
        }
        eprintln!("x509: {checked} certificates matched Zeek's x509.log");
    }

    #[test]
    fn escaping_and_broken_input() {
        assert_eq!(serial(&[0x00, 0x99, 0xfa]), "99FA");
        assert_eq!(serial(&[0x01]), "01");
        assert_eq!(serial(&[0x00]), "00");
        assert_eq!(bits(&[0x00, 0x80, 0]), 16);
        assert_eq!(
            certificate_chain(&[0, 0, 5, 0, 0, 9]),
            Err(CertError::Truncated)
        );
        assert_eq!(parse_certificate_message(&[0, 0, 0]), Err(CertError::Empty));
        assert_eq!(
            parse_certificate(&[0x30, 0x03, 1, 2, 3]),
            Err(CertError::Der)
        );
        assert_eq!(certificate_chain(&[]), Err(CertError::Truncated));
    }
}
