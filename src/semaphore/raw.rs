//! The counting state machine under [`Semaphore`](super::Semaphore) and
//! [`BoundedSemaphore`](super::BoundedSemaphore): one `AtomicU32`, the permit count in bits
//! 1..32 and a "someone may sleep" flag in bit 0.
//!
//! | word | meaning | `acquire` does | `release(n)` does |
//! |---|---|---|---|
//! | `p << 1`, p > 0 | p permits free, nobody recorded asleep | CAS p → p − 1, done | CAS p → p + n, no syscall |
//! | `p << 1 \| WAITERS`, p > 0 | p free, a sleeper may exist (a woken thread is on its way) | CAS p → p − 1, keeping `WAITERS` | CAS p → p + n, clearing `WAITERS`; wake |
//! | `0` | none free, nobody recorded asleep | spin; then CAS in `WAITERS` and sleep | CAS 0 → n, no syscall |
//! | `WAITERS` | none free, threads may sleep | sleep while the word is `WAITERS` | CAS → n, clearing `WAITERS`; wake one (n = 1) or all |
//!
//! A release checks the limit *before* it writes (`n <= limit − p`), so an over-release or an
//! overflow changes nothing and reports an error; the count never wraps.
//!
//! # Why no wakeup is lost
//!
//! The invariant: **whenever a thread sleeps on the word while a permit is free, some thread
//! owes a wake** — either a releaser between its CAS (which cleared `WAITERS`) and its wake call,
//! or a thread that has slept and not yet left the slow path (it "holds the baton"). The rules:
//!
//! 1. A thread sleeps only on the exact value `WAITERS` (no permit free, flag set), and the futex
//!    compares and sleeps atomically. So a sleeper never sleeps past a free permit unless the word
//!    changed after it fell asleep.
//! 2. Only `release` clears `WAITERS`, in the same CAS that adds its permits, and then it wakes.
//!    The thread it wakes takes over the baton for every sleeper that is left.
//! 3. **A thread that has slept once always leaves `WAITERS` set when it leaves the slow path**:
//!    (a) it takes a permit with a CAS to `(p − 1) | WAITERS`; (b) it goes back to sleep, which by
//!    rule 1 means it set `WAITERS` first; or (c) its deadline passes, and it makes one last
//!    attempt that ORs `WAITERS` back in whether or not it got a permit.
//! 4. In (a) and (c), if permits are *still* free after its take, it wakes one more sleeper,
//!    passing the baton on.
//! 5. Fast-path and `try_` acquires only subtract a permit and never touch `WAITERS`: they can
//!    make "a permit is free" false, never true, so they cannot break the invariant.
//!
//! What each rule prevents, with sleepers A and B:
//!
//! - without 3, `release` wakes A and clears the flag; A takes the permit and leaves the word `0`;
//!   the next `release` sees no flag and wakes nobody: B sleeps forever next to a free permit;
//! - without 4, two `release(1)` come back to back: the first clears the flag and wakes A, the
//!   second sees no flag and wakes nobody; A takes one permit, B sleeps next to the other;
//! - without 3(c), a thread whose timeout raced with the wake meant for it (the futex contract
//!   says a timed-out wait consumed no wake, but 3(c) does not depend on it) would leave with the
//!   flag cleared and nobody responsible for B.
//!
//! The price is at most one spare `wake` when the last sleeper leaves with the flag still set,
//! the same trade std's futex mutex makes with its `CONTENDED` state.

use std::time::Instant;

use super::ReleaseError;
use crate::backoff;
use crate::futex;
use crate::sync::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
    loom_const_fn,
};

// ANCHOR: word
/// Bit 0: a thread may sleep on the word; `release` must wake.
const WAITERS: u32 = 1;
/// One permit: the count lives in bits 1..32.
const ONE: u32 = 1 << 1;
/// The most permits the word can count (2^31 − 1).
pub(super) const MAX_PERMITS: u32 = u32::MAX >> 1;
// ANCHOR_END: word

/// The permit count of a state word.
#[inline]
const fn permits(state: u32) -> u32 {
    state >> 1
}

/// A counting semaphore without a limit of its own: callers pass the limit to `release`.
pub(super) struct RawSemaphore {
    /// `permits << 1 | WAITERS` (table in the module docs).
    state: AtomicU32,
}

impl RawSemaphore {
    loom_const_fn! {
        /// `permits` must be at most `MAX_PERMITS` (the public constructors check).
        pub(super) fn new(permits: u32) -> RawSemaphore {
            RawSemaphore { state: AtomicU32::new(permits << 1) }
        }
    }

    /// Free permits now (a snapshot).
    #[inline]
    pub(super) fn available(&self) -> u32 {
        // Relaxed: a hint only; nothing is read on the strength of it.
        permits(self.state.load(Relaxed))
    }

    // ANCHOR: try_acquire
    /// Takes a permit if one is free; never sleeps. Fails only when none is free, never
    /// because another thread raced us.
    #[inline]
    pub(super) fn try_acquire(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        while state >= ONE {
            // Acquire: pairs with the Release CAS in `release`, so what the releaser wrote is
            // visible to the new holder. `state - ONE` keeps WAITERS as it is.
            match self
                .state
                .compare_exchange_weak(state, state - ONE, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(s) => state = s,
            }
        }
        false
    }
    // ANCHOR_END: try_acquire

    /// Takes a permit, sleeping until `deadline` at most (`None`: no limit). `true` if taken.
    #[inline]
    pub(super) fn acquire_until(&self, deadline: Option<Instant>) -> bool {
        self.try_acquire() || self.acquire_contended(deadline)
    }

