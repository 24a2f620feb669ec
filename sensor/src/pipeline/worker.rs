//! What every worker does, however packets reach it: run each packet
//! through its own [`Tracker`], pass finished connections to the writer in
//! pooled vectors, and publish counters for live statistics. A worker
//! shares nothing mutable with other workers.
//!
//! [`Queued`] takes batches from the reader's queue; the lane worker in
//! `lanes` reads its own source.

use super::ahead::Prefetcher;
use super::batch::Batch;
use super::writer::ToWriter;
use crate::capture::{KernelStats, LOOKAHEAD};
use crate::decode::{DecodeCounters, DecodeError, Decoded};
use crate::flow::{Emitted, TableStats, Tracker};
use crossbeam_queue::ArrayQueue;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Finished connections a worker holds before it waits for the writer.
pub(super) const SHIP_AT: usize = 4096;

/// Counters a worker publishes as it goes, for live statistics.
pub struct WorkerShared {
    pub decoded: [AtomicU64; Decoded::COUNT],
    pub errors: [AtomicU64; DecodeError::COUNT],
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    pub created: AtomicU64,
    pub evicted: AtomicU64,
    pub active: AtomicU64,
    /// Kernel counters of the worker's own capture ring, if it has one.
    pub kernel_received: AtomicU64,
    pub kernel_dropped: AtomicU64,
    pub kernel_if_dropped: AtomicU64,
    pub kernel_known: AtomicBool,
    /// What the parsers could not read, by reason, and the total it was
    /// last published at (it is copied only when that changed).
    pub parser_errors: Mutex<Vec<(&'static str, u64)>>,
    pub parser_errors_total: AtomicU64,
}

impl Default for WorkerShared {
    fn default() -> Self {
        WorkerShared {
            decoded: std::array::from_fn(|_| AtomicU64::new(0)),
            errors: std::array::from_fn(|_| AtomicU64::new(0)),
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            created: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            active: AtomicU64::new(0),
            kernel_received: AtomicU64::new(0),
            kernel_dropped: AtomicU64::new(0),
            kernel_if_dropped: AtomicU64::new(0),
            kernel_known: AtomicBool::new(false),
            parser_errors: Mutex::new(Vec::new()),
            parser_errors_total: AtomicU64::new(0),
        }
    }
}

impl WorkerShared {
    pub fn publish_kernel(&self, k: KernelStats) {
        self.kernel_received.store(k.received, Ordering::Relaxed);
        self.kernel_dropped.store(k.dropped, Ordering::Relaxed);
        self.kernel_if_dropped
            .store(k.if_dropped, Ordering::Relaxed);
        self.kernel_known.store(true, Ordering::Release);
    }

    /// The kernel counters last published, if the worker has a ring.
    pub fn kernel(&self) -> Option<KernelStats> {
        self.kernel_known
            .load(Ordering::Acquire)
            .then(|| KernelStats {
                received: self.kernel_received.load(Ordering::Relaxed),
                dropped: self.kernel_dropped.load(Ordering::Relaxed),
                if_dropped: self.kernel_if_dropped.load(Ordering::Relaxed),
            })
    }
}

/// What a worker hands back when it ends.
pub struct WorkerReport {
    pub counters: DecodeCounters,
    pub table: TableStats,
    /// Packets and wire bytes this worker tracked.
    pub packets: u64,
    pub bytes: u64,
    pub latency: Option<hdrhistogram::Histogram<u64>>,
    /// The sample that showed checksum offload, if the worker saw one.
    pub offload: Option<crate::decode::offload::Probe>,
    /// What the parsers could not read, by reason.
    pub parser_errors: Vec<(&'static str, u64)>,
}

/// A worker's tracker and its ways out.
pub(super) struct Core {
    pub tracker: Tracker,
    pub out: crossbeam_channel::Sender<ToWriter>,
    pub pool: crossbeam_channel::Receiver<Vec<Emitted>>,
    pub shared: Arc<WorkerShared>,
    /// Per-packet latency, when measured.
    pub latency: Option<hdrhistogram::Histogram<u64>>,
}

/// A histogram for latencies from 1 ns to a minute.
pub(super) fn latency_histogram(enabled: bool) -> Option<hdrhistogram::Histogram<u64>> {
    enabled
        .then(|| hdrhistogram::Histogram::new_with_bounds(1, 60_000_000_000, 3).ok())
        .flatten()
}

impl Core {
    /// Sends finished connections to the writer, in a vector swapped for an
    /// empty one from the pool. While the pool is empty the records wait,
    /// until [`SHIP_AT`] of them do (or this is the end): then the worker
    /// waits for the writer. The pool is the only supply of vectors, so
    /// records in flight never exceed its size, whatever the traffic (a SYN
    /// flood writes one record per packet).
    pub fn ship(&mut self, last: bool) {
        let finished = self.tracker.finished();
        if finished.is_empty() {
            return;
        }
        let must = last || finished.len() >= SHIP_AT;
        let replacement = match self.pool.try_recv() {
            Ok(v) => v,
            Err(_) if !must => return,
            Err(_) => match self.pool.recv() {
                Ok(v) => v,
                // The writer is gone (it failed, and the run reports why):
                // the records cannot be written anywhere.
                Err(_) => {
                    finished.clear();
                    return;
                }
            },
        };
        let full = std::mem::replace(finished, replacement);
        let _ = self.out.send(ToWriter::Events(full));
    }

