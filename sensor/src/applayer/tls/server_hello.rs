//! The ServerHello and the server's choices that ssl.log reports: the
//! version (supported_versions overriding the message's field, as Zeek
//! does), the cipher, the curve (TLS 1.3 key_share, or the named curve of
//! an ECDHE ServerKeyExchange before 1.3), the ALPN protocol chosen
//! (`next_protocol`) and Zeek's three rules for `resumed`.

use super::client_hello::ClientHello;
use super::extensions as ext;
use super::names;
use super::HelloError;
use std::borrow::Cow;

/// The random a HelloRetryRequest carries in place of one (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// The parts of a ServerHello the logs and server fingerprints use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// The version field of the message.
    pub legacy_version: u16,
    /// supported_versions, when the server sent exactly one (TLS 1.3).
    pub selected_version: Option<u16>,
    pub session_id: Vec<u8>,
    pub cipher: u16,
    pub compression: u8,
    /// Extension types in wire order.
    pub extensions: Vec<u16>,
    /// The ALPN protocol chosen, raw.
    pub alpn: Option<Vec<u8>>,
    /// The key_share group (TLS 1.3).
    pub key_share_group: Option<u16>,
    /// The server accepted a pre-shared key (TLS 1.3 resumption).
    pub pre_shared_key: bool,
    /// This is a HelloRetryRequest (its random is the RFC's magic value);
    /// Zeek's history writes 'j' for it instead of 's'.
    pub hello_retry_request: bool,
}

/// Reads a ServerHello handshake message body (after the 4-byte header).
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, HelloError> {
    let version = ext::u16_at(body)
        .map(|(v, _)| v)
        .ok_or(HelloError::Truncated)?;
    // tls-parser reads SSL 3.0 to TLS 1.2 layouts, which TLS 1.3 (and its
    // drafts from 22 on) keeps behind a 0x0303 version field. DTLS 1.0
    // and 1.2 have TLS 1.2's layout (RFC 6347 section 4.2.1) under their
    // own versions: read as TLS 1.2, the version kept.
    let dtls;
    let body = if matches!(version, 0xfeff | 0xfefd) {
        dtls = [&[0x03, 0x03], &body[2..]].concat();
        &dtls[..]
    } else if (0x0300..=0x0303).contains(&version) {
        body
    } else {
        return Err(HelloError::UnsupportedVersion(version));
    };
    let sh = match tls_parser::parse_tls_handshake_server_hello(body) {
        Ok((_, sh)) => sh,
        Err(tls_parser::Err::Incomplete(_)) => return Err(HelloError::Truncated),
        Err(_) => return Err(HelloError::Invalid),
    };
    let mut out = ServerHello {
        legacy_version: version,
        session_id: sh.session_id.unwrap_or_default().to_vec(),
        cipher: sh.cipher.0,
        compression: sh.compression.0,
        hello_retry_request: sh.random == HRR_RANDOM,
        ..ServerHello::default()
    };
    if let Some(block) = sh.ext {
        for (t, b) in ext::split(block)? {
            out.extensions.push(t);
            match t {
                // The server's form is a single version, no list.
                ext::SUPPORTED_VERSIONS if b.len() == 2 => {
                    out.selected_version = ext::u16_at(b).map(|(v, _)| v);
                }
                ext::ALPN => {
                    out.alpn = ext::alpn(b).and_then(|l| l.first().map(|p| p.to_vec()));
                }
                ext::KEY_SHARE => out.key_share_group = ext::server_key_share_group(b),
                ext::PRE_SHARED_KEY => out.pre_shared_key = true,
                _ => {}
            }
        }
    }
    Ok(out)
}

impl ServerHello {
    /// The version in use: supported_versions if present, else the field.
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }

    /// ssl.log `version`.
    pub fn version_name(&self) -> Cow<'static, str> {
        names::version_name(self.version())
    }

    /// ssl.log `cipher`.
    pub fn cipher_name(&self) -> Cow<'static, str> {
        names::cipher_name(self.cipher)
    }

    /// ssl.log `curve` from the hello (TLS 1.3); before 1.3 it comes from
    /// the ServerKeyExchange ([`parse_server_key_exchange_curve`]).
    pub fn curve_name(&self) -> Option<Cow<'static, str>> {
        self.key_share_group.map(names::curve_name)
    }

    /// ssl.log `next_protocol`: the ALPN protocol the server chose.
    pub fn next_protocol(&self) -> Option<String> {
        self.alpn
            .as_ref()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// Zeek's first and third rules for `resumed`, which the two hellos
    /// decide: the server echoed the client's session id (before TLS 1.3,
    /// whose middlebox-compatible echo means nothing), or the server
    /// accepted a pre-shared key the client offered.
    pub fn resumed(&self, client: &ClientHello) -> bool {
        let v = self.version();
        // Zeek tests `version / 0xFF != 0x7F`, an integer division that
        // happens to exclude exactly the 0x7fNN TLS 1.3 drafts.
        let before_13 = v / 0xff != 0x7f && v != 0x0304;
        let echoed = client
            .resumable_session_id()
            .is_some_and(|id| id == self.session_id.as_slice());
        (echoed && before_13) || (client.pre_shared_key && self.pre_shared_key)
    }
}

