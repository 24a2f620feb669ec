//! Learned state survives the sensor: baselines are saved as intervals
//! pass and restored at start, so a replay killed with SIGKILL halfway and
//! continued from its state directory ends with what one uninterrupted
//! replay learns, less at most the interval the kill cut short. Also:
//! replays without a state directory never share learned state, and
//! `baseline show` prints what was learnt.
//!
//! The traffic is built here from a fixed seed: twenty care workstations
//! talking to one external service every few seconds for ten hours.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vagt_sensor::synth::frames::{self, Host};
use vagt_sensor::synth::pcap::{PcapWriter, LINKTYPE_ETHERNET};
use vagt_sensor::synth::rng::Rng;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vagt-sensor"))
}

/// Monday 2026-01-05 08:00 Copenhagen time.
const START: f64 = 1_767_596_400.0;
const HOURS: f64 = 10.0;

/// Pcap frames of the scenario, as (time, bytes of one record).
fn packets() -> Vec<(f64, Vec<u8>)> {
    let mut rng = Rng::new(2026);
    let server = Host {
        mac: [0, 0x1b, 0x21, 0, 0, 1],
        ip: [185, 10, 0, 1].into(),
    };
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut t = START;
    let mut n: u32 = 0;
    while t < START + HOURS * 3600.0 {
        t += rng.exp(2.0);
        n += 1;
        let host = Host {
            mac: [0, 0x0c, 0x29, 0, 0, (n % 20) as u8],
            ip: [10, 5, 0, 10 + (n % 20) as u8].into(),
        };
        let sport = 20_000 + (n % 40_000) as u16;
        let size = 200 + rng.range(0, 800) as usize;
        frames::udp(
            &mut buf, &host, &server, None, sport, 9999, None, size, n as u16,
        );
        out.push((t, buf.clone()));
        frames::udp(
            &mut buf, &server, &host, None, 9999, sport, None, 100, n as u16,
        );
        out.push((t + 0.01, buf.clone()));
    }
    out
}

fn pcap(frames: &[(f64, Vec<u8>)]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET, 65_535).expect("header");
    for (t, f) in frames {
        w.write((t * 1e9) as i64, f).expect("frame");
    }
    w.into_inner()
}

fn config(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("vagt.toml");
    std::fs::write(
        &p,
        "[[segments]]\nname = \"pleje\"\nkind = \"care\"\nnetworks = [\"10.5.0.0/24\"]\n",
    )
    .expect("config");
    p
}

/// The saved state's hours learnt and packet time reached, for `pleje`.
fn learnt(state: &Path) -> (u64, f64) {
    let text = std::fs::read(state.join("analysis-state.json")).expect("state file");
    let v: serde_json::Value = serde_json::from_slice(&text).expect("state is JSON");
    let hours = v["baselines"]["segments"]["pleje"]["hours"]
        .as_u64()
        .unwrap_or(0);
    (hours, v["now"].as_f64().unwrap_or(0.0))
}

fn replay(cfg: &Path, state: &Path, input: &Path) {
    let st = bin()
        .args(["-q", "replay", "-w", "1", "-o", "/dev/null", "--state-dir"])
        .arg(state)
        .arg("-c")
        .arg(cfg)
        .arg(input)
        .status()
        .expect("run the sensor");
    assert!(st.success());
}

