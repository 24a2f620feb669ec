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

/// A sensor configuration shipping every topic to `brokers`; `extra`
/// holds `[kafka]` settings (`key = value` lines) that replace the test's
/// defaults.
fn config(dir: &Path, brokers: &str, extra: &str) -> PathBuf {
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

[privacy]
key_file = "{key}"
"#,
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

/// Every message of every topic, parsed. The sensor has exited after
/// delivering, so a topic quiet for 2 s has given all it holds.
fn shipped(broker: &Broker) -> Vec<WireEvent> {
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
        .and_then(|v| {
            v.get("event_type")
                .and_then(|t| t.as_str().map(String::from))
        })
        .unwrap_or_default();
    format!("{kind}@{:.6}", e.body.time())
}

/// A sensor process killed when the test ends, passed or not, so none
/// outlives its temporary folder.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
    let mut child = Guard(
        bin()
            .args(["-q", "replay", "-w", "1", "-c"])
            .arg(cfg)
            .arg("-o")
            .arg(&out)
            .arg("-")
            .stdin(Stdio::piped())
            .spawn()
            .expect("start the sensor"),
    );
    let mut stdin = child.0.stdin.take().expect("stdin");
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
fn ftp_capture() -> PathBuf {
    common::corpus().join("zeek-app/scripts.base.protocols.ftp.cwd-navigation/trace.pcap")
}

/// Every local event arrives exactly once after de-duplication, with
/// sequence numbers 1..=n and in sequence order per sensor.
fn assert_all_arrived(local: &[Event], all: &[WireEvent]) -> usize {
    let (kept, dups) = dedup(all);
    let seqs: Vec<u64> = kept.keys().copied().collect();
    let n = local.len() as u64;
    assert_eq!(
        seqs.len() as u64,
        n,
        "distinct events shipped vs written locally"
    );
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
    // The broker goes down a second after the first third (while its
    // events are being sent) and stays down past librdkafka's message
    // timeout (10 s here), so deliveries fail and are sent again.
    let out = replay_in_parts(&dir, &cfg, &ftp_capture(), 3, |i| match i {
        0 => {
            std::thread::sleep(Duration::from_millis(1200));
            broker.down(kill);
        }
        1 => {
            std::thread::sleep(Duration::from_secs(14));
            broker.up();
        }
        _ => {}
    });
    let local = local_events(&out);
    assert!(local.len() > 1000, "{} events", local.len());
    let all = shipped(&broker);
    let dups = assert_all_arrived(&local, &all);
    let health = last_health(&all);
    eprintln!(
        "outage ({}): {} events, {} messages, {dups} second copies dropped by the consumer; \
         the sensor counted {} failed deliveries and {} events sent again",
        if kill { "SIGKILL" } else { "graceful" },
        local.len(),
        all.len(),
        health.failed,
        health.resent,
    );
    assert!(
        health.failed > 0,
        "the outage failed no delivery: {health:?}"
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

/// A capture of only a header: a replay of it sends what the spool holds.
fn empty_capture(dir: &Path) -> PathBuf {
    let bytes = std::fs::read(ftp_capture()).expect("capture");
    let p = dir.join("empty.pcap");
    std::fs::write(&p, &bytes[..24]).expect("write");
    p
}

/// Runs a replay of `pcap` to completion; returns the local output and
/// standard error.
fn replay(dir: &Path, cfg: &Path, pcap: &[PathBuf], out: &str) -> (PathBuf, String) {
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
fn dead_broker() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    format!("127.0.0.1:{port}")
}

/// The latest health event among the messages.
fn last_health(all: &[WireEvent]) -> vagt_schema::ShippingStats {
    all.iter()
        .filter_map(|w| match &w.event.body {
            EventBody::Stats(s) => s.shipping.clone().map(|k| (w.seq, k)),
            _ => None,
        })
        .max_by_key(|(seq, _)| *seq)
        .map(|(_, k)| k)
        .expect("a health event with shipping figures")
}

#[test]
fn a_sensor_killed_mid_stream_loses_nothing_it_spooled_and_numbers_continue() {
    let dir = common::temp_dir("kafka-crash");
    let broker = Broker::start(&dir.join("broker"), &TOPICS);
    let cfg = config(&dir, &broker.bootstrap(), "");
    let bytes = std::fs::read(ftp_capture()).expect("capture");
    let (header, recs) = split_pcap(&bytes);
    let half = recs.len() / 3;
    let out1 = dir.join("local1.json");
    let mut child = Guard(
        bin()
            .args(["-q", "replay", "-w", "1", "-c"])
            .arg(&cfg)
            .arg("-o")
            .arg(&out1)
            .arg("-")
            .stdin(Stdio::piped())
            .spawn()
            .expect("start the sensor"),
    );
    let mut stdin = child.0.stdin.take().expect("stdin");
    stdin.write_all(&header).expect("feed");
    for r in &recs[..half] {
        stdin.write_all(r).expect("feed");
    }
    stdin.flush().expect("flush");
    // Wait until the output has been quiet for 3 s: everything written
    // was flushed locally and committed to the spool.
    let mut last = 0;
    let mut since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let size = std::fs::metadata(&out1).map_or(0, |m| m.len());
        if size != last {
            last = size;
            since = Instant::now();
        } else if size > 0 && since.elapsed() > Duration::from_secs(3) {
            break;
        }
        assert!(Instant::now() < deadline, "the sensor wrote nothing");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.0.kill().expect("SIGKILL");
    let _ = child.0.wait();
    drop(stdin);
    let before = local_events(&out1);
    assert!(!before.is_empty());

    // The rest of the capture, in a new run on the same spool.
    let rest = dir.join("rest.pcap");
    let mut b = header.clone();
    for r in &recs[half..] {
        b.extend_from_slice(r);
    }
    std::fs::write(&rest, b).expect("write");
    let (out2, _) = replay(&dir, &cfg, &[rest], "local2.json");
    let after = local_events(&out2);
    let mut local = before.clone();
    local.extend(after.iter().cloned());
    let all = shipped(&broker);
    assert_all_arrived(&local, &all);
    // Numbers continue: the second run's events follow the first run's.
    let (kept, _) = dedup(&all);
    let second: Vec<String> = kept
        .range(before.len() as u64 + 1..)
        .map(|(_, w)| fingerprint(&w.event))
        .collect();
    let want: Vec<String> = after.iter().map(fingerprint).collect();
    assert_eq!(
        second, want,
        "the second run's events carry the next numbers"
    );
}

#[test]
fn a_corrupted_spool_record_is_counted_and_skipped_and_the_rest_delivered() {
    let dir = common::temp_dir("kafka-corrupt");
    // First the broker is unreachable: the run ends after its drain time,
    // saying that the events wait in the spool.
    let cfg = config(&dir, &dead_broker(), "drain_timeout = 1.0");
    let started = Instant::now();
    let (out, err) = replay(
        &dir,
        &cfg,
        &[common::corpus().join("attacks/ssh_bruteforce_nmap.pcap")],
        "local.json",
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "hung on a dead broker"
    );
    assert!(err.contains("wait in the Kafka spool"), "{err}");
    let local = local_events(&out);
    // Flip a byte in the middle of the spool's segment.
    let seg = std::fs::read_dir(dir.join("spool"))
        .expect("spool")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "seg"))
        .expect("a segment");
    let mut bytes = std::fs::read(&seg).expect("segment");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    std::fs::write(&seg, &bytes).expect("corrupt");

    let broker = Broker::start(&dir.join("broker"), &TOPICS);
    let cfg = config(&dir, &broker.bootstrap(), "");
    let (out2, _) = replay(&dir, &cfg, &[empty_capture(&dir)], "local2.json");
    let more = local_events(&out2);
    let all = shipped(&broker);
    let (kept, _) = dedup(&all);
    let total = (local.len() + more.len()) as u64;
    let missing: Vec<u64> = (1..=total).filter(|s| !kept.contains_key(s)).collect();
    assert_eq!(
        missing.len(),
        1,
        "exactly the corrupted record is missing: {missing:?}"
    );
    assert_eq!(last_health(&all).corrupt, 1);
}

#[test]
fn a_full_spool_drops_connection_records_first_and_says_so() {
    let dir = common::temp_dir("kafka-overflow");
    let cfg = config(
        &dir,
        &dead_broker(),
        "drain_timeout = 0.5\nspool_max_mib = 1",
    );
    let files: Vec<PathBuf> = [
        "zeek-app/scripts.base.protocols.ftp.cwd-navigation/trace.pcap",
        "attacks/masscan_tcp_0_1000.pcap",
        "attacks/ssh_bruteforce_nmap.pcap",
        "attacks/nmap_80_all.pcap",
        "attacks/ftp_bruteforce.pcap",
        "attacks/ssh_sshguess.pcap",
    ]
    .iter()
    .map(|f| common::corpus().join(f))
    .collect();
    let mut local = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let (out, _) = replay(&dir, &cfg, std::slice::from_ref(f), &format!("l{i}.json"));
        local.extend(local_events(&out));
    }
    let broker = Broker::start(&dir.join("broker"), &TOPICS);
    let cfg = config(&dir, &broker.bootstrap(), "spool_max_mib = 1");
    let (out, _) = replay(&dir, &cfg, &[empty_capture(&dir)], "last.json");
    local.extend(local_events(&out));
    let all = shipped(&broker);
    let (kept, _) = dedup(&all);
    // Each replay ends with one health event counting its own losses.
    let lost = |topic: &str| -> u64 {
        kept.values()
            .filter_map(|w| match &w.event.body {
                EventBody::Stats(s) => s.shipping.as_ref(),
                _ => None,
            })
            .map(|k| k.dropped.get(topic).copied().unwrap_or(0))
            .sum()
    };
    let conn_lost = lost("conn");
    assert!(conn_lost > 0, "the bound was hit");
    assert_eq!(lost("alerts"), 0);
    let count = |t: vagt_schema::Topic, evs: &mut dyn Iterator<Item = &Event>| {
        evs.filter(|e| e.body.topic() == t).count()
    };
    use vagt_schema::Topic;
    assert_eq!(
        count(Topic::Alerts, &mut kept.values().map(|w| &w.event)),
        count(Topic::Alerts, &mut local.iter()),
        "every alert arrived"
    );
    let conn_local = count(Topic::Conn, &mut local.iter());
    let conn_sent = count(Topic::Conn, &mut kept.values().map(|w| &w.event));
    assert_eq!(
        conn_sent as u64 + conn_lost,
        conn_local as u64,
        "every loss counted"
    );
}

