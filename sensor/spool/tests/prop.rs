//! Property: under random sequences of append / commit / read / ack / rewind
//! / reopen (clean, or a crash that loses uncommitted records), every
//! committed record with seq > acked is read exactly once per pass, in
//! order, with its payload; numbering only goes up; nothing is dropped when
//! the bounds are not reached.

mod common;

use common::*;
use proptest::prelude::*;
use vagt_spool::{Spool, SpoolConfig, SpoolReader, SpoolWriter};

#[derive(Debug, Clone)]
enum Op {
    Append { class: u8, len: usize },
    Commit,
    Read(usize),
    AckLastRead,
    Rewind(u64),
    Reopen { crash: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..5, 0usize..120).prop_map(|(class, len)| Op::Append { class, len }),
        3 => Just(Op::Commit),
        3 => (1usize..20).prop_map(Op::Read),
        2 => Just(Op::AckLastRead),
        1 => (0u64..80).prop_map(Op::Rewind),
        1 => any::<bool>().prop_map(|crash| Op::Reopen { crash }),
    ]
}

struct Model {
    committed: Vec<(u64, u8, Vec<u8>)>,
    staged: Vec<(u64, u8, Vec<u8>)>,
    acked: u64,
    pos: u64,
    last_read: Option<u64>,
    highest_seq: u64,
}

impl Model {
    fn expect_next(&self) -> Option<&(u64, u8, Vec<u8>)> {
        self.committed.iter().find(|(s, _, _)| *s >= self.pos)
    }
}

fn config() -> SpoolConfig {
    SpoolConfig {
        // Crashes are simulated by leaking the writer and reader, which
        // would keep the directory lock.
        lock: false,
        ..cfg(300) // small segments: many rolls and deletions
    }
}

fn run(ops: Vec<Op>) {
    let d = TempDir::new("prop");
    let open = || -> (SpoolWriter, SpoolReader) {
        let (w, r, rep) = Spool::open(d.path(), config()).unwrap();
        assert_eq!(rep.corrupt_records, 0, "{:?}", rep.warnings);
        (w, r)
    };
    let (mut w, mut r) = open();
    let mut m = Model {
        committed: Vec::new(),
        staged: Vec::new(),
        acked: 0,
        pos: 1,
        last_read: None,
        highest_seq: 0,
    };
    for op in ops {
        match op {
            Op::Append { class, len } => {
                let p = payload(m.highest_seq + 7, len);
                let seq = w.append(class, &p).unwrap();
                // Above everything committed; numbers of uncommitted records
                // lost in a crash may come back (nobody saw them).
                let floor = m.committed.last().map_or(m.acked, |c| c.0.max(m.acked));
                assert!(seq > floor, "seq {seq} not above {floor}");
                m.highest_seq = m.highest_seq.max(seq);
                m.staged.push((seq, class, p));
            }
            Op::Commit => {
                w.commit().unwrap();
                m.committed.append(&mut m.staged);
            }
            Op::Read(n) => {
                for _ in 0..n {
                    let want = m.expect_next().cloned();
                    let got = r.next();
                    match (&want, &got) {
                        (None, None) => break,
                        (Some((s, c, p)), Some(rec)) => {
                            assert_eq!((rec.seq, rec.class, &rec.payload), (*s, *c, p));
                            m.pos = s + 1;
                            m.last_read = Some(*s);
                        }
                        _ => panic!(
                            "wanted {:?}, got {:?}",
                            want.map(|x| x.0),
                            got.map(|x| x.seq)
                        ),
                    }
                }
            }
            Op::AckLastRead => {
                if let Some(s) = m.last_read {
                    r.ack(s).unwrap();
                    m.acked = m.acked.max(s);
                    m.pos = m.pos.max(m.acked + 1);
                }
            }
            Op::Rewind(back) => {
                let to = m.pos.saturating_sub(back);
                r.rewind(to);
                m.pos = to.max(m.acked + 1);
            }
            Op::Reopen { crash } => {
                if crash {
                    // kill -9: no commit, no cursor write at drop.
                    std::mem::forget(w);
                    std::mem::forget(r);
                } else {
                    drop((w, r));
                }
                m.staged.clear();
                (w, r) = open();
                let acked_now = r.acked();
                if crash {
                    // The cursor may lag (written at most once a second):
                    // released records may come again, never fewer.
                    assert!(acked_now <= m.acked);
                    m.acked = acked_now;
                } else {
                    assert_eq!(acked_now, m.acked);
                }
                m.pos = m.acked + 1;
                m.last_read = None;
            }
        }
        let st = w.stats();
        let pending = m.committed.iter().filter(|c| c.0 > m.acked).count() as u64;
        assert_eq!(st.pending_records, pending);
        assert_eq!(st.dropped_records(), 0);
        assert_eq!(st.corrupt_records, 0);
    }
    // A final pass delivers exactly what is pending.
    r.rewind(0);
    let want: Vec<u64> = m
        .committed
        .iter()
        .map(|c| c.0)
        .filter(|&s| s > m.acked)
        .collect();
    assert_eq!(seqs(&drain(&mut r)), want);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn every_committed_record_read_once_per_pass_in_order(ops in prop::collection::vec(op(), 1..80)) {
        run(ops);
    }
}

