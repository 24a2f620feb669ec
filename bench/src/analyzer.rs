//! `vagt-bench analyzer`: the central analyzer's ingest rate and alert
//! search latency. Messages are made as sensors send them (98
//! municipalities, two sensors each, six segment kinds; half alerts, the
//! rest assets and health, over 30 days), then go through the analyzer's
//! own ingest path (validation and the store's batch write, as the Kafka
//! consumer calls them) into SQLite or PostgreSQL. Then the API is served
//! from that store and asked a fixed-seed mix of alert searches (by
//! municipality, detector, indicator, severity and time, segment, the next
//! page), by a central and a municipality token, one at a time; latencies
//! go into a histogram.

use crate::cli::AnalyzerArgs;
use hdrhistogram::Histogram;
use std::time::Instant;
use vagt_analyzer::api::{self, App};
use vagt_analyzer::ingest::{validate, IngestStats};
use vagt_analyzer::store::Store;
use vagt_schema::{wire, AlertRecord, Event, EventBody, Origin, Severity};

const SEGMENTS: [&str; 6] = ["admin", "care", "school", "ot", "guest", "servers"];
const DETECTORS: [&str; 8] = [
    "scan",
    "bruteforce",
    "dns_tunnel",
    "beacon",
    "lateral",
    "volume",
    "indicator",
    "new_rare",
];
const DAY: f64 = 86400.0;
/// Devices per municipality (Danish municipalities run a few thousand to
/// some tens of thousands of devices).
const DEVICES: u64 = 5000;
const START: f64 = 1_764_547_200.0; // 2025-12-01

/// splitmix64: a fixed seed gives the same data and queries.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn municipality(i: u64) -> String {
    format!("{:04}", 101 + i * 7)
}

fn outside(i: u64) -> String {
    format!("185.{}.{}.{}", 20 + i / 65536 % 200, i / 256 % 256, i % 256)
}

/// Message `i` of the stream: (key, payload).
fn message(rng: &mut Rng, seqs: &mut [u64], i: u64, n: u64) -> (String, Vec<u8>) {
    let m = rng.below(98);
    let roll = rng.below(10);
    // Each municipality has DEVICES devices, each seen by one sensor on
    // one segment: an asset event is the change of one of them.
    let device = rng.below(DEVICES);
    let (s, segment) = if (5..8).contains(&roll) {
        (device % 2, SEGMENTS[(device / 2 % 6) as usize])
    } else {
        (rng.below(2), SEGMENTS[rng.below(6) as usize])
    };
    let slot = (m * 2 + s) as usize;
    seqs[slot] += 1;
    let origin = Origin {
        municipality: municipality(m),
        sensor: format!("sensor-{s}"),
        segment: segment.into(),
    };
    let ts = START + 30.0 * DAY * i as f64 / n as f64;
    let body = if roll < 5 {
        let d = DETECTORS[rng.below(8) as usize];
        let ext = outside(rng.below(5000));
        let internal = format!("fd00::{:x}", rng.below(4000) + 1);
        let (src, dst) = if rng.below(2) == 0 {
            (ext.clone(), internal)
        } else {
            (internal, ext.clone())
        };
        EventBody::Alert(AlertRecord {
            ts,
            id: format!("a{i}"),
            detector: d.into(),
            kind: "k".into(),
            severity: [
                Severity::Low,
                Severity::Medium,
                Severity::High,
                Severity::Critical,
            ][rng.below(4) as usize],
            score: 60,
            technique: "T1046".into(),
            src: src.parse().unwrap_or(std::net::Ipv6Addr::LOCALHOST.into()),
            dst: dst.parse().ok(),
            subject: None,
            message: format!("{src} did {d} against {dst}: 412 attempts in 60 s; normal is 3 ± 2"),
            count: 1,
            first_seen: ts,
            last_seen: ts,
            uids: vec![],
            community_ids: vec![],
            update: false,
            host_risk: None,
        })
    } else if roll < 8 {
        let v = serde_json::json!({
            "event_type": "asset", "key": format!("mac:~m_{device}"),
            "role": "client", "first_seen": ts, "last_seen": ts, "change": ["new"],
            "services_used": ["dns/53", "tls/443"], "os_hints": ["MSFT 5.0"]
        });
        serde_json::from_value(v).unwrap_or(EventBody::Stats(Default::default()))
    } else {
        let v = serde_json::json!({
            "event_type": "stats", "ts": ts, "packets": i * 1000, "bytes": i * 800000,
            "decoded": {"ipv4": i * 990}, "decode_errors": {}, "drops": {"kernel": 0},
            "connections": i, "connections_evicted": 0, "connections_active": 120
        });
        serde_json::from_value(v).unwrap_or(EventBody::Stats(Default::default()))
    };
    let e = Event::new(origin, body);
    let key = wire::key(&e.origin.municipality, &e.origin.sensor);
    let mut p = Vec::new();
    wire::payload(&e, &mut p);
    let mut out = Vec::new();
    wire::frame(seqs[slot], ts, &p, &mut out);
    (key, out)
}

