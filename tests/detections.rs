//! Detections on the corpus, held to `tests/DETECTIONS.md`: every labelled
//! attack in `attacks/LABELS.tsv` raises its expected detection (and the
//! one the label says a threshold detector must stay quiet on raises
//! none), and the benign references in `zeek/` and `ot/` raise no high
//! alert but those the document lists with a reason.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use vagt_schema::{AlertRecord, Event, EventBody, Severity};
use vagt_sensor::config::Config;

fn alerts(path: &Path) -> Vec<AlertRecord> {
    let mut cfg = Config::default();
    cfg.pipeline.workers = 1;
    let (events, _) = vagt_sensor::app::replay_collect_analysed(&cfg, &[path.to_path_buf()])
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    events
        .into_iter()
        .filter_map(|e: Event| match e.body {
            EventBody::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// The detector a label's words call for.
fn expected_detector(label: &str) -> Option<&'static str> {
    let l = label.to_ascii_lowercase();
    if l.starts_with("port-scan") {
        Some("scan")
    } else if l.contains("bruteforce") {
        Some("bruteforce")
    } else if l.starts_with("dns-tunnel") {
        Some("dns_tunnel")
    } else if l.starts_with("ot-") {
        Some("ot_change")
    } else {
        None
    }
}

#[test]
fn every_labelled_attack_raises_its_detection() {
    let dir = corpus().join("attacks");
    let labels = std::fs::read_to_string(dir.join("LABELS.tsv")).expect("attacks/LABELS.tsv");
    let mut failures = Vec::new();
    let mut checked = 0;
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(label)) = (cols.first(), cols.get(4)) else {
            continue;
        };
        let Some(want) = expected_detector(label) else {
            continue;
        };
        checked += 1;
        let got = alerts(&dir.join(file));
        let fired: BTreeSet<&str> = got.iter().map(|a| a.detector.as_str()).collect();
        let quiet = label.contains("should stay quiet");
        if quiet && fired.contains(want) {
            failures.push(format!(
                "{file}: {want} fired, the label says it should stay quiet"
            ));
        } else if !quiet && !fired.contains(want) {
            failures.push(format!("{file}: expected {want}, got {fired:?}"));
        }
        for a in &got {
            // Every alert explains itself in numbers and names its evidence.
            assert!(
                a.message.chars().any(|c| c.is_ascii_digit()),
                "{file}: {}",
                a.message
            );
            assert!(a.count >= 1 && a.first_seen <= a.last_seen, "{file}: {a:?}");
            assert!(!a.technique.is_empty(), "{file}: {a:?}");
        }
    }
    assert!(checked >= 15, "only {checked} labelled captures");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The captures DETECTIONS.md allows a high alert on, with the detector
/// and kind it names.
fn documented_high() -> BTreeMap<String, (String, String)> {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/DETECTIONS.md"),
    )
    .expect("tests/DETECTIONS.md");
    let mut out = BTreeMap::new();
    let mut in_table = false;
    for line in doc.lines() {
        if line.starts_with("## ") {
            in_table = line.contains("high alerts that are right");
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if !in_table || cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let capture = cells[1].trim_matches('`').to_string();
        let words: Vec<String> = cells[2]
            .split('`')
            .filter(|w| !w.trim().is_empty())
            .map(|w| w.trim().to_string())
            .collect();
        if let [detector, kind] = words.as_slice() {
            out.insert(capture, (detector.clone(), kind.clone()));
        }
    }
    out
}

fn benign_captures() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for folder in ["zeek", "ot"] {
        let dir = corpus().join(folder);
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("corpus folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        cases.sort();
        for case in cases {
            if let Some(trace) = trace_in(&case) {
                let name = format!(
                    "{folder}/{}",
                    case.file_name().unwrap_or_default().to_string_lossy()
                );
                out.push((name, trace));
            }
        }
    }
    out
}

#[test]
fn benign_references_raise_no_high_alert_but_the_documented_ones() {
    let documented = documented_high();
    assert!(!documented.is_empty(), "DETECTIONS.md lists no capture");
    let mut unexplained = Vec::new();
    let mut seen = BTreeSet::new();
    let captures = benign_captures();
    assert!(
        captures.len() > 100,
        "only {} benign captures",
        captures.len()
    );
    for (name, trace) in captures {
        for a in alerts(&trace) {
            if a.severity < Severity::High {
                continue;
            }
            match documented.get(&name) {
                Some((d, k)) if *d == a.detector && *k == a.kind => {
                    seen.insert(name.clone());
                }
                _ => unexplained.push(format!(
                    "{name}: {} {} {}: {}",
                    a.severity.as_str(),
                    a.detector,
                    a.kind,
                    a.message
                )),
            }
        }
    }
    let stale: Vec<&String> = documented.keys().filter(|k| !seen.contains(*k)).collect();
    assert!(
        unexplained.is_empty(),
        "high alerts DETECTIONS.md does not explain: {unexplained:#?}"
    );
    assert!(
        stale.is_empty(),
        "listed in DETECTIONS.md but no longer raised: {stale:#?}"
    );
}
