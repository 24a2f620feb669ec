//! The analyzer against real parts: a Kafka-protocol broker (tansu), its
//! own binary started and killed, SQLite and a throw-away PostgreSQL
//! (`VAGT_PG_URL`, set by tests/run). Events are made here from the wire
//! schema, as sensors send them.
//!
//! - bad messages go to the dead-letter topic and never stop ingest;
//! - a restart and a kill -9 mid-stream lose nothing and store nothing
//!   twice (second copies from sensors are dropped too);
//! - two instances in one consumer group on one PostgreSQL store every
//!   event once and raise a campaign once;
//! - a municipality's token reads nothing of another municipality through
//!   any endpoint of the OpenAPI document (filters, ids, cursors, export);
//! - hostile requests get clear errors, and every request is audited;
//! - retention deletes for real and logs it.

#[allow(dead_code)]
#[path = "common/broker.rs"]
mod broker;
#[allow(dead_code)]
#[path = "common/certs.rs"]
mod certs;
#[path = "common/http.rs"]
mod http;

use http::http;

use broker::Broker;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vagt_analyzer::store::{Incoming, Store};
use vagt_schema::{wire, AlertRecord, Event, EventBody, Origin, Severity, Topic};

const TOPICS: [&str; 4] = [
    "vagt.alerts",
    "vagt.health",
    "vagt.assets",
    "vagt.dead-letter",
];

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vagt-analyzer"))
}

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
fn temp_dir(name: &str) -> Dir {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("vagt-an-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    Dir(d)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// An analyzer process, killed when dropped.
struct Analyzer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Analyzer {
    fn start(cfg: &Path, port: u16, log: PathBuf) -> Analyzer {
        let child = Command::new(bin())
            .args(["serve", "--config"])
            .arg(cfg)
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .expect("log"),
            )
            .spawn()
            .expect("start vagt-analyzer");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "no port: {}", read(&log));
            std::thread::sleep(Duration::from_millis(100));
        }
        Analyzer { child, port, log }
    }

    fn signal(&mut self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("the analyzer did not stop on {sig}");
    }
}

impl Drop for Analyzer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- analyzer log ---\n{}", read(&self.log));
        }
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn config(dir: &Path, brokers: &str, store: &str, port: u16, group: &str) -> PathBuf {
    let p = dir.join(format!("analyzer-{port}.toml"));
    std::fs::write(
        &p,
        format!(
            "[analyzer]\ninstance = \"i{port}\"\n\n[store]\nurl = \"{store}\"\nmax_connections = 4\n\n\
             [kafka]\nbrokers = \"{brokers}\"\ngroup = \"{group}\"\nbatch = 500\n\n\
             [api]\nlisten = \"127.0.0.1:{port}\"\nmax_body_bytes = 16384\n\n\
             [correlation]\ninterval_seconds = 1.0\n"
        ),
    )
    .expect("config");
    p
}

fn token(cfg: &Path, role: &str, municipality: &str) -> String {
    let out = Command::new(bin())
        .args([
            "token",
            "create",
            "--name",
            "t",
            "--role",
            role,
            "--municipality",
        ])
        .arg(municipality)
        .arg("--config")
        .arg(cfg)
        .output()
        .expect("token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn get_json(port: u16, path: &str, token: &str) -> serde_json::Value {
    let (s, b) = http(port, "GET", path, token, b"");
    assert_eq!(s, 200, "{path}: {b}");
    serde_json::from_str(&b).expect("json")
}

fn alert(ts: f64, detector: &str, src: &str, dst: Option<&str>, sev: Severity) -> EventBody {
    EventBody::Alert(AlertRecord {
        ts,
        id: format!("a-{ts}"),
        detector: detector.into(),
        kind: "port_scan".into(),
        severity: sev,
        score: 80,
        technique: "T1046".into(),
        src: src.parse().expect("src"),
        dst: dst.map(|d| d.parse().expect("dst")),
        subject: None,
        message: format!("{src} did something at {ts}"),
        count: 1,
        first_seen: ts,
        last_seen: ts,
        uids: vec![],
        community_ids: vec![],
        update: false,
        host_risk: None,
    })
}

/// A sensor: numbers its events and sends them as the real one does.
struct Sensor {
    origin: Origin,
    seq: u64,
}

impl Sensor {
    fn new(m: &str, s: &str, segment: &str) -> Sensor {
        Sensor {
            origin: Origin {
                municipality: m.into(),
                sensor: s.into(),
                segment: segment.into(),
            },
            seq: 0,
        }
    }

    /// The next message: (topic, key, bytes, seq).
    fn message(&mut self, body: EventBody) -> (String, String, Vec<u8>, u64) {
        self.seq += 1;
        let e = Event::new(self.origin.clone(), body);
        let mut p = Vec::new();
        wire::payload(&e, &mut p);
        let mut out = Vec::new();
        wire::frame(self.seq, 1.0, &p, &mut out);
        let topic = match e.body.topic() {
            Topic::Alerts => "vagt.alerts",
            Topic::Health => "vagt.health",
            _ => "vagt.assets",
        };
        (
            topic.to_string(),
            wire::key(&self.origin.municipality, &self.origin.sensor),
            out,
            self.seq,
        )
    }
}

fn producer(brokers: &str) -> BaseProducer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "5")
        .create()
        .expect("producer")
}