fn wait(
    rt: &tokio::runtime::Runtime,
    w: tokio::task::JoinHandle<Result<(), String>>,
) -> Result<(), String> {
    rt.block_on(w).map_err(|e| e.to_string())?
}

pub fn run(a: &AnalyzerArgs) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let url = a.store.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            std::env::temp_dir()
                .join(format!("vagt-bench-analyzer-{}.db", std::process::id()))
                .display()
        )
    });
    let store = rt
        .block_on(Store::open(&url, 4))
        .map_err(|e| format!("{e:#}"))?;
    let n = a.events as u64;
    let mut rng = Rng(a.seed);
    let mut seqs = vec![a.seq_offset; 196];
    eprintln!(
        "ingesting {n} events into {} ...",
        vagt_analyzer::store::redact(&url)
    );
    let started = Instant::now();
    let mut chunk_start = Instant::now();
    let mut slowest: f64 = f64::MAX;
    let mut batch = Vec::with_capacity(a.batch);
    let mut i = 0u64;
    let chunk = (n / 10).max(1);
    let (mut made, mut validating, mut writing) = Default::default();
    let mut pending: Option<tokio::task::JoinHandle<Result<(), String>>> = None;
    while i < n {
        let t = Instant::now();
        let (key, msg) = message(&mut rng, &mut seqs, i, n);
        made += t.elapsed();
        let t = Instant::now();
        let inc = validate(Some(key.as_bytes()), &msg)?;
        validating += t.elapsed();
        batch.push(inc);
        i += 1;
        if batch.len() == a.batch || i == n {
            // As the consumer does: the next batch is made and validated
            // while this one is written.
            let t = Instant::now();
            if let Some(w) = pending.take() {
                wait(&rt, w)?;
            }
            writing += t.elapsed();
            let full = std::mem::replace(&mut batch, Vec::with_capacity(a.batch));
            let st = store.clone();
            pending = Some(rt.spawn(async move {
                st.write(&full)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{e:#}"))
            }));
        }
        if i.is_multiple_of(chunk) {
            let rate = chunk as f64 / chunk_start.elapsed().as_secs_f64();
            slowest = slowest.min(rate);
            eprintln!("  {i:>10} stored, last {chunk}: {rate:.0} events/s");
            chunk_start = Instant::now();
        }
    }
    if let Some(w) = pending.take() {
        let t = Instant::now();
        wait(&rt, w)?;
        writing += t.elapsed();
    }
    let secs = started.elapsed().as_secs_f64();
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / n.max(1) as f64;
    println!(
        "ingest time per event: making the message {:.1} µs (bench only), validation {:.1} µs, waiting for the store {:.1} µs",
        per(made),
        per(validating),
        per(writing)
    );
    println!(
        "ingest: {n} events in {secs:.1} s: {:.0} events/s overall, slowest tenth {slowest:.0} events/s (validation + store, batch {})",
        n as f64 / secs,
        a.batch
    );

    if store.postgres {
        // As autovacuum would after a load this size: the planner's
        // statistics, which a bulk load leaves stale.
        rt.block_on(sqlx::query("ANALYZE").execute(&store.pool))
            .map_err(|e| format!("ANALYZE: {e}"))?;
    }
    // Searches through the API, as analysts make them.
    let (central, local) = rt.block_on(async {
        let c = vagt_analyzer::auth::create(&store, "bench", "central", "").await;
        let l =
            vagt_analyzer::auth::create(&store, "bench", "municipality", &municipality(3)).await;
        (c.map(|t| t.1), l.map(|t| t.1))
    });
    let (central, local) = (
        central.map_err(|e| e.to_string())?,
        local.map_err(|e| e.to_string())?,
    );
    let app = App {
        store: store.clone(),
        ingest: std::sync::Arc::new(IngestStats::default()),
        instance: "bench".into(),
        counters: Default::default(),
    };
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    rt.spawn(async move {
        let _ = axum::serve(listener, api::router(app, 65536)).await;
    });
    let mut hist = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let mut per_kind: Vec<(String, Histogram<u64>)> = Vec::new();
    let base = format!("http://127.0.0.1:{port}/api/v1/alerts");
    let mut rows = 0usize;
    for q in 0..a.searches {
        let m = municipality(rng.below(98));
        let day = START + rng.below(30) as f64 * DAY;
        let (kind, query, token): (&str, Vec<(&str, String)>, &str) = match q % 7 {
            0 => ("municipality", vec![("municipality", m)], &central),
            1 => (
                "municipality+detector",
                vec![
                    ("municipality", m),
                    ("detector", DETECTORS[rng.below(8) as usize].into()),
                ],
                &central,
            ),
            2 => (
                "indicator",
                vec![("indicator", outside(rng.below(5000)))],
                &central,
            ),
            3 => (
                "severity+day",
                vec![
                    ("severity", "critical".into()),
                    ("from", day.to_string()),
                    ("to", (day + DAY).to_string()),
                ],
                &central,
            ),
            4 => (
                "municipality+segment",
                vec![
                    ("municipality", m),
                    ("segment", SEGMENTS[rng.below(6) as usize].into()),
                ],
                &central,
            ),
            5 => (
                "municipality token",
                vec![("detector", "scan".into())],
                &local,
            ),
            _ => ("all, newest", vec![], &central),
        };
        let t = Instant::now();
        let mut req = ureq::get(&base).header("Authorization", &format!("Bearer {token}"));
        for (k, v) in &query {
            req = req.query(*k, v);
        }
        let mut resp = req.call().map_err(|e| format!("search {kind}: {e}"))?;
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let us = t.elapsed().as_micros() as u64;
        rows += body.matches("\"alert_id\"").count();
        let _ = hist.record(us);
        match per_kind.iter_mut().find(|(k, _)| k == kind) {
            Some((_, h)) => {
                let _ = h.record(us);
            }
            None => {
                let mut h = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
                let _ = h.record(us);
                per_kind.push((kind.to_string(), h));
            }
        }
    }
    let ms = |v: u64| v as f64 / 1000.0;
    println!(
        "search: {} searches over {n} stored events ({rows} alerts returned): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        a.searches,
        ms(hist.value_at_quantile(0.5)),
        ms(hist.value_at_quantile(0.99)),
        ms(hist.max())
    );
    for (k, h) in &per_kind {
        println!(
            "  {k:<24} p50 {:>7.1} ms  p99 {:>7.1} ms",
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.99))
        );
    }
    if a.store.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ =
                std::fs::remove_file(format!("{}{suffix}", url.trim_start_matches("sqlite://")));
        }
    }
    Ok(())
}
