//! Per-host risk: each alert a host is the source of adds its score to
//! the host's risk, which halves every `half_life` seconds. One alert is
//! news; several different detectors firing on the same host within a day
//! (a scan, then failed logins, then a beacon) is a story, and once the
//! risk passes `alert_at` with at least `min_detectors` detectors behind
//! it, the host gets an alert of its own that names them. Alerts carry
//! their host's risk at the time, so an analyst can sort by it.

use crate::detectors::table::Table;
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// `[risk]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Seconds in which a host's risk halves.
    pub half_life: f64,
    /// Risk at which a host gets an alert of its own.
    pub alert_at: f64,
    /// Distinct detectors that must have contributed.
    pub min_detectors: usize,
    /// Hosts tracked at most.
    pub max_tracked: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            half_life: 86_400.0,
            alert_at: 150.0,
            min_detectors: 2,
            max_tracked: 100_000,
        }
    }
}

/// One contribution: detector, technique, score, time.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Part {
    detector: String,
    technique: String,
    score: f64,
    ts: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
struct Host {
    value: f64,
    at: f64,
    parts: Vec<Part>,
    /// Risk when the host's own alert was last raised.
    alerted: f64,
}

/// Contributions remembered per host (the strongest recent ones).
const PARTS: usize = 8;

pub struct Risk {
    settings: Settings,
    hosts: Table<IpAddr, Host>,
}

impl Risk {
    pub fn new(settings: Settings) -> Risk {
        Risk {
            hosts: Table::new(settings.max_tracked),
            settings,
        }
    }

    pub fn tracked(&self) -> crate::detectors::Tracked {
        self.hosts.tracked()
    }

    /// A new alert from notice `n`: adds to its host's risk; returns the
    /// risk now, and the host's own notice when it is due.
    pub fn add(&mut self, n: &Notice) -> (f64, Option<Notice>) {
        if n.src.is_unspecified() {
            return (0.0, None);
        }
        let s = &self.settings;
        let h = self.hosts.entry(&n.src, n.ts, Host::default);
        let decay = 0.5f64.powf(((n.ts - h.at) / s.half_life).max(0.0));
        h.value = h.value * decay + f64::from(n.score);
        h.alerted *= decay;
        h.at = h.at.max(n.ts);
        let since = n.ts - 2.0 * s.half_life;
        h.parts.retain(|p| p.ts >= since);
        h.parts.push(Part {
            detector: n.detector.to_string(),
            technique: n.technique.to_string(),
            score: f64::from(n.score),
            ts: n.ts,
        });
        h.parts.sort_by(|a, b| b.score.total_cmp(&a.score));
        h.parts.truncate(PARTS);
        let mut detectors: Vec<&str> = h.parts.iter().map(|p| p.detector.as_str()).collect();
        detectors.sort_unstable();
        detectors.dedup();
        // Raised once per climb: again only after the risk has grown by
        // half since the last time.
        let due = h.value >= s.alert_at
            && detectors.len() >= s.min_detectors
            && h.value >= h.alerted * 1.5;
        if !due {
            return (h.value, None);
        }
        h.alerted = h.value;
        let mut techniques: Vec<&str> = h.parts.iter().map(|p| p.technique.as_str()).collect();
        techniques.sort_unstable();
        techniques.dedup();
        let first = h.parts.iter().map(|p| p.ts).fold(n.ts, f64::min);
        let list: Vec<String> = h
            .parts
            .iter()
            .map(|p| format!("{} ({:.0})", p.detector, p.score))
            .collect();
        let notice = Notice {
            ts: n.ts,
            segment: n.segment.clone(),
            detector: "risk",
            kind: "host",
            technique: techniques.join(",").into(),
            score: (50.0 + (h.value - s.alert_at) / 10.0).clamp(50.0, 95.0) as u8,
            src: n.src,
            dst: None,
            subject: None,
            message: format!(
                "{} has a risk of {:.0} (alert at {:.0}, halving every {:.0} h) from {} detectors: {}",
                n.src,
                h.value,
                s.alert_at,
                s.half_life / 3600.0,
                detectors.len(),
                list.join(", ")
            ),
            count: h.parts.len() as u64,
            first,
            last: n.ts,
            evidence: Evidence::default(),
        };
        (h.value, Some(notice))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(detector: &'static str, score: u8, ts: f64) -> Notice {
        Notice {
            ts,
            segment: "admin".into(),
            detector,
            kind: "k",
            technique: "T1046".into(),
            score,
            src: "10.1.1.1".parse().unwrap(),
            dst: None,
            subject: None,
            message: String::new(),
            count: 1,
            first: ts,
            last: ts,
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn risk_accumulates_across_detectors_and_decays() {
        let mut r = Risk::new(Settings::default());
        // One detector alone never raises it, however often.
        for i in 0..5 {
            let (_, raised) = r.add(&n("scan", 60, f64::from(i) * 100.0));
            assert!(raised.is_none());
        }
        let (v, raised) = r.add(&n("bruteforce", 70, 600.0));
        assert!(v > 300.0);
        let raised = raised.expect("two detectors past the bar");
        assert!(
            raised.message.contains("bruteforce (70)"),
            "{}",
            raised.message
        );
        // A day later, half is left.
        let (v2, _) = r.add(&n("scan", 0, 600.0 + 86_400.0));
        assert!((v2 - v / 2.0).abs() < 1.0, "{v2} {v}");
    }
}
