//! The detectors, one module each. A detector reads events and raises
//! [`Notice`]s; it never decides severity, suppression or allow-lists (the
//! policy does). Its state is bounded: per-key tables with a cap, the
//! least recently touched entry evicted first and counted.

pub mod beacon;
pub mod bruteforce;
pub mod dns_tunnel;
pub mod indicator;
pub mod lateral;
pub mod new_rare;
pub mod ot_change;
pub mod scan;
pub mod spoofing;
pub mod spray;
pub mod table;
#[cfg(test)]
pub mod testutil;
pub mod volume;

use crate::Notice;
use vagt_schema::Event;

/// The size of bounded state, for health and for the flood test.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tracked {
    pub entries: u64,
    pub cap: u64,
    pub evicted: u64,
}

impl std::ops::Add for Tracked {
    type Output = Tracked;
    fn add(self, o: Tracked) -> Tracked {
        Tracked {
            entries: self.entries + o.entries,
            cap: self.cap + o.cap,
            evicted: self.evicted + o.evicted,
        }
    }
}

/// A detector.
pub trait Detector: Send {
    /// Reads one event; findings go to `out`.
    fn observe(&mut self, event: &Event, out: &mut Vec<Notice>);

    /// Packet time reached `now` (infinity at the end of input): state
    /// older than the detector's window is dropped, and findings that
    /// wait for a window to close are raised.
    fn sweep(&mut self, now: f64, out: &mut Vec<Notice>);

    /// The rules in force, at start and after each reload: a detector that
    /// reads lists (indicators) or segment kinds from them takes the new
    /// ones. Thresholds stay as they were at start.
    fn rules_changed(&mut self, _rules: &crate::Rules) {}

    /// What the detector has learnt that a restart should not forget
    /// (saved with the baselines), under `name`.
    fn save(&self) -> Option<(&'static str, serde_json::Value)> {
        None
    }

    /// Takes back what [`Detector::save`] wrote, when `name` matches;
    /// false when the value is not one it wrote.
    fn restore(&mut self, _name: &str, _value: &serde_json::Value) -> bool {
        true
    }

    /// Its bounded state: entries, cap and evictions.
    fn tracked(&self) -> Tracked {
        Tracked::default()
    }
}

/// A stretch of time for people: "45 s", "12 min", "3.2 h", "7.0 days".
pub fn span(secs: f64) -> String {
    let secs = secs.max(0.0);
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7200.0 {
        format!("{:.0} min", secs / 60.0)
    } else if secs < 2.0 * 86_400.0 {
        format!("{:.1} h", secs / 3600.0)
    } else {
        format!("{:.1} days", secs / 86_400.0)
    }
}

/// A count written for people: 1,001.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A score from how far `value` is past `threshold`: 50 at the threshold,
/// rising by 10 for each doubling, capped at `max`.
pub fn score(value: f64, threshold: f64, max: u8) -> u8 {
    if threshold <= 0.0 || value <= 0.0 {
        return 50.min(max);
    }
    let doublings = (value / threshold).log2().max(0.0);
    (50.0 + 10.0 * doublings).min(f64::from(max)) as u8
}
