//! Incidents: raised by correlations (a new campaign, a kill chain) and by
//! single alerts at or above `[incidents] min_severity`. Each has a state
//! (new, investigating, resolved, false_positive), an assignee, a
//! `significant` flag (NIS2 deadlines count from detection once set) and a
//! timeline of everything that happened to it. An incident's id comes from
//! what raised it, so two instances never raise it twice.

use crate::correlate::{Finding, IncidentRule};
use crate::store::{float, int, now, text, Store};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

pub const STATES: [&str; 4] = ["new", "investigating", "resolved", "false_positive"];

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: String,
    /// "" for incidents across municipalities (campaigns).
    pub municipality: String,
    pub title: String,
    pub severity: String,
    pub state: String,
    pub assignee: String,
    pub significant: bool,
    /// "correlation" or "alert".
    pub source_kind: String,
    pub source_id: String,
    /// When the analyzer detected it (NIS2 deadlines count from here).
    pub detected: f64,
    pub updated: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub ts: f64,
    pub actor: String,
    pub what: String,
    pub detail: String,
}

/// A change an analyst makes; absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentUpdate {
    pub state: Option<String>,
    pub assignee: Option<String>,
    pub significant: Option<bool>,
    pub note: Option<String>,
}

pub fn from_row(r: &AnyRow) -> Incident {
    Incident {
        id: text(r, "id"),
        municipality: text(r, "municipality"),
        title: text(r, "title"),
        severity: text(r, "severity"),
        state: text(r, "state"),
        assignee: text(r, "assignee"),
        significant: int(r, "significant") != 0,
        source_kind: text(r, "source_kind"),
        source_id: text(r, "source_id"),
        detected: float(r, "detected"),
        updated: float(r, "updated"),
    }
}

