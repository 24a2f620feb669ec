//! Spoofing on the local segment, from the sensor's `arp` records (a
//! binding new or moved, a sweep) and `dhcp` records: ARP cache poisoning
//! (MITRE T1557.002), rogue DHCP servers (T1557.003) and ARP sweeps
//! (T1018, remote system discovery).
//!
//! How a move of an address to another MAC is judged, strongest first:
//!
//! - **gateway**: the address left, or went to, a MAC that carries
//!   traffic for many addresses in the connection records (a router: every
//!   connection leaving the segment has the gateway's MAC as its L2 peer).
//!   Whoever takes the gateway's address sees the segment's traffic, so
//!   even one move scores high.
//! - **flip-flop**: the address moved `flip_flops` or more times within
//!   `window`: the real owner and a poisoner answering in turn.
//! - **duplicate address**: it moved back to the MAC it had just left,
//!   within `duplicate_window`: two devices claim it at once (a
//!   misconfigured static address, or a poisoner's first round).
//! - **takeover**: one move while the previous MAC still answered, its
//!   last announcement less than `quiet` seconds before. Lower score.
//! - A single move after the previous MAC had been quiet that long raises
//!   nothing: that is what DHCP does when a lease runs out and the address
//!   goes to another device, every day, in every municipality.
//!
//! Beside those, one MAC that took over `claimed_addresses` or more
//! addresses bound elsewhere within `window` is **poisoning** (arpspoof
//! and ettercap claim the gateway and each victim). A DHCP server not
//! allow-listed (`dhcp_servers`) and not seen in the segment's first
//! `dhcp_learning` seconds is **rogue**; a second server answering in a
//! segment while learning is reported lower (failover pairs are real:
//! allow-list them).

mod dhcp;

use super::table::Table;
use super::{score, span, thousands, Detector};
use crate::Notice;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};
use vagt_schema::{ArpRecord, Event, EventBody};

/// `[spoofing]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Seconds that moves of an address, and addresses claimed by one MAC,
    /// are counted within.
    pub window: f64,
    /// Moves of one address within `window` that make a flip-flop.
    pub flip_flops: u32,
    /// A move back to the MAC the address just left within this many
    /// seconds is a duplicate address.
    pub duplicate_window: f64,
    /// A single move after the previous MAC was silent this many seconds
    /// reads as a reassignment (nothing raised); sooner, as a takeover.
    pub quiet: f64,
    /// Distinct addresses one MAC took over from other MACs within
    /// `window` that make poisoning.
    pub claimed_addresses: u32,
    /// A MAC that is the L2 address of this many distinct IP addresses in
    /// the connection records forwards for others (a gateway).
    pub router_ips: u32,
    /// Scores: a gateway's address moved, one takeover, a duplicate.
    pub gateway_score: u8,
    pub takeover_score: u8,
    pub duplicate_score: u8,
    /// Distinct addresses in a sensor `sweep` record that make a sweep
    /// notice (the sensor writes one from 64).
    pub sweep_targets: u32,
    /// DHCP servers that may answer in any segment ("10.0.0.1").
    pub dhcp_servers: Vec<IpAddr>,
    /// Seconds from a segment's first DHCP answer in which its servers are
    /// learnt as usual.
    pub dhcp_learning: f64,
    /// Scores of an unknown server after learning, and of a second server
    /// while learning.
    pub rogue_dhcp_score: u8,
    pub second_dhcp_score: u8,
    /// Addresses, MACs and segments tracked at most.
    pub max_tracked: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            window: 600.0,
            flip_flops: 3,
            duplicate_window: 60.0,
            quiet: 300.0,
            claimed_addresses: 2,
            router_ips: 8,
            gateway_score: 80,
            takeover_score: 40,
            duplicate_score: 55,
            sweep_targets: 64,
            dhcp_servers: Vec::new(),
            dhcp_learning: 86_400.0,
            rogue_dhcp_score: 75,
            second_dhcp_score: 45,
            max_tracked: 100_000,
        }
    }
}

/// Moves of one address kept at most (enough to count any flip-flop
/// threshold worth setting).
const MAX_MOVES: usize = 64;
/// Addresses remembered per claiming MAC.
const MAX_CLAIMS: usize = 64;
/// Slots of the router guess: MACs seen in connection records, direct
/// mapped (a MAC whose slot another takes starts again; 96 KiB).
const ROUTER_SLOTS: usize = 4096;

