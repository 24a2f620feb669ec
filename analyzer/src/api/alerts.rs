//! Alert search (by time, municipality, segment, detector, indicator and
//! severity; newest first, paginated by an opaque cursor), export as
//! NDJSON, and one alert with the event it came in.

use super::sql::{cursor, uncursor, Arg};
use super::{page_limit, scope, severity_rank, ApiError, App, Sql, P, Q};
use crate::auth::Principal;
use crate::store::{float, int, text};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Alerts at or after this time (seconds since the Unix epoch).
    pub from: Option<f64>,
    /// Alerts before this time.
    pub to: Option<f64>,
    /// A municipality code (a municipality's token sees only its own).
    pub municipality: Option<String>,
    /// A segment name (admin, care, school, ot, guest, servers, ...).
    pub segment: Option<String>,
    pub detector: Option<String>,
    /// An external indicator: address, /24, domain, SNI, JA3/JA4, user agent.
    pub indicator: Option<String>,
    /// The lowest severity: low, medium, high or critical.
    pub severity: Option<String>,
    /// 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    pub municipality: String,
    pub sensor: String,
    pub seq: i64,
    pub segment: String,
    pub alert_id: String,
    pub ts: f64,
    pub detector: String,
    pub kind: String,
    pub severity: String,
    pub score: i64,
    pub technique: String,
    /// Internal addresses are pseudonyms (fd00::/8).
    pub src: String,
    pub dst: String,
    pub subject: String,
    pub message: String,
    pub count: i64,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertPage {
    pub items: Vec<Alert>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

fn alert(r: &AnyRow) -> Alert {
    Alert {
        municipality: text(r, "municipality"),
        sensor: text(r, "sensor"),
        seq: int(r, "seq"),
        segment: text(r, "segment"),
        alert_id: text(r, "alert_id"),
        ts: float(r, "ts"),
        detector: text(r, "detector"),
        kind: text(r, "kind"),
        severity: text(r, "severity"),
        score: int(r, "score"),
        technique: text(r, "technique"),
        src: text(r, "src"),
        dst: text(r, "dst"),
        subject: text(r, "subject"),
        message: text(r, "message"),
        count: int(r, "count"),
    }
}

const COLUMNS: &str = "municipality, sensor, seq, segment, alert_id, ts, detector, kind, \
                       severity, score, technique, src, dst, subject, message, count";

/// The conditions of a search, and what it reads from.
fn filters(p: &Principal, q: &AlertQuery) -> Result<(Sql, String), ApiError> {
    let mut s = Sql::default();
    let mut from = "alerts".to_string();
    if let Some(m) = scope(p, q.municipality.as_deref())? {
        s.and(Arg::S(m), |x| format!("municipality = {x}"));
    }
    for (v, what) in [(q.from, "from"), (q.to, "to")] {
        if v.is_some_and(|v| !v.is_finite()) {
            return Err(ApiError::bad(format!("{what} must be a number of seconds")));
        }
    }
    if let Some(f) = q.from {
        s.and(Arg::F(f), |x| format!("ts >= {x}"));
    }
    if let Some(t) = q.to {
        s.and(Arg::F(t), |x| format!("ts < {x}"));
    }
    if let Some(v) = q.segment.as_ref().filter(|v| !v.is_empty()) {
        s.and(Arg::S(v.clone()), |x| format!("segment = {x}"));
    }
    if let Some(v) = q.detector.as_ref().filter(|v| !v.is_empty()) {
        s.and(Arg::S(v.clone()), |x| format!("detector = {x}"));
    }
    if let Some(v) = q.indicator.as_ref().filter(|v| !v.is_empty()) {
        // From the indicator to its alerts, as a join: a rare indicator
        // is found by its index instead of by testing alerts newest
        // first (PostgreSQL's choice for `IN (subquery)`: 1.5 s at 1 M).
        let x = s.p(Arg::S(v.to_ascii_lowercase()));
        from = format!(
            "alerts JOIN (SELECT DISTINCT municipality, sensor, seq FROM indicators \
             WHERE value = {x}) ind USING (municipality, sensor, seq)"
        );
    }
    if let Some(v) = q.severity.as_ref().filter(|v| !v.is_empty()) {
        let rank = severity_rank(v)
            .ok_or_else(|| ApiError::bad("severity must be low, medium, high or critical"))?;
        s.and(Arg::I(rank), |x| format!("severity_rank >= {x}"));
    }
    Ok((s, from))
}

/// Search alerts.
#[utoipa::path(get, path = "/api/v1/alerts", params(AlertQuery),
    responses((status = 200, body = AlertPage), (status = 400, body = super::ErrorBody),
              (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn search(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    Q(q): Q<AlertQuery>,
) -> Result<Json<AlertPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let (mut s, from) = filters(&p, &q)?;
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        let parts = uncursor(c, 4).ok_or_else(|| ApiError::bad("cursor is not one of ours"))?;
        let ts: f64 = parts[0].parse().map_err(|_| ApiError::bad("bad cursor"))?;
        let seq: i64 = parts[3].parse().map_err(|_| ApiError::bad("bad cursor"))?;
        let a = s.p(Arg::F(ts));
        let b = s.p(Arg::S(parts[1].clone()));
        let c = s.p(Arg::S(parts[2].clone()));
        let d = s.p(Arg::I(seq));
        s.conditions.push(format!(
            "(ts < {a} OR (ts = {a} AND (municipality < {b} OR (municipality = {b} AND \
             (sensor < {c} OR (sensor = {c} AND seq < {d}))))))"
        ));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM {from}{} ORDER BY ts DESC, municipality DESC, sensor DESC, \
         seq DESC LIMIT {}",
        s.where_clause(),
        limit + 1
    );
    let rows = s.fetch(&app.store, &sql).await?;
    let mut items: Vec<Alert> = rows.iter().map(alert).collect();
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|a| {
            cursor(&[
                a.ts.to_string(),
                a.municipality.clone(),
                a.sensor.clone(),
                a.seq.to_string(),
            ])
        })
    } else {
        None
    };
    Ok(Json(AlertPage { items, next_cursor }))
}

