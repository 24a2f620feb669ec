//! `segment_metrics` events: what one network segment did in one interval
//! (a minute by default), as the analysis stage counts it for its
//! baselines. The centre graphs them; a municipality sees its own normal.
//! Bytes are counted in the interval in which they flowed: a connection's
//! bytes are spread over its lifetime, and bytes that arrive after their
//! interval was written (a long connection's final record) go into the
//! next interval written and are also counted in `late_bytes`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One segment's traffic in one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SegmentMetricsRecord {
    /// Start of the interval (packet time).
    pub ts: f64,
    /// Its length in seconds.
    pub interval: f64,
    /// IP bytes and packets from the segment to external addresses, from
    /// external addresses to it, and between internal addresses.
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub bytes_internal: u64,
    pub pkts_out: u64,
    pub pkts_in: u64,
    /// Connections that ended (or were written as interim) in the
    /// interval, and those of them that failed (unanswered or refused).
    pub conns: u64,
    pub failed_conns: u64,
    /// Distinct internal hosts active, and distinct external peers
    /// (estimated, within about 5%), and external peers never seen from
    /// this segment before.
    pub hosts: u64,
    pub external_peers: u64,
    pub new_external_peers: u64,
    /// DNS queries answered and those answered NXDOMAIN.
    pub dns_queries: u64,
    pub dns_nxdomain: u64,
    /// Connections per service (or `proto/port` where none was found),
    /// the busiest ten.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, u64>,
    /// Bytes that flowed in earlier intervals, already written.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub late_bytes: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}
