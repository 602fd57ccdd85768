//! Feature `lock_api`: [`RawLock`] as a `lock_api` raw mutex.
//!
//! `lock_api` separates a lock's *policy* (the raw lock: how to acquire and release) from its
//! *data* (the generic `Mutex<R, T>` with its guards). Implementing its three traits for
//! synclab's 4-byte queued lock gives `lock_api::Mutex<RawLock, T>` — the same API as
//! `parking_lot::Mutex`, mapped guards and `unlock_fair` included — on synclab's algorithm.
//!
//! ```
//! type Mutex<T> = lock_api::Mutex<synclab::RawLock, T>;
//!
//! let m = Mutex::new(1);
//! *m.lock() += 1;
//! assert_eq!(*m.lock(), 2);
//! assert!(m.try_lock_for(std::time::Duration::from_millis(1)).is_some());
//! lock_api::MutexGuard::unlock_fair(m.lock());
//! ```

use std::time::{Duration, Instant};

use lock_api::GuardNoSend;

use crate::RawLock;
use crate::futex;

// SAFETY: `RawLock` is a mutual-exclusion lock: `lock` and a successful `try_lock` return only
// once this thread holds it exclusively, and `unlock` (given the guard state that proves the
// acquisition) releases it with Release ordering, pairing with the Acquire of the next lock.
// Its operations do not unwind. The guard state is a stateless marker, so forgetting it is safe
// (the lock simply stays held), and it is `!Send`, like std's guards.
unsafe impl lock_api::RawMutex for RawLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawLock = RawLock::new();

    type Guard = GuardNoSend;

    #[inline]
    fn lock(&self) -> GuardNoSend {
        RawLock::lock(self);
        GuardNoSend::new()
    }

    #[inline]
    fn try_lock(&self) -> Option<GuardNoSend> {
        RawLock::try_lock(self).then(GuardNoSend::new)
    }

    #[inline]
    unsafe fn unlock(&self, _guard: GuardNoSend) {
        // SAFETY: the caller hands us the guard state of a successful acquisition, so the lock
        // is held in this context, which is `RawLock::unlock`'s requirement.
        unsafe { RawLock::unlock(self) }
    }

    #[inline]
    fn is_locked(&self) -> bool {
        RawLock::is_locked(self)
    }
}

// SAFETY: the timed acquisitions return a guard state only when the lock was acquired, exactly
// as `try_lock` does; on timeout they leave the lock as they found it.
unsafe impl lock_api::RawMutexTimed for RawLock {
    type Duration = Duration;
    type Instant = Instant;

    #[inline]
    fn try_lock_for(&self, timeout: Duration) -> Option<GuardNoSend> {
        self.lock_until(futex::deadline_after(timeout))
            .then(GuardNoSend::new)
    }

    #[inline]
    fn try_lock_until(&self, deadline: Instant) -> Option<GuardNoSend> {
        self.lock_until(Some(deadline)).then(GuardNoSend::new)
    }
}

// SAFETY: `unlock_fair` releases the lock exactly as `unlock` does (or hands it, still held, to
// one parked thread, which then owns it), given the guard state of a successful acquisition.
unsafe impl lock_api::RawMutexFair for RawLock {
    #[inline]
    unsafe fn unlock_fair(&self, _guard: GuardNoSend) {
        // SAFETY: as in `unlock`: the guard state proves the lock is held in this context.
        unsafe { RawLock::unlock_fair(self) }
    }
}
