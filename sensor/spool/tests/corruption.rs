//! Torn tails, flipped bytes, corrupt length fields (resync), and bit rot
//! discovered while running: each is counted, reported, and everything else
//! is delivered.

mod common;

use std::os::unix::fs::FileExt;

use common::*;
use vagt_spool::record::record_size;
use vagt_spool::{class, Spool};

const PAY: usize = 60;

/// One segment with `n` committed records of PAY bytes; returns its path.
fn one_segment(d: &TempDir, n: u64) -> std::path::PathBuf {
    let (mut w, r, _) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
    for i in 1..=n {
        w.append(class::APP, &payload(i, PAY)).unwrap();
    }
    w.commit().unwrap();
    drop((w, r));
    let files = segment_files(d.path());
    files
        .into_iter()
        .find(|f| std::fs::metadata(f).unwrap().len() > 0)
        .unwrap()
}

fn poke(path: &std::path::Path, at: u64, bytes: &[u8]) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, at).unwrap();
}

fn peek(path: &std::path::Path, at: u64) -> u8 {
    let f = std::fs::File::open(path).unwrap();
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, at).unwrap();
    b[0]
}

#[test]
fn torn_tail_detected_counted_rest_delivered() {
    let d = TempDir::new("torn");
    let seg = one_segment(&d, 10);
    let len = std::fs::metadata(&seg).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 7)
        .unwrap();
    let (mut w, mut r, rep) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
    assert_eq!(rep.corrupt_records, 1);
    assert_eq!(rep.corrupt_bytes, record_size(PAY) as u64 - 7);
    assert!(
        rep.warnings.iter().any(|w| w.contains("torn")),
        "{:?}",
        rep.warnings
    );
    assert_eq!(rep.pending_records, 9);
    assert_eq!(seqs(&drain(&mut r)), (1..=9).collect::<Vec<_>>());
    let s = w.append(class::ALERT, b"next").unwrap();
    assert_eq!(s, 11, "numbers never go back below what was handed out");
    w.commit().unwrap();
    assert_eq!(seqs(&drain(&mut r)), vec![11]);
    assert_eq!(
        r.stats().corrupt_records,
        1,
        "not counted again while reading"
    );
    drop((w, r));
    let (_w, mut r, rep) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
    assert_eq!(
        rep.corrupt_records, 0,
        "the torn tail was cut off: {:?}",
        rep.warnings
    );
    assert_eq!(
        seqs(&drain(&mut r)),
        (1..=9).chain([11]).collect::<Vec<_>>()
    );
}

#[test]
fn flipped_byte_mid_segment_skips_only_that_record() {
    let d = TempDir::new("flip");
    let seg = one_segment(&d, 20);
    let rs = record_size(PAY) as u64;
    let at = 9 * rs + 40; // inside record 10's payload
    poke(&seg, at, &[peek(&seg, at) ^ 0x10]);
    let (_w, mut r, rep) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
    assert_eq!(rep.corrupt_records, 1, "{:?}", rep.warnings);
    assert_eq!(rep.corrupt_bytes, rs);
    let want: Vec<u64> = (1..=20).filter(|&s| s != 10).collect();
    let got = drain(&mut r);
    assert_eq!(seqs(&got), want);
    for rec in &got {
        assert_eq!(rec.payload, payload(rec.seq, PAY));
    }
}

#[test]
fn corrupt_length_field_resyncs() {
    for bad_len in [0x00ff_ffffu32, 0xffff_ffff, 3] {
        let d = TempDir::new("len");
        let seg = one_segment(&d, 20);
        let rs = record_size(PAY) as u64;
        poke(&seg, 4 * rs + 2, &bad_len.to_le_bytes()); // record 5's length
        let (_w, mut r, rep) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
        assert_eq!(
            rep.corrupt_records, 1,
            "len {bad_len:#x}: {:?}",
            rep.warnings
        );
        let want: Vec<u64> = (1..=20).filter(|&s| s != 5).collect();
        assert_eq!(seqs(&drain(&mut r)), want, "len {bad_len:#x}");
    }
}

#[test]
fn damage_in_an_older_segment_does_not_hide_later_segments() {
    let d = TempDir::new("multi");
    {
        let (mut w, _r, _) = Spool::open(d.path(), cfg(500)).unwrap();
        for i in 1..=40 {
            w.append(class::CONN, &payload(i, PAY)).unwrap();
            if i % 4 == 0 {
                w.commit().unwrap();
            }
        }
    }
    let files: Vec<_> = segment_files(d.path())
        .into_iter()
        .filter(|f| std::fs::metadata(f).unwrap().len() > 0)
        .collect();
    assert!(files.len() >= 4);
    // Garble the start of the second segment (its first record's magic).
    poke(&files[1], 0, &[0, 0]);
    let (_w, mut r, rep) = Spool::open(d.path(), cfg(500)).unwrap();
    assert_eq!(rep.corrupt_records, 1);
    let got = seqs(&drain(&mut r));
    assert_eq!(got.len(), 39);
    assert_eq!(got.last(), Some(&40));
}

#[test]
fn bit_rot_while_running_is_counted_once_and_skipped() {
    let d = TempDir::new("rot");
    let (mut w, mut r, _) = Spool::open(d.path(), cfg(1 << 20)).unwrap();
    for i in 1..=10 {
        w.append(class::ALERT, &payload(i, PAY)).unwrap();
    }
    w.commit().unwrap();
    let seg = segment_files(d.path())
        .into_iter()
        .find(|f| std::fs::metadata(f).unwrap().len() > 0)
        .unwrap();
    let rs = record_size(PAY) as u64;
    let at = 6 * rs + 30; // record 7
    poke(&seg, at, &[peek(&seg, at) ^ 1]);
    let want: Vec<u64> = (1..=10).filter(|&s| s != 7).collect();
    assert_eq!(seqs(&drain(&mut r)), want);
    let st = r.stats();
    assert_eq!(st.corrupt_records, 1);
    assert!(
        st.last_error.as_deref().unwrap_or("").contains("record 7"),
        "{st:?}"
    );
    r.rewind(1);
    assert_eq!(seqs(&drain(&mut r)), want);
    let st = r.stats();
    assert_eq!(st.corrupt_records, 1, "not counted twice");
    assert_eq!(st.pending_records, 9);
}
