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
    /// Slow port scans, one probe a minute or slower, which stay under
    /// Zeek's window: this many distinct ports of one host within
    /// `slow_window` seconds (four times the fast bar, over a day).
    pub slow_ports: usize,
    pub slow_window: f64,
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
            slow_ports: 60,
            slow_window: 86_400.0,
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
    /// Distinct ports (port scan) or hosts (address scan), at most
    /// [`MAX_SEEN`].
    seen: HashSet<Target>,
    /// The count at which the next notice is raised: the threshold, then
    /// each doubling, so a long scan updates its alert with its size.
    next: usize,
    unanswered: u64,
    refused: u64,
    /// Attempts already counted in an earlier notice of this window (a
    /// notice counts only its new ones, as the policy adds them up).
    reported: u64,
    evidence: Evidence,
    segment: String,
    /// The latest attempt, which the notice describes.
    probe: Probe,
}

#[derive(Clone, Copy)]
struct Probe {
    ts: f64,
    src: IpAddr,
    dst: IpAddr,
    port: u16,
    proto: Proto,
}

/// Distinct targets counted per source and window; a scan of every port
/// is reported as 10,000 or more.
const MAX_SEEN: usize = 10_000;

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
    /// The same over the slow window.
    slow: Table<(IpAddr, IpAddr), Attempts>,
    /// (source, proto, port) -> hosts tried.
    hosts: Table<(IpAddr, Proto, u16), Attempts>,
}

/// Zeek's `is_failed_conn` and `connection_attempt` in conn-record
/// terms: no reply, refused, or torn down before any data.
fn failed(c: &ConnRecord) -> Option<bool> {
    let no_data = !c.history.as_deref().is_some_and(|h| h.contains(['D', 'd']));
    match (c.proto, c.conn_state) {
        (Proto::Tcp, ConnState::S0 | ConnState::Sh) => Some(false),
        (Proto::Tcp, ConnState::Rej | ConnState::Rstos0) => Some(true),
        (Proto::Tcp, ConnState::Rsto | ConnState::Rstr | ConnState::Rstrh) if no_data => Some(true),
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
            slow: Table::new(settings.max_tracked),
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
            next: 0,
            unanswered: 0,
            refused: 0,
            reported: 0,
            evidence: Evidence::default(),
            segment: segment.to_string(),
            probe: Probe {
                ts: c.ts,
                src: c.orig_h,
                dst: c.resp_h,
                port: c.resp_p,
                proto: c.proto,
            },
        };
        let port = Target::Port(c.proto, c.resp_p);
        let a = self.ports.entry(&(c.orig_h, c.resp_h), c.ts, &make);
        if add(a, c, port, refused, s.window, s.ports) {
            out.push(notice(a, "port_scan", s.ports, s.window));
        }
        // A fast scan is reported by the fast window; the slow one only
        // speaks for scans that never reached it.
        let fast = a.reported > 0;
        let a = self.slow.entry(&(c.orig_h, c.resp_h), c.ts, &make);
        if add(a, c, port, refused, s.slow_window, s.slow_ports) && !fast {
            out.push(notice(a, "port_scan", s.slow_ports, s.slow_window));
        }
        let host = Target::Host(c.resp_h);
        let a = self
            .hosts
            .entry(&(c.orig_h, c.proto, c.resp_p), c.ts, &make);
        if add(a, c, host, refused, s.window, s.hosts) {
            out.push(notice(a, "address_scan", s.hosts, s.window));
        }
    }
}

/// Counts one attempt; whether the threshold is now reached.
fn add(
    a: &mut Attempts,
    c: &ConnRecord,
    t: Target,
    refused: bool,
    window: f64,
    threshold: usize,
) -> bool {
    if c.ts - a.first > window || a.next == 0 {
        // The window moved on (or this is the first attempt): count
        // again from this attempt.
        a.first = c.ts;
        a.seen.clear();
        a.next = threshold.max(1);
        a.unanswered = 0;
        a.refused = 0;
        a.reported = 0;
        a.evidence = Evidence::default();
    }
    a.last = a.last.max(c.ts);
    a.probe = Probe {
        ts: c.ts,
        src: c.orig_h,
        dst: c.resp_h,
        port: c.resp_p,
        proto: c.proto,
    };
    if refused {
        a.refused += 1;
    } else {
        a.unanswered += 1;
    }
    a.evidence.add(&c.uid, Some(&c.community_id));
    if a.seen.len() < MAX_SEEN {
        a.seen.insert(t);
    }
    if a.seen.len() >= a.next {
        a.next = a.next.saturating_mul(2).min(MAX_SEEN);
        if a.next == a.seen.len() {
            // At the cap: no further notice in this window.
            a.next = usize::MAX;
        }
        return true;
    }
    false
}

