//! New and rare things in a segment, judged after the segment has been
//! learned (`learning` seconds of packet time from its first event; 7
//! days): before that everything is learned and nothing is new.
//!
//! - `new_device` (T1200): an asset event whose change says "new".
//!   Segments of a kind in `device_quiet_kinds` (guest networks, where
//!   new phones arrive every hour) are not judged, nor is a device like
//!   its segment's fleet: when `fleet_min` devices of the segment already
//!   share its profile (the vendor of its MAC and its OS hints), it is
//!   one more of the PCs IT rolls out, which the asset inventory shows;
//!   a device unlike any the segment has (a Raspberry Pi among Dell
//!   desktops, a laptop of a vendor the segment never had) is news.
//! - `new_service` (T1571): a service an internal host offers (the asset
//!   inventory's `services_offered`, answered connections only) that no
//!   host of the segment offered before; by name when the sensor named the
//!   protocol, else by transport and port, ignoring unnamed ports from
//!   `ephemeral_from` up (the other end of callbacks, not services).
//! - `ot_new_peer` and `ot_internet` (ATT&CK for ICS: T0883 Internet
//!   Accessible Device when the outside began it, T0885 Commonly Used Port
//!   when the OT host did): OT segments (kind in `ot_kinds`) should not
//!   talk to the internet. Any connection with an external peer the
//!   segment never had, after learning, is `ot_new_peer`; every
//!   established connection with an external peer is `ot_internet`, even
//!   while learning, scored lower when the peer was already seen in the
//!   learning period (a known vendor link) than when it was not.
//! - `rare_fingerprint` (T1071): a TLS client fingerprint (JA4, else JA3) or
//!   HTTP user agent, used by a host of a learned segment, that no host of
//!   the network had used before and no second host used within
//!   `rare_wait` seconds. Rarity is judged across all segments: the one
//!   Windows server of an OT segment speaks the TLS of every Windows
//!   desktop, which is not rare. Rare is not bad (one odd updater), so it
//!   scores as information only.
//!
//! All state is in bounded tables (least recently touched forgotten
//! first; a forgotten service, peer or fingerprint seen again is new);
//! what the segments learned is saved with the baselines.

mod rare;

use super::table::Table;
use super::{thousands, Detector};
use crate::{Evidence, Notice, Rules};
use rare::{Fingerprint, FpKey, Pending};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use vagt_schema::{AssetRecord, ConnRecord, Event, EventBody};

/// `[new_rare]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Seconds of a segment's traffic learned before anything is new.
    pub learning: f64,
    pub new_device_score: u8,
    /// Segment kinds where new devices are normal.
    pub device_quiet_kinds: Vec<String>,
    /// Devices of a segment that share a new device's profile (vendor and
    /// OS hints) for it to count as one of the fleet and raise nothing;
    /// 0 judges every new device.
    pub fleet_min: u32,
    pub new_service_score: u8,
    /// Unnamed ports from which a "service" is not judged.
    pub ephemeral_from: u16,
    /// Segment kinds that are OT.
    pub ot_kinds: Vec<String>,
    /// An external peer an OT segment never had, after learning.
    pub ot_new_peer_score: u8,
    /// An established OT-internet connection whose peer was not seen in
    /// the learning period, and one whose peer was.
    pub ot_internet_score: u8,
    pub ot_internet_known_score: u8,
    pub rare_score: u8,
    /// Seconds a new fingerprint waits for a second host before it is
    /// judged rare.
    pub rare_wait: f64,
    /// Entries per table (services, peers, fingerprints) at most.
    pub max_tracked: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            learning: 7.0 * 86_400.0,
            new_device_score: 35,
            device_quiet_kinds: vec!["guest".into()],
            fleet_min: 10,
            new_service_score: 40,
            ephemeral_from: 32_768,
            ot_kinds: vec!["ot".into()],
            ot_new_peer_score: 75,
            ot_internet_score: 60,
            ot_internet_known_score: 40,
            rare_score: 20,
            rare_wait: 3600.0,
            max_tracked: 200_000,
        }
    }
}

/// Segments whose learning is tracked, at most.
const MAX_SEGMENTS: usize = 10_000;

/// An external peer of an OT segment.
#[derive(Serialize, Deserialize)]
struct Peer {
    /// Seen while the segment was learning.
    in_learning: bool,
}

