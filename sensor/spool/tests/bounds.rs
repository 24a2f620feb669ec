//! Overflow policy (least important class first, oldest first, ALERTs last)
//! and age bound, checked against ground truth the test keeps.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::*;
use vagt_spool::record::record_size;
use vagt_spool::{class, Spool, SpoolConfig, SpoolReader, SpoolWriter};

struct Truth {
    /// seq → (class, bytes on disk)
    appended: BTreeMap<u64, (u8, u64)>,
    delivered: Vec<u64>,
}

impl Truth {
    fn append(&mut self, w: &mut SpoolWriter, class: u8, len: usize) {
        let seq = w
            .append(class, &payload(self.appended.len() as u64, len))
            .unwrap();
        self.appended.insert(seq, (class, record_size(len) as u64));
    }
    fn read(&mut self, r: &mut SpoolReader, n: usize) {
        for rec in r.by_ref().take(n) {
            if let Some(&last) = self.delivered.last() {
                assert!(rec.seq > last, "order: {} after {last}", rec.seq);
            }
            assert_eq!(self.appended[&rec.seq].0, rec.class);
            self.delivered.push(rec.seq);
        }
    }
    /// Replaces `delivered` by one full pass over what is still spooled
    /// (nothing is acked): the survivors. A record read before the policy
    /// dropped it is still dropped from the spool's point of view.
    fn final_pass(&mut self, r: &mut SpoolReader) {
        r.rewind(0);
        self.delivered.clear();
        self.read(r, usize::MAX);
    }
    /// Per class: (records, bytes) appended but not delivered.
    fn missing(&self) -> BTreeMap<u8, (u64, u64)> {
        let got: BTreeSet<u64> = self.delivered.iter().copied().collect();
        let mut m = BTreeMap::new();
        for (seq, (c, b)) in &self.appended {
            if !got.contains(seq) {
                let e = m.entry(*c).or_insert((0, 0));
                e.0 += 1;
                e.1 += b;
            }
        }
        m
    }
    /// Delivered records of a class must be the newest ones of that class:
    /// drops go oldest first.
    fn assert_dropped_oldest_first(&self, class: u8) {
        let got: BTreeSet<u64> = self.delivered.iter().copied().collect();
        let of_class: Vec<u64> = self
            .appended
            .iter()
            .filter(|(_, (c, _))| *c == class)
            .map(|(s, _)| *s)
            .collect();
        let first_kept = of_class.iter().position(|s| got.contains(s));
        if let Some(i) = first_kept {
            assert!(
                of_class[i..].iter().all(|s| got.contains(s)),
                "class {class}: a newer record was dropped while an older one was kept"
            );
        }
    }
}

fn small(max_bytes: u64) -> SpoolConfig {
    SpoolConfig {
        max_bytes,
        ..cfg(4096)
    }
}

#[test]
fn overflow_drops_conn_first_alerts_last_counts_exact() {
    let d = TempDir::new("overflow");
    // ALERT + HEALTH are ~100 KB of the ~520 KB appended: they fit.
    let (mut w, mut r, _) = Spool::open(d.path(), small(160 << 10)).unwrap();
    let mut t = Truth {
        appended: BTreeMap::new(),
        delivered: Vec::new(),
    };
    // Mix: 10 % ALERT, 10 % HEALTH, 10 % ASSET, 20 % APP, 50 % CONN.
    let pattern = [4, 4, 3, 4, 0, 4, 2, 3, 4, 1];
    for i in 0..4000usize {
        t.append(&mut w, pattern[i % 10], 80 + i % 50);
        if i % 20 == 19 {
            w.commit().unwrap();
            // A slow shipper that reads a little and never acks: the reader
            // keeps its place while segments are rewritten under it.
            t.read(&mut r, 2);
        }
    }
    w.commit().unwrap();
    t.read(&mut r, usize::MAX);
    t.final_pass(&mut r);
    let st = w.stats();
    let missing = t.missing();
    for c in 0..=4u8 {
        let m = missing.get(&c).copied().unwrap_or((0, 0));
        let dd = st.dropped_class(c);
        assert_eq!((dd.records, dd.bytes), m, "class {c}");
        t.assert_dropped_oldest_first(c);
    }
    assert!(st.dropped_class(class::CONN).records > 1000, "{st:?}");
    assert_eq!(st.dropped_class(class::ALERT).records, 0, "{st:?}");
    assert_eq!(st.dropped_class(class::HEALTH).records, 0, "{st:?}");
    assert!(st.dropped_class(class::ASSET).records > 0, "{st:?}");
    assert!(st.pending_bytes <= 160 << 10, "{st:?}");
    assert_eq!(st.corrupt_records, 0);
    // Nothing vanished without being counted.
    assert_eq!(
        t.delivered.len() as u64 + st.dropped_records(),
        t.appended.len() as u64
    );
}

#[test]
fn alerts_go_only_when_nothing_else_is_left() {
    let d = TempDir::new("alerts");
    let (mut w, mut r, _) = Spool::open(d.path(), small(16 << 10)).unwrap();
    let mut t = Truth {
        appended: BTreeMap::new(),
        delivered: Vec::new(),
    };
    // Phase 1: mixed; phase 2: an alert storm far beyond the bound.
    for i in 0..200usize {
        t.append(&mut w, [0, 1, 2, 3, 4][i % 5], 100);
        if i % 10 == 9 {
            w.commit().unwrap();
        }
    }
    for i in 0..1000usize {
        t.append(&mut w, class::ALERT, 100);
        if i % 10 == 9 {
            w.commit().unwrap();
        }
    }
    t.final_pass(&mut r);
    let st = w.stats();
    let missing = t.missing();
    for c in 0..=4u8 {
        let m = missing.get(&c).copied().unwrap_or((0, 0));
        let dd = st.dropped_class(c);
        assert_eq!((dd.records, dd.bytes), m, "class {c}");
        t.assert_dropped_oldest_first(c);
    }
    assert!(st.dropped_class(class::ALERT).records > 0);
    // The non-alert records of phase 1 are all gone (they went before any alert).
    for c in 1..=4u8 {
        assert_eq!(st.dropped_class(c).records, 40, "class {c}: {st:?}");
    }
    assert!(st.pending_bytes <= 16 << 10);
}

