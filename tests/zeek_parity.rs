//! Zeek parity: every test case in the corpus's `zeek/` folder is replayed
//! and the sensor's connection records are matched against Zeek's own
//! conn.log baseline on originator 5-tuple, proto, packets, IP bytes and
//! connection state.
//!
//! Baselines cut down to a few columns (zeek-cut) are matched on the
//! columns they keep; baselines that keep none of the compared fields are
//! matched on the history string. The test prints every mismatch and the
//! overall exact-match rate, and fails below 97%.

mod common;

use common::*;
use std::fmt::Write as _;
use vagt_schema::ConnRecord;

const METRIC: &[&str] = &[
    "orig_h",
    "orig_p",
    "resp_h",
    "resp_p",
    "proto",
    "orig_pkts",
    "resp_pkts",
    "orig_ip_bytes",
    "resp_ip_bytes",
    "conn_state",
];

struct Outcome {
    rows: usize,
    exact: usize,
    extra: usize,
    report: String,
}

fn describe(log: &ZeekLog, row: &[String], fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("{f}={}", log.get(row, f).unwrap_or("?")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn describe_ours(c: &ConnRecord, fields: &[&str]) -> String {
    fields
        .iter()
        .map(|f| format!("{f}={}", sensor_field(c, f).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn compare_case(name: &str, log: &ZeekLog, ours: &[ConnRecord]) -> Outcome {
    let mut fields: Vec<&str> = METRIC.iter().copied().filter(|f| log.has(f)).collect();
    let keyed = ["orig_h", "orig_p", "resp_h", "resp_p"]
        .iter()
        .all(|f| log.has(f));
    let history_only = fields.is_empty();
    if history_only && log.has("history") {
        fields.push("history");
    }
    let mut used = vec![false; ours.len()];
    let mut out = Outcome {
        rows: log.rows.len(),
        exact: 0,
        extra: 0,
        report: String::new(),
    };
    for row in &log.rows {
        let agree = |c: &ConnRecord, f: &str| {
            let z = log.get(row, f).unwrap_or("");
            sensor_field(c, f).is_some_and(|v| same_value(f, z, &v))
        };
        let candidates: Vec<usize> = (0..ours.len())
            .filter(|&i| !used[i])
            .filter(|&i| {
                !keyed
                    || ["orig_h", "orig_p", "resp_h", "resp_p"]
                        .iter()
                        .all(|f| agree(&ours[i], f))
            })
            .collect();
        let exact = candidates
            .iter()
            .copied()
            .find(|&i| fields.iter().all(|f| agree(&ours[i], f)));
        match exact {
            Some(i) => {
                used[i] = true;
                out.exact += 1;
            }
            None => {
                let best = candidates
                    .iter()
                    .copied()
                    .max_by_key(|&i| fields.iter().filter(|f| agree(&ours[i], f)).count());
                let _ = writeln!(
                    out.report,
                    "- {name}\n    zeek: {}\n    vagt: {}",
                    describe(log, row, &fields),
                    best.map_or("(no record)".to_string(), |i| describe_ours(
                        &ours[i], &fields
                    ))
                );
                if keyed {
                    if let Some(i) = best {
                        used[i] = true;
                    }
                }
            }
        }
    }
    out.extra = used.iter().filter(|u| !**u).count();
    for (i, c) in ours.iter().enumerate() {
        if !used[i] {
            let _ = writeln!(
                out.report,
                "+ {name} (not in Zeek's log)\n    vagt: {}",
                describe_ours(c, METRIC)
            );
        }
    }
    out
}

#[test]
fn zeek_conn_log_parity() {
    let root = corpus().join("zeek");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("corpus zeek folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the zeek corpus, found {} cases",
        cases.len()
    );

    let (mut rows, mut exact, mut extra) = (0usize, 0usize, 0usize);
    let mut report = String::new();
    let mut table = String::new();
    for dir in &cases {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let Some(trace) = trace_in(dir) else {
            panic!("{name}: no trace");
        };
        let cmd = read_zeek_command(&dir.join("zeek-command.txt"));
        let cfg = config_for(&cmd);
        let (events, _) = replay(&cfg, &[trace]);
        let ours = conns(&events);
        let log = read_zeek_log(&dir.join("conn.log"));
        let o = compare_case(&name, &log, &ours);
        rows += o.rows;
        exact += o.exact;
        extra += o.extra;
        report.push_str(&o.report);
        let _ = writeln!(
            table,
            "{:>4}/{:<4} {}{}",
            o.exact,
            o.rows,
            name,
            if o.extra > 0 {
                format!(" (+{} records Zeek does not have)", o.extra)
            } else {
                String::new()
            }
        );
    }
    let rate = exact as f64 / rows.max(1) as f64;
    let summary = format!(
        "zeek parity: {exact}/{rows} connections exact ({:.1}%), {extra} extra records, {} cases",
        rate * 100.0,
        cases.len()
    );
    let full = format!("{summary}\n\nper case:\n{table}\nmismatches:\n{report}");
    std::fs::write(report_dir().join("zeek-parity.txt"), &full).expect("write report");
    println!("{full}");
    assert!(rate >= 0.97, "{summary}");
}