/// Export matching alerts as NDJSON (one alert per line, newest first, at
/// most 100,000).
#[utoipa::path(get, path = "/api/v1/alerts/export", params(AlertQuery),
    responses((status = 200, description = "NDJSON", content_type = "application/x-ndjson"),
              (status = 400, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn export(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    Q(q): Q<AlertQuery>,
) -> Result<impl IntoResponse, ApiError> {
    if q.cursor.is_some() || q.limit.is_some() {
        return Err(ApiError::bad("export takes no cursor or limit"));
    }
    let (s, from) = filters(&p, &q)?;
    let sql = format!(
        "SELECT {COLUMNS} FROM {from}{} ORDER BY ts DESC LIMIT 100000",
        s.where_clause()
    );
    let rows = s.fetch(&app.store, &sql).await?;
    let mut out = String::new();
    for r in &rows {
        out.push_str(&serde_json::to_string(&alert(r)).unwrap_or_default());
        out.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], out))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertDetail {
    pub alert: Alert,
    /// The event as the sensor sent it.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
    /// Its external indicators: "kind value".
    pub indicators: Vec<String>,
}

/// One alert, by municipality, sensor and sequence number.
#[utoipa::path(get, path = "/api/v1/alerts/{municipality}/{sensor}/{seq}",
    params(("municipality" = String, Path), ("sensor" = String, Path), ("seq" = i64, Path)),
    responses((status = 200, body = AlertDetail), (status = 404, body = super::ErrorBody)))]
pub async fn one(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    P((municipality, sensor, seq)): P<(String, String, i64)>,
) -> Result<Json<AlertDetail>, ApiError> {
    if !p.sees(&municipality) {
        return Err(ApiError::not_found());
    }
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE municipality = $1 AND sensor = $2 AND seq = $3"
    ))
    .bind(&municipality)
    .bind(&sensor)
    .bind(seq)
    .fetch_optional(&app.store.pool)
    .await?
    .ok_or_else(ApiError::not_found)?;
    let body =
        sqlx::query("SELECT body FROM events WHERE municipality = $1 AND sensor = $2 AND seq = $3")
            .bind(&municipality)
            .bind(&sensor)
            .bind(seq)
            .fetch_optional(&app.store.pool)
            .await?
            .map(|r| text(&r, "body"))
            .unwrap_or_default();
    let inds = sqlx::query(
        "SELECT kind, value FROM indicators WHERE municipality = $1 AND sensor = $2 AND seq = $3 \
         ORDER BY kind, value",
    )
    .bind(&municipality)
    .bind(&sensor)
    .bind(seq)
    .fetch_all(&app.store.pool)
    .await?;
    Ok(Json(AlertDetail {
        alert: alert(&row),
        event: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        indicators: inds
            .iter()
            .map(|r| format!("{} {}", text(r, "kind"), text(r, "value")))
            .collect(),
    }))
}