fn send(p: &BaseProducer, msgs: &[(String, String, Vec<u8>, u64)]) {
    for (t, k, b, _) in msgs {
        loop {
            match p.send(BaseRecord::to(t).key(k).payload(b)) {
                Ok(()) => break,
                Err(_) => {
                    p.poll(Duration::from_millis(50));
                }
            }
        }
        p.poll(Duration::ZERO);
    }
    p.flush(Duration::from_secs(60))
        .expect("flush to the broker");
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// (rows, distinct (municipality, sensor, seq)) in `events`.
fn counts(url: &str) -> (i64, i64) {
    rt().block_on(async {
        let s = Store::open(url, 1).await.expect("store");
        let a: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
            .fetch_one(&s.pool)
            .await
            .expect("count");
        let b: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM (SELECT DISTINCT municipality, sensor, seq FROM events) d",
        )
        .fetch_one(&s.pool)
        .await
        .expect("count");
        s.pool.close().await;
        (a.0, b.0)
    })
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn bad_messages_go_to_the_dead_letter_topic_and_ingest_goes_on() {
    let dir = temp_dir("dlq");
    let broker = Broker::start(&dir.0.join("broker"), &TOPICS);
    let port = free_port();
    let url = format!("sqlite://{}", dir.0.join("a.db").display());
    let cfg = config(&dir.0, &broker.bootstrap(), &url, port, "dlq");
    let central = token(&cfg, "central", "");
    let a = Analyzer::start(&cfg, port, dir.0.join("a.log"));
    let mut s = Sensor::new("0101", "s1", "admin");
    let good1 = s.message(alert(1e9, "scan", "185.1.1.1", None, Severity::High));
    let good2 = s.message(alert(1e9 + 1.0, "scan", "185.1.1.1", None, Severity::High));
    let mut bad = vec![
        (
            "vagt.alerts".to_string(),
            "0101/s1".to_string(),
            b"not json at all".to_vec(),
            0,
        ),
        (
            "vagt.alerts".into(),
            "0101/s1".into(),
            b"{\"seq\":1}".to_vec(),
            0,
        ),
        ("vagt.alerts".into(), "0101/s1".into(), vec![0xff; 3000], 0),
    ];
    // A message whose key names another municipality than its body.
    let mut spoof = Sensor::new("0147", "s9", "admin").message(alert(
        1e9,
        "scan",
        "185.1.1.1",
        None,
        Severity::High,
    ));
    spoof.1 = "0101/s1".into();
    bad.push(spoof);
    let mut all = vec![good1];
    all.extend(bad);
    all.push(good2);
    send(&producer(&broker.bootstrap()), &all);
    wait_for("two stored events", Duration::from_secs(60), || {
        counts(&url).0 == 2
    });
    let status = get_json(port, "/api/v1/status", &central);
    assert_eq!(status["ingest"]["dead_letters"], 4, "{status}");
    assert_eq!(status["ingest"]["stored"], 2, "{status}");
    let dead = broker.read_all(
        "vagt.dead-letter",
        Duration::from_secs(3),
        Duration::from_secs(60),
    );
    assert_eq!(
        dead.len(),
        4,
        "every bad message, whole, in the dead-letter topic"
    );
    assert!(dead.iter().any(|d| d == b"not json at all"));

    // The same counts for Prometheus, to central tokens only.
    let (code, m) = http(port, "GET", "/metrics", &central, b"");
    assert_eq!(code, 200, "{m}");
    for want in [
        "vagt_analyzer_dead_letters_total 4",
        "vagt_analyzer_stored_total 2",
        "vagt_analyzer_sensors 1",
        "vagt_analyzer_api_requests_total{status=\"200\"}",
    ] {
        assert!(m.contains(want), "{want} missing from:\n{m}");
    }
    let local = token(&cfg, "municipality", "0101");
    assert_eq!(http(port, "GET", "/metrics", &local, b"").0, 403);
    drop(a);
}

#[test]
fn restart_and_kill_9_lose_nothing_and_store_nothing_twice() {
    let dir = temp_dir("restart");
    let broker = Broker::start(&dir.0.join("broker"), &TOPICS);
    let port = free_port();
    let url = format!("sqlite://{}", dir.0.join("a.db").display());
    let cfg = config(&dir.0, &broker.bootstrap(), &url, port, "restart");
    let log = dir.0.join("a.log");
    let p = producer(&broker.bootstrap());
    let mut sensors: Vec<Sensor> = (0..6)
        .map(|i| Sensor::new(&format!("01{i:02}"), "s", "admin"))
        .collect();
    let mut batch = |n: usize| -> Vec<(String, String, Vec<u8>, u64)> {
        (0..n)
            .map(|i| {
                let s = &mut sensors[i % 6];
                s.message(alert(
                    1e9 + i as f64,
                    "scan",
                    "185.2.2.2",
                    Some("10.0.0.1"),
                    Severity::Medium,
                ))
            })
            .collect()
    };
    let first = batch(6000);
    let second = batch(6000);
    let mut a = Analyzer::start(&cfg, port, log.clone());
    send(&p, &first);
    // Kill it while it stores, mid-stream.
    wait_for("some stored", Duration::from_secs(60), || {
        counts(&url).0 > 500
    });
    a.signal("-KILL");
    let after_kill = counts(&url).0;
    let mut a = Analyzer::start(&cfg, port, log.clone());
    send(&p, &second);
    // Sensors re-send after their own outages: the same events again.
    send(&p, &first[..1000]);
    wait_for("more stored", Duration::from_secs(60), || {
        counts(&url).0 > after_kill + 1000
    });
    a.signal("-TERM");
    let a = Analyzer::start(&cfg, port, log);
    wait_for("all 12,000 stored", Duration::from_secs(120), || {
        counts(&url).0 >= 12_000
    });
    std::thread::sleep(Duration::from_secs(3));
    let (rows, distinct) = counts(&url);
    assert_eq!((rows, distinct), (12_000, 12_000), "each event once");
    eprintln!("restart: {after_kill} stored before the kill -9, 12,000 once in the end");
    drop(a);
}

/// Writes events straight into a store, as ingest would.
fn seed(url: &str, events: Vec<(Origin, u64, EventBody, f64)>) {
    rt().block_on(async {
        let s = Store::open(url, 1).await.expect("store");
        let batch: Vec<Incoming> = events
            .into_iter()
            .map(|(o, seq, body, received)| {
                let e = Event::new(o, body);
                let json = serde_json::to_string(&e).expect("json");
                let v: serde_json::Value = serde_json::from_str(&json).expect("json");
                Incoming {
                    seq,
                    event_type: v["event_type"].as_str().unwrap_or("").into(),
                    event: e,
                    json,
                    received,
                }
            })
            .collect();
        s.write(&batch).await.expect("write");
        s.pool.close().await;
    });
}

#[path = "analyzer/correlations.rs"]
mod correlations;
#[path = "analyzer/isolation.rs"]
mod isolation;
#[path = "analyzer/stores.rs"]
mod stores;
#[path = "analyzer/tls.rs"]
mod tls;
