//! `/metrics`: the analyzer's own figures in the Prometheus text format,
//! for the centre's monitoring: ingest counters, API requests by status,
//! correlation rounds and what they raised, rows retention deleted, and
//! from the store the sensors known and how long since the newest event
//! arrived (a stalled ingest shows there first). Central tokens only: the
//! figures span every municipality. A scrape is audited like any request.

use super::{ApiError, App};
use crate::auth::Principal;
use crate::correlate::Round;
use crate::ingest::IngestFigures;
use crate::store::now;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Counters the service keeps as it runs.
#[derive(Debug, Default)]
pub struct Counters {
    /// API answers by status code.
    requests: Mutex<BTreeMap<u16, u64>>,
    correlation_rounds: AtomicU64,
    correlation_errors: AtomicU64,
    findings: AtomicU64,
    incidents: AtomicU64,
    /// Rows deleted by retention, by data kind.
    deleted: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    pub fn request(&self, status: u16) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry(status).or_default() += 1;
        }
    }

    /// One correlation round: what it raised, or None when it failed.
    pub fn round(&self, raised: Option<&Round>) {
        self.correlation_rounds.fetch_add(1, Ordering::Relaxed);
        match raised {
            Some(r) => {
                self.findings.fetch_add(r.created as u64, Ordering::Relaxed);
                self.incidents
                    .fetch_add(r.incidents as u64, Ordering::Relaxed);
            }
            None => {
                self.correlation_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn deleted(&self, kind: &str, rows: u64) {
        if let Ok(mut d) = self.deleted.lock() {
            *d.entry(kind.to_string()).or_default() += rows;
        }
    }
}

/// What one scrape shows.
#[derive(Debug)]
struct Snapshot {
    ingest: IngestFigures,
    requests: BTreeMap<u16, u64>,
    rounds: u64,
    round_errors: u64,
    findings: u64,
    incidents: u64,
    deleted: BTreeMap<String, u64>,
    sensors: i64,
    newest_age: Option<f64>,
}

/// The analyzer's metrics (Prometheus text format).
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
              (status = 403, body = super::ErrorBody)))]
pub async fn scrape(
    State(app): State<App>,
    Extension(p): Extension<Principal>,
) -> Result<Response, ApiError> {
    if !p.is_central() {
        return Err(ApiError::forbidden(
            "the metrics span every municipality: a central token is needed",
        ));
    }
    let row = sqlx::query("SELECT COUNT(*) AS n, MAX(last_received) AS newest FROM sensors")
        .fetch_one(&app.store.pool)
        .await?;
    let c = &app.counters;
    let snap = Snapshot {
        ingest: app.ingest.figures(),
        requests: c.requests.lock().map(|r| r.clone()).unwrap_or_default(),
        rounds: c.correlation_rounds.load(Ordering::Relaxed),
        round_errors: c.correlation_errors.load(Ordering::Relaxed),
        findings: c.findings.load(Ordering::Relaxed),
        incidents: c.incidents.load(Ordering::Relaxed),
        deleted: c.deleted.lock().map(|d| d.clone()).unwrap_or_default(),
        sensors: row.try_get::<i64, _>("n").unwrap_or(0),
        newest_age: row
            .try_get::<Option<f64>, _>("newest")
            .ok()
            .flatten()
            .map(|t| (now() - t).max(0.0)),
    };
    let mut registry = Registry::default();
    registry.register_collector(Box::new(snap));
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &registry)
        .map_err(|_| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "encoding metrics".into()))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> std::fmt::Result {
    let c = ConstCounter::new(v);
    c.encode(e.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: f64) -> std::fmt::Result {
    let g = ConstGauge::new(v);
    g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
}

fn labelled<K: ToString>(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    values: &BTreeMap<K, u64>,
) -> std::fmt::Result {
    let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (k, v) in values {
        let labels = [(label.to_string(), k.to_string())];
        ConstCounter::new(*v).encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for Snapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let i = &self.ingest;
        let p = "vagt_analyzer_";
        counter(
            &mut e,
            &format!("{p}received"),
            "Kafka messages read",
            i.received,
        )?;
        counter(
            &mut e,
            &format!("{p}stored"),
            "Events stored (first copies)",
            i.stored,
        )?;
        counter(
            &mut e,
            &format!("{p}duplicates"),
            "Second copies dropped by (municipality, sensor, seq)",
            i.duplicates,
        )?;
        counter(
            &mut e,
            &format!("{p}dead_letters"),
            "Invalid messages sent to the dead-letter topic",
            i.dead_letters,
        )?;
        counter(
            &mut e,
            &format!("{p}store_errors"),
            "Batch writes that failed and were tried again",
            i.store_errors,
        )?;
        labelled(
            &mut e,
            &format!("{p}api_requests"),
            "API answers by HTTP status",
            "status",
            &self.requests,
        )?;
        counter(
            &mut e,
            &format!("{p}correlation_rounds"),
            "Correlation rounds run",
            self.rounds,
        )?;
        counter(
            &mut e,
            &format!("{p}correlation_errors"),
            "Correlation rounds that failed",
            self.round_errors,
        )?;
        counter(
            &mut e,
            &format!("{p}findings"),
            "Campaigns, waves, kill chains and health findings raised",
            self.findings,
        )?;
        counter(
            &mut e,
            &format!("{p}incidents"),
            "Incidents raised",
            self.incidents,
        )?;
        labelled(
            &mut e,
            &format!("{p}retention_deleted_rows"),
            "Rows retention deleted, by data kind",
            "kind",
            &self.deleted,
        )?;
        gauge(
            &mut e,
            &format!("{p}sensors"),
            "Sensors that have sent anything",
            self.sensors as f64,
        )?;
        if let Some(age) = self.newest_age {
            gauge(
                &mut e,
                &format!("{p}newest_event_age_seconds"),
                "Seconds since the newest event from any sensor arrived",
                age,
            )?;
        }
        Ok(())
    }
}