fn id_of(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    format!(
        "inc-{}",
        d[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

async fn insert(
    store: &Store,
    id: &str,
    municipality: &str,
    title: &str,
    severity: &str,
    source_kind: &str,
    source_id: &str,
) -> anyhow::Result<bool> {
    let t = now();
    let created = sqlx::query(
        "INSERT INTO incidents (id, municipality, title, severity, state, assignee, significant, \
         source_kind, source_id, detected, created, updated) \
         VALUES ($1,$2,$3,$4,'new','',0,$5,$6,$7,$7,$7) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(municipality)
    .bind(title)
    .bind(severity)
    .bind(source_kind)
    .bind(source_id)
    .bind(t)
    .execute(&store.pool)
    .await?
    .rows_affected()
        == 1;
    if created {
        add_event(store, id, "analyzer", "raised", title).await?;
    }
    Ok(created)
}

/// Raises the incident of a new correlation; `true` if created.
pub async fn raise_for(store: &Store, f: &Finding) -> anyhow::Result<bool> {
    let cid = f.id();
    let title = format!("{}: {}", f.rule.replace('_', " "), f.summary);
    insert(
        store,
        &id_of(&["correlation", &cid]),
        &f.municipality,
        &title,
        &f.severity,
        "correlation",
        &cid,
    )
    .await
}

/// Raises incidents for alerts at or above the rule's severity stored
/// after `mark` (moved on to the newest one seen).
pub async fn from_alerts(
    store: &Store,
    rule: &IncidentRule,
    mark: &mut f64,
) -> anyhow::Result<usize> {
    let min = crate::api::severity_rank(&rule.min_severity).unwrap_or(3);
    let rows = sqlx::query(
        "SELECT municipality, sensor, alert_id, severity, detector, message, received FROM alerts \
         WHERE severity_rank >= $1 AND received > $2 ORDER BY received LIMIT 10000",
    )
    .bind(min)
    .bind(*mark)
    .fetch_all(&store.pool)
    .await?;
    let mut n = 0;
    for r in &rows {
        let (m, s, a) = (
            text(r, "municipality"),
            text(r, "sensor"),
            text(r, "alert_id"),
        );
        let source = format!("{m}/{s}/{a}");
        let title = format!("{}: {}", text(r, "detector"), text(r, "message"));
        if insert(
            store,
            &id_of(&["alert", &source]),
            &m,
            &title,
            &text(r, "severity"),
            "alert",
            &source,
        )
        .await?
        {
            n += 1;
        }
        *mark = mark.max(float(r, "received"));
    }
    Ok(n)
}

/// Adds a timeline entry (numbered after the last one).
pub async fn add_event(
    store: &Store,
    id: &str,
    actor: &str,
    what: &str,
    detail: &str,
) -> anyhow::Result<()> {
    // Two writers may pick the same number: the second tries again.
    for _ in 0..5 {
        let next = sqlx::query(
            "SELECT COALESCE(MAX(n), 0) + 1 AS n FROM incident_timeline WHERE incident_id = $1",
        )
        .bind(id)
        .fetch_one(&store.pool)
        .await?;
        let done = sqlx::query(
            "INSERT INTO incident_timeline (incident_id, ts, n, actor, what, detail) \
             VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(now())
        .bind(int(&next, "n"))
        .bind(actor)
        .bind(what)
        .bind(detail)
        .execute(&store.pool)
        .await?
        .rows_affected();
        if done == 1 {
            return Ok(());
        }
    }
    anyhow::bail!("cannot add to the timeline of {id}")
}

pub async fn timeline(store: &Store, id: &str) -> anyhow::Result<Vec<TimelineEntry>> {
    let rows = sqlx::query(
        "SELECT ts, actor, what, detail FROM incident_timeline WHERE incident_id = $1 ORDER BY n",
    )
    .bind(id)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| TimelineEntry {
            ts: float(r, "ts"),
            actor: text(r, "actor"),
            what: text(r, "what"),
            detail: text(r, "detail"),
        })
        .collect())
}

/// Applies an analyst's change and writes each part to the timeline.
pub async fn update(
    store: &Store,
    inc: &Incident,
    u: &IncidentUpdate,
    actor: &str,
) -> Result<(), String> {
    let err = |e: anyhow::Error| e.to_string();
    if let Some(s) = &u.state {
        if !STATES.contains(&s.as_str()) {
            return Err(format!("state must be one of {STATES:?}"));
        }
    }
    for (what, v) in [("assignee", &u.assignee), ("note", &u.note)] {
        if v.as_ref().is_some_and(|v| v.len() > 4096) {
            return Err(format!("{what} is longer than 4096 bytes"));
        }
    }
    let t = now();
    if let Some(s) = &u.state {
        sqlx::query("UPDATE incidents SET state = $2, updated = $3 WHERE id = $1")
            .bind(&inc.id)
            .bind(s)
            .bind(t)
            .execute(&store.pool)
            .await
            .map_err(|e| e.to_string())?;
        add_event(
            store,
            &inc.id,
            actor,
            "state",
            &format!("{} → {s}", inc.state),
        )
        .await
        .map_err(err)?;
        if s == "false_positive" {
            let proposal = allow_proposal(store, inc).await.map_err(err)?;
            add_event(store, &inc.id, "analyzer", "allowlist_proposed", &proposal)
                .await
                .map_err(err)?;
        }
    }
    if let Some(a) = &u.assignee {
        sqlx::query("UPDATE incidents SET assignee = $2, updated = $3 WHERE id = $1")
            .bind(&inc.id)
            .bind(a)
            .bind(t)
            .execute(&store.pool)
            .await
            .map_err(|e| e.to_string())?;
        add_event(store, &inc.id, actor, "assigned", a)
            .await
            .map_err(err)?;
    }
    if let Some(sig) = u.significant {
        sqlx::query("UPDATE incidents SET significant = $2, updated = $3 WHERE id = $1")
            .bind(&inc.id)
            .bind(i32::from(sig))
            .bind(t)
            .execute(&store.pool)
            .await
            .map_err(|e| e.to_string())?;
        let what = if sig {
            "flagged significant (NIS2 deadlines count from detection)"
        } else {
            "no longer significant"
        };
        add_event(store, &inc.id, actor, "significant", what)
            .await
            .map_err(err)?;
    }
    if let Some(n) = &u.note {
        add_event(store, &inc.id, actor, "note", n)
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// The allow-list entry (sensor rules format, rules/allow.toml) that a
/// false positive suggests, for the municipality to review and apply.
pub async fn allow_proposal(store: &Store, inc: &Incident) -> anyhow::Result<String> {
    let mut out = String::new();
    // A year: an allow-list entry should be looked at again.
    let expires = crate::nis2::date(now() + 365.0 * 86400.0);
    let comment = format!(
        "False positive, incident {} ({}), marked on {}",
        inc.id,
        inc.title.chars().take(80).collect::<String>(),
        crate::nis2::date(now())
    );
    if inc.source_kind == "alert" {
        let mut parts = inc.source_id.splitn(3, '/');
        let (m, s, a) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let row = sqlx::query(
            "SELECT detector, kind, segment, src, subject FROM alerts WHERE municipality = $1 \
             AND sensor = $2 AND alert_id = $3 LIMIT 1",
        )
        .bind(m)
        .bind(s)
        .bind(a)
        .fetch_optional(&store.pool)
        .await?;
        if let Some(r) = row {
            let src = text(&r, "src");
            out.push_str("[[allow]]\n");
            out.push_str(&format!("comment = {}\n", toml_str(&comment)));
            out.push_str(&format!("detector = {}\n", toml_str(&text(&r, "detector"))));
            out.push_str(&format!("kind = {}\n", toml_str(&text(&r, "kind"))));
            out.push_str(&format!("segment = {}\n", toml_str(&text(&r, "segment"))));
            if src.starts_with("fd") {
                out.push_str(&format!(
                    "# src is a pseudonym: `vagt-sensor reveal {src}` on the sensor gives the \
                     address to put here\n"
                ));
            }
            out.push_str(&format!("src = {}\n", toml_str(&src)));
            let subject = text(&r, "subject");
            if !subject.is_empty() && !subject.starts_with('~') {
                out.push_str(&format!("subject = {}\n", toml_str(&subject)));
            }
            out.push_str(&format!("expires = {}\n", toml_str(&expires)));
        }
    } else {
        let row =
            sqlx::query("SELECT key_kind, key_value, detectors FROM correlations WHERE id = $1")
                .bind(&inc.source_id)
                .fetch_optional(&store.pool)
                .await?;
        if let Some(r) = row {
            let dets: Vec<String> =
                serde_json::from_str(&text(&r, "detectors")).unwrap_or_default();
            let (kind, value) = (text(&r, "key_kind"), text(&r, "key_value"));
            for d in dets {
                out.push_str("[[allow]]\n");
                out.push_str(&format!("comment = {}\n", toml_str(&comment)));
                out.push_str(&format!("detector = {}\n", toml_str(&d)));
                match kind.as_str() {
                    "ip" | "net" => out.push_str(&format!("src = {}\n", toml_str(&value))),
                    "host" => out.push_str(&format!(
                        "# src is a pseudonym: `vagt-sensor reveal {value}` gives the address\n\
                         src = {}\n",
                        toml_str(&value)
                    )),
                    _ => out.push_str(&format!("subject = {}\n", toml_str(&value))),
                }
                out.push_str(&format!("expires = {}\n\n", toml_str(&expires)));
            }
        }
    }
    if out.is_empty() {
        out.push_str(
            "# Nothing to propose: the alerts behind this incident are gone (retention).\n",
        );
    }
    Ok(out)
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
