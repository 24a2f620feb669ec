//! Behaviour the README and `--help` state, held end to end: decode
//! errors counted by reason in the stats event, command-line flags
//! overriding the configuration file, and inactivity timeouts splitting
//! connections by packet time.

mod common;

use std::io::Write;
use std::process::Command;
use vagt_schema::{EndReason, EventBody, Proto};
use vagt_sensor::config::Config;
use vagt_sensor::decode::offload::ChecksumMode;
use vagt_sensor::synth::frames::{self, Host};
use vagt_sensor::synth::pcap::{PcapWriter, LINKTYPE_ETHERNET};

const T0: i64 = 1_700_000_000_000_000_000;
const S: i64 = 1_000_000_000;

fn host(last: u8) -> Host {
    Host {
        mac: [2, 0, 0, 0, 0, last],
        ip: [10, 1, 0, last].into(),
    }
}

fn write(path: &std::path::Path, frames: &[(i64, Vec<u8>)]) {
    let file = std::fs::File::create(path).expect("create");
    let mut w = PcapWriter::new(std::io::BufWriter::new(file), LINKTYPE_ETHERNET, 65535)
        .expect("pcap header");
    for (ts, f) in frames {
        w.write(*ts, f).expect("write");
    }
    w.into_inner().flush().expect("flush");
}

fn udp(from: u8, to: u8, sport: u16) -> Vec<u8> {
    udp_to(from, to, sport, 53)
}

fn udp_to(from: u8, to: u8, sport: u16, dport: u16) -> Vec<u8> {
    let mut f = Vec::new();
    frames::udp(
        &mut f,
        &host(from),
        &host(to),
        None,
        sport,
        dport,
        None,
        20,
        1,
    );
    f
}

#[test]
fn decode_errors_are_counted_by_reason() {
    let good = udp(1, 2, 1000);
    // An IPv4 header that claims more bytes than the frame has.
    let mut truncated = good.clone();
    truncated.truncate(14 + 12);
    // IP version 7.
    let mut version = good.clone();
    version[14] = 0x75;
    // A spoilt IPv4 header checksum (checked: strict mode).
    let mut checksum = good.clone();
    checksum[24] ^= 0xff;
    let dir = common::temp_dir("claims-errors");
    let path = dir.join("errors.pcap");
    write(
        &path,
        &[
            (T0, good),
            (T0 + 1, truncated),
            (T0 + 2, version.clone()),
            (T0 + 3, version),
            (T0 + 4, checksum),
        ],
    );
    let mut cfg = Config::default();
    cfg.decode.checksums = ChecksumMode::Strict;
    let (events, summary) = common::replay(&cfg, std::slice::from_ref(&path));
    let stats = events
        .iter()
        .find_map(|e| match &e.body {
            EventBody::Stats(s) => Some(s.clone()),
            _ => None,
        })
        .expect("a stats event closes the run");
    let errors: Vec<(&str, u64)> = stats
        .decode_errors
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        errors,
        vec![
            ("bad_ip_checksum", 1),
            ("truncated_ip", 1),
            ("unknown_ip_version", 2)
        ]
    );
    assert_eq!(summary.decode.total_errors(), 4);
    assert_eq!(stats.packets, 5);
    assert_eq!(
        common::conns(&events).len(),
        1,
        "only the good packet makes a record"
    );
}

#[test]
fn flags_override_the_configuration_file() {
    let dir = common::temp_dir("claims-flags");
    let pcap = dir.join("one.pcap");
    write(&pcap, &[(T0, udp(1, 2, 1000))]);
    let cfg = dir.join("vagt.toml");
    std::fs::write(
        &cfg,
        "[sensor]\nmunicipality = \"0751\"\nsensor_id = \"raadhus-1\"\n\
         [output]\nformat = \"zeek\"\n",
    )
    .expect("write config");
    let run = |flags: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_vagt-sensor"))
            .arg("-c")
            .arg(&cfg)
            .args(["replay", "-q"])
            .args(flags)
            .arg(&pcap)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The file alone: Zeek TSV.
    assert!(run(&[]).starts_with("#separator"));
    // Flags win, setting by setting; what no flag names stays as the file says.
    let text = run(&["--format", "json", "--municipality", "0101"]);
    let first = text.lines().next().expect("a record");
    let v: serde_json::Value = serde_json::from_str(first).expect("json");
    assert_eq!(v["municipality"], "0101");
    assert_eq!(v["sensor"], "raadhus-1");
}

#[test]
fn inactivity_timeouts_split_connections_by_packet_time() {
    // One UDP flow with a 59 s pause (inside the 60 s timeout) and then a
    // 61 s pause (past it); an ICMP echo pair 61 s apart. Not to a DNS
    // port, where Zeek's DNS analyzer ends connections after 10 s.
    let mut frames = vec![
        (T0, udp_to(1, 2, 2000, 5000)),
        (T0 + 59 * S, udp_to(1, 2, 2000, 5000)),
        (T0 + 120 * S, udp_to(1, 2, 2000, 5000)),
    ];
    let mut ping = Vec::new();
    frames::icmp_echo(&mut ping, &host(3), &host(4), None, false, 7, 1, 32, 1);
    frames.push((T0 + S, ping.clone()));
    frames.push((T0 + 62 * S, ping));
    frames.sort_by_key(|(t, _)| *t);
    let dir = common::temp_dir("claims-timeouts");
    let path = dir.join("gaps.pcap");
    write(&path, &frames);
    let mut cfg = Config::default();
    cfg.flow.timeouts.icmp_inactivity = 60.0;
    let (events, _) = common::replay(&cfg, std::slice::from_ref(&path));
    let mut records = common::conns(&events);
    records.sort_by_key(|r| (r.proto, r.ts.to_bits()));
    let shape: Vec<(Proto, u64, Option<EndReason>)> = records
        .iter()
        .map(|r| (r.proto, r.orig_pkts, r.end_reason))
        .collect();
    assert_eq!(
        shape,
        vec![
            (Proto::Udp, 2, Some(EndReason::Timeout)),
            (Proto::Udp, 1, Some(EndReason::Shutdown)),
            (Proto::Icmp, 1, Some(EndReason::Timeout)),
            (Proto::Icmp, 1, Some(EndReason::Shutdown)),
        ]
    );
}
