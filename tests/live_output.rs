//! Live capture, nothing lost and nothing hidden: libpcap's drops are
//! counted when the sensor falls behind (and the summary's rate covers the
//! time packets flowed, not the run), and the output file behaves as
//! an operator needs it to: records reach it within the flush interval on
//! a quiet network, SIGHUP reopens it for log rotation, a restart appends
//! to it, and kill -9 leaves only complete lines, which the next start
//! continues cleanly.
//!
//! Needs root. Traffic stays on a veth pair in a namespace made for the
//! test, or on loopback (UDP to a port of the test's own, with a BPF filter
//! for it). A machine that cannot run these fails them with the reason,
//! unless `VAGT_SKIP_LIVE=1` skips them on purpose. Every wait is a bounded
//! poll of what the sensor itself says or writes.

mod common;

use common::live::{self, Netns, Sensor};
use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use vagt_schema::{Event, EventBody};

/// libpcap, with the sensor stopped (SIGSTOP) for two seconds in the middle
/// of a send into a 2 MiB buffer: most packets are lost, and every one of
/// them must show up in the statistics as a drop.
///
/// What libpcap guarantees: on Linux `pcap_stats` reads the socket's
/// PACKET_STATISTICS, in which every packet that reached the socket is
/// either queued for the sensor or counted in `tp_drops` (`ps_drop`, our
/// `kernel`); `ps_ifdrop` (our `interface`) is the interface's own drop
/// count. The pcap_stats manual calls the figures approximate in general,
/// because on some platforms they are; here they are exact for the socket.
/// What neither can see is a packet lost before it reached the socket
/// (the veth's backlog under load), so the test allows counted plus dropped
/// to fall short of sent by at most 0.1%, and never to exceed it.
#[test]
fn libpcap_counts_drops_while_the_sensor_is_paused() {
    if !live::live_allowed("libpcap_counts_drops_while_the_sensor_is_paused", true) {
        return;
    }
    let dir = common::temp_dir("pcapdrops");
    let pcap = dir.join("municipal.pcap");
    vagt_sensor::synth::municipal::write_pcap(&pcap, 11, 60_000).expect("generate");
    let ns = Netns::new("pcapdrops");
    let out = dir.join("out.json");
    let config = live::prompt_config(&dir, 0.2, "");
    let mut cmd = ns.cmd(&[env!("CARGO_BIN_EXE_vagt-sensor")]);
    cmd.arg("-c").arg(&config);
    cmd.args([
        "run",
        "-i",
        "vrx",
        "--method",
        "libpcap",
        "-w",
        "1",
        "--no-promisc",
        "--buffer-mib",
        "2",
    ]);
    cmd.arg("-o").arg(&out);
    let mut sensor = Sensor::start(cmd);

    // About 53 MB at 100 Mbit/s, twice: some eight seconds of sending.
    let mut send = ns.cmd(&["tcpreplay", "-i", "vtx", "--mbps", "100", "--loop", "2"]);
    send.arg(&pcap);
    let sender = std::thread::spawn(move || live::run(&mut send));
    // Pause once the sensor has counted packets, so mid-send.
    live::poll(Duration::from_secs(10), "the first packets counted", || {
        live::last_stats(&out).filter(|s| s.packets > 0)
    });
    sensor.signal(libc::SIGSTOP);
    std::thread::sleep(Duration::from_secs(2));
    sensor.signal(libc::SIGCONT);
    let report = sender.join().expect("tcpreplay");
    let sent = live::tcpreplay_sent(&report);
    // Bounded wait until the sensor's figures stop changing and account
    // for what was sent (they may fall short by what the veth lost).
    let floor = sent - sent / 1000;
    live::poll(
        Duration::from_secs(20),
        &format!("the sensor to account for {sent} packets"),
        || live::last_stats(&out).filter(|s| live::accounted(s) >= floor),
    );
    sensor.stop();
    let said = sensor.said();
    let s = live::last_stats(&out).expect("a final statistics event");
    let kernel = live::drop_count(&s, "kernel");
    let interface = live::drop_count(&s, "interface");
    let queue = live::drop_count(&s, "queue_full");
    eprintln!(
        "libpcap, paused 2 s: sent {sent}, counted {} (of them queue-full drops {queue}), \
         kernel drops {kernel}, interface drops {interface}",
        s.packets
    );
    assert!(kernel > 0, "the pause overflowed the buffer: {said}");
    let accounted = live::accounted(&s);
    assert!(
        (floor..=sent).contains(&accounted),
        "counted plus dropped ({accounted}) accounts for what was sent ({sent})"
    );
    assert!(
        said.contains(&format!("kernel {}", thousands(kernel))),
        "the summary shows the drops: {said}"
    );
    // The summary's rate is over the time packets flowed, which is the
    // time tcpreplay took to send them, not the run with its idle time.
    let seconds = |text: &str, before: &str, after: &str| -> f64 {
        let from = text.find(before).map(|i| i + before.len());
        from.and_then(|i| text[i..].split(after).next())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no '{before}' figure in:\n{text}"))
    };
    let sending = seconds(&report, "sent in", "seconds");
    let flowed = seconds(&said, "while packets flowed (", "s,");
    eprintln!("tcpreplay sent for {sending} s; the summary's rate is over {flowed} s");
    assert!(
        (flowed - sending).abs() < 0.5,
        "rate over the traffic ({flowed} s), not the run: {said}"
    );
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The sensor on loopback, for UDP to `port` only, writing `out`.
fn loopback_sensor(config: &Path, port: u16, out: &Path, extra: &[&str]) -> Sensor {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vagt-sensor"));
    cmd.arg("-c").arg(config);
    cmd.args(["run", "-i", "lo", "-w", "1", "--bpf"]);
    cmd.arg(format!("udp and port {port}"));
    cmd.args(extra).arg("-o").arg(out);
    Sensor::start(cmd)
}

/// Sends `n` datagrams from a fresh socket (a connection of its own) to
/// `port`; returns the socket's port, which names the connection.
fn send_flow(port: u16, n: usize) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    for i in 0..n {
        sock.send_to(format!("hello {i}").as_bytes(), ("127.0.0.1", port))
            .expect("send");
    }
    sock.local_addr().expect("address").port()
}

