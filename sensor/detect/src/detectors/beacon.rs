//! Beaconing (MITRE T1071, T1573 when encrypted): an internal host that
//! connects to one external destination and port at regular intervals
//! with regular sizes, the check-in of an implant waiting for orders.
//!
//! The score follows RITA's beacon analysis: a timing half (Bowley skew
//! of the inter-arrival times, their median absolute deviation, and how
//! many of the connections the median interval predicts over the span
//! were seen) and a size half (Bowley skew of the bytes sent, their MAD,
//! and smallness), each sub-score in 0..1, the whole their mean. Two
//! departures, both so that jittered beacons still score: the MADs are
//! taken relative to the median (a 10% jitter on a 1-hour beacon is 6
//! minutes, which RITA's absolute 30 s cut-off scores as no regularity at
//! all), the skews weigh in only as far as the distribution is wide
//! (the shape of ±2% noise around the median is noise), and the timing
//! half must reach the threshold on its own (regular
//! sizes at random times are a chatty API, not a check-in).
//!
//! Benign beacons are everywhere (update checks, antivirus, telemetry,
//! NTP): a destination that `common_sources` or more internal hosts
//! contact is common software, not one implant's server, and is never
//! reported (RITA's and commercial NDRs' prevalence filter); services in
//! `ignore_services` and ports in `ignore_ports` are not tracked.
//!
//! State: per (source, destination, port) a ring of the last
//! `max_samples` start times and bytes sent, within `window` seconds, in a
//! bounded table; per destination the distinct internal sources seen, up
//! to `common_sources`. Pairs are judged at sweeps, when they have new
//! connections, `min_connections` of them, and have been active for
//! `min_span` seconds (a fast beacon fills its ring within minutes).

use super::table::Table;
use super::{span, thousands, Detector};
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::net::IpAddr;
use vagt_schema::{ConnRecord, Event, EventBody, Proto};

/// `[beacon]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Beacon score (0-1) from which a pair is reported.
    pub threshold: f64,
    /// Connections needed before a pair is judged.
    pub min_connections: usize,
    /// Seconds a pair must have been active before it is judged.
    pub min_span: f64,
    /// Seconds of history judged (RITA judges a day at a time).
    pub window: f64,
    /// Seconds of packet time between two judgements of one pair: a
    /// beacon shows over hours, and judging every busy pair at every
    /// sweep would cost more than all other detectors together.
    pub judge_every: f64,
    /// Distinct internal sources from which a destination is common.
    pub common_sources: usize,
    /// Services (the connection's `service`) not tracked.
    pub ignore_services: Vec<String>,
    /// Destination ports not tracked (DNS and NTP when unnamed).
    pub ignore_ports: Vec<u16>,
    /// Connections remembered per pair (16 bytes each: 50,000 pairs of
    /// 128 are 100 MB at worst; most pairs hold a few).
    pub max_samples: usize,
    /// Pairs tracked at most, and destinations counted at most.
    pub max_tracked: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threshold: 0.8,
            min_connections: 10,
            min_span: 1800.0,
            window: 86_400.0,
            judge_every: 900.0,
            common_sources: 10,
            ignore_services: ["dns", "ntp"].map(String::from).to_vec(),
            ignore_ports: vec![53, 123],
            max_samples: 128,
            max_tracked: 50_000,
        }
    }
}

/// Uids and community ids kept per pair, the latest.
const EVIDENCE: usize = 8;

struct Pair {
    /// (start time, bytes sent), oldest first.
    samples: VecDeque<(f64, u64)>,
    /// Start of the pair's current activity (the first connection after
    /// a silence longer than the window): a fast beacon fills the ring
    /// within minutes, and is judged once it has gone on for `min_span`.
    since: f64,
    evidence: VecDeque<(String, String)>,
    segment: String,
    service: Option<String>,
    /// Connections seen in all, and at the last notice.
    total: u64,
    reported: u64,
    /// New connections since the last judgement.
    dirty: bool,
    /// Packet time of the last judgement.
    judged: f64,
}

