//! The ClientHello: what ssl.log, quic.log and the client fingerprints (JA3,
//! JA4) take from it. tls-parser reads the fixed part; the extension block
//! is walked here so that every extension type is kept in wire order, as
//! the fingerprints need, even ones tls-parser does not know.

use super::extensions::{self as ext, is_grease};
use super::HelloError;

/// The parts of a ClientHello the logs and fingerprints use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// The version field of the message (0x0303 for TLS 1.3 too).
    pub legacy_version: u16,
    pub session_id: Vec<u8>,
    /// Cipher suites in wire order, GREASE included.
    pub ciphers: Vec<u16>,
    pub compression: Vec<u8>,
    /// Extension types in wire order, GREASE included.
    pub extensions: Vec<u16>,
    /// server_name host names, in order.
    pub server_names: Vec<String>,
    /// ALPN protocol names, raw, in order.
    pub alpn: Vec<Vec<u8>>,
    /// supported_versions, in order, GREASE included.
    pub supported_versions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    pub key_share_groups: Vec<u16>,
    /// A SessionTicket extension with a ticket in it (RFC 5077).
    pub session_ticket: bool,
    /// A pre_shared_key extension (TLS 1.3 resumption offer).
    pub pre_shared_key: bool,
}

/// Reads a ClientHello handshake message body (after the 4-byte message
/// header). Extension bodies that do not parse are left out of their
/// field; the extension still counts in [`ClientHello::extensions`].
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello, HelloError> {
    let ch = match tls_parser::parse_tls_handshake_client_hello(body) {
        Ok((_, ch)) => ch,
        Err(tls_parser::Err::Incomplete(_)) => return Err(HelloError::Truncated),
        Err(_) => return Err(HelloError::Invalid),
    };
    let mut out = ClientHello {
        legacy_version: ch.version.0,
        session_id: ch.session_id.unwrap_or_default().to_vec(),
        ciphers: ch.ciphers.iter().map(|c| c.0).collect(),
        compression: ch.comp.iter().map(|c| c.0).collect(),
        ..ClientHello::default()
    };
    if let Some(block) = ch.ext {
        for (t, b) in ext::split(block)? {
            out.extensions.push(t);
            match t {
                ext::SERVER_NAME => out.server_names = ext::server_names(b).unwrap_or_default(),
                ext::ALPN => {
                    out.alpn = ext::alpn(b)
                        .unwrap_or_default()
                        .into_iter()
                        .map(<[u8]>::to_vec)
                        .collect()
                }
                ext::SUPPORTED_VERSIONS => {
                    out.supported_versions = ext::client_versions(b).unwrap_or_default()
                }
                ext::SUPPORTED_GROUPS => out.supported_groups = ext::u16_vec(b).unwrap_or_default(),
                ext::EC_POINT_FORMATS => out.ec_point_formats = ext::u8_vec(b).unwrap_or_default(),
                ext::SIGNATURE_ALGORITHMS => {
                    out.signature_algorithms = ext::u16_vec(b).unwrap_or_default()
                }
                ext::KEY_SHARE => {
                    out.key_share_groups = ext::client_key_share_groups(b).unwrap_or_default()
                }
                ext::SESSION_TICKET => out.session_ticket = !b.is_empty(),
                ext::PRE_SHARED_KEY => out.pre_shared_key = true,
                _ => {}
            }
        }
    }
    Ok(out)
}

impl ClientHello {
    /// ssl.log and quic.log `server_name`: the first name, as Zeek takes it.
    pub fn server_name(&self) -> Option<&str> {
        self.server_names.first().map(String::as_str)
    }

    /// The ALPN protocols as text (bytes that are not UTF-8 replaced).
    pub fn alpn_strings(&self) -> Vec<String> {
        self.alpn
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    /// quic.log `client_protocol`: the first ALPN protocol.
    pub fn client_protocol(&self) -> Option<String> {
        self.alpn
            .first()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// The highest version offered: the largest non-GREASE value of
    /// supported_versions, else the message's version field.
    pub fn max_version(&self) -> u16 {
        self.supported_versions
            .iter()
            .copied()
            .filter(|v| !is_grease(*v))
            .max()
            .unwrap_or(self.legacy_version)
    }

    /// The session id Zeek remembers to notice resumption: present unless
    /// empty or 32 zero bytes (which some clients send as a placeholder).
    pub fn resumable_session_id(&self) -> Option<&[u8]> {
        let id = self.session_id.as_slice();
        let placeholder = id.is_empty() || (id.len() == 32 && id.iter().all(|b| *b == 0));
        (!placeholder).then_some(id)
    }

    /// Zeek's `client_ticket_empty_session_seen`: a session ticket offered
    /// without a session id. If the client then sends ChangeCipherSpec
    /// before any ClientKeyExchange, the server took the ticket and the
    /// session is resumed (see `server_hello::resumed_by_ticket`).
    pub fn ticket_without_session_id(&self) -> bool {
        self.session_ticket && self.resumable_session_id().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::applayer::tls::testutil::rfc9001_client_hello;

    #[test]
    fn rfc9001_client_hello_fields() {
        let ch = parse_client_hello(&rfc9001_client_hello()).expect("parses");
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.ciphers, vec![0x1301, 0x1302]);
        assert_eq!(ch.server_name(), Some("example.com"));
        assert_eq!(ch.alpn_strings(), vec!["alpn".to_string()]);
        assert_eq!(ch.max_version(), 0x0304);
        assert_eq!(ch.supported_groups, vec![0x1d, 0x17, 0x18]);
        assert_eq!(ch.key_share_groups, vec![0x1d]);
        assert_eq!(
            ch.extensions,
            vec![0, 0xff01, 10, 16, 5, 51, 43, 13, 45, 28, 57]
        );
        assert_eq!(
            ch.signature_algorithms,
            vec![0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806]
        );
        assert_eq!(ch.resumable_session_id(), None);
    }

    #[test]
    fn broken_hellos_are_errors_not_panics() {
        let good = rfc9001_client_hello();
        for cut in 0..good.len() {
            let _ = parse_client_hello(&good[..cut]);
        }
        assert!(parse_client_hello(&good[..10]).is_err());
        // The last extension (quic_transport_parameters, 50 bytes) claims
        // one byte more than the block holds.
        let mut bad = good.clone();
        let n = bad.len();
        assert_eq!(bad[n - 51], 0x32);
        bad[n - 51] = 0x33;
        assert!(parse_client_hello(&bad).is_err());
    }
}
