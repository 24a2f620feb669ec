//! Append, commit, read, ack, reopen, rewind, crash without commit, cursor
//! damage, IO errors, two threads.

mod common;

use common::*;
use vagt_spool::{class, FsyncPolicy, Spool, SpoolConfig};

#[test]
fn append_commit_read_ack_reopen() {
    let d = TempDir::new("basic");
    let (mut w, mut r, rep) = Spool::open(d.path(), cfg(1000)).unwrap();
    assert_eq!((rep.next_seq, rep.acked, rep.pending_records), (1, 0, 0));
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    for i in 1..=100u64 {
        assert_eq!(w.append((i % 5) as u8, &payload(i, 50)).unwrap(), i);
        if i % 10 == 0 {
            w.commit().unwrap();
        }
    }
    let segs_before = segment_files(d.path()).len();
    assert!(segs_before > 3, "{segs_before} segments");
    let got = drain(&mut r);
    assert_eq!(seqs(&got), (1..=100).collect::<Vec<_>>());
    for rec in &got {
        assert_eq!(rec.payload, payload(rec.seq, 50));
        assert_eq!(rec.class, (rec.seq % 5) as u8);
    }
    let st = w.stats();
    let rs = vagt_spool::record::record_size(50) as u64;
    assert_eq!(st.oldest_pending_age_s, Some(0));
    assert_eq!(st.segments, segs_before as u64);
    assert_eq!((st.next_seq, st.pending_bytes), (101, 100 * rs));
    r.ack(60).unwrap();
    let st = r.stats();
    assert_eq!((st.acked, st.pending_bytes), (60, 40 * rs));
    assert_eq!(
        (st.pending_records, st.released, st.appended),
        (40, 60, 100)
    );
    assert!(
        segment_files(d.path()).len() < segs_before,
        "released segments deleted"
    );
    drop((w, r));

    let (mut w, mut r, rep) = Spool::open(d.path(), cfg(1000)).unwrap();
    assert_eq!(
        (rep.next_seq, rep.acked, rep.pending_records),
        (101, 60, 40)
    );
    assert_eq!(seqs(&drain(&mut r)), (61..=100).collect::<Vec<_>>());
    assert_eq!(w.append(class::ALERT, b"x").unwrap(), 101);
    w.commit().unwrap();
    assert_eq!(seqs(&drain(&mut r)), vec![101]);
}

#[test]
fn numbering_survives_release_of_everything() {
    let d = TempDir::new("allreleased");
    {
        let (mut w, mut r, _) = Spool::open(d.path(), cfg(200)).unwrap();
        for i in 0..50 {
            w.append(class::CONN, &payload(i, 30)).unwrap();
            w.commit().unwrap();
        }
        assert_eq!(drain(&mut r).len(), 50);
        r.ack(50).unwrap();
        r.close().unwrap();
    }
    // Only the (empty or fully released) active segment may remain; delete
    // every segment to be sure numbering comes from the cursor alone.
    for f in segment_files(d.path()) {
        std::fs::remove_file(f).unwrap();
    }
    let (mut w, mut r, rep) = Spool::open(d.path(), cfg(200)).unwrap();
    assert_eq!((rep.next_seq, rep.acked, rep.pending_records), (51, 50, 0));
    assert_eq!(w.append(class::ALERT, b"after").unwrap(), 51);
    w.commit().unwrap();
    assert_eq!(seqs(&drain(&mut r)), vec![51]);
}

#[test]
fn uncommitted_records_vanish_committed_survive() {
    let d = TempDir::new("crash");
    // Leaking the writer simulates kill -9 but would keep the flock.
    let c = SpoolConfig {
        lock: false,
        ..cfg(1 << 20)
    };
    {
        let (mut w, _r, _) = Spool::open(d.path(), c.clone()).unwrap();
        for i in 0..10 {
            w.append(class::ASSET, &payload(i, 20)).unwrap();
        }
        w.commit().unwrap();
        for i in 10..15 {
            w.append(class::ASSET, &payload(i, 20)).unwrap();
        }
        // No commit: like kill -9 between append and commit.
        std::mem::forget(w);
    }
    let (mut w, mut r, rep) = Spool::open(d.path(), c).unwrap();
    assert_eq!(rep.pending_records, 10);
    assert_eq!(rep.corrupt_records, 0);
    assert_eq!(seqs(&drain(&mut r)), (1..=10).collect::<Vec<_>>());
    // Numbers of lost uncommitted records may be reused: nobody saw them.
    let s = w.append(class::ALERT, b"x").unwrap();
    assert!(s > 10);
}

#[test]
fn dropping_the_writer_discards_uncommitted_records() {
    let d = TempDir::new("dropw");
    {
        let (mut w, _r, _) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
        w.append(class::ALERT, b"kept").unwrap();
        w.commit().unwrap();
        w.append(class::ALERT, b"never committed").unwrap();
    }
    let (_w, mut r, rep) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
    assert_eq!((rep.pending_records, rep.corrupt_records), (1, 0));
    let got = drain(&mut r);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload, b"kept");
}

#[test]
fn reader_sees_only_committed_records() {
    let d = TempDir::new("visibility");
    let (mut w, mut r, _) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
    w.append(class::APP, b"a").unwrap();
    assert!(r.next().is_none());
    w.commit().unwrap();
    assert_eq!(r.next().map(|x| x.seq), Some(1));
    assert!(r.next().is_none());
}