/// What a judgement found, in numbers for the message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    pub score: f64,
    pub timing: f64,
    pub interval: f64,
    pub interval_mad: f64,
    pub bytes: f64,
    pub bytes_mad: f64,
    pub span: f64,
}

pub struct Beacon {
    settings: Settings,
    pairs: Table<(IpAddr, IpAddr, u16), Pair>,
    /// Destination -> distinct internal sources, up to `common_sources`.
    sources: Table<IpAddr, Vec<IpAddr>>,
    /// Packet time of the last sweep that walked the pairs.
    swept: f64,
}

/// The `q` quantile (0..1) of sorted values, interpolated.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b) = (sorted[lo], sorted[hi.min(sorted.len() - 1)]);
    a + (b - a) * (pos - lo as f64)
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Median, median absolute deviation and Bowley skew of sorted values.
fn spread(s: &[f64]) -> (f64, f64, f64) {
    let (q1, med, q3) = (quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75));
    let mad = quantile(&sorted(s.iter().map(|x| (x - med).abs()).collect()), 0.5);
    // As RITA: no spread between the quartiles (or a quartile on the
    // median) is no skew.
    let skew = if q3 - q1 <= f64::EPSILON || med == q1 || med == q3 {
        0.0
    } else {
        (q1 + q3 - 2.0 * med) / (q3 - q1)
    };
    (med, mad, skew)
}

/// 1 - `x` / `cutoff`, within 0..1.
fn falling(x: f64, cutoff: f64) -> f64 {
    (1.0 - x / cutoff).clamp(0.0, 1.0)
}

/// How much the skew counts: skew is scale-free, so the shape of a
/// distribution whose quartiles lie within a few percent of its median
/// (a jittered beacon) is noise and says nothing about regularity; it
/// counts fully from an interquartile range of `REL_MAD_CUTOFF` times the
/// median, as random arrivals have (1.6 times, for exponential ones).
fn shape_weight(sorted: &[f64], median: f64) -> f64 {
    if median <= 0.0 {
        return 1.0;
    }
    let iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25);
    (iqr / median / REL_MAD_CUTOFF).clamp(0.0, 1.0)
}

/// Relative MAD from which a half scores no regularity: half the median.
const REL_MAD_CUTOFF: f64 = 0.5;

/// RITA's beacon score of connections at `times` (sorted) sending
/// `bytes`; None when there are fewer than three.
pub fn judge(times: &[f64], bytes: &[f64]) -> Option<Judgement> {
    if times.len() < 3 || bytes.is_empty() {
        return None;
    }
    let deltas = sorted(times.windows(2).map(|w| w[1] - w[0]).collect());
    let (interval, interval_mad, ts_skew) = spread(&deltas);
    let span = times[times.len() - 1] - times[0];
    let ts_skew_score = 1.0 - ts_skew.abs() * shape_weight(&deltas, interval);
    let ts_mad_score = if interval > 0.0 {
        falling(interval_mad / interval, REL_MAD_CUTOFF)
    } else {
        0.0
    };
    // How many of the connections the median interval predicts over the
    // span were seen: a beacon keeps checking in, a burst does not.
    let expected = if interval > 0.0 {
        span / interval + 1.0
    } else {
        f64::INFINITY
    };
    let ts_count_score = (times.len() as f64 / expected).min(1.0);
    let timing = (ts_skew_score + ts_mad_score + ts_count_score) / 3.0;

    let b = sorted(bytes.to_vec());
    let (size, size_mad, ds_skew) = spread(&b);
    let ds_skew_score = 1.0 - ds_skew.abs() * shape_weight(&b, size);
    let ds_mad_score = if size > 0.0 {
        falling(size_mad / size, REL_MAD_CUTOFF)
    } else {
        // Nothing sent each time is perfectly regular.
        1.0
    };
    // RITA: check-ins are small; 64 KiB or more is no check-in.
    let ds_small_score = falling(size, 65_535.0);
    let sizes = (ds_skew_score + ds_mad_score + ds_small_score) / 3.0;
    Some(Judgement {
        score: (timing + sizes) / 2.0,
        timing,
        interval,
        interval_mad,
        bytes: size,
        bytes_mad: size_mad,
        span,
    })
}

