//! Baselines: what each segment and each internal host normally does.
//!
//! Per segment, connection records (and their interim copies), DNS answers
//! and first-seen external peers are counted into intervals (a minute by
//! default); an interval is written out (`segment_metrics`) once packet
//! time has passed its end by `lag`, so that connections that end a while
//! after their bytes flowed are still counted where they flowed. Whole
//! local hours are then summed and held against, then taught to, a
//! seasonal model (hour of the week). Per internal host, bytes sent out in
//! the last hour and the host's usual busiest hour ([`hosts`]).
//!
//! Baselines measure; the volume detector judges what they report. Time is
//! packet time, so a replay of a week teaches a week. The whole state
//! serialises, for [`crate::state`] to save and restore.

pub mod clock;
pub mod hosts;
pub mod metrics;
pub mod seasonal;

use crate::detectors::table::Table;
use hosts::Host;
use metrics::{Direction, Interval, METRICS};
use seasonal::Seasonal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use vagt_schema::{ConnRecord, ConnState, Event, EventBody, SegmentMetricsRecord};

/// `[baseline]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Seconds per interval.
    pub interval: f64,
    /// Seconds packet time must pass an interval's end before it is
    /// written: connections that end within it are counted where their
    /// bytes flowed.
    pub lag: f64,
    /// Seconds a new segment or host learns before its baseline is
    /// trusted (its alerts say so).
    pub learning: f64,
    /// A silence of the whole sensor longer than this is an outage (or a
    /// gap between captures), not a quiet night: the hours in it are not
    /// learnt.
    pub max_gap: f64,
    /// Internal hosts and external peers remembered at most.
    pub max_hosts: usize,
    pub max_peers: usize,
    /// Bytes a host must send out within an hour before the volume
    /// detector is asked to look at it.
    pub report_bytes: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            interval: 60.0,
            lag: 300.0,
            learning: 7.0 * clock::DAY,
            max_gap: 6.0 * clock::HOUR,
            max_hosts: 200_000,
            max_peers: 1_000_000,
            report_bytes: 100_000_000,
        }
    }
}

/// What the baselines report for the detectors to judge.
#[derive(Clone, Debug, PartialEq)]
pub enum Report {
    /// A segment's local hour, complete, before it was learnt.
    Hour {
        segment: String,
        start: f64,
        hour_of_week: u8,
        values: [f64; METRICS.len()],
        /// What each metric normally holds at this hour, as learnt before
        /// it (the hour is learnt after it is reported).
        expected: Vec<Option<seasonal::Expected>>,
        /// Seconds the segment had been learning at the hour's end.
        age: f64,
    },
    /// A host's last hour of outbound bytes passed the report size.
    Host { ip: IpAddr, ts: f64, bytes: u64 },
}

/// One segment's state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Segment {
    /// Packet time it was first seen.
    pub first: f64,
    /// Start of the oldest interval still open.
    closed_until: f64,
    open: VecDeque<Interval>,
    /// The local hour being summed from written intervals.
    hour: Interval,
    pub seasonal: Vec<Seasonal>,
    /// Hours learnt.
    pub hours: u64,
}

/// An external peer of a segment: when first answered, and which of the
/// segment's hosts used it, as 64 bits set by a hash of each host (a
/// linear-counting sketch: exact for a few hosts, about right to ~100).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Peer {
    pub first: f64,
    hosts: u64,
}

impl Peer {
    /// Distinct internal hosts that used the peer, estimated.
    pub fn hosts(&self) -> f64 {
        let zeros = f64::from(64 - self.hosts.count_ones());
        if zeros == 0.0 {
            return 64.0 * 64f64.ln();
        }
        (64.0 * (64.0 / zeros).ln()).round()
    }
}

/// An open connection's bytes counted so far (from interim records).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
struct Counted {
    orig: (u64, u64),
    resp: (u64, u64),
    /// Packet time up to which they were counted.
    until: f64,
}

/// The baselines of one sensor.
#[derive(Serialize, Deserialize)]
pub struct Baselines {
    #[serde(skip)]
    settings: Settings,
    pub segments: BTreeMap<String, Segment>,
    pub hosts: Table<IpAddr, Host>,
    /// External peers seen, per segment (by its number in `ids`).
    peers: Table<(u32, IpAddr), Peer>,
    /// A number per segment name, so per-connection lookups need no
    /// allocation.
    ids: BTreeMap<String, u32>,
    /// Scratch for "proto/port" service names.
    #[serde(skip)]
    scratch: String,
    counted: Table<String, Counted>,
    /// Packet time reached.
    pub now: f64,
}

