//! Prometheus metrics on a local port (`[metrics] listen`): a sink that
//! keeps the latest health (`stats`) event and a small HTTP server that
//! renders it at `/metrics` in the Prometheus text format, named after
//! Prometheus conventions (`vagt_` prefix, `_total` counters, base units).
//!
//! The figures are the health event's, so the local port, the health
//! topic and the local output never disagree.

use super::Sink;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::NoLabelSet;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use vagt_schema::{Event, EventBody, Histogram, SensorStats};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    /// Address to serve `/metrics` on, e.g. "127.0.0.1:9469"; "" is off.
    pub listen: String,
}

type Latest = Arc<Mutex<Option<SensorStats>>>;

/// Keeps the latest health event for the metrics server.
pub struct MetricsSink {
    latest: Latest,
    addr: std::net::SocketAddr,
}

impl MetricsSink {
    /// Binds `listen` and serves until the process ends; the error says
    /// what to change.
    pub fn serve(listen: &str) -> Result<MetricsSink, String> {
        let listener = TcpListener::bind(listen).map_err(|e| {
            format!("cannot serve metrics on {listen}: {e} (change [metrics] listen)")
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot serve metrics on {listen}: {e}"))?;
        let latest: Latest = Arc::default();
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Figures(latest.clone())));
        std::thread::Builder::new()
            .name("vagt-metrics".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    // One scrape at a time: Prometheus scrapes every few
                    // seconds, and a slow client cannot hold more.
                    let _ = answer(stream, &registry);
                }
            })
            .map_err(|e| format!("cannot start the metrics thread: {e}"))?;
        Ok(MetricsSink { latest, addr })
    }

    /// Where it serves.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }
}

