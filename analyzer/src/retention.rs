//! Retention: deletes what is older than its kind's limit (counted from
//! when the analyzer received it), on a schedule. Deletion is real (rows
//! are deleted, not hidden) and every run is logged, in the `deletions`
//! table and the service log, because GDPR deletion duties are audited.

use crate::config::RetentionSection;
use crate::store::{now, Store};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Deleted {
    pub kind: String,
    pub older_than: f64,
    pub rows: u64,
}

/// Runs retention once; returns what was deleted, per kind.
pub async fn run(
    store: &Store,
    r: &RetentionSection,
    instance: &str,
) -> anyhow::Result<Vec<Deleted>> {
    let t = now();
    let cut = |days: f64| (days > 0.0).then_some(t - days * 86400.0);
    let mut out = Vec::new();
    let mut step = |kind: &str, older: f64, rows: u64| {
        out.push(Deleted {
            kind: kind.into(),
            older_than: older,
            rows,
        })
    };
    if let Some(c) = cut(r.alerts_days) {
        let n = exec(
            store,
            "DELETE FROM indicators WHERE EXISTS (SELECT 1 FROM alerts a \
             WHERE a.municipality = indicators.municipality AND a.sensor = indicators.sensor \
             AND a.seq = indicators.seq AND a.received < $1)",
            c,
        )
        .await?;
        step("indicators", c, n);
        step(
            "alerts",
            c,
            exec(store, "DELETE FROM alerts WHERE received < $1", c).await?,
        );
        step(
            "alert events",
            c,
            exec(
                store,
                "DELETE FROM events WHERE topic = 'alerts' AND received < $1",
                c,
            )
            .await?,
        );
    }
    if let Some(c) = cut(r.health_days) {
        step(
            "health events",
            c,
            exec(
                store,
                "DELETE FROM events WHERE topic = 'health' AND received < $1",
                c,
            )
            .await?,
        );
    }
    if let Some(c) = cut(r.assets_days) {
        step(
            "asset events",
            c,
            exec(
                store,
                "DELETE FROM events WHERE topic = 'assets' AND received < $1",
                c,
            )
            .await?,
        );
        // An inventory entry goes with the event it came in.
        step(
            "assets",
            c,
            exec(
                store,
                "DELETE FROM assets WHERE NOT EXISTS (SELECT 1 FROM events e \
                 WHERE e.municipality = assets.municipality AND e.sensor = assets.sensor \
                 AND e.seq = assets.seq) AND $1 > 0",
                c,
            )
            .await?,
        );
    }
    if let Some(c) = cut(r.events_days) {
        step(
            "other events",
            c,
            exec(
                store,
                "DELETE FROM events WHERE topic IN ('app', 'conn') AND received < $1",
                c,
            )
            .await?,
        );
    }
    if let Some(c) = cut(r.correlations_days) {
        exec(
            store,
            "DELETE FROM correlation_municipalities WHERE correlation_id IN \
             (SELECT id FROM correlations WHERE updated < $1)",
            c,
        )
        .await?;
        step(
            "correlations",
            c,
            exec(store, "DELETE FROM correlations WHERE updated < $1", c).await?,
        );
    }
    if let Some(c) = cut(r.incidents_days) {
        // Open incidents are kept whatever their age.
        exec(
            store,
            "DELETE FROM incident_timeline WHERE incident_id IN (SELECT id FROM \
             incidents WHERE updated < $1 AND state IN ('resolved', 'false_positive'))",
            c,
        )
        .await?;
        step(
            "incidents",
            c,
            exec(
                store,
                "DELETE FROM incidents WHERE updated < $1 AND state IN \
             ('resolved', 'false_positive')",
                c,
            )
            .await?,
        );
    }
    if let Some(c) = cut(r.audit_days) {
        step(
            "audit",
            c,
            exec(store, "DELETE FROM audit WHERE ts < $1", c).await?,
        );
    }
    // Fresh planner statistics after bulk inserts and deletes: without
    // them PostgreSQL searched a rare indicator by scanning alerts (p99
    // 1.5 s at 1 M events; 5 ms after ANALYZE, bench/RESULTS.md).
    let stats = if store.postgres {
        "ANALYZE"
    } else {
        "PRAGMA optimize"
    };
    sqlx::query(stats).execute(&store.pool).await?;
    for d in &out {
        sqlx::query(
            "INSERT INTO deletions (ts, data_kind, older_than, row_count, instance) \
             VALUES ($1,$2,$3,$4,$5)",
        )
        .bind(t)
        .bind(&d.kind)
        .bind(d.older_than)
        .bind(i64::try_from(d.rows).unwrap_or(i64::MAX))
        .bind(instance)
        .execute(&store.pool)
        .await?;
        if d.rows > 0 {
            tracing::info!(
                kind = %d.kind, rows = d.rows, older_than = d.older_than,
                "retention deleted {} {} received before {}",
                d.rows, d.kind, crate::nis2::datetime(d.older_than)
            );
        }
    }
    Ok(out)
}

async fn exec(store: &Store, sql: &str, cut: f64) -> anyhow::Result<u64> {
    Ok(sqlx::query(sql)
        .bind(cut)
        .execute(&store.pool)
        .await?
        .rows_affected())
}

#[cfg(test)]
mod tests {
    use vagt_schema::wire::Topic;

    /// Events are deleted by their topic class: alerts, health and assets
    /// by their own limits, `app` and `conn` as "other events". A class
    /// added to the schema must get a rule here, or it would be kept
    /// forever.
    #[test]
    fn every_topic_class_has_a_retention_rule() {
        let ruled = ["alerts", "health", "assets", "app", "conn"];
        for t in Topic::ALL {
            assert!(
                ruled.contains(&t.name()),
                "no retention rule for {}",
                t.name()
            );
        }
    }
}
