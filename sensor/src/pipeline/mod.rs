//! The packet pipeline: sources, N workers, one writer.
//!
//! Each worker owns a [`Tracker`] (decoder and connection table) and sees
//! every packet of the flows that hash to it, both directions. Packets
//! reach workers in one of two ways:
//!
//! - **lanes** (`lanes`): every worker reads its own input: an AF_PACKET
//!   fanout ring, or a mapped file or recording that several workers walk
//!   together, each taking the packets its flow hash picks. No packet is
//!   copied.
//! - **queued** (`queued`): one reader thread hands packets to workers in
//!   recycled batches over lock-free bounded queues, for sources only one
//!   thread can read (libpcap).
//!
//! Either way the packet path neither allocates nor locks, and finished
//! connections go to the writer thread in pooled vectors. Replays are
//! lossless and deterministic; live capture never waits, and what it
//! cannot take is dropped and counted.

mod ahead;
pub mod batch;
mod clock;
pub mod deal;
mod idle;
pub mod lanes;
mod queued;
mod report;
pub mod settings;
pub mod shard;
mod worker;
mod writer;

use crate::capture::{CaptureError, KernelStats, Source};
use crate::decode::DecodeCounters;
use crate::flow::{Emitted, RecordContext, TableStats, Tracker};
use crate::output::Sink;
pub use lanes::{SharedWalk, WorkerLanes};
pub use settings::PipelineSection;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use worker::{Core, WorkerReport};
use writer::ToWriter;

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
    /// Measure each packet's latency from its arrival to the end of its
    /// processing (costs clock reads per packet; for benchmarks).
    pub latency: bool,
    /// How packets reach the workers.
    pub dispatch: Dispatch,
    /// Finished records reach the output at most this long after they
    /// were written (the sink holds them to write in large pieces).
    pub flush_interval: Duration,
    /// Set (by SIGHUP) to have the output reopened, for log rotation.
    pub reopen: Option<Arc<AtomicBool>>,
    /// The writer's ARP table: its bounds and what makes a sweep.
    pub arp: crate::arp::Limits,
    /// `[app.dhcp]`: how the writer joins DHCP messages into exchanges.
    pub dhcp: crate::applayer::dhcp::Settings,
}

/// How packets reach the workers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dispatch {
    /// Lanes when every source can be read by several threads, otherwise
    /// a reader thread.
    #[default]
    Auto,
    /// Always through a reader thread and queues.
    Queued,
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
    /// Why checksums went unchecked although the configuration asked for
    /// `auto`: the sample that showed checksum offload.
    pub checksum_note: Option<String>,
    /// The run captured live (its packet times are arrival times).
    pub live: bool,
    /// What the parsers could not read, by reason (all workers).
    pub parser_errors: std::collections::BTreeMap<String, u64>,
}

/// How fast packets went, over `secs` seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub secs: f64,
    pub packets_per_sec: f64,
    pub mbit_per_sec: f64,
}

impl Summary {
    /// A replay's speed: packets over the wall time the run took.
    pub fn speed(&self) -> Rate {
        rate(self.packets, self.bytes, self.wall.as_secs_f64())
    }

    /// A live capture's traffic: packets over the time they flowed, first
    /// to last arrival. The wall time would count every idle minute before,
    /// between and after (a 1,558 Mbit/s send read as 748 over the run).
    /// `None` with fewer than two packets: there is no span to rate.
    pub fn traffic(&self) -> Option<Rate> {
        let (first, last) = (self.first_ts?, self.last_ts?);
        if self.packets < 2 || last <= first {
            return None;
        }
        Some(rate(self.packets, self.bytes, (last - first) as f64 / 1e9))
    }
}

fn rate(packets: u64, bytes: u64, secs: f64) -> Rate {
    let per = secs.max(1e-9);
    Rate {
        secs,
        packets_per_sec: packets as f64 / per,
        mbit_per_sec: bytes as f64 * 8.0 / per / 1e6,
    }
}

