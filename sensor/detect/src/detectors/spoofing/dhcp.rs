//! Rogue DHCP servers (T1557.003): a segment's usual servers are those
//! allow-listed and those that answered in its first `dhcp_learning`
//! seconds; a server answering after that is rogue (it can hand out
//! itself as gateway or DNS server, and so sees or steers the clients'
//! traffic). While learning, a second server answering beside the first
//! is reported lower: failover pairs are normal and belong on the list.

use super::{clock, span, Settings};
use crate::detectors::table::Table;
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use vagt_schema::DhcpRecord;

/// Servers remembered per segment.
const MAX_SERVERS: usize = 16;

#[derive(Serialize, Deserialize)]
struct Segment {
    /// When the segment's first answer came: learning runs from there.
    since: f64,
    /// Usual servers and when each last answered.
    servers: Vec<(IpAddr, f64)>,
}

pub(super) struct Servers {
    segments: Table<String, Segment>,
}

impl Servers {
    pub fn new(cap: usize) -> Servers {
        Servers {
            segments: Table::new(cap),
        }
    }

    /// The usual servers learnt, to save: a restart must not take the
    /// next answer of a rogue server for one of the first day's.
    pub fn save(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.segments).ok()
    }

    /// Takes saved servers back; false when the value is not such.
    pub fn restore(&mut self, value: &serde_json::Value, cap: usize) -> bool {
        match Table::<String, Segment>::deserialize(value) {
            Ok(t) => {
                self.segments = t.with_cap(cap);
                true
            }
            Err(_) => false,
        }
    }

    pub fn observe(&mut self, s: &Settings, segment: &str, r: &DhcpRecord, out: &mut Vec<Notice>) {
        let Some(server) = r.server_addr else {
            return;
        };
        if s.dhcp_servers.contains(&server) {
            return;
        }
        let seg = self.segments.entry(&segment.to_string(), r.ts, || Segment {
            since: r.ts,
            servers: Vec::new(),
        });
        if let Some(known) = seg.servers.iter_mut().find(|(a, _)| *a == server) {
            known.1 = known.1.max(r.ts);
            return;
        }
        let learnt = r.ts - seg.since;
        let learning = learnt < s.dhcp_learning;
        let usual: Vec<String> = seg
            .servers
            .iter()
            .map(|(a, last)| format!("{a} (last {})", clock(*last)))
            .collect();
        let mut evidence = Evidence::default();
        for uid in &r.uids {
            evidence.add(uid, None);
        }
        let client = r.client_addr.or(r.assigned_addr);
        let to = match (&r.mac, r.assigned_addr) {
            (Some(m), Some(a)) => format!(" to {m}, offering {a}"),
            (Some(m), None) => format!(" to {m}"),
            (None, Some(a)) => format!(", offering {a}"),
            (None, None) => String::new(),
        };
        let answered = r.msg_types.join("/");
        let notice = |kind: &'static str, score: u8, message: String| Notice {
            ts: r.ts,
            segment: segment.to_string(),
            detector: "spoofing",
            kind,
            technique: "T1557.003".into(),
            score,
            src: server,
            dst: client,
            subject: Some("dhcp".into()),
            message,
            count: 1,
            first: r.ts,
            last: r.ts + r.duration.max(0.0),
            evidence: evidence.clone(),
        };
        if learning {
            if seg.servers.len() < MAX_SERVERS {
                seg.servers.push((server, r.ts));
            }
            if usual.is_empty() {
                return;
            }
            out.push(notice(
                "second_dhcp_server",
                s.second_dhcp_score,
                format!(
                    "{server} answered DHCP ({answered}){to} at {} beside {}, {} servers in the segment while learning its servers ({} of {} learnt); a second server is a rogue one or a failover pair to allow-list in [spoofing] dhcp_servers",
                    clock(r.ts),
                    usual.join(", "),
                    usual.len() + 1,
                    span(learnt),
                    span(s.dhcp_learning),
                ),
            ));
            return;
        }
        let usual = if usual.is_empty() {
            "none answered while learning".to_string()
        } else {
            format!("the usual are {}", usual.join(", "))
        };
        out.push(notice(
            "rogue_dhcp",
            s.rogue_dhcp_score,
            format!(
                "{server} answered DHCP ({answered}){to} at {}, a server not seen in the segment's first {} and not allow-listed; {usual}",
                clock(r.ts),
                span(s.dhcp_learning),
            ),
        ));
    }

    pub fn len(&self) -> usize {
        self.segments.len()
    }

    pub fn evicted(&self) -> u64 {
        self.segments.evicted
    }

    /// Nothing expires: a segment's servers are what later answers are
    /// held against, and segments are few (the table's cap bounds them).
    pub fn sweep(&mut self, _now: f64, _s: &Settings) {}
}
