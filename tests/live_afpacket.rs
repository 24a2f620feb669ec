//! Live AF_PACKET capture for real: a veth pair inside a network namespace
//! made for the test, traffic sent with tcpreplay at a set rate, and the
//! sensor's own count checked against what was sent.
//!
//! Two runs: at a modest rate every packet must be counted and no drop
//! reported; with a deliberately tiny ring at top speed, every packet must
//! be either counted or reported as dropped (by the ring or the
//! interface), so losses are never silent.
//!
//! Needs root (namespaces, raw sockets), `ip` and `tcpreplay`; `.ci/run`
//! installs them. A machine that cannot run it fails the test with the
//! reason, unless `VAGT_SKIP_LIVE=1` skips it on purpose.
//!
//! No fixed waits: the test watches the sensor's own periodic statistics
//! (one a second, on the file within a fifth of a second) until every
//! packet sent is accounted for, and only then stops it.

mod common;

use common::live::{self, Netns, Sensor};
use std::path::Path;
use std::time::Duration;
use vagt_schema::{ConnRecord, Event, EventBody};

struct Counted {
    packets: u64,
    kernel_drops: u64,
    interface_drops: u64,
    connections: usize,
    records: Vec<ConnRecord>,
}

/// Captures on `vrx` while tcpreplay sends `pcap` on `vtx` with `rate`
/// (tcpreplay's own flags); returns what tcpreplay sent and what the
/// sensor counted.
fn capture(ns: &Netns, dir: &Path, pcap: &Path, rate: &[&str], ring: &[&str]) -> (u64, Counted) {
    let out = dir.join(format!("live-{}.json", rate.join("")));
    let config = live::prompt_config(dir, 0.2, "");
    let mut args = vec![
        "run",
        "-i",
        "vrx",
        "--method",
        "af-packet",
        "-w",
        "2",
        "--no-promisc",
        "--truncate",
    ];
    args.extend_from_slice(ring);
    let mut cmd = ns.cmd(&[env!("CARGO_BIN_EXE_vagt-sensor")]);
    cmd.arg("-c").arg(&config).args(&args).arg("-o").arg(&out);
    let mut sensor = Sensor::start(cmd);
    let mut replay = vec!["tcpreplay", "-i", "vtx"];
    replay.extend_from_slice(rate);
    let pcap_s = pcap.to_string_lossy().into_owned();
    replay.push(&pcap_s);
    let sent = live::tcpreplay_sent(&ns.exec(&replay));
    // The last blocks retire when the rings' timeout passes: wait until the
    // sensor's own figures account for every packet sent, then stop it as
    // an operator would.
    live::poll(
        Duration::from_secs(30),
        &format!("the sensor to account for {sent} packets"),
        || live::last_stats(&out).filter(|s| live::accounted(s) >= sent),
    );
    sensor.stop();
    eprintln!("{}", sensor.said().trim_end());
    (sent, counted(&out))
}

/// The sensor's own figures: its final statistics event and its records.
fn counted(path: &Path) -> Counted {
    let text = std::fs::read_to_string(path).expect("sensor output");
    let mut last = None;
    let mut connections = 0;
    let mut records = Vec::new();
    for line in text.lines() {
        let ev: Event = serde_json::from_str(line).expect("valid event");
        match ev.body {
            EventBody::Stats(s) => last = Some(s),
            EventBody::Conn(c) if !c.interim => {
                connections += 1;
                records.push(c);
            }
            _ => {}
        }
    }
    let s = last.expect("a final statistics event");
    Counted {
        packets: s.packets,
        kernel_drops: s.drops.get("kernel").copied().unwrap_or(0),
        interface_drops: s.drops.get("interface").copied().unwrap_or(0),
        connections,
        records,
    }
}

#[test]
fn af_packet_counts_every_packet_and_reports_drops() {
    if !live::live_allowed("af_packet_counts_every_packet_and_reports_drops", true) {
        return;
    }
    let dir = common::temp_dir("afpacket");
    let pcap = dir.join("municipal.pcap");
    let truth = vagt_sensor::synth::municipal::write_pcap(&pcap, 7, 60_000).expect("generate");
    let ns = Netns::new("afpacket");

    // A modest rate: everything arrives, nothing is dropped.
    let (sent, got) = capture(&ns, &dir, &pcap, &["--pps", "20000"], &[]);
    eprintln!(
        "20k packets/s: sent {sent}, counted {}, kernel drops {}, interface drops {}",
        got.packets, got.kernel_drops, got.interface_drops
    );
    assert_eq!(sent, truth.packets, "tcpreplay sent the whole capture");
    assert_eq!(got.packets, sent, "every packet counted");
    assert_eq!(got.kernel_drops, 0);
    assert_eq!(got.interface_drops, 0);
    assert_eq!(
        got.connections,
        truth.connections.len(),
        "every connection recorded"
    );

    // Tens of thousands of connections open at once: each worker's table
    // outgrows the caches and workers look ahead in their rings. Every
    // connection is recorded with exactly the packets sent on it.
    let many = dir.join("many.pcap");
    let truth = common::many::write_capture(&many);
    let (sent, got) = capture(&ns, &dir, &many, &["--pps", "50000"], &[]);
    eprintln!(
        "{} connections at 50k packets/s: sent {sent}, counted {}, kernel drops {}",
        truth.len(),
        got.packets,
        got.kernel_drops
    );
    assert_eq!(got.packets, sent, "every packet counted");
    assert_eq!(got.kernel_drops + got.interface_drops, 0);
    assert!(
        common::many::tally(&got.records) == truth,
        "records differ from what was sent"
    );

    // Top speed into rings of a single 1 MiB block: losses are likely, and
    // every packet sent must be accounted for as counted or dropped.
    let (sent, got) = capture(&ns, &dir, &pcap, &["--topspeed"], &["--buffer-mib", "1"]);
    eprintln!(
        "top speed, 1 MiB rings: sent {sent}, counted {}, kernel drops {}, interface drops {}",
        got.packets, got.kernel_drops, got.interface_drops
    );
    assert_eq!(
        got.packets + got.kernel_drops + got.interface_drops,
        sent,
        "packets counted plus drops reported equal packets sent"
    );
}
