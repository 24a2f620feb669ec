//! Waiting for work without a lock: spin briefly, then yield, then sleep
//! for growing intervals, so a busy pipeline reacts within nanoseconds and
//! an idle one costs almost no CPU.

use crossbeam_utils::Backoff;
use std::time::Duration;

/// Longest sleep between polls of an empty queue.
const MAX_SLEEP_US: u64 = 1000;

pub(super) struct Idle {
    backoff: Backoff,
    sleeps: u32,
}

impl Idle {
    pub fn new() -> Idle {
        Idle {
            backoff: Backoff::new(),
            sleeps: 0,
        }
    }

    pub fn reset(&mut self) {
        self.backoff.reset();
        self.sleeps = 0;
    }

    /// Waits a little; each call waits at least as long as the previous one.
    pub fn wait(&mut self) {
        if !self.backoff.is_completed() {
            self.backoff.snooze();
            return;
        }
        self.sleeps = self.sleeps.saturating_add(1);
        let us = (20u64 << (self.sleeps / 32).min(6)).min(MAX_SLEEP_US);
        std::thread::sleep(Duration::from_micros(us));
    }
}
