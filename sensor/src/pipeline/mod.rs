//! The packet pipeline: one reader, N workers, one writer.
//!
//! The reader pulls packets from the sources, copies each into the current
//! batch of the worker its flow hashes to, and hands full batches over a
//! lock-free bounded queue. Each worker owns a [`Tracker`] (decoder and
//! connection table) and returns emptied batches on a second queue, so
//! batches are recycled and the packet path neither allocates nor locks.
//! Finished connections go to the writer thread in vectors, off the packet
//! path.
//!
//! In replay mode the reader waits for a free batch, so nothing is lost and
//! results do not depend on speed. In live mode it never waits: a packet
//! that finds its worker's queue full is dropped and counted.

pub mod batch;
mod idle;
pub mod shard;
mod worker;

use crate::capture::{CaptureError, KernelStats, Next, RawPacket, Source};
use crate::decode::{DecodeCounters, DecodeError, Decoded, LinkWalker};
use crate::flow::{Conn, RecordContext, TableStats, Tracker};
use crate::output::Sink;
use batch::{Batch, Push};
use crossbeam_queue::ArrayQueue;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vagt_schema::{Event, EventBody, Origin, SensorStats};
use worker::{WorkerReport, WorkerShared};

/// How the reader treats a full worker queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Wait: lossless and deterministic (files).
    Replay,
    /// Drop and count: never stall the capture (interfaces).
    Live,
}

/// Pipeline settings.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    pub workers: usize,
    pub batch_packets: usize,
    pub queue_batches: usize,
    pub mode: Mode,
    /// Live mode: write a stats event this often.
    pub stats_interval: Option<Duration>,
    /// Draw a progress bar on standard error.
    pub progress: bool,
    /// Measure each packet's latency from the reader to the end of its
    /// processing (costs a clock read per packet; for benchmarks).
    pub latency: bool,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub packets: u64,
    pub bytes: u64,
    pub wall: Duration,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    pub records: u64,
    pub decode: DecodeCounters,
    pub table: TableStats,
    /// Packets dropped because a worker queue was full (live mode).
    pub queue_drops: u64,
    pub kernel: Option<KernelStats>,
    /// Problems with sources; the packets before each problem were used.
    pub source_errors: Vec<CaptureError>,
    /// A failure of the output (disk full, closed pipe).
    pub output_error: Option<String>,
    /// Per-packet latency in nanoseconds, when measured.
    pub latency: Option<hdrhistogram::Histogram<u64>>,
}

/// Monotonic nanoseconds since the first call, for latency measurement.
pub fn clock_ns() -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Messages to the writer thread.
enum ToWriter {
    Conns(Vec<Conn>),
    Stats(Box<SensorStats>),
}

/// Packet time between timer runs of idle workers.
const TICK_NS: i64 = 1_000_000_000;
/// A step back in packet time larger than this is a jump to another
/// capture rather than reordering; equal to the workers' timer lag, which
/// absorbs smaller reorderings.
const BACKWARD_JUMP_NS: i64 = crate::flow::tracker::SWEEP_LAG_NS;
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

