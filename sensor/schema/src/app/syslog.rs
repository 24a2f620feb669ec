//! `syslog` events: one per syslog message, as Zeek's `syslog.log`.

use super::ConnId;
use crate::Proto;
use serde::{Deserialize, Serialize};

/// One syslog message (UDP datagram, or a frame of a TCP stream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyslogRecord {
    /// Time of the message.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// "udp" or "tcp".
    pub proto: Proto,
    /// Zeek's facility name ("KERN", "USER", ..., "LOCAL7"),
    /// "UNSPECIFIED" when the message has no priority, "?-N" beyond 23.
    pub facility: String,
    /// "EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO",
    /// "DEBUG", or "UNSPECIFIED".
    pub severity: String,
    /// The text after the priority. PERSONAL (log lines name users, hosts
    /// and paths).
    pub message: String,
}
