//! Volume and exfiltration (MITRE T1048, T1030): outbound bytes far above
//! their baseline. Two views: a host's last hour held against its own usual
//! busiest hour (a care workstation that suddenly sends gigabytes at
//! night), and a segment's hour held against the same hour of the week
//! (the whole school network sending ten times its Tuesday normal). Both
//! must clear three bars: a statistical one (`spreads` spreads above the
//! normal), a relative one (`ratio` times the normal) and an absolute one
//! (a floor in bytes), so a quiet host's 30 MB upload is not news. New
//! hosts and segments are judged against the floor alone, higher, and the
//! alert says they are still learning. The bars may differ by segment kind
//! (`[kind.school.volume]`): a host or segment is held against its
//! segment's kind's.

use super::{score, span};
use crate::baseline::{clock, metrics, Baselines, Report};
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    /// Bars of the segment kinds that have their own, and each segment's
    /// kind.
    by_kind: BTreeMap<String, Settings>,
    kinds: BTreeMap<String, String>,
}

impl Volume {
    /// The bars of `rules`: global, per kind, and the segments' kinds.
    pub fn from_rules(rules: &crate::rules::Rules) -> Volume {
        let t = &rules.thresholds;
        Volume {
            settings: t.volume.clone(),
            by_kind: rules
                .kind_thresholds
                .kinds()
                .map(|k| (k.to_string(), rules.kind_thresholds.thresholds(k, t).volume))
                .collect(),
            kinds: rules.segment_kinds.clone(),
        }
    }

    /// The bars a segment is held against.
    fn settings(&self, segment: &str) -> &Settings {
        self.kinds
            .get(segment)
            .and_then(|k| self.by_kind.get(k))
            .unwrap_or(&self.settings)
    }

    /// The bar `value` must clear against a normal of `mean` with
    /// `spread`, never below `floor`.
    fn bar(s: &Settings, mean: f64, spread: f64, floor: u64) -> f64 {
        (mean + s.spreads * spread.max(mean * 0.1))
            .max(mean * s.ratio)
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
                let s = self.settings(segment);
                let (bar, normal) = match expected.get(m).and_then(Option::as_ref) {
                    Some(e) if !learning => (
                        Self::bar(s, e.mean, e.spread, s.segment_bytes),
                        format!(
                            "this segment's normal for {} is {} (spread {}, {} samples)",
                            e.slot,
                            bytes(e.mean),
                            bytes(e.spread),
                            e.samples
                        ),
                    ),
                    _ => (
                        s.segment_bytes as f64 * s.ratio / 2.0,
                        format!(
                            "the segment is still learning ({} of {}), so it was held against {}",
                            span(*age),
                            span(b.settings().learning),
                            bytes(s.segment_bytes as f64 * s.ratio / 2.0)
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
        let s = self.settings(&h.segment);
        let age = ts - h.first;
        let learning = age < b.settings().learning || h.peak.samples() < 3;
        let (bar, normal) = if learning {
            (
                s.learning_host_bytes as f64,
                format!(
                    "the host is new and still learning ({} of {}), so it was held against {}",
                    span(age),
                    span(b.settings().learning),
                    bytes(s.learning_host_bytes as f64)
                ),
            )
        } else {
            (
                Self::bar(s, h.peak.mean(), h.peak.spread(), s.host_bytes),
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
            .filter(|&(n, first)| first <= ts - clock::DAY && n >= f64::from(s.common_hosts))
            .map(|(n, _)| n);
        let (bar, normal) = match common {
            Some(n) => (
                bar * s.common_factor,
                format!(
                    "{normal}; its main destination is a common service ({n:.0} of the municipality's hosts use it), so the bar is {} times higher",
                    s.common_factor
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::metrics::{metric, METRICS};
    use crate::rules::Rules;
    use std::path::Path;

    /// A still-learning segment's hour of `out` bytes, judged.
    fn judged(v: &Volume, segment: &str, out: f64) -> Vec<Notice> {
        let b = Baselines::new(Default::default());
        let mut values = [0.0; METRICS.len()];
        if let Some(m) = metric("bytes_out") {
            values[m] = out;
        }
        let report = Report::Hour {
            segment: segment.into(),
            start: 0.0,
            hour_of_week: 0,
            values,
            expected: vec![None; METRICS.len()],
            age: 0.0,
        };
        let mut notices = Vec::new();
        v.judge(&report, &b, &mut notices);
        notices
    }

    #[test]
    fn a_segment_is_held_against_its_kinds_bars() {
        let mut r = Rules::default();
        r.add_file(
            Path::new("school.toml"),
            "[kind.school.volume]\nsegment_bytes = 1000000000\n",
        )
        .expect("good file");
        r.segment_kinds.insert("skole".into(), "school".into());
        r.segment_kinds.insert("kontor".into(), "admin".into());
        let v = Volume::from_rules(&r);
        // Learning: the bar is half of segment_bytes times the ratio, 10 GB
        // by default and 5 GB for schools.
        assert_eq!(
            judged(&v, "skole", 8e9).len(),
            1,
            "school: 8 GB passes 5 GB"
        );
        assert!(
            judged(&v, "kontor", 8e9).is_empty(),
            "office: 8 GB under 10 GB"
        );
        assert!(
            judged(&v, "unknown", 8e9).is_empty(),
            "no kind: the global bar"
        );
        let n = judged(&v, "skole", 8e9).remove(0);
        assert!(n.message.contains("held against 5.0 GB"), "{}", n.message);
    }
}
