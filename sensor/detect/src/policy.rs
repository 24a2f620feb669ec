//! The policy stage: what becomes of a detector's notice. Allow-listed
//! findings are dropped (and counted, per entry); the same detector, kind
//! and entity within a window give one alert: written when first raised,
//! so nobody waits for it, and written once more with the count, first and
//! last seen when the window closes if it repeated. Severity weighs the
//! score with the segment's criticality.

use crate::notice::{Evidence, Notice};
use crate::rules::Rules;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
use vagt_schema::{AlertRecord, Severity};

/// `[policy]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Seconds within which repeats of an alert are folded into it.
    pub window: f64,
    /// Alerts held open at most; the oldest is closed early beyond it.
    pub max_open: usize,
    /// Segment names ranked critical: their alerts rank one severity
    /// higher (care, health and OT segments by default, by kind).
    pub critical_segments: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            window: 3600.0,
            max_open: 100_000,
            critical_segments: Vec::new(),
        }
    }
}

/// What identifies "the same alert".
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    detector: &'static str,
    kind: &'static str,
    segment: String,
    src: IpAddr,
    dst: Option<IpAddr>,
    subject: Option<String>,
}

struct Open {
    alert: AlertRecord,
    /// Repeats folded in since it was written.
    repeats: u64,
    opened: f64,
}

/// The policy's state.
pub struct Policy {
    settings: Settings,
    open: HashMap<Key, Open>,
    /// Findings dropped by each allow entry (its origin), for health.
    pub allowed: HashMap<String, u64>,
    /// Sequence for alert ids.
    next_id: u64,
    /// Distinguishes this sensor's alert ids from another's.
    id_prefix: String,
}

fn severity(score: u8, critical: bool) -> Severity {
    let base = match score {
        0..=39 => Severity::Low,
        40..=69 => Severity::Medium,
        70..=89 => Severity::High,
        _ => Severity::Critical,
    };
    if !critical {
        return base;
    }
    match base {
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        _ => Severity::Critical,
    }
}

impl Policy {
    pub fn new(settings: Settings, id_prefix: &str) -> Policy {
        Policy {
            settings,
            open: HashMap::new(),
            allowed: HashMap::new(),
            next_id: 0,
            id_prefix: id_prefix.to_string(),
        }
    }

    /// Decides on a notice: `out` gets the alert when it is new; returns
    /// whether it was.
    pub fn notice(
        &mut self,
        rules: &Rules,
        n: Notice,
        critical: bool,
        out: &mut Vec<(String, AlertRecord)>,
    ) -> bool {
        if let Some(a) = rules.allowed(&n) {
            *self.allowed.entry(a.origin.clone()).or_default() += 1;
            return false;
        }
        self.expire(n.ts, out);
        let key = Key {
            detector: n.detector,
            kind: n.kind,
            segment: n.segment.clone(),
            src: n.src,
            dst: n.dst,
            subject: n.subject.clone(),
        };
        if let Some(o) = self.open.get_mut(&key) {
            let a = &mut o.alert;
            a.count += n.count;
            a.first_seen = a.first_seen.min(n.first);
            a.last_seen = a.last_seen.max(n.last);
            a.score = a.score.max(n.score);
            a.severity = a.severity.max(severity(n.score, critical));
            a.message = n.message;
            let mut ev = Evidence {
                uids: std::mem::take(&mut a.uids),
                community_ids: std::mem::take(&mut a.community_ids),
            };
            ev.merge(&n.evidence);
            a.uids = ev.uids;
            a.community_ids = ev.community_ids;
            o.repeats += 1;
            return false;
        }
        if self.open.len() >= self.settings.max_open {
            self.close_oldest(out);
        }
        self.next_id += 1;
        let alert = AlertRecord {
            ts: n.ts,
            id: format!("{}-{}", self.id_prefix, self.next_id),
            detector: n.detector.to_string(),
            kind: n.kind.to_string(),
            severity: severity(n.score, critical),
            score: n.score,
            technique: n.technique.into_owned(),
            src: n.src,
            dst: n.dst,
            subject: n.subject.clone(),
            message: n.message,
            count: n.count,
            first_seen: n.first,
            last_seen: n.last,
            uids: n.evidence.uids,
            community_ids: n.evidence.community_ids,
            update: false,
            host_risk: None,
        };
        out.push((n.segment, alert.clone()));
        self.open.insert(
            key,
            Open {
                alert,
                repeats: 0,
                opened: n.ts,
            },
        );
        true
    }

