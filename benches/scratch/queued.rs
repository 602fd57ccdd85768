//! The queued lock of issue 14 (`synclab::queued_lock`, tuning log entry 17) as a
//! `perf_scratch` contender: a lock word with LOCKED and PARKED bits, waiters parked in a queue
//! keyed by the lock's address, direct hand-off about every 0.5 ms. The algorithm lives in the
//! library, `#[doc(hidden)]`, so that loom can check it (`tests/loom_queued_lock.rs`); this file
//! only gives it data and the benchmarks' trait.

use std::cell::UnsafeCell;

use synclab::queued_lock::QueuedLock;

use super::{BenchLock, busy};

// ANCHOR: queued
/// A `u64` behind a [`QueuedLock`], as `synclab::Lock<u64>` is behind a `RawLock`.
#[derive(Default)]
pub struct Queued(QueuedLock, UnsafeCell<u64>);

// SAFETY: the `u64` is touched only by the thread that holds the lock.
unsafe impl Sync for Queued {}

impl BenchLock for Queued {
    #[inline]
    fn incr(&self, rounds: u32) {
        self.0.lock();
        // SAFETY: the lock is held, so this is the only access to the `u64`; and this thread
        // holds the lock it releases.
        unsafe {
            *self.1.get() += 1;
            busy(&mut *self.1.get(), rounds);
            self.0.unlock();
        }
    }
}
// ANCHOR_END: queued