#[test]
fn bad_kafka_settings_fail_fast_with_a_clear_message() {
    let dir = common::temp_dir("kafka-bad");
    let pcap = common::corpus().join("attacks/nmap_80_vanilla.pcap");
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    let file = dir.join("a-file");
    std::fs::write(&file, "").expect("write");
    for (extra, want) in [
        (
            "security_protocol = \"ssl\"\nca_file = \"/nonexistent/ca.pem\"",
            "kafka.ca_file",
        ),
        (
            &format!(
                "security_protocol = \"ssl\"\nca_file = \"{}\"",
                garbage.display()
            ) as &str,
            "ssl.ca.location",
        ),
        (
            "security_protocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-512\"",
            "sasl_password_file",
        ),
        (
            "security_protocol = \"sasl_plaintext\"\nsasl_mechanism = \"GSSAPI\"",
            "kafka.sasl_mechanism",
        ),
        (
            &format!("spool_dir = \"{}/spool\"", file.display()) as &str,
            "spool",
        ),
    ] {
        let cfg = config(&dir, &dead_broker(), extra);
        let started = Instant::now();
        let run = bin()
            .args(["replay", "--no-progress", "-o", "/dev/null", "-c"])
            .arg(&cfg)
            .arg(&pcap)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{extra}: {err}");
        assert!(err.contains(want), "{extra}: wanted '{want}' in: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{extra}: slow to fail"
        );
    }
}

