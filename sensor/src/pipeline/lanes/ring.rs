//! The hand-over of a shared walk (`shared.rs`), apart from what is
//! walked: a ring of chunk slots, each holding one list per worker, and
//! the counters that say who may walk, who may read and when a slot is
//! free again.
//!
//! This is the only place where the walk's threads meet without a lock, so
//! it is kept generic and small enough for `ring_loom.rs` to check it
//! under loom with the same source: the walker state `W` and the lists `L`
//! are plain data here, the packets and the clock are `shared.rs`'s.
//!
//! The rules, which the `Sync` below relies on:
//! - Walking is serialised by `claimed`: the worker that moves it from
//!   `walked` to `walked + 1` alone uses the walker state and the slot of
//!   that chunk, until it moves `walked` on (release). The next claimant
//!   acquires `walked` before claiming.
//! - A walker writes a slot only once every worker has marked the chunk
//!   before in it done (`done` acquired at `workers`; each worker's mark is
//!   a release, after its last read of the slot).
//! - A worker reads a slot only once its chunk is published (`walked`
//!   acquired past it) and until it marks it done.

use super::sync::{wait, AtomicU64, AtomicUsize, Cell, Ordering, Ref};

/// No chunk count known yet.
const UNKNOWN: u64 = u64::MAX;

struct Slot<L> {
    /// One list per worker.
    lists: Cell<Box<[L]>>,
    /// Workers done with the chunk in this slot; all of them means free.
    done: AtomicUsize,
}

/// Chunks handed from whoever walks them to `workers` workers.
pub(super) struct Ring<W, L> {
    workers: usize,
    /// A worker walks the chunks below its own plus this many while
    /// nobody else walks (its own included).
    ahead: u64,
    slots: Box<[Slot<L>]>,
    walker: Cell<W>,
    /// Chunks walked and published.
    walked: AtomicU64,
    /// Chunks claimed: one more than `walked` while a worker walks.
    claimed: AtomicU64,
    /// Chunks in all, once the walker met the end of the input.
    total: AtomicU64,
    /// Workers done with the whole ring; the last frees the lists.
    finished: AtomicUsize,
}

// SAFETY: the walker state moves between the threads that walk (`W:
// Send`); lists are written by one thread and read by others (`L: Send +
// Sync`); the rules in the module comment keep every access to a cell
// either exclusive or shared, never both at once (checked by loom in
// `ring_loom.rs`).
unsafe impl<W: Send, L: Send + Sync> Sync for Ring<W, L> {}

/// What a worker gets for a chunk.
pub(super) enum Turn<'a, L> {
    /// Every worker's list of the chunk; the caller reads its own.
    Ready(Ref<'a, Box<[L]>>),
    /// The input is over.
    End,
    /// Told to stop while waiting.
    Stopped,
}

impl<W, L: Default> Ring<W, L> {
    /// A ring of `slots` slots for `workers` workers, each of which walks
    /// `ahead` chunks from its own on while nobody else walks. At most as
    /// many as there are slots: walking further, a worker would wait for a
    /// slot that holds a chunk it has yet to read itself (loom found that
    /// with one slot and two ahead).
    pub(super) fn new(walker: W, workers: usize, slots: usize, ahead: u64) -> Ring<W, L> {
        let workers = workers.max(1);
        let slots = slots.max(1);
        let lists = || (0..workers).map(|_| L::default()).collect();
        Ring {
            workers,
            ahead: ahead.clamp(1, slots as u64),
            slots: (0..slots)
                .map(|_| Slot {
                    lists: Cell::new(lists()),
                    done: AtomicUsize::new(workers),
                })
                .collect(),
            walker: Cell::new(walker),
            walked: AtomicU64::new(0),
            claimed: AtomicU64::new(0),
            total: AtomicU64::new(UNKNOWN),
            finished: AtomicUsize::new(0),
        }
    }

    fn slot(&self, c: u64) -> &Slot<L> {
        &self.slots[(c % self.slots.len() as u64) as usize]
    }

    /// The lists of chunk `c`, walking up to `ahead` chunks from it first
    /// when nobody else walks; waits while another worker walks it.
    /// `walk` fills the chunk's lists and says whether the input ended
    /// with it. The caller marks the chunk [`done`](Ring::done) when it
    /// is through with its list.
    pub(super) fn chunk<F>(&self, c: u64, stop: &dyn Fn() -> bool, walk: &mut F) -> Turn<'_, L>
    where
        F: FnMut(&mut W, u64, &mut [L]) -> bool,
    {
        let mut spins = 0u32;
        loop {
            // Walk ahead while the input is free, so the other workers
            // rarely find their next chunk missing.
            while self.try_walk(c + self.ahead, stop, walk) {}
            if self.walked.load(Ordering::Acquire) > c {
                // SAFETY: published (acquired above) and not yet marked done
                // by this worker, so no walker writes the slot.
                return Turn::Ready(unsafe { self.slot(c).lists.read() });
            }
            if c >= self.total.load(Ordering::Acquire) {
                return Turn::End;
            }
            if stop() {
                return Turn::Stopped;
            }
            // Another worker is walking this chunk, or waiting for a slot.
            wait(&mut spins);
        }
    }

    /// Marks chunk `c` as done by one worker: it reads its list no more.
    pub(super) fn done(&self, c: u64) {
        self.slot(c).done.fetch_add(1, Ordering::Release);
    }

    /// Walks the next chunk if it comes before `until`, nobody is walking
    /// and the input has not ended; false when it did not.
    fn try_walk<F>(&self, until: u64, stop: &dyn Fn() -> bool, walk: &mut F) -> bool
    where
        F: FnMut(&mut W, u64, &mut [L]) -> bool,
    {
        // The bound is checked on the very value claimed: checked on an
        // earlier load, a worker stalled in between could claim a chunk
        // whose slot holds one it has yet to read, and wait for itself
        // for ever (loom found it).
        let c = self.walked.load(Ordering::Acquire);
        if c >= until || c >= self.total.load(Ordering::Acquire) {
            return false;
        }
        if self
            .claimed
            .compare_exchange(c, c + 1, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        let slot = self.slot(c);
        // The slot's last chunk must be done by everyone. The workers that
        // hold it up read published chunks and walk none (a worker walks
        // only below its own chunk plus `ahead`, at most the slots), so
        // this ends.
        let mut spins = 64;
        while slot.done.load(Ordering::Acquire) < self.workers {
            if stop() {
                return false;
            }
            wait(&mut spins);
        }
        // SAFETY: this worker holds the claim on chunk `c`, and every
        // worker is done with the slot (module comment).
        let ended = unsafe {
            self.walker
                .with_mut(|w| slot.lists.with_mut(|lists| walk(w, c, lists)))
        };
        slot.done.store(0, Ordering::Relaxed);
        if ended {
            self.total.store(c + 1, Ordering::Release);
        }
        self.walked.store(c + 1, Ordering::Release);
        true
    }

    /// Called once by each worker after the end: the last one frees the
    /// lists, as nobody walks or reads them any more.
    pub(super) fn leave(&self) {
        if self.finished.fetch_add(1, Ordering::AcqRel) + 1 == self.workers {
            for slot in self.slots.iter() {
                // SAFETY: every worker has left (acquired above).
                unsafe {
                    slot.lists
                        .with_mut(|l| l.iter_mut().for_each(|l| *l = L::default()))
                };
            }
        }
    }
}
