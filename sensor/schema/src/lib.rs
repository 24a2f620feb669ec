//! The wire schema of Vagt: what a sensor says and an analyzer reads.
//!
//! Every record that leaves a sensor is an [`Event`]: an envelope that names
//! the municipality, sensor and network segment it came from, wrapped around
//! one [`EventBody`]. Municipalities share private address ranges, so an
//! address alone never identifies a host; the envelope always travels with it.
//!
//! Field names of [`ConnRecord`] follow Zeek's `conn.log` so that analysts and
//! SIEMs recognise them. `SCHEMA.md` in this crate documents every field.
//! The schema only grows: fields are added, never renamed or re-typed, and
//! [`SCHEMA_VERSION`] is bumped when a consumer must notice.

pub mod alert;
pub mod app;
pub mod asset;
mod json;
pub mod metrics;
mod values;
pub mod wire;

pub use alert::{AlertRecord, Severity};
pub use metrics::SegmentMetricsRecord;

pub use app::AuthRecord;
pub use app::DhcpRecord;
pub use app::FtpRecord;
pub use app::HttpRecord;
pub use app::KerberosRecord;
pub use app::NtpRecord;
pub use app::RdpRecord;
pub use app::SmtpRecord;
pub use app::SnmpRecord;
pub use app::SshRecord;
pub use app::SyslogRecord;
pub use app::{ArpRecord, ArpStats};
pub use app::{
    BacnetRecord, Dnp3Record, EnipRecord, ModbusRecord, OtClass, OtSummaryRecord, S7commRecord,
};
pub use app::{ConnId, DnsRecord};
pub use app::{DceRpcRecord, NtlmRecord, SmbFilesRecord, SmbMappingRecord};
pub use app::{LdapRecord, LdapSearchRecord};
pub use app::{QuicRecord, SslRecord, X509Record};
pub use asset::{AssetIp, AssetRecord};
pub use values::{ConnState, EndReason, Proto, UnknownValue};
pub use wire::{Topic, WireEvent};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Version of the event schema written into every record.
pub const SCHEMA_VERSION: u32 = 1;

/// Where a record was observed. Present on every event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Origin {
    /// Danish municipality code (kommunekode, e.g. "0101") or another
    /// operator-chosen identifier of the tenant.
    pub municipality: String,
    /// Identifier of the sensor within the municipality.
    pub sensor: String,
    /// Network segment the record belongs to (admin, care, school, ot, guest,
    /// servers, ...), or "unassigned" when no segment rule matched.
    pub segment: String,
}

/// One record on the wire: envelope plus body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub schema_version: u32,
    #[serde(flatten)]
    pub origin: Origin,
    #[serde(flatten)]
    pub body: EventBody,
}

impl Event {
    pub fn new(origin: Origin, body: EventBody) -> Self {
        Event {
            schema_version: SCHEMA_VERSION,
            origin,
            body,
        }
    }
}

/// The kinds of events. The tag is written as `event_type`.
// Connection records dominate the stream; boxing them would add an
// allocation per record to shrink the rarer variants.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", rename_all = "snake_case")]
pub enum EventBody {
    /// A finished (or, with `interim`, a still open) connection.
    Conn(ConnRecord),
    /// Sensor health and counters.
    Stats(SensorStats),
    /// A DNS transaction (Zeek's dns.log).
    Dns(DnsRecord),
    /// A Modbus/TCP message (Zeek's modbus.log).
    Modbus(ModbusRecord),
    /// A DNP3 request and its response (Zeek's dnp3.log).
    Dnp3(Dnp3Record),
    /// A BACnet/IP message (ICSNPP's bacnet.log).
    Bacnet(BacnetRecord),
    /// An S7comm or S7comm-plus message (ICSNPP's s7comm.log).
    S7comm(S7commRecord),
    /// An EtherNet/IP message or a CIP message in one (ICSNPP's enip.log
    /// and cip.log).
    Enip(EnipRecord),
    /// OT messages that change nothing (reads, responses), counted per
    /// connection, unit and function instead of written one by one.
    OtSummary(OtSummaryRecord),
    /// An SSH connection's version, algorithms and inferred
    /// authentication outcome (Zeek's ssh.log, plus HASSH).
    Ssh(SshRecord),
    /// A Kerberos ticket request and its outcome (Zeek's kerberos.log).
    Kerberos(KerberosRecord),
    /// An LDAP operation other than a search (Zeek's ldap.log).
    Ldap(LdapRecord),
    /// An LDAP search (Zeek's ldap_search.log).
    LdapSearch(LdapSearchRecord),
    /// An RDP connection's negotiation and client settings (Zeek's
    /// rdp.log).
    Rdp(RdpRecord),
    /// An HTTP request/response pair (Zeek's http.log).
    Http(HttpRecord),
    /// An FTP command and its reply (Zeek's ftp.log).
    Ftp(FtpRecord),
    /// An SMTP mail transaction (Zeek's smtp.log).
    Smtp(SmtpRecord),
    /// An SMB tree connect (Zeek's smb_mapping.log).
    SmbMapping(SmbMappingRecord),
    /// An action on a file over SMB (Zeek's smb_files.log).
    SmbFiles(SmbFilesRecord),
    /// A DCE/RPC call (Zeek's dce_rpc.log).
    DceRpc(DceRpcRecord),
    /// An NTLM authentication (Zeek's ntlm.log).
    Ntlm(NtlmRecord),
    /// A DHCP exchange (Zeek's dhcp.log).
    Dhcp(DhcpRecord),
    /// An NTP message (Zeek's ntp.log).
    Ntp(NtpRecord),
    /// A syslog message (Zeek's syslog.log).
    Syslog(SyslogRecord),
    /// The SNMP messages of a connection (Zeek's snmp.log).
    Snmp(SnmpRecord),
    /// A device of the passive asset inventory, new or changed.
    Asset(AssetRecord),
    /// A finding the analysis stage raised and its policy let through.
    Alert(AlertRecord),
    /// A login attempt and its outcome, where the protocol's own record
    /// does not carry it (FTP).
    Auth(AuthRecord),
    /// A TLS handshake (Zeek's ssl.log).
    Ssl(SslRecord),
    /// A certificate seen in a TLS handshake (Zeek's x509.log).
    X509(X509Record),
    /// A QUIC connection (Zeek's quic.log).
    Quic(QuicRecord),
    /// An ARP binding that is new or moved to another MAC.
    Arp(ArpRecord),
    /// One segment's traffic in one interval, as the baselines count it.
    SegmentMetrics(SegmentMetricsRecord),
}

