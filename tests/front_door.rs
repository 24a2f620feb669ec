//! What a new user meets first, as the README and `--help` promise it:
//! the demo and its configuration, replays of several files where some
//! are unreadable, standard input, automatic worker counts, configuration
//! errors, and checksum offload noticed by default.

mod common;

use common::TempDir;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use vagt_sensor::synth::frames::{self, Host};
use vagt_sensor::synth::pcap::{PcapWriter, LINKTYPE_ETHERNET};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vagt-sensor"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The connection records of JSON Lines output, sorted.
fn conn_lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| l.contains("\"event_type\":\"conn\""))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn replay(args: &[&str], files: &[&Path]) -> Output {
    bin()
        .args(["replay", "-q"])
        .args(args)
        .args(files)
        .output()
        .expect("run vagt-sensor")
}

fn opt_basic() -> PathBuf {
    common::trace_in(&common::corpus().join("zeek/opt.basic")).expect("trace")
}

#[test]
fn the_demo_shows_its_scan_and_its_configuration_replays_to_the_same_records() {
    let dir = common::temp_dir("front-demo");
    let (pcap, cfg, demo_out) = (dir.join("d.pcap"), dir.join("d.toml"), dir.join("a.json"));
    let out = bin()
        .args(["demo", "--packets", "20000", "--pcap"])
        .arg(&pcap)
        .arg("--write-config")
        .arg(&cfg)
        .arg("-o")
        .arg(&demo_out)
        .output()
        .expect("run demo");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("port scan of 200 ports"),
        "{}",
        stderr(&out)
    );
    let demo = std::fs::read_to_string(&demo_out).expect("demo records");
    let demo = conn_lines(&demo);
    // The scan is in the records: 200 probes from the guest device.
    let probes = demo
        .iter()
        .filter(|l| {
            l.contains("\"id.orig_h\":\"10.50.9.99\"") && l.contains("\"segment\":\"guest\"")
        })
        .count();
    assert_eq!(probes, 200);

    let again = bin()
        .arg("-c")
        .arg(&cfg)
        .args(["replay", "-q"])
        .arg(&pcap)
        .output()
        .expect("run replay");
    assert!(again.status.success(), "{}", stderr(&again));
    let replayed = conn_lines(&String::from_utf8_lossy(&again.stdout));
    assert!(
        replayed == demo,
        "{} records replayed, {} in the demo",
        replayed.len(),
        demo.len()
    );
}

#[test]
fn a_file_that_cannot_be_opened_is_reported_and_the_others_are_replayed() {
    let dir = common::temp_dir("front-files");
    let good = opt_basic();
    let alone = replay(&[], &[&good]);
    assert!(alone.status.success());
    let expected = conn_lines(&String::from_utf8_lossy(&alone.stdout));
    assert!(expected.len() > 10);

    let missing = dir.join("missing.pcap");
    let out = replay(&[], &[&missing, &good]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.pcap"), "{}", stderr(&out));
    assert_eq!(conn_lines(&String::from_utf8_lossy(&out.stdout)), expected);

    // A damaged file behaves alike: reported, exit 2, the rest replayed.
    let other = common::trace_in(&common::corpus().join("zeek/core.tunnels.gre")).expect("trace");
    let bytes = std::fs::read(&other).expect("read");
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let out = replay(&[], &[&cut, &good]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cut.pcap"), "{}", stderr(&out));
    let records = conn_lines(&String::from_utf8_lossy(&out.stdout));
    assert!(records.len() > expected.len(), "{} records", records.len());
}

#[test]
fn standard_input_is_read_as_a_capture() {
    let good = opt_basic();
    let from_file = replay(&[], &[&good]);
    let mut child = bin()
        .args(["replay", "-q", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let bytes = std::fs::read(&good).expect("read");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer").expect("write stdin");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        conn_lines(&String::from_utf8_lossy(&out.stdout)),
        conn_lines(&String::from_utf8_lossy(&from_file.stdout))
    );
}

#[test]
fn zero_workers_means_automatic_as_in_the_configuration() {
    let out = replay(&["-w", "0"], &[&opt_basic()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn configuration_errors_show_the_line_and_the_setting() {
    let dir: TempDir = common::temp_dir("front-config");
    let cfg = dir.join("bad.toml");
    std::fs::write(
        &cfg,
        "[sensor]\nmunicipality = \"0751\"\n[pipeline]\nworkerz = 2\n",
    )
    .expect("write");
    let out = bin()
        .arg("-c")
        .arg(&cfg)
        .args(["config", "--check"])
        .arg(&cfg)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    // The toml crate's own layout: the line, a caret, what was expected.
    assert!(
        err.contains("workerz") && err.contains('^') && err.lines().count() > 3,
        "{err}"
    );

    let cfg = dir.join("hostbits.toml");
    std::fs::write(
        &cfg,
        "[[segments]]\nname = \"care\"\nnetworks = [\"10.20.1.0/16\"]\n",
    )
    .expect("write");
    let out = bin()
        .args(["config", "--check"])
        .arg(&cfg)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("10.20.0.0/16"), "{}", stderr(&out));
}

/// UDP conversations in which every third packet has a spoilt checksum,
/// as a host with checksum offload captures its own packets.
fn offload_capture(path: &Path) {
    let file = std::fs::File::create(path).expect("create");
    let mut w =
        PcapWriter::new(std::io::BufWriter::new(file), LINKTYPE_ETHERNET, 65535).expect("pcap");
    let a = Host {
        mac: [2, 0, 0, 0, 0, 1],
        ip: [10, 0, 0, 1].into(),
    };
    let mut f = Vec::new();
    for i in 0..3000u16 {
        let b = Host {
            mac: [2, 0, 0, 0, 1, 1],
            ip: [192, 0, 2, (i % 200) as u8].into(),
        };
        frames::udp(&mut f, &a, &b, None, 10_000 + i, 53, None, 30, i);
        if i % 3 == 0 {
            // The IPv4 header checksum (Ethernet 14 bytes, then offset 10).
            f[24] ^= 0x5a;
        }
        w.write(1_700_000_000_000_000_000 + i64::from(i) * 1_000_000, &f)
            .expect("write");
    }
    w.into_inner().flush().expect("flush");
}

#[test]
fn checksum_offload_is_noticed_by_default_and_said() {
    let dir = common::temp_dir("front-offload");
    let pcap = dir.join("offload.pcap");
    offload_capture(&pcap);
    let run = |extra: &[&str]| {
        bin()
            .args(["replay"])
            .args(extra)
            .arg(&pcap)
            .output()
            .expect("run")
    };
    let auto = run(&[]);
    assert!(auto.status.success(), "{}", stderr(&auto));
    assert!(
        stderr(&auto).contains("checksum offload"),
        "{}",
        stderr(&auto)
    );
    assert_eq!(
        conn_lines(&String::from_utf8_lossy(&auto.stdout)).len(),
        3000
    );

    let strict = run(&["--checksums", "strict"]);
    assert!(!stderr(&strict).contains("checksum offload"));
    assert_eq!(
        conn_lines(&String::from_utf8_lossy(&strict.stdout)).len(),
        2000
    );
    assert!(
        stderr(&strict).contains("bad_ip_checksum 1,000"),
        "{}",
        stderr(&strict)
    );

    // Clean traffic keeps being checked: no note.
    let clean = replay(&[], &[&opt_basic()]);
    assert!(!stderr(&clean).contains("offload"));
}
