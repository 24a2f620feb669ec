//! Lateral movement between internal hosts over the admin protocols: SMB
//! (T1021.002), RDP (T1021.001), WinRM (T1021.006), SSH (T1021.004) and
//! DCE-RPC's endpoint mapper (T1021, T1047), known by the connection's
//! `service` or its port.
//!
//! Two findings:
//! - `fan_out`: one internal source reaching the admin services of
//!   `fan_out` or more distinct internal hosts within `window` seconds,
//!   from a client segment (a segment whose kind is in `client_kinds`, or
//!   that has no kind). Servers and the IT team's own segments reach many
//!   hosts by design (management, backup, monitoring) and are not judged.
//!   Failed attempts count: a worm's or an operator's sweep fails often.
//! - `new_edge`: after the detector has learned for `learning` seconds of
//!   packet time (from the first event it sees), a source-destination-
//!   protocol edge never seen before, at a lower score; only connections
//!   that were established or carried data make or match an edge, so a
//!   scan does not teach the baseline. A new edge is news only where both
//!   ends are new to the protocol's admin use: a source that already made
//!   `admin_source_edges` such edges is an admin's or a tool's machine, for
//!   which a new target is daily work, and a destination that
//!   `server_edges` sources already use over the protocol is a server (a
//!   file server, a terminal server) that a new client reaching is
//!   ordinary. From segments that are not client segments it scores lower
//!   still.
//!
//! "Internal" is what the sensor marks local (`local_orig`, `local_resp`);
//! without local networks configured the detector sees nothing. State is
//! bounded: sources in a window, and edges (an edge evicted from a full
//! table and seen again is reported as new; evictions are counted). The
//! edges and the start of learning are saved with the baselines.

use super::table::Table;
use super::{score, thousands, Detector};
use crate::{Evidence, Notice, Rules};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use vagt_schema::{ConnRecord, Event, EventBody, Proto};

/// `[lateral]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Admin ports (TCP) watched.
    pub ports: Vec<u16>,
    /// Services (the connection's `service`) watched on any port.
    pub services: Vec<String>,
    /// Distinct internal hosts from one source within `window` seconds.
    pub fan_out: usize,
    pub window: f64,
    /// Segment kinds judged as clients (a segment without a kind is too).
    pub client_kinds: Vec<String>,
    /// Seconds of packet time learned before edges count as new (7 days).
    pub learning: f64,
    /// Learned edges over a protocol after which a source counts as an
    /// admin source (its new edges are not news).
    pub admin_source_edges: u32,
    /// Learned sources over a protocol after which a destination counts
    /// as a server for it (new clients reaching it are not news).
    pub server_edges: u32,
    /// Score of a new edge from a client segment, and from another.
    pub new_edge_score: u8,
    pub new_edge_other_score: u8,
    /// Sources tracked at most, and edges remembered at most.
    pub max_tracked: usize,
    pub max_edges: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ports: vec![445, 139, 3389, 5985, 5986, 22, 135],
            services: ["smb", "rdp", "ssh", "dce_rpc"].map(String::from).to_vec(),
            fan_out: 10,
            window: 900.0,
            client_kinds: ["admin", "care", "school", "guest"]
                .map(String::from)
                .to_vec(),
            learning: 7.0 * 86_400.0,
            admin_source_edges: 3,
            server_edges: 10,
            new_edge_score: 45,
            new_edge_other_score: 30,
            max_tracked: 100_000,
            max_edges: 200_000,
        }
    }
}

/// The admin protocol of a connection and its technique.
fn protocol(c: &ConnRecord, s: &Settings) -> Option<&'static str> {
    let named = c.service.as_deref().and_then(|sv| {
        sv.split(',').find_map(|x| {
            if !s.services.iter().any(|w| w.eq_ignore_ascii_case(x)) {
                return None;
            }
            Some(match x.to_ascii_lowercase().as_str() {
                "smb" => "smb",
                "rdp" => "rdp",
                "ssh" => "ssh",
                "dce_rpc" => "dce_rpc",
                "winrm" => "winrm",
                _ => "other",
            })
        })
    });
    if named.is_some() {
        return named;
    }
    if c.proto != Proto::Tcp || !s.ports.contains(&c.resp_p) {
        return None;
    }
    Some(match c.resp_p {
        445 | 139 => "smb",
        3389 => "rdp",
        5985 | 5986 => "winrm",
        22 => "ssh",
        135 => "dce_rpc",
        _ => "other",
    })
}

/// The protocols [`protocol`] names.
const PROTOCOLS: [&str; 6] = ["other", "smb", "rdp", "winrm", "ssh", "dce_rpc"];

fn technique(protocol: &str) -> &'static str {
    match protocol {
        "smb" => "T1021.002",
        "rdp" => "T1021.001",
        "winrm" => "T1021.006",
        "ssh" => "T1021.004",
        _ => "T1021",
    }
}