/// A connection summary, field for field compatible with Zeek's conn.log
/// where Zeek has the field, plus a few Vagt additions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnRecord {
    /// Time of the first packet, seconds since the Unix epoch.
    pub ts: f64,
    /// Connection identifier, unique per sensor; "C" followed by base62.
    pub uid: String,
    #[serde(rename = "id.orig_h")]
    pub orig_h: IpAddr,
    #[serde(rename = "id.orig_p")]
    pub orig_p: u16,
    #[serde(rename = "id.resp_h")]
    pub resp_h: IpAddr,
    #[serde(rename = "id.resp_p")]
    pub resp_p: u16,
    /// "tcp", "udp", "icmp" or "unknown_transport".
    pub proto: Proto,
    /// Comma-separated application protocols recognised in the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Seconds between first and last packet; absent when zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Payload bytes sent by the originator (TCP: from sequence numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_bytes: Option<u64>,
    /// Zeek's connection state: S0, S1, SF, REJ, S2, S3, RSTO, RSTR,
    /// RSTOS0, RSTRH, SH, SHR or OTH.
    pub conn_state: ConnState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_orig: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_resp: Option<bool>,
    /// Bytes acknowledged but never seen (capture loss).
    pub missed_bytes: u64,
    /// Zeek's state history letters; absent when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    pub orig_pkts: u64,
    /// IP-level bytes (sum of IP total lengths) sent by the originator.
    pub orig_ip_bytes: u64,
    pub resp_pkts: u64,
    pub resp_ip_bytes: u64,
    /// uids of the tunnel connections that carried this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tunnel_parents: Vec<String>,
    /// IP protocol number from the IP header.
    pub ip_proto: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inner_vlan: Option<u16>,
    /// Vagt: the third of three stacked VLAN tags (Suricata keys flows by
    /// three; Zeek keeps two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_vlan: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig_l2_addr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_l2_addr: Option<String>,
    /// Community ID v1 flow hash (seed 0), e.g. "1:LQU9qZlK+B5F3KDmev6m5PMibrg=".
    pub community_id: String,
    /// Vagt: link-layer bytes (whole captured frames) per direction.
    pub orig_link_bytes: u64,
    pub resp_link_bytes: u64,
    /// Vagt: number of tunnel layers around this connection (0 = none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tunnel_depth: u8,
    /// Vagt: true for a snapshot of a connection that is still open
    /// (written when the active timeout passes); the final record follows.
    #[serde(default, skip_serializing_if = "is_false")]
    pub interim: bool,
    /// Vagt: why the record was written: "closed" (TCP close or reset and
    /// its linger time passed), "timeout" (inactivity), "reused" (a new
    /// connection took the same ports), "evicted" (table full), "shutdown"
    /// (end of input or sensor stop) or "interim".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
}

/// Sensor counters: packets, decode problems by reason, drops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SensorStats {
    /// Time the counters were taken (packet time during replay).
    pub ts: f64,
    pub packets: u64,
    pub bytes: u64,
    /// Packets per decoded protocol layer (ipv4, ipv6, tcp, vlan, gre, ...).
    pub decoded: BTreeMap<String, u64>,
    /// Packets that could not be fully decoded, by reason.
    pub decode_errors: BTreeMap<String, u64>,
    /// Packets lost before decoding, by where they were lost
    /// (kernel, queue_full, ...).
    pub drops: BTreeMap<String, u64>,
    pub connections: u64,
    pub connections_evicted: u64,
    pub connections_active: u64,
    /// Packets per second since the previous statistics event (by the
    /// events' times), from the second event on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packets_per_second: Option<f64>,
    /// What the application parsers could not read, by reason: malformed
    /// input (Zeek's weird names), `stream_gap` (holes in reassembled
    /// streams), `stream_segment_dropped` (segments dropped at the
    /// reassembly memory cap).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parser_errors: BTreeMap<String, u64>,
    /// The analysis stage's counters, when it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisStats>,
    /// The ARP bindings table, once an ARP frame was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arp: Option<ArpStats>,
    /// Shipping to Kafka, when it is on: the spool and deliveries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<ShippingStats>,
}

