//! Application-log parity with Zeek: for each Zeek protocol log in the
//! corpus (`zeek-app/*/dns.log`, ...), every case is replayed with the
//! flags of the Zeek command that produced it, and every Zeek row is
//! compared with the sensor's record of the same kind on every column both
//! have. The share of rows reproduced field-exact must reach the target
//! the issue sets (95% for dns, ssl, http, dhcp and ssh; 90% for the
//! others). Each log's full report (per case, every difference) goes to
//! `target/test-reports/app-parity-<log>.txt`; `tests/PARITY.md` explains
//! the differences that remain.
//!
//! Connections are keyed as Zeek keys them (without the VLAN). Masked
//! values (`XXXXXXXXXX.XXXXXX`, Zeek's test tool hides times) and
//! the uid (Zeek's test uids are not the sensor's) are not compared.

mod common;

use common::app_logs::{app_config, cases, records, zeek_text, Record};
use common::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;

fn agree(column: &str, zeek: &str, ours: &str) -> bool {
    if zeek == ours {
        return true;
    }
    // An unset vector and an empty one print differently but mean the same.
    if (zeek == "-" && ours == "(empty)") || (zeek == "(empty)" && ours == "-") {
        return true;
    }
    if zeek.contains('\\') && unescape(zeek) == ours {
        return true;
    }
    // Zeek's test uids are not the sensor's: a set of uids agrees when it
    // names as many connections.
    if column == "uids" {
        return zeek.split(',').count() == ours.split(',').count();
    }
    same_value(column, zeek, ours)
}

/// A value as Zeek's TSV writer escaped it (`\\` for a backslash, `\xNN`
/// for other bytes), back to its text.
fn unescape(zeek: &str) -> String {
    let b = zeek.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            (b'\\', Some(b'\\')) => {
                out.push(b'\\');
                i += 2;
            }
            (b'\\', Some(b'x')) => {
                match zeek
                    .get(i + 2..i + 4)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 4;
                    }
                    None => {
                        out.push(b'\\');
                        i += 1;
                    }
                }
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One difference: case, the row's connection, column, both values.
struct Difference {
    case: String,
    conn: String,
    column: String,
    zeek: String,
    ours: String,
}

#[derive(Default)]
struct Tally {
    rows: usize,
    exact: usize,
    columns: BTreeMap<String, (usize, usize)>,
    differences: Vec<Difference>,
    per_case: String,
}

const IDENT: &[&str] = &["orig_h", "orig_p", "resp_h", "resp_p"];

/// Compares one case: pairs each Zeek row with the unpaired record of the
/// same connection that agrees on the most columns.
fn compare(case: &str, log: &ZeekLog, ours: &[Record], tally: &mut Tally) {
    // Columns written only when set are compared in every case, so that a
    // case where the sensor never sets them still counts its rows.
    const OPTIONAL: [&str; 3] = ["orig_mime_types", "resp_mime_types", "mime_type"];
    let columns: Vec<&String> = log
        .fields
        .iter()
        .filter(|f| {
            *f != "uid"
                && *f != "ts"
                && (OPTIONAL.contains(&f.as_str()) || ours.iter().any(|r| r.contains_key(*f)))
        })
        .collect();
    let mut used = vec![false; ours.len()];
    // Rows that some record reproduces exactly are paired first (in
    // order), so that a row no record reproduces cannot take, by a tie of
    // scores, the record a later row matches exactly.
    let mut reserved: Vec<Option<usize>> = vec![None; log.rows.len()];
    for (n, row) in log.rows.iter().enumerate() {
        reserved[n] =
            (0..ours.len()).find(|&i| !used[i] && exact_match(log, row, &columns, &ours[i]));
        if let Some(i) = reserved[n] {
            used[i] = true;
        }
    }
    let (mut rows, mut exact) = (0, 0);
    for (n, row) in log.rows.iter().enumerate() {
        rows += 1;
        let value = |c: &str| log.get(row, c).unwrap_or("-");
        let conn = IDENT.iter().map(|c| value(c)).collect::<Vec<_>>().join(" ");
        let score = |r: &Record| -> Option<usize> {
            // Only the identifying columns the baseline kept (zeek-cut
            // may have dropped them all).
            if !IDENT
                .iter()
                .filter(|c| log.fields.iter().any(|f| f == *c))
                .all(|c| agree(c, value(c), &zeek_text(r.get(*c))))
            {
                return None;
            }
            Some(
                columns
                    .iter()
                    .filter(|c| {
                        let z = value(c);
                        z.contains("XXXX") || agree(c, z, &zeek_text(r.get(c.as_str())))
                    })
                    .count(),
            )
        };
        let best = reserved[n].or_else(|| {
            ours.iter()
                .enumerate()
                .filter(|(i, _)| !used[*i])
                .filter_map(|(i, r)| score(r).map(|s| (s, std::cmp::Reverse(i), i)))
                .max()
                .map(|(_, _, i)| i)
        });
        let Some(i) = best else {
            tally.differences.push(Difference {
                case: case.into(),
                conn,
                column: "record".into(),
                zeek: "row".into(),
                ours: "none".into(),
            });
            for c in &columns {
                tally.columns.entry(c.to_string()).or_default().1 += 1;
            }
            continue;
        };
        used[i] = true;
        let mut all = true;
        for c in &columns {
            let z = value(c);
            let o = zeek_text(ours[i].get(c.as_str()));
            let t = tally.columns.entry(c.to_string()).or_default();
            t.1 += 1;
            if z.contains("XXXX") || agree(c, z, &o) {
                t.0 += 1;
            } else {
                all = false;
                tally.differences.push(Difference {
                    case: case.into(),
                    conn: conn.clone(),
                    column: c.to_string(),
                    zeek: z.into(),
                    ours: o,
                });
            }
        }
        exact += usize::from(all);
    }
    let extra = used.iter().filter(|u| !**u).count();
    let _ = writeln!(
        tally.per_case,
        "{exact:>4}/{rows:<4} {case}{}",
        if extra > 0 {
            format!(" ({extra} records Zeek does not have)")
        } else {
            String::new()
        }
    );
    tally.rows += rows;
    tally.exact += exact;
}

