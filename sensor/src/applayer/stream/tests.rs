//! Reassembly against a reference: random segmentations, reorderings and
//! retransmissions of a known stream must deliver exactly that stream.

use super::*;

fn limits() -> Limits {
    Limits {
        depth: u64::MAX,
        max_held: 1 << 20,
    }
}

struct Run {
    stream: Stream,
    budget: Budget,
    stats: StreamStats,
    out: Vec<u8>,
    gaps: Vec<u64>,
    limits: Limits,
}

impl Run {
    fn new(limits: Limits) -> Run {
        Run {
            stream: Stream::default(),
            budget: Budget {
                cap: 1 << 30,
                ..Budget::default()
            },
            stats: StreamStats::default(),
            out: Vec::new(),
            gaps: Vec::new(),
            limits,
        }
    }

    fn seg(&mut self, seq: u32, syn: bool, data: &[u8]) {
        let (out, gaps) = (&mut self.out, &mut self.gaps);
        self.stream.segment(
            seq,
            syn,
            data,
            &self.limits,
            &mut self.budget,
            &mut self.stats,
            &mut |c| {
                match c {
                    Chunk::Data(d) => out.extend_from_slice(d),
                    Chunk::Gap(n) => gaps.push(n),
                }
                true
            },
        );
    }

    fn ack(&mut self, ack: u32) {
        let (out, gaps) = (&mut self.out, &mut self.gaps);
        self.stream.ack(
            ack,
            &self.limits,
            &mut self.budget,
            &mut self.stats,
            &mut |c| {
                match c {
                    Chunk::Data(d) => out.extend_from_slice(d),
                    Chunk::Gap(n) => gaps.push(n),
                }
                true
            },
        );
    }

    fn finish(&mut self) {
        let (out, gaps) = (&mut self.out, &mut self.gaps);
        self.stream
            .finish(&self.limits, &mut self.budget, &mut self.stats, &mut |c| {
                match c {
                    Chunk::Data(d) => out.extend_from_slice(d),
                    Chunk::Gap(n) => gaps.push(n),
                }
                true
            });
    }
}

#[test]
fn in_order_segments_pass_through() {
    let mut r = Run::new(limits());
    r.seg(1000, true, b"");
    r.seg(1001, false, b"hello ");
    r.seg(1007, false, b"world");
    assert_eq!(r.out, b"hello world");
    assert_eq!(r.budget.used, 0);
}

#[test]
fn reordered_retransmitted_and_overlapping_segments_deliver_once() {
    let mut r = Run::new(limits());
    r.seg(0xffff_fffe, false, b"ab"); // wraps around zero
    r.seg(4, false, b"gh"); // ahead of a hole
    r.seg(0, false, b"cd"); // fills part of it
    r.seg(0xffff_fffe, false, b"ab"); // retransmission
    r.seg(1, false, b"dEf"); // overlap: the first copy of "d" wins
    assert_eq!(r.out, b"abcdEfgh");
    assert_eq!(r.stats.retransmitted, 1);
    assert_eq!(r.budget.used, 0);
}

#[test]
fn a_hole_acknowledged_by_the_peer_becomes_a_gap() {
    let mut r = Run::new(limits());
    r.seg(100, false, b"0123");
    r.seg(110, false, b"abcd");
    assert_eq!(r.out, b"0123");
    r.ack(112);
    assert_eq!(r.gaps, vec![6]);
    assert_eq!(r.out, b"0123abcd");
    r.seg(114, false, b"ef");
    assert_eq!(r.out, b"0123abcdef");
}

#[test]
fn holes_left_at_the_end_are_gaps() {
    let mut r = Run::new(limits());
    r.seg(0, false, b"a");
    r.seg(5, false, b"b");
    r.seg(9, false, b"c");
    r.finish();
    assert_eq!(r.out, b"abc");
    assert_eq!(r.gaps, vec![4, 3]);
    assert_eq!(r.budget.used, 0);
}

#[test]
fn depth_cuts_delivery_and_caps_bound_memory() {
    let mut r = Run::new(Limits {
        depth: 5,
        max_held: 8,
    });
    r.seg(0, false, b"abc");
    r.seg(3, false, b"defg");
    assert_eq!(r.out, b"abcde");
    assert!(r.stream.closed);
    let mut r = Run::new(Limits {
        depth: u64::MAX,
        max_held: 8,
    });
    r.seg(0, false, b"a");
    for i in 0..10u32 {
        r.seg(10 + i * 10, false, b"xxxx");
        assert!(r.stream.held_bytes() <= 8);
    }
    r.finish();
    assert_eq!(r.budget.used, 0);
}

#[test]
fn random_segmentations_reassemble_the_stream() {
    // A seeded generator, so a failure can be replayed.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n.max(1)
    };
    for _ in 0..300 {
        let len = 1 + rnd(3000) as usize;
        let data: Vec<u8> = (0..len).map(|_| rnd(256) as u8).collect();
        let isn = rnd(u64::from(u32::MAX)) as u32;
        let mut segs = Vec::new();
        let mut at = 0usize;
        while at < len {
            let n = (1 + rnd(200) as usize).min(len - at);
            segs.push((at, n));
            at += n;
        }
        // Shuffle locally and duplicate some.
        for i in 0..segs.len() {
            let j = (i + rnd(4) as usize).min(segs.len() - 1);
            segs.swap(i, j);
        }
        let extra: Vec<_> = segs.iter().filter(|_| rnd(5) == 0).copied().collect();
        segs.extend(extra);
        let mut r = Run::new(limits());
        r.seg(isn, true, b"");
        for (at, n) in segs {
            r.seg(isn.wrapping_add(1 + at as u32), false, &data[at..at + n]);
        }
        r.finish();
        assert_eq!(r.out, data);
        assert!(r.gaps.is_empty());
        assert_eq!(r.budget.used, 0);
    }
}

#[test]
fn a_flood_of_out_of_order_streams_stays_under_the_worker_cap() {
    // 20,000 streams, each sent only segments past a hole at its start
    // (half-open and out-of-order, as a flood would), against a worker
    // cap of 4 MiB and a per-stream cap of 64 KiB.
    let limits = Limits {
        depth: 1 << 20,
        max_held: 64 << 10,
    };
    let mut budget = Budget {
        cap: 4 << 20,
        ..Budget::default()
    };
    let mut stats = StreamStats::default();
    let mut streams: Vec<Stream> = (0..20_000).map(|_| Stream::default()).collect();
    let seg = [0x55u8; 1000];
    for round in 0..8u32 {
        for s in streams.iter_mut() {
            s.segment(0, true, &[], &limits, &mut budget, &mut stats, &mut |_| {
                true
            });
            let seq = 1 + 5000 + round * 1000;
            s.segment(
                seq,
                false,
                &seg,
                &limits,
                &mut budget,
                &mut stats,
                &mut |_| true,
            );
            assert!(budget.used <= budget.cap);
        }
    }
    eprintln!(
        "reassembly flood: peak {} bytes held (cap {}), {} segments held, {} dropped at a cap; Stream is {} bytes",
        budget.peak,
        budget.cap,
        stats.out_of_order,
        budget.dropped_segments,
        std::mem::size_of::<Stream>()
    );
    assert!(budget.peak <= budget.cap);
    assert_eq!(stats.out_of_order + budget.dropped_segments, 8 * 20_000);
    assert!(budget.dropped_segments > 0, "the flood must reach the cap");
    for s in streams.iter_mut() {
        s.finish(&limits, &mut budget, &mut stats, &mut |_| true);
    }
    assert_eq!(budget.used, 0, "every byte given back");
}