#[test]
fn rewind_redelivers_from_seq_but_not_released() {
    let d = TempDir::new("rewind");
    let (mut w, mut r, _) = Spool::open(d.path(), cfg(300)).unwrap();
    for i in 0..30 {
        w.append(class::HEALTH, &payload(i, 40)).unwrap();
        if i % 3 == 2 {
            w.commit().unwrap();
        }
    }
    assert_eq!(drain(&mut r).len(), 30);
    r.rewind(12);
    assert_eq!(seqs(&drain(&mut r)), (12..=30).collect::<Vec<_>>());
    r.ack(20).unwrap();
    r.rewind(5); // below acked: starts after it
    assert_eq!(seqs(&drain(&mut r)), (21..=30).collect::<Vec<_>>());
    // Ack in the past is ignored.
    r.ack(3).unwrap();
    assert_eq!(r.acked(), 20);
}

#[test]
fn bad_cursor_is_reported_and_segments_recover() {
    let d = TempDir::new("badcursor");
    {
        let (mut w, mut r, _) = Spool::open(d.path(), cfg(400)).unwrap();
        for i in 0..40 {
            w.append(class::CONN, &payload(i, 30)).unwrap();
            w.commit().unwrap();
        }
        drain(&mut r);
        r.ack(25).unwrap();
        r.close().unwrap();
    }
    std::fs::write(d.path().join("cursor"), b"garbage").unwrap();
    let (mut w, mut r, rep) = Spool::open(d.path(), cfg(400)).unwrap();
    assert!(
        rep.warnings.iter().any(|w| w.contains("cursor unusable")),
        "{:?}",
        rep.warnings
    );
    assert_eq!(rep.next_seq, 41, "numbering continues from the segments");
    let got = seqs(&drain(&mut r));
    // At-least-once: everything still on disk is redelivered, in order.
    assert_eq!(got.last(), Some(&40));
    assert!(got[0] <= 26);
    assert!(got.windows(2).all(|p| p[0] + 1 == p[1]));
    assert_eq!(w.append(class::ALERT, b"x").unwrap(), 41);
}

#[test]
fn directory_under_a_file_gives_clear_error() {
    let d = TempDir::new("ioerr");
    std::fs::create_dir_all(d.path()).unwrap();
    let file = d.path().join("plainfile");
    std::fs::write(&file, b"x").unwrap();
    let bad = file.join("spool");
    let err = match Spool::open(&bad, SpoolConfig::default()) {
        Err(e) => e,
        Ok(_) => panic!("opened a spool under a file"),
    };
    let msg = err.to_string();
    assert!(msg.contains("create spool directory"), "{msg}");
    assert!(msg.contains(&bad.display().to_string()), "{msg}");
}

#[test]
fn second_open_of_the_same_spool_is_refused() {
    let d = TempDir::new("lock");
    let (w, r, _) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
    let msg = match Spool::open(d.path(), cfg(1 << 20)) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("two spools on one directory"),
    };
    assert!(msg.contains("another process"), "{msg}");
    drop(w);
    assert!(
        Spool::open(d.path(), cfg(1 << 20)).is_err(),
        "the reader still holds it"
    );
    drop(r);
    Spool::open(d.path(), cfg(1 << 20)).unwrap();
}

#[test]
fn bad_config_is_rejected() {
    let d = TempDir::new("badcfg");
    let c = SpoolConfig {
        segment_bytes: 0,
        ..SpoolConfig::default()
    };
    assert!(Spool::open(d.path(), c).is_err());
}

#[test]
fn too_large_payload_is_refused_writer_continues() {
    let d = TempDir::new("toolarge");
    let (mut w, mut r, _) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
    let big = vec![0u8; vagt_spool::MAX_PAYLOAD + 1];
    assert!(w.append(class::APP, &big).is_err());
    w.append(class::APP, b"ok").unwrap();
    w.commit().unwrap();
    assert_eq!(drain(&mut r).len(), 1);
}

#[test]
fn writer_and_reader_on_two_threads() {
    let d = TempDir::new("threads");
    let c = SpoolConfig {
        segment_bytes: 64 << 10,
        fsync: FsyncPolicy::Batch,
        ..SpoolConfig::default()
    };
    let (mut w, mut r, _) = Spool::open(d.path(), c).unwrap();
    const N: u64 = 20_000;
    let writer = std::thread::spawn(move || {
        for i in 1..=N {
            w.append((i % 5) as u8, &payload(i, 100)).unwrap();
            if i % 250 == 0 {
                w.commit().unwrap();
            }
        }
        w
    });
    let reader = std::thread::spawn(move || {
        let mut next = 1;
        let start = std::time::Instant::now();
        while next <= N {
            match r.next() {
                Some(rec) => {
                    assert_eq!(rec.seq, next);
                    assert_eq!(rec.payload, payload(next, 100));
                    next += 1;
                    if next % 100 == 0 {
                        r.ack(rec.seq).unwrap();
                    }
                }
                None => {
                    assert!(start.elapsed().as_secs() < 60, "reader stalled at {next}");
                    std::thread::yield_now();
                }
            }
        }
        r.ack(N).unwrap();
        r
    });
    let w = writer.join().unwrap();
    let r = reader.join().unwrap();
    let st = w.stats();
    assert_eq!((st.appended, st.released, st.pending_records), (N, N, 0));
    assert_eq!(st.corrupt_records, 0);
    drop((w, r));
    assert!(segment_files(d.path()).len() <= 2);
}