impl Baselines {
    pub fn new(settings: Settings) -> Baselines {
        Baselines {
            hosts: Table::new(settings.max_hosts),
            peers: Table::new(settings.max_peers),
            counted: Table::new(settings.max_hosts),
            settings,
            segments: BTreeMap::new(),
            ids: BTreeMap::new(),
            scratch: String::new(),
            now: f64::NEG_INFINITY,
        }
    }

    /// Restored state under (possibly new) settings; `None` when the state
    /// is not one this version wrote.
    pub fn restored(mut self, settings: Settings) -> Option<Baselines> {
        let sound = self.segments.values().all(|s| {
            s.seasonal.len() == METRICS.len()
                && s.seasonal.iter().all(Seasonal::is_well_formed)
                && s.hour.hosts.is_well_formed()
                && s.open
                    .iter()
                    .all(|i| i.hosts.is_well_formed() && i.peers.is_well_formed())
        });
        if !sound {
            return None;
        }
        self.hosts = self.hosts.with_cap(settings.max_hosts);
        self.peers = self.peers.with_cap(settings.max_peers);
        self.counted = self.counted.with_cap(settings.max_hosts);
        self.settings = settings;
        Some(self)
    }

    /// Segments with a baseline, and those still in their learning
    /// period at `now`.
    pub fn learning_state(&self, now: f64) -> vagt_schema::LearningState {
        vagt_schema::LearningState {
            total: self.segments.len() as u64,
            learning: self
                .segments
                .values()
                .filter(|s| now - s.first < self.settings.learning)
                .count() as u64,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The bounded tables' entries, caps and evictions, for health.
    pub fn tracked(&self) -> crate::detectors::Tracked {
        self.hosts.tracked() + self.peers.tracked() + self.counted.tracked()
    }

    /// Reads one event.
    pub fn observe(&mut self, event: &Event, reports: &mut Vec<Report>) {
        match &event.body {
            EventBody::Conn(c) => self.conn(&event.origin.segment, c, reports),
            EventBody::Dns(d) => {
                let iv = self.interval(&event.origin.segment, d.ts);
                iv.dns += 1;
                if d.rcode_name.as_deref() == Some("NXDOMAIN") {
                    iv.nxdomain += 1;
                }
            }
            _ => {}
        }
    }

    fn segment(&mut self, name: &str, t: f64) -> &mut Segment {
        let interval = self.settings.interval;
        self.segments.entry(name.to_string()).or_insert_with(|| {
            let start = (t / interval).floor() * interval;
            Segment {
                first: t,
                closed_until: start,
                open: VecDeque::new(),
                hour: Interval::new(clock::hour_start(start)),
                seasonal: vec![Seasonal::default(); METRICS.len()],
                hours: 0,
            }
        })
    }

    /// The open interval of segment `name` holding time `t` (the oldest
    /// open one for times already written).
    fn interval(&mut self, name: &str, t: f64) -> &mut Interval {
        let interval = self.settings.interval;
        let most = (self.settings.lag / interval).ceil() as usize + 2;
        let seg = self.segment(name, t);
        let k = ((t - seg.closed_until) / interval)
            .floor()
            .clamp(0.0, most as f64) as usize;
        while seg.open.len() <= k {
            let start = seg.closed_until + interval * seg.open.len() as f64;
            seg.open.push_back(Interval::new(start));
        }
        &mut seg.open[k]
    }

    fn conn(&mut self, segment: &str, c: &ConnRecord, reports: &mut Vec<Report>) {
        let end = c.ts + c.duration.unwrap_or(0.0);
        // Interim copies are cumulative: count what is new since the last.
        let total = Counted {
            orig: (c.orig_ip_bytes, c.orig_pkts),
            resp: (c.resp_ip_bytes, c.resp_pkts),
            until: end,
        };
        let before = if c.interim {
            let prev = self.counted.entry(&c.uid, end, Counted::default).clone();
            *self.counted.entry(&c.uid, end, Counted::default) = total.clone();
            prev
        } else {
            self.counted.remove(&c.uid).unwrap_or_default()
        };
        let orig = (
            total.orig.0.saturating_sub(before.orig.0),
            total.orig.1.saturating_sub(before.orig.1),
        );
        let resp = (
            total.resp.0.saturating_sub(before.resp.0),
            total.resp.1.saturating_sub(before.resp.1),
        );
        let from = if before.until > 0.0 {
            before.until
        } else {
            c.ts
        };
        let dir = match (c.local_orig, c.local_resp) {
            (Some(true), Some(false)) => Direction::Out,
            (Some(false), Some(true)) => Direction::In,
            _ => Direction::Internal,
        };
        self.spread(segment, from, end, dir, orig, resp);
        let iv = self.interval(segment, end);
        if !c.interim {
            iv.conns += 1;
            if failed(c.conn_state) {
                iv.failed += 1;
            }
            match &c.service {
                Some(s) => iv.add_service(s),
                None => {
                    use std::fmt::Write;
                    self.scratch.clear();
                    let _ = write!(self.scratch, "{}/{}", c.proto.as_str(), c.resp_p);
                    let name = std::mem::take(&mut self.scratch);
                    self.interval(segment, end).add_service(&name);
                    self.scratch = name;
                }
            }
        }
        let iv = self.interval(segment, end);
        let (inside, outside) = match dir {
            Direction::Out => (c.orig_h, Some(c.resp_h)),
            Direction::In => (c.resp_h, Some(c.orig_h)),
            Direction::Internal => (c.orig_h, None),
        };
        iv.hosts.add(&inside);
        let Some(peer) = outside else { return };
        iv.peers.add(&peer);
        if !failed(c.conn_state) {
            let id = match self.ids.get(segment) {
                Some(&id) => id,
                None => {
                    let id = self.ids.len() as u32;
                    self.ids.insert(segment.to_string(), id);
                    id
                }
            };
            if self.peers.get(&(id, peer)).is_none() {
                self.interval(segment, end).new_peers += 1;
            }
            let p = self.peers.entry(&(id, peer), end, || Peer {
                first: end,
                hosts: 0,
            });
            p.hosts |= 1 << (metrics::hash_ip(&inside) % 64);
        }
        // Only what the host itself sent out counts towards its volume.
        let sent = if dir == Direction::Out {
            orig.0
        } else {
            resp.0
        };
        if sent == 0 {
            return;
        }
        let report = self.settings.report_bytes;
        let host = self.hosts.entry(&inside, end, || Host::new(segment, c.ts));
        let cid = (!c.community_id.is_empty()).then_some(c.community_id.as_str());
        if let Some(bytes) = host.add(end, from, sent, peer, &c.uid, cid, report) {
            reports.push(Report::Host {
                ip: inside,
                ts: end,
                bytes,
            });
        }
    }

    /// Spreads a connection's new bytes evenly over `from..to`; what falls
    /// before the oldest open interval goes into it and is counted late.
    fn spread(
        &mut self,
        segment: &str,
        from: f64,
        to: f64,
        dir: Direction,
        orig: (u64, u64),
        resp: (u64, u64),
    ) {
        let interval = self.settings.interval;
        let span = to - from;
        if span <= interval || !span.is_finite() {
            let late = self.segment(segment, to).closed_until > to;
            let iv = self.interval(segment, to);
            iv.add_bytes(dir, orig, resp);
            if late {
                iv.late_bytes += orig.0 + resp.0;
            }
            return;
        }
        let closed = self.segment(segment, to).closed_until;
        let share = |n: u64, f: f64| (n as f64 * f).round() as u64;
        let mut given = ((0u64, 0u64), (0u64, 0u64));
        let mut t = from.max(closed);
        // Already written: into the oldest open interval, counted late.
        if from < closed {
            let f = ((closed - from) / span).min(1.0);
            let o = (share(orig.0, f), share(orig.1, f));
            let r = (share(resp.0, f), share(resp.1, f));
            let iv = self.interval(segment, closed);
            iv.add_bytes(dir, o, r);
            iv.late_bytes += o.0 + r.0;
            given = ((o.0, o.1), (r.0, r.1));
        }
        while t < to {
            let next = ((t / interval).floor() + 1.0) * interval;
            let piece_end = next.min(to);
            let last = piece_end >= to;
            let f = (piece_end - t) / span;
            let (o, r) = if last {
                (
                    (
                        orig.0 - given.0 .0.min(orig.0),
                        orig.1 - given.0 .1.min(orig.1),
                    ),
                    (
                        resp.0 - given.1 .0.min(resp.0),
                        resp.1 - given.1 .1.min(resp.1),
                    ),
                )
            } else {
                (
                    (share(orig.0, f), share(orig.1, f)),
                    (share(resp.0, f), share(resp.1, f)),
                )
            };
            self.interval(segment, t).add_bytes(dir, o, r);
            given.0 .0 += o.0;
            given.0 .1 += o.1;
            given.1 .0 += r.0;
            given.1 .1 += r.1;
            t = piece_end;
        }
    }

    /// Packet time reached `now`: intervals past their lag are written to
    /// `metrics`, and hours they complete are reported (then learnt).
    pub fn advance(
        &mut self,
        now: f64,
        metrics: &mut Vec<(String, SegmentMetricsRecord)>,
        reports: &mut Vec<Report>,
    ) {
        if !now.is_finite() {
            return;
        }
        let outage = self.now.is_finite() && now - self.now > self.settings.max_gap;
        self.now = self.now.max(now);
        let interval = self.settings.interval;
        let lag = self.settings.lag;
        let learning = self.settings.learning;
        for (name, seg) in &mut self.segments {
            if outage {
                // Not learnt: the sensor saw nothing at all.
                close_hour(name, seg, learning, false, reports);
                let resume = ((now - lag) / interval).floor() * interval;
                seg.closed_until = seg.closed_until.max(resume);
                seg.hour = Interval::new(clock::hour_start(seg.closed_until));
                for (i, iv) in seg.open.iter_mut().enumerate() {
                    iv.start = seg.closed_until + interval * i as f64;
                }
            }
            while seg.closed_until + interval + lag <= now {
                close_interval(name, seg, interval, learning, metrics, reports);
            }
        }
    }

    /// End of input: every open interval up to the last event is written;
    /// the hour they belong to stays open (a later replay continuing from
    /// the saved state completes it).
    pub fn flush(
        &mut self,
        metrics: &mut Vec<(String, SegmentMetricsRecord)>,
        reports: &mut Vec<Report>,
    ) {
        let interval = self.settings.interval;
        let learning = self.settings.learning;
        let now = self.now;
        for (name, seg) in &mut self.segments {
            while seg.closed_until <= now {
                close_interval(name, seg, interval, learning, metrics, reports);
            }
        }
    }

    /// How many internal hosts, over all segments, used external address
    /// `ip` (estimated), and since when.
    pub fn peer(&self, ip: IpAddr) -> Option<(f64, f64)> {
        self.ids
            .values()
            .filter_map(|&id| self.peers.get(&(id, ip)))
            .map(|p| (p.hosts(), p.first))
            .reduce(|a, b| (a.0 + b.0, a.1.min(b.1)))
    }

    /// What segment `name` normally holds in metric `metric` at the hour
    /// of the week of `t`.
    pub fn expected(&self, name: &str, metric: usize, t: f64) -> Option<seasonal::Expected> {
        self.segments
            .get(name)?
            .seasonal
            .get(metric)?
            .expected(clock::hour_of_week(t))
    }
}

/// Writes a segment's oldest open interval; an hour it completes is
/// reported and learnt.
fn close_interval(
    name: &str,
    seg: &mut Segment,
    interval: f64,
    learning: f64,
    metrics: &mut Vec<(String, SegmentMetricsRecord)>,
    reports: &mut Vec<Report>,
) {
    let iv = seg
        .open
        .pop_front()
        .unwrap_or_else(|| Interval::new(seg.closed_until));
    metrics.push((name.to_string(), iv.record(interval)));
    seg.hour.merge(&iv);
    seg.closed_until += interval;
    if clock::hour_start(seg.closed_until) != seg.hour.start {
        close_hour(name, seg, learning, true, reports);
        seg.hour = Interval::new(clock::hour_start(seg.closed_until));
    }
}

/// Reports a segment's finished hour, then learns it.
fn close_hour(
    name: &str,
    seg: &mut Segment,
    learning: f64,
    learn: bool,
    reports: &mut Vec<Report>,
) {
    let start = seg.hour.start;
    let how = clock::hour_of_week(start);
    let values = seg.hour.values();
    // An hour the segment was not yet seen in for all of it is partial.
    if seg.first > start || !learn {
        return;
    }
    reports.push(Report::Hour {
        segment: name.to_string(),
        start,
        hour_of_week: how,
        values,
        expected: seg.seasonal.iter().map(|m| m.expected(how)).collect(),
        age: (start + clock::HOUR - seg.first).min(learning * 1000.0),
    });
    for (model, v) in seg.seasonal.iter_mut().zip(values) {
        model.update(how, v);
    }
    seg.hours += 1;
}

/// An attempt that got no answer or was refused.
pub fn failed(state: ConnState) -> bool {
    matches!(
        state,
        ConnState::S0 | ConnState::Rej | ConnState::Rstos0 | ConnState::Sh
    )
}

#[cfg(test)]
mod tests;
