//! What a run tells its user: the statistics events (live and final) and
//! the progress bar of an interactive replay.

use super::worker::WorkerShared;
use super::Summary;
use crate::capture::KernelStats;
use crate::decode::{DecodeCounters, DecodeError, Decoded};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use vagt_schema::SensorStats;

pub(super) fn wall_clock_ns() -> i64 {
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

fn drops_to_stats(queue_drops: u64, kernel: Option<KernelStats>, s: &mut SensorStats) {
    if queue_drops > 0 {
        s.drops.insert("queue_full".into(), queue_drops);
    }
    if let Some(k) = kernel {
        s.drops.insert("kernel".into(), k.dropped);
        s.drops.insert("interface".into(), k.if_dropped);
    }
}

/// The statistics event that ends a run. A replay dates it by its last
/// packet (replays never read the wall clock); a live capture by the wall
/// clock, as its periodic events, since an idle wire has no packet time.
pub(super) fn summary_stats(sum: &Summary, live: bool) -> SensorStats {
    let ts = match (live, sum.last_ts) {
        (true, _) => wall_clock_ns(),
        (false, last) => last.unwrap_or(0),
    };
    let mut s = SensorStats {
        ts: ts as f64 / 1e9,
        packets: sum.packets,
        bytes: sum.bytes,
        connections: sum.table.created,
        connections_evicted: sum.table.evicted,
        connections_active: 0,
        ..SensorStats::default()
    };
    counters_to_stats(&sum.decode, &mut s);
    drops_to_stats(sum.queue_drops, sum.kernel, &mut s);
    s.parser_errors = sum.parser_errors.clone();
    s
}

/// Packets seen by the capture side of a running pipeline.
pub(super) struct Intake {
    pub packets: u64,
    pub bytes: u64,
    pub queue_drops: u64,
    pub kernel: Option<KernelStats>,
}

/// A statistics event while the pipeline runs, from the counters the
/// workers publish.
pub(super) fn live_stats(shared: &[Arc<WorkerShared>], intake: &Intake, now: i64) -> SensorStats {
    let mut counters = DecodeCounters::default();
    let mut s = SensorStats {
        ts: now as f64 / 1e9,
        packets: intake.packets,
        bytes: intake.bytes,
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
        if let Ok(errors) = w.parser_errors.lock() {
            for (reason, n) in errors.iter() {
                *s.parser_errors.entry(reason.to_string()).or_default() += n;
            }
        }
    }
    counters_to_stats(&counters, &mut s);
    drops_to_stats(intake.queue_drops, intake.kernel, &mut s);
    s
}

/// A progress bar on standard error, for interactive replays.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    /// `total`: bytes of input, when known.
    pub fn new(enabled: bool, total: u64) -> Progress {
        use std::io::IsTerminal;
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = indicatif::ProgressBar::new(total.max(1));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Progress { bar: Some(bar) }
    }

    pub fn update(&self, packets: u64, bytes: u64) {
        if let Some(b) = &self.bar {
            // File bytes: the packets plus 16 bytes of record header each.
            b.set_position(bytes + packets * 16);
            b.set_message(format!("{packets} packets"));
        }
    }

    pub fn finish(&self, packets: u64, bytes: u64) {
        if let Some(b) = &self.bar {
            self.update(packets, bytes);
            b.finish_and_clear();
        }
    }
}