/// Zeek's second rule for `resumed`, decided at the client's
/// ChangeCipherSpec: a session ticket offered without a session id and no
/// ClientKeyExchange before the ChangeCipherSpec (the server took the
/// ticket, so no key exchange was needed).
pub fn resumed_by_ticket(client: &ClientHello, client_key_exchange_seen: bool) -> bool {
    client.ticket_without_session_id() && !client_key_exchange_seen
}

/// The named curve of an (EC)DHE ServerKeyExchange body, for ssl.log
/// `curve` before TLS 1.3. `cipher` is the suite the server chose: only
/// elliptic-curve key exchanges carry a curve, and a finite-field DHE body
/// could otherwise be misread as one.
pub fn parse_server_key_exchange_curve(body: &[u8], cipher: u16) -> Option<u16> {
    use tls_parser::TlsCipherKx;
    let kx = tls_parser::TlsCipherSuite::from_id(cipher)?.kx;
    if !matches!(kx, TlsCipherKx::Ecdhe | TlsCipherKx::Ecdh) {
        return None;
    }
    // ECParameters: curve_type 3 = named_curve, then the NamedCurve.
    match body {
        [3, a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applayer::tls::testutil::unhex;

    /// RFC 9001 Appendix A.3: the ServerHello in the server's Initial.
    fn rfc9001_server_hello() -> Vec<u8> {
        unhex(concat!(
            "0303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a04",
            "5a1200130100002e00330024001d00209d3c940d89690b84d08a60993c144eca",
            "684d1081287c834d5311bcf32bb9da1a002b00020304"
        ))
    }

    #[test]
    fn rfc9001_server_hello_fields() {
        let sh = parse_server_hello(&rfc9001_server_hello()).expect("parses");
        assert_eq!(sh.version(), 0x0304);
        assert_eq!(sh.version_name(), "TLSv13");
        assert_eq!(sh.cipher_name(), "TLS_AES_128_GCM_SHA256");
        assert_eq!(sh.curve_name().as_deref(), Some("x25519"));
        assert_eq!(sh.extensions, vec![51, 43]);
        assert!(!sh.hello_retry_request);
        assert_eq!(sh.next_protocol(), None);
    }

    #[test]
    fn resumption_rules() {
        let mut ch = ClientHello {
            session_id: vec![7; 32],
            ..ClientHello::default()
        };
        let mut sh = ServerHello {
            legacy_version: 0x0303,
            session_id: vec![7; 32],
            ..ServerHello::default()
        };
        assert!(sh.resumed(&ch));
        sh.selected_version = Some(0x0304);
        assert!(!sh.resumed(&ch), "TLS 1.3 echoes the id for middleboxes");
        ch.pre_shared_key = true;
        sh.pre_shared_key = true;
        assert!(sh.resumed(&ch));
        let ch = ClientHello {
            session_ticket: true,
            session_id: vec![0; 32],
            ..ClientHello::default()
        };
        assert!(resumed_by_ticket(&ch, false));
        assert!(!resumed_by_ticket(&ch, true));
    }

    #[test]
    fn key_exchange_curve_only_for_ecdhe() {
        assert_eq!(
            parse_server_key_exchange_curve(&[3, 0, 23, 65], 0xc02f),
            Some(23)
        );
        assert_eq!(
            parse_server_key_exchange_curve(&[3, 0, 23, 65], 0x009f),
            None
        );
        assert_eq!(parse_server_key_exchange_curve(&[1], 0xc02f), None);
    }

    #[test]
    fn broken_server_hellos() {
        let good = rfc9001_server_hello();
        for cut in 0..good.len() {
            let _ = parse_server_hello(&good[..cut]);
        }
        assert_eq!(
            parse_server_hello(&[0x7f, 0x12]),
            Err(HelloError::UnsupportedVersion(0x7f12))
        );
        assert_eq!(parse_server_hello(&[3]), Err(HelloError::Truncated));
    }
}
