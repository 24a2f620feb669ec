//! Dispatch through a reader thread: one thread reads the sources and puts
//! each packet into the current batch of the worker its flow hashes to;
//! full batches cross a lock-free bounded queue and come back empty on a
//! second one, so batches are recycled and nothing is allocated per packet.
//!
//! This is the mode for sources that only one thread can read (a libpcap
//! handle, a stream). In replay mode the reader waits for a free batch, so
//! nothing is lost; in live mode it never waits, and a packet that finds
//! its worker's queue full is dropped and counted.

use super::batch::{Batch, Push};
use super::clock::PacketClock;
use super::deal::Dealer;
use super::report::{self, Intake, Progress};
use super::worker::Queued;
use super::writer::ToWriter;
use super::{idle, shard, Mode, Outputs, PipelineOptions, Summary};
use crate::capture::{Next, RawPacket, Source};
use crate::decode::LinkWalker;
use crate::flow::Tracker;
use crossbeam_queue::ArrayQueue;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Wall-clock time between timer runs while a live wire is quiet.
const QUIET_TICK_NS: i64 = 200_000_000;
/// Bytes reserved per batch (at least two maximal packets).
const BATCH_BYTES: usize = 512 * 1024;

struct Shard {
    current: Option<Batch>,
    full: Arc<ArrayQueue<Batch>>,
    free: Arc<ArrayQueue<Batch>>,
    alive: Arc<AtomicBool>,
}

pub(super) fn run(
    sources: Vec<Box<dyn Source>>,
    opts: &PipelineOptions,
    make_tracker: &dyn Fn(usize) -> Tracker,
    outputs: &Outputs,
    stop: &AtomicBool,
    summary: &mut Summary,
) -> Vec<super::worker::WorkerReport> {
    let workers = opts.workers.max(1);
    let queue = opts.queue_batches.max(2);
    let done = Arc::new(AtomicBool::new(false));
    let mut shards = Vec::with_capacity(workers);
    let mut handles = Vec::with_capacity(workers);
    let mut shared = Vec::with_capacity(workers);
    for id in 0..workers {
        let full = Arc::new(ArrayQueue::new(queue));
        let free = Arc::new(ArrayQueue::new(queue));
        for _ in 0..queue - 1 {
            let _ = free.push(Batch::new(opts.batch_packets, BATCH_BYTES));
        }
        let alive = Arc::new(AtomicBool::new(true));
        let core = outputs.core(make_tracker(id), id, opts.latency);
        shared.push(core.shared.clone());
        let w = Queued {
            core,
            full: full.clone(),
            free: free.clone(),
            done: done.clone(),
            alive: alive.clone(),
        };
        match std::thread::Builder::new()
            .name(format!("vagt-worker-{id}"))
            .spawn(move || w.run())
        {
            Ok(h) => handles.push(h),
            Err(e) => {
                tracing::error!("cannot start worker thread: {e}");
                alive.store(false, Ordering::Release);
            }
        }
        shards.push(Shard {
            current: Some(Batch::new(opts.batch_packets, BATCH_BYTES)),
            full,
            free,
            alive,
        });
    }

    let mut reader = Reader {
        shards,
        mode: opts.mode,
        queue_drops: 0,
        packets: 0,
        bytes: 0,
        clock: PacketClock::default(),
        walker: LinkWalker::default(),
        dealer: Dealer::new(workers),
        latency: opts.latency,
    };
    let total = sources.iter().filter_map(|s| s.size_hint()).sum();
    let progress = Progress::new(opts.progress, total);
    let mut last_stats = Instant::now();
    let mut last_quiet_tick = i64::MIN;
    let mut kernel = None;

    'sources: for mut src in sources {
        loop {
            if stop.load(Ordering::Relaxed) || !reader.workers_alive() {
                // Live capture only ever ends here: the capture layer's
                // final drop counts must be read before the source goes.
                kernel = src.kernel_stats().or(kernel);
                break 'sources;
            }
            let next = match src.next() {
                Ok(n) => n,
                Err(e) => {
                    summary.source_errors.push(e);
                    break;
                }
            };
            match next {
                Next::Packet(p) => {
                    reader.dispatch(&p);
                    if reader.packets & 0xffff == 0 {
                        progress.update(reader.packets, reader.bytes);
                    }
                }
                Next::Timeout => {
                    // Nothing more is ready: hand over what waits in
                    // partial batches rather than hold it until they fill.
                    reader.flush_all();
                    // A quiet wire: the clock still runs.
                    let wall = report::wall_clock_ns();
                    if wall >= last_quiet_tick + QUIET_TICK_NS {
                        last_quiet_tick = wall;
                        reader.tick_all(wall.max(reader.clock.now));
                    }
                }
                Next::End => break,
            }
            if let Some(every) = opts.stats_interval {
                if last_stats.elapsed() >= every {
                    last_stats = Instant::now();
                    kernel = src.kernel_stats().or(kernel);
                    let intake = Intake {
                        packets: reader.packets,
                        bytes: reader.bytes,
                        queue_drops: reader.queue_drops,
                        kernel,
                    };
                    // The wall clock, as the lanes' events: packet time
                    // stands still (at 0 before the first packet) while
                    // the wire is quiet.
                    let stats = report::live_stats(&shared, &intake, report::wall_clock_ns());
                    let _ = outputs.send(ToWriter::Stats(Box::new(stats)));
                }
            }
        }
        kernel = src.kernel_stats().or(kernel);
    }
    progress.finish(reader.packets, reader.bytes);

    reader.flush_all();
    done.store(true, Ordering::Release);
    let reports = super::join_workers(handles, summary);
    summary.packets = reader.packets;
    summary.bytes = reader.bytes;
    summary.first_ts = reader.clock.first;
    summary.last_ts = reader.clock.last();
    summary.queue_drops = reader.queue_drops;
    summary.kernel = kernel;
    reports
}