/// A MAC and the addresses it was the L2 address of, as a 128-bit set of
/// address hashes: its population is a slight underestimate of the
/// distinct addresses, exact enough to tell a router (dozens) from a host
/// (one or two). Every connection record passes here, so it costs a few
/// dozen instructions and no hashing of strings or allocation.
#[derive(Clone, Copy, Default)]
struct RouterSlot {
    mac: [u8; 6],
    ips: u128,
}

/// One address's recent moves.
#[derive(Default)]
struct Moves {
    times: VecDeque<f64>,
    /// The MAC it left and went to in its last move, and when.
    from: String,
    to: String,
    at: f64,
}

/// Addresses one MAC took over.
struct Claims {
    first: f64,
    last: f64,
    addrs: Vec<Ipv4Addr>,
}

pub struct Spoofing {
    settings: Settings,
    moves: Table<(String, Ipv4Addr), Moves>,
    claims: Table<(String, String), Claims>,
    /// MAC -> addresses it was the L2 address of.
    routers: Box<[RouterSlot]>,
    /// (segment, MAC) -> time and targets of the last sweep notice.
    swept: Table<(String, String), (f64, u32)>,
    dhcp: dhcp::Servers,
}

impl Spoofing {
    pub fn new(settings: Settings) -> Spoofing {
        let cap = settings.max_tracked;
        Spoofing {
            moves: Table::new(cap),
            claims: Table::new(cap),
            routers: vec![RouterSlot::default(); ROUTER_SLOTS].into_boxed_slice(),
            swept: Table::new(cap),
            dhcp: dhcp::Servers::new(cap),
            settings,
        }
    }

    /// Counts a connection's L2 peers: a MAC behind many addresses routes.
    fn l2(&mut self, mac: Option<&str>, ip: IpAddr) {
        let Some(mac) = mac.and_then(parse_mac) else {
            return;
        };
        let Some(slot) = self.routers.get_mut(slot_of(&mac)) else {
            return;
        };
        if slot.mac != mac {
            *slot = RouterSlot { mac, ips: 0 };
        }
        slot.ips |= 1u128 << (ip_hash(ip) % 128);
    }

    /// How many addresses `mac` carried (at least), when it is a router.
    fn router(&self, mac: &str) -> Option<u32> {
        let m = parse_mac(mac)?;
        let slot = self.routers.get(slot_of(&m)).filter(|s| s.mac == m)?;
        let n = slot.ips.count_ones();
        (n >= self.settings.router_ips.clamp(1, 100)).then_some(n)
    }

    fn arp(&mut self, segment: &str, r: &ArpRecord, out: &mut Vec<Notice>) {
        match r.change.as_str() {
            "moved" => self.moved(segment, r, out),
            "sweep" => self.sweep_record(segment, r, out),
            _ => {}
        }
    }

