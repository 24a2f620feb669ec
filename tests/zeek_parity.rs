//! Zeek parity: every Zeek conn.log in the corpus (Zeek's own test cases
//! in `zeek/`, the application-protocol cases in `zeek-app/` that keep a
//! conn.log, and the ICSNPP plugin cases in `ot/`) is replayed with the
//! flags of the Zeek command that produced it, and every record is
//! compared with its row on every column the baseline keeps of: 5-tuple,
//! proto, service (as a set), duration (to Zeek's six decimals), payload
//! bytes, conn_state, missed_bytes, history, packets, IP bytes and tunnel
//! parents.
//!
//! Every difference (a field that differs, a row without a record, a
//! record without a row) must be listed in `known.rs` with the values both
//! sides give, and every listed difference must still occur: the test
//! fails on anything new and on anything fixed but still listed.
//! `tests/PARITY.md` says why each listed difference exists.

mod common;
#[path = "zeek_parity/compare.rs"]
mod compare;
#[path = "zeek_parity/known.rs"]
mod known;

use common::*;
use compare::{compare_case, Difference, COMPARED};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The corpus folders holding Zeek baselines, and whether every folder in
/// them must have one (Zeek's own cases) or only some do.
const ROOTS: &[(&str, bool)] = &[("zeek", true), ("zeek-app", false), ("ot", false)];

fn cases() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for (root, all) in ROOTS {
        let dir = corpus().join(root);
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .filter(|p| *all || p.join("conn.log").exists())
            .collect();
        dirs.sort();
        for d in dirs {
            let name = d.file_name().unwrap_or_default().to_string_lossy();
            if *root != "zeek" && same_case(&d, &corpus().join("zeek").join(&*name)) {
                // The same baseline of the same trace, kept in both folders:
                // compared once, under `zeek/`.
                continue;
            }
            out.push((format!("{root}/{name}"), d));
        }
    }
    out
}

/// Whether two case folders hold byte-identical baselines and traces.
fn same_case(a: &Path, b: &Path) -> bool {
    let read = |dir: &Path, f: &str| std::fs::read(dir.join(f)).ok();
    let trace = |dir: &Path| trace_in(dir).and_then(|t| std::fs::read(t).ok());
    b.is_dir()
        && read(a, "conn.log").is_some()
        && read(a, "conn.log") == read(b, "conn.log")
        && trace(a).is_some()
        && trace(a) == trace(b)
}

fn rust_line(d: &Difference) -> String {
    format!(
        "    ({:?}, {:?}, {:?}, {:?}, {:?}),",
        d.case, d.conn, d.field, d.zeek, d.vagt
    )
}

#[test]
fn zeek_conn_log_parity() {
    let cases = cases();
    assert!(
        cases.len() >= 110,
        "expected the zeek, zeek-app and ot baselines, found {} cases",
        cases.len()
    );

    let (mut rows, mut exact, mut but_service) = (0usize, 0usize, 0usize);
    let mut fields: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut found: Vec<Difference> = Vec::new();
    let mut table = String::new();
    for (name, dir) in &cases {
        let Some(trace) = trace_in(dir) else {
            panic!("{name}: no trace");
        };
        let cmd = read_zeek_command(&dir.join("zeek-command.txt"));
        let (events, _) = replay(&config_for(&cmd), &[trace]);
        let log = read_zeek_log(&dir.join("conn.log"));
        let o = compare_case(name, &log, &conns(&events));
        rows += o.rows;
        exact += o.exact;
        but_service += o.exact_but_service;
        for (f, (a, n)) in &o.fields {
            let t = fields.entry(f).or_default();
            t.0 += a;
            t.1 += n;
        }
        let _ = writeln!(
            table,
            "{:>4}/{:<4} {name}{}",
            o.exact,
            o.rows,
            if o.differences.is_empty() {
                String::new()
            } else {
                format!(" ({} differences)", o.differences.len())
            }
        );
        found.extend(o.differences);
    }
    found.sort();

    let known: Vec<Difference> = known::KNOWN
        .iter()
        .map(|(case, conn, field, zeek, vagt)| Difference {
            case: case.to_string(),
            conn: conn.to_string(),
            field: field.to_string(),
            zeek: zeek.to_string(),
            vagt: vagt.to_string(),
        })
        .collect();
    let new: Vec<&Difference> = found.iter().filter(|d| !known.contains(d)).collect();
    let gone: Vec<&Difference> = known.iter().filter(|d| !found.contains(d)).collect();

    let mut per_field = String::new();
    for f in COMPARED {
        if let Some((a, n)) = fields.get(f) {
            let _ = writeln!(
                per_field,
                "  {f:<15} {a:>4}/{n:<4} ({:.1}%)",
                *a as f64 * 100.0 / (*n).max(1) as f64
            );
        }
    }
    let extra = found
        .iter()
        .filter(|d| d.field == "record" && d.zeek == "none")
        .count();
    let summary = format!(
        "zeek parity: {exact}/{rows} rows exact on every compared column ({:.1}%), \
         {but_service}/{rows} on every column but service ({:.1}%), \
         {extra} records Zeek does not have, {} differences ({} known, {} new, {} listed but gone), {} cases",
        exact as f64 * 100.0 / rows.max(1) as f64,
        but_service as f64 * 100.0 / rows.max(1) as f64,
        found.len(),
        found.len() - new.len(),
        new.len(),
        gone.len(),
        cases.len()
    );
    let mut full = format!("{summary}\n\nper field (rows that agree / rows compared):\n{per_field}\nper case:\n{table}\ndifferences:\n");
    for d in &found {
        let _ = writeln!(
            full,
            "{} {} | {} | {}: zeek {} vagt {}",
            if known.contains(d) { " " } else { "!" },
            d.case,
            d.conn,
            d.field,
            d.zeek,
            d.vagt
        );
    }
    if !new.is_empty() {
        full.push_str("\nnew differences, as known.rs lines:\n");
        for d in &new {
            full.push_str(&rust_line(d));
            full.push('\n');
        }
    }
    if !gone.is_empty() {
        full.push_str("\nlisted in known.rs but no longer found:\n");
        for d in &gone {
            full.push_str(&rust_line(d));
            full.push('\n');
        }
    }
    std::fs::write(report_dir().join("zeek-parity.txt"), &full).expect("write report");
    println!("{full}");
    assert!(
        new.is_empty() && gone.is_empty(),
        "{summary}; see target/test-reports/zeek-parity.txt"
    );
}