pub struct NewRare {
    settings: Settings,
    kinds: BTreeMap<String, String>,
    /// Segment -> packet time of its first event.
    /// Looked up on every event, so by name without allocating; segments
    /// are the configuration's, a few, and at most `MAX_SEGMENTS` are
    /// kept (one beyond stays learning: nothing in it is ever new).
    segments: HashMap<String, f64>,
    /// (segment, service) offered.
    services: Table<(String, String), ()>,
    /// (segment, external peer) of OT segments.
    peers: Table<(String, IpAddr), Peer>,
    /// ("ja3"/"ja4"/"user agent", value), in all segments.
    fingerprints: Table<FpKey, Fingerprint>,
    /// (segment, device profile) -> devices of the segment with it.
    fleet: Table<(String, String), u32>,
    pending: VecDeque<Pending>,
    /// Addresses the sensor marked external, so that a server's
    /// internet clients do not count as the segment's fingerprints.
    external: Table<IpAddr, ()>,
}

/// A stretch of packet time in days, for messages.
/// The connections an asset event cites: what showed the device or service.
fn cited(a: &AssetRecord) -> Evidence {
    let mut e = Evidence::default();
    for uid in &a.uids {
        e.add(uid, None);
    }
    e
}

fn days(secs: f64) -> String {
    format!("{:.1} days", secs / 86_400.0)
}

fn established(c: &ConnRecord) -> bool {
    c.conn_state.established() || c.resp_bytes.unwrap_or(0) > 0
}

impl NewRare {
    pub fn new(settings: Settings) -> NewRare {
        let cap = settings.max_tracked;
        NewRare {
            segments: HashMap::new(),
            services: Table::new(cap),
            peers: Table::new(cap),
            fingerprints: Table::new(cap),
            fleet: Table::new(cap),
            external: Table::new(cap),
            pending: VecDeque::new(),
            kinds: BTreeMap::new(),
            settings,
        }
    }

    /// Seconds segment `seg` has been learned at `ts`.
    fn learned(&mut self, seg: &str, ts: f64) -> f64 {
        if let Some(first) = self.segments.get_mut(seg) {
            *first = first.min(ts);
            return ts - *first;
        }
        if self.segments.len() < MAX_SEGMENTS {
            self.segments.insert(seg.to_string(), ts);
        }
        0.0
    }

    fn kind_in(&self, seg: &str, kinds: &[String]) -> bool {
        self.kinds.get(seg).is_some_and(|k| kinds.contains(k))
    }

    #[allow(clippy::too_many_arguments)]
    fn notice(
        &self,
        ts: f64,
        seg: &str,
        kind: &'static str,
        technique: &'static str,
        score: u8,
        src: IpAddr,
        dst: Option<IpAddr>,
        subject: String,
        message: String,
        evidence: Evidence,
    ) -> Notice {
        Notice {
            ts,
            segment: seg.to_string(),
            detector: "new_rare",
            kind,
            technique: technique.into(),
            score,
            src,
            dst,
            subject: Some(subject),
            message,
            count: 1,
            first: ts,
            last: ts,
            evidence,
        }
    }

    fn asset(&mut self, seg: &str, a: &AssetRecord, out: &mut Vec<Notice>) {
        let ts = a.last_seen;
        let learned = self.learned(seg, ts);
        let after = learned >= self.settings.learning;
        // The address the device used last; a device known only by its
        // MAC has none.
        let ip = a
            .ips
            .iter()
            .max_by(|x, y| x.last_seen.total_cmp(&y.last_seen))
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |i| i.ip);
        let new = a.change.iter().any(|c| c == "new");
        let like_fleet = new && self.like_fleet(seg, a, ts);
        let s = &self.settings;
        let (learning, device_score, service_score, ephemeral_from) = (
            s.learning,
            s.new_device_score,
            s.new_service_score,
            s.ephemeral_from,
        );
        if after && new && !like_fleet && !self.kind_in(seg, &s.device_quiet_kinds) {
            let what: Vec<&str> = [a.vendor.as_deref(), a.role.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            out.push(self.notice(
                ts,
                seg,
                "new_device",
                "T1200",
                device_score,
                ip,
                None,
                a.key.clone(),
                format!(
                    "a new device ({}{}) appeared in segment {seg} with address {ip}; the segment had been learned for {} ({} required) without it",
                    a.key,
                    if what.is_empty() { String::new() } else { format!(", {}", what.join(", ")) },
                    days(learned),
                    days(learning),
                ),
                cited(a),
            ));
        }
        for label in &a.services_offered {
            let Some(service) = service_key(label, ephemeral_from) else {
                continue;
            };
            let key = (seg.to_string(), service);
            if self.services.get(&key).is_some() {
                self.services.entry(&key, ts, || ());
                continue;
            }
            let known = self.services.len();
            self.services.entry(&key, ts, || ());
            if !after {
                continue;
            }
            out.push(self.notice(
                ts,
                seg,
                "new_service",
                "T1571",
                service_score,
                ip,
                None,
                key.1.clone(),
                format!(
                    "{ip} ({}) offers {label}, a service no host of segment {seg} offered in the {} since its first event ({} services known in all segments)",
                    a.key,
                    days(learned),
                    thousands(known as u64),
                ),
                cited(a),
            ));
        }
    }

