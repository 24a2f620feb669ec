//! Vagt's analysis stage: detectors read the events the sensor produces
//! (connections, application records) and raise notices; the policy stage,
//! driven by the rules files, decides which become alerts, how severe they
//! are, and folds repeats together (Zeek's notice framework is the model).
//!
//! It depends on `vagt-schema` alone, not on capture or the sensor's
//! pipeline, so the same detectors can run at the centre. The sensor runs
//! it in its writer thread, after the workers' events are merged, because
//! workers shard by address pair and one scanner's connections land on
//! several workers.
//!
//! Parts: [`detectors`] (one module each), [`notice`], [`policy`],
//! [`rules`] (the rules files), [`indicators`] (the indicator lists and
//! Zeek intel feeds), [`cidr`].

pub mod baseline;
pub mod cidr;
pub mod detectors;
pub mod indicators;
pub mod kinds;
pub mod notice;
pub mod policy;
pub mod risk;
pub mod rules;
pub mod sets;
pub mod state;

pub use notice::{Evidence, Notice};
pub use rules::{Rules, RulesError};

use vagt_schema::{Event, EventBody, Origin};

/// Packet-time seconds between sweeps of timed-out state.
const SWEEP: f64 = 60.0;

/// The analysis stage of one sensor.
pub struct Analysis {
    rules: Rules,
    detectors: sets::Sets,
    policy: policy::Policy,
    notices: Vec<Notice>,
    alerts: Vec<(String, vagt_schema::AlertRecord)>,
    /// The envelope of the last event seen, for alerts raised by a sweep.
    origin: Option<Origin>,
    last_sweep: f64,
    baselines: baseline::Baselines,
    volume: detectors::volume::Volume,
    risk: risk::Risk,
    reports: Vec<baseline::Report>,
    metrics: Vec<(String, vagt_schema::SegmentMetricsRecord)>,
    /// Write `segment_metrics` events.
    pub write_metrics: bool,
    /// Packet-time interval number last advanced to.
    advanced: f64,
    /// An interval was written since the state was last saved.
    dirty: bool,
    /// Counters for health output.
    pub stats: Stats,
}

/// What the stage did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub events: u64,
    pub notices: u64,
    pub alerts: u64,
    pub allowed: u64,
}

impl Analysis {
    /// A stage with `rules`; `id_prefix` makes alert ids unique per sensor.
    pub fn new(rules: Rules, id_prefix: &str) -> Analysis {
        let t = &rules.thresholds;
        let detectors = sets::Sets::new(&rules);
        Analysis {
            baselines: baseline::Baselines::new(t.baseline.clone()),
            volume: detectors::volume::Volume::from_rules(&rules),
            risk: risk::Risk::new(t.risk.clone()),
            reports: Vec::new(),
            metrics: Vec::new(),
            write_metrics: true,
            advanced: f64::NEG_INFINITY,
            dirty: false,
            policy: policy::Policy::new(t.policy.clone(), id_prefix),
            rules,
            detectors,
            notices: Vec::new(),
            alerts: Vec::new(),
            origin: None,
            last_sweep: f64::NEG_INFINITY,
            stats: Stats::default(),
        }
    }

    /// Replaces the rules (a reload); learned state is kept, and the
    /// detectors that read lists from the rules take the new ones.
    pub fn set_rules(&mut self, mut rules: Rules) {
        // Segment kinds come from the configuration, not the files.
        rules.segment_kinds = std::mem::take(&mut self.rules.segment_kinds);
        self.detectors.rules_changed(&rules);
        self.volume = detectors::volume::Volume::from_rules(&rules);
        self.rules = rules;
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Alerts still open (repeats may fold into them).
    /// The baselines' learning state at `now` (packet time).
    pub fn segments_learning(&self, now: f64) -> vagt_schema::LearningState {
        self.baselines.learning_state(now)
    }

    pub fn open_alerts(&self) -> usize {
        self.policy.open_alerts()
    }

    /// Reads one event; alerts it completes are appended to `out`.
    pub fn observe(&mut self, event: &Event, out: &mut Vec<Event>) {
        if matches!(event.body, EventBody::Alert(_) | EventBody::Stats(_)) {
            return;
        }
        self.stats.events += 1;
        if self.origin.as_ref() != Some(&event.origin) {
            self.origin = Some(event.origin.clone());
        }
        self.detectors
            .observe(&self.rules, event, &mut self.notices);
        self.baselines.observe(event, &mut self.reports);
        if let Some(ts) = event_time(&event.body) {
            let step = (ts / self.baselines.settings().interval).floor();
            if step > self.advanced {
                self.advanced = step;
                self.baselines
                    .advance(ts, &mut self.metrics, &mut self.reports);
            }
            if ts - self.last_sweep >= SWEEP {
                self.last_sweep = ts;
                self.detectors.sweep(ts, &mut self.notices);
                self.policy.expire(ts, &mut self.alerts);
            }
        }
        self.decide(out);
    }

    /// End of input: pending findings are decided and open alerts closed.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.detectors.sweep(f64::INFINITY, &mut self.notices);
        self.baselines.flush(&mut self.metrics, &mut self.reports);
        self.decide(out);
        self.policy.finish(&mut self.alerts);
        self.emit(out);
    }

