//! `vagt-sensor analyze`: recorded events through the analysis stage give
//! the alerts the stage raised when the events were first made. Each
//! labelled attack capture is replayed once with the stage on, and once
//! with it off into a file of events, which `analyze` then reads: the
//! alerts and segment metrics must be the same, line for line. Also: lines
//! that are not events are reported with file and line and skipped, a
//! missing file is reported, and both give exit code 2 with everything else
//! still analysed; gzip files are read, a cut one up to the damage;
//! `--state-dir` leaves a state `baseline show` reads.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

fn sensor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vagt-sensor"))
        .args(args)
        .output()
        .expect("start vagt-sensor")
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Replays `pcap` with `config` (the analysis stage off) into `events`:
/// what a sensor recorded, for `analyze`.
fn record(config: &Path, pcap: &Path, events: &Path) {
    let (c, e, p) = (s(config), s(events), s(pcap));
    ok(
        &sensor(&["-c", &c, "replay", "-q", "-C", "-w", "1", "-o", &e, &p]),
        &p,
    );
}

/// A configuration in `tmp` with the analysis stage off, and `more`.
fn no_stage(tmp: &Path, more: &str) -> std::path::PathBuf {
    let path = tmp.join("no-stage.toml");
    std::fs::write(&path, format!("[analysis]\nenabled = false\n{more}")).expect("write config");
    path
}

/// The lines of `path` of the stage's own event types, as a set (the
/// order of alerts written at the same moment is not fixed).
fn stage_lines(path: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| {
            l.contains("\"event_type\":\"alert\"")
                || l.contains("\"event_type\":\"segment_metrics\"")
        })
        .map(str::to_string)
        .collect()
}

fn attack_captures() -> Vec<std::path::PathBuf> {
    let dir = corpus().join("attacks");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "attack captures in {}", dir.display());
    files
}

#[test]
fn recorded_events_raise_the_alerts_the_replay_raised() {
    let tmp = temp_dir("analyze");
    let config = no_stage(&tmp, "");
    let mut alerts = 0;
    for pcap in attack_captures() {
        let name = s(&pcap);
        let (live, events, again) = (
            tmp.join("live.json"),
            tmp.join("ev.json"),
            tmp.join("re.json"),
        );
        ok(
            &sensor(&["replay", "-q", "-C", "-w", "1", "-o", &s(&live), &name]),
            &name,
        );
        record(&config, &pcap, &events);
        ok(
            &sensor(&["analyze", "-q", &s(&events), "-o", &s(&again)]),
            &name,
        );
        let (want, got) = (stage_lines(&live), stage_lines(&again));
        assert_eq!(got, want, "{name}: analyze differs from the replay's stage");
        alerts += want.iter().filter(|l| l.contains("\"alert\"")).count();
    }
    // The captures are attacks: the comparison is not one of empty sets.
    assert!(alerts >= 10, "only {alerts} alerts in all attack captures");
}

#[test]
fn bad_lines_and_missing_files_are_reported_and_the_rest_analysed() {
    let tmp = temp_dir("analyze-bad");
    let events = tmp.join("ev.json");
    record(
        &no_stage(&tmp, ""),
        &corpus().join("attacks/ftp_bruteforce.pcap"),
        &events,
    );
    // Damage in the middle of the file: a line cut short and one of
    // something else; the events around them still count.
    let text = std::fs::read_to_string(&events).expect("events");
    let lines: Vec<&str> = text.lines().collect();
    let half = lines.len() / 2;
    let mut damaged = lines[..half].join("\n");
    damaged.push_str("\n{\"ts\":1.5,\"event_type\n\u{0}\u{1}not json at all\n");
    damaged.push_str(&lines[half..].join("\n"));
    let bad = tmp.join("damaged.json");
    std::fs::write(&bad, damaged).expect("write");
    let (clean_out, bad_out) = (tmp.join("clean.json"), tmp.join("bad.json"));
    ok(
        &sensor(&["analyze", "-q", &s(&events), "-o", &s(&clean_out)]),
        "clean",
    );
    let missing = tmp.join("missing.json");
    let out = sensor(&["analyze", &s(&bad), &s(&missing), "-o", &s(&bad_out)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("damaged.json:{}: not an event", half + 1)),
        "{err}"
    );
    assert!(
        err.contains(&format!("damaged.json:{}: not an event", half + 2)),
        "{err}"
    );
    assert!(err.contains("2 line(s) were not events"), "{err}");
    assert!(
        err.contains("cannot open") && err.contains("missing.json"),
        "{err}"
    );
    // The brute force is still found, as it is in the undamaged file.
    let want = stage_lines(&clean_out);
    assert!(
        want.iter().any(|l| l.contains("\"bruteforce\"")),
        "{want:?}"
    );
    assert_eq!(stage_lines(&bad_out), want);
}

#[test]
fn gzip_files_are_read_and_a_cut_one_keeps_what_came_before() {
    use std::io::Write;
    let tmp = temp_dir("analyze-gz");
    let events = tmp.join("ev.json");
    record(
        &no_stage(&tmp, ""),
        &corpus().join("attacks/ssh_sshguess.pcap"),
        &events,
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&std::fs::read(&events).expect("events"))
        .expect("compress");
    let gz = gz.finish().expect("compress");
    let (packed, cut) = (tmp.join("ev.json.1.gz"), tmp.join("cut.gz"));
    std::fs::write(&packed, &gz).expect("write");
    std::fs::write(&cut, &gz[..gz.len() - 20]).expect("write");
    let (want, got) = (tmp.join("want.json"), tmp.join("got.json"));
    ok(
        &sensor(&["analyze", "-q", &s(&events), "-o", &s(&want)]),
        "plain",
    );
    ok(
        &sensor(&["analyze", "-q", &s(&packed), "-o", &s(&got)]),
        "gzip",
    );
    assert!(!stage_lines(&want).is_empty());
    assert_eq!(stage_lines(&got), stage_lines(&want));
    // A compressed file cut short (a copy that did not finish) is read up
    // to the damage, which is reported.
    let out = sensor(&["analyze", "-q", &s(&cut), "-o", &s(&got)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot read") && err.contains("cut.gz"),
        "{err}"
    );
}

#[test]
fn state_dir_keeps_what_was_learnt() {
    let tmp = temp_dir("analyze-state");
    let segments =
        "[[segments]]\nname = \"lab\"\nkind = \"server\"\nnetworks = [\"192.168.56.0/24\"]\n";
    let config = no_stage(&tmp, segments);
    let events = tmp.join("ev.json");
    record(
        &config,
        &corpus().join("attacks/ssh_sshguess.pcap"),
        &events,
    );
    let (c, st, e) = (s(&config), s(&tmp.join("state")), s(&events));
    let args = [
        "-c",
        &c,
        "analyze",
        "-q",
        "--state-dir",
        &st,
        "-o",
        "/dev/null",
        &e,
    ];
    ok(&sensor(&args), "analyze");
    let show = sensor(&["baseline", "show", "--state-dir", &st]);
    ok(&show, "baseline show");
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.contains("lab"), "{text}");
}