    /// Counts a new device under its profile; whether `fleet_min` devices
    /// of the segment had it already. A device without a vendor (known by
    /// its address only) has no profile and is never one of a fleet.
    fn like_fleet(&mut self, seg: &str, a: &AssetRecord, ts: f64) -> bool {
        let Some(vendor) = a.vendor.as_deref() else {
            return false;
        };
        let mut hints: Vec<&str> = a.os_hints.iter().map(String::as_str).collect();
        hints.sort_unstable();
        let key = (seg.to_string(), format!("{vendor}|{}", hints.join(",")));
        let n = self.fleet.entry(&key, ts, || 0);
        let before = *n;
        *n = n.saturating_add(1);
        self.settings.fleet_min > 0 && before >= self.settings.fleet_min
    }

    fn conn(&mut self, seg: &str, c: &ConnRecord, out: &mut Vec<Notice>) {
        for (addr, local) in [(c.orig_h, c.local_orig), (c.resp_h, c.local_resp)] {
            if local == Some(false) {
                self.external.entry(&addr, c.ts, || ());
            }
        }
        let learned = self.learned(seg, c.ts);
        if c.interim || !self.kind_in(seg, &self.settings.ot_kinds) {
            return;
        }
        let (inside, peer, inbound) = match (c.local_orig, c.local_resp) {
            (Some(true), Some(false)) => (c.orig_h, c.resp_h, false),
            (Some(false), Some(true)) => (c.resp_h, c.orig_h, true),
            _ => return,
        };
        let s = &self.settings;
        let (learn, new_peer_score, internet_score, known_score) = (
            s.learning,
            s.ot_new_peer_score,
            s.ot_internet_score,
            s.ot_internet_known_score,
        );
        let learning = learned < learn;
        let key = (seg.to_string(), peer);
        let prior = self.peers.get(&key).map(|p| p.in_learning);
        self.peers.entry(&key, c.ts, || Peer {
            in_learning: learning,
        });
        let technique = if inbound { "T0883" } else { "T0885" };
        let direction = if inbound {
            format!("{peer} (external) connected to {inside}")
        } else {
            format!("{inside} connected to {peer} (external)")
        };
        let subject = format!("{}/{}", c.resp_p, c.proto.as_str());
        let mut evidence = Evidence::default();
        evidence.add(&c.uid, Some(&c.community_id));
        let est = established(c);
        if prior.is_none() && !learning {
            out.push(self.notice(
                c.ts,
                seg,
                "ot_new_peer",
                technique,
                new_peer_score,
                inside,
                Some(peer),
                subject,
                format!(
                    "{direction} on port {} ({}, {}); OT segment {seg} had no connection with {peer} in the {} since its first event (the first {} of them learning)",
                    c.resp_p,
                    c.proto.as_str(),
                    if est { "established" } else { "not established" },
                    days(learned),
                    days(learn),
                ),
                evidence,
            ));
            return;
        }
        if !est {
            return;
        }
        let (score, seen) = match prior {
            Some(true) => (known_score, "seen before in the learning period"),
            Some(false) => (internet_score, "first seen after the learning period"),
            None => (internet_score, "not seen before (still learning)"),
        };
        out.push(self.notice(
            c.ts,
            seg,
            "ot_internet",
            technique,
            score,
            inside,
            Some(peer),
            subject,
            format!(
                "{direction} on port {} ({}), an established connection between OT segment {seg} and the internet; the peer was {seen} ({} of {} learned)",
                c.resp_p,
                c.proto.as_str(),
                days(learned.min(learn)),
                days(learn),
            ),
            evidence,
        ));
    }
}