/// Realtime (Unix epoch) nanoseconds minus [`clock_ns`] now: turns a
/// kernel packet timestamp into an arrival time on the pipeline's clock.
pub fn realtime_minus_clock() -> i64 {
    let clock = clock_ns() as i64;
    report::wall_clock_ns() - clock
}

/// Monotonic nanoseconds since the first call, for latency measurement.
pub fn clock_ns() -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// The writer thread and the ways to it, shared by all workers.
pub(crate) struct Outputs {
    to_writer: crossbeam_channel::Sender<ToWriter>,
    pool: crossbeam_channel::Receiver<Vec<Emitted>>,
    writer: std::thread::JoinHandle<Result<u64, String>>,
}

impl Outputs {
    fn start(
        sink: Box<dyn Sink>,
        ctx: RecordContext,
        workers: usize,
        opts: &PipelineOptions,
    ) -> Outputs {
        let queue = opts.queue_batches.max(2);
        let (to_writer, writer_rx) = crossbeam_channel::bounded::<ToWriter>(queue * workers * 2);
        let (pool_tx, pool) = crossbeam_channel::bounded::<Vec<Emitted>>(queue * workers * 2);
        // Vectors that carry finished connections to the writer and back:
        // the only ones there are, so they bound the records in flight.
        for _ in 0..4 * workers {
            let _ = pool_tx.try_send(Vec::with_capacity(worker::SHIP_AT));
        }
        let timing = writer::Timing {
            flush_every: opts.flush_interval,
            reopen: opts.reopen.clone(),
        };
        let joins = writer::Joins {
            arp: opts.arp,
            dhcp: opts.dhcp,
            workers,
        };
        let writer = writer::spawn(sink, ctx, writer_rx, pool_tx, timing, joins);
        Outputs {
            to_writer,
            pool,
            writer,
        }
    }

    fn core(&self, mut tracker: Tracker, id: usize, latency: bool) -> Core {
        tracker.set_worker(id);
        Core {
            tracker,
            out: self.to_writer.clone(),
            pool: self.pool.clone(),
            shared: Arc::default(),
            latency: worker::latency_histogram(latency),
        }
    }

    fn send(&self, msg: ToWriter) -> bool {
        self.to_writer.send(msg).is_ok()
    }

    /// Sends the final statistics, closes the writer and waits for it.
    fn close(self, summary: &mut Summary, mode: Mode) {
        let final_stats = report::summary_stats(summary, mode == Mode::Live);
        let _ = self.to_writer.send(ToWriter::Final(Box::new(final_stats)));
        drop(self.to_writer);
        match self.writer.join() {
            Ok(Ok(n)) => summary.records = n,
            Ok(Err(e)) => summary.output_error = Some(e),
            Err(_) => summary.output_error = Some("the output thread failed".into()),
        }
    }
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
    let workers = opts.workers.max(1);
    let input = match opts.dispatch {
        Dispatch::Auto => match split(&sources, workers) {
            Some(lanes) => Input::Lanes(lanes),
            None => Input::Sources(sources),
        },
        Dispatch::Queued => Input::Sources(sources),
    };
    run_input(input, opts, make_tracker, sink, ctx, stop)
}

/// Runs workers that each read their own lanes (one per worker), such as
/// the rings of an AF_PACKET fanout group.
pub fn run_lanes(
    inputs: Vec<WorkerLanes>,
    opts: &PipelineOptions,
    make_tracker: &dyn Fn(usize) -> Tracker,
    sink: Box<dyn Sink>,
    ctx: RecordContext,
    stop: Arc<AtomicBool>,
) -> Summary {
    run_input(Input::Lanes(inputs), opts, make_tracker, sink, ctx, stop)
}

enum Input {
    Sources(Vec<Box<dyn Source>>),
    Lanes(Vec<WorkerLanes>),
}

