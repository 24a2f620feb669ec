//! Campaigns and the other correlations (waves, kill chains, sensor
//! health). A municipality's token sees those that touch its municipality,
//! with the other municipalities counted, never named.

use super::sql::{cursor, uncursor, Arg};
use super::{page_limit, scope, ApiError, App, Sql, P, Q};
use crate::auth::Principal;
use crate::store::{float, int, text};
use axum::extract::State;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

pub const RULES: [&str; 4] = ["campaign", "wave", "kill_chain", "sensor_health"];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CorrelationQuery {
    /// campaign (default), wave, kill_chain or sensor_health.
    pub rule: Option<String>,
    /// Only those touching this municipality.
    pub municipality: Option<String>,
    /// Only those not cleared (sensor health).
    pub open: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Correlation {
    pub id: String,
    pub rule: String,
    /// What it is keyed by: an indicator kind (ip, net, domain, ...), a
    /// detector (waves), "host" (kill chains) or a condition (health).
    pub key_kind: String,
    pub key_value: String,
    /// The municipalities it touches (a municipality's token: its own).
    pub municipalities: Vec<String>,
    /// Municipalities touched that this token may not name.
    pub other_municipalities: usize,
    pub detectors: Vec<String>,
    pub severity: String,
    pub first_seen: f64,
    pub last_seen: f64,
    pub alerts: i64,
    pub summary: String,
    pub created: f64,
    pub updated: f64,
    pub cleared: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CorrelationPage {
    pub items: Vec<Correlation>,
    pub next_cursor: Option<String>,
}

fn correlation(p: &Principal, r: &AnyRow) -> Correlation {
    let all: Vec<String> = serde_json::from_str(&text(r, "municipalities")).unwrap_or_default();
    let (municipalities, hidden): (Vec<String>, Vec<String>) =
        all.into_iter().partition(|m| p.sees(m));
    let rule = text(r, "rule");
    let (kind, value) = (text(r, "key_kind"), text(r, "key_value"));
    let summary = if hidden.is_empty() {
        text(r, "summary")
    } else {
        // The stored summary names every municipality.
        format!(
            "{rule} on {kind} {value}: seen in {} municipalities, yours among them",
            municipalities.len() + hidden.len()
        )
    };
    let cleared = float(r, "cleared");
    Correlation {
        id: text(r, "id"),
        rule,
        key_kind: kind,
        key_value: value,
        municipalities,
        other_municipalities: hidden.len(),
        detectors: serde_json::from_str(&text(r, "detectors")).unwrap_or_default(),
        severity: text(r, "severity"),
        first_seen: float(r, "first_seen"),
        last_seen: float(r, "last_seen"),
        alerts: int(r, "alerts"),
        summary,
        created: float(r, "created"),
        updated: float(r, "updated"),
        cleared: (cleared > 0.0).then_some(cleared),
    }
}

const COLUMNS: &str = "c.id, c.rule, c.key_kind, c.key_value, c.municipalities, c.detectors, \
                       c.severity, c.first_seen, c.last_seen, c.alerts, c.summary, c.created, \
                       c.updated, c.cleared";

/// List campaigns (or waves, kill chains, sensor health alerts), most
/// recently seen first.
#[utoipa::path(get, path = "/api/v1/campaigns", params(CorrelationQuery),
    responses((status = 200, body = CorrelationPage), (status = 400, body = super::ErrorBody),
              (status = 403, body = super::ErrorBody)))]
pub async fn list(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    Q(q): Q<CorrelationQuery>,
) -> Result<Json<CorrelationPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let rule = q.rule.clone().unwrap_or_else(|| "campaign".into());
    if !RULES.contains(&rule.as_str()) {
        return Err(ApiError::bad(format!("rule must be one of {RULES:?}")));
    }
    let mut s = Sql::default();
    s.and(Arg::S(rule), |x| format!("c.rule = {x}"));
    if let Some(m) = scope(&p, q.municipality.as_deref())? {
        s.and(Arg::S(m), |x| {
            format!(
                "EXISTS (SELECT 1 FROM correlation_municipalities cm \
                 WHERE cm.correlation_id = c.id AND cm.municipality = {x})"
            )
        });
    }
    if q.open == Some(true) {
        s.conditions.push("c.cleared IS NULL".into());
    }
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        let parts = uncursor(c, 2).ok_or_else(|| ApiError::bad("cursor is not one of ours"))?;
        let t: f64 = parts[0].parse().map_err(|_| ApiError::bad("bad cursor"))?;
        let a = s.p(Arg::F(t));
        let b = s.p(Arg::S(parts[1].clone()));
        s.conditions.push(format!(
            "(c.last_seen < {a} OR (c.last_seen = {a} AND c.id < {b}))"
        ));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM correlations c{} ORDER BY c.last_seen DESC, c.id DESC LIMIT {}",
        s.where_clause(),
        limit + 1
    );
    let rows = s.fetch(&app.store, &sql).await?;
    let mut items: Vec<Correlation> = rows.iter().map(|r| correlation(&p, r)).collect();
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items
            .last()
            .map(|c| cursor(&[c.last_seen.to_string(), c.id.clone()]))
    } else {
        None
    };
    Ok(Json(CorrelationPage { items, next_cursor }))
}

/// One campaign (or other correlation) by id.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Correlation), (status = 404, body = super::ErrorBody)))]
pub async fn one(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    P(id): P<String>,
) -> Result<Json<Correlation>, ApiError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM correlations c WHERE c.id = $1"
    ))
    .bind(&id)
    .fetch_optional(&app.store.pool)
    .await?
    .ok_or_else(ApiError::not_found)?;
    let c = correlation(&p, &row);
    if !p.is_central() && c.municipalities.is_empty() {
        return Err(ApiError::not_found());
    }
    Ok(Json(c))
}
