//! [`FutexLock`]: the three-state futex mutex, the lock the book builds first. It was `Lock`'s
//! raw lock until the queued lock ([`RawLock`](crate::RawLock)) measured faster under contention
//! (tuning log, entries 21 and 22); it stays as a public type of its own, and the queued lock's
//! parking table guards its buckets with it.
//!
//! The algorithm is the one std uses on Linux (and that *Rust Atomics and Locks* builds in
//! chapter 9): one `AtomicU32`, three states, a load-only wait before sleeping (exponential
//! spins, then yields: parking_lot's policy), and an unlock that only makes a system call when
//! the state records sleepers.
//!
//! | state | meaning | `lock` does | `unlock` does |
//! |---|---|---|---|
//! | `UNLOCKED` (0) | free | CAS 0 → 1, done | — |
//! | `LOCKED` (1) | held, nobody asleep | spin; then swap → 2 and sleep | swap → 0, no syscall |
//! | `CONTENDED` (2) | held, someone may sleep | sleep while 2 | swap → 0, wake one |
//!
//! Invariant (no lost wakeup): a thread only sleeps on the value `CONTENDED`, and only after it
//! made the state `CONTENDED` itself (the swap) or saw it so. So whenever anyone sleeps, the
//! holder's unlock sees `CONTENDED` and wakes one. A woken thread takes the lock with
//! `swap(CONTENDED)`, never `CAS(0 → 1)`: it cannot know whether others still sleep, so it keeps
//! the flag, at the cost of one spare wake when it was the last. The unlock is a `swap`, not a
//! store, because it must learn the state it replaced: only a `CONTENDED` one needs the wake.

use std::fmt;
use std::time::Instant;

use crate::backoff::Backoff;
use crate::futex;
use crate::sync::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
    loom_const_fn,
};

// ANCHOR: states
const UNLOCKED: u32 = 0; // free
const LOCKED: u32 = 1; // held, no sleeper recorded
const CONTENDED: u32 = 2; // held, sleepers possible: unlock must wake one
// ANCHOR_END: states

/// The three-state futex lock, without data (4 bytes): the book's first full lock, and the
/// lock of each bucket in the queued lock's parking table. Most code wants
/// [`Lock`](crate::Lock), whose raw lock is [`RawLock`](crate::RawLock); this one needs no global
/// table, and its waiters sleep on the lock word itself.
///
/// ```
/// use synclab::FutexLock;
///
/// let raw = FutexLock::new();
/// raw.lock();
/// assert!(raw.is_locked());
/// assert!(!raw.try_lock());
/// // SAFETY: this thread holds the lock.
/// unsafe { raw.unlock() };
/// assert!(!raw.is_locked());
/// ```
pub struct FutexLock {
    /// `UNLOCKED`, `LOCKED` or `CONTENDED` (table in the module docs).
    state: AtomicU32,
}

impl FutexLock {
    loom_const_fn! {
        /// A new, unlocked lock.
        pub fn new() -> FutexLock {
            FutexLock { state: AtomicU32::new(UNLOCKED) }
        }
    }

    // ANCHOR: fast_path
    /// Acquires the lock, sleeping as long as needed.
    #[inline]
    pub fn lock(&self) {
        // Acquire: pairs with the Release store in `unlock`, so we see the previous holder's
        // writes to the protected data.
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_err()
        {
            self.lock_contended(None);
        }
    }

    /// Acquires the lock if it is free right now; never sleeps.
    #[inline]
    pub fn try_lock(&self) -> bool {
        // Acquire: as in `lock`.
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_ok()
    }

    /// Acquires the lock, sleeping until `deadline` at most (`None`: no limit).
    /// `true` if the lock was acquired.
    #[inline]
    pub fn lock_until(&self, deadline: Option<Instant>) -> bool {
        self.try_lock() || self.lock_contended(deadline)
    }

    /// `true` if some thread holds the lock (a snapshot: it may change at once).
    #[inline]
    pub fn is_locked(&self) -> bool {
        // Relaxed: a hint only; nothing is read on the strength of it.
        self.state.load(Relaxed) != UNLOCKED
    }

    /// Releases the lock.
    ///
    /// # Safety
    ///
    /// The lock must be held, by this thread or by a guard this thread owns.
    #[inline]
    pub unsafe fn unlock(&self) {
        // Release: publishes our writes to the protected data to the next Acquire in `lock`.
        if self.state.swap(UNLOCKED, Release) == CONTENDED {
            self.wake();
        }
    }

    // ANCHOR_END: fast_path

    // ANCHOR: lock_contended
    /// The slow path of `lock`: spin, then sleep. `false` if `deadline` passed first.
    #[cold]
    fn lock_contended(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.spin();

        // Free after the spin, and nobody recorded as sleeping: try the cheap way.
        if state == UNLOCKED {
            match self
                .state
                .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(s) => state = s,
            }
        }

        // ANCHOR: retake
        loop {
            // Mark the lock CONTENDED and take it if it was free. Acquire: as in `lock`.
            // The check first avoids a pointless write when it is CONTENDED already.
            if state != CONTENDED && self.state.swap(CONTENDED, Acquire) == UNLOCKED {
                return true;
            }
            if futex::wait(&self.state, CONTENDED, deadline).timed_out() {
                // One last look: the holder may have left between our check and the timeout.
                return self.state.swap(CONTENDED, Acquire) == UNLOCKED;
            }
            state = self.spin();
        }
        // ANCHOR_END: retake
    }
    // ANCHOR_END: lock_contended

    // ANCHOR: spin
    /// Waits while the lock is held but nobody sleeps: rounds of exponentially more `PAUSE`s,
    /// then a few yields (parking_lot's policy, not std's 100 plain spins: measured 0.6-0.9x
    /// parking_lot where std's policy gave 1.3-2.7x on 2 cores). Returns the last state seen.
    #[inline]
    fn spin(&self) -> u32 {
        let mut backoff = Backoff::new();
        loop {
            // Relaxed: only a hint of when to try the real (Acquire) operation.
            let state = self.state.load(Relaxed);
            if state != LOCKED || backoff.is_completed() {
                return state;
            }
            backoff.snooze();
        }
    }
    // ANCHOR_END: spin

    #[cold]
    fn wake(&self) {
        // One is enough: it will swap CONTENDED back in, so the next unlock wakes the next.
        futex::wake_one(&self.state);
    }
}

impl Default for FutexLock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FutexLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FutexLock")
            .field("locked", &self.is_locked())
            .finish()
    }
}