/// Runs `sources` one after another through the pipeline.
pub fn run(
    sources: Vec<Box<dyn Source>>,
    opts: &PipelineOptions,
    make_tracker: &dyn Fn(usize) -> Tracker,
    sink: Box<dyn Sink>,
    ctx: RecordContext,
    stop: Arc<AtomicBool>,
) -> Summary {
    let started = Instant::now();
    let workers = opts.workers.max(1);
    let queue = opts.queue_batches.max(2);
    let (to_writer, writer_rx) = crossbeam_channel::bounded::<ToWriter>(queue * workers * 2);
    let (pool_tx, pool_rx) = crossbeam_channel::bounded::<Vec<Conn>>(queue * workers * 2);
    // Vectors that carry finished connections to the writer and back.
    for _ in 0..4 * workers {
        let _ = pool_tx.try_send(Vec::with_capacity(1024));
    }
    let writer = spawn_writer(sink, ctx.clone(), writer_rx, pool_tx);

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
        let sh = Arc::new(WorkerShared::default());
        let w = worker::Worker {
            tracker: make_tracker(id),
            full: full.clone(),
            free: free.clone(),
            done: done.clone(),
            alive: alive.clone(),
            out: to_writer.clone(),
            pool: pool_rx.clone(),
            shared: sh.clone(),
            latency: opts
                .latency
                .then(|| hdrhistogram::Histogram::new_with_bounds(1, 60_000_000_000, 3).ok())
                .flatten(),
        };
        let handle = std::thread::Builder::new()
            .name(format!("vagt-worker-{id}"))
            .spawn(move || w.run());
        match handle {
            Ok(h) => handles.push(h),
            Err(e) => {
                eprintln!("vagt-sensor: cannot start worker thread: {e}");
                alive.store(false, Ordering::Release);
            }
        }
        shared.push(sh);
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
        first_ts: None,
        now: i64::MIN,
        next_tick: i64::MIN,
        walker: LinkWalker::default(),
        latency: opts.latency,
    };
    let mut summary = Summary::default();
    let progress = Progress::new(opts.progress, &sources);
    let mut last_stats = Instant::now();
    let mut last_quiet_tick = i64::MIN;
    let mut kernel = None;

    'sources: for mut src in sources {
        loop {
            if stop.load(Ordering::Relaxed) || !reader.workers_alive() {
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
                    // Live capture and a quiet wire: the clock still runs.
                    let wall = wall_clock_ns();
                    if wall >= last_quiet_tick + QUIET_TICK_NS {
                        last_quiet_tick = wall;
                        reader.tick_all(wall.max(reader.now));
                    }
                }
                Next::End => break,
            }
            if let Some(every) = opts.stats_interval {
                if last_stats.elapsed() >= every {
                    last_stats = Instant::now();
                    kernel = src.kernel_stats().or(kernel);
                    let stats = live_stats(&shared, &reader, kernel, reader.now);
                    let _ = to_writer.send(ToWriter::Stats(Box::new(stats)));
                }
            }
        }
        kernel = src.kernel_stats().or(kernel);
    }
    progress.finish(reader.packets, reader.bytes);

    reader.flush_all();
    done.store(true, Ordering::Release);
    let mut reports: Vec<WorkerReport> = Vec::new();
    for h in handles {
        match h.join() {
            Ok(r) => reports.push(r),
            Err(_) => {
                summary.output_error =
                    Some("a worker thread failed; this is a bug, please report it".into())
            }
        }
    }
    for r in &reports {
        if let Some(h) = &r.latency {
            match summary.latency.as_mut() {
                Some(all) => {
                    let _ = all.add(h);
                }
                None => summary.latency = Some(h.clone()),
            }
        }
        summary.decode.merge(&r.counters);
        summary.table.created += r.table.created;
        summary.table.expired += r.table.expired;
        summary.table.evicted += r.table.evicted;
        summary.table.reused += r.table.reused;
    }
    summary.packets = reader.packets;
    summary.bytes = reader.bytes;
    summary.first_ts = reader.first_ts;
    summary.last_ts = (reader.now != i64::MIN).then_some(reader.now);

    summary.queue_drops = reader.queue_drops;
    summary.kernel = kernel;

    // The final stats event, then close the writer.
    let final_stats = summary_stats(&summary);
    let _ = to_writer.send(ToWriter::Stats(Box::new(final_stats)));
    drop(to_writer);
    match writer.join() {
        Ok(Ok(n)) => summary.records = n,
        Ok(Err(e)) => summary.output_error = Some(e),
        Err(_) => summary.output_error = Some("the output thread failed".into()),
    }
    summary.wall = started.elapsed();
    summary
}

