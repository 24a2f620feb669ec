//! Helpers of the shipping tests (tests/kafka.rs, tests/privacy.rs): a
//! sensor configured to ship every topic, replays whole or in parts
//! through a pipe, and what the broker received.

use super::broker::Broker;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vagt_schema::{Event, EventBody, WireEvent};

pub const TOPICS: [&str; 5] = [
    "vagt.alerts",
    "vagt.health",
    "vagt.assets",
    "vagt.app",
    "vagt.conn",
];

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vagt-sensor"))
}

/// A sensor configuration shipping every topic to `brokers`; `extra`
/// holds `[kafka]` settings (`key = value` lines) that replace the test's
/// defaults.
pub fn config(dir: &Path, brokers: &str, extra: &str) -> PathBuf {
    config_with(dir, brokers, extra, &[])
}

/// As [`config`], with more librdkafka properties.
pub fn config_with(dir: &Path, brokers: &str, extra: &str, props: &[(&str, &str)]) -> PathBuf {
    let p = dir.join("vagt.toml");
    let spool = format!("\"{}\"", dir.join("spool").display());
    let mut kafka: Vec<(String, String)> = [
        ("enabled", "true"),
        ("brokers", &format!("\"{brokers}\"") as &str),
        (
            "topics",
            "[\"alerts\", \"health\", \"assets\", \"app\", \"conn\"]",
        ),
        ("spool_dir", &spool),
        ("batch_events", "100"),
        ("drain_timeout", "120.0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for line in extra.lines().filter(|l| !l.trim().is_empty()) {
        let (k, v) = line.split_once('=').expect("key = value");
        let k = k.trim().to_string();
        kafka.retain(|(d, _)| *d != k);
        kafka.push((k, v.trim().to_string()));
    }
    let kafka: String = kafka.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    let text = format!(
        r#"[sensor]
municipality = "751"
sensor_id = "raadhus-1"

[site]
local_networks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8", "fe80::/10"]

[kafka]
{kafka}
[kafka.properties]
"message.timeout.ms" = "10000"
{props}
[privacy]
key_file = "{key}"
"#,
        key = dir.join("pseudonym.key").display(),
        props = props
            .iter()
            .map(|(k, v)| format!("\"{k}\" = \"{v}\"\n"))
            .collect::<String>(),
    );
    std::fs::write(&p, text).expect("config");
    p
}

/// Splits a capture file into its header and its packet records, so it
/// can be fed through a pipe in parts.
pub fn split_pcap(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
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
pub fn local_events(path: &Path) -> Vec<Event> {
    std::fs::read_to_string(path)
        .expect("local output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a valid event"))
        .collect()
}

/// Every message of every topic, parsed. The sensor has exited after
/// delivering, so a topic quiet for 2 s has given all it holds.
pub fn shipped(broker: &Broker) -> Vec<WireEvent> {
    let mut all = Vec::new();
    for t in TOPICS {
        let msgs = broker.read_all(t, Duration::from_secs(2), Duration::from_secs(60));
        all.extend(msgs.iter().map(|m| {
            serde_json::from_slice::<WireEvent>(m)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(m)))
        }));
    }
    all
}

/// What a consumer keeps after dropping second copies by (sensor,
/// sequence), and how many it dropped.
pub fn dedup(all: &[WireEvent]) -> (BTreeMap<u64, &WireEvent>, usize) {
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
pub fn fingerprint(e: &Event) -> String {
    let kind = serde_json::to_value(&e.body)
        .ok()
        .and_then(|v| {
            v.get("event_type")
                .and_then(|t| t.as_str().map(String::from))
        })
        .unwrap_or_default();
    format!("{kind}@{:.6}", e.body.time())
}

/// A sensor process killed when the test ends, passed or not, so none
/// outlives its temporary folder.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        assert!(Instant::now() < deadline, "the sensor did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A replay of what is written to its standard input (one worker),
/// writing its local output to `out`.
pub fn replay_from_pipe(cfg: &Path, out: &Path) -> (Guard, std::process::ChildStdin) {
    let mut child = Guard(
        bin()
            .args(["-q", "replay", "-w", "1", "-c"])
            .arg(cfg)
            .arg("-o")
            .arg(out)
            .arg("-")
            .stdin(Stdio::piped())
            .spawn()
            .expect("start the sensor"),
    );
    let stdin = child.0.stdin.take().expect("stdin");
    (child, stdin)
}

/// Feeds `parts` to a replay through its standard input, calling
/// `between(i)` after part `i`; returns the local output's path.
pub fn replay_in_parts(
    dir: &Path,
    cfg: &Path,
    pcap: &Path,
    parts: usize,
    mut between: impl FnMut(usize),
) -> PathBuf {
    let bytes = std::fs::read(pcap).expect("capture");
    let (header, recs) = split_pcap(&bytes);
    let out = dir.join("local.json");
    let (mut child, mut stdin) = replay_from_pipe(cfg, &out);
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
    let status = wait_exit(&mut child.0, Duration::from_secs(300));
    assert!(status.success(), "replay failed: {status}");
    out
}

/// Ten minutes of FTP sessions (Zeek's test trace): 1,381 events
/// written steadily as the capture goes, so a stop between its parts
/// falls while events are being shipped.
pub fn ftp_capture() -> PathBuf {
    super::corpus().join("zeek-app/scripts.base.protocols.ftp.cwd-navigation/trace.pcap")
}

/// A capture of only a header: a replay of it sends what the spool holds.
pub fn empty_capture(dir: &Path) -> PathBuf {
    let bytes = std::fs::read(ftp_capture()).expect("capture");
    let p = dir.join("empty.pcap");
    std::fs::write(&p, &bytes[..24]).expect("write");
    p
}

/// Runs a replay of `pcap` to completion; returns the local output and
/// standard error.
pub fn replay(dir: &Path, cfg: &Path, pcap: &[PathBuf], out: &str) -> (PathBuf, String) {
    let out = dir.join(out);
    let run = bin()
        .args(["replay", "--no-progress", "-c"])
        .arg(cfg)
        .arg("-o")
        .arg(&out)
        .args(pcap)
        .output()
        .expect("run the sensor");
    let err = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "replay failed: {err}");
    (out, err)
}

/// An address nobody listens on.
pub fn dead_broker() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    format!("127.0.0.1:{port}")
}

/// The latest health event among the messages.
pub fn last_health(all: &[WireEvent]) -> vagt_schema::ShippingStats {
    all.iter()
        .filter_map(|w| match &w.event.body {
            EventBody::Stats(s) => s.shipping.clone().map(|k| (w.seq, k)),
            _ => None,
        })
        .max_by_key(|(seq, _)| *seq)
        .map(|(_, k)| k)
        .expect("a health event with shipping figures")
}
