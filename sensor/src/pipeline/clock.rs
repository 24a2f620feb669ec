//! Packet time as the pipeline sees it, and the two moments it derives
//! from it: when workers run their timers, and when packet time jumps back
//! so far that the packets after it come from another capture.
//!
//! Both dispatch modes use this one clock over the full packet sequence,
//! so timers and flushes happen at the same packets whatever the number of
//! workers, and records do not depend on it.

/// Packet time between timer runs.
pub(super) const TICK_NS: i64 = 1_000_000_000;
/// A step back in packet time larger than this is a jump to another
/// capture rather than reordering; equal to the workers' timer lag, which
/// absorbs smaller reorderings.
const BACKWARD_JUMP_NS: i64 = crate::flow::tracker::SWEEP_LAG_NS;

#[derive(Clone, Debug)]
pub(super) struct PacketClock {
    pub now: i64,
    pub first: Option<i64>,
    /// The last packet's time. Not `now`, which a quiet live wire moves
    /// on by the wall clock so that timers still run.
    latest: Option<i64>,
    next_tick: i64,
}

impl Default for PacketClock {
    fn default() -> Self {
        PacketClock {
            now: i64::MIN,
            first: None,
            latest: None,
            next_tick: i64::MIN,
        }
    }
}

impl PacketClock {
    /// Moves to the time of the next packet. True when time jumped back to
    /// another capture: every open connection ends before this packet.
    #[inline]
    pub fn arrive(&mut self, ts: i64) -> bool {
        if self.first.is_none() {
            self.first = Some(ts);
        }
        let jumped = self.now != i64::MIN && ts < self.now - BACKWARD_JUMP_NS;
        self.now = ts;
        self.latest = Some(ts);
        jumped
    }

    /// After a packet: the time to run timers to, when they are due.
    #[inline]
    pub fn tick_due(&mut self) -> Option<i64> {
        let now = self.now;
        if now < self.next_tick && now >= self.next_tick.saturating_sub(2 * TICK_NS) {
            return None;
        }
        let due = self.next_tick != i64::MIN;
        self.next_tick = now.saturating_add(TICK_NS);
        due.then_some(now)
    }

    /// The last packet's time, if any packet arrived.
    pub fn last(&self) -> Option<i64> {
        self.latest
    }
}

#[cfg(test)]
mod tests {
    use super::PacketClock;

    /// A quiet live wire moves `now` on by the wall clock; the last
    /// packet's time (the end of the traffic's span) stays where it was.
    #[test]
    fn quiet_ticks_do_not_move_the_last_packet_time() {
        let mut c = PacketClock::default();
        assert_eq!(c.last(), None);
        c.arrive(5_000);
        c.now = 9_000_000_000;
        assert_eq!(c.last(), Some(5_000));
        c.arrive(9_000_000_001);
        assert_eq!(c.last(), Some(9_000_000_001));
    }
}
