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

pub mod cidr;
pub mod detectors;
pub mod indicators;
pub mod notice;
pub mod policy;
pub mod rules;

pub use notice::{Evidence, Notice};
pub use rules::{Rules, RulesError};

use detectors::Detector;
use vagt_schema::{Event, EventBody, Origin};

/// Packet-time seconds between sweeps of timed-out state.
const SWEEP: f64 = 60.0;

/// The analysis stage of one sensor.
pub struct Analysis {
    rules: Rules,
    detectors: Vec<Box<dyn Detector>>,
    policy: policy::Policy,
    notices: Vec<Notice>,
    alerts: Vec<(String, vagt_schema::AlertRecord)>,
    /// The envelope of the last event seen, for alerts raised by a sweep.
    origin: Option<Origin>,
    last_sweep: f64,
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
        let mut detectors: Vec<Box<dyn Detector>> = vec![
            Box::new(detectors::scan::Scan::new(t.scan.clone())),
            Box::new(detectors::bruteforce::Bruteforce::new(t.bruteforce.clone())),
            Box::new(detectors::dns_tunnel::DnsTunnel::new(t.dns_tunnel.clone())),
            Box::new(detectors::ot_change::OtChange::new(t.ot_change.clone())),
            Box::new(detectors::spoofing::Spoofing::new(t.spoofing.clone())),
            Box::new(detectors::indicator::IndicatorMatch::new(
                rules.indicators.clone(),
                t.policy.window,
            )),
        ];
        // Detectors that judge by segment kind or read lists take them
        // from the rules, at start as on every reload.
        for d in &mut detectors {
            d.rules_changed(&rules);
        }
        Analysis {
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
        for d in &mut self.detectors {
            d.rules_changed(&rules);
        }
        self.rules = rules;
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Alerts still open (repeats may fold into them).
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
        for d in &mut self.detectors {
            d.observe(event, &mut self.notices);
        }
        if let Some(ts) = event_time(&event.body) {
            if ts - self.last_sweep >= SWEEP {
                self.last_sweep = ts;
                for d in &mut self.detectors {
                    d.sweep(ts, &mut self.notices);
                }
                self.policy.expire(ts, &mut self.alerts);
            }
        }
        self.decide(out);
    }

    /// End of input: pending findings are decided and open alerts closed.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        for d in &mut self.detectors {
            d.sweep(f64::INFINITY, &mut self.notices);
        }
        self.decide(out);
        self.policy.finish(&mut self.alerts);
        self.emit(out);
    }

    fn decide(&mut self, out: &mut Vec<Event>) {
        for n in self.notices.drain(..) {
            self.stats.notices += 1;
            let critical = self.rules.is_critical(&n.segment);
            let before = self.policy.allowed.values().sum::<u64>();
            self.policy
                .notice(&self.rules, n, critical, &mut self.alerts);
            self.stats.allowed += self.policy.allowed.values().sum::<u64>() - before;
        }
        self.emit(out);
    }

    fn emit(&mut self, out: &mut Vec<Event>) {
        for (segment, alert) in self.alerts.drain(..) {
            self.stats.alerts += 1;
            let origin = match &self.origin {
                Some(o) => Origin {
                    segment,
                    ..o.clone()
                },
                None => Origin {
                    municipality: String::new(),
                    sensor: String::new(),
                    segment,
                },
            };
            out.push(Event::new(origin, EventBody::Alert(alert)));
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