    /// All bounded state: detectors' tables, baselines, host risk.
    pub fn tracked(&self) -> detectors::Tracked {
        self.detectors.tracked() + self.baselines.tracked() + self.risk.tracked()
    }

    /// The baselines, to show or save.
    pub fn baselines(&self) -> &baseline::Baselines {
        &self.baselines
    }

    /// What to save of the learned state.
    pub fn saved(&self) -> state::SavedRef<'_> {
        state::SavedRef {
            version: state::VERSION,
            now: self.baselines.now,
            baselines: &self.baselines,
            detectors: self.detectors.save().into_iter().collect(),
        }
    }

    /// Continues from saved state; names the detectors whose part could
    /// not be used (they start afresh).
    pub fn restore(&mut self, saved: state::Saved) -> Vec<String> {
        let mut refused = Vec::new();
        for (name, value) in &saved.detectors {
            if !self.detectors.restore(name, value) {
                refused.push(name.clone());
            }
        }
        self.baselines = saved.baselines;
        refused
    }

    /// Whether an interval was written since the last call: the state is
    /// worth saving.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    fn decide(&mut self, out: &mut Vec<Event>) {
        for r in self.reports.drain(..) {
            self.volume.judge(&r, &self.baselines, &mut self.notices);
        }
        if !self.metrics.is_empty() {
            self.dirty = true;
        }
        for (segment, m) in std::mem::take(&mut self.metrics) {
            if self.write_metrics {
                out.push(Event::new(
                    self.origin_for(segment),
                    EventBody::SegmentMetrics(m),
                ));
            }
        }
        let mut queue: std::collections::VecDeque<Notice> = self.notices.drain(..).collect();
        while let Some(n) = queue.pop_front() {
            self.stats.notices += 1;
            let critical = self.rules.is_critical(&n.segment);
            let before = self.policy.allowed.values().sum::<u64>();
            // The host's risk counts alerts, not the repeats folded in.
            let scored = (n.detector != "risk").then(|| n.clone());
            let new = self
                .policy
                .notice(&self.rules, n, critical, &mut self.alerts);
            self.stats.allowed += self.policy.allowed.values().sum::<u64>() - before;
            if let (true, Some(n)) = (new, scored) {
                let (risk, raised) = self.risk.add(&n);
                if risk > 0.0 {
                    self.policy.set_risk(&mut self.alerts, risk);
                }
                queue.extend(raised);
            }
        }
        self.emit(out);
    }

    fn emit(&mut self, out: &mut Vec<Event>) {
        let alerts = std::mem::take(&mut self.alerts);
        for (segment, alert) in alerts {
            self.stats.alerts += 1;
            out.push(Event::new(
                self.origin_for(segment),
                EventBody::Alert(alert),
            ));
        }
    }

    /// This sensor's envelope for `segment`.
    fn origin_for(&self, segment: String) -> Origin {
        match &self.origin {
            Some(o) => Origin {
                segment,
                ..o.clone()
            },
            None => Origin {
                municipality: String::new(),
                sensor: String::new(),
                segment,
            },
        }
    }
}

/// The packet time an event carries, where it has one.
pub fn event_time(body: &EventBody) -> Option<f64> {
    Some(match body {
        EventBody::Conn(r) => r.ts + r.duration.unwrap_or(0.0),
        EventBody::Dns(r) => r.ts,
        EventBody::Ssh(r) => r.ts,
        EventBody::Ftp(r) => r.ts,
        EventBody::Http(r) => r.ts,
        EventBody::Kerberos(r) => r.ts,
        EventBody::Ldap(r) => r.ts,
        EventBody::Ntlm(r) => r.ts,
        EventBody::Rdp(r) => r.ts,
        EventBody::Modbus(r) => r.ts,
        EventBody::Dnp3(r) => r.ts,
        EventBody::Bacnet(r) => r.ts,
        EventBody::S7comm(r) => r.ts,
        EventBody::Enip(r) => r.ts,
        EventBody::OtSummary(r) => r.last_ts,
        EventBody::Ssl(r) => r.ts,
        EventBody::Arp(r) => r.ts,
        EventBody::Dhcp(r) => r.ts,
        EventBody::Asset(r) => r.last_seen,
        _ => return None,
    })
}
