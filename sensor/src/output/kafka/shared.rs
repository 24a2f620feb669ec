//! What the sink and the service threads share: delivery counters and
//! timings, drops by topic, the last error (rate-limited warnings) and the
//! stop deadline.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vagt_schema::{Histogram, Topic};

/// Bounds of the delivery-time buckets, in seconds: from a healthy
/// link's milliseconds to a day-long outage.
const DELIVERY_LE: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
    3600.0, 21600.0, 86400.0,
];

/// Bounds of the spool-commit buckets, in seconds: an fsync takes from
/// tens of microseconds (SSD) to a second (a busy disk).
const COMMIT_LE: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// A histogram filled on one thread and read on another (relaxed atomic
/// counts: a health event may see one observation half-counted, never a
/// torn number).
pub struct Timings {
    le: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl Timings {
    fn new(le: &'static [f64]) -> Timings {
        Timings {
            le,
            counts: (0..=le.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_us: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, secs: f64) {
        let i = self.le.partition_point(|&b| b < secs);
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_us
            .fetch_add((secs.max(0.0) * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Histogram {
        Histogram {
            le: self.le.to_vec(),
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum: self.sum_us.load(Ordering::Relaxed) as f64 / 1e6,
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

/// What the sink and the service share: the service's counters, the last
/// error, and when to stop.
pub struct Shared {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub resent: AtomicU64,
    /// Seconds from spooling to acknowledgement of the last release, in ms.
    pub lag_ms: AtomicU64,
    /// Spooling to acknowledgement of every delivered event, and every
    /// spool commit.
    pub delivery: Timings,
    pub commit: Timings,
    pub connected: AtomicBool,
    /// Events lost after spooling, by topic rank (too large for the
    /// broker, or of an unknown class); index 5: unknown.
    dropped: [AtomicU64; 6],
    last_error: Mutex<Option<String>>,
    /// When a warning printed last, for the broker's and for the spool's
    /// (lost events), so an outage is not a flood of them and broker
    /// noise never hides a loss.
    warned: Mutex<[Option<Instant>; 2]>,
    stop: Mutex<Option<Instant>>,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            resent: AtomicU64::new(0),
            lag_ms: AtomicU64::new(0),
            delivery: Timings::new(DELIVERY_LE),
            commit: Timings::new(COMMIT_LE),
            connected: AtomicBool::new(false),
            dropped: Default::default(),
            last_error: Mutex::new(None),
            warned: Mutex::new([None; 2]),
            stop: Mutex::new(None),
        }
    }
}

impl Shared {
    /// Records a broker error and prints it, at most once a minute.
    pub fn warn(&self, what: &str) {
        self.warn_in(0, what);
    }

    /// Records a spool error (events lost) and prints it, at most once a
    /// minute, apart from the broker's warnings.
    pub fn warn_loss(&self, what: &str) {
        self.warn_in(1, what);
    }

    fn warn_in(&self, kind: usize, what: &str) {
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(what.to_string());
        }
        if let Ok(mut w) = self.warned.lock() {
            if w[kind].is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                w[kind] = Some(Instant::now());
                tracing::warn!(kind = ["broker", "spool"][kind], "{what}");
            }
        }
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    pub fn note_dropped(&self, topic: Option<Topic>, n: u64) {
        let i = topic.map_or(5, |t| usize::from(t.rank()));
        self.dropped[i].fetch_add(n, Ordering::Relaxed);
    }

    pub fn dropped(&self, topic: Topic) -> u64 {
        self.dropped[usize::from(topic.rank())].load(Ordering::Relaxed)
    }

    /// Asks the service to stop once everything is delivered, or at
    /// `deadline` at the latest.
    pub fn stop(&self, deadline: Instant) {
        if let Ok(mut s) = self.stop.lock() {
            *s = Some(deadline);
        }
    }

    pub fn stop_at(&self) -> Option<Instant> {
        self.stop.lock().ok().and_then(|s| *s)
    }
}
