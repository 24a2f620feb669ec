//! Per-host outbound volume: how many bytes each internal host sent to
//! external addresses in the last hour (twelve 5-minute buckets), to whom,
//! and the host's own normal: its busiest hour of each day it was active,
//! learnt robustly. A host that sends a backup offsite every night has a
//! large normal; a care workstation has a small one.

use super::clock;
use super::seasonal::Robust;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Seconds per bucket, and buckets per window (an hour).
const BUCKET: f64 = 300.0;
const BUCKETS: usize = 12;
/// Destinations and connections kept per host as evidence.
const TOP: usize = 4;
const EVIDENCE: usize = 8;

/// One external destination of a host's window.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Dest {
    pub ip: IpAddr,
    pub bytes: u64,
    pub first: f64,
    pub last: f64,
}

/// A connection behind the window: uid, Community ID, bytes, end time.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Conn {
    pub uid: String,
    pub community_id: Option<String>,
    pub bytes: u64,
    pub last: f64,
}

/// What the baselines know about one internal host.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Host {
    pub segment: String,
    /// Packet time it was first seen sending out.
    pub first: f64,
    buckets: [u64; BUCKETS],
    /// Bucket number (time / 5 min) of the newest bucket.
    epoch: i64,
    pub top: Vec<Dest>,
    pub conns: Vec<Conn>,
    /// The local day being measured and its busiest hour so far.
    day: i64,
    day_peak: u64,
    /// The busiest hour of each earlier active day.
    pub peak: Robust,
    /// The window's size when it was last reported.
    reported: u64,
}

impl Host {
    pub fn new(segment: &str, t: f64) -> Host {
        Host {
            segment: segment.to_string(),
            first: t,
            buckets: [0; BUCKETS],
            epoch: (t / BUCKET).floor() as i64,
            top: Vec::new(),
            conns: Vec::new(),
            day: clock::local_day(t),
            day_peak: 0,
            peak: Robust::default(),
            reported: 0,
        }
    }

    /// Moves the window forward to `t`: older buckets empty, a new day
    /// teaches the busiest hour of the last.
    fn roll(&mut self, t: f64) {
        let e = (t / BUCKET).floor() as i64;
        if e > self.epoch {
            let steps = (e - self.epoch).min(BUCKETS as i64);
            for k in 1..=steps {
                let i = (self.epoch + k).rem_euclid(BUCKETS as i64) as usize;
                self.buckets[i] = 0;
            }
            self.epoch = e;
            let since = t - BUCKET * BUCKETS as f64;
            self.top.retain(|d| d.last >= since);
            self.conns.retain(|c| c.last >= since);
        }
        let day = clock::local_day(t);
        if day > self.day {
            if self.day_peak > 0 {
                self.peak.update(self.day_peak as f64);
            }
            self.day = day;
            self.day_peak = self.window();
        }
    }

    /// Bytes sent out in the last hour.
    pub fn window(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Start of the window's traffic: its first destination's first byte.
    pub fn window_first(&self) -> f64 {
        self.top
            .iter()
            .map(|d| d.first)
            .fold(f64::INFINITY, f64::min)
    }

    /// Adds `bytes` sent to `dst` by a connection that ran from `start`
    /// to `t`; returns the window when it has grown past `report` bytes
    /// and by a quarter since it was last returned.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        t: f64,
        start: f64,
        bytes: u64,
        dst: IpAddr,
        uid: &str,
        community_id: Option<&str>,
        report: u64,
    ) -> Option<u64> {
        self.roll(t);
        let i = self.epoch.rem_euclid(BUCKETS as i64) as usize;
        self.buckets[i] = self.buckets[i].saturating_add(bytes);
        match self.top.iter_mut().find(|d| d.ip == dst) {
            Some(d) => {
                d.bytes += bytes;
                d.first = d.first.min(start);
                d.last = d.last.max(t);
            }
            None => {
                self.top.push(Dest {
                    ip: dst,
                    bytes,
                    first: start,
                    last: t,
                });
            }
        }
        self.top.sort_by_key(|d| std::cmp::Reverse(d.bytes));
        self.top.truncate(TOP);
        // Evidence keeps the largest connections: a smaller one than all
        // kept is not copied at all (most are, on a busy host).
        let smallest = self.conns.last().map_or(0, |c| c.bytes);
        if bytes > 0 && (self.conns.len() < EVIDENCE || bytes > smallest) {
            self.conns.push(Conn {
                uid: uid.to_string(),
                community_id: community_id.map(str::to_string),
                bytes,
                last: t,
            });
            self.conns.sort_by_key(|c| std::cmp::Reverse(c.bytes));
            self.conns.truncate(EVIDENCE);
        }
        let w = self.window();
        self.day_peak = self.day_peak.max(w);
        if w < report / 2 {
            self.reported = 0;
        }
        (w >= report && w >= self.reported.saturating_add(self.reported / 4).max(1)).then(|| {
            self.reported = w;
            w
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_holds_an_hour_and_days_teach_the_peak() {
        let ip: IpAddr = [185, 0, 0, 1].into();
        let t0 = 1_767_225_600.0; // 2026-01-01 00:00 UTC, 01:00 local
        let mut h = Host::new("admin", t0);
        for d in 0..5 {
            let t = t0 + f64::from(d) * 86_400.0 + 3600.0;
            h.add(t, t - 10.0, 10_000_000, ip, "C1", None, u64::MAX);
            h.add(t + 60.0, t, 5_000_000, ip, "C2", None, u64::MAX);
            assert_eq!(h.window(), 15_000_000);
        }
        // Four whole days learnt; the fifth is still running.
        assert_eq!(h.peak.samples(), 4);
        assert!((h.peak.mean() - 15e6).abs() < 1.0);
        // Two hours later the window is empty.
        h.add(
            t0 + 4.0 * 86_400.0 + 3.0 * 3600.0,
            t0,
            0,
            ip,
            "C3",
            None,
            u64::MAX,
        );
        assert_eq!(h.window(), 0);
    }

    #[test]
    fn reports_come_as_the_window_grows_by_a_quarter() {
        let ip: IpAddr = [185, 0, 0, 1].into();
        let mut h = Host::new("admin", 0.0);
        let mut reports = 0;
        for i in 0..100 {
            let t = f64::from(i) * 10.0;
            if h.add(t, t, 100, ip, "C", None, 1_000).is_some() {
                reports += 1;
            }
        }
        // 10,000 bytes in all: reports at 1,000, 1,250, ... about 10.
        assert!((8..=12).contains(&reports), "{reports}");
    }
}
