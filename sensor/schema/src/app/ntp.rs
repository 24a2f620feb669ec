//! `ntp` events: one per NTP message of modes 1 to 5, as Zeek's `ntp.log`.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// One NTP message (client request, server reply, symmetric or broadcast).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtpRecord {
    /// Time of the message.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    pub version: u8,
    /// 1 symmetric active, 2 symmetric passive, 3 client, 4 server,
    /// 5 broadcast (0 reserved: only version and mode are set).
    pub mode: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stratum: Option<u8>,
    /// Maximum interval between messages, seconds (2^poll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<f64>,
    /// Precision of the sender's clock, seconds (2^precision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<f64>,
    /// Round-trip delay and dispersion to the reference clock, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_delay: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_disp: Option<f64>,
    /// Stratum 0: the kiss code; 1: the reference clock's name; above: the
    /// reference server's IPv4 address (or the first four bytes of an MD5
    /// of its IPv6 address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_id: Option<String>,
    /// Timestamps of the message, seconds since the Unix epoch (0 when the
    /// field is zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rec_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xmt_time: Option<f64>,
    /// Extension fields after the header.
    pub num_exts: u32,
}