/// With a tiny `max_bytes` the overflow policy runs all the time. Then: every
/// pass is in order and only yields committed records with their payloads;
/// records a pass skips are accounted as dropped; and per session, pending at
/// open + appended = released + dropped + pending at the end.
/// Returns the records dropped over all sessions.
fn run_with_overflow(ops: Vec<Op>) -> u64 {
    let d = TempDir::new("prop-overflow");
    let conf = SpoolConfig {
        max_bytes: 2048,
        ..cfg(300)
    };
    let committed =
        std::cell::RefCell::new(std::collections::BTreeMap::<u64, (u8, Vec<u8>)>::new());
    let mut staged: Vec<(u64, u8, Vec<u8>)> = Vec::new();
    let (mut w, mut r, rep) = Spool::open(d.path(), conf.clone()).unwrap();
    let mut start_pending = rep.pending_records;
    let mut last_read: Option<u64> = None;
    let mut n = 0u64;
    let mut dropped = 0;
    let check_session = |w: &SpoolWriter, r: &mut SpoolReader, start_pending: u64| {
        let st = w.stats();
        assert_eq!(st.corrupt_records, 0);
        assert_eq!(
            start_pending + st.appended,
            st.released + st.dropped_records() + st.pending_records,
            "{st:?}"
        );
        let pos = r.read_position();
        r.rewind(0);
        let pass = drain(r);
        assert_eq!(pass.len() as u64, st.pending_records);
        let c = committed.borrow();
        for rec in &pass {
            assert_eq!(c.get(&rec.seq), Some(&(rec.class, rec.payload.clone())));
        }
        assert!(seqs(&pass).windows(2).all(|p| p[0] < p[1]));
        r.rewind(pos);
        st.dropped_records()
    };
    for op in ops {
        match op {
            Op::Append { class, len } => {
                n += 1;
                let p = payload(n, len);
                let seq = w.append(class, &p).unwrap();
                staged.push((seq, class, p));
            }
            Op::Commit => {
                w.commit().unwrap();
                let mut c = committed.borrow_mut();
                for (s, cl, p) in staged.drain(..) {
                    c.insert(s, (cl, p));
                }
            }
            Op::Read(k) => {
                for rec in r.by_ref().take(k) {
                    if let Some(l) = last_read {
                        assert!(rec.seq > l, "order: {} after {l}", rec.seq);
                    }
                    assert_eq!(
                        committed.borrow().get(&rec.seq),
                        Some(&(rec.class, rec.payload.clone()))
                    );
                    last_read = Some(rec.seq);
                }
            }
            Op::AckLastRead => {
                if let Some(s) = last_read {
                    r.ack(s).unwrap();
                }
            }
            Op::Rewind(back) => {
                r.rewind(r.read_position().saturating_sub(back));
                last_read = None;
            }
            Op::Reopen { .. } => {
                dropped += check_session(&w, &mut r, start_pending);
                drop((w, r));
                staged.clear();
                let (w2, r2, rep) = Spool::open(d.path(), conf.clone()).unwrap();
                (w, r) = (w2, r2);
                start_pending = rep.pending_records;
                last_read = None;
            }
        }
        assert!(w.stats().pending_bytes <= conf.max_bytes + 4096);
    }
    dropped + check_session(&w, &mut r, start_pending)
}

#[test]
fn overflow_model_really_overflows() {
    let mut ops = Vec::new();
    for i in 0..200 {
        ops.push(Op::Append {
            class: (i % 5) as u8,
            len: 100,
        });
        if i % 7 == 6 {
            ops.push(Op::Commit);
            ops.push(Op::Read(3));
        }
        if i % 50 == 49 {
            ops.push(Op::AckLastRead);
            ops.push(Op::Reopen { crash: false });
        }
    }
    assert!(run_with_overflow(ops) > 100);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn overflow_keeps_order_and_accounts_for_every_record(ops in prop::collection::vec(op(), 1..120)) {
        let _ = run_with_overflow(ops);
    }
}
