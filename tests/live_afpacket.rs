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
//! installs them. Without root, or in a container that forbids network
//! namespaces, the test says so loudly and does nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vagt_schema::{ConnRecord, Event, EventBody};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (is it installed? see .ci/run)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Whether a network namespace can be made here (some containers forbid
/// it even to root); the reason when not.
fn namespaces_allowed() -> Result<(), String> {
    let name = format!("vagt-probe-{}", std::process::id());
    let out = Command::new("ip")
        .args(["netns", "add", &name])
        .output()
        .map_err(|e| format!("cannot run ip: {e}; install iproute2"))?;
    let _ = Command::new("ip").args(["netns", "del", &name]).output();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// A network namespace with a veth pair `vtx` -> `vrx`, removed on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        let name = format!("vagt-test-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        // No IPv6 autoconfiguration chatter on the wire under test.
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
        ns.exec(&[
            "ip", "link", "add", "name", "vtx", "type", "veth", "peer", "name", "vrx",
        ]);
        ns.exec(&["ip", "link", "set", "vtx", "up"]);
        ns.exec(&["ip", "link", "set", "vrx", "up"]);
        ns
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(args);
        c
    }

    fn exec(&self, args: &[&str]) -> String {
        run(&mut self.cmd(args))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Kills the sensor if the test fails before it stops.
struct Sensor(Child);

impl Drop for Sensor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
    let mut args = vec![
        "run",
        "-i",
        "vrx",
        "--method",
        "af-packet",
        "-w",
        "2",
        "--no-promisc",
    ];
    args.extend_from_slice(ring);
    let mut cmd = ns.cmd(&[env!("CARGO_BIN_EXE_vagt-sensor")]);
    cmd.args(&args).arg("-o").arg(&out).stderr(Stdio::piped());
    let mut sensor = Sensor(cmd.spawn().expect("start the sensor"));
    let mut stderr = sensor.0.stderr.take().expect("stderr");
    // Wait until the rings are open (the sensor says so).
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    let started = Instant::now();
    while !seen.contains("capturing on") {
        use std::io::Read;
        let n = stderr.read(&mut buf).expect("read stderr");
        assert!(
            n > 0 && started.elapsed() < Duration::from_secs(20),
            "the sensor did not start: {seen}"
        );
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let mut replay = vec!["tcpreplay", "-i", "vtx"];
    replay.extend_from_slice(rate);
    let pcap_s = pcap.to_string_lossy().into_owned();
    replay.push(&pcap_s);
    let report = ns.exec(&replay);
    let sent = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Successful packets:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no packet count in tcpreplay's report:\n{report}"));
    // Let the last blocks retire, then stop the sensor as an operator would.
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(sensor.0.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = sensor.0.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "the sensor did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    use std::io::Read;
    let _ = stderr.read_to_string(&mut rest);
    assert!(status.success(), "sensor failed: {seen}{rest}");
    eprintln!("{}", rest.trim_end());
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
    if !is_root() {
        eprintln!("SKIPPED: AF_PACKET capture in a network namespace needs root");
        return;
    }
    if let Err(why) = namespaces_allowed() {
        eprintln!("SKIPPED: this machine does not allow network namespaces ({why})");
        return;
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("vagt-afpacket-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pcap = dir.join("municipal.pcap");
    let truth = vagt_sensor::synth::municipal::write_pcap(&pcap, 7, 60_000).expect("generate");
    let ns = Netns::new();

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
    std::fs::remove_dir_all(&dir).ok();
}
