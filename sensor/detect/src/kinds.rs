//! Thresholds per segment kind: `[kind.<kind>.<detector>]` sections in the
//! rules files override a detector's thresholds in the segments of that
//! kind only, e.g. a guest Wi-Fi full of phones that probe everything:
//!
//! ```toml
//! [kind.guest.scan]
//! ports = 40
//! ```
//!
//! Fields not given keep the global value, which itself may come from any
//! file; so the thresholds of a kind are computed when the stage starts,
//! from the final global thresholds and every override in file order.

use crate::rules::{RulesError, Thresholds};
use std::collections::BTreeMap;
use std::path::Path;

/// What segments can be for (the sensor's `[[segments]] kind`).
pub const SEGMENT_KINDS: [&str; 7] = ["admin", "care", "school", "ot", "guest", "server", "dmz"];

/// Sections that cannot differ by kind: they are not about one segment
/// (the policy, the baselines' learning, the per-host risk).
const GLOBAL_ONLY: [&str; 3] = ["policy", "baseline", "risk"];

/// The overrides read so far, per kind: section -> fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KindOverrides(BTreeMap<String, toml::Table>);

impl KindOverrides {
    /// Takes the `[kind.*]` part of one file, checking every kind, section
    /// and field against `base` (the thresholds as they stand).
    pub fn add(
        &mut self,
        path: &Path,
        text: &str,
        kinds: &toml::Table,
        base: &Thresholds,
    ) -> Result<(), RulesError> {
        let err = |header: &str, message: String| RulesError {
            file: path.to_path_buf(),
            line: line_of_header(text, header),
            message,
        };
        for (kind, sections) in kinds {
            if !SEGMENT_KINDS.contains(&kind.as_str()) {
                return Err(err(
                    &format!("kind.{kind}"),
                    format!(
                        "`[kind.{kind}]`: no segment kind is called {kind:?}; write one of {}",
                        SEGMENT_KINDS.join(", ")
                    ),
                ));
            }
            let toml::Value::Table(sections) = sections else {
                return Err(err(
                    &format!("kind.{kind}"),
                    format!("`kind.{kind}` must be a table of detector sections, like [kind.{kind}.scan]"),
                ));
            };
            let have = self.0.entry(kind.clone()).or_default();
            for (section, fields) in sections {
                let header = format!("kind.{kind}.{section}");
                if GLOBAL_ONLY.contains(&section.as_str()) {
                    return Err(err(
                        &header,
                        format!("`[{header}]`: [{section}] holds for the whole sensor and cannot differ by segment kind; set it in [{section}]"),
                    ));
                }
                let toml::Value::Table(fields) = fields else {
                    return Err(err(
                        &header,
                        format!("`{header}` must be a table of thresholds"),
                    ));
                };
                if let Some(t) = have
                    .entry(section.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                    .as_table_mut()
                {
                    t.extend(fields.clone());
                }
            }
            // Check now, against the thresholds as they stand, so the
            // error points at this file.
            overlay(base, have)
                .map_err(|m| err(&format!("kind.{kind}"), format!("`[kind.{kind}]`: {m}")))?;
        }
        Ok(())
    }

    /// Kinds that have overrides.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The thresholds in segments of `kind`: `base` with its overrides.
    pub fn thresholds(&self, kind: &str, base: &Thresholds) -> Thresholds {
        match self.0.get(kind) {
            // Checked when read; a failure here could only come from a
            // later global change of type, which the typed read forbids.
            Some(o) => overlay(base, o).unwrap_or_else(|_| base.clone()),
            None => base.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `base` with `sections` laid over it, field by field.
fn overlay(base: &Thresholds, sections: &toml::Table) -> Result<Thresholds, String> {
    let mut merged = base.to_table()?;
    for (section, fields) in sections {
        match (merged.get_mut(section), fields) {
            (Some(toml::Value::Table(have)), toml::Value::Table(new)) => have.extend(new.clone()),
            _ => return Err(format!("there is no detector section [{section}]")),
        }
    }
    merged
        .try_into()
        .map_err(|e: toml::de::Error| e.message().trim().to_string())
}

/// The line of a `[header]` (or of its first dotted use) in `text`.
fn line_of_header(text: &str, header: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim();
            l.starts_with('[') && l.trim_matches(['[', ']']).trim().starts_with(header)
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use crate::rules::Rules;
    use std::path::Path;

    #[test]
    fn a_kind_overrides_only_the_fields_it_gives() {
        let mut r = Rules::default();
        r.add_file(
            Path::new("a.toml"),
            "[scan]\nhosts = 30\n[kind.guest.scan]\nports = 40\n",
        )
        .expect("good file");
        let guest = r.kind_thresholds.thresholds("guest", &r.thresholds);
        assert_eq!((guest.scan.ports, guest.scan.hosts), (40, 30));
        let admin = r.kind_thresholds.thresholds("admin", &r.thresholds);
        assert_eq!(admin.scan.ports, 15);
    }

    #[test]
    fn events_are_judged_with_their_segment_kinds_thresholds() {
        use crate::Analysis;
        use vagt_schema::{Event, EventBody};
        let mut r = Rules::default();
        r.add_file(Path::new("a.toml"), "[kind.guest.scan]\nports = 40\n")
            .expect("good file");
        r.segment_kinds.insert("wifi".into(), "guest".into());
        r.segment_kinds.insert("kontor".into(), "admin".into());
        let mut a = Analysis::new(r, "t");
        let mut out = Vec::new();
        for (seg, src) in [("wifi", "10.9.0.5"), ("kontor", "10.1.0.5")] {
            for port in 1..=20u16 {
                let e: Event = serde_json::from_value(serde_json::json!({
                    "schema_version": 1, "municipality": "0101", "sensor": "s", "segment": seg,
                    "event_type": "conn", "ts": 1000.0 + f64::from(port), "uid": format!("C{seg}{port}"),
                    "id.orig_h": src, "id.orig_p": 40000, "id.resp_h": "10.2.0.1", "id.resp_p": port,
                    "proto": "tcp", "conn_state": "REJ", "missed_bytes": 0, "history": "Sr",
                    "orig_pkts": 1, "orig_ip_bytes": 44, "resp_pkts": 1, "resp_ip_bytes": 40,
                    "community_id": "", "ip_proto": 6, "orig_link_bytes": 58, "resp_link_bytes": 54,
                }))
                .expect("event");
                a.observe(&e, &mut out);
            }
        }
        let scans: Vec<String> = out
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Alert(x) if x.detector == "scan" => Some(x.src.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(
            scans,
            vec!["10.1.0.5"],
            "20 ports: a scan in the office, not on guest Wi-Fi"
        );
    }

    #[test]
    fn mistakes_name_the_file_line_and_what_to_write() {
        let mut r = Rules::default();
        let e = r
            .add_file(
                Path::new("b.toml"),
                "# x\n[kind.hospital.scan]\nports = 4\n",
            )
            .expect_err("unknown kind");
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("admin, care"), "{e}");
        let e = r
            .add_file(Path::new("c.toml"), "[kind.guest.scan]\nportz = 4\n")
            .expect_err("unknown field");
        assert!(e.message.contains("portz"), "{e}");
        let e = r
            .add_file(Path::new("d.toml"), "[kind.guest.policy]\nwindow = 4.0\n")
            .expect_err("global only");
        assert!(e.message.contains("whole sensor"), "{e}");
    }
}