impl Beacon {
    pub fn new(settings: Settings) -> Beacon {
        Beacon {
            pairs: Table::new(settings.max_tracked),
            sources: Table::new(settings.max_tracked),
            settings,
            swept: f64::NEG_INFINITY,
        }
    }

    fn conn(&mut self, segment: &str, c: &ConnRecord) {
        // Interim snapshots would count a long connection twice.
        if c.interim || c.local_orig != Some(true) || c.local_resp != Some(false) {
            return;
        }
        let s = &self.settings;
        if s.ignore_ports.contains(&c.resp_p)
            || c.service.as_deref().is_some_and(|sv| {
                sv.split(',')
                    .any(|x| s.ignore_services.iter().any(|i| i.eq_ignore_ascii_case(x)))
            })
        {
            return;
        }
        let common = s.common_sources.max(1);
        let srcs = self.sources.entry(&c.resp_h, c.ts, Vec::new);
        if srcs.len() < common && !srcs.contains(&c.orig_h) {
            srcs.push(c.orig_h);
        }
        let (max_samples, window) = (s.max_samples.max(3), s.window);
        let p = self
            .pairs
            .entry(&(c.orig_h, c.resp_h, c.resp_p), c.ts, || Pair {
                samples: VecDeque::new(),
                since: c.ts,
                evidence: VecDeque::new(),
                segment: segment.to_string(),
                service: None,
                total: 0,
                reported: 0,
                dirty: false,
                judged: f64::NEG_INFINITY,
            });
        while p.samples.len() >= max_samples
            || p.samples.front().is_some_and(|(t, _)| c.ts - t > window)
        {
            p.samples.pop_front();
        }
        if p.samples.is_empty() {
            // Silent for a window: this is a new activity.
            p.since = c.ts;
            p.total = 0;
            p.reported = 0;
        }
        p.since = p.since.min(c.ts);
        p.samples.push_back((c.ts, c.orig_bytes.unwrap_or(0)));
        if p.evidence.len() >= EVIDENCE {
            p.evidence.pop_front();
        }
        p.evidence
            .push_back((c.uid.clone(), c.community_id.clone()));
        if p.service.is_none() {
            p.service.clone_from(&c.service);
        }
        p.total += 1;
        p.dirty = true;
    }