/// Whether record `r` agrees with Zeek's `row` on the identity and every
/// compared column.
fn exact_match(log: &ZeekLog, row: &[String], columns: &[&String], r: &Record) -> bool {
    let value = |c: &str| log.get(row, c).unwrap_or("-");
    IDENT
        .iter()
        .all(|c| agree(c, value(c), &zeek_text(r.get(*c))))
        && columns.iter().all(|c| {
            let z = value(c);
            z.contains("XXXX") || agree(c, z, &zeek_text(r.get(c.as_str())))
        })
}

/// The replay configuration of a case: the Zeek command's flags, plus the
/// script options of the test that the sensor has a setting for.
/// Runs the parity check of one log and returns the share reproduced.
fn parity(log_file: &str, event_type: &str) -> (usize, usize) {
    let cases = cases(log_file);
    assert!(!cases.is_empty(), "no zeek-app case keeps {log_file}");
    let mut tally = Tally::default();
    for (name, dir) in &cases {
        let trace = trace_in(dir).unwrap_or_else(|| panic!("{name}: no trace"));
        let cmd = read_zeek_command(&dir.join("zeek-command.txt"));
        let mut cfg = app_config(&cmd, dir);
        // Zeek keys connections by their addresses and ports alone: a
        // query and its answer on different VLANs are one connection.
        cfg.flow.vlan_in_key = false;
        let (events, _) = replay(&cfg, &[trace]);
        let log = read_zeek_log(&dir.join(log_file));
        compare(name, &log, &records(&events, event_type), &mut tally);
    }
    let mut report = format!(
        "{log_file} parity: {}/{} rows field-exact ({:.1}%) over {} cases\n\nper column (agree / compared):\n",
        tally.exact,
        tally.rows,
        tally.exact as f64 * 100.0 / tally.rows.max(1) as f64,
        cases.len()
    );
    for (c, (a, n)) in &tally.columns {
        let _ = writeln!(report, "  {c:<22} {a:>4}/{n}");
    }
    let _ = write!(report, "\nper case:\n{}\ndifferences:\n", tally.per_case);
    for d in &tally.differences {
        let _ = writeln!(
            report,
            "  {} | {} | {}: zeek {} ours {}",
            d.case, d.conn, d.column, d.zeek, d.ours
        );
    }
    let name = log_file.trim_end_matches(".log");
    std::fs::write(report_dir().join(format!("app-parity-{name}.txt")), &report)
        .expect("write report");
    println!("{report}");
    (tally.exact, tally.rows)
}

fn check(log_file: &str, event_type: &str, target: f64) {
    let (exact, rows) = parity(log_file, event_type);
    let share = exact as f64 / rows.max(1) as f64;
    assert!(
        share >= target,
        "{log_file}: {exact}/{rows} rows field-exact ({:.1}%), below the {:.0}% target; \
         see target/test-reports/app-parity-{}.txt",
        share * 100.0,
        target * 100.0,
        log_file.trim_end_matches(".log")
    );
}

#[test]
fn dns_log_parity() {
    check("dns.log", "dns", 0.95);
}

