//! The queued lock of issue 14 (`synclab::queued_lock`, tuning log entry 17) as a
//! `perf_scratch` contender: a lock word with LOCKED and PARKED bits, waiters parked in a queue
//! keyed by the lock's address, direct hand-off only in `unlock_fair`. The algorithm lives in the
//! library, `#[doc(hidden)]`, so that loom can check it (`tests/loom_queued_lock.rs`); this file
//! only gives it data and the benchmarks' trait.

use synclab::queued_lock::QueuedLock;

use super::{Guarded, RawBench};

// ANCHOR: queued
impl RawBench for QueuedLock {
    #[inline]
    fn lock(&self) {
        QueuedLock::lock(self);
    }
    #[inline]
    unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock (the trait's contract).
        unsafe { QueuedLock::unlock(self) }
    }
}

/// A `u64` behind a [`QueuedLock`], as `synclab::Lock<u64>` is behind a `RawLock`.
pub type Queued = Guarded<QueuedLock>;
// ANCHOR_END: queued