    fn moved(&mut self, segment: &str, r: &ArpRecord, out: &mut Vec<Notice>) {
        let Some(from) = r.previous_mac.clone() else {
            return;
        };
        let s = self.settings.clone();
        let m = self
            .moves
            .entry(&(segment.to_string(), r.ip), r.ts, Moves::default);
        while m.times.front().is_some_and(|&t| r.ts - t > s.window) {
            m.times.pop_front();
        }
        if m.times.len() >= MAX_MOVES {
            m.times.pop_front();
        }
        m.times.push_back(r.ts);
        let moves = m.times.len() as u32;
        let first = m.times.front().copied().unwrap_or(r.ts);
        // Back to the MAC it left in its last move, soon after.
        let back = m.to == from && m.from == r.mac && r.ts - m.at <= s.duplicate_window;
        let since_last = r.ts - m.at;
        (m.from, m.to, m.at) = (from.clone(), r.mac.clone(), r.ts);
        self.claim(segment, r, &from, out);
        let gateway = match self.router(&from) {
            Some(n) => Some((from.clone(), n)),
            None => self.router(&r.mac).map(|n| (r.mac.clone(), n)),
        };
        let quiet_owner = r.previous_age.is_none_or(|a| a >= s.quiet);
        let (kind, score, why) = if let Some((router, n)) = &gateway {
            let why = format!(
                "; {} is a gateway's address ({router} carried traffic for {} addresses or more)",
                r.ip,
                thousands(u64::from(*n))
            );
            let extra = score(f64::from(moves), f64::from(s.flip_flops), 100)
                .saturating_sub(50)
                .min(20);
            ("gateway_moved", s.gateway_score.saturating_add(extra), why)
        } else if moves >= s.flip_flops.max(2) {
            let why = format!(
                "; flip-flopping is {} or more moves within {}",
                s.flip_flops,
                span(s.window)
            );
            let sc = score(f64::from(moves), f64::from(s.flip_flops), 95).saturating_add(20);
            ("flip_flop", sc.min(95), why)
        } else if back {
            let why = format!(
                "; it left {} for {from} {} before: two MACs claim it",
                r.mac,
                span(since_last)
            );
            ("duplicate_address", s.duplicate_score, why)
        } else if !quiet_owner {
            let why = format!(
                "; {from} still answered for it {} before (a lease handed on follows {} of silence)",
                span(r.previous_age.unwrap_or(0.0)),
                span(s.quiet)
            );
            ("takeover", s.takeover_score, why)
        } else {
            return;
        };
        out.push(Notice {
            ts: r.ts,
            segment: segment.to_string(),
            detector: "spoofing",
            kind,
            technique: "T1557.002".into(),
            score: score.min(100),
            src: IpAddr::V4(r.ip),
            dst: None,
            subject: Some(r.mac.clone()),
            message: format!(
                "{} moved from {from} to {} at {}, the {} move in {}; {} now answers for {} addresses{why}",
                r.ip,
                r.mac,
                clock(r.ts),
                ordinal(moves),
                span(s.window),
                r.mac,
                thousands(u64::from(r.mac_ips)),
            ),
            count: 1,
            first,
            last: r.ts,
            evidence: Default::default(),
        });
    }

    /// One MAC taking over addresses bound elsewhere.
    fn claim(&mut self, segment: &str, r: &ArpRecord, from: &str, out: &mut Vec<Notice>) {
        let s = &self.settings;
        let c = self
            .claims
            .entry(&(segment.to_string(), r.mac.clone()), r.ts, || Claims {
                first: r.ts,
                last: r.ts,
                addrs: Vec::new(),
            });
        if r.ts - c.first > s.window {
            *c = Claims {
                first: r.ts,
                last: r.ts,
                addrs: Vec::new(),
            };
        }
        c.last = c.last.max(r.ts);
        if c.addrs.contains(&r.ip) || c.addrs.len() >= MAX_CLAIMS {
            return;
        }
        c.addrs.push(r.ip);
        let n = c.addrs.len() as u32;
        if n < s.claimed_addresses.max(1) {
            return;
        }
        let list: Vec<String> = c.addrs.iter().take(8).map(|a| a.to_string()).collect();
        let more = if c.addrs.len() > 8 { ", ..." } else { "" };
        out.push(Notice {
            ts: r.ts,
            segment: segment.to_string(),
            detector: "spoofing",
            kind: "arp_poisoning",
            technique: "T1557.002".into(),
            score: score(f64::from(n), f64::from(s.claimed_addresses.max(1)), 75)
                .saturating_add(20),
            src: IpAddr::V4(c.addrs[0]),
            dst: None,
            subject: Some(r.mac.clone()),
            message: format!(
                "{} took over {} addresses bound to other MACs within {} ({}{more}; the latest, {}, from {from} at {}); it now answers for {} addresses; poisoning is {} or more within {}",
                r.mac,
                thousands(u64::from(n)),
                span(c.last - c.first),
                list.join(", "),
                r.ip,
                clock(r.ts),
                thousands(u64::from(r.mac_ips)),
                s.claimed_addresses,
                span(s.window),
            ),
            // The first notice counts every claimed address; later ones
            // one each, as the policy adds them up.
            count: if n == s.claimed_addresses.max(1) {
                u64::from(n)
            } else {
                1
            },
            first: c.first,
            last: c.last,
            evidence: Default::default(),
        });
    }

