//! The walk's hand-over (`ring.rs`) under loom: the same source, compiled
//! against loom's atomics and cells, run with every interleaving of two
//! workers (up to a bound on preemptions). Loom fails the test on any
//! access to a slot's lists or to the walker state that the protocol does
//! not order, and the assertions check that every worker gets each chunk
//! once, in order, with its own list as it was walked.

/// loom's versions of what `sync.rs` gives the ring.
mod sync {
    pub(super) use loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::marker::PhantomData;

    /// Yielding lets loom run the other worker, which a spin would not.
    pub(super) fn wait(_spins: &mut u32) {
        loom::thread::yield_now();
    }

    pub(super) struct Cell<T>(loom::cell::UnsafeCell<T>);

    /// Holds loom's record of the read while it lives.
    pub(super) struct Ref<'a, T>(loom::cell::ConstPtr<T>, PhantomData<&'a T>);

    impl<T> std::ops::Deref for Ref<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: as for `sync.rs`'s `Ref`; loom checks it.
            unsafe { self.0.deref() }
        }
    }

    impl<T> Cell<T> {
        pub(super) fn new(value: T) -> Cell<T> {
            Cell(loom::cell::UnsafeCell::new(value))
        }

        pub(super) unsafe fn read(&self) -> Ref<'_, T> {
            Ref(self.0.get(), PhantomData)
        }

        pub(super) unsafe fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
            self.0.with_mut(|p| f(&mut *p))
        }
    }
}

// The same file a second time on purpose: loom must test the code that
// runs, not a copy of it.
#[allow(dead_code, clippy::duplicate_mod)]
#[path = "ring.rs"]
mod ring;

use loom::sync::Arc;
use ring::{Ring, Turn};

/// The walker: how many chunks it walked.
#[derive(Default)]
struct Walked(u64);

/// Two workers, `chunks` chunks through `slots` slots: each worker gets
/// every chunk once, with the list the walker left it.
fn model(chunks: u64, slots: usize, ahead: u64) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    // Waiting is a loop of loads and yields, each a branch to loom.
    builder.max_branches = 10_000;
    builder.check(move || {
        let ring: Arc<Ring<Walked, Vec<u64>>> = Arc::new(Ring::new(Walked(0), 2, slots, ahead));
        let other = ring.clone();
        let t = loom::thread::spawn(move || worker(1, &other, chunks));
        worker(0, &ring, chunks);
        t.join().unwrap();
    });
}

/// Worker `me` reads every chunk, walking those it gets to first.
fn worker(me: usize, ring: &Ring<Walked, Vec<u64>>, chunks: u64) {
    let mut walk = |w: &mut Walked, c: u64, lists: &mut [Vec<u64>]| {
        assert_eq!(w.0, c, "chunks are walked once, in order");
        w.0 += 1;
        for (i, l) in lists.iter_mut().enumerate() {
            l.clear();
            l.push(c * 10 + i as u64);
        }
        c + 1 == chunks
    };
    let mut seen = 0u64;
    loop {
        match ring.chunk(seen, &|| false, &mut walk) {
            Turn::Ready(lists) => {
                assert_eq!(lists[me], [seen * 10 + me as u64]);
                drop(lists);
                ring.done(seen);
                seen += 1;
            }
            Turn::End => break,
            Turn::Stopped => unreachable!("nobody stops"),
        }
    }
    assert_eq!(seen, chunks);
    ring.leave();
}

/// Each chunk in a slot of its own: walking, publishing and the end.
#[test]
fn two_workers_walk_and_read_in_turns() {
    model(2, 2, 1);
}

/// One slot, used again for every chunk: the walker must wait until both
/// workers are done with the chunk before.
#[test]
fn a_slot_is_written_again_only_when_both_are_done_with_it() {
    model(3, 1, 1);
}

/// Walking ahead of its own chunk into a slot used before.
#[test]
fn a_worker_walks_ahead_into_a_reused_slot() {
    model(3, 2, 2);
}
