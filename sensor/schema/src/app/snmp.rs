//! `snmp` events: one per SNMP connection, as Zeek's `snmp.log`.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// What the SNMP messages of one connection (manager and agent ports)
/// asked and answered, written when the connection ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnmpRecord {
    /// Time of the first SNMP message.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// Seconds from the first message to the last.
    pub duration: f64,
    /// "1", "2c", "3" or "unknown".
    pub version: String,
    /// SECRET: the community string of v1 and v2c (a password), or the
    /// user name of v3 (PERSONAL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<String>,
    /// Variable bindings in GetRequest and GetNextRequest PDUs.
    pub get_requests: u64,
    /// Variable bindings in GetBulkRequest PDUs.
    pub get_bulk_requests: u64,
    /// Variable bindings in Response PDUs.
    pub get_responses: u64,
    /// Variable bindings in SetRequest PDUs.
    pub set_requests: u64,
    /// sysDescr (1.3.6.1.2.1.1.1.0) from a response: the agent's own
    /// description of itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_string: Option<String>,
    /// When the agent says it came up (message time less sysUpTime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_since: Option<f64>,
}