/// The Kafka output's health: what waits in the spool, what was
/// delivered, and every loss, counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ShippingStats {
    /// Events in the spool not yet acknowledged by the broker, their
    /// bytes, and the age of the oldest in seconds (wall clock).
    pub spool_records: u64,
    pub spool_bytes: u64,
    pub spool_oldest_age: f64,
    /// Events written to the spool and acknowledged since start.
    pub appended: u64,
    pub delivered: u64,
    /// Deliveries the broker failed (any error); each was sent again from
    /// the spool, with the events sent after it (`resent`).
    pub failed: u64,
    pub resent: u64,
    /// Events lost, by topic: dropped by the spool's bounds (least
    /// important first) or never spooled (disk full, I/O error).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dropped: BTreeMap<String, u64>,
    /// Spool records found corrupt (checksum) and skipped.
    pub corrupt: u64,
    /// Seconds from spooling to acknowledgement of the last delivered
    /// event.
    pub delivery_lag: f64,
    /// Whether the last delivery attempt reached the broker.
    pub connected: bool,
    /// The last error from the spool or the broker, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Seconds from spooling to the broker's acknowledgement, for every
    /// event delivered since start (schema 1, added later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_seconds: Option<Histogram>,
    /// Seconds each spool commit took, its fsync included, since start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_seconds: Option<Histogram>,
}

/// Observations since start, in buckets, as Prometheus keeps them:
/// `counts[i]` counts the observations at most `le[i]` and above the
/// bound before it (not cumulative); the last count, one more than the
/// bounds, is those above every bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Histogram {
    pub le: Vec<f64>,
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

/// What the analysis stage did: its health, for the stats event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AnalysisStats {
    /// Events read, findings raised, alerts written (first and updates).
    pub events: u64,
    pub notices: u64,
    pub alerts: u64,
    /// Findings an allow-list entry covered.
    pub allowed: u64,
    /// Alerts still open (repeats may yet fold into them).
    pub open_alerts: u64,
    /// Rules files in force.
    pub rules_files: u64,
    /// Why the last reload failed (the previous rules stay in force).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_error: Option<String>,
    /// Entries held in the stage's bounded tables (detectors, baselines,
    /// host risk), and entries evicted from them: evictions mean the caps
    /// are too small for the network, or a flood.
    #[serde(default)]
    pub tracked: u64,
    #[serde(default)]
    pub evictions: u64,
    /// Why the last save of the learned state failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_error: Option<String>,
    /// The rules in force: "built-in" or a short hash of the files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_version: Option<String>,
    /// Segments with a baseline, and how many of them are still learning
    /// (their first days: alerts say so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<LearningState>,
}

/// The baselines' learning state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LearningState {
    pub total: u64,
    pub learning: u64,
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        Event::new(
            Origin {
                municipality: "0101".into(),
                sensor: "s1".into(),
                segment: "care".into(),
            },
            EventBody::Conn(ConnRecord {
                ts: 1.5,
                uid: "Cabc".into(),
                orig_h: "10.0.0.1".parse().unwrap(),
                orig_p: 1234,
                resp_h: "10.0.0.2".parse().unwrap(),
                resp_p: 80,
                proto: Proto::Tcp,
                service: None,
                duration: Some(0.25),
                orig_bytes: Some(10),
                resp_bytes: Some(20),
                conn_state: ConnState::Sf,
                local_orig: None,
                local_resp: None,
                missed_bytes: 0,
                history: Some("ShADadFf".into()),
                orig_pkts: 5,
                orig_ip_bytes: 300,
                resp_pkts: 4,
                resp_ip_bytes: 280,
                tunnel_parents: vec![],
                ip_proto: 6,
                vlan: Some(20),
                inner_vlan: None,
                third_vlan: None,
                orig_l2_addr: None,
                resp_l2_addr: None,
                community_id: "1:x".into(),
                orig_link_bytes: 370,
                resp_link_bytes: 336,
                tunnel_depth: 0,
                interim: false,
                end_reason: Some(EndReason::Closed),
            }),
        )
    }

    #[test]
    fn conn_event_uses_zeek_field_names_and_round_trips() {
        let ev = sample();
        let json = serde_json::to_string(&ev).unwrap();
        assert!(json.contains("\"event_type\":\"conn\""), "{json}");
        assert!(json.contains("\"id.orig_h\":\"10.0.0.1\""), "{json}");
        assert!(json.contains("\"municipality\":\"0101\""), "{json}");
        assert!(json.contains("\"schema_version\":1"), "{json}");
        assert!(!json.contains("interim"), "false flags are omitted: {json}");
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ev);
    }
}