/// Addresses the privacy settings count as internal: the private and
/// shared ranges, link-local, unique-local IPv6.
fn internal(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v) => {
            let o = v.octets();
            v.is_private() || v.is_link_local() || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        std::net::IpAddr::V6(v) => {
            let s = v.segments();
            (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Fields that hold a host name or a user name, by event type.
const IDENTITY_FIELDS: &[(&str, &str)] = &[
    ("asset", "host_name"),
    ("dhcp", "host_name"),
    ("dhcp", "client_fqdn"),
    ("ntlm", "hostname"),
    ("ntlm", "username"),
    ("ntlm", "server_nb_computer_name"),
    ("rdp", "client_name"),
    ("rdp", "cookie"),
    ("kerberos", "client"),
    ("ftp", "user"),
    ("auth", "user"),
];

/// Account names that are also words of the sensor's own alert texts
/// ("a new admin edge"): in free text the two cannot be told apart, so
/// they are looked for in the other fields only.
const COMMON_WORDS: &[&str] = &["admin", "administrator", "guest", "user", "root"];

fn is_mac(s: &str) -> bool {
    s.len() == 17
        && s.split(':').count() == 6
        && s.split(':')
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The internal values of an event: internal addresses, MACs, host and
/// user names, wherever they sit.
fn identities(v: &serde_json::Value, kind: &str, key: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::String(s) => {
            if let Ok(ip) = s.parse::<std::net::IpAddr>() {
                if internal(ip) && !ip.is_unspecified() {
                    out.insert(s.clone());
                }
            } else if is_mac(s) {
                if s != "ff:ff:ff:ff:ff:ff" && s != "00:00:00:00:00:00" {
                    out.insert(s.to_ascii_lowercase());
                }
            } else if IDENTITY_FIELDS.contains(&(kind, key)) && s.len() >= 4 && s != "<unknown>" {
                out.insert(s.clone());
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| identities(x, kind, key, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| identities(x, kind, k, out)),
        _ => {}
    }
}

/// Whether `needle` occurs in `hay` as a whole value: not inside a longer
/// address, name or number.
fn occurs(hay: &str, needle: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == ':' || c == '-' || c == '_';
    let lower = hay.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    lower.match_indices(&needle).any(|(i, m)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + m.len()..].chars().next();
        // A trailing dot ends a sentence, not a name.
        let after_ok = match after {
            None => true,
            Some('.') => lower[i + m.len() + 1..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric()),
            Some(c) => !word(c),
        };
        before.is_none_or(|c| !word(c)) && after_ok
    })
}

#[test]
fn nothing_internal_leaves_in_clear_text() {
    let dir = common::temp_dir("kafka-privacy");
    let broker = Broker::start(&dir.join("broker"), &TOPICS);
    let cfg = config(&dir, &broker.bootstrap(), "");
    // Every application trace of Zeek's test suite (DHCP, NTLM,
    // Kerberos, SMB, RDP, LDAP, FTP, HTTP, SMTP, DNS, ...) and the attack
    // captures, in one replay.
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::corpus().join("zeek-app"))
        .expect("zeek-app")
        .filter_map(|e| e.ok().map(|e| e.path().join("trace.pcap")))
        .filter(|p| p.exists())
        .collect();
    files.sort();
    files.extend(
        [
            "ftp_bruteforce.pcap",
            "ssh_bruteforce_nmap.pcap",
            "dnscat2.pcap",
            "nmap_80_all.pcap",
        ]
        .iter()
        .map(|f| common::corpus().join("attacks").join(f)),
    );
    let (out, _) = replay(&dir, &cfg, &files, "local.json");
    let text = std::fs::read_to_string(&out).expect("local");
    let mut secrets = BTreeSet::new();
    let mut local = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let kind = v["event_type"].as_str().unwrap_or_default().to_string();
        identities(&v, &kind, "", &mut secrets);
        local += 1;
    }
    assert!(secrets.len() > 100, "{} internal values", secrets.len());
    let all: Vec<String> = TOPICS
        .iter()
        .flat_map(|t| broker.read_all(t, Duration::from_secs(2), Duration::from_secs(60)))
        .map(|m| String::from_utf8(m).expect("UTF-8"))
        .collect();
    assert_eq!(all.len(), local, "every event shipped");
    let mut leaks = Vec::new();
    for m in &all {
        // The message without its free text, for the common words.
        let mut v: serde_json::Value = serde_json::from_str(m).expect("json");
        if let Some(o) = v.as_object_mut() {
            o.remove("message");
        }
        let structured = v.to_string();
        for s in &secrets {
            let common = COMMON_WORDS.contains(&s.to_ascii_lowercase().as_str());
            if occurs(if common { &structured } else { m }, s) {
                let i = m
                    .to_ascii_lowercase()
                    .find(&s.to_ascii_lowercase())
                    .unwrap_or(0);
                let from = m.floor_char_boundary(i.saturating_sub(120));
                let to = m.ceil_char_boundary((i + s.len() + 60).min(m.len()));
                leaks.push(format!("{s} in ...{}...", &m[from..to]));
            }
        }
    }
    eprintln!(
        "privacy: {} messages searched for {} internal values",
        all.len(),
        secrets.len()
    );
    // The municipality reverses a pseudonym from the centre with its key.
    let token = all
        .iter()
        .filter_map(|m| serde_json::from_str::<WireEvent>(m).ok())
        .find_map(|w| match w.event.body {
            EventBody::Alert(a) if a.src.to_string().starts_with("fd") => Some(a.src.to_string()),
            _ => None,
        })
        .expect("an alert about an internal host");
    let run = bin()
        .arg("-c")
        .arg(&cfg)
        .args(["reveal", &token])
        .output()
        .expect("reveal");
    let said = String::from_utf8_lossy(&run.stdout);
    let ip = said.split('\t').nth(2).unwrap_or_default();
    assert!(
        run.status.success() && secrets.contains(ip),
        "{token} revealed as: {said}"
    );
    leaks.sort();
    leaks.dedup_by(|a, b| a.split(' ').next() == b.split(' ').next());
    assert!(
        leaks.is_empty(),
        "{} values leak, e.g.\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