    fn sweep_record(&mut self, segment: &str, r: &ArpRecord, out: &mut Vec<Notice>) {
        let targets = r.targets.unwrap_or(0);
        let threshold = self.settings.sweep_targets.max(1);
        if targets < threshold {
            return;
        }
        let (at, reported) = self
            .swept
            .entry(&(segment.to_string(), r.mac.clone()), r.ts, || (r.ts, 0));
        // A new window of the sensor's starts its count again.
        let new = if targets > *reported {
            targets - *reported
        } else {
            targets
        };
        (*at, *reported) = (r.ts, targets);
        let duration = r.duration.unwrap_or(0.0);
        out.push(Notice {
            ts: r.ts,
            segment: segment.to_string(),
            detector: "spoofing",
            kind: "arp_sweep",
            technique: "T1018".into(),
            score: score(f64::from(targets), f64::from(threshold), 75),
            src: IpAddr::V4(r.ip),
            dst: None,
            subject: Some(r.mac.clone()),
            message: format!(
                "{} ({}) asked ARP for {} distinct addresses within {:.1} s; a sweep is {} or more",
                r.ip,
                r.mac,
                thousands(u64::from(targets)),
                duration,
                threshold
            ),
            count: u64::from(new),
            first: r.ts - duration,
            last: r.ts,
            evidence: Default::default(),
        });
    }
}

impl Detector for Spoofing {
    fn observe(&mut self, event: &Event, out: &mut Vec<Notice>) {
        let segment = &event.origin.segment;
        match &event.body {
            EventBody::Conn(c) => {
                self.l2(c.orig_l2_addr.as_deref(), c.orig_h);
                self.l2(c.resp_l2_addr.as_deref(), c.resp_h);
            }
            EventBody::Arp(r) => self.arp(segment, r, out),
            EventBody::Dhcp(r) => self.dhcp.observe(&self.settings, segment, r, out),
            _ => {}
        }
    }

    fn save(&self) -> Option<(&'static str, serde_json::Value)> {
        Some(("spoofing", self.dhcp.save()?))
    }

    fn restore(&mut self, name: &str, value: &serde_json::Value) -> bool {
        name != "spoofing" || self.dhcp.restore(value, self.settings.max_tracked.max(1))
    }

    fn tracked(&self) -> super::Tracked {
        let cap = self.settings.max_tracked.max(1) as u64;
        super::Tracked {
            entries: (self.moves.len() + self.claims.len() + self.swept.len() + self.dhcp.len())
                as u64,
            cap: 4 * cap,
            evicted: self.moves.evicted
                + self.claims.evicted
                + self.swept.evicted
                + self.dhcp.evicted(),
        }
    }

    fn sweep(&mut self, now: f64, _out: &mut Vec<Notice>) {
        let window = self.settings.window;
        self.moves
            .retain(|_, m| m.times.back().is_some_and(|&t| now - t <= window));
        self.claims.retain(|_, c| now - c.last <= window);
        self.swept.retain(|_, (at, _)| now - *at <= window);
        self.dhcp.sweep(now, &self.settings);
    }
}

/// "00:1b:21:00:00:01" as bytes (read byte by byte: every connection
/// record brings two).
fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let b = s.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let hex = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 6];
    for (i, o) in out.iter_mut().enumerate() {
        let at = i * 3;
        if i > 0 && b[at - 1] != b':' {
            return None;
        }
        *o = hex(b[at])? << 4 | hex(b[at + 1])?;
    }
    Some(out)
}

fn slot_of(mac: &[u8; 6]) -> usize {
    let mut w = [0u8; 8];
    w[..6].copy_from_slice(mac);
    let x = u64::from_le_bytes(w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (x >> 52) as usize % ROUTER_SLOTS
}

fn ip_hash(ip: IpAddr) -> u32 {
    let x = match ip {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => {
            let v = u128::from(a);
            (v as u64) ^ ((v >> 64) as u64)
        }
    };
    (x.wrapping_mul(0xff51_afd7_ed55_8ccd) >> 32) as u32
}

/// Time of day (UTC) of a packet time: "14:03:07".
pub fn clock(ts: f64) -> String {
    let s = ts.max(0.0) as u64 % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// "1st", "2nd", "3rd", "4th", "11th", "22nd".
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests;
