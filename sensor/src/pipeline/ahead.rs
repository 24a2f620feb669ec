//! Prefetching for a worker that can see the packets it is about to
//! process: the index slot of the packet `LOOKAHEAD` places on, and the
//! connection of the one halfway there (whose slot has arrived by then).
//! Lane workers see ahead in their lane, queue-fed workers in their batch,
//! workers of a shared input in their list; all step the same way.

use crate::capture::LOOKAHEAD;
use crate::decode::LinkType;
use crate::flow::Tracker;

/// Connection guesses for the next `LOOKAHEAD` packets.
pub(super) struct Prefetcher {
    /// The guess for packet `i + k` sits at `(next + k) % LOOKAHEAD`, `i`
    /// being the packet about to be processed.
    ring: [Option<u64>; LOOKAHEAD],
    next: usize,
}

impl Prefetcher {
    pub fn new() -> Prefetcher {
        Prefetcher {
            ring: [None; LOOKAHEAD],
            next: 0,
        }
    }

    /// Starts a sequence whose first `LOOKAHEAD` packets are known, so they
    /// too have their slots on the way.
    pub fn prime<'a>(
        &mut self,
        tracker: &Tracker,
        packet: impl Fn(usize) -> Option<(LinkType, &'a [u8])>,
    ) {
        self.next = 0;
        for (j, g) in self.ring.iter_mut().enumerate() {
            *g = packet(j).and_then(|(link, frame)| tracker.prefetch_slot(link, frame));
        }
    }

    /// Before processing a packet: `far` is the one `LOOKAHEAD` places on.
    #[inline]
    pub fn step(&mut self, tracker: &Tracker, far: Option<(LinkType, &[u8])>) {
        self.ring[self.next % LOOKAHEAD] =
            far.and_then(|(link, frame)| tracker.prefetch_slot(link, frame));
        self.next = self.next.wrapping_add(1);
        if let Some(g) = self.ring[(self.next + LOOKAHEAD / 2 - 1) % LOOKAHEAD] {
            tracker.prefetch_conn(g);
        }
    }
}