struct Reader {
    shards: Vec<Shard>,
    mode: Mode,
    queue_drops: u64,
    packets: u64,
    bytes: u64,
    first_ts: Option<i64>,
    now: i64,
    next_tick: i64,
    walker: LinkWalker,
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
        if self.first_ts.is_none() {
            self.first_ts = Some(p.ts);
        }
        // When packet time jumps back, the packets that follow come from
        // another capture (files recorded at different times, replayed in
        // one run). Every open connection ends there, in every worker at the
        // same packet, so records never depend on how packets were batched.
        if self.now != i64::MIN && p.ts < self.now - BACKWARD_JUMP_NS {
            self.flush_workers();
        }
        self.now = p.ts;
        let n = self.shards.len();
        let shard = if n == 1 {
            0
        } else {
            (shard::flow_hash(&mut self.walker, p.link, p.data) % n as u64) as usize
        };
        if !self.push(shard, p) {
            self.queue_drops += 1;
        }
        if self.now >= self.next_tick || self.now < self.next_tick.saturating_sub(2 * TICK_NS) {
            if self.next_tick != i64::MIN {
                self.tick_all(self.now);
            }
            self.next_tick = self.now.saturating_add(TICK_NS);
        }
    }

    /// Puts a packet into shard `i`'s batch; false if it had to be dropped.
    fn push(&mut self, i: usize, p: &RawPacket<'_>) -> bool {
        if self.shards[i].current.is_none() && !self.acquire(i) {
            return false;
        }
        let read_ns = if self.latency { clock_ns() } else { 0 };
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
        let now = self.now;
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
        self.now = now;
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

fn spawn_writer(
    mut sink: Box<dyn Sink>,
    ctx: RecordContext,
    rx: crossbeam_channel::Receiver<ToWriter>,
    pool: crossbeam_channel::Sender<Vec<Conn>>,
) -> std::thread::JoinHandle<Result<u64, String>> {
    std::thread::Builder::new()
        .name("vagt-writer".into())
        .spawn(move || {
            let mut written = 0u64;
            let mut failure: Option<String> = None;
            for msg in rx {
                if failure.is_some() {
                    // Keep draining so workers never block on a dead writer.
                    continue;
                }
                match msg {
                    ToWriter::Conns(mut conns) => {
                        for c in conns.iter() {
                            let ev = crate::flow::record::to_event(c, &ctx);
                            if let Err(e) = sink.write(&ev) {
                                failure = Some(format!("writing output failed: {e}"));
                                break;
                            }
                            if !c.interim {
                                written += 1;
                            }
                        }
                        conns.clear();
                        let _ = pool.try_send(conns);
                    }
                    ToWriter::Stats(s) => {
                        let ev = Event::new(
                            Origin {
                                municipality: ctx.municipality.clone(),
                                sensor: ctx.sensor.clone(),
                                segment: crate::site::UNASSIGNED.into(),
                            },
                            EventBody::Stats(*s),
                        );
                        if let Err(e) = sink.write(&ev) {
                            failure = Some(format!("writing output failed: {e}"));
                        }
                    }
                }
            }
            if let Err(e) = sink.finish() {
                failure.get_or_insert(format!("writing output failed: {e}"));
            }
            match failure {
                Some(f) => Err(f),
                None => Ok(written),
            }
        })
        .unwrap_or_else(|e| {
            let msg = format!("cannot start the output thread: {e}");
            std::thread::spawn(move || Err(msg))
        })
}

fn wall_clock_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn counters_to_stats(c: &DecodeCounters, s: &mut SensorStats) {
    for (name, n) in c.decoded_by_name() {
        s.decoded.insert(name.to_string(), n);
    }
    for (name, n) in c.errors_by_name() {
        s.decode_errors.insert(name.to_string(), n);
    }
}

fn summary_stats(sum: &Summary) -> SensorStats {
    let mut s = SensorStats {
        ts: sum.last_ts.map_or(0.0, |t| t as f64 / 1e9),
        packets: sum.packets,
        bytes: sum.bytes,
        connections: sum.table.created,
        connections_evicted: sum.table.evicted,
        connections_active: 0,
        ..SensorStats::default()
    };
    counters_to_stats(&sum.decode, &mut s);
    if sum.queue_drops > 0 {
        s.drops.insert("queue_full".into(), sum.queue_drops);
    }
    if let Some(k) = sum.kernel {
        s.drops.insert("kernel".into(), k.dropped);
        s.drops.insert("interface".into(), k.if_dropped);
    }
    s
}

fn live_stats(
    shared: &[Arc<WorkerShared>],
    reader: &Reader,
    kernel: Option<KernelStats>,
    now: i64,
) -> SensorStats {
    let mut counters = DecodeCounters::default();
    let mut s = SensorStats {
        ts: now as f64 / 1e9,
        packets: reader.packets,
        bytes: reader.bytes,
        ..SensorStats::default()
    };
    for w in shared {
        for d in Decoded::ALL {
            counters.decoded[*d as usize] += w.decoded[*d as usize].load(Ordering::Relaxed);
        }
        for e in DecodeError::ALL {
            counters.errors[*e as usize] += w.errors[*e as usize].load(Ordering::Relaxed);
        }
        s.connections += w.created.load(Ordering::Relaxed);
        s.connections_evicted += w.evicted.load(Ordering::Relaxed);
        s.connections_active += w.active.load(Ordering::Relaxed);
    }
    counters_to_stats(&counters, &mut s);
    if reader.queue_drops > 0 {
        s.drops.insert("queue_full".into(), reader.queue_drops);
    }
    if let Some(k) = kernel {
        s.drops.insert("kernel".into(), k.dropped);
        s.drops.insert("interface".into(), k.if_dropped);
    }
    s
}

/// A progress bar on standard error, for interactive replays.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(enabled: bool, sources: &[Box<dyn Source>]) -> Progress {
        use std::io::IsTerminal;
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let total: u64 = sources.iter().filter_map(|s| s.size_hint()).sum();
        let bar = indicatif::ProgressBar::new(total.max(1));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Progress { bar: Some(bar) }
    }

    fn update(&self, packets: u64, bytes: u64) {
        if let Some(b) = &self.bar {
            // File bytes: the packets plus 16 bytes of record header each.
            b.set_position(bytes + packets * 16);
            b.set_message(format!("{packets} packets"));
        }
    }

    fn finish(&self, packets: u64, bytes: u64) {
        if let Some(b) = &self.bar {
            self.update(packets, bytes);
            b.finish_and_clear();
        }
    }
}