/// The key of an offered service ("smb/445" -> "smb", "tcp/8443" as is);
/// None for an unnamed ephemeral port.
fn service_key(label: &str, ephemeral_from: u16) -> Option<String> {
    let (name, port) = label.rsplit_once('/')?;
    let name = name.to_ascii_lowercase();
    if matches!(name.as_str(), "tcp" | "udp" | "icmp" | "unknown_transport") {
        let port: u16 = port.parse().ok()?;
        return (port < ephemeral_from).then(|| format!("{name}/{port}"));
    }
    Some(name)
}

impl Detector for NewRare {
    fn tracked(&self) -> super::Tracked {
        self.services.tracked()
            + self.peers.tracked()
            + self.fingerprints.tracked()
            + self.fleet.tracked()
            + self.external.tracked()
    }

    fn observe(&mut self, event: &Event, out: &mut Vec<Notice>) {
        let seg = event.origin.segment.as_str();
        match &event.body {
            EventBody::Conn(c) => self.conn(seg, c, out),
            EventBody::Asset(a) => self.asset(seg, a, out),
            EventBody::Ssl(r) => {
                // JA4 when there is one: Chrome and its kin shuffle their
                // TLS extensions on every connection (since 2023), which
                // gives each hello a JA3 of its own, never seen before;
                // JA4 sorts them. One fingerprint per hello, not two.
                let fp = match (&r.ja4, &r.ja3) {
                    (Some(v), _) => Some(("ja4", v)),
                    (None, Some(v)) => Some(("ja3", v)),
                    _ => None,
                };
                if let Some((what, v)) = fp {
                    let id = &r.id;
                    self.fingerprint(seg, r.ts, &r.uid, what, v, id.orig_h, id.resp_h, id.resp_p);
                }
            }
            EventBody::Http(r) => {
                if let Some(ua) = r.user_agent.as_deref().filter(|u| !u.is_empty()) {
                    let id = &r.id;
                    self.fingerprint(
                        seg,
                        r.ts,
                        &r.uid,
                        "user agent",
                        ua,
                        id.orig_h,
                        id.resp_h,
                        id.resp_p,
                    );
                }
            }
            body => {
                if let Some(ts) = crate::event_time(body) {
                    self.learned(seg, ts);
                }
            }
        }
    }

    fn sweep(&mut self, now: f64, out: &mut Vec<Notice>) {
        self.judge(now, out);
    }

    fn rules_changed(&mut self, rules: &Rules) {
        self.kinds.clone_from(&rules.segment_kinds);
    }

    /// What the segments learned survives a restart (fingerprints
    /// waiting for their judgement, and the addresses known external, are
    /// relearned).
    fn save(&self) -> Option<(&'static str, serde_json::Value)> {
        let v = serde_json::to_value((
            &self.segments,
            &self.services,
            &self.peers,
            &self.fingerprints,
            &self.fleet,
        ))
        .ok()?;
        Some(("new_rare", v))
    }

    fn restore(&mut self, name: &str, value: &serde_json::Value) -> bool {
        if name != "new_rare" {
            return true;
        }
        type Saved = (
            HashMap<String, f64>,
            Table<(String, String), ()>,
            Table<(String, IpAddr), Peer>,
            Table<FpKey, Fingerprint>,
            Table<(String, String), u32>,
        );
        // A state saved before fingerprints were judged across segments
        // and fleets counted: what the segments learned is kept, the
        // fingerprints and fleets are learned again.
        type SavedBefore = (
            HashMap<String, f64>,
            Table<(String, String), ()>,
            Table<(String, IpAddr), Peer>,
            serde_json::Value,
        );
        let cap = self.settings.max_tracked;
        if let Ok((segments, services, peers, fingerprints, fleet)) = Saved::deserialize(value) {
            self.segments = segments;
            self.services = services.with_cap(cap);
            self.peers = peers.with_cap(cap);
            self.fingerprints = fingerprints.with_cap(cap);
            self.fleet = fleet.with_cap(cap);
            return true;
        }
        match SavedBefore::deserialize(value) {
            Ok((segments, services, peers, _)) => {
                self.segments = segments;
                self.services = services.with_cap(cap);
                self.peers = peers.with_cap(cap);
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests;
