//! Scoring alerts against the generator's labels: an alert is a true
//! positive when a label has the same detector, the alert's source is the
//! label's source (or its target, for detectors that key on the victim;
//! or, for a segment-wide alert without a host, the alert's segment is the
//! label's) and it was first raised within the label's window plus slack; every
//! other alert of the evaluation days is a false positive. The kind is not
//! required to match (a port scan of many hosts is rightly also an address
//! scan). Only first writes count: an update of an alert is the same
//! alert. An alert about a labelled attack's host in its window that
//! another detector was expected to find (the risk alert on it, a rare
//! TLS fingerprint of a beaconing implant) is true too ("TP other"), but
//! detects no label: recall counts only a detector's own labels.

use crate::municipal::Label;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Seconds before a label's start and after its end an alert still counts.
pub const SLACK_BEFORE: f64 = 60.0;
pub const SLACK_AFTER: f64 = 3600.0;

/// The detectors the table always shows: those in the analysis stage now
/// and those being written (their rows fill in when they land).
pub const DETECTORS: [&str; 11] = [
    "scan",
    "bruteforce",
    "dns_tunnel",
    "ot_change",
    "indicator",
    "volume",
    "beacon",
    "lateral",
    "new_rare",
    "spoofing",
    "risk",
];

/// One alert as first written.
#[derive(Clone, Debug)]
pub struct Seen {
    pub ts: f64,
    pub detector: String,
    pub kind: String,
    pub src: IpAddr,
    pub segment: String,
}

impl Seen {
    /// An alert event as first written; `None` for other events and for
    /// the updates of an alert (the same alert again).
    pub fn of(e: vagt_schema::Event) -> Option<Seen> {
        match e.body {
            vagt_schema::EventBody::Alert(a) if !a.update => Some(Seen {
                ts: a.ts,
                detector: a.detector,
                kind: a.kind,
                src: a.src,
                segment: e.origin.segment,
            }),
            _ => None,
        }
    }
}

#[derive(Default, Clone, Debug)]
pub struct Row {
    pub alerts: u64,
    pub tp: u64,
    /// True positives about an attack labelled for another detector (a
    /// beaconing implant's rare TLS fingerprint, a risk alert).
    pub tp_other: u64,
    pub fp: u64,
    pub learning_alerts: u64,
    pub labels: u64,
    pub detected: u64,
}

/// The scores of one pass.
pub struct Score {
    pub rows: BTreeMap<String, Row>,
    /// False positives per segment over the evaluation days.
    pub fp_by_segment: BTreeMap<String, u64>,
    /// For each label: alerts that matched it and the first one's delay.
    pub per_label: Vec<(u64, Option<f64>)>,
    pub eval_days: f64,
    /// False alerts grouped by detector, kind, source and segment, the
    /// most frequent first.
    pub top_fp: Vec<(String, u64)>,
}

/// Whether alert `a` is about the attack of label `l`: its host is the
/// label's source or target, within the label's window and slack. A
/// segment-wide finding (the volume detector's segment hour) names no
/// host; it is about the label's segment, for the label's own detector.
fn about(l: &Label, a: &Seen) -> bool {
    let entity = if a.src.is_unspecified() {
        a.segment == l.segment && a.detector == l.detector
    } else {
        a.src == l.src || Some(a.src) == l.dst
    };
    entity && a.ts >= l.start - SLACK_BEFORE && a.ts <= l.end + SLACK_AFTER
}

pub fn score(
    alerts: &[Seen],
    labels: &[Label],
    eval_start: f64,
    eval_days: f64,
    segments: &[String],
) -> Score {
    let mut rows: BTreeMap<String, Row> = DETECTORS
        .iter()
        .map(|d| (d.to_string(), Row::default()))
        .collect();
    let mut fp_by_segment: BTreeMap<String, u64> =
        segments.iter().map(|s| (s.clone(), 0)).collect();
    let mut per_label = vec![(0u64, None::<f64>); labels.len()];
    let mut fp_kinds: BTreeMap<String, u64> = BTreeMap::new();
    for l in labels {
        rows.entry(l.detector.to_string()).or_default().labels += 1;
    }
    for a in alerts {
        let row = rows.entry(a.detector.clone()).or_default();
        if a.ts < eval_start {
            row.learning_alerts += 1;
            continue;
        }
        row.alerts += 1;
        let mut hit = false;
        let mut own = false;
        for (i, l) in labels.iter().enumerate() {
            if about(l, a) {
                hit = true;
                if a.detector != l.detector {
                    // True (it is about an attack), but not this detector's
                    // label: it counts for precision, not for recall.
                    continue;
                }
                own = true;
                let p = &mut per_label[i];
                p.0 += 1;
                let delay = (a.ts - l.start).max(0.0);
                p.1 = Some(p.1.map_or(delay, |d: f64| d.min(delay)));
            }
        }
        if hit {
            row.tp += 1;
            if !own {
                row.tp_other += 1;
            }
        } else {
            row.fp += 1;
            *fp_by_segment.entry(a.segment.clone()).or_default() += 1;
            *fp_kinds
                .entry(format!(
                    "{}/{} from {} ({})",
                    a.detector, a.kind, a.src, a.segment
                ))
                .or_default() += 1;
        }
    }
    for (i, l) in labels.iter().enumerate() {
        if per_label[i].0 > 0 {
            rows.entry(l.detector.to_string()).or_default().detected += 1;
        }
    }
    let mut top_fp: Vec<(String, u64)> = fp_kinds.into_iter().collect();
    top_fp.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Score {
        rows,
        fp_by_segment,
        per_label,
        eval_days,
        top_fp,
    }
}

fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.2}", a as f64 / b as f64)
    }
}

impl Score {
    /// The tables, for people.
    pub fn table(&self, title: &str, labels: &[Label]) -> String {
        let mut s = format!("{title}\n\n");
        s.push_str(&format!(
            "{:<11} {:>7} {:>6} {:>8} {:>6} {:>9} {:>7} {:>9} {:>7} {:>15}\n",
            "detector",
            "alerts",
            "TP",
            "TP other",
            "FP",
            "precision",
            "labels",
            "detected",
            "recall",
            "learning alerts"
        ));
        let mut tot = Row::default();
        for (d, r) in &self.rows {
            s.push_str(&format!(
                "{:<11} {:>7} {:>6} {:>8} {:>6} {:>9} {:>7} {:>9} {:>7} {:>15}\n",
                d,
                r.alerts,
                r.tp,
                r.tp_other,
                r.fp,
                ratio(r.tp, r.alerts),
                r.labels,
                r.detected,
                ratio(r.detected, r.labels),
                r.learning_alerts
            ));
            tot.alerts += r.alerts;
            tot.tp += r.tp;
            tot.tp_other += r.tp_other;
            tot.fp += r.fp;
            tot.labels += r.labels;
            tot.detected += r.detected;
            tot.learning_alerts += r.learning_alerts;
        }
        s.push_str(&format!(
            "{:<11} {:>7} {:>6} {:>8} {:>6} {:>9} {:>7} {:>9} {:>7} {:>15}\n\n",
            "all",
            tot.alerts,
            tot.tp,
            tot.tp_other,
            tot.fp,
            ratio(tot.tp, tot.alerts),
            tot.labels,
            tot.detected,
            ratio(tot.detected, tot.labels),
            tot.learning_alerts
        ));
        s.push_str(&format!(
            "False alerts per segment-day (evaluation days: {:.0}):\n",
            self.eval_days
        ));
        let total: u64 = self.fp_by_segment.values().sum();
        for (seg, n) in &self.fp_by_segment {
            s.push_str(&format!(
                "  {:<14} {:>6} alerts  {:>7.2} per day\n",
                seg,
                n,
                *n as f64 / self.eval_days
            ));
        }
        let segdays = self.eval_days * self.fp_by_segment.len() as f64;
        s.push_str(&format!(
            "  {:<14} {:>6} alerts  {:>7.2} per segment-day\n\n",
            "all",
            total,
            total as f64 / segdays.max(1.0)
        ));
        if !self.top_fp.is_empty() {
            s.push_str("Most frequent false alerts (detector/kind from source):\n");
            for (k, n) in self.top_fp.iter().take(12) {
                s.push_str(&format!("  {n:>5}  {k}\n"));
            }
            s.push('\n');
        }
        s.push_str("Labels:\n");
        for (l, (n, delay)) in labels.iter().zip(&self.per_label) {
            let found = match delay {
                Some(d) => format!("found ({n} alerts, first after {d:.0} s)"),
                None => "missed".to_string(),
            };
            s.push_str(&format!(
                "  {:<11} {:<14} {:<15} {}: {}\n",
                l.detector, l.segment, l.src, l.what, found
            ));
        }
        s
    }

    pub fn json(&self, labels: &[Label]) -> serde_json::Value {
        let rows: serde_json::Map<String, serde_json::Value> = self
            .rows
            .iter()
            .map(|(d, r)| {
                (
                    d.clone(),
                    json!({
                        "alerts": r.alerts, "true_positives": r.tp, "true_positives_of_other_labels": r.tp_other, "false_positives": r.fp,
                        "precision": (r.alerts > 0).then(|| r.tp as f64 / r.alerts as f64),
                        "labels": r.labels, "detected": r.detected,
                        "recall": (r.labels > 0).then(|| r.detected as f64 / r.labels as f64),
                        "learning_alerts": r.learning_alerts,
                    }),
                )
            })
            .collect();
        let per_label: Vec<serde_json::Value> = labels
            .iter()
            .zip(&self.per_label)
            .map(|(l, (n, delay))| {
                json!({
                    "detector": l.detector, "kind": l.kind, "src": l.src, "dst": l.dst,
                    "segment": l.segment, "start": l.start, "end": l.end, "what": l.what,
                    "alerts": n, "first_alert_after": delay,
                })
            })
            .collect();
        json!({
            "detectors": rows,
            "false_alerts_per_segment": self.fp_by_segment,
            "false_alerts_by_source": self.top_fp.iter().map(|(k, n)| json!({"alert": k, "count": n})).collect::<Vec<_>>(),
            "evaluation_days": self.eval_days,
            "labels": per_label,
        })
    }
}
