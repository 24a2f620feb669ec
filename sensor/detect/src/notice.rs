//! What a detector raises: a [`Notice`], an observation with its numbers,
//! before the policy stage has decided whether it becomes an alert (Zeek's
//! notice framework: detectors notice, policy decides).

use std::borrow::Cow;
use std::net::IpAddr;

/// Connections kept as evidence per notice and per alert.
pub const MAX_EVIDENCE: usize = 16;

/// One observation a detector thinks deserves attention.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Packet time of the observation that completed it.
    pub ts: f64,
    /// Segment of the event it came from.
    pub segment: String,
    pub detector: &'static str,
    /// The kind of finding within the detector.
    pub kind: &'static str,
    /// MITRE ATT&CK technique.
    pub technique: Cow<'static, str>,
    /// Strength of the finding, 0 to 100.
    pub score: u8,
    /// The host it is about, and the other side when there is one.
    pub src: IpAddr,
    pub dst: Option<IpAddr>,
    /// Service, port, domain or indicator.
    pub subject: Option<String>,
    /// One sentence with the observed value and what it was held against.
    pub message: String,
    /// Observations behind it, first and last.
    pub count: u64,
    pub first: f64,
    pub last: f64,
    pub evidence: Evidence,
}

/// Connections behind a finding, bounded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    pub uids: Vec<String>,
    pub community_ids: Vec<String>,
}

impl Evidence {
    /// Adds a connection unless it is already there or the list is full.
    pub fn add(&mut self, uid: &str, community_id: Option<&str>) {
        if self.uids.len() >= MAX_EVIDENCE || self.uids.iter().any(|u| u == uid) {
            return;
        }
        self.uids.push(uid.to_string());
        if let Some(c) = community_id {
            if !self.community_ids.iter().any(|x| x == c) {
                self.community_ids.push(c.to_string());
            }
        }
    }

    pub fn merge(&mut self, other: &Evidence) {
        for (i, uid) in other.uids.iter().enumerate() {
            self.add(uid, other.community_ids.get(i).map(String::as_str));
        }
    }
}
