//! Scans, as Zeek's `scan.zeek` finds them: one source's failed connection
//! attempts (unanswered, refused, or reset before any data) to many ports
//! of one host (a port scan) or to one port on many hosts (an address
//! scan), within a window; and HTTP requests from known scanning tools,
//! which give themselves away in their user agent even when they probe a
//! single port. TCP and UDP, internal and external alike.

use super::table::Table;
use super::{score, thousands, Detector};
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::net::IpAddr;
use vagt_schema::{ConnRecord, ConnState, Event, EventBody, Proto};

/// `[scan]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Distinct ports of one host (Zeek's `port_scan_threshold`).
    pub ports: usize,
    /// Distinct hosts on one port (Zeek's `addr_scan_threshold`).
    pub hosts: usize,
    /// Seconds the attempts must fall within (Zeek's 5 minutes).
    pub window: f64,
    /// User-agent substrings of scanning tools (case-insensitive).
    pub tool_user_agents: Vec<String>,
    /// Sources (and source-target pairs) tracked at most.
    pub max_tracked: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ports: 15,
            hosts: 25,
            window: 300.0,
            tool_user_agents: [
                "nmap scripting engine",
                "masscan",
                "zgrab",
                "sqlmap",
                "nikto",
                "nuclei",
                "zmeu",
                "wpscan",
                "dirbuster",
                "gobuster",
                "acunetix",
                "netsparker",
                "openvas",
            ]
            .map(String::from)
            .to_vec(),
            max_tracked: 200_000,
        }
    }
}

/// Failed attempts from a source to one target (a host, or a port).
struct Attempts {
    first: f64,
    last: f64,
    /// Distinct ports (port scan) or hosts (address scan), up to the
    /// threshold: that is all the detector needs to know.
    seen: HashSet<Target>,
    unanswered: u64,
    refused: u64,
    evidence: Evidence,
    segment: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Target {
    Port(Proto, u16),
    Host(IpAddr),
}

pub struct Scan {
    settings: Settings,
    tools: Vec<String>,
    /// (source, host) -> ports tried.
    ports: Table<(IpAddr, IpAddr), Attempts>,
    /// (source, proto, port) -> hosts tried.
    hosts: Table<(IpAddr, Proto, u16), Attempts>,
}

/// Zeek's `is_failed_conn` and `connection_attempt` in conn-record
/// terms: no reply, refused, or torn down before any data.
fn failed(c: &ConnRecord) -> Option<bool> {
    let no_data = !c
        .history
        .as_deref()
        .is_some_and(|h| h.contains(['D', 'd']));
    match (c.proto, c.conn_state) {
        (Proto::Tcp, ConnState::S0 | ConnState::Sh) => Some(false),
        (Proto::Tcp, ConnState::Rej | ConnState::Rstos0) => Some(true),
        (Proto::Tcp, ConnState::Rsto | ConnState::Rstr | ConnState::Rstrh) if no_data => {
            Some(true)
        }
        (Proto::Udp, ConnState::S0) if c.resp_pkts == 0 => Some(false),
        _ => None,
    }
}

fn unicast(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => !(v.is_broadcast() || v.is_multicast() || v.octets()[3] == 255),
        IpAddr::V6(v) => !v.is_multicast(),
    }
}

impl Scan {
    pub fn new(settings: Settings) -> Scan {
        Scan {
            tools: settings
                .tool_user_agents
                .iter()
                .map(|t| t.to_ascii_lowercase())
                .collect(),
            ports: Table::new(settings.max_tracked),
            hosts: Table::new(settings.max_tracked),
            settings,
        }
    }