/// Established, or carried data: a session, not just a knock.
fn answered(c: &ConnRecord) -> bool {
    c.conn_state.established() || c.orig_bytes.unwrap_or(0) > 0 && c.resp_bytes.unwrap_or(0) > 0
}

/// Distinct hosts counted per source and window.
const MAX_HOSTS: usize = 10_000;

struct FanOut {
    first: f64,
    last: f64,
    hosts: HashSet<IpAddr>,
    /// Connections per protocol, for the message and the technique.
    protocols: BTreeMap<&'static str, u64>,
    answered: u64,
    failed: u64,
    /// Hosts at which the next notice is raised (the threshold, then
    /// each doubling), and connections already reported.
    next: usize,
    reported: u64,
    evidence: Evidence,
    segment: String,
}

pub struct Lateral {
    settings: Settings,
    kinds: BTreeMap<String, String>,
    sources: Table<IpAddr, FanOut>,
    /// Learned edges: (source, destination, protocol's index in
    /// [`PROTOCOLS`], a number so that the table can be saved).
    edges: Table<(IpAddr, IpAddr, u8), ()>,
    /// Learned edges per (source, protocol) and per (destination,
    /// protocol).
    out_edges: Table<(IpAddr, u8), u32>,
    in_edges: Table<(IpAddr, u8), u32>,
    /// First packet time seen, where learning starts.
    since: Option<f64>,
}

impl Lateral {
    pub fn new(settings: Settings) -> Lateral {
        Lateral {
            sources: Table::new(settings.max_tracked),
            edges: Table::new(settings.max_edges),
            out_edges: Table::new(settings.max_edges),
            in_edges: Table::new(settings.max_edges),
            settings,
            kinds: BTreeMap::new(),
            since: None,
        }
    }

    /// Whether `segment` is a client segment, and its kind for messages.
    fn client(&self, segment: &str) -> (bool, String) {
        match self.kinds.get(segment) {
            None => (true, "no kind".into()),
            Some(k) => (
                self.settings.client_kinds.iter().any(|c| c == k),
                format!("kind {k}"),
            ),
        }
    }

    fn conn(&mut self, segment: &str, c: &ConnRecord, out: &mut Vec<Notice>) {
        if c.interim
            || c.local_orig != Some(true)
            || c.local_resp != Some(true)
            || c.orig_h == c.resp_h
        {
            return;
        }
        let Some(proto) = protocol(c, &self.settings) else {
            return;
        };
        let since = self.since.unwrap_or(c.ts);
        let (client, kind) = self.client(segment);
        let ok = answered(c);
        if ok {
            self.edge(segment, c, proto, since, client, out);
        }
        if client {
            self.fan_out(segment, &kind, c, proto, ok, out);
        }
    }

    fn edge(
        &mut self,
        segment: &str,
        c: &ConnRecord,
        proto: &'static str,
        since: f64,
        client: bool,
        out: &mut Vec<Notice>,
    ) {
        let s = &self.settings;
        let code = PROTOCOLS.iter().position(|p| *p == proto).unwrap_or(0) as u8;
        let key = (c.orig_h, c.resp_h, code);
        let known = self.edges.get(&key).is_some();
        let learned = c.ts - since;
        let count = self.edges.len();
        if known {
            self.edges.entry(&key, c.ts, || ());
            return;
        }
        let made = self.out_edges.get(&(c.orig_h, code)).copied().unwrap_or(0);
        let served = self.in_edges.get(&(c.resp_h, code)).copied().unwrap_or(0);
        self.edges.entry(&key, c.ts, || ());
        *self.out_edges.entry(&(c.orig_h, code), c.ts, || 0) += 1;
        *self.in_edges.entry(&(c.resp_h, code), c.ts, || 0) += 1;
        if learned < s.learning || made >= s.admin_source_edges || served >= s.server_edges {
            return;
        }
        let mut evidence = Evidence::default();
        evidence.add(&c.uid, Some(&c.community_id));
        out.push(Notice {
            ts: c.ts,
            segment: segment.to_string(),
            detector: "lateral",
            kind: "new_edge",
            technique: technique(proto).into(),
            score: if client {
                s.new_edge_score
            } else {
                s.new_edge_other_score
            },
            src: c.orig_h,
            dst: Some(c.resp_h),
            subject: Some(proto.to_string()),
            message: format!(
                "{} connected to {} over {proto} ({}/{}) for the first time; the detector learned for {:.1} days ({:.1} required) and knew {} admin edges, {made} from {} over {proto} (an admin source makes {}) and {served} to {} (a server has {}){}",
                c.orig_h,
                c.resp_h,
                c.resp_p,
                c.proto.as_str(),
                learned / 86_400.0,
                s.learning / 86_400.0,
                thousands(count as u64),
                c.orig_h,
                s.admin_source_edges,
                c.resp_h,
                s.server_edges,
                if self.edges.evicted > 0 {
                    format!(" ({} forgotten when the table was full)", thousands(self.edges.evicted))
                } else {
                    String::new()
                }
            ),
            count: 1,
            first: c.ts,
            last: c.ts,
            evidence,
        });
    }

