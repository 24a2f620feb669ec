//! Correlation: rules (rules/analyzer/correlation.toml) run against the store, so
//! that several analyzer instances reach the same result. Each rule finds
//! [`Finding`]s; a finding is written under an id made from its rule and
//! key, created by whichever instance inserts it first and updated as it
//! grows, so nothing is raised twice. New findings raise incidents
//! (`crate::incidents`).
//!
//! Rules: `campaign` (one indicator, many municipalities), `wave` (one
//! detector, an unusual number of municipalities in an hour),
//! `kill_chain` (one host through recon, access, lateral movement and
//! exfiltration or C2) and `sensor_health` (operational alerts).

pub mod campaign;
pub mod health;
pub mod killchain;
pub mod wave;

use crate::incidents;
use crate::store::{now, Store};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

const BUILT_IN: &str = include_str!("../../../rules/analyzer/correlation.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub campaign: CampaignRule,
    pub wave: WaveRule,
    pub kill_chain: KillChainRule,
    pub sensor_health: HealthRule,
    pub incidents: IncidentRule,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRule {
    pub min_municipalities: usize,
    pub window_hours: f64,
    pub indicators: Vec<String>,
    pub incident: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WaveRule {
    pub min_municipalities: usize,
    pub history_hours: f64,
    pub sigma: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KillChainRule {
    pub window_hours: f64,
    pub recon: Vec<String>,
    pub access: Vec<String>,
    pub lateral: Vec<String>,
    pub objective: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HealthRule {
    pub silent_minutes: f64,
    pub spool_age_minutes: f64,
    pub rules_versions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentRule {
    pub min_severity: String,
}

impl Rules {
    /// The rules file, or the built-in rules when `path` is empty.
    pub fn load(path: &Path) -> anyhow::Result<Rules> {
        let (text, name) = if path.as_os_str().is_empty() {
            (
                BUILT_IN.to_string(),
                "built-in rules/analyzer/correlation.toml".to_string(),
            )
        } else {
            (
                std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read the correlation rules {}: {e}", path.display())
                })?,
                path.display().to_string(),
            )
        };
        let r: Rules = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        if r.campaign.min_municipalities < 2 || r.wave.min_municipalities < 1 {
            anyhow::bail!("{name}: a campaign needs at least 2 municipalities");
        }
        for k in &r.campaign.indicators {
            if !crate::indicators::KINDS.contains(&k.as_str()) {
                anyhow::bail!(
                    "{name}: unknown indicator kind {k:?}; known: {:?}",
                    crate::indicators::KINDS
                );
            }
        }
        if crate::api::severity_rank(&r.incidents.min_severity).is_none() {
            anyhow::bail!("{name}: [incidents] min_severity must be low, medium, high or critical");
        }
        Ok(r)
    }
}

/// What a rule found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub key_kind: String,
    pub key_value: String,
    /// The municipality it belongs to; "" for findings across them.
    pub municipality: String,
    pub municipalities: Vec<String>,
    pub detectors: Vec<String>,
    pub severity: String,
    pub first_seen: f64,
    pub last_seen: f64,
    pub alerts: i64,
    pub summary: String,
}

impl Finding {
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.rule,
            &self.key_kind,
            &self.key_value,
            &self.municipality,
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let d = h.finalize();
        let hex: String = d[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{hex}", self.rule.replace('_', ""))
    }
}

/// Writes a finding; `true` if this call created it.
pub async fn upsert(store: &Store, f: &Finding) -> anyhow::Result<bool> {
    let id = f.id();
    let t = now();
    let munis = serde_json::to_string(&f.municipalities)?;
    let dets = serde_json::to_string(&f.detectors)?;
    let created = sqlx::query(
        "INSERT INTO correlations (id, rule, key_kind, key_value, municipality, municipalities, \
         detectors, severity, first_seen, last_seen, alerts, summary, created, updated) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$13) ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(f.rule)
    .bind(&f.key_kind)
    .bind(&f.key_value)
    .bind(&f.municipality)
    .bind(&munis)
    .bind(&dets)
    .bind(&f.severity)
    .bind(f.first_seen)
    .bind(f.last_seen)
    .bind(f.alerts)
    .bind(&f.summary)
    .bind(t)
    .execute(&store.pool)
    .await?
    .rows_affected()
        == 1;
    if !created {
        sqlx::query(
            "UPDATE correlations SET municipalities = $2, detectors = $3, severity = $4, \
             first_seen = CASE WHEN $5 < first_seen THEN $5 ELSE first_seen END, last_seen = $6, alerts = $7, summary = $8, updated = $9, \
             cleared = NULL WHERE id = $1 AND (municipalities <> $2 OR detectors <> $3 \
             OR last_seen <> $6 OR alerts <> $7 OR cleared IS NOT NULL)",
        )
        .bind(&id)
        .bind(&munis)
        .bind(&dets)
        .bind(&f.severity)
        .bind(f.first_seen)
        .bind(f.last_seen)
        .bind(f.alerts)
        .bind(&f.summary)
        .bind(t)
        .execute(&store.pool)
        .await?;
    }
    for m in &f.municipalities {
        sqlx::query(
            "INSERT INTO correlation_municipalities (correlation_id, municipality) \
             VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(m)
        .execute(&store.pool)
        .await?;
    }
    Ok(created)
}

/// What one round of correlation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Round {
    pub campaigns: usize,
    pub waves: usize,
    pub kill_chains: usize,
    pub health: usize,
    pub created: usize,
    pub incidents: usize,
}

/// Where the last round got to: alerts received after `alerts` (less a
/// margin for clocks of other instances) are what the next round looks
/// at; `incidents` is the same for single-alert incidents.
#[derive(Debug, Default, Clone, Copy)]
pub struct Marks {
    pub alerts: f64,
    pub incidents: f64,
}

/// How far back from the mark a round looks again: alerts stored by
/// another instance whose clock is behind this one's are not missed.
const MARGIN: f64 = 120.0;

/// Runs every rule once against the store.
pub async fn run(store: &Store, rules: &Rules, marks: &mut Marks) -> anyhow::Result<Round> {
    let mut r = Round::default();
    let newest = sqlx::query("SELECT MAX(received) AS t FROM alerts")
        .fetch_one(&store.pool)
        .await?;
    let newest = crate::store::float(&newest, "t");
    let since = if marks.alerts > 0.0 {
        marks.alerts - MARGIN
    } else {
        f64::MIN
    };
    if newest > marks.alerts {
        for f in campaign::find(store, &rules.campaign, since).await? {
            r.campaigns += 1;
            if upsert(store, &f).await? {
                r.created += 1;
                if rules.campaign.incident {
                    r.incidents += incidents::raise_for(store, &f).await? as usize;
                }
            }
        }
        for f in wave::find(store, &rules.wave, since).await? {
            r.waves += 1;
            r.created += upsert(store, &f).await? as usize;
        }
        for f in killchain::find(store, &rules.kill_chain, since).await? {
            r.kill_chains += 1;
            if upsert(store, &f).await? {
                r.created += 1;
                r.incidents += incidents::raise_for(store, &f).await? as usize;
            }
        }
    }
    let found = health::find(store, &rules.sensor_health, now()).await?;
    r.health = found.len();
    for f in &found {
        r.created += upsert(store, f).await? as usize;
    }
    health::clear_others(store, &found).await?;
    r.incidents += incidents::from_alerts(store, &rules.incidents, &mut marks.incidents).await?;
    marks.alerts = marks.alerts.max(newest);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_load_and_bad_ones_say_why() {
        let r = Rules::load(Path::new("")).unwrap();
        assert_eq!(r.campaign.min_municipalities, 3);
        let dir = std::env::temp_dir().join(format!("vagt-rules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.toml");
        std::fs::write(&p, BUILT_IN.replace("\"ja4\",", "\"ja5\",")).unwrap();
        let e = Rules::load(&p).unwrap_err().to_string();
        assert!(e.contains("ja5"), "{e}");
        std::fs::write(&p, "[campaign]\nmin_municipalities = \"x\"").unwrap();
        assert!(Rules::load(&p).is_err());
    }
}
