//! Assets (the sensors' pseudonymised inventories), sensors and their
//! health, dashboard statistics and the analyzer's own status.

use super::sql::{cursor, uncursor, Arg};
use super::{page_limit, scope, ApiError, App, Sql, Q};
use crate::auth::Principal;
use crate::ingest::IngestFigures;
use crate::store::{float, int, now, text};
use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use vagt_schema::{Event, EventBody};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssetQuery {
    pub municipality: Option<String>,
    pub segment: Option<String>,
    /// router, ot_controller, domain_controller, printer, camera, ...
    pub role: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Asset {
    pub municipality: String,
    pub sensor: String,
    pub segment: String,
    /// Pseudonymous key of the device.
    pub key: String,
    pub role: String,
    pub first_seen: f64,
    pub last_seen: f64,
    /// The asset event as the sensor sent it (pseudonymised).
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetPage {
    pub items: Vec<Asset>,
    pub next_cursor: Option<String>,
}

/// The inventory, by municipality, sensor, segment and key.
#[utoipa::path(get, path = "/api/v1/assets", params(AssetQuery),
    responses((status = 200, body = AssetPage), (status = 400, body = super::ErrorBody),
              (status = 403, body = super::ErrorBody)))]
pub async fn assets(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    Q(q): Q<AssetQuery>,
) -> Result<Json<AssetPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let mut s = Sql::default();
    if let Some(m) = scope(&p, q.municipality.as_deref())? {
        s.and(Arg::S(m), |x| format!("municipality = {x}"));
    }
    if let Some(v) = q.segment.as_ref().filter(|v| !v.is_empty()) {
        s.and(Arg::S(v.clone()), |x| format!("segment = {x}"));
    }
    if let Some(v) = q.role.as_ref().filter(|v| !v.is_empty()) {
        s.and(Arg::S(v.clone()), |x| format!("role = {x}"));
    }
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        let k = uncursor(c, 4).ok_or_else(|| ApiError::bad("cursor is not one of ours"))?;
        let ps: Vec<String> = k.iter().map(|v| s.p(Arg::S(v.clone()))).collect();
        s.conditions.push(format!(
            "(municipality > {a} OR (municipality = {a} AND (sensor > {b} OR (sensor = {b} AND \
             (segment > {c} OR (segment = {c} AND asset_key > {d}))))))",
            a = ps[0],
            b = ps[1],
            c = ps[2],
            d = ps[3]
        ));
    }
    let sql = format!(
        "SELECT municipality, sensor, segment, asset_key, role, first_seen, last_seen, body \
         FROM assets{} ORDER BY municipality, sensor, segment, asset_key LIMIT {}",
        s.where_clause(),
        limit + 1
    );
    let rows = s.fetch(&app.store, &sql).await?;
    let mut items: Vec<Asset> = rows
        .iter()
        .map(|r| Asset {
            municipality: text(r, "municipality"),
            sensor: text(r, "sensor"),
            segment: text(r, "segment"),
            key: text(r, "asset_key"),
            role: text(r, "role"),
            first_seen: float(r, "first_seen"),
            last_seen: float(r, "last_seen"),
            record: serde_json::from_str(&text(r, "body")).unwrap_or_default(),
        })
        .collect();
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|a| {
            cursor(&[
                a.municipality.clone(),
                a.sensor.clone(),
                a.segment.clone(),
                a.key.clone(),
            ])
        })
    } else {
        None
    };
    Ok(Json(AssetPage { items, next_cursor }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MunicipalityQuery {
    pub municipality: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SensorHealth {
    pub municipality: String,
    pub sensor: String,
    /// When the analyzer last heard from it (its clock).
    pub last_received: f64,
    pub seconds_silent: f64,
    /// Packet time of its last health report.
    pub last_report: f64,
    pub packets: u64,
    pub drops: u64,
    pub spool_records: u64,
    pub spool_oldest_age: f64,
    pub rules_version: String,
    pub rules_error: String,
    /// Operational alerts open for it.
    pub problems: Vec<String>,
}

/// Sensors and their health.
#[utoipa::path(get, path = "/api/v1/sensors", params(MunicipalityQuery),
    responses((status = 200, body = Vec<SensorHealth>), (status = 403, body = super::ErrorBody)))]
pub async fn sensors(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    Q(q): Q<MunicipalityQuery>,
) -> Result<Json<Vec<SensorHealth>>, ApiError> {
    let mut s = Sql::default();
    if let Some(m) = scope(&p, q.municipality.as_deref())? {
        s.and(Arg::S(m), |x| format!("municipality = {x}"));
    }
    let sql = format!(
        "SELECT municipality, sensor, last_received, last_event_time, stats FROM sensors{} \
         ORDER BY municipality, sensor LIMIT 10000",
        s.where_clause()
    );
    let rows = s.fetch(&app.store, &sql).await?;
    let open = sqlx::query(
        "SELECT key_value, summary FROM correlations WHERE rule = 'sensor_health' \
         AND cleared IS NULL",
    )
    .fetch_all(&app.store.pool)
    .await?;
    let t = now();
    let mut out = Vec::new();
    for r in &rows {
        let (m, sn) = (text(r, "municipality"), text(r, "sensor"));
        let key = format!("{m}/{sn}");
        let stats = serde_json::from_str::<Event>(&text(r, "stats"))
            .ok()
            .and_then(|e| match e.body {
                EventBody::Stats(s) => Some(s),
                _ => None,
            });
        let ship = stats.as_ref().and_then(|s| s.shipping.clone());
        let an = stats.as_ref().and_then(|s| s.analysis.clone());
        out.push(SensorHealth {
            seconds_silent: (t - float(r, "last_received")).max(0.0),
            last_received: float(r, "last_received"),
            last_report: float(r, "last_event_time"),
            packets: stats.as_ref().map_or(0, |s| s.packets),
            drops: stats.as_ref().map_or(0, |s| s.drops.values().sum()),
            spool_records: ship.as_ref().map_or(0, |k| k.spool_records),
            spool_oldest_age: ship.as_ref().map_or(0.0, |k| k.spool_oldest_age),
            rules_version: an
                .as_ref()
                .and_then(|a| a.rules_version.clone())
                .unwrap_or_default(),
            rules_error: an.and_then(|a| a.rules_error).unwrap_or_default(),
            problems: open
                .iter()
                .filter(|o| text(o, "key_value") == key)
                .map(|o| text(o, "summary"))
                .collect(),
            municipality: m,
            sensor: sn,
        });
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub municipality: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub alerts: i64,
    pub by_severity: Vec<Count>,
    pub by_detector: Vec<Count>,
    pub by_municipality: Vec<Count>,
    /// Alerts per hour: key is the hour's start (Unix seconds).
    pub per_hour: Vec<Count>,
    pub open_incidents: i64,
}

/// Figures for dashboards.
#[utoipa::path(get, path = "/api/v1/stats", params(StatsQuery),
    responses((status = 200, body = Stats), (status = 400, body = super::ErrorBody),
              (status = 403, body = super::ErrorBody)))]
