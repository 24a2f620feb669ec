//! Volume and exfiltration (MITRE T1048, T1030): outbound bytes far above
//! their baseline. Two views: a host's last hour held against its own usual
//! busiest hour (a care workstation that suddenly sends gigabytes at
//! night), and a segment's hour held against the same hour of the week
//! (the whole school network sending ten times its Tuesday normal). Both
//! must clear three bars: a statistical one (`spreads` spreads above the
//! normal), a relative one (`ratio` times the normal) and an absolute one
//! (a floor in bytes), so a quiet host's 30 MB upload is not news. New
//! hosts and segments are judged against the floor alone, higher, and the
//! alert says they are still learning.

use super::{score, span};
use crate::baseline::{clock, metrics, Baselines, Report};
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

/// `[volume]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Spreads above the normal an hour must be.
    pub spreads: f64,
    /// Times the normal an hour must be.
    pub ratio: f64,
    /// Bytes out within an hour a host must pass (learnt baseline).
    pub host_bytes: u64,
    /// Bytes out within an hour a still-learning host must pass.
    pub learning_host_bytes: u64,
    /// Bytes out within an hour a segment must pass.
    pub segment_bytes: u64,
    /// A destination that this many of the municipality's hosts (in any
    /// segment) had used for a day or more is a common service (a video site, the cloud office
    /// suite): uploads to it are held against `common_factor` times the
    /// bars. Exfiltration goes to a new place far more often than to one
    /// everybody uses; an upload to a common service can still alert, at
    /// the higher bar.
    pub common_hosts: u32,
    pub common_factor: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            spreads: 6.0,
            ratio: 10.0,
            host_bytes: 1_000_000_000,
            learning_host_bytes: 5_000_000_000,
            segment_bytes: 2_000_000_000,
            common_hosts: 10,
            common_factor: 4.0,
        }
    }
}

/// Bytes for people: "4.1 GB", "12 MB".
pub fn bytes(n: f64) -> String {
    let (v, unit) = match n {
        n if n >= 1e12 => (n / 1e12, "TB"),
        n if n >= 1e9 => (n / 1e9, "GB"),
        n if n >= 1e6 => (n / 1e6, "MB"),
        n if n >= 1e3 => (n / 1e3, "kB"),
        n => return format!("{n:.0} B"),
    };
    if v < 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.0} {unit}")
    }
}

pub struct Volume {
    settings: Settings,
}

impl Volume {
    pub fn new(settings: Settings) -> Volume {
        Volume { settings }
    }

    /// The bar `value` must clear against a normal of `mean` with
    /// `spread`, never below `floor`.
    fn bar(&self, mean: f64, spread: f64, floor: u64) -> f64 {
        (mean + self.settings.spreads * spread.max(mean * 0.1))
            .max(mean * self.settings.ratio)
            .max(floor as f64)
    }

    /// Judges what the baselines reported.
    pub fn judge(&self, report: &Report, b: &Baselines, out: &mut Vec<Notice>) {
        match report {
            Report::Host { ip, ts, bytes } => self.host(*ip, *ts, *bytes, b, out),
            Report::Hour {
                segment,
                start,
                hour_of_week,
                values,
                expected,
                age,
            } => {
                let Some(m) = metrics::metric("bytes_out") else {
                    return;
                };
                let Some(&v) = values.get(m) else { return };
                let learning = *age < b.settings().learning;
                let (bar, normal) = match expected.get(m).and_then(Option::as_ref) {
                    Some(e) if !learning => (
                        self.bar(e.mean, e.spread, self.settings.segment_bytes),
                        format!(
                            "this segment's normal for {} is {} (spread {}, {} samples)",
                            e.slot,
                            bytes(e.mean),
                            bytes(e.spread),
                            e.samples
                        ),
                    ),
                    _ => (
                        self.settings.segment_bytes as f64 * self.settings.ratio / 2.0,
                        format!(
                            "the segment is still learning ({} of {}), so it was held against {}",
                            span(*age),
                            span(b.settings().learning),
                            bytes(self.settings.segment_bytes as f64 * self.settings.ratio / 2.0)
                        ),
                    ),
                };
                if v < bar {
                    return;
                }
                out.push(Notice {
                    ts: start + clock::HOUR,
                    segment: segment.clone(),
                    detector: "volume",
                    kind: "segment_out",
                    technique: "T1048".into(),
                    score: score(v, bar, 90),
                    src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    dst: None,
                    subject: Some(format!("segment {segment}")),
                    message: format!(
                        "segment {segment} sent {} to external addresses on {} ({}); {normal}",
                        bytes(v),
                        clock::date_time(*start),
                        clock::slot_name(*hour_of_week),
                    ),
                    count: 1,
                    first: *start,
                    last: start + clock::HOUR,
                    evidence: Evidence::default(),
                });
            }
        }
    }

    fn host(&self, ip: IpAddr, ts: f64, sent: u64, b: &Baselines, out: &mut Vec<Notice>) {
        let Some(h) = b.hosts.get(&ip) else { return };
        let age = ts - h.first;
        let learning = age < b.settings().learning || h.peak.samples() < 3;
        let (bar, normal) = if learning {
            (
                self.settings.learning_host_bytes as f64,
                format!(
                    "the host is new and still learning ({} of {}), so it was held against {}",
                    span(age),
                    span(b.settings().learning),
                    bytes(self.settings.learning_host_bytes as f64)
                ),
            )
        } else {
            (
                self.bar(h.peak.mean(), h.peak.spread(), self.settings.host_bytes),
                format!(
                    "its busiest hour on an ordinary day is {} (spread {}, {} days)",
                    bytes(h.peak.mean()),
                    bytes(h.peak.spread()),
                    h.peak.samples()
                ),
            )
        };
        let top = h.top.first();
        // The main destination's standing in the municipality.
        let common = top
            .and_then(|d| b.peer(d.ip))
            .filter(|&(n, first)| {
                first <= ts - clock::DAY && n >= f64::from(self.settings.common_hosts)
            })
            .map(|(n, _)| n);
        let (bar, normal) = match common {
            Some(n) => (
                bar * self.settings.common_factor,
                format!(
                    "{normal}; its main destination is a common service ({n:.0} of the municipality's hosts use it), so the bar is {} times higher",
                    self.settings.common_factor
                ),
            ),
            None => (bar, normal),
        };
        if (sent as f64) < bar {
            return;
        }
        let first = h.window_first().min(ts);
        let seg = match metrics::metric("bytes_out").and_then(|m| b.expected(&h.segment, m, ts)) {
            Some(e) => format!(
                "; segment {}'s normal for {} is {} (spread {})",
                h.segment,
                e.slot,
                bytes(e.mean),
                bytes(e.spread)
            ),
            None => String::new(),
        };
        let mut evidence = Evidence::default();
        for c in &h.conns {
            evidence.add(&c.uid, c.community_id.as_deref());
        }
        out.push(Notice {
            ts,
            segment: h.segment.clone(),
            detector: "volume",
            kind: "host_out",
            technique: "T1048".into(),
            score: score(sent as f64, bar, 95),
            src: ip,
            dst: top.map(|d| d.ip),
            subject: None,
            message: format!(
                "{ip} sent {} to external addresses between {} and {}{}; {normal}{seg}",
                bytes(sent as f64),
                clock::date_time(first),
                clock::clock(ts),
                match top {
                    Some(d) => format!(", {} of it to {}", bytes(d.bytes as f64), d.ip),
                    None => String::new(),
                },
            ),
            count: 1,
            first,
            last: ts,
            evidence,
        });
    }
}
