//! The detectors of one stage, as sets: one set with the global
//! thresholds, and one more per segment kind that has thresholds of its
//! own (`[kind.guest.scan]`); each event goes to the set of its segment's
//! kind. Detectors without thresholds (indicators) form one set that sees
//! every event. Learned state is saved per set: the global set's under
//! the detector's name, a kind's under "<kind>:<name>".

use crate::detectors::{self, Detector, Tracked};
use crate::rules::{Rules, Thresholds};
use crate::Notice;
use vagt_schema::Event;

/// The detectors that have thresholds, built with `t`.
fn build(t: &Thresholds) -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(detectors::scan::Scan::new(t.scan.clone())),
        Box::new(detectors::bruteforce::Bruteforce::new(t.bruteforce.clone())),
        Box::new(detectors::spray::Spray::new(t.spray.clone())),
        Box::new(detectors::dns_tunnel::DnsTunnel::new(t.dns_tunnel.clone())),
        Box::new(detectors::ot_change::OtChange::new(t.ot_change.clone())),
        Box::new(detectors::beacon::Beacon::new(t.beacon.clone())),
        Box::new(detectors::lateral::Lateral::new(t.lateral.clone())),
        Box::new(detectors::new_rare::NewRare::new(t.new_rare.clone())),
        Box::new(detectors::spoofing::Spoofing::new(t.spoofing.clone())),
    ]
}

struct Set {
    /// The segment kind, or none for the global set.
    kind: Option<String>,
    detectors: Vec<Box<dyn Detector>>,
}

pub struct Sets {
    sets: Vec<Set>,
    /// Detectors every event goes to.
    every: Vec<Box<dyn Detector>>,
    /// The last segment routed and its set, since events come in runs.
    last: Option<(String, usize)>,
}

impl Sets {
    pub fn new(rules: &Rules) -> Sets {
        let t = &rules.thresholds;
        let mut sets = vec![Set {
            kind: None,
            detectors: build(t),
        }];
        for kind in rules.kind_thresholds.kinds() {
            sets.push(Set {
                kind: Some(kind.to_string()),
                detectors: build(&rules.kind_thresholds.thresholds(kind, t)),
            });
        }
        let mut s = Sets {
            sets,
            every: vec![Box::new(detectors::indicator::IndicatorMatch::new(
                rules.indicators.clone(),
                t.policy.window,
            ))],
            last: None,
        };
        s.rules_changed(rules);
        s
    }

    fn all(&mut self) -> impl Iterator<Item = &mut Box<dyn Detector>> {
        self.sets
            .iter_mut()
            .flat_map(|s| s.detectors.iter_mut())
            .chain(self.every.iter_mut())
    }

    /// Reads one event with the set of its segment's kind.
    pub fn observe(&mut self, rules: &Rules, event: &Event, out: &mut Vec<Notice>) {
        let seg = &event.origin.segment;
        let i = match &self.last {
            Some((s, i)) if s == seg => *i,
            _ => {
                let kind = rules.segment_kind(seg);
                let i = self
                    .sets
                    .iter()
                    .position(|s| s.kind.is_some() && s.kind.as_deref() == kind)
                    .unwrap_or(0);
                self.last = Some((seg.clone(), i));
                i
            }
        };
        if let Some(set) = self.sets.get_mut(i) {
            for d in &mut set.detectors {
                d.observe(event, out);
            }
        }
        for d in &mut self.every {
            d.observe(event, out);
        }
    }

    pub fn sweep(&mut self, now: f64, out: &mut Vec<Notice>) {
        for d in self.all() {
            d.sweep(now, out);
        }
    }

    /// New rules: lists and segment kinds (thresholds stay as at start).
    pub fn rules_changed(&mut self, rules: &Rules) {
        self.last = None;
        for d in self.all() {
            d.rules_changed(rules);
        }
    }

    pub fn tracked(&self) -> Tracked {
        self.sets
            .iter()
            .flat_map(|s| s.detectors.iter())
            .chain(self.every.iter())
            .map(|d| d.tracked())
            .fold(Tracked::default(), |a, b| a + b)
    }

    /// What the detectors remember, by saved name.
    pub fn save(&self) -> Vec<(String, serde_json::Value)> {
        let mut out = Vec::new();
        for s in &self.sets {
            for (name, v) in s.detectors.iter().filter_map(|d| d.save()) {
                out.push(match &s.kind {
                    Some(k) => (format!("{k}:{name}"), v),
                    None => (name.to_string(), v),
                });
            }
        }
        out.extend(
            self.every
                .iter()
                .filter_map(|d| d.save())
                .map(|(n, v)| (n.to_string(), v)),
        );
        out
    }

    /// Takes one saved part back; false when a detector refused it.
    pub fn restore(&mut self, name: &str, value: &serde_json::Value) -> bool {
        let (kind, inner) = match name.split_once(':') {
            Some((k, n)) => (Some(k), n),
            None => (None, name),
        };
        let mut ok = true;
        for s in &mut self.sets {
            if s.kind.as_deref() == kind {
                ok &= s.detectors.iter_mut().all(|d| d.restore(inner, value));
            }
        }
        if kind.is_none() {
            ok &= self.every.iter_mut().all(|d| d.restore(inner, value));
        }
        ok
    }
}