#[test]
fn modbus_log_parity() {
    check("modbus.log", "modbus", 0.90);
}

#[test]
fn dnp3_log_parity() {
    check("dnp3.log", "dnp3", 0.90);
}

#[test]
fn ssh_log_parity() {
    check("ssh.log", "ssh", 0.95);
}

#[test]
fn kerberos_log_parity() {
    check("kerberos.log", "kerberos", 0.90);
}

#[test]
fn ldap_log_parity() {
    check("ldap.log", "ldap", 0.90);
}

#[test]
fn ldap_search_log_parity() {
    check("ldap_search.log", "ldap_search", 0.90);
}

#[test]
fn rdp_log_parity() {
    check("rdp.log", "rdp", 0.90);
}

#[test]
fn http_log_parity() {
    check("http.log", "http", 0.95);
}

#[test]
fn ftp_log_parity() {
    check("ftp.log", "ftp", 0.90);
}

#[test]
fn smtp_log_parity() {
    check("smtp.log", "smtp", 0.90);
}

#[test]
fn smb_mapping_log_parity() {
    check("smb_mapping.log", "smb_mapping", 0.90);
}

#[test]
fn smb_files_log_parity() {
    check("smb_files.log", "smb_files", 0.90);
}

#[test]
fn dce_rpc_log_parity() {
    check("dce_rpc.log", "dce_rpc", 0.90);
}

#[test]
fn ntlm_log_parity() {
    check("ntlm.log", "ntlm", 0.90);
}

#[test]
fn dhcp_log_parity() {
    check("dhcp.log", "dhcp", 0.95);
}

#[test]
fn ntp_log_parity() {
    check("ntp.log", "ntp", 0.90);
}

#[test]
fn syslog_log_parity() {
    check("syslog.log", "syslog", 0.90);
}

#[test]
fn snmp_log_parity() {
    check("snmp.log", "snmp", 0.90);
}

#[test]
fn ssl_log_parity() {
    check("ssl.log", "ssl", 0.95);
}

#[test]
fn x509_log_parity() {
    check("x509.log", "x509", 0.90);
}

#[test]
fn quic_log_parity() {
    check("quic.log", "quic", 0.90);
}

/// The health event counts what the parsers could not read, by reason;
/// where a reason has Zeek's name, Zeek's weird.log of the same trace is
/// the ground truth. Precision: every reason of ours in Zeek's vocabulary
/// (the names of every weird.log in the corpus) is one Zeek logged on that
/// trace. Recall: a trace on which Zeek logged a reason we report
/// elsewhere gets at least one of Zeek's reasons from us. Counts are not
/// compared: Zeek logs some weirds once per connection.
#[test]
fn the_health_event_counts_parser_errors_as_zeek_logs_weirds() {
    let all = cases("weird.log");
    assert!(!all.is_empty(), "no zeek-app case keeps weird.log");
    let mut ours_by_case = Vec::new();
    let mut vocabulary = std::collections::BTreeSet::new();
    let mut reported = std::collections::BTreeSet::new();
    for (name, dir) in &all {
        let Some(trace) = trace_in(dir) else { continue };
        let log = read_zeek_log(&dir.join("weird.log"));
        let zeek: std::collections::BTreeSet<String> = log
            .rows
            .iter()
            .filter_map(|r| log.get(r, "name").map(String::from))
            .collect();
        vocabulary.extend(zeek.iter().cloned());
        let cmd = read_zeek_command(&dir.join("zeek-command.txt"));
        let (events, _) = replay(&app_config(&cmd, dir), &[trace]);
        let stats = events
            .iter()
            .rev()
            .find_map(|e| match &e.body {
                vagt_schema::EventBody::Stats(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{name}: no statistics event"));
        reported.extend(stats.parser_errors.keys().cloned());
        ours_by_case.push((name.clone(), zeek, stats.parser_errors));
    }
    let mut matched = 0;
    for (name, zeek, ours) in &ours_by_case {
        for reason in ours.keys().filter(|r| vocabulary.contains(*r)) {
            assert!(
                zeek.contains(reason),
                "{name}: we count {reason}, Zeek logged only {zeek:?}"
            );
            matched += 1;
        }
        if zeek.iter().any(|z| reported.contains(z)) {
            assert!(
                ours.keys().any(|r| zeek.contains(r)),
                "{name}: Zeek logged {zeek:?}, we counted {ours:?}"
            );
        }
    }
    println!(
        "{} cases with a weird.log; {matched} reasons of ours with Zeek's names, each also in \
         Zeek's log of its trace",
        ours_by_case.len()
    );
    assert!(matched > 0, "no parser error with Zeek's name was counted");
}