#[test]
fn baselines_survive_kill_9_mid_replay() {
    let dir = common::temp_dir("baselines");
    let cfg = config(&dir);
    let all = packets();
    let whole = dir.join("whole.pcap");
    std::fs::write(&whole, pcap(&all)).expect("write pcap");

    // One uninterrupted replay.
    let a = dir.join("state-a");
    replay(&cfg, &a, &whole);
    let (hours_a, now_a) = learnt(&a);
    assert!(hours_a >= 8, "{hours_a} hours learnt in 10 h of traffic");

    // The same traffic through a pipe: six hours, then SIGKILL once the
    // sensor has saved and gone quiet, then the rest from the state left.
    // A replay has no timers, so packets the pipeline still holds in a
    // part-filled batch are not analysed before the kill (as packets in
    // flight are lost in any crash); what the analysis saw is what the
    // output shows, and that is what the state must hold, less at most an
    // interval and its lag.
    let cut = all.partition_point(|(t, _)| *t < START + 6.0 * 3600.0);
    let b = dir.join("state-b");
    let out_b = dir.join("out-b.json");
    let mut child = bin()
        .args(["-q", "replay", "-w", "1", "--state-dir"])
        .arg(&b)
        .arg("-o")
        .arg(&out_b)
        .arg("-c")
        .arg(&cfg)
        .arg("-")
        .stdin(Stdio::piped())
        .spawn()
        .expect("start the sensor");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&pcap(&all[..cut])).expect("feed");
    stdin.flush().expect("flush");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = (0.0, 0u64);
    let mut stable_since = Instant::now();
    loop {
        let now = if b.join("analysis-state.json").exists() {
            learnt(&b).1
        } else {
            0.0
        };
        let size = std::fs::metadata(&out_b).map_or(0, |m| m.len());
        if (now, size) != last {
            last = (now, size);
            stable_since = Instant::now();
        } else if now >= START + 3.0 * 3600.0 && stable_since.elapsed() > Duration::from_secs(3) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sensor never saved past 3 h and went quiet: {last:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    drop(stdin);
    let (hours_killed, now_killed) = learnt(&b);
    assert!(hours_killed >= 2, "{hours_killed}");
    // The latest event the analysis read, from the output it wrote.
    let seen = std::fs::read_to_string(&out_b)
        .expect("output")
        .lines()
        .filter_map(|l| serde_json::from_str::<vagt_schema::Event>(l).ok())
        .filter_map(|e| vagt_detect::event_time(&e.body))
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(
        seen - now_killed <= 60.0 + 300.0,
        "saved at {now_killed}, the analysis had read up to {seen}"
    );

    let rest = dir.join("rest.pcap");
    std::fs::write(&rest, pcap(&all[cut..])).expect("write rest");
    replay(&cfg, &b, &rest);
    let (hours_b, now_b) = learnt(&b);
    assert_eq!(now_b, now_a);
    assert!(
        hours_b + 1 >= hours_a && hours_b <= hours_a,
        "{hours_b} vs {hours_a}"
    );

    // What was learnt reads as a table.
    let show = bin()
        .args(["baseline", "show", "pleje", "--state-dir"])
        .arg(&b)
        .output()
        .expect("baseline show");
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        show.status.success(),
        "{}",
        String::from_utf8_lossy(&show.stderr)
    );
    assert!(
        text.contains("Monday 09:00") && text.contains("bytes_out"),
        "{text}"
    );
}

#[test]
fn replays_without_a_state_dir_start_fresh_and_a_broken_state_is_set_aside() {
    let dir = common::temp_dir("baselines-fresh");
    let cfg = config(&dir);
    let whole = dir.join("whole.pcap");
    std::fs::write(&whole, pcap(&packets()[..2000])).expect("write pcap");
    // No state directory: nothing is written anywhere near the capture.
    let st = bin()
        .args(["-q", "replay", "-o", "/dev/null", "-c"])
        .arg(&cfg)
        .arg(&whole)
        .status()
        .expect("run");
    assert!(st.success());
    assert!(!dir.join("analysis-state.json").exists());
    // A torn state file is reported, moved aside, and learning restarts.
    let s = dir.join("state");
    std::fs::create_dir_all(&s).expect("dir");
    std::fs::write(s.join("analysis-state.json"), b"{\"version\":1,\"now\":").expect("torn");
    let out = bin()
        .args(["replay", "-o", "/dev/null", "--no-progress", "--state-dir"])
        .arg(&s)
        .arg("-c")
        .arg(&cfg)
        .arg(&whole)
        .output()
        .expect("run");
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("moved to") && said.contains("learning starts afresh"),
        "{said}"
    );
    assert!(s.join("analysis-state.json.unusable").exists());
    assert!(learnt(&s).1 > START);
}