    fn conn(&mut self, segment: &str, c: &ConnRecord, out: &mut Vec<Notice>) {
        let Some(refused) = failed(c) else {
            return;
        };
        if !unicast(c.resp_h) {
            // Discovery to broadcast or multicast addresses asks whoever
            // listens; it probes no one host's ports.
            return;
        }
        let s = &self.settings;
        let make = || Attempts {
            first: c.ts,
            last: c.ts,
            seen: HashSet::new(),
            unanswered: 0,
            refused: 0,
            evidence: Evidence::default(),
            segment: segment.to_string(),
        };
        let port = Target::Port(c.proto, c.resp_p);
        let a = self.ports.entry(&(c.orig_h, c.resp_h), c.ts, &make);
        if add(a, c, port, refused, s.window, s.ports) {
            out.push(notice(a, c, "port_scan", s.ports, s.window, Some(c.resp_h), None));
            *a = make();
        }
        let host = Target::Host(c.resp_h);
        let a = self.hosts.entry(&(c.orig_h, c.proto, c.resp_p), c.ts, &make);
        if add(a, c, host, refused, s.window, s.hosts) {
            let subject = format!("{}/{}", c.resp_p, c.proto.as_str());
            out.push(notice(a, c, "address_scan", s.hosts, s.window, None, Some(subject)));
            *a = make();
        }
    }
}

/// Counts one attempt; whether the threshold is now reached.
fn add(a: &mut Attempts, c: &ConnRecord, t: Target, refused: bool, window: f64, threshold: usize) -> bool {
    if c.ts - a.first > window {
        // The window moved on: start counting again from this attempt.
        a.first = c.ts;
        a.seen.clear();
        a.unanswered = 0;
        a.refused = 0;
        a.evidence = Evidence::default();
    }
    a.last = a.last.max(c.ts);
    if refused {
        a.refused += 1;
    } else {
        a.unanswered += 1;
    }
    a.evidence.add(&c.uid, Some(&c.community_id));
    a.seen.insert(t);
    a.seen.len() >= threshold
}

fn notice(
    a: &Attempts,
    c: &ConnRecord,
    kind: &'static str,
    threshold: usize,
    window: f64,
    dst: Option<IpAddr>,
    subject: Option<String>,
) -> Notice {
    let n = a.seen.len() as u64;
    let what = if kind == "port_scan" {
        format!("{} ports on {}", thousands(n), c.resp_h)
    } else {
        format!("{} hosts on port {}/{}", thousands(n), c.resp_p, c.proto.as_str())
    };
    let rule = if kind == "port_scan" {
        format!("a port scan is {threshold} or more ports of one host")
    } else {
        format!("an address scan is {threshold} or more hosts on one port")
    };
    Notice {
        ts: c.ts,
        segment: a.segment.clone(),
        detector: "scan",
        kind,
        technique: "T1046",
        score: score(n as f64, threshold as f64, 85),
        src: c.orig_h,
        dst,
        subject,
        message: format!(
            "{} tried {what} within {:.0} s ({} unanswered, {} refused or reset before data); {rule} within {window:.0} s",
            c.orig_h,
            a.last - a.first,
            thousands(a.unanswered),
            thousands(a.refused),
        ),
        count: a.unanswered + a.refused,
        first: a.first,
        last: a.last,
        evidence: a.evidence.clone(),
    }
}

impl Detector for Scan {
    fn observe(&mut self, event: &Event, out: &mut Vec<Notice>) {
        match &event.body {
            EventBody::Conn(c) => self.conn(&event.origin.segment, c, out),
            EventBody::Http(h) => {
                let Some(ua) = h.user_agent.as_deref() else {
                    return;
                };
                let lower = ua.to_ascii_lowercase();
                let Some(tool) = self.tools.iter().find(|t| lower.contains(t.as_str())) else {
                    return;
                };
                let mut evidence = Evidence::default();
                evidence.add(&h.uid, None);
                out.push(Notice {
                    ts: h.ts,
                    segment: event.origin.segment.clone(),
                    detector: "scan",
                    kind: "scanner_tool",
                    technique: "T1595",
                    score: 60,
                    src: h.id.orig_h,
                    dst: Some(h.id.resp_h),
                    subject: Some(tool.clone()),
                    message: format!(
                        "{} sent an HTTP request to {} with the user agent of a scanning tool (\"{ua}\", matching \"{tool}\" in [scan] tool_user_agents)",
                        h.id.orig_h, h.id.resp_h
                    ),
                    count: 1,
                    first: h.ts,
                    last: h.ts,
                    evidence,
                });
            }
            _ => {}
        }
    }

    fn sweep(&mut self, now: f64, _out: &mut Vec<Notice>) {
        let w = self.settings.window;
        self.ports.retain(|_, a| now - a.last <= w);
        self.hosts.retain(|_, a| now - a.last <= w);
    }
}
