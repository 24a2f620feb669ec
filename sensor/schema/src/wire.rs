//! What travels over Kafka: the topic an event goes to, and the message
//! around it.
//!
//! A message is the event's JSON (the envelope and body of [`Event`], as in
//! the sensor's files) with three fields in front: `seq`, the sending
//! sensor's sequence number (it only increases, survives restarts, and with
//! `municipality` and `sensor` identifies the event: a consumer drops a
//! second copy by that pair); `send_time`, when it was handed to Kafka; and
//! `event_time`, when what it describes happened (packet time). The Kafka
//! key is `municipality/sensor`, so one sensor's events stay in one
//! partition, in order.

use crate::{Event, EventBody};
use serde::{Deserialize, Serialize};

/// The topics, each with a configurable prefix (`vagt.` by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Topic {
    /// `alert` events.
    Alerts,
    /// Sensor health: `stats` events.
    Health,
    /// `asset` and `arp` events: the inventory.
    Assets,
    /// Application records and segment metrics (off by default).
    App,
    /// `conn` records (off by default).
    Conn,
}

impl Topic {
    /// Most important first: the order in which a full spool keeps them
    /// (it drops connection records first).
    pub const ALL: [Topic; 5] = [
        Topic::Alerts,
        Topic::Health,
        Topic::Assets,
        Topic::App,
        Topic::Conn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Topic::Alerts => "alerts",
            Topic::Health => "health",
            Topic::Assets => "assets",
            Topic::App => "app",
            Topic::Conn => "conn",
        }
    }

    /// The topic's rank in [`Topic::ALL`]: 0 is the most important.
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn from_rank(rank: u8) -> Option<Topic> {
        Topic::ALL.get(usize::from(rank)).copied()
    }
}

impl EventBody {
    /// The topic this event travels on.
    pub fn topic(&self) -> Topic {
        match self {
            EventBody::Alert(_) => Topic::Alerts,
            EventBody::Stats(_) => Topic::Health,
            EventBody::Asset(_) | EventBody::Arp(_) => Topic::Assets,
            EventBody::Conn(_) => Topic::Conn,
            _ => Topic::App,
        }
    }

    /// When what the event describes happened, seconds since the Unix
    /// epoch (packet time): a record's `ts`, an asset's `last_seen`.
    pub fn time(&self) -> f64 {
        match self {
            EventBody::Conn(r) => r.ts,
            EventBody::Stats(r) => r.ts,
            EventBody::Dns(r) => r.ts,
            EventBody::Modbus(r) => r.ts,
            EventBody::Dnp3(r) => r.ts,
            EventBody::Bacnet(r) => r.ts,
            EventBody::S7comm(r) => r.ts,
            EventBody::Enip(r) => r.ts,
            EventBody::OtSummary(r) => r.ts,
            EventBody::Ssh(r) => r.ts,
            EventBody::Kerberos(r) => r.ts,
            EventBody::Ldap(r) => r.ts,
            EventBody::LdapSearch(r) => r.ts,
            EventBody::Rdp(r) => r.ts,
            EventBody::Http(r) => r.ts,
            EventBody::Ftp(r) => r.ts,
            EventBody::Smtp(r) => r.ts,
            EventBody::SmbMapping(r) => r.ts,
            EventBody::SmbFiles(r) => r.ts,
            EventBody::DceRpc(r) => r.ts,
            EventBody::Ntlm(r) => r.ts,
            EventBody::Dhcp(r) => r.ts,
            EventBody::Ntp(r) => r.ts,
            EventBody::Syslog(r) => r.ts,
            EventBody::Snmp(r) => r.ts,
            EventBody::Asset(r) => r.last_seen,
            EventBody::Alert(r) => r.ts,
            EventBody::Auth(r) => r.ts,
            EventBody::Ssl(r) => r.ts,
            EventBody::X509(r) => r.ts,
            EventBody::Quic(r) => r.ts,
            EventBody::Arp(r) => r.ts,
            EventBody::SegmentMetrics(r) => r.ts,
        }
    }
}

