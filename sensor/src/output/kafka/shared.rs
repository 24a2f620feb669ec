//! What the sink and the service threads share: delivery counters, drops
//! by topic, the last error (rate-limited warnings) and the stop deadline.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vagt_schema::Topic;

/// What the sink and the service share: the service's counters, the last
/// error, and when to stop.
#[derive(Default)]
pub struct Shared {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub resent: AtomicU64,
    /// Seconds from spooling to acknowledgement of the last release, in ms.
    pub lag_ms: AtomicU64,
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
                eprintln!("vagt-sensor: warning: {what}");
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
