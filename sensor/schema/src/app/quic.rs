//! `quic` events: one per QUIC connection attempt, as Zeek's `quic.log`.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// A QUIC connection as seen in its long-header packets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuicRecord {
    /// Time of the first long-header packet.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// Version of the client's first Initial ("1", "quicv2",
    /// "unknown-<hex>").
    pub version: String,
    /// The client's first Destination Connection ID, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_initial_dcid: Option<String>,
    /// The client's Source Connection ID, hex (empty when zero-length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_scid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_scid: Option<String>,
    /// SNI of the ClientHello. PERSONAL (host names can name people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// First ALPN protocol the client offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_protocol: Option<String>,
    /// Zeek's letters: I initial, H handshake, Z 0-RTT, R retry, C
    /// connection close, S hello, U unknown version, X discarded, O short
    /// packets (at 1, 2, 4, 8, ...); client letters upper case.
    pub history: String,
}