    /// Judges one pair; a notice when it beacons and has grown enough
    /// since its last notice.
    fn judge_pair(
        s: &Settings,
        key: &(IpAddr, IpAddr, u16),
        p: &mut Pair,
        sources: usize,
        now: f64,
    ) -> Option<Notice> {
        if !p.dirty || p.samples.len() < s.min_connections.max(3) {
            return None;
        }
        // Cheap checks first: most pairs are browsing, judged often.
        let latest = p
            .samples
            .iter()
            .map(|x| x.0)
            .fold(f64::NEG_INFINITY, f64::max);
        let active = latest - p.since;
        if active < s.min_span || now - p.judged < s.judge_every {
            return None;
        }
        p.dirty = false;
        p.judged = now;
        // A common destination stays common: its sources are only added
        // to (until the table forgets it).
        if sources >= s.common_sources.max(1) {
            return None;
        }
        // Records arrive when connections end, not in start order.
        let mut ordered: Vec<(f64, u64)> = p.samples.iter().copied().collect();
        ordered.sort_by(|a, b| a.0.total_cmp(&b.0));
        let times: Vec<f64> = ordered.iter().map(|x| x.0).collect();
        let bytes: Vec<f64> = ordered.iter().map(|x| x.1 as f64).collect();
        let span_secs = times[times.len() - 1] - times[0];
        let j = judge(&times, &bytes)?;
        if j.score < s.threshold || j.timing < s.threshold {
            return None;
        }
        // Once reported, a pair is reported again when its count doubled,
        // so a long-running beacon updates its alert with its size.
        if p.reported > 0 && p.total < p.reported.saturating_mul(2) {
            return None;
        }
        let (src, dst, port) = *key;
        let new = p.total - p.reported;
        p.reported = p.total;
        let mut evidence = Evidence::default();
        for (uid, cid) in &p.evidence {
            evidence.add(uid, Some(cid));
        }
        let encrypted = p
            .service
            .as_deref()
            .is_some_and(|sv| sv.contains("ssl") || sv.contains("quic"));
        let service = p
            .service
            .as_deref()
            .map(|sv| format!(" ({sv})"))
            .unwrap_or_default();
        // 45 at the threshold up to 75 for a perfect beacon: regular
        // check-ins are suspicious, not proof (a single host's updater
        // beacons too), so a beacon alone is not critical.
        let t = s.threshold.min(0.999);
        let score = (45.0 + 30.0 * ((j.score - t) / (1.0 - t)).clamp(0.0, 1.0)) as u8;
        Some(Notice {
            ts: now.min(times[times.len() - 1]),
            segment: p.segment.clone(),
            detector: "beacon",
            kind: "beacon",
            technique: if encrypted { "T1573" } else { "T1071" }.into(),
            score,
            src,
            dst: Some(dst),
            subject: Some(port.to_string()),
            message: format!(
                "{} connections from {src} to {}{service} over {}{}, every {:.0} s (median; MAD {:.0} s), {:.0} bytes out each (MAD {:.0}); beacon score {:.2} (timing {:.2}; threshold {:.2}); {dst} is contacted by {} internal host(s) (common from {})",
                thousands(times.len() as u64),
                addr_port(dst, port),
                span(span_secs),
                if p.total > times.len() as u64 {
                    format!(
                        " (the latest of {} in {})",
                        thousands(p.total),
                        span(active)
                    )
                } else {
                    String::new()
                },
                j.interval,
                j.interval_mad,
                j.bytes,
                j.bytes_mad,
                j.score,
                j.timing,
                s.threshold,
                sources,
                s.common_sources,
            ),
            count: new,
            first: times[0],
            last: times[times.len() - 1],
            evidence,
        })
    }
}

fn addr_port(a: IpAddr, port: u16) -> String {
    match a {
        IpAddr::V4(_) => format!("{a}:{port}"),
        IpAddr::V6(_) => format!("[{a}]:{port}"),
    }
}

impl Detector for Beacon {
    fn tracked(&self) -> super::Tracked {
        self.pairs.tracked() + self.sources.tracked()
    }

    fn observe(&mut self, event: &Event, _out: &mut Vec<Notice>) {
        if let EventBody::Conn(c) = &event.body {
            if c.proto != Proto::Icmp {
                self.conn(&event.origin.segment, c);
            }
        }
    }

    fn sweep(&mut self, now: f64, out: &mut Vec<Notice>) {
        let s = &self.settings;
        // Pairs are judged at most every `judge_every`: walking them all
        // at every sweep of the stage would cost more than judging.
        if now.is_finite() && now - self.swept < s.judge_every {
            return;
        }
        self.swept = now;
        let sources = &self.sources;
        self.pairs.retain(|key, p| {
            if p.dirty {
                let n = sources.get(&key.1).map_or(0, Vec::len);
                if let Some(notice) = Beacon::judge_pair(s, key, p, n, now) {
                    out.push(notice);
                }
            }
            // Forget pairs whose last connection left the window.
            p.samples.back().is_some_and(|(t, _)| now - t <= s.window)
        });
        // Destinations are kept as long as the table has room:
        // prevalence is slow to learn and cheap to keep.
    }
}

#[cfg(test)]
#[path = "beacon_tests.rs"]
mod tests;