    // ANCHOR: release
    /// Adds `n` permits if that keeps the count at most `limit`, and wakes sleepers.
    /// Changes nothing and returns `Err` otherwise.
    #[inline]
    pub(super) fn release(&self, n: usize, limit: u32) -> Result<(), ReleaseError> {
        if n == 0 {
            return Ok(());
        }
        let mut state = self.state.load(Relaxed);
        loop {
            let available = permits(state);
            // Check before writing: an over-release must leave the count as it was.
            let room = limit.saturating_sub(available);
            if n > room as usize {
                return Err(ReleaseError::new(available, n, limit));
            }
            // n <= room <= limit <= MAX_PERMITS, so neither the cast nor the shift overflows.
            let new = (available + n as u32) << 1; // WAITERS cleared: we wake below
            // Release: publishes what this thread wrote before `release` to the Acquire CAS
            // that takes the permit. (Every write to the word is an RMW, so the release
            // sequence survives other threads' CASes in between.)
            match self
                .state
                .compare_exchange_weak(state, new, Release, Relaxed)
            {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        if state & WAITERS != 0 {
            self.wake(n);
        }
        Ok(())
    }
    // ANCHOR_END: release

    // ANCHOR: acquire_contended
    /// The slow path of acquire: spin, then sleep. `false` if `deadline` passed first.
    #[cold]
    fn acquire_contended(&self, deadline: Option<Instant>) -> bool {
        let mut state = 0;
        // Relaxed: a hint of when to try the real (Acquire) CAS. Stop as soon as a permit is
        // free or someone sleeps already (we would only queue up behind them).
        backoff::spin_until(|| {
            state = self.state.load(Relaxed);
            state >= ONE || state & WAITERS != 0
        });

        let mut slept = false;
        loop {
            if state >= ONE {
                // Rule 3(a): once we have slept, keep WAITERS set.
                let new = (state - ONE) | if slept { WAITERS } else { 0 };
                // Acquire: pairs with the Release CAS in `release`.
                match self
                    .state
                    .compare_exchange_weak(state, new, Acquire, Relaxed)
                {
                    Ok(_) => {
                        if slept {
                            self.pass_baton(new);
                        }
                        return true;
                    }
                    Err(s) => {
                        state = s;
                        continue;
                    }
                }
            }
            if state & WAITERS == 0 {
                // Relaxed: the flag carries no data; `release` reads it through its own CAS.
                match self
                    .state
                    .compare_exchange(state, state | WAITERS, Relaxed, Relaxed)
                {
                    Ok(_) => state |= WAITERS,
                    Err(s) => {
                        state = s;
                        continue;
                    }
                }
            }
            // Rule 1: no permit free and the flag set, so the word is exactly WAITERS.
            debug_assert_eq!(state, WAITERS);
            slept = true;
            if futex::wait(&self.state, WAITERS, deadline).timed_out() {
                return self.acquire_after_timeout();
            }
            state = self.state.load(Relaxed);
        }
    }
    // ANCHOR_END: acquire_contended

    // ANCHOR: after_timeout
    /// Rule 3(c): one last attempt after the deadline, leaving WAITERS set either way.
    #[cold]
    fn acquire_after_timeout(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            let got = state >= ONE;
            let new = if got { state - ONE } else { state } | WAITERS;
            if new == state {
                return false; // no permit, flag already set: nothing to write
            }
            // Acquire: pairs with the Release CAS in `release` (when we take a permit).
            match self.state.compare_exchange(state, new, Acquire, Relaxed) {
                Ok(_) => {
                    if got {
                        self.pass_baton(new);
                    }
                    return got;
                }
                Err(s) => state = s,
            }
        }
    }
    // ANCHOR_END: after_timeout

    // ANCHOR: pass_baton
    /// Rule 4: a thread that slept took a permit and left `new`; if permits are still free, a
    /// sleeper may have been skipped by a release that found WAITERS clear: wake one.
    #[inline]
    fn pass_baton(&self, new: u32) {
        if new >= ONE {
            self.wake(1);
        }
    }
    // ANCHOR_END: pass_baton

    #[cold]
    fn wake(&self, n: usize) {
        if n == 1 {
            futex::wake_one(&self.state);
        } else {
            futex::wake_all(&self.state);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn release_checks_before_writing() {
        let raw = RawSemaphore::new(MAX_PERMITS - 1);
        raw.state.fetch_or(WAITERS, Relaxed);
        let before = raw.state.load(Relaxed);
        assert!(raw.release(2, MAX_PERMITS).is_err());
        assert!(raw.release(usize::MAX, MAX_PERMITS).is_err());
        assert_eq!(raw.state.load(Relaxed), before); // count and flag untouched
        assert!(raw.release(1, MAX_PERMITS).is_ok());
        assert_eq!(raw.state.load(Relaxed), MAX_PERMITS << 1); // full, flag cleared
    }

    #[test]
    fn timed_out_acquire_leaves_the_flag_set() {
        let raw = RawSemaphore::new(0);
        assert!(!raw.acquire_until(Some(Instant::now())));
        assert_eq!(raw.state.load(Relaxed), WAITERS);
        raw.release(1, MAX_PERMITS).unwrap();
        assert_eq!(raw.state.load(Relaxed), ONE);
    }

    #[test]
    fn fast_path_keeps_the_flag() {
        let raw = RawSemaphore::new(2);
        raw.state.fetch_or(WAITERS, Relaxed);
        assert!(raw.try_acquire());
        assert_eq!(raw.state.load(Relaxed), ONE | WAITERS);
    }
}