impl EventBody {
    /// The connection the record is about (its uid), where it names one.
    pub fn uid(&self) -> Option<&str> {
        let uid = match self {
            EventBody::Conn(r) => &r.uid,
            EventBody::Dns(r) => &r.uid,
            EventBody::Modbus(r) => &r.uid,
            EventBody::Dnp3(r) => &r.uid,
            EventBody::Bacnet(r) => &r.uid,
            EventBody::S7comm(r) => &r.uid,
            EventBody::Enip(r) => &r.uid,
            EventBody::OtSummary(r) => &r.uid,
            EventBody::Ssh(r) => &r.uid,
            EventBody::Kerberos(r) => &r.uid,
            EventBody::Ldap(r) => &r.uid,
            EventBody::LdapSearch(r) => &r.uid,
            EventBody::Rdp(r) => &r.uid,
            EventBody::Http(r) => &r.uid,
            EventBody::Ftp(r) => &r.uid,
            EventBody::Smtp(r) => &r.uid,
            EventBody::SmbMapping(r) => &r.uid,
            EventBody::SmbFiles(r) => &r.uid,
            EventBody::DceRpc(r) => &r.uid,
            EventBody::Ntlm(r) => &r.uid,
            EventBody::Dhcp(r) => r.uids.first()?,
            EventBody::Ntp(r) => &r.uid,
            EventBody::Syslog(r) => &r.uid,
            EventBody::Snmp(r) => &r.uid,
            EventBody::Auth(r) => &r.uid,
            EventBody::Ssl(r) => &r.uid,
            EventBody::Quic(r) => &r.uid,
            EventBody::X509(r) => &r.uid,
            EventBody::Stats(_)
            | EventBody::Asset(_)
            | EventBody::Alert(_)
            | EventBody::Arp(_)
            | EventBody::SegmentMetrics(_) => return None,
        };
        (!uid.is_empty()).then_some(uid.as_str())
    }
}

/// A message as a consumer reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireEvent {
    pub seq: u64,
    pub send_time: f64,
    pub event_time: f64,
    #[serde(flatten)]
    pub event: Event,
}

/// The spooled part of a message: `{"event_time":…,` and the event's
/// JSON after its opening brace. [`frame`] puts the rest in front when it
/// is sent.
pub fn payload(event: &Event, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"event_time\":");
    float(event.body.time(), out);
    out.push(b',');
    let start = out.len();
    event.write_json(out);
    // Drop the event's own opening brace: its fields follow ours.
    if out.get(start) == Some(&b'{') {
        out.remove(start);
    }
}

/// The whole message: `{"seq":…,"send_time":…,` and the spooled payload
/// after its opening brace.
pub fn frame(seq: u64, send_time: f64, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
    out.extend_from_slice(b",\"send_time\":");
    float(send_time, out);
    out.push(b',');
    out.extend_from_slice(payload.get(1..).unwrap_or_default());
}

/// A float as serde_json writes it; 0 for what JSON cannot hold.
fn float(v: f64, out: &mut Vec<u8>) {
    let v = if v.is_finite() { v } else { 0.0 };
    // Writing a finite float into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &v);
}

/// The Kafka key of a sensor's messages.
pub fn key(municipality: &str, sensor: &str) -> String {
    format!("{municipality}/{sensor}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Origin, SensorStats};

    #[test]
    fn a_framed_message_reads_back_as_the_event_with_its_sequence() {
        let ev = Event::new(
            Origin {
                municipality: "751".into(),
                sensor: "s1".into(),
                segment: "care".into(),
            },
            EventBody::Stats(SensorStats {
                ts: 1_762_243_200.25,
                packets: 7,
                ..SensorStats::default()
            }),
        );
        let mut p = Vec::new();
        payload(&ev, &mut p);
        let mut m = Vec::new();
        frame(42, 1_762_243_260.5, &p, &mut m);
        let w: WireEvent = serde_json::from_slice(&m).expect("valid JSON");
        assert_eq!(w.seq, 42);
        assert_eq!(w.send_time, 1_762_243_260.5);
        assert_eq!(w.event_time, 1_762_243_200.25);
        assert_eq!(w.event, ev);
        assert_eq!(ev.body.topic(), Topic::Health);
        assert_eq!(Topic::from_rank(Topic::Health.rank()), Some(Topic::Health));
    }
}