    /// Sets the host risk of the alert just raised (the last in `out`),
    /// and of its open copy, so its update carries it too.
    pub fn set_risk(&mut self, out: &mut [(String, AlertRecord)], risk: f64) {
        let Some((_, a)) = out.last_mut() else { return };
        let r = risk.round() as u32;
        a.host_risk = Some(r);
        if let Some(o) = self.open.values_mut().find(|o| o.alert.id == a.id) {
            o.alert.host_risk = Some(r);
        }
    }

    /// Closes the alerts whose window ended by `now` (packet time),
    /// writing an update for those that repeated.
    pub fn expire(&mut self, now: f64, out: &mut Vec<(String, AlertRecord)>) {
        let window = self.settings.window;
        let done: Vec<Key> = self
            .open
            .iter()
            .filter(|(_, o)| now - o.opened >= window)
            .map(|(k, _)| k.clone())
            .collect();
        for k in done {
            if let Some(o) = self.open.remove(&k) {
                Self::close(k, o, out);
            }
        }
    }

    /// Closes everything (end of input).
    pub fn finish(&mut self, out: &mut Vec<(String, AlertRecord)>) {
        let mut all: Vec<(Key, Open)> = self.open.drain().collect();
        all.sort_by(|a, b| a.1.opened.total_cmp(&b.1.opened));
        for (k, o) in all {
            Self::close(k, o, out);
        }
    }

    fn close_oldest(&mut self, out: &mut Vec<(String, AlertRecord)>) {
        let oldest = self
            .open
            .iter()
            .min_by(|a, b| a.1.opened.total_cmp(&b.1.opened))
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            if let Some(o) = self.open.remove(&k) {
                Self::close(k, o, out);
            }
        }
    }

    fn close(k: Key, o: Open, out: &mut Vec<(String, AlertRecord)>) {
        if o.repeats > 0 {
            let mut a = o.alert;
            a.update = true;
            a.ts = a.last_seen;
            out.push((k.segment, a));
        }
    }

    pub fn open_alerts(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Evidence;

    fn notice(ts: f64, uid: &str) -> Notice {
        let mut evidence = Evidence::default();
        evidence.add(uid, Some("1:abc"));
        Notice {
            ts,
            segment: "care".into(),
            detector: "bruteforce",
            kind: "ssh",
            technique: "T1110".into(),
            score: 55,
            src: "10.1.1.1".parse().unwrap(),
            dst: Some("10.1.1.2".parse().unwrap()),
            subject: Some("ssh/22".into()),
            message: "m".into(),
            count: 20,
            first: ts - 10.0,
            last: ts,
            evidence,
        }
    }

    #[test]
    fn repeats_within_the_window_fold_into_one_alert_with_an_update() {
        let rules = Rules::default();
        let mut p = Policy::new(Settings::default(), "s1");
        let mut out = Vec::new();
        p.notice(&rules, notice(100.0, "C1"), false, &mut out);
        p.notice(&rules, notice(200.0, "C2"), false, &mut out);
        p.notice(&rules, notice(300.0, "C3"), false, &mut out);
        assert_eq!(out.len(), 1, "written once when first raised");
        assert_eq!(out[0].1.severity, Severity::Medium);
        assert!(!out[0].1.update);
        // The window closes: one update with everything folded in.
        p.expire(100.0 + 3600.0, &mut out);
        assert_eq!(out.len(), 2);
        let u = &out[1].1;
        assert!(u.update);
        assert_eq!(u.id, out[0].1.id);
        assert_eq!((u.count, u.first_seen, u.last_seen), (60, 90.0, 300.0));
        assert_eq!(u.uids, vec!["C1", "C2", "C3"]);
        // After the window a new alert starts.
        p.notice(&rules, notice(5000.0, "C4"), false, &mut out);
        assert_eq!(out.len(), 3);
        assert_ne!(out[2].1.id, out[0].1.id);
    }

    #[test]
    fn critical_segments_rank_higher_and_allowed_findings_are_counted() {
        let mut p = Policy::new(Settings::default(), "s1");
        let mut out = Vec::new();
        p.notice(&Rules::default(), notice(100.0, "C1"), true, &mut out);
        assert_eq!(out[0].1.severity, Severity::High);
        let mut rules = Rules::default();
        rules
            .add_file(
                std::path::Path::new("allow.toml"),
                "[[allow]]\ncomment = \"jump host\"\nsrc = \"10.1.1.1\"\n",
            )
            .unwrap();
        let mut q = Policy::new(Settings::default(), "s1");
        let mut out = Vec::new();
        q.notice(&rules, notice(100.0, "C1"), false, &mut out);
        assert!(out.is_empty());
        assert_eq!(q.allowed.get("allow.toml entry 1"), Some(&1));
    }
}
