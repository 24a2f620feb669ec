//! A worker: takes batches from its queue, runs every packet through its
//! own [`Tracker`], returns the batch, and passes finished connections to
//! the writer. It shares nothing mutable with other workers.

use super::batch::Batch;
use super::ToWriter;
use crate::decode::{DecodeCounters, DecodeError, Decoded};
use crate::flow::{Conn, TableStats, Tracker};
use crossbeam_queue::ArrayQueue;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Finished connections waiting for a pooled vector are shipped in a new
/// one once there are this many.
const SHIP_ANYWAY: usize = 16 * 1024;

/// Counters a worker publishes after each batch, for live statistics.
pub struct WorkerShared {
    pub decoded: [AtomicU64; Decoded::COUNT],
    pub errors: [AtomicU64; DecodeError::COUNT],
    pub created: AtomicU64,
    pub evicted: AtomicU64,
    pub active: AtomicU64,
}

impl Default for WorkerShared {
    fn default() -> Self {
        WorkerShared {
            decoded: std::array::from_fn(|_| AtomicU64::new(0)),
            errors: std::array::from_fn(|_| AtomicU64::new(0)),
            created: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            active: AtomicU64::new(0),
        }
    }
}

/// What a worker hands back when it ends.
pub struct WorkerReport {
    pub counters: DecodeCounters,
    pub table: TableStats,
    pub latency: Option<hdrhistogram::Histogram<u64>>,
}

pub(super) struct Worker {
    pub tracker: Tracker,
    pub full: Arc<ArrayQueue<Batch>>,
    pub free: Arc<ArrayQueue<Batch>>,
    pub done: Arc<AtomicBool>,
    pub alive: Arc<AtomicBool>,
    pub out: crossbeam_channel::Sender<ToWriter>,
    pub pool: crossbeam_channel::Receiver<Vec<Conn>>,
    pub shared: Arc<WorkerShared>,
    /// Latency of each packet from the reader to the end of its batch.
    pub latency: Option<hdrhistogram::Histogram<u64>>,
}

/// Clears the liveness flag however the worker ends, so a reader waiting
/// for batches never waits on a dead worker.
struct AliveGuard(Arc<AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Worker {
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
        self.tracker.flush();
        self.ship(true);
        self.publish();
        WorkerReport {
            counters: self.tracker.counters.clone(),
            table: self.tracker.table().stats,
            latency: self.latency.take(),
        }
    }

    fn process(&mut self, mut batch: Batch) {
        for (p, data) in batch.iter() {
            self.tracker.packet(p.link, p.ts, data, p.wire_len);
        }
        if let Some(h) = self.latency.as_mut() {
            let done = super::clock_ns();
            for (p, _) in batch.iter() {
                let _ = h.record(done.saturating_sub(p.read_ns).max(1));
            }
        }
        if batch.flush {
            self.tracker.flush();
        } else {
            self.tracker.tick(batch.now);
        }
        batch.clear();
        // The free queue has room for every batch of this shard.
        let _ = self.free.push(batch);
        self.ship(false);
        self.publish();
    }

    /// Sends finished connections to the writer, in a vector swapped for an
    /// empty one from the pool. While the pool is empty the records wait for
    /// the next batch, unless they pile up or this is the end.
    fn ship(&mut self, last: bool) {
        let finished = self.tracker.finished();
        if finished.is_empty() {
            return;
        }
        let replacement = match self.pool.try_recv() {
            Ok(v) => v,
            Err(_) if last || finished.len() >= SHIP_ANYWAY => {
                Vec::with_capacity(finished.capacity())
            }
            Err(_) => return,
        };
        let full = std::mem::replace(finished, replacement);
        // If the writer is gone the records cannot be written anywhere; the
        // run reports the output failure.
        let _ = self.out.send(ToWriter::Conns(full));
    }

    fn publish(&self) {
        let c = &self.tracker.counters;
        for d in Decoded::ALL {
            self.shared.decoded[*d as usize].store(c.decoded[*d as usize], Ordering::Relaxed);
        }
        for e in DecodeError::ALL {
            self.shared.errors[*e as usize].store(c.errors[*e as usize], Ordering::Relaxed);
        }
        let t = self.tracker.table();
        self.shared
            .created
            .store(t.stats.created, Ordering::Relaxed);
        self.shared
            .evicted
            .store(t.stats.evicted, Ordering::Relaxed);
        self.shared.active.store(t.len() as u64, Ordering::Relaxed);
    }
}