#[test]
fn ack_overflow_reopen_every_record_is_released_dropped_or_pending() {
    let d = TempDir::new("overflow-reopen");
    let mut t = Truth {
        appended: BTreeMap::new(),
        delivered: Vec::new(),
    };
    let survivors;
    {
        let (mut w, mut r, _) = Spool::open(d.path(), small(32 << 10)).unwrap();
        for i in 0..1500usize {
            t.append(&mut w, (i % 5) as u8, 90);
            if i % 15 == 14 {
                w.commit().unwrap();
            }
            if i % 100 == 99 {
                t.read(&mut r, 30);
                if let Some(&last) = t.delivered.last() {
                    r.ack(last).unwrap();
                }
            }
        }
        w.commit().unwrap();
        t.delivered.clear();
        t.read(&mut r, usize::MAX);
        survivors = t.delivered.clone();
        let st = w.stats();
        assert!(st.dropped_records() > 0 && st.released > 0, "{st:?}");
        assert_eq!(
            st.appended,
            st.released + st.dropped_records() + survivors.len() as u64,
            "{st:?}"
        );
        assert_eq!(st.pending_records, survivors.len() as u64);
        t.assert_dropped_oldest_first(class::CONN);
    }
    let (_w, mut r, rep) = Spool::open(d.path(), small(32 << 10)).unwrap();
    assert_eq!(rep.corrupt_records, 0, "{:?}", rep.warnings);
    assert_eq!(rep.pending_records, survivors.len() as u64);
    assert_eq!(seqs(&drain(&mut r)), survivors);
}

#[test]
fn age_bound_drops_old_segments_and_counts_them() {
    let d = TempDir::new("age");
    let c = SpoolConfig {
        max_age: Duration::from_millis(1500),
        ..cfg(1) // every commit rolls: one segment per batch
    };
    let (mut w, mut r, _) = Spool::open(d.path(), c).unwrap();
    for i in 0..30u64 {
        w.append((i % 5) as u8, &payload(i, 50)).unwrap();
        if i % 10 == 9 {
            w.commit().unwrap();
        }
    }
    std::thread::sleep(Duration::from_millis(1700));
    for i in 30..40u64 {
        w.append(class::ALERT, &payload(i, 50)).unwrap();
    }
    w.commit().unwrap();
    let st = w.stats();
    for c in 0..5u8 {
        assert_eq!(st.dropped_class(c).records, 6, "class {c}: {st:?}");
        assert_eq!(st.dropped_class(c).bytes, 6 * record_size(50) as u64);
    }
    assert_eq!(seqs(&drain(&mut r)), (31..=40).collect::<Vec<_>>());
    let age = st.oldest_pending_age_s.unwrap();
    assert!(age <= 1, "{age}");
}

#[test]
fn age_bound_applies_to_the_active_segment_when_idle() {
    let d = TempDir::new("age-idle");
    let c = SpoolConfig {
        max_age: Duration::from_millis(1000),
        ..cfg(1 << 20)
    };
    let (mut w, mut r, _) = Spool::open(d.path(), c).unwrap();
    for i in 0..10u64 {
        w.append(class::CONN, &payload(i, 50)).unwrap();
    }
    w.commit().unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    w.enforce_bounds().unwrap();
    assert_eq!(w.stats().dropped_class(class::CONN).records, 10);
    assert!(r.next().is_none());
}

#[test]
fn overflow_while_a_reader_thread_ships() {
    let d = TempDir::new("overflow-threads");
    let (mut w, mut r, _) = Spool::open(d.path(), small(48 << 10)).unwrap();
    const N: u64 = 12_000;
    let writer = std::thread::spawn(move || {
        for i in 1..=N {
            w.append((i % 5) as u8, &payload(i, 100)).unwrap();
            if i % 50 == 0 {
                w.commit().unwrap();
            }
        }
        w
    });
    let reader = std::thread::spawn(move || {
        // A shipper slower than the writer: acks every 40th record it sees.
        let mut last = 0;
        let mut seen = 0u64;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            match r.next() {
                Some(rec) => {
                    assert!(rec.seq > last, "order: {} after {last}", rec.seq);
                    assert_eq!(rec.payload, payload(rec.seq, 100));
                    last = rec.seq;
                    seen += 1;
                    if seen.is_multiple_of(40) {
                        r.ack(rec.seq).unwrap();
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
                None if last >= N || std::time::Instant::now() > deadline => break,
                None => std::thread::yield_now(),
            }
        }
        r
    });
    let w = writer.join().unwrap();
    let mut r = reader.join().unwrap();
    let st = w.stats();
    assert_eq!(st.corrupt_records, 0, "{st:?}");
    assert!(st.dropped_records() > 0, "the bound was exercised: {st:?}");
    let rest = drain(&mut r).len() as u64;
    assert_eq!(rest, 0, "the reader thread caught up");
    assert_eq!(
        st.appended,
        st.released + st.dropped_records() + st.pending_records,
        "{st:?}"
    );
    assert!(st.pending_bytes <= 48 << 10);
}
