//! The connection-tracking settings (`[flow]`, `[flow.timeouts]` and
//! `[services]`): the connection budget, what tells connections apart,
//! timeouts, and service recognition. Turned into the table's own
//! [`super::TableConfig`] by the configuration.

use super::Timeouts;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowSection {
    /// Connections tracked at most (across all workers); when reached, the
    /// connections idle the longest are written out early.
    pub max_connections: usize,
    /// Tell the same 5-tuple on different VLANs apart.
    pub vlan_in_key: bool,
    /// Tell the same 5-tuple at different tunnel depths apart.
    pub tunnel_depth_in_key: bool,
    /// Ports taken to be servers when a connection's start was missed.
    pub likely_server_ports_tcp: Vec<u16>,
    pub likely_server_ports_udp: Vec<u16>,
    pub timeouts: TimeoutSection,
}

impl Default for FlowSection {
    fn default() -> Self {
        FlowSection {
            max_connections: 1_000_000,
            vlan_in_key: true,
            tunnel_depth_in_key: true,
            likely_server_ports_tcp: crate::flow::ports::ZEEK_TCP.to_vec(),
            likely_server_ports_udp: crate::flow::ports::ZEEK_UDP.to_vec(),
            timeouts: TimeoutSection::default(),
        }
    }
}

/// Timeouts in seconds.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutSection {
    pub tcp_inactivity: f64,
    pub tcp_handshake_inactivity: f64,
    pub tcp_attempt: f64,
    pub tcp_close_delay: f64,
    pub udp_inactivity: f64,
    pub icmp_inactivity: f64,
    pub other_inactivity: f64,
    /// Zeek's `dns_session_timeout`: UDP DNS connections end at the first
    /// check, this often from their first packet, that finds them idle
    /// for this long less a second; 0 = never (the UDP timeout applies).
    pub dns_session: f64,
    /// Long-lived connections write an interim record this often, per
    /// transport; 0 = never.
    pub tcp_active: f64,
    pub udp_active: f64,
    pub icmp_active: f64,
    pub other_active: f64,
}

impl Default for TimeoutSection {
    fn default() -> Self {
        let t = Timeouts::default();
        let s = |ns: i64| ns as f64 / 1e9;
        TimeoutSection {
            tcp_inactivity: s(t.tcp_inactivity),
            tcp_handshake_inactivity: s(t.tcp_handshake_inactivity),
            tcp_attempt: s(t.tcp_attempt),
            tcp_close_delay: s(t.tcp_close_delay),
            udp_inactivity: s(t.udp_inactivity),
            icmp_inactivity: s(t.icmp_inactivity),
            other_inactivity: s(t.other_inactivity),
            dns_session: s(t.dns_session),
            tcp_active: s(t.tcp_active),
            udp_active: s(t.udp_active),
            icmp_active: s(t.icmp_active),
            other_active: s(t.other_active),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServicesSection {
    pub enabled: bool,
    /// Protocols never reported, by name (e.g. ["snmp"]).
    pub disabled: Vec<String>,
}

impl Default for ServicesSection {
    fn default() -> Self {
        ServicesSection {
            enabled: true,
            disabled: vec![],
        }
    }
}
