//! Sensor health: operational alerts, one per sensor and condition,
//! cleared when the condition is gone. Conditions: silent (no event for
//! `silent_minutes`, by the analyzer's clock), drops rising between the
//! last two health reports, a Kafka spool that grows and holds events
//! older than `spool_age_minutes`, and rules that failed to load or are
//! not an expected version.

use super::{Finding, HealthRule};
use crate::store::{float, text, Store};
use vagt_schema::{Event, EventBody, SensorStats};

fn stats(json: &str) -> Option<SensorStats> {
    match serde_json::from_str::<Event>(json).ok()?.body {
        EventBody::Stats(s) => Some(s),
        _ => None,
    }
}

fn drops(s: &SensorStats) -> u64 {
    s.drops.values().sum()
}

pub async fn find(store: &Store, rule: &HealthRule, now: f64) -> anyhow::Result<Vec<Finding>> {
    let rows =
        sqlx::query("SELECT municipality, sensor, last_received, stats, previous FROM sensors")
            .fetch_all(&store.pool)
            .await?;
    let mut out = Vec::new();
    for r in &rows {
        let (m, s) = (text(r, "municipality"), text(r, "sensor"));
        let mut raise = |condition: &str, summary: String, severity: &str| {
            out.push(Finding {
                rule: "sensor_health",
                key_kind: condition.to_string(),
                key_value: format!("{m}/{s}"),
                municipality: m.clone(),
                municipalities: vec![m.clone()],
                detectors: vec![condition.to_string()],
                severity: severity.into(),
                first_seen: now,
                last_seen: now,
                alerts: 0,
                summary,
            });
        };
        let silent = now - float(r, "last_received");
        if silent > rule.silent_minutes * 60.0 {
            raise(
                "silent",
                format!(
                    "sensor {m}/{s} sent nothing for {:.0} minutes (limit {:.0})",
                    silent / 60.0,
                    rule.silent_minutes
                ),
                "high",
            );
        }
        let (Some(cur), prev) = (stats(&text(r, "stats")), stats(&text(r, "previous"))) else {
            continue;
        };
        if let Some(prev) = &prev {
            let (a, b) = (drops(prev), drops(&cur));
            if b > a && cur.packets > prev.packets {
                raise(
                    "drops_rising",
                    format!(
                        "sensor {m}/{s} dropped {} packets between its last two reports \
                         ({} in all)",
                        b - a,
                        b
                    ),
                    "medium",
                );
            }
        }
        if let Some(k) = &cur.shipping {
            let grew = prev
                .as_ref()
                .and_then(|p| p.shipping.as_ref())
                .is_some_and(|p| k.spool_records > p.spool_records);
            if grew && k.spool_oldest_age > rule.spool_age_minutes * 60.0 {
                raise(
                    "spool_growing",
                    format!(
                        "sensor {m}/{s} holds {} unsent events, the oldest {:.0} minutes old \
                         (last error: {})",
                        k.spool_records,
                        k.spool_oldest_age / 60.0,
                        k.last_error.as_deref().unwrap_or("none")
                    ),
                    "medium",
                );
            }
        }
        if let Some(a) = &cur.analysis {
            let version = a.rules_version.clone().unwrap_or_default();
            if let Some(e) = &a.rules_error {
                raise(
                    "rules_stale",
                    format!("sensor {m}/{s} could not load its rules: {e}"),
                    "medium",
                );
            } else if !rule.rules_versions.is_empty() && !rule.rules_versions.contains(&version) {
                raise(
                    "rules_stale",
                    format!(
                        "sensor {m}/{s} runs rules {version:?}, not one of {:?}",
                        rule.rules_versions
                    ),
                    "low",
                );
            }
        }
    }
    Ok(out)
}

/// Clears the operational alerts whose condition is gone.
pub async fn clear_others(store: &Store, current: &[Finding]) -> anyhow::Result<()> {
    let open =
        sqlx::query("SELECT id FROM correlations WHERE rule = 'sensor_health' AND cleared IS NULL")
            .fetch_all(&store.pool)
            .await?;
    let ids: Vec<String> = current.iter().map(|f| f.id()).collect();
    for r in open {
        let id = text(&r, "id");
        if !ids.contains(&id) {
            sqlx::query("UPDATE correlations SET cleared = $2, updated = $2 WHERE id = $1")
                .bind(&id)
                .bind(crate::store::now())
                .execute(&store.pool)
                .await?;
        }
    }
    Ok(())
}