/// The final record of the connection from `orig_p`, if written.
fn record_of(events: &[Event], orig_p: u16) -> Option<u64> {
    events.iter().find_map(|e| match &e.body {
        EventBody::Conn(c) if !c.interim && c.orig_p == orig_p => Some(c.orig_pkts),
        _ => None,
    })
}

/// Waits (bounded) until the connection from `orig_p` is on the file.
fn wait_record(out: &Path, orig_p: u16) -> u64 {
    live::poll(
        Duration::from_secs(20),
        &format!(
            "the record of the connection from port {orig_p} in {}",
            out.display()
        ),
        || record_of(&live::events(out), orig_p),
    )
}

/// Every line of `path` is complete JSON; how many there are.
fn complete_lines(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).expect("output");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the file ends in an incomplete line: {:?}",
        &text[text.len().saturating_sub(200)..]
    );
    for line in text.lines() {
        serde_json::from_str::<Event>(line)
            .unwrap_or_else(|e| panic!("not a complete record ({e}): {line}"));
    }
    text.lines().count()
}

/// A quiet network's records reach the file within the flush interval;
/// SIGHUP reopens the file (the sensor goes on, and exits 0 with its
/// summary later); a restart appends; kill -9 leaves complete lines, and
/// a cut-short last line is cut off by the next start.
#[test]
fn output_is_prompt_rotates_appends_and_survives_kill() {
    if !live::live_allowed("output_is_prompt_rotates_appends_and_survives_kill", false) {
        return;
    }
    let dir = common::temp_dir("liveout");
    let out = dir.join("out.json");
    let rotated = dir.join("out.json.1");
    let flush = 0.5;
    // UDP connections end one second after their last packet, so records
    // are finished (and then written) while the test watches. Checksums
    // off: loopback datagrams carry the partial sums the kernel leaves to
    // offload, and a datagram with a bad checksum is not counted.
    let config = live::prompt_config(
        &dir,
        flush,
        "[decode]\nchecksums = \"off\"\n[flow.timeouts]\nudp_inactivity = 1.0\n",
    );
    let port = 46_000 + (std::process::id() % 10_000) as u16;

    let mut sensor = loopback_sensor(&config, port, &out, &[]);
    // Flush latency: a stats event carries the wall-clock time it was
    // taken; it must be on the file within the flush interval of that
    // (plus the 20 ms polling step and some scheduling slack).
    let (stats_ts, seen) = live::poll(Duration::from_secs(10), "a stats event on file", || {
        let s = live::last_stats(&out)?;
        Some((s.ts, wall_secs()))
    });
    let latency = seen - stats_ts;
    eprintln!(
        "a stats event reached the file {:.0} ms after it was taken",
        latency * 1e3
    );
    assert!(
        latency < flush + 0.3,
        "flushed within {flush} s: {latency:.3} s"
    );

    let first = send_flow(port, 5);
    let sent_at = Instant::now();
    assert_eq!(wait_record(&out, first), 5);
    eprintln!(
        "a connection's record was on file {:.1} s after its last packet \
         (1 s inactivity timeout, timer sweeps 2 s behind, {flush} s flush)",
        sent_at.elapsed().as_secs_f64()
    );

    // Rotation: the old file keeps its records, new ones go to a new file.
    std::fs::rename(&out, &rotated).expect("rotate");
    sensor.signal(libc::SIGHUP);
    sensor.wait_said("reopened output file", Duration::from_secs(10));
    let second = send_flow(port, 7);
    assert_eq!(
        wait_record(&out, second),
        7,
        "the sensor goes on after SIGHUP"
    );
    assert_eq!(record_of(&live::events(&rotated), first), Some(5));
    assert_eq!(record_of(&live::events(&out), first), None);
    sensor.stop();
    assert!(
        sensor.said().contains("captured"),
        "summary: {}",
        sensor.said()
    );
    let before = complete_lines(&out);
    assert!(live::last_stats(&out).is_some(), "the final stats event");

    // A restart appends, and kill -9 leaves complete lines only.
    let mut sensor = loopback_sensor(&config, port, &out, &[]);
    let third = send_flow(port, 3);
    assert_eq!(wait_record(&out, third), 3);
    sensor.signal(libc::SIGKILL);
    let _ = sensor.wait_exit(Duration::from_secs(10));
    let after_kill = complete_lines(&out);
    assert!(
        after_kill > before,
        "appended: {before} lines, then {after_kill}"
    );
    let events = live::events(&out);
    assert_eq!(record_of(&events, second), Some(7), "kept what was there");

    // A write cut short (as a kill inside a large write can leave it):
    // the next start cuts the incomplete line off, keeps every complete
    // one, and its records start lines of their own.
    let mut text = std::fs::read(&out).expect("output");
    text.extend_from_slice(b"{\"schema_version\":1,\"municipality\":\"00");
    std::fs::write(&out, &text).expect("write");
    let mut sensor = loopback_sensor(&config, port, &out, &[]);
    sensor.wait_said("cut an incomplete last line", Duration::from_secs(10));
    let fourth = send_flow(port, 2);
    assert_eq!(wait_record(&out, fourth), 2);
    sensor.stop();
    assert!(complete_lines(&out) > after_kill);

    // --truncate starts afresh. Through libpcap, with no packet at all:
    // its stats events, periodic and final, carry the wall-clock time.
    let extra = ["--truncate", "--method", "libpcap"];
    let mut sensor = loopback_sensor(&config, port, &out, &extra);
    let periodic = live::poll(Duration::from_secs(10), "a stats event", || {
        live::last_stats(&out)
    });
    sensor.stop();
    let events = live::events(&out);
    assert_eq!(record_of(&events, second), None, "started afresh");
    let last = live::last_stats(&out).expect("the final stats event");
    for s in [&periodic, &last] {
        assert_eq!(s.packets, 0);
        assert!((wall_secs() - s.ts).abs() < 60.0, "wall-clock ts: {}", s.ts);
    }
}

fn wall_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
