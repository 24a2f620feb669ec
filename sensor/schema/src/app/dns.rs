//! `dns` events: one per DNS transaction, as Zeek's `dns.log`.

use super::ConnId;
use crate::Proto;
use serde::{Deserialize, Serialize};

/// A DNS query and its answer (or a query that got none, or an answer
/// whose query was not seen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// Time of the query (or of the answer, when the query was not seen).
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    pub proto: Proto,
    pub trans_id: u16,
    /// Seconds between query and answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt: Option<f64>,
    /// The name asked for. PERSONAL (host names can name people).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qclass: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qclass_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qtype: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qtype_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcode: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcode_name: Option<String>,
    #[serde(rename = "AA")]
    pub aa: bool,
    #[serde(rename = "TC")]
    pub tc: bool,
    #[serde(rename = "RD")]
    pub rd: bool,
    #[serde(rename = "RA")]
    pub ra: bool,
    #[serde(rename = "Z")]
    pub z: u8,
    /// Answers as Zeek writes them: addresses, names, or "TYPE data".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<String>,
    /// TTL of each answer, seconds.
    #[serde(rename = "TTLs", default, skip_serializing_if = "Vec::is_empty")]
    pub ttls: Vec<f64>,
    /// The server refused the query (an rcode other than NOERROR and
    /// NXDOMAIN), as Zeek decides it.
    pub rejected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opcode: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opcode_name: Option<String>,
}