    fn fan_out(
        &mut self,
        segment: &str,
        kind: &str,
        c: &ConnRecord,
        proto: &'static str,
        ok: bool,
        out: &mut Vec<Notice>,
    ) {
        let s = &self.settings;
        let threshold = s.fan_out.max(1);
        let f = self.sources.entry(&c.orig_h, c.ts, || FanOut {
            first: c.ts,
            last: c.ts,
            hosts: HashSet::new(),
            protocols: BTreeMap::new(),
            answered: 0,
            failed: 0,
            next: 0,
            reported: 0,
            evidence: Evidence::default(),
            segment: segment.to_string(),
        });
        if c.ts - f.first > s.window || f.next == 0 {
            // The window moved on: count again from this connection.
            *f = FanOut {
                first: c.ts,
                last: c.ts,
                hosts: HashSet::new(),
                protocols: BTreeMap::new(),
                answered: 0,
                failed: 0,
                next: threshold,
                reported: 0,
                evidence: Evidence::default(),
                segment: segment.to_string(),
            };
        }
        f.last = f.last.max(c.ts);
        *f.protocols.entry(proto).or_default() += 1;
        if ok {
            f.answered += 1;
        } else {
            f.failed += 1;
        }
        if f.hosts.len() < MAX_HOSTS && f.hosts.insert(c.resp_h) {
            f.evidence.add(&c.uid, Some(&c.community_id));
        }
        if f.hosts.len() < f.next {
            return;
        }
        f.next = f.next.saturating_mul(2).min(MAX_HOSTS);
        if f.next == f.hosts.len() {
            f.next = usize::MAX;
        }
        let n = f.hosts.len();
        // The protocol used most names the technique and the subject.
        let main = f
            .protocols
            .iter()
            .max_by_key(|(_, n)| **n)
            .map_or(proto, |(p, _)| *p);
        let per: Vec<String> = f
            .protocols
            .iter()
            .map(|(p, n)| format!("{p} {}", thousands(*n)))
            .collect();
        let total = f.answered + f.failed;
        let new = total - f.reported.min(total);
        f.reported = total;
        out.push(Notice {
            ts: c.ts,
            segment: f.segment.clone(),
            detector: "lateral",
            kind: "fan_out",
            technique: technique(main).into(),
            score: score(n as f64, threshold as f64, 90),
            src: c.orig_h,
            dst: None,
            subject: Some(main.to_string()),
            message: format!(
                "{} (segment {segment}, {kind}) reached admin services of {}{} internal hosts within {:.0} s ({}; {} answered, {} failed); lateral movement fan-out is {threshold} or more hosts within {:.0} s from a client segment",
                c.orig_h,
                thousands(n as u64),
                if n >= MAX_HOSTS { " or more" } else { "" },
                f.last - f.first,
                per.join(", "),
                thousands(f.answered),
                thousands(f.failed),
                s.window,
            ),
            count: new,
            first: f.first,
            last: f.last,
            evidence: f.evidence.clone(),
        });
    }
}

impl Detector for Lateral {
    fn tracked(&self) -> super::Tracked {
        self.sources.tracked()
            + self.edges.tracked()
            + self.out_edges.tracked()
            + self.in_edges.tracked()
    }

    fn observe(&mut self, event: &Event, out: &mut Vec<Notice>) {
        if self.since.is_none() {
            // Learning counts from the first event of any type.
            self.since = match &event.body {
                EventBody::Conn(c) => Some(c.ts),
                body => crate::event_time(body),
            };
        }
        if let EventBody::Conn(c) = &event.body {
            self.conn(&event.origin.segment, c, out);
        }
    }

    fn sweep(&mut self, now: f64, _out: &mut Vec<Notice>) {
        let w = self.settings.window;
        self.sources.retain(|_, f| now - f.last <= w);
    }

    fn rules_changed(&mut self, rules: &Rules) {
        self.kinds.clone_from(&rules.segment_kinds);
    }

    /// The learned edges and when learning began survive a restart, so
    /// that a sensor restarted on day 6 does not learn for 7 more.
    fn save(&self) -> Option<(&'static str, serde_json::Value)> {
        let v = serde_json::to_value((&self.edges, self.since, &self.out_edges, &self.in_edges))
            .ok()?;
        Some(("lateral", v))
    }

    fn restore(&mut self, name: &str, value: &serde_json::Value) -> bool {
        if name != "lateral" {
            return true;
        }
        type Counts = Table<(IpAddr, u8), u32>;
        type Saved = (Table<(IpAddr, IpAddr, u8), ()>, Option<f64>, Counts, Counts);
        match Saved::deserialize(value) {
            Ok((edges, since, out_edges, in_edges)) => {
                self.edges = edges.with_cap(self.settings.max_edges);
                self.out_edges = out_edges.with_cap(self.settings.max_edges);
                self.in_edges = in_edges.with_cap(self.settings.max_edges);
                self.since = since;
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
#[path = "lateral_tests.rs"]
mod tests;