pub async fn stats(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    Q(q): Q<StatsQuery>,
) -> Result<Json<Stats>, ApiError> {
    let mut s = Sql::default();
    let m = scope(&p, q.municipality.as_deref())?;
    if let Some(m) = &m {
        s.and(Arg::S(m.clone()), |x| format!("municipality = {x}"));
    }
    for (v, op) in [(q.from, ">="), (q.to, "<")] {
        if let Some(v) = v {
            if !v.is_finite() {
                return Err(ApiError::bad(
                    "from and to are seconds since the Unix epoch",
                ));
            }
            s.and(Arg::F(v), |x| format!("ts {op} {x}"));
        }
    }
    let w = s.where_clause();
    let count = |col: &str| {
        format!("SELECT {col} AS k, COUNT(*) AS n FROM alerts{w} GROUP BY {col} ORDER BY n DESC LIMIT 1000")
    };
    let counts = |rows: Vec<sqlx::any::AnyRow>| -> Vec<Count> {
        rows.iter()
            .map(|r| Count {
                key: text(r, "k"),
                count: int(r, "n"),
            })
            .collect()
    };
    let by_severity = counts(s.fetch(&app.store, &count("severity")).await?);
    let by_detector = counts(s.fetch(&app.store, &count("detector")).await?);
    let by_municipality = counts(s.fetch(&app.store, &count("municipality")).await?);
    let hours = s
        .fetch(
            &app.store,
            &format!(
                "SELECT CAST(ts / 3600 AS BIGINT) AS h, COUNT(*) AS n FROM alerts{w} \
                 GROUP BY CAST(ts / 3600 AS BIGINT) ORDER BY h DESC LIMIT 2000"
            ),
        )
        .await?;
    let mut per_hour: Vec<Count> = hours
        .iter()
        .map(|r| Count {
            key: (int(r, "h") * 3600).to_string(),
            count: int(r, "n"),
        })
        .collect();
    per_hour.reverse();
    let mut si = Sql::default();
    si.conditions
        .push("state IN ('new', 'investigating')".into());
    if let Some(m) = &m {
        si.and(Arg::S(m.clone()), |x| format!("municipality = {x}"));
    }
    let open = si
        .fetch(
            &app.store,
            &format!("SELECT COUNT(*) AS n FROM incidents{}", si.where_clause()),
        )
        .await?;
    Ok(Json(Stats {
        alerts: by_severity.iter().map(|c| c.count).sum(),
        by_severity,
        by_detector,
        by_municipality,
        per_hour,
        open_incidents: open.first().map_or(0, |r| int(r, "n")),
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Status {
    pub version: String,
    pub instance: String,
    /// sqlite or postgres.
    pub store: String,
    pub schema_version: i64,
    pub ingest: IngestFigures,
    /// The token's role and municipality ("*": all).
    pub role: String,
    pub scope: String,
}

/// The analyzer's status: version, store, ingest counters.
#[utoipa::path(get, path = "/api/v1/status", responses((status = 200, body = Status)))]
pub async fn status(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Status>, ApiError> {
    Ok(Json(Status {
        version: env!("CARGO_PKG_VERSION").into(),
        instance: app.instance.clone(),
        store: if app.store.postgres {
            "postgres"
        } else {
            "sqlite"
        }
        .into(),
        schema_version: app.store.version().await?,
        ingest: app.ingest.figures(),
        role: p.role.clone(),
        scope: p.scope(),
    }))
}
