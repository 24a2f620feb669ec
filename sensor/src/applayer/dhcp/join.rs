//! The writer thread's side of the DHCP join: what every worker sends, in
//! the order it arrives, turned into the records one worker reading the
//! whole capture would write.
//!
//! Workers send each DHCP message they read and, at their timer sweeps,
//! their packet time ([`Emitted::Clock`]). Messages from several workers
//! arrive interleaved by batch, not by time, so they wait here until every
//! worker's time has passed theirs and then enter the [`Aggregator`] in
//! time order; its expiry runs on the slowest worker's time, so no check
//! runs before a message it should have seen. (A worker's clock lags its
//! packets by the sweep lag, so once every clock is past a time, every
//! message before it has arrived.) With one worker messages arrive in
//! order and go straight in.

use super::aggregate::Aggregator;
use super::{Settings, Sighting};
use crate::flow::Emitted;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Messages waiting for the slower workers at most; beyond that the
/// earliest goes in at once (a flood must not grow memory).
const MAX_WAITING: usize = 65_536;

/// A message waiting, ordered by time and then arrival.
struct Waiting {
    ts: i64,
    seq: u64,
    sighting: Box<Sighting>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.ts, self.seq) == (other.ts, other.seq)
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.ts, self.seq).cmp(&(other.ts, other.seq))
    }
}

/// Turns the DHCP messages and clocks workers emit into `dhcp` records.
pub struct Join {
    agg: Aggregator,
    /// Each worker's latest packet time (`i64::MIN` until it sent one).
    clocks: Vec<i64>,
    /// The slowest worker's time, the join's own.
    now: i64,
    /// Messages not yet past every worker's time, earliest first.
    waiting: BinaryHeap<Reverse<Waiting>>,
    /// Messages that arrived, to keep arrival order among equal times.
    arrived: u64,
}

impl Join {
    /// A join of what `workers` workers send.
    pub fn new(settings: Settings, workers: usize) -> Join {
        Join {
            agg: Aggregator::new(settings),
            clocks: vec![i64::MIN; workers.clamp(1, usize::from(u16::MAX))],
            now: i64::MIN,
            waiting: BinaryHeap::new(),
            arrived: 0,
        }
    }

    /// One emitted item: a DHCP message is joined and a clock runs the
    /// expiry (what they complete goes to `out`); anything else goes to
    /// `out` as it is.
    /// One emitted item, looked at where it lies (the writer gives the
    /// vector back to its worker): a DHCP message is joined and a clock
    /// runs the expiry, what they complete going to `out`; anything else
    /// is not the join's.
    pub fn take(&mut self, e: &Emitted, out: &mut Vec<Emitted>) {
        match e {
            Emitted::Dhcp(d) => self.message(d, out),
            &Emitted::Clock { worker, now } => self.clock(usize::from(worker), now, out),
            _ => {}
        }
    }

    /// Joins one message, at once with one worker, else once every worker
    /// is past its time.
    pub fn message(&mut self, d: &Sighting, out: &mut Vec<Emitted>) {
        if self.clocks.len() == 1 {
            self.agg.message(d.ts, &d.conn, d.is_orig, &d.message, out);
            return;
        }
        self.arrived += 1;
        self.waiting.push(Reverse(Waiting {
            ts: d.ts,
            seq: self.arrived,
            sighting: Box::new(d.clone()),
        }));
        if self.waiting.len() > MAX_WAITING {
            self.release(i64::MAX, 1, out);
        }
    }

    /// Worker `worker` reached packet time `now`.
    fn clock(&mut self, worker: usize, now: i64, out: &mut Vec<Emitted>) {
        let Some(c) = self.clocks.get_mut(worker) else {
            return;
        };
        *c = now;
        let slowest = self.clocks.iter().copied().min().unwrap_or(i64::MIN);
        if slowest == i64::MIN {
            return;
        }
        // Time that went back further than the workers' sweeps lag is
        // another capture (the rule of the workers' own clock): what is
        // open is written, as the workers' tables write their connections.
        if self.now != i64::MIN
            && slowest < self.now.saturating_sub(crate::flow::tracker::SWEEP_LAG_NS)
        {
            self.release(i64::MAX, usize::MAX, out);
            self.agg.flush(out);
        }
        self.now = slowest;
        self.release(slowest, usize::MAX, out);
        self.agg.tick(slowest, out);
    }

    /// Lets at most `n` waiting messages of time `until` or earlier into
    /// the aggregator, in time order.
    fn release(&mut self, until: i64, n: usize, out: &mut Vec<Emitted>) {
        for _ in 0..n {
            match self.waiting.peek() {
                Some(Reverse(w)) if w.ts <= until => {}
                _ => break,
            }
            let Some(Reverse(w)) = self.waiting.pop() else {
                break;
            };
            let d = &w.sighting;
            self.agg.message(d.ts, &d.conn, d.is_orig, &d.message, out);
        }
    }

    /// Writes everything waiting and open (the end of input).
    pub fn finish(&mut self, out: &mut Vec<Emitted>) {
        self.release(i64::MAX, usize::MAX, out);
        self.agg.flush(out);
    }

    /// What a writer would make of one worker's `events`, in order, the
    /// join finished: for the tests and tools that run parsers outside a
    /// pipeline.
    pub fn all(settings: Settings, events: Vec<Emitted>) -> Vec<Emitted> {
        let mut join = Join::new(settings, 1);
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            match e {
                Emitted::Dhcp(_) | Emitted::Clock { .. } => join.take(&e, &mut out),
                other => out.push(other),
            }
        }
        join.finish(&mut out);
        out
    }
}