fn answer(stream: std::net::TcpStream, registry: &Registry) -> io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut line = String::new();
    let mut reader = BufReader::new(stream.try_clone()?);
    reader.read_line(&mut line)?;
    // The headers are read and ignored.
    let mut h = String::new();
    while reader.read_line(&mut h)? > 2 {
        h.clear();
    }
    let mut w = stream;
    let path = line.split_whitespace().nth(1).unwrap_or("");
    if !line.starts_with("GET ") || path != "/metrics" {
        return w.write_all(
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
    }
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, registry)
        .map_err(|_| io::Error::other("encoding metrics"))?;
    write!(
        w,
        "HTTP/1.1 200 OK\r\ncontent-type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

impl Sink for MetricsSink {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        if let EventBody::Stats(s) = &event.body {
            if let Ok(mut l) = self.latest.lock() {
                *l = Some(s.clone());
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Renders the latest health event at scrape time.
#[derive(Debug)]
struct Figures(Latest);

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> std::fmt::Result {
    let c = ConstCounter::new(v);
    c.encode(e.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: f64) -> std::fmt::Result {
    let g = ConstGauge::new(v);
    g.encode(e.encode_descriptor(name, help, None, g.metric_type())?)
}

/// A histogram from the health event, in Prometheus' buckets.
fn histogram(e: &mut DescriptorEncoder, name: &str, help: &str, h: &Histogram) -> std::fmt::Result {
    let bounds = h.le.iter().copied().chain([f64::INFINITY]);
    let buckets: Vec<(f64, u64)> = bounds.zip(h.counts.iter().copied()).collect();
    e.encode_descriptor(name, help, None, MetricType::Histogram)?
        .encode_histogram::<NoLabelSet>(h.sum, h.count, &buckets, None)
}

fn labelled<'a>(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    values: impl Iterator<Item = (&'a String, &'a u64)>,
) -> std::fmt::Result {
    let mut m = e.encode_descriptor(
        name,
        help,
        None,
        prometheus_client::metrics::MetricType::Counter,
    )?;
    for (k, v) in values {
        let labels = [(label.to_string(), k.clone())];
        ConstCounter::new(*v).encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for Figures {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let Some(s) = self.0.lock().ok().and_then(|l| l.clone()) else {
            return Ok(());
        };
        counter(&mut e, "vagt_packets", "Packets read", s.packets)?;
        counter(&mut e, "vagt_bytes", "Bytes of packets read", s.bytes)?;
        labelled(
            &mut e,
            "vagt_decode_errors",
            "Packets not fully decoded, by reason",
            "reason",
            s.decode_errors.iter(),
        )?;
        if let Some(pps) = s.packets_per_second {
            gauge(
                &mut e,
                "vagt_packets_per_second",
                "Packets per second since the previous health event",
                pps,
            )?;
        }
        labelled(
            &mut e,
            "vagt_parser_errors",
            "Application input the parsers could not read, by reason",
            "reason",
            s.parser_errors.iter(),
        )?;
        labelled(
            &mut e,
            "vagt_drops",
            "Packets lost before decoding, by where",
            "where",
            s.drops.iter(),
        )?;
        counter(
            &mut e,
            "vagt_connections",
            "Connections written",
            s.connections,
        )?;
        counter(
            &mut e,
            "vagt_connections_evicted",
            "Connections evicted from a full table",
            s.connections_evicted,
        )?;
        gauge(
            &mut e,
            "vagt_connections_active",
            "Connections open",
            s.connections_active as f64,
        )?;
        if let Some(a) = &s.analysis {
            counter(
                &mut e,
                "vagt_analysis_events",
                "Events the analysis read",
                a.events,
            )?;
            counter(&mut e, "vagt_alerts", "Alerts written", a.alerts)?;
            counter(
                &mut e,
                "vagt_alerts_allowed",
                "Findings an allow-list entry covered",
                a.allowed,
            )?;
            gauge(
                &mut e,
                "vagt_alerts_open",
                "Alerts still open",
                a.open_alerts as f64,
            )?;
            gauge(
                &mut e,
                "vagt_rules_files",
                "Rules files in force",
                a.rules_files as f64,
            )?;
            if let Some(l) = a.segments {
                gauge(
                    &mut e,
                    "vagt_segments",
                    "Segments with a baseline",
                    l.total as f64,
                )?;
                gauge(
                    &mut e,
                    "vagt_segments_learning",
                    "Segments still in their learning period",
                    l.learning as f64,
                )?;
            }
            gauge(
                &mut e,
                "vagt_rules_error",
                "1 when the last rules reload failed",
                f64::from(u8::from(a.rules_error.is_some())),
            )?;
        }
        if let Some(k) = &s.shipping {
            gauge(
                &mut e,
                "vagt_spool_events",
                "Events in the spool not yet acknowledged",
                k.spool_records as f64,
            )?;
            gauge(
                &mut e,
                "vagt_spool_bytes",
                "Bytes in the spool",
                k.spool_bytes as f64,
            )?;
            gauge(
                &mut e,
                "vagt_spool_oldest_age_seconds",
                "Age of the oldest event in the spool",
                k.spool_oldest_age,
            )?;
            counter(
                &mut e,
                "vagt_shipped_events",
                "Events acknowledged by Kafka",
                k.delivered,
            )?;
            counter(
                &mut e,
                "vagt_delivery_failures",
                "Deliveries Kafka failed (sent again)",
                k.failed,
            )?;
            counter(
                &mut e,
                "vagt_resent_events",
                "Events sent again after a failure",
                k.resent,
            )?;
            labelled(
                &mut e,
                "vagt_lost_events",
                "Events lost, by topic",
                "topic",
                k.dropped.iter(),
            )?;
            counter(
                &mut e,
                "vagt_spool_corrupt_records",
                "Spool records found corrupt and skipped",
                k.corrupt,
            )?;
            gauge(
                &mut e,
                "vagt_delivery_lag_seconds",
                "Spool to acknowledgement, last event",
                k.delivery_lag,
            )?;
            if let Some(h) = &k.delivery_seconds {
                histogram(
                    &mut e,
                    "vagt_delivery_seconds",
                    "Spool to acknowledgement, every delivered event",
                    h,
                )?;
            }
            if let Some(h) = &k.commit_seconds {
                histogram(
                    &mut e,
                    "vagt_spool_commit_seconds",
                    "Time of a spool commit, fsync included",
                    h,
                )?;
            }
            gauge(
                &mut e,
                "vagt_kafka_connected",
                "1 when the last delivery reached the broker",
                f64::from(u8::from(k.connected)),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use vagt_schema::{Origin, ShippingStats};

    #[test]
    fn the_latest_health_event_is_served_in_the_prometheus_format() {
        let mut sink = MetricsSink::serve("127.0.0.1:0").expect("serve");
        let mut stats = SensorStats {
            packets: 42,
            ..SensorStats::default()
        };
        stats.drops.insert("kernel".into(), 7);
        stats.shipping = Some(ShippingStats {
            spool_records: 5,
            dropped: [("conn".to_string(), 3)].into_iter().collect(),
            delivery_seconds: Some(vagt_schema::Histogram {
                le: vec![0.1, 1.0],
                counts: vec![4, 2, 1],
                sum: 9.5,
                count: 7,
            }),
            ..ShippingStats::default()
        });
        sink.write(&Event::new(Origin::default(), EventBody::Stats(stats)))
            .expect("write");
        let get = |path: &str| {
            let mut c = std::net::TcpStream::connect(sink.addr()).expect("connect");
            write!(c, "GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").expect("request");
            let mut body = String::new();
            c.read_to_string(&mut body).expect("response");
            body
        };
        let body = get("/metrics");
        for want in [
            "200 OK",
            "vagt_packets_total 42",
            "vagt_drops_total{where=\"kernel\"} 7",
            "vagt_spool_events 5",
            "vagt_lost_events_total{topic=\"conn\"} 3",
            "# TYPE vagt_delivery_seconds histogram",
            "vagt_delivery_seconds_bucket{le=\"0.1\"} 4",
            "vagt_delivery_seconds_bucket{le=\"1.0\"} 6",
            "vagt_delivery_seconds_bucket{le=\"+Inf\"} 7",
            "vagt_delivery_seconds_sum 9.5",
            "vagt_delivery_seconds_count 7",
        ] {
            assert!(body.contains(want), "{want} missing:\n{body}");
        }
        assert!(get("/other").starts_with("HTTP/1.1 404"));
    }
}
