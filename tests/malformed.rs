//! Bad input: every capture in the corpus's `malformed/` folder (tcpdump's
//! and libpcap's regression captures, many deliberately broken) is replayed
//! by the real binary. None may panic, crash or hang (10 s each); files
//! libpcap refuses must give one clear error line that names the file, and
//! a non-zero exit.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(10);

struct Run {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
}

fn replay(file: &Path) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vagt-sensor"))
        .args([
            "replay",
            "--quiet",
            "--no-progress",
            "-o",
            "/dev/null",
            "-w",
            "2",
        ])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vagt-sensor");
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut stderr);
            }
            return Run {
                code: status.code(),
                stderr,
                elapsed: started.elapsed(),
            };
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Run {
                code: None,
                stderr: "killed: took longer than 10 s".into(),
                elapsed: started.elapsed(),
            };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn every_malformed_capture_is_survived() {
    let root = common::corpus().join("malformed");
    let mut files = files_in(&root.join("tcpdump"));
    files.extend(files_in(&root.join("libpcap")));
    assert!(
        files.len() >= 800,
        "expected the malformed corpus, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    let (mut ok, mut refused) = (0, 0);
    let mut slowest = Duration::ZERO;
    for f in &files {
        let r = replay(f);
        slowest = slowest.max(r.elapsed);
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        match r.code {
            Some(0) => ok += 1,
            Some(2) => {
                refused += 1;
                let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
                if lines.len() != 1 || !lines[0].contains(&name) || !lines[0].contains("error") {
                    failures.push(format!("{name}: unclear error: {:?}", r.stderr));
                }
            }
            other => failures.push(format!("{name}: exit {other:?}: {}", r.stderr.trim())),
        }
        if r.stderr.contains("panicked") {
            failures.push(format!("{name}: panic: {}", r.stderr.trim()));
        }
    }
    println!(
        "malformed corpus: {} files, {ok} replayed, {refused} refused with an error, slowest {:.2} s",
        files.len(),
        slowest.as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn invalid_capture_files_are_refused_clearly() {
    let root = common::corpus().join("malformed/libpcap");
    for name in [
        "pcap-invalid-version-1.pcap",
        "pcap-invalid-version-2.pcap",
        "pcapng-invalid-vers-1.pcapng",
        "pcapng-invalid-vers-2.pcapng",
    ] {
        let r = replay(&root.join(name));
        assert_eq!(r.code, Some(2), "{name}: {}", r.stderr);
        let line = r.stderr.trim();
        assert!(!line.contains('\n'), "{name}: one line expected: {line}");
        let at = line
            .find(name)
            .unwrap_or_else(|| panic!("{name} not named: {line}"));
        let problem = &line[at + name.len()..];
        assert!(
            problem.contains("unsupported capture file version"),
            "{name}: {line}"
        );
    }
}
