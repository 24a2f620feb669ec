//! Replays every input the fuzzers ever broke the sensor with.
//!
//! `tests/regressions/<target>/` holds the inputs of fuzz target `<target>`
//! (see sensor/fuzz) that once crashed, hung or broke an invariant, each
//! kept after its fix. They go through the same harness code as the fuzz
//! target (the harness module is included below), each in its own thread
//! with a deadline, so a hang fails the test instead of stalling it.

#[allow(dead_code, unused_imports)]
#[path = "../sensor/fuzz/src/harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Regression inputs whose fix is still open, by target and file name. They
/// are left out of `every_regression_input_passes` and run by
/// `open_regressions` (ignored until fixed; run it with `--ignored`).
const OPEN: &[(&str, &str)] = &[];

/// Inputs stay small, so the folder stays cheap to keep in git.
const MAX_INPUT: u64 = 64 * 1024;
/// An input that takes longer than this hangs (they take milliseconds).
const DEADLINE: Duration = Duration::from_secs(20);

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/regressions")
}

/// Every (target, file) under tests/regressions.
fn inputs() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(regressions_dir()) else {
        return out;
    };
    for d in dirs.flatten() {
        let target = d.file_name().to_string_lossy().into_owned();
        if !d.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(d.path())
            .expect("read regression folder")
            .flatten()
        {
            if f.path().is_file() {
                out.push((target.clone(), f.path()));
            }
        }
    }
    out.sort();
    out
}

fn is_open(target: &str, path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    OPEN.iter()
        .any(|(t, f)| *t == target && name.as_deref() == Some(*f))
}

/// Runs one input in its own thread; the problem, if any.
fn run_one(target: &str, path: &Path) -> Option<String> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => return Some(format!("cannot read: {e}")),
    };
    if data.len() as u64 > MAX_INPUT {
        return Some(format!("{} bytes, more than {MAX_INPUT}", data.len()));
    }
    let (tx, rx) = mpsc::channel();
    let t = target.to_string();
    let handle = std::thread::Builder::new()
        .name(format!("regression {target}"))
        .spawn(move || {
            let known = harness::run(&t, &data);
            let _ = tx.send(known);
        })
        .expect("spawn");
    match rx.recv_timeout(DEADLINE) {
        Ok(true) => {
            let _ = handle.join();
            None
        }
        Ok(false) => Some(format!("no fuzz target is called {target}")),
        Err(mpsc::RecvTimeoutError::Timeout) => Some(format!(
            "still running after {} s (hang)",
            DEADLINE.as_secs()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Some(match handle.join() {
            Err(p) => p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panicked".into()),
            Ok(()) => "ended without a result".into(),
        }),
    }
}

fn check(selected: Vec<(String, PathBuf)>) {
    let mut failures = Vec::new();
    for (target, path) in &selected {
        if let Some(problem) = run_one(target, path) {
            failures.push(format!("{target}/{}: {problem}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} regression inputs fail:\n{}",
        failures.len(),
        selected.len(),
        failures.join("\n")
    );
}

#[test]
fn every_regression_input_passes() {
    let all = inputs();
    assert!(
        !all.is_empty(),
        "no regression inputs under {}",
        regressions_dir().display()
    );
    let fixed: Vec<_> = all.into_iter().filter(|(t, p)| !is_open(t, p)).collect();
    check(fixed);
}

#[test]
#[ignore = "inputs whose fix is still open (see OPEN)"]
fn open_regressions() {
    let open: Vec<_> = inputs()
        .into_iter()
        .filter(|(t, p)| is_open(t, p))
        .collect();
    assert_eq!(open.len(), OPEN.len(), "an OPEN entry names no file");
    check(open);
}

#[test]
fn regression_folders_name_fuzz_targets() {
    for d in std::fs::read_dir(regressions_dir())
        .expect("tests/regressions")
        .flatten()
    {
        let name = d.file_name().to_string_lossy().into_owned();
        assert!(
            harness::TARGETS.iter().any(|(t, _)| *t == name),
            "tests/regressions/{name} is not a fuzz target"
        );
    }
}

/// Found by the fuzzers: the tracker took packet times as `i64` and
/// overflowed on times far outside what sources hand out
/// (`capture::MAX_TS_NS`): `flow::record::to_event` computed
/// `last_ts - start_ts` and `flow::defrag` `ts - first_ts` unchecked
/// (a panic with overflow checks, silent wrap-around without). The tracker
/// now clamps times into the source range, so every record it writes has
/// a start inside that range and no negative duration.
#[test]
fn tracker_times_far_outside_the_source_range() {
    use vagt_sensor::decode::{DecodeOptions, LinkType};
    use vagt_sensor::flow::{RecordContext, TableConfig, Tracker};
    use vagt_sensor::synth::frames::{self, Host};

    let decode = DecodeOptions {
        validate_checksums: false,
        ..DecodeOptions::default()
    };
    let mut t = Tracker::new(decode, TableConfig::default());
    let a = Host {
        mac: [2, 0, 0, 0, 0, 1],
        ip: std::net::Ipv4Addr::new(10, 0, 0, 1),
    };
    let b = Host {
        mac: [2, 0, 0, 0, 0, 2],
        ip: std::net::Ipv4Addr::new(10, 0, 0, 2),
    };
    let mut f = Vec::new();
    frames::udp(&mut f, &a, &b, None, 40000, 53, None, 10, 1);
    t.packet(
        LinkType::ETHERNET,
        1_700_000_000_000_000_000,
        &f,
        f.len() as u32,
    );
    t.packet(LinkType::ETHERNET, i64::MIN + 1, &f, f.len() as u32);
    // Two fragments of one datagram at opposite ends of time.
    let mut frag = f[14..].to_vec();
    frag[6] = 0x20; // more fragments
    t.packet(LinkType::RAW, i64::MAX - 1, &frag, frag.len() as u32);
    t.packet(LinkType::RAW, i64::MIN + 1, &frag, frag.len() as u32);
    t.flush();
    let ctx = RecordContext {
        municipality: "0000".into(),
        sensor: "test".into(),
        site: Default::default(),
        uid_salt: 0,
    };
    let records: Vec<_> = t
        .finished()
        .drain(..)
        .filter_map(|e| e.conn().copied())
        .collect();
    assert!(!records.is_empty(), "no connection records");
    for c in &records {
        assert!(
            (0..=vagt_sensor::capture::MAX_TS_NS).contains(&c.start_ts),
            "start {} outside the source range",
            c.start_ts
        );
        assert!(c.last_ts >= c.start_ts, "{} < {}", c.last_ts, c.start_ts);
        let _ = vagt_sensor::flow::record::to_event(c, &ctx);
    }
}
