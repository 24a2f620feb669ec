//! Incidents: list, one with its timeline and NIS2 deadlines, updates
//! (state, assignee, significance, notes), NIS2 drafts and the allow-list
//! entry a false positive suggests. Incidents across municipalities
//! (campaigns) are the centre's; a municipality sees its own.

use super::sql::{cursor, uncursor, Arg};
use super::{page_limit, scope, ApiError, App, Body, Sql, P, Q};
use crate::auth::Principal;
use crate::incidents::{self as inc, Incident, IncidentUpdate, TimelineEntry};
use crate::nis2;
use crate::store::now;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// new, investigating, resolved or false_positive.
    pub state: Option<String>,
    pub municipality: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentPage {
    pub items: Vec<Incident>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentDetail {
    pub incident: Incident,
    pub timeline: Vec<TimelineEntry>,
    /// NIS2 deadlines, once the incident is flagged significant.
    pub deadlines: Vec<nis2::Deadline>,
}

const COLUMNS: &str = "id, municipality, title, severity, state, assignee, significant, \
                       source_kind, source_id, detected, updated";

/// List incidents, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", params(IncidentQuery),
    responses((status = 200, body = IncidentPage), (status = 400, body = super::ErrorBody),
              (status = 403, body = super::ErrorBody)))]
pub async fn list(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    Q(q): Q<IncidentQuery>,
) -> Result<Json<IncidentPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let mut s = Sql::default();
    if let Some(m) = scope(&p, q.municipality.as_deref())? {
        s.and(Arg::S(m), |x| format!("municipality = {x}"));
    }
    if let Some(st) = q.state.as_ref().filter(|v| !v.is_empty()) {
        if !inc::STATES.contains(&st.as_str()) {
            return Err(ApiError::bad(format!(
                "state must be one of {:?}",
                inc::STATES
            )));
        }
        s.and(Arg::S(st.clone()), |x| format!("state = {x}"));
    }
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        let parts = uncursor(c, 2).ok_or_else(|| ApiError::bad("cursor is not one of ours"))?;
        let t: f64 = parts[0].parse().map_err(|_| ApiError::bad("bad cursor"))?;
        let a = s.p(Arg::F(t));
        let b = s.p(Arg::S(parts[1].clone()));
        s.conditions
            .push(format!("(detected < {a} OR (detected = {a} AND id < {b}))"));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM incidents{} ORDER BY detected DESC, id DESC LIMIT {}",
        s.where_clause(),
        limit + 1
    );
    let rows = s.fetch(&app.store, &sql).await?;
    let mut items: Vec<Incident> = rows.iter().map(inc::from_row).collect();
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items
            .last()
            .map(|i| cursor(&[i.detected.to_string(), i.id.clone()]))
    } else {
        None
    };
    Ok(Json(IncidentPage { items, next_cursor }))
}

/// The incident if this principal may see it.
async fn fetch(app: &App, p: &Principal, id: &str) -> Result<Incident, ApiError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM incidents WHERE id = $1"))
        .bind(id)
        .fetch_optional(&app.store.pool)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let i = inc::from_row(&row);
    if !p.sees(&i.municipality) {
        return Err(ApiError::not_found());
    }
    Ok(i)
}

/// One incident with its timeline and deadlines.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", params(("id" = String, Path)),
    responses((status = 200, body = IncidentDetail), (status = 404, body = super::ErrorBody)))]
pub async fn one(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    P(id): P<String>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let i = fetch(&app, &p, &id).await?;
    let timeline = inc::timeline(&app.store, &i.id).await?;
    Ok(Json(IncidentDetail {
        deadlines: nis2::deadlines(&i, now()),
        incident: i,
        timeline,
    }))
}

/// Change an incident's state, assignee or significance, or add a note.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", params(("id" = String, Path)),
    request_body = IncidentUpdate,
    responses((status = 200, body = IncidentDetail), (status = 400, body = super::ErrorBody),
              (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
              (status = 413, description = "body too large")))]
pub async fn update(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    P(id): P<String>,
    Body(u): Body<IncidentUpdate>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let i = fetch(&app, &p, &id).await?;
    if !p.can_write() {
        return Err(ApiError::forbidden(
            "a read-only token cannot change incidents",
        ));
    }
    inc::update(&app.store, &i, &u, &p.token_id)
        .await
        .map_err(ApiError::bad)?;
    one(State(app), Extension(p), P(id)).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DraftQuery {
    /// json (default) or markdown.
    pub format: Option<String>,
}

/// A draft NIS2 report: early_warning, notification or final_report.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/nis2/{stage}",
    params(("id" = String, Path), ("stage" = String, Path), DraftQuery),
    responses((status = 200, body = nis2::Draft), (status = 400, body = super::ErrorBody),
              (status = 404, body = super::ErrorBody)))]
pub async fn nis2(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    P((id, stage)): P<(String, String)>,
    Q(q): Q<DraftQuery>,
) -> Result<Response, ApiError> {
    let i = fetch(&app, &p, &id).await?;
    let timeline = inc::timeline(&app.store, &i.id).await?;
    let d = nis2::draft(&app.store, &i, &timeline, &stage)
        .await?
        .ok_or_else(|| {
            ApiError::bad("stage must be early_warning, notification or final_report")
        })?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(d).into_response()),
        "markdown" | "md" => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            nis2::markdown(&d),
        )
            .into_response()),
        _ => Err(ApiError::bad("format must be json or markdown")),
    }
}

/// The allow-list entry (sensor rules format) a false positive suggests.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/allowlist", params(("id" = String, Path)),
    responses((status = 200, description = "TOML for rules/allow.toml", content_type = "text/plain"),
              (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn allowlist(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
    P(id): P<String>,
) -> Result<Response, ApiError> {
    let i = fetch(&app, &p, &id).await?;
    if i.state != "false_positive" {
        return Err(ApiError(
            StatusCode::CONFLICT,
            "only a false positive suggests an allow-list entry; set its state first".into(),
        ));
    }
    let text = inc::allow_proposal(&app.store, &i).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}
