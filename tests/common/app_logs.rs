//! Application records as Zeek logs show them: the `zeek-app` cases that
//! keep a log, the sensor's records keyed by Zeek's column names, values
//! printed as Zeek's TSV writer prints them, and the settings a case's
//! Zeek command asks for (`app_parity`, `ftp_files`).

use super::{config_for, corpus, ZeekCommand};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Cases in `zeek-app/` that keep `log`.
pub fn cases(log: &str) -> Vec<(String, PathBuf)> {
    let dir = corpus().join("zeek-app");
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(log).exists())
        .map(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, p)
        })
        .collect();
    out.sort();
    out
}

/// A record of ours as Zeek column name -> value.
pub type Record = BTreeMap<String, Value>;

pub fn column_name(key: &str) -> String {
    key.strip_prefix("id.").unwrap_or(key).to_string()
}

/// Our records of `event_type`, keyed by Zeek's (normalised) column names.
pub fn records(events: &[vagt_schema::Event], event_type: &str) -> Vec<Record> {
    events
        .iter()
        .filter_map(|e| {
            let Value::Object(map) = serde_json::to_value(e).ok()? else {
                return None;
            };
            (map.get("event_type")?.as_str()? == event_type)
                .then(|| map.into_iter().map(|(k, v)| (column_name(&k), v)).collect())
        })
        .collect()
}

/// A JSON value as Zeek's TSV writer prints it.
pub fn zeek_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".into(),
        Some(Value::Bool(b)) => if *b { "T" } else { "F" }.into(),
        Some(Value::Number(n)) => {
            if n.is_f64() {
                format!("{:.6}", n.as_f64().unwrap_or_default())
            } else {
                n.to_string()
            }
        }
        Some(Value::String(s)) => {
            if s.is_empty() {
                "(empty)".into()
            } else {
                s.clone()
            }
        }
        Some(Value::Array(a)) if a.is_empty() => "(empty)".into(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| zeek_text(Some(x)))
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(_)) => "?".into(),
    }
}

/// A case's configuration: its Zeek command's flags, the password
/// capture its script asks for, and a record per OT message as Zeek
/// writes.
pub fn app_config(cmd: &ZeekCommand, dir: &std::path::Path) -> vagt_sensor::config::Config {
    let mut cfg = config_for(cmd);
    let notes = std::fs::read_to_string(dir.join("zeek-command.txt")).unwrap_or_default();
    if notes.contains("HTTP::default_capture_password = T") {
        cfg.app.http_capture_password = true;
    }
    if notes.contains("FTP::default_capture_password = T") {
        cfg.app.ftp_capture_password = true;
    }
    // Zeek writes a line per OT message; the sensor does with `every`.
    cfg.app.ot.records = vagt_sensor::applayer::ot_tally::OtRecords::Every;
    cfg
}