fn notice(a: &mut Attempts, kind: &'static str, threshold: usize, window: f64) -> Notice {
    let p = a.probe;
    let n = a.seen.len() as u64;
    let more = if a.seen.len() >= MAX_SEEN {
        " or more"
    } else {
        ""
    };
    let port_scan = kind == "port_scan";
    let what = if port_scan {
        format!("{}{more} ports on {}", thousands(n), p.dst)
    } else {
        format!(
            "{}{more} hosts on port {}/{}",
            thousands(n),
            p.port,
            p.proto.as_str()
        )
    };
    let rule = if port_scan {
        format!("a port scan is {threshold} or more ports of one host")
    } else {
        format!("an address scan is {threshold} or more hosts on one port")
    };
    let (dst, subject) = if port_scan {
        (Some(p.dst), None)
    } else {
        (None, Some(format!("{}/{}", p.port, p.proto.as_str())))
    };
    Notice {
        ts: p.ts,
        segment: a.segment.clone(),
        detector: "scan",
        kind,
        technique: "T1046".into(),
        score: score(n as f64, threshold as f64, 85),
        src: p.src,
        dst,
        subject,
        message: format!(
            "{} tried {what} within {:.0} s ({} unanswered, {} refused or reset before data); {rule} within {window:.0} s",
            p.src,
            a.last - a.first,
            thousands(a.unanswered),
            thousands(a.refused),
        ),
        count: {
            let total = a.unanswered + a.refused;
            let new = total - a.reported.min(total);
            a.reported = total;
            new
        },
        first: a.first,
        last: a.last,
        evidence: a.evidence.clone(),
    }
}

impl Detector for Scan {
    fn tracked(&self) -> super::Tracked {
        self.ports.tracked() + self.slow.tracked() + self.hosts.tracked()
    }

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
                    technique: "T1595".into(),
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

    fn sweep(&mut self, now: f64, out: &mut Vec<Notice>) {
        let s = &self.settings;
        let w = s.window;
        // A scan that was reported and went on after its last notice is
        // reported once more, with its final size, when it ends.
        let mut close = |a: &mut Attempts, kind: &'static str, threshold: usize| {
            let ended = now - a.last > w;
            if ended && a.reported > 0 && a.unanswered + a.refused > a.reported {
                out.push(notice(a, kind, threshold, w));
            }
            !ended
        };
        self.ports.retain(|_, a| close(a, "port_scan", s.ports));
        self.hosts.retain(|_, a| close(a, "address_scan", s.hosts));
        let sw = s.slow_window;
        self.slow.retain(|_, a| now - a.last <= sw);
    }
}

#[cfg(test)]
mod slow_tests {
    use super::*;
    use crate::detectors::testutil::{conn, event};

    #[test]
    fn a_port_a_minute_for_two_hours_is_a_slow_port_scan() {
        let mut d = Scan::new(Settings::default());
        let mut out = Vec::new();
        let out_of = (Some(true), Some(true));
        for i in 0..120u16 {
            let c = conn(
                1000.0 + f64::from(i) * 60.0,
                &format!("C{i}"),
                "10.11.1.69",
                "10.1.1.12",
                1000 + i,
                "REJ",
                0,
                out_of,
            );
            d.observe(&event("jobcenter", EventBody::Conn(c)), &mut out);
        }
        assert_eq!(out.len(), 2, "at 60 ports and at 120: {out:#?}");
        assert!(
            out[0].message.contains("60 ports") && out[0].message.contains("within 86400 s"),
            "{}",
            out[0].message
        );
        // A client failing on a handful of ports all day is no scan.
        let mut d = Scan::new(Settings::default());
        let mut out = Vec::new();
        for i in 0..500u16 {
            let c = conn(
                1000.0 + f64::from(i) * 60.0,
                &format!("D{i}"),
                "10.11.1.70",
                "10.1.1.12",
                8080 + i % 5,
                "REJ",
                0,
                out_of,
            );
            d.observe(&event("jobcenter", EventBody::Conn(c)), &mut out);
        }
        assert!(out.is_empty());
    }
}
