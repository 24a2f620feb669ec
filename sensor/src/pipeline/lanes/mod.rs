//! Dispatch without a reader thread: every worker reads its own input and
//! no packet is copied.
//!
//! A worker's input is either a share of a live interface that the kernel
//! hands out by flow hash (AF_PACKET fanout rings), or packets already in
//! memory (a mapped capture file, a recording). One worker reads memory as
//! it is. Several walk it together ([`shared`]): chunk by chunk, whoever
//! gets there first reads the packets once and deals each to the worker
//! its flow hash picks, with the packet clock's events, so every worker
//! follows packet time over the whole sequence: timers and capture
//! boundaries fall at the same packets as with one worker or in the queued
//! mode, and records do not depend on the number of workers.

use super::ahead::Prefetcher;
use super::clock::PacketClock;
use super::report::{self, Intake, Progress};
use super::worker::{Core, WorkerReport};
use super::writer::ToWriter;
use super::{Outputs, PipelineOptions, Summary};
pub use shared::SharedWalk;

mod ring;
#[cfg(test)]
mod ring_loom;
mod shared;
mod sync;
use crate::capture::{CaptureError, KernelStats, Next, Source};
use crate::decode::LinkType;
use crate::flow::Tracker;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Packets between hand-overs of finished connections and counter updates.
const PUBLISH_EVERY: u64 = 4096;
/// Wall-clock time between timer runs while a live wire is quiet.
const QUIET_TICK_NS: i64 = 200_000_000;
/// How often the coordinating thread looks at the workers.
const WATCH_INTERVAL: Duration = Duration::from_millis(50);

/// Sends on drop: tells the coordinating thread that a worker ended,
/// however it ended.
struct EndSignal(std::sync::mpsc::Sender<()>);

impl Drop for EndSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// The input of one worker, in order: either lanes that carry only its own
/// traffic (its ring of a fanout group, a part dealt out to it, or the
/// whole input when it works alone), or inputs it walks together with the
/// other workers (see [`shared`]).
pub struct WorkerLanes {
    lanes: Vec<Box<dyn Source>>,
    walks: Vec<Arc<SharedWalk>>,
}

impl WorkerLanes {
    /// Lanes whose every packet is this worker's.
    pub fn new(lanes: Vec<Box<dyn Source>>) -> WorkerLanes {
        WorkerLanes {
            lanes,
            walks: Vec::new(),
        }
    }

    /// Inputs in memory shared with the other workers, in order.
    pub fn shared(walks: Vec<Arc<SharedWalk>>) -> WorkerLanes {
        WorkerLanes {
            lanes: Vec::new(),
            walks,
        }
    }
}

/// What a lane worker hands back besides its tracker's report.
struct LaneReport {
    core: WorkerReport,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    errors: Vec<CaptureError>,
    kernel: Option<KernelStats>,
}

pub(super) fn run(
    inputs: Vec<WorkerLanes>,
    opts: &PipelineOptions,
    make_tracker: &dyn Fn(usize) -> Tracker,
    outputs: &Outputs,
    stop: &Arc<AtomicBool>,
    summary: &mut Summary,
) -> Vec<WorkerReport> {
    let workers = inputs.len();
    let total = inputs
        .first()
        .map(|w| w.lanes.iter().filter_map(|s| s.size_hint()).sum())
        .unwrap_or(0);
    let progress = Progress::new(opts.progress, total);
    // A worker that dies takes its share of the traffic with it; the
    // others stop too rather than produce a partial picture.
    let failed = Arc::new(AtomicBool::new(false));
    // Each worker says when it ends (panics included), so that the end of
    // a short replay is not left waiting for the next look at the workers.
    let (ended_tx, ended) = std::sync::mpsc::channel::<()>();
    let mut handles = Vec::with_capacity(workers);
    let mut shared = Vec::with_capacity(workers);
    for (id, input) in inputs.into_iter().enumerate() {
        let core = outputs.core(make_tracker(id), id, opts.latency);
        shared.push(core.shared.clone());
        let w = LaneWorker {
            core,
            // A shared input's problems are reported once, by worker 0.
            report_errors: input.walks.is_empty() || id == 0,
            id,
            walks: input.walks,
            lanes: input.lanes,
            stop: stop.clone(),
            failed: failed.clone(),
        };
        let ended_tx = ended_tx.clone();
        match std::thread::Builder::new()
            .name(format!("vagt-worker-{id}"))
            .spawn(move || {
                let _ended = EndSignal(ended_tx);
                w.run()
            }) {
            Ok(h) => handles.push(h),
            Err(e) => {
                tracing::error!("cannot start worker thread: {e}");
                failed.store(true, Ordering::Release);
            }
        }
    }

    let mut last_stats = Instant::now();
    let intake = |shared: &[Arc<super::worker::WorkerShared>]| {
        let mut i = Intake {
            packets: 0,
            bytes: 0,
            queue_drops: 0,
            kernel: None,
        };
        for s in shared {
            i.packets += s.packets.load(Ordering::Relaxed);
            i.bytes += s.bytes.load(Ordering::Relaxed);
            if let Some(k) = s.kernel() {
                i.kernel = Some(add_kernel(i.kernel, k));
            }
        }
        i
    };
    drop(ended_tx);
    while !handles.iter().all(|h| h.is_finished()) {
        // Either a worker ended or it is time for a look; a disconnected
        // channel means every worker has ended.
        if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) =
            ended.recv_timeout(WATCH_INTERVAL)
        {
            if !handles.iter().all(|h| h.is_finished()) {
                // Ended signals go out just before a thread finishes.
                std::thread::yield_now();
            }
        }
        let now = intake(&shared);
        progress.update(now.packets, now.bytes);
        if let Some(every) = opts.stats_interval {
            if last_stats.elapsed() >= every {
                last_stats = Instant::now();
                let stats = report::live_stats(&shared, &now, report::wall_clock_ns());
                let _ = outputs.send(ToWriter::Stats(Box::new(stats)));
            }
        }
    }
    let end = intake(&shared);
    progress.finish(end.packets, end.bytes);

    let mut reports = Vec::with_capacity(workers);
    for h in handles {
        match h.join() {
            Ok(r) => {
                summary.first_ts = min_opt(summary.first_ts, r.first_ts);
                summary.last_ts = summary.last_ts.max(r.last_ts);
                summary.source_errors.extend(r.errors);
                if let Some(k) = r.kernel {
                    summary.kernel = Some(add_kernel(summary.kernel, k));
                }
                reports.push(r.core);
            }
            Err(_) => {
                summary.output_error =
                    Some("a worker thread failed; this is a bug, please report it".into())
            }
        }
    }
    summary.packets = reports.iter().map(|r| r.packets).sum();
    summary.bytes = reports.iter().map(|r| r.bytes).sum();
    reports
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn add_kernel(a: Option<KernelStats>, b: KernelStats) -> KernelStats {
    let a = a.unwrap_or_default();
    KernelStats {
        received: a.received + b.received,
        dropped: a.dropped + b.dropped,
        if_dropped: a.if_dropped + b.if_dropped,
    }
}

