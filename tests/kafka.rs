//! Shipping to a real Kafka-protocol broker (tansu, started here): every
//! event the sensor wrote locally arrives, exactly once after dropping
//! second copies by (sensor, sequence), in order, through broker outages
//! (graceful and SIGKILL), a sensor killed with SIGKILL, a corrupted spool
//! record and a spool that overflows; bad settings fail fast and clearly.
//! What leaves in clear text is checked by tests/privacy.rs; TLS and
//! SASL by kafka/security.rs.
//!
//! Ground truth is the sensor's own clear-text local output of the same
//! run: the same events, before pseudonymisation.

mod common;

use common::broker::Broker;
use common::shipping::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vagt_schema::{Event, EventBody, WireEvent};

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
    // tansu 0.6 cannot serve an idempotent producer that reconnects after
    // a restart: librdkafka bumps the producer's epoch for the requests
    // the outage left open, and tansu's storage task panics ("more or less
    // than one row", tansu-storage lite.rs:503) and fails everything after.
    // Kafka itself accepts the bump, so here the producer runs without
    // idempotence, one request in flight to keep the order: what is tested
    // is the spool and the sending again, which do not depend on it.
    let cfg = config_with(
        &dir,
        &broker.bootstrap(),
        "",
        &[
            ("enable.idempotence", "false"),
            ("max.in.flight.requests.per.connection", "1"),
        ],
    );
    // The broker goes down a second after the first third (while its
    // events are being sent) and stays down past librdkafka's message
    // timeout (10 s here), so deliveries may fail and be sent again.
    let out = replay_in_parts(&dir, &cfg, &ftp_capture(), 3, |i| match i {
        0 => {
            std::thread::sleep(Duration::from_millis(1200));
            broker.down(kill);
            // Health events come with the capture's packets: give
            // librdkafka time to see the broker gone before the next part.
            std::thread::sleep(Duration::from_secs(3));
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
    // The outage was real: the sensor saw the broker gone (a health event
    // said so while events waited in the spool, or librdkafka reported it).
    // Either may be missing alone: health events ride on the capture's
    // packets, and librdkafka sometimes retries within its own timeout.
    let noticed = all.iter().any(|w| match &w.event.body {
        EventBody::Stats(s) => s.shipping.as_ref().is_some_and(|k| {
            (!k.connected && k.spool_records > 0)
                || k.failed > 0
                || k.last_error.as_deref().is_some_and(|e| e.contains("down"))
        }),
        _ => false,
    });
    assert!(noticed, "no health event saw the outage: {health:?}");
}

#[test]
fn every_event_arrives_once_through_a_graceful_broker_stop() {
    outage(false);
}

#[test]
fn every_event_arrives_once_through_a_broker_kill_9() {
    outage(true);
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
    let (mut child, mut stdin) = replay_from_pipe(&cfg, &out1);
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

#[test]
fn a_dead_broker_is_logged_with_its_fields_as_json_or_to_the_journal() {
    let dir = common::temp_dir("kafka-log-json");
    let cfg = config(&dir, &dead_broker(), "drain_timeout = 0.5");
    let pcap = common::corpus().join("attacks/ftp_bruteforce.pcap");
    let run = |format: &str| {
        let out = bin()
            .args([
                "--log-format",
                format,
                "replay",
                "--no-progress",
                "-o",
                "/dev/null",
                "-c",
            ])
            .arg(&cfg)
            .arg(&pcap)
            .output()
            .expect("run the sensor");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let said = run("json");
    let logs: Vec<serde_json::Value> = said
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let waiting = logs
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.contains("wait in the Kafka spool"))
        })
        .unwrap_or_else(|| panic!("no log of the events left in the spool: {said}"));
    assert_eq!(waiting["level"], "WARN", "{waiting}");
    assert!(waiting["timestamp"].is_string(), "{waiting}");
    assert!(
        waiting["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("vagt_sensor::output::kafka")),
        "{waiting}"
    );
    let spooled = waiting["spool_records"].as_u64().unwrap_or(0);
    assert!(spooled > 0, "the count is a field of its own: {waiting}");
    assert!(waiting["message"]
        .as_str()
        .unwrap_or("")
        .contains(&spooled.to_string()));
    // Every warning is JSON; what is not is the run's summary.
    assert!(!said.contains("vagt-sensor: warning:"), "{said}");
    assert!(said.contains("vagt-sensor: replayed"), "{said}");

    // The journal, where there is one; elsewhere text, saying why.
    let said = run("journald");
    if !std::path::Path::new("/run/systemd/journal/socket").exists() {
        assert!(said.contains("cannot reach the systemd journal"), "{said}");
        assert!(said.contains("wait in the Kafka spool"), "{said}");
    }
}

/// Unmounts the small file system when the test ends.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_loses_events_with_a_warning_and_never_stops_the_sensor() {
    let dir = common::temp_dir("kafka-full");
    let small = dir.join("small");
    std::fs::create_dir_all(&small).expect("mount point");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&small)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        assert!(
            std::env::var_os("VAGT_SKIP_LIVE").is_some(),
            "cannot mount a 256 KiB tmpfs for the spool (needs root); VAGT_SKIP_LIVE=1 skips this"
        );
        eprintln!("skipped: no root to mount a small file system (VAGT_SKIP_LIVE)");
        return;
    }
    let _unmount = Mounted(small.clone());
    let extra = format!(
        "spool_dir = \"{}\"\ndrain_timeout = 0.5",
        small.join("spool").display()
    );
    let cfg = config(&dir, &dead_broker(), &extra);
    let (out, err) = replay(&dir, &cfg, &[ftp_capture()], "local.json");
    let local = local_events(&out);
    assert_eq!(local.len(), 1381, "the local output is whole");
    assert!(err.contains("events lost"), "no warning of the loss: {err}");
    assert!(err.contains("No space left"), "the cause is named: {err}");
}

#[path = "kafka/security.rs"]
mod security;
