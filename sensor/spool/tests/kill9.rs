//! A real kill -9: a child process (this test binary, re-run with an
//! environment variable) appends, commits, acks and reports each commit on
//! stdout; the parent SIGKILLs it mid-stream, reopens the spool and checks
//! that every record whose commit was reported is there, in order, intact
//! (each payload is the record's index, which here is seq - 1).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::*;
use vagt_spool::{FsyncPolicy, Spool, SpoolConfig};

const ENV: &str = "VAGT_SPOOL_KILL9_CHILD_DIR";

fn config() -> SpoolConfig {
    SpoolConfig {
        segment_bytes: 64 << 10,
        fsync: FsyncPolicy::Batch,
        ..SpoolConfig::default()
    }
}

fn child(dir: &str) -> ! {
    let (mut w, mut r, _) = Spool::open(dir.as_ref(), config()).unwrap();
    let mut out = std::io::stdout().lock();
    for batch in 0u64.. {
        let mut last = 0;
        for i in 0..100u64 {
            last = w.append(2, &(batch * 100 + i).to_le_bytes()).unwrap();
        }
        w.commit().unwrap();
        writeln!(out, "committed {last}").unwrap();
        out.flush().unwrap();
        if batch % 7 == 6 {
            // Ship and release some, so deletion and the cursor run too.
            let mut upto = 0;
            for rec in r.by_ref().take(300) {
                upto = rec.seq;
            }
            if upto > 0 {
                r.ack(upto).unwrap();
            }
        }
    }
    unreachable!()
}

#[test]
fn kill9_loses_no_committed_record() {
    if let Ok(dir) = std::env::var(ENV) {
        child(&dir);
    }
    let d = TempDir::new("kill9");
    std::fs::create_dir_all(d.path()).unwrap();
    let mut c = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kill9_loses_no_committed_record",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ENV, d.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(c.stdout.take().unwrap()).lines();
    let mut reported = 0u64;
    let mut commits = 0;
    while commits < 150 {
        let Some(Ok(line)) = lines.next() else {
            panic!("child ended early");
        };
        if let Some(n) = line.strip_prefix("committed ") {
            reported = n.trim().parse().unwrap();
            commits += 1;
        }
    }
    c.kill().unwrap(); // SIGKILL
    c.wait().unwrap();

    let (_w, mut r, rep) = Spool::open(d.path(), config()).unwrap();
    assert!(
        rep.corrupt_records <= 1,
        "at most a torn tail: {:?}",
        rep.warnings
    );
    assert!(rep.next_seq > reported);
    let got = drain(&mut r);
    let first = rep.acked + 1;
    assert!(
        first <= reported,
        "acked {} beyond reported {reported}",
        rep.acked
    );
    let s = seqs(&got);
    assert_eq!(
        s.first(),
        Some(&first),
        "delivery resumes right after the released records"
    );
    assert!(s.windows(2).all(|p| p[0] + 1 == p[1]), "no gaps");
    assert!(
        *s.last().unwrap() >= reported,
        "every reported commit survived"
    );
    for x in &got {
        assert_eq!(
            (x.class, x.payload.as_slice()),
            (2, &(x.seq - 1).to_le_bytes()[..])
        );
    }
}
