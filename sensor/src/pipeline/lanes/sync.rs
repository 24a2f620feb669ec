//! The few concurrency primitives of the walk's hand-over (`ring.rs`), so
//! that its loom test (`ring_loom.rs`) can compile the same protocol
//! against loom's models of them, which see every interleaving and every
//! unsynchronised access to a cell. Here they are std's, and `Cell` adds
//! nothing to an `UnsafeCell`.

pub(super) use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Waiting for another worker: spin briefly, then give up the core.
pub(super) fn wait(spins: &mut u32) {
    *spins += 1;
    if *spins < 64 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// A cell whose accesses the ring's protocol orders.
pub(super) struct Cell<T>(std::cell::UnsafeCell<T>);

/// A shared borrow of a [`Cell`]'s contents.
pub(super) struct Ref<'a, T>(&'a T);

impl<T> std::ops::Deref for Ref<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        self.0
    }
}

impl<T> Cell<T> {
    pub(super) fn new(value: T) -> Cell<T> {
        Cell(std::cell::UnsafeCell::new(value))
    }

    /// # Safety
    /// Nobody writes the cell while the borrow lives.
    #[inline]
    pub(super) unsafe fn read(&self) -> Ref<'_, T> {
        Ref(&*self.0.get())
    }

    /// # Safety
    /// Nobody else reads or writes the cell meanwhile.
    #[inline]
    pub(super) unsafe fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut *self.0.get())
    }
}