    /// Runs timers to `now`, handing expired connections on in bounded
    /// pieces.
    pub fn tick(&mut self, now: i64) {
        while self.tracker.tick_some(now, SHIP_AT) {
            self.ship(true);
        }
    }

    /// Ends every open connection, in bounded pieces.
    pub fn flush(&mut self) {
        while self.tracker.flush_some(SHIP_AT) {
            self.ship(true);
        }
    }

    pub fn publish(&self) {
        let c = &self.tracker.counters;
        let s = &self.shared;
        for d in Decoded::ALL {
            s.decoded[*d as usize].store(c.decoded[*d as usize], Ordering::Relaxed);
        }
        for e in DecodeError::ALL {
            s.errors[*e as usize].store(c.errors[*e as usize], Ordering::Relaxed);
        }
        s.packets.store(self.tracker.packets, Ordering::Relaxed);
        s.bytes.store(self.tracker.bytes, Ordering::Relaxed);
        let t = self.tracker.table();
        s.created.store(t.stats.created, Ordering::Relaxed);
        s.evicted.store(t.stats.evicted, Ordering::Relaxed);
        s.active.store(t.len() as u64, Ordering::Relaxed);
        // Rarely changes; when it did, a copy under a lock the worker
        // never waits for (a busy lock leaves it to the next time).
        let app = self.tracker.app();
        let total = app.errors_total();
        if total != s.parser_errors_total.load(Ordering::Relaxed) {
            if let Ok(mut v) = s.parser_errors.try_lock() {
                app.errors_into(&mut v);
                s.parser_errors_total.store(total, Ordering::Relaxed);
            }
        }
    }

    /// Writes out every open connection and reports.
    pub fn finish(mut self) -> WorkerReport {
        self.flush();
        self.ship(true);
        self.publish();
        WorkerReport {
            counters: self.tracker.counters.clone(),
            table: self.tracker.table().stats,
            packets: self.tracker.packets,
            bytes: self.tracker.bytes,
            latency: self.latency.take(),
            offload: self.tracker.offload,
            parser_errors: {
                let mut v = Vec::new();
                self.tracker.app().errors_into(&mut v);
                v
            },
        }
    }
}

/// Clears a liveness flag however the worker ends, so a reader waiting for
/// batches never waits on a dead worker.
pub(super) struct AliveGuard(pub Arc<AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// A worker fed batches by the reader.
pub(super) struct Queued {
    pub core: Core,
    pub full: Arc<ArrayQueue<Batch>>,
    pub free: Arc<ArrayQueue<Batch>>,
    pub done: Arc<AtomicBool>,
    pub alive: Arc<AtomicBool>,
}

impl Queued {
    pub fn run(mut self) -> WorkerReport {
        let _guard = AliveGuard(self.alive.clone());
        let mut idle = super::idle::Idle::new();
        loop {
            if let Some(batch) = self.full.pop() {
                idle.reset();
                self.process(batch);
                continue;
            }
            if self.done.load(Ordering::Acquire) {
                // The reader is finished; take what it sent last.
                if let Some(batch) = self.full.pop() {
                    self.process(batch);
                    continue;
                }
                break;
            }
            idle.wait();
        }
        self.core.finish()
    }

    fn process(&mut self, mut batch: Batch) {
        if self.core.tracker.prefetch_pays() {
            // The whole batch is at hand: look ahead in it, as lane
            // workers do in their lanes.
            let packet = |j: usize| batch.get(j).map(|(p, data)| (p.link, data));
            let mut ahead = Prefetcher::new();
            ahead.prime(&self.core.tracker, packet);
            for (i, (p, data)) in batch.iter().enumerate() {
                ahead.step(&self.core.tracker, packet(i + LOOKAHEAD));
                self.core.tracker.packet(p.link, p.ts, data, p.wire_len);
            }
        } else {
            for (p, data) in batch.iter() {
                self.core.tracker.packet(p.link, p.ts, data, p.wire_len);
            }
        }
        if let Some(h) = self.core.latency.as_mut() {
            let done = super::clock_ns();
            for (p, _) in batch.iter() {
                let _ = h.record(done.saturating_sub(p.read_ns).max(1));
            }
        }
        if batch.flush {
            self.core.flush();
        } else {
            self.core.tick(batch.now);
        }
        batch.clear();
        // The free queue has room for every batch of this shard.
        let _ = self.free.push(batch);
        self.core.ship(false);
        self.core.publish();
    }
}