/// Inputs that every worker reads itself, if every source allows it (its
/// packets sit in memory): one worker reads them as they are; several walk
/// each in turns and each processes its own share (`lanes::SharedWalk`).
fn split(sources: &[Box<dyn Source>], workers: usize) -> Option<Vec<WorkerLanes>> {
    if workers == 1 {
        let lanes = sources
            .iter()
            .map(|s| s.lanes(1)?.pop())
            .collect::<Option<Vec<_>>>()?;
        return Some(vec![WorkerLanes::new(lanes)]);
    }
    let mut walks: Vec<Arc<SharedWalk>> = Vec::with_capacity(sources.len());
    for s in sources {
        let prev = walks.last().cloned();
        walks.push(SharedWalk::new(s.lanes(1)?.pop()?, workers, prev));
    }
    Some(
        (0..workers)
            .map(|_| WorkerLanes::shared(walks.clone()))
            .collect(),
    )
}

fn run_input(
    input: Input,
    opts: &PipelineOptions,
    make_tracker: &dyn Fn(usize) -> Tracker,
    sink: Box<dyn Sink>,
    ctx: RecordContext,
    stop: Arc<AtomicBool>,
) -> Summary {
    let started = Instant::now();
    let workers = match &input {
        Input::Sources(_) => opts.workers.max(1),
        Input::Lanes(l) => l.len().max(1),
    };
    let outputs = Outputs::start(sink, ctx, workers, opts);
    let mut summary = Summary::default();
    let reports = match input {
        Input::Sources(sources) => {
            queued::run(sources, opts, make_tracker, &outputs, &stop, &mut summary)
        }
        Input::Lanes(lanes) => lanes::run(lanes, opts, make_tracker, &outputs, &stop, &mut summary),
    };
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
        for (reason, n) in &r.parser_errors {
            *summary.parser_errors.entry(reason.to_string()).or_default() += n;
        }
        if let (Some(p), None) = (r.offload, &summary.checksum_note) {
            let finding = crate::decode::offload::Finding {
                source: "a worker's share of the traffic".into(),
                probe: p,
            };
            summary.checksum_note = Some(finding.describe());
        }
        summary.table.created += r.table.created;
        summary.table.expired += r.table.expired;
        summary.table.evicted += r.table.evicted;
        summary.table.reused += r.table.reused;
        summary.table.peak += r.table.peak;
    }
    summary.live = opts.mode == Mode::Live;
    outputs.close(&mut summary, opts.mode);
    summary.wall = started.elapsed();
    summary
}

/// Waits for queue-fed workers.
fn join_workers(
    handles: Vec<std::thread::JoinHandle<WorkerReport>>,
    summary: &mut Summary,
) -> Vec<WorkerReport> {
    let mut reports = Vec::with_capacity(handles.len());
    for h in handles {
        match h.join() {
            Ok(r) => reports.push(r),
            Err(_) => {
                summary.output_error =
                    Some("a worker thread failed; this is a bug, please report it".into())
            }
        }
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Live, the rate is over the time packets flowed, not the run: a
    /// second of traffic in a ten-second run is a second's rate.
    #[test]
    fn live_rate_is_over_the_traffic_not_the_run() {
        let s = Summary {
            packets: 1001,
            bytes: 125_000_000,
            wall: Duration::from_secs(10),
            first_ts: Some(5_000_000_000),
            last_ts: Some(6_000_000_000),
            live: true,
            ..Summary::default()
        };
        let t = s.traffic().expect("a span");
        assert_eq!(t.secs, 1.0);
        assert_eq!(t.mbit_per_sec, 1000.0);
        assert_eq!(s.speed().mbit_per_sec, 100.0);
        let one = Summary {
            packets: 1,
            first_ts: Some(5),
            last_ts: Some(5),
            ..Summary::default()
        };
        assert_eq!(one.traffic(), None);
    }
}
