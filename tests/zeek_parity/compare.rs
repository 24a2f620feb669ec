//! One Zeek conn.log baseline against the sensor's records of the same
//! trace: which record stands for which row, and every field on which they
//! differ, named by connection and field so that the test can hold each
//! known difference by name and fail on any other.

use super::common::{sensor_field, ZeekLog};
use std::collections::HashMap;
use std::net::IpAddr;
use vagt_schema::ConnRecord;

/// The columns that identify a connection, where the baseline keeps them.
const KEY: &[&str] = &["orig_h", "orig_p", "resp_h", "resp_p", "proto"];

/// Every compared column, in conn.log order. `tunnel_parents` is compared
/// after pairing (its values are uids, which differ between the tools).
pub const COMPARED: &[&str] = &[
    "orig_h",
    "orig_p",
    "resp_h",
    "resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
];

/// Zeek prints intervals with six decimals; one unit of the last printed
/// digit covers its rounding and the float arithmetic of both tools.
const DURATION_TOLERANCE: f64 = 1e-6;

/// One difference between a baseline and the sensor. `field` is a
/// compared column, or `record` for a row without a record (`zeek` is
/// `row`, `vagt` is `none`) or a record without a row (`none`, `record`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    pub case: String,
    pub conn: String,
    pub field: String,
    pub zeek: String,
    pub vagt: String,
}

/// What one case measured: per compared field, rows that agree and rows
/// compared; rows whose every compared field agrees, and those whose every
/// field but `service` does (connection tracking proper); the differences.
#[derive(Default)]
pub struct Outcome {
    pub rows: usize,
    pub exact: usize,
    pub exact_but_service: usize,
    pub fields: HashMap<&'static str, (usize, usize)>,
    pub differences: Vec<Difference>,
}

/// The label of a connection in reports and in the known list: the
/// 5-tuple as far as the baseline keeps it, else the row number.
fn row_label(log: &ZeekLog, row: &[String], index: usize) -> String {
    let get = |f: &str| log.get(row, f).unwrap_or("?").to_string();
    if !["orig_h", "resp_h"].iter().any(|f| log.has(f)) {
        return format!("row {}", index + 1);
    }
    let proto = log
        .get(row, "proto")
        .map_or(String::new(), |p| format!(" {p}"));
    format!(
        "{}:{} > {}:{}{proto}",
        get("orig_h"),
        get("orig_p"),
        get("resp_h"),
        get("resp_p")
    )
}

pub fn record_label(c: &ConnRecord) -> String {
    format!(
        "{}:{} > {}:{} {}",
        c.orig_h, c.orig_p, c.resp_h, c.resp_p, c.proto
    )
}

fn set_of(v: &str) -> Vec<&str> {
    let mut s: Vec<&str> = match v {
        "-" | "(empty)" | "" => vec![],
        _ => v.split(',').collect(),
    };
    s.sort_unstable();
    s
}

/// Whether a baseline value and the sensor's agree, as the column means.
fn agree(field: &str, zeek: &str, ours: &str) -> bool {
    match field {
        "orig_h" | "resp_h" => match (zeek.parse::<IpAddr>(), ours.parse::<IpAddr>()) {
            (Ok(a), Ok(b)) => a == b,
            _ => zeek == ours,
        },
        "service" => set_of(zeek) == set_of(ours),
        "duration" => match (zeek.parse::<f64>(), ours.parse::<f64>()) {
            (Ok(a), Ok(b)) => (a - b).abs() <= DURATION_TOLERANCE,
            _ => zeek == ours,
        },
        _ => zeek == ours,
    }
}

/// Compares one case. Rows are paired in log order with the unused record
/// that agrees on every key column the baseline keeps and differs on the
/// fewest compared columns.
pub fn compare_case(case: &str, log: &ZeekLog, ours: &[ConnRecord]) -> Outcome {
    let fields: Vec<&'static str> = COMPARED.iter().copied().filter(|f| log.has(f)).collect();
    let direct: Vec<&'static str> = fields
        .iter()
        .copied()
        .filter(|f| *f != "tunnel_parents")
        .collect();
    let key: Vec<&str> = KEY.iter().copied().filter(|f| log.has(f)).collect();
    let value = |c: &ConnRecord, f: &str| sensor_field(c, f).unwrap_or_default();
    let row_agrees = |row: &[String], c: &ConnRecord, f: &str| {
        agree(f, log.get(row, f).unwrap_or(""), &value(c, f))
    };

    let mut used = vec![false; ours.len()];
    let mut pair: Vec<Option<usize>> = Vec::with_capacity(log.rows.len());
    for row in &log.rows {
        let best = (0..ours.len())
            .filter(|&i| !used[i])
            .filter(|&i| key.iter().all(|f| row_agrees(row, &ours[i], f)))
            .min_by_key(|&i| {
                direct
                    .iter()
                    .filter(|f| !row_agrees(row, &ours[i], f))
                    .count()
            });
        if let Some(i) = best {
            used[i] = true;
        }
        pair.push(best);
    }

    // Zeek's uids name rows; through the pairing they name our records.
    let uid_to_ours: HashMap<&str, &str> = log
        .rows
        .iter()
        .zip(&pair)
        .filter_map(|(row, p)| Some((log.get(row, "uid")?, ours[(*p)?].uid.as_str())))
        .collect();
    let parents_agree = |zeek: &str, c: &ConnRecord| {
        let theirs = set_of(zeek);
        theirs.len() == c.tunnel_parents.len()
            && theirs.iter().all(|u| {
                // A parent Zeek did not log (or we did not pair) can only
                // be compared by count.
                uid_to_ours
                    .get(u)
                    .is_none_or(|o| c.tunnel_parents.iter().any(|p| p == o))
            })
    };

    let mut out = Outcome {
        rows: log.rows.len(),
        ..Outcome::default()
    };
    for (index, (row, p)) in log.rows.iter().zip(&pair).enumerate() {
        let conn = row_label(log, row, index);
        let Some(i) = *p else {
            out.differences.push(Difference {
                case: case.to_string(),
                conn,
                field: "record".into(),
                zeek: "row".into(),
                vagt: "none".into(),
            });
            continue;
        };
        let c = &ours[i];
        let mut all = true;
        let mut all_but_service = true;
        for &f in &fields {
            let zeek = log.get(row, f).unwrap_or("");
            let ok = if f == "tunnel_parents" {
                parents_agree(zeek, c)
            } else {
                row_agrees(row, c, f)
            };
            let tally = out.fields.entry(f).or_default();
            tally.1 += 1;
            if ok {
                tally.0 += 1;
                continue;
            }
            all = false;
            all_but_service &= f == "service";
            let vagt = if f == "tunnel_parents" {
                format!("{} parent(s)", c.tunnel_parents.len())
            } else {
                value(c, f)
            };
            let zeek = if f == "tunnel_parents" {
                format!("{} parent(s)", set_of(zeek).len())
            } else {
                zeek.to_string()
            };
            out.differences.push(Difference {
                case: case.to_string(),
                conn: conn.clone(),
                field: f.to_string(),
                zeek,
                vagt,
            });
        }
        out.exact += usize::from(all);
        out.exact_but_service += usize::from(all_but_service);
    }
    for (i, c) in ours.iter().enumerate() {
        if !used[i] {
            out.differences.push(Difference {
                case: case.to_string(),
                conn: record_label(c),
                field: "record".into(),
                zeek: "none".into(),
                vagt: "record".into(),
            });
        }
    }
    out
}
