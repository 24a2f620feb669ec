//! Kill chains: within one municipality and one (pseudonymous) host,
//! recon, then access, then lateral movement, then exfiltration or command
//! and control, in that order and within the window. A kill chain is an
//! incident of its own, critical.

use super::{Finding, KillChainRule};
use crate::store::{float, text, Store};
use std::collections::BTreeMap;

struct Row {
    ts: f64,
    detector: String,
    kind: String,
    technique: String,
}

/// Which stage an alert is (0 recon .. 3 objective), if any.
fn stage(rule: &KillChainRule, r: &Row) -> Option<usize> {
    let dk = format!("{}/{}", r.detector, r.kind);
    [&rule.recon, &rule.access, &rule.lateral, &rule.objective]
        .iter()
        .position(|list| {
            list.iter()
                .any(|x| *x == r.detector || *x == dk || *x == r.technique)
        })
}

/// Kill chains of the hosts with alerts received after `since`.
pub async fn find(store: &Store, rule: &KillChainRule, since: f64) -> anyhow::Result<Vec<Finding>> {
    let window = rule.window_hours * 3600.0;
    let fresh = sqlx::query(
        "SELECT municipality, src, MAX(ts) AS t FROM alerts WHERE received > $1 \
         GROUP BY municipality, src",
    )
    .bind(since)
    .fetch_all(&store.pool)
    .await?;
    // Per municipality, one read of its alerts in the window before the
    // newest of its fresh hosts (through the (municipality, ts) index:
    // there is no index by source, each insert into one cost ingest a
    // random page), kept for the fresh hosts only.
    let mut newest: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for h in &fresh {
        newest
            .entry(text(h, "municipality"))
            .or_default()
            .insert(text(h, "src"), float(h, "t"));
    }
    let mut hosts: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
    for (municipality, srcs) in &newest {
        let from = srcs.values().copied().fold(f64::MAX, f64::min) - window;
        let rows = sqlx::query(
            "SELECT src, ts, detector, kind, technique FROM alerts \
             WHERE municipality = $1 AND ts >= $2 ORDER BY ts",
        )
        .bind(municipality)
        .bind(from)
        .fetch_all(&store.pool)
        .await?;
        for r in &rows {
            let src = text(r, "src");
            let ts = float(r, "ts");
            // The host's alerts in the window before its newest one.
            if srcs.get(&src).is_none_or(|&t| ts < t - window) {
                continue;
            }
            hosts
                .entry((municipality.clone(), src))
                .or_default()
                .push(Row {
                    ts,
                    detector: text(r, "detector"),
                    kind: text(r, "kind"),
                    technique: text(r, "technique"),
                });
        }
    }
    let mut out = Vec::new();
    for ((municipality, host), rows) in hosts {
        if let Some(chain) = chain(rule, &rows, window) {
            let dets: Vec<String> = chain.iter().map(|&i| rows[i].detector.clone()).collect();
            out.push(Finding {
                rule: "kill_chain",
                key_kind: "host".into(),
                key_value: host.clone(),
                summary: format!(
                    "host {host}: {} within {:.1} hours",
                    chain
                        .iter()
                        .map(|&i| format!("{}/{}", rows[i].detector, rows[i].kind))
                        .collect::<Vec<_>>()
                        .join(" → "),
                    (rows[chain[3]].ts - rows[chain[0]].ts) / 3600.0
                ),
                municipalities: vec![municipality.clone()],
                municipality,
                detectors: dets,
                severity: "critical".into(),
                first_seen: rows[chain[0]].ts,
                last_seen: rows[chain[3]].ts,
                alerts: 4,
            });
        }
    }
    Ok(out)
}

/// The first recon → access → lateral → objective sequence within the
/// window, as row indices.
fn chain(rule: &KillChainRule, rows: &[Row], window: f64) -> Option<[usize; 4]> {
    let stages: Vec<Option<usize>> = rows.iter().map(|r| stage(rule, r)).collect();
    for start in 0..rows.len() {
        if stages[start] != Some(0) {
            continue;
        }
        let mut got = [start, 0, 0, 0];
        let mut want = 1;
        for (i, s) in stages.iter().enumerate().skip(start + 1) {
            if rows[i].ts - rows[start].ts > window {
                break;
            }
            if *s == Some(want) {
                got[want] = i;
                want += 1;
                if want == 4 {
                    return Some(got);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> KillChainRule {
        crate::correlate::Rules::load(std::path::Path::new(""))
            .unwrap()
            .kill_chain
    }

    fn row(ts: f64, detector: &str) -> Row {
        Row {
            ts,
            detector: detector.into(),
            kind: String::new(),
            technique: String::new(),
        }
    }

    #[test]
    fn stages_in_order_within_the_window() {
        let r = rule();
        let rows = vec![
            row(0.0, "scan"),
            row(10.0, "bruteforce"),
            row(20.0, "lateral"),
            row(30.0, "beacon"),
        ];
        assert_eq!(chain(&r, &rows, 3600.0), Some([0, 1, 2, 3]));
        // Out of order: exfiltration before the access.
        let rows = vec![
            row(0.0, "scan"),
            row(5.0, "volume"),
            row(10.0, "bruteforce"),
            row(20.0, "lateral"),
        ];
        assert_eq!(chain(&r, &rows, 3600.0), None);
        // Too slow.
        let rows = vec![
            row(0.0, "scan"),
            row(10.0, "bruteforce"),
            row(20.0, "lateral"),
            row(7200.0, "beacon"),
        ];
        assert_eq!(chain(&r, &rows, 3600.0), None);
    }
}
