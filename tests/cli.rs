//! The command line as a user meets it: help text, configuration errors,
//! the demo, output formats, and live capture on the loopback interface
//! stopped by SIGTERM.

mod common;

use std::io::Read;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vagt-sensor"))
}

/// A path in a temporary folder of the test's own, removed with it.
struct Temp(PathBuf, #[allow(dead_code)] common::TempDir);

impl std::ops::Deref for Temp {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl AsRef<std::path::Path> for Temp {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for Temp {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

fn temp(name: &str) -> Temp {
    let dir = common::temp_dir("cli");
    Temp(dir.join(name), dir)
}

#[test]
fn help_explains_the_commands() {
    let out = bin().arg("--help").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["replay", "run", "demo", "config", "conn.log", "--config"] {
        assert!(text.contains(word), "help lacks {word}:\n{text}");
    }
    let out = bin().args(["replay", "--help"]).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--workers") && text.contains("--ignore-checksums"),
        "{text}"
    );
}

#[test]
fn bad_configuration_is_reported_with_the_setting() {
    let cfg = temp("bad.toml");
    std::fs::write(&cfg, "[pipeline]\nworkers = \"many\"\n").expect("write");
    let out = bin()
        .args(["--config"])
        .arg(&cfg)
        .args(["config", "--check"])
        .arg(&cfg)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("workers"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = bin()
        .args(["replay", "--checksums", "sometimes", "x.pcap"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn default_config_is_printed_and_accepted() {
    let out = bin().arg("config").output().expect("run");
    assert!(out.status.success());
    let cfg = temp("default.toml");
    std::fs::write(&cfg, &out.stdout).expect("write");
    let out = bin()
        .args(["config", "--check"])
        .arg(&cfg)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
}

#[test]
fn demo_writes_records_and_a_summary() {
    let out_file = temp("demo.json");
    let out = bin()
        .args(["demo", "--packets", "20000", "-o"])
        .arg(&out_file)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains("packets/s") && summary.contains("connections:"),
        "{summary}"
    );
    let text = std::fs::read_to_string(&out_file).expect("records");
    let conns = text
        .lines()
        .filter(|l| l.contains("\"event_type\":\"conn\""))
        .count();
    assert!(conns > 100, "{conns} records");
    assert!(
        text.contains("\"segment\":\"care\""),
        "segments are assigned"
    );
    let last = text.lines().last().unwrap_or("");
    assert!(last.contains("\"event_type\":\"stats\""), "{last}");
    // The demo's port scan raised an alert, before the final statistics,
    // which carry the analysis stage's counters.
    assert!(
        text.contains("\"event_type\":\"alert\"") && text.contains("\"kind\":\"port_scan\""),
        "no scan alert"
    );
    let stats: serde_json::Value = serde_json::from_str(last).expect("json");
    assert!(
        stats["analysis"]["alerts"].as_u64().unwrap_or(0) >= 1,
        "{last}"
    );
    assert_eq!(stats["analysis"]["rules_files"].as_u64(), Some(3), "{last}");
}

#[test]
fn zeek_tsv_output_has_a_header_and_rows() {
    let trace = common::trace_in(&common::corpus().join("zeek/opt.basic")).expect("trace");
    let out = bin()
        .args(["replay", "-q", "--format", "zeek"])
        .arg(&trace)
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("#separator"), "{text}");
    let rows = text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(rows, 34, "{text}");
}

#[test]
fn truncated_capture_keeps_what_was_read_and_fails() {
    let trace = common::trace_in(&common::corpus().join("zeek/opt.basic")).expect("trace");
    let bytes = std::fs::read(&trace).expect("read");
    let cut = temp("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).expect("write");
    let out = bin()
        .args(["replay", "-q"])
        .arg(&cut)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.pcap") && err.contains("truncated"),
        "{err}"
    );
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"conn\""))
        .count();
    assert!(
        records > 10,
        "records before the damage are written: {records}"
    );
}

/// Live capture on `lo`: datagrams sent to a port are counted, and SIGTERM
/// makes the sensor write the open connection and exit cleanly.
#[test]
fn live_capture_on_loopback_flushes_on_sigterm() {
    if !common::live::live_allowed("live_capture_on_loopback_flushes_on_sigterm", false) {
        return;
    }
    let port = 45_000 + (std::process::id() % 10_000) as u16;
    let out_file = temp("live.json");
    // A stats event a second, on the file within 0.2 s: the sensor's own
    // count is what the test waits for, never a fixed time.
    let config_dir = temp("");
    // Checksums off: loopback datagrams carry the partial sums the kernel
    // leaves to offload, and a datagram with a bad checksum is not counted.
    let config = common::live::prompt_config(&config_dir, 0.2, "[decode]\nchecksums = \"off\"\n");
    let mut child = bin()
        .arg("-c")
        .arg(&config)
        .args(["run", "-i", "lo", "--bpf"])
        .arg(format!("udp and port {port}"))
        .args(["-w", "2", "-o"])
        .arg(&out_file)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    // Wait until the capture is open (the sensor says so on stderr).
    let mut stderr = child.stderr.take().expect("stderr");
    let mut seen = String::new();
    let started = Instant::now();
    let mut buf = [0u8; 256];
    while !seen.contains("capturing on") {
        let n = stderr.read(&mut buf).expect("read stderr");
        if n == 0 || started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("live capture did not start (needs root or CAP_NET_RAW): {seen}");
        }
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let sent = 25;
    for i in 0..sent {
        sock.send_to(format!("hello {i}").as_bytes(), ("127.0.0.1", port))
            .expect("send");
    }
    common::live::poll(
        Duration::from_secs(20),
        "the sensor to count 25 packets",
        || common::live::last_stats(&out_file).filter(|s| s.packets >= sent),
    );
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    // A sensor that ignores the signal fails the test instead of hanging it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the sensor did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    assert!(status.success(), "exit {status:?}: {seen}{rest}");
    let text = std::fs::read_to_string(&out_file).expect("records");
    let conn = text
        .lines()
        .find(|l| {
            l.contains("\"event_type\":\"conn\"") && l.contains(&format!("\"id.resp_p\":{port}"))
        })
        .unwrap_or_else(|| panic!("no record for port {port}:\n{text}"));
    let v: serde_json::Value = serde_json::from_str(conn).expect("json");
    assert_eq!(v["orig_pkts"], sent, "{conn}");
    assert_eq!(v["end_reason"], "shutdown", "{conn}");
    assert!(rest.contains("captured"), "summary printed: {rest}");
}

#[test]
fn rules_check_accepts_the_repository_rules_and_points_at_a_broken_line() {
    let repo_rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let out = bin()
        .args(["rules", "check"])
        .arg(&repo_rules)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("0 indicator(s)") && said.contains("ok"),
        "{said}"
    );

    let dir = temp("rules");
    std::fs::create_dir_all(&*dir).expect("mkdir");
    // Indicators in both formats are read and counted by type.
    std::fs::write(
        dir.join("feed.intel"),
        "#fields\tindicator\tindicator_type\tmeta.source\n198.51.100.7\tIntel::ADDR\tx\nbad.example\tIntel::DOMAIN\tx\nx.exe\tIntel::FILE_NAME\tx\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("iocs.toml"),
        "[[indicator]]\nvalue = \"*.bad.example\"\ntype = \"domain\"\ncomment = \"phishing\"\n",
    )
    .expect("write");
    let out = bin()
        .args(["rules", "check"])
        .arg(&*dir)
        .output()
        .expect("run");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("3 indicator(s) (ip 1, domain 2)") && said.contains("(Intel::FILE_NAME 1)"),
        "{said}"
    );
    // A broken feed line is placed like a broken rules line.
    std::fs::write(
        dir.join("feed.intel"),
        "#fields\tindicator\tindicator_type\tmeta.source\n198.51.100.300\tIntel::ADDR\tx\n",
    )
    .expect("write");
    let out = bin()
        .args(["rules", "check"])
        .arg(&*dir)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("feed.intel:2:"), "{err}");
    std::fs::remove_file(dir.join("feed.intel")).expect("rm");
    std::fs::remove_file(dir.join("iocs.toml")).expect("rm");
    std::fs::write(
        dir.join("local.toml"),
        "[[allow]]\ncomment = \"IT scanner\"\ndetector = \"scan\"\nsrc = \"10.20.5.300\"\n",
    )
    .expect("write");
    let out = bin()
        .args(["rules", "check"])
        .arg(&*dir)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("local.toml:4:") && err.contains("src"),
        "{err}"
    );
}
