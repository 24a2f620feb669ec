//! `alert` events: what the analysis stage decided deserves a person's
//! attention. A detector observed something (a scan, a burst of failed
//! logins, a DNS tunnel, a change to a controller) and raised a notice; the
//! policy stage (rules files) decided it is not allowed, how severe it is,
//! and folded repeats of the same detector and entity into one alert with a
//! count. Each alert says in one sentence, in numbers, what was observed
//! and what it was held against.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// How urgent an alert is, from the detector's score and the segment's
/// criticality (care and OT rank higher).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One alert, first raised or updated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Time of the observation that raised it (packet time).
    pub ts: f64,
    /// Stable per sensor: an update of the same alert (more repeats) has
    /// the same id.
    pub id: String,
    /// The detector that raised it (`scan`, `bruteforce`, `dns_tunnel`,
    /// `ot_change`, `indicator`, ...).
    pub detector: String,
    /// The kind of finding within the detector (`port_scan`,
    /// `address_scan`, `ssh`, `ftp`, ...).
    pub kind: String,
    pub severity: Severity,
    /// The detector's confidence and strength, 0 to 100.
    pub score: u8,
    /// MITRE ATT&CK technique (`T1046`, `T1110`, ...).
    pub technique: String,
    /// The host the alert is about (the scanner, the guessing client, the
    /// tunnelling resolver client). PERSONAL when internal.
    pub src: IpAddr,
    /// The other side, when there is one (the host scanned, the server
    /// guessed at). PERSONAL when internal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<IpAddr>,
    /// Service, port, domain or indicator the alert is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// One sentence: the observed value and what it was held against.
    pub message: String,
    /// Observations folded into this alert, and the first and last.
    pub count: u64,
    pub first_seen: f64,
    pub last_seen: f64,
    /// Connections behind it (uids, at most 16), to join with `conn` and
    /// application records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uids: Vec<String>,
    /// Their Community IDs, to find them in other tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub community_ids: Vec<String>,
    /// `true` on an update of an alert already written: more repeats.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub update: bool,
    /// The source host's accumulated risk when the alert was raised: the
    /// scores of its alerts, halving each day (see `risk` alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_risk: Option<u32>,
}