struct LaneWorker {
    core: Core,
    /// Whether this worker reports source problems.
    report_errors: bool,
    /// This worker's number (its list in shared inputs).
    id: usize,
    walks: Vec<Arc<SharedWalk>>,
    lanes: Vec<Box<dyn Source>>,
    stop: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
}

impl LaneWorker {
    fn run(mut self) -> LaneReport {
        let _guard = FailGuard(self.failed.clone());
        let mut clock = PacketClock::default();
        let mut errors = Vec::new();
        let mut kernel = None;
        let mut since_publish = 0u64;
        let mut last_quiet_tick = i64::MIN;
        let mut span = (None, None);
        for walk in std::mem::take(&mut self.walks) {
            let finished = self.run_shared(&walk, self.id, &mut since_publish);
            let (error, first, last) = walk.finish(self.report_errors);
            errors.extend(error);
            span = (min_opt(span.0, first), last.or(span.1));
            if !finished {
                break;
            }
        }
        let lanes = std::mem::take(&mut self.lanes);
        'lanes: for mut lane in lanes {
            // What is known of the next packet and the one after it.
            let mut ahead: Option<Prefetcher> = None;
            loop {
                if since_publish >= PUBLISH_EVERY {
                    since_publish = 0;
                    if self.stop.load(Ordering::Relaxed) || self.failed.load(Ordering::Relaxed) {
                        kernel = lane.kernel_stats().or(kernel);
                        break 'lanes;
                    }
                    self.core.ship(false);
                    self.core.publish();
                    if let Some(k) = lane.kernel_stats() {
                        self.core.shared.publish_kernel(k);
                        kernel = Some(k);
                    }
                }
                self.look_ahead(&mut lane, &mut ahead);
                let next = match lane.next() {
                    Ok(n) => n,
                    Err(e) => {
                        if self.report_errors {
                            errors.push(e);
                        }
                        break;
                    }
                };
                let p = match next {
                    Next::Packet(p) => p,
                    Next::Timeout => {
                        // A quiet wire: the clock still runs, and the stop
                        // flag is looked at.
                        since_publish = PUBLISH_EVERY;
                        let wall = report::wall_clock_ns();
                        if wall >= last_quiet_tick + QUIET_TICK_NS {
                            last_quiet_tick = wall;
                            self.core.tick(wall.max(clock.now));
                        }
                        continue;
                    }
                    Next::End => break,
                };
                since_publish += 1;
                if clock.arrive(p.ts) {
                    self.core.flush();
                }
                self.track(p.link, p.ts, p.data, p.wire_len, p.arrival_ns);
                if let Some(now) = clock.tick_due() {
                    self.core.tick(now);
                }
            }
            if let Some(k) = lane.kernel_stats() {
                kernel = Some(k);
            }
        }
        if let Some(k) = kernel {
            self.core.shared.publish_kernel(k);
        }
        let first_ts = min_opt(span.0, clock.first);
        let last_ts = clock.last().or(span.1);
        let core = self.core.finish();
        LaneReport {
            core,
            first_ts,
            last_ts,
            errors,
            kernel,
        }
    }
}

impl LaneWorker {
    /// Processes one of this worker's packets, timing it when asked to.
    #[inline]
    fn track(&mut self, link: LinkType, ts: i64, frame: &[u8], wire_len: u32, arrival_ns: u64) {
        match self.core.latency.as_mut() {
            None => self.core.tracker.packet(link, ts, frame, wire_len),
            Some(h) => {
                let arrived = match arrival_ns {
                    0 => super::clock_ns(),
                    t => t,
                };
                self.core.tracker.packet(link, ts, frame, wire_len);
                let _ = h.record(super::clock_ns().saturating_sub(arrived).max(1));
            }
        }
    }
}

impl LaneWorker {
    /// Before reading a packet: prefetches for the packets ahead in the
    /// lane, while the table is large enough for it to pay.
    #[inline]
    fn look_ahead(&self, lane: &mut Box<dyn Source>, ahead: &mut Option<Prefetcher>) {
        if !self.core.tracker.prefetch_pays() {
            *ahead = None;
            return;
        }
        ahead
            .get_or_insert_with(Prefetcher::new)
            .step(&self.core.tracker, lane.peek_ahead());
    }
}

/// Raises the shared failure flag if a worker unwinds, so the others stop.
struct FailGuard(Arc<AtomicBool>);

impl Drop for FailGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Release);
        }
    }
}
