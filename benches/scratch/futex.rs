//! The three-state `FutexLock` (`src/futex_lock.rs`), `Lock`'s raw lock until issue 14 made the
//! queued lock the default (tuning log, entries 17, 21 and 22), as a `perf_scratch` contender,
//! so that the two designs can still be compared in one run.

use synclab::FutexLock;

use super::{Guarded, RawBench};

impl RawBench for FutexLock {
    #[inline]
    fn lock(&self) {
        FutexLock::lock(self);
    }
    #[inline]
    unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock (the trait's contract).
        unsafe { FutexLock::unlock(self) }
    }
}

/// A `u64` behind a [`FutexLock`], as `synclab::Lock<u64>` is behind a `RawLock`.
pub type Futex = Guarded<FutexLock>;