struct Reader {
    shards: Vec<Shard>,
    mode: Mode,
    queue_drops: u64,
    packets: u64,
    bytes: u64,
    clock: PacketClock,
    walker: LinkWalker,
    dealer: Dealer,
    latency: bool,
}

impl Reader {
    fn workers_alive(&self) -> bool {
        self.shards.iter().all(|s| s.alive.load(Ordering::Acquire))
    }

    #[inline]
    fn dispatch(&mut self, p: &RawPacket<'_>) {
        self.packets += 1;
        self.bytes += u64::from(p.wire_len);
        // When packet time jumps back, the packets that follow come from
        // another capture (files recorded at different times, replayed in
        // one run). Every open connection ends there, in every worker at the
        // same packet, so records never depend on how packets were batched.
        if self.clock.arrive(p.ts) {
            self.flush_workers();
            self.dealer.forget();
        }
        let shard = if self.shards.len() == 1 {
            0
        } else {
            self.dealer
                .deal(shard::flow_hash(&mut self.walker, p.link, p.data))
        };
        if !self.push(shard, p) {
            self.queue_drops += 1;
        }
        if let Some(now) = self.clock.tick_due() {
            self.tick_all(now);
        }
    }

    /// Puts a packet into shard `i`'s batch; false if it had to be dropped.
    fn push(&mut self, i: usize, p: &RawPacket<'_>) -> bool {
        if self.shards[i].current.is_none() && !self.acquire(i) {
            return false;
        }
        let read_ns = match (self.latency, p.arrival_ns) {
            (false, _) => 0,
            (true, 0) => super::clock_ns(),
            (true, t) => t,
        };
        let offer = |b: &mut Batch| b.push(p, read_ns) == Push::Added;
        if self.shards[i].current.as_mut().is_some_and(offer) {
            if self.shards[i].current.as_ref().is_some_and(|b| b.is_full()) {
                self.send(i);
            }
            return true;
        }
        // The batch is out of room: send it and retry in a fresh one.
        self.send(i);
        if !self.acquire(i) {
            return false;
        }
        self.shards[i].current.as_mut().is_some_and(offer)
    }

    /// Hands shard `i`'s current batch to its worker.
    fn send(&mut self, i: usize) {
        let now = self.clock.now;
        let s = &mut self.shards[i];
        if let Some(mut b) = s.current.take() {
            b.now = now;
            // There are never more batches than the queue holds, so this
            // push cannot fail; if it did, the batch would be dropped.
            let _ = s.full.push(b);
        }
    }

    /// Gets a free batch for shard `i`, waiting in replay mode.
    fn acquire(&mut self, i: usize) -> bool {
        let mut idle = idle::Idle::new();
        loop {
            let s = &mut self.shards[i];
            if let Some(b) = s.free.pop() {
                s.current = Some(b);
                return true;
            }
            if self.mode == Mode::Live || !s.alive.load(Ordering::Acquire) {
                return false;
            }
            idle.wait();
        }
    }

    /// Sends every shard its (possibly empty) batch so idle workers run
    /// their timers too.
    fn tick_all(&mut self, now: i64) {
        self.clock.now = now;
        for i in 0..self.shards.len() {
            if self.shards[i].current.is_some() || self.acquire(i) {
                self.send(i);
            }
        }
    }

    /// Makes every worker write out all its connections now.
    fn flush_workers(&mut self) {
        for i in 0..self.shards.len() {
            if self.shards[i].current.is_some() || self.acquire(i) {
                if let Some(b) = self.shards[i].current.as_mut() {
                    b.flush = true;
                }
                self.send(i);
            }
        }
    }

    /// Sends every partial batch; the end of input.
    fn flush_all(&mut self) {
        for i in 0..self.shards.len() {
            if self.shards[i]
                .current
                .as_ref()
                .is_some_and(|b| !b.is_empty())
            {
                self.send(i);
            }
        }
    }
}
