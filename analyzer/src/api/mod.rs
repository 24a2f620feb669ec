//! The analysts' HTTP JSON API (axum): alert search and export,
//! campaigns and other correlations, incidents with their updates and
//! NIS2 drafts, assets, sensors and their health, dashboard statistics.
//! Every request needs a token (`Authorization: Bearer vagt_...`); every
//! request, answered or refused, is written to the audit log. A
//! municipality's token sees its own municipality only, whatever the
//! filters, ids or cursors say. The OpenAPI document is served at
//! `/api/v1/openapi.json`.

pub mod alerts;
pub mod correlations;
pub mod incidents;
pub mod inventory;
pub mod metrics;
mod sql;

use crate::auth::{self, Principal};
use crate::ingest::IngestStats;
use crate::store::{now, Store};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{request::Parts, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use utoipa::OpenApi;

pub use sql::Sql;

#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub ingest: Arc<IngestStats>,
    pub instance: String,
    pub counters: Arc<metrics::Counters>,
}

/// An error as the API answers it: a status and `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

impl ApiError {
    pub fn bad(msg: impl Into<String>) -> ApiError {
        ApiError(StatusCode::BAD_REQUEST, msg.into())
    }
    pub fn not_found() -> ApiError {
        ApiError(StatusCode::NOT_FOUND, "no such object".into())
    }
    pub fn forbidden(msg: impl Into<String>) -> ApiError {
        ApiError(StatusCode::FORBIDDEN, msg.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        tracing::error!("store: {e}");
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the store cannot answer now; try again".into(),
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        anyhow::Error::from(e).into()
    }
}

/// Query parameters, refused with a JSON error that names the problem.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Q(q.0))
            .map_err(|e| ApiError::bad(e.body_text()))
    }
}

/// A JSON body, refused with a JSON error.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Json::<T>::from_request(req, state)
            .await
            .map(|j| Body(j.0))
            .map_err(|e| ApiError(e.status(), e.body_text()))
    }
}

/// Path parameters, refused with a JSON error.
pub struct P<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| P(p.0))
            .map_err(|e| ApiError::bad(e.body_text()))
    }
}

/// Severity names, low to high, as ranks.
pub fn severity_rank(s: &str) -> Option<i64> {
    ["low", "medium", "high", "critical"]
        .iter()
        .position(|x| *x == s)
        .map(|i| i as i64)
}

/// Results per page: 100 unless asked, at most 1000.
pub fn page_limit(limit: Option<u32>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=1000).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::bad(format!("limit must be 1 to 1000, not {n}"))),
    }
}

/// The municipality a request may see: its own for a municipality token
/// (asking for another is refused), or what it asked for.
pub fn scope(p: &Principal, asked: Option<&str>) -> Result<Option<String>, ApiError> {
    match (&p.municipality, asked.filter(|a| !a.is_empty())) {
        (Some(own), Some(a)) if a != own => Err(ApiError::forbidden(format!(
            "this token covers municipality {own} only"
        ))),
        (Some(own), _) => Ok(Some(own.clone())),
        (None, a) => Ok(a.map(String::from)),
    }
}

/// Checks the token, then writes the request to the audit log.
async fn authenticate(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().chars().take(2000).collect::<String>();
    let query = req
        .uri()
        .query()
        .unwrap_or("")
        .chars()
        .take(2000)
        .collect::<String>();
    let secret = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(String::from);
    let principal = match secret {
        None => None,
        Some(s) => match auth::check(&app.store, &s).await {
            Ok(p) => p,
            Err(e) => return ApiError::from(e).into_response(),
        },
    };
    let (response, who) = match principal {
        None => (
            ApiError(
                StatusCode::UNAUTHORIZED,
                "a valid token is needed: Authorization: Bearer vagt_... \
                 (vagt-analyzer token create)"
                    .into(),
            )
            .into_response(),
            None,
        ),
        Some(p) => {
            req.extensions_mut().insert(p.clone());
            (next.run(req).await, Some(p))
        }
    };
    let (token, role, scope) = match &who {
        Some(p) => (p.token_id.clone(), p.role.clone(), p.scope()),
        None => ("-".into(), "-".into(), "-".into()),
    };
    let audit = sqlx::query(
        "INSERT INTO audit (ts, token_id, role, scope, method, path, query, status, instance) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
    )
    .bind(now())
    .bind(token)
    .bind(role)
    .bind(scope)
    .bind(method)
    .bind(path)
    .bind(query)
    .bind(i32::from(response.status().as_u16()))
    .bind(app.instance.as_str())
    .execute(&app.store.pool)
    .await;
    let response = match audit {
        Ok(_) => response,
        Err(e) => {
            // An answer that cannot be audited is not given.
            tracing::error!("audit log: {e}");
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                "the audit log cannot be written; try again".into(),
            )
            .into_response()
        }
    };
    app.counters.request(response.status().as_u16());
    response
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vagt analyzer API",
        description = "Alerts, campaigns, incidents, assets and sensors of every municipality. \
                       Every request needs `Authorization: Bearer <token>`."
    ),
    paths(
        alerts::search,
        alerts::export,
        alerts::one,
        correlations::list,
        correlations::one,
        incidents::list,
        incidents::one,
        incidents::update,
        incidents::nis2,
        incidents::allowlist,
        inventory::assets,
        inventory::sensors,
        inventory::stats,
        inventory::status,
        metrics::scrape,
        openapi_json,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "token",
            Vec::<String>::new(),
        )]);
    }
}

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200, description = "OpenAPI 3.1 document")))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub fn router(app: App, max_body: usize) -> Router {
    Router::new()
        .route("/api/v1/alerts", get(alerts::search))
        .route("/api/v1/alerts/export", get(alerts::export))
        .route(
            "/api/v1/alerts/{municipality}/{sensor}/{seq}",
            get(alerts::one),
        )
        .route("/api/v1/campaigns", get(correlations::list))
        .route("/api/v1/campaigns/{id}", get(correlations::one))
        .route("/api/v1/incidents", get(incidents::list))
        .route(
            "/api/v1/incidents/{id}",
            get(incidents::one).patch(incidents::update),
        )
        .route("/api/v1/incidents/{id}/nis2/{stage}", get(incidents::nis2))
        .route(
            "/api/v1/incidents/{id}/allowlist",
            get(incidents::allowlist),
        )
        .route("/api/v1/assets", get(inventory::assets))
        .route("/api/v1/sensors", get(inventory::sensors))
        .route("/api/v1/stats", get(inventory::stats))
        .route("/api/v1/status", get(inventory::status))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/metrics", get(metrics::scrape))
        .fallback(|| async {
            ApiError(
                StatusCode::NOT_FOUND,
                "no such endpoint; see /api/v1/openapi.json".into(),
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            authenticate,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(app)
}
