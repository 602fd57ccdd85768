//! A prototype for issue 14: a raw lock whose waiters park in a queue *off* the lock word, keyed
//! by the lock's address, with a direct hand-off. Not part of the API (`#[doc(hidden)]`): it is
//! in the library only so that loom can check it (`tests/loom_queued_lock.rs`);
//! `benches/scratch/queued.rs` measures it against [`RawLock`](crate::RawLock), and the tuning
//! log (entry 17) has the figures.
//!
//! The design is parking_lot's `RawMutex` over `parking_lot_core` (itself WebKit's
//! `WTF::ParkingLot`): two bits in the lock word, LOCKED and PARKED, and the parked threads in
//! a global table of buckets. What differs from parking_lot: the table is fixed (64 buckets, as
//! in the portable futex backend, `src/futex/fallback.rs`), a bucket is guarded by synclab's own
//! [`RawLock`](crate::RawLock) (parking_lot needs its `WordLock` because it has no futex to
//! build on), and the queue node lives on the parked thread's stack.
//!
//! Why the queue, after the three-state word and the counted word (tuning log, 13 and 15): a
//! waiter that sleeps on the *lock word* is disturbed by every change to it, so a word that
//! records sleepers either stays "contended" too long (three states) or churns (a count). Here
//! each parked thread sleeps on its own word (its `Thread`'s parker), the lock word says only
//! "someone is parked", and the unlock that empties the queue knows it and clears the bit, so
//! newcomers spin and yield again instead of parking behind nobody.

mod table;

#[cfg(loom)]
use std::cell::Cell;
use std::ptr;

use crate::sync::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
    spin_loop, yield_now,
};
use table::{HANDED_OFF, Node, WOKEN, bucket};

// ANCHOR: state
const LOCKED_BIT: u32 = 0b01; // some thread holds the lock
const PARKED_BIT: u32 = 0b10; // some thread is (or is about to be) parked on this lock

/// A lock word and nothing else (4 bytes); its waiters queue in the global table.
///
/// `state`, after parking_lot's `RawMutex`:
///
/// | `PARKED_BIT` | `LOCKED_BIT` | meaning | `lock` does | `unlock` does |
/// |---|---|---|---|---|
/// | 0 | 0 | free, nobody parked | CAS → `LOCKED`, done | — |
/// | 0 | 1 | held, nobody parked | spin and yield; then set `PARKED`, park | CAS → 0, no syscall |
/// | 1 | 1 | held, threads parked (or about to) | park | bucket: dequeue one, wake it |
/// | 1 | 0 | free, threads parked: a woken one is on its way | barge: CAS → `+LOCKED` | — |
///
/// Invariants (no lost wakeup):
///
/// 1. A thread enqueues itself only while holding its bucket's lock, and only after seeing the
///    state exactly `LOCKED | PARKED` under that lock.
/// 2. `PARKED_BIT` is cleared only by an unlock, with the bucket lock held, when the queue holds
///    no other thread for this lock.
///
/// So while anyone is queued, `PARKED` is set; while `PARKED` is set, `unlock`'s fast CAS
/// (`LOCKED → 0`) fails and the slow path looks at the queue under the bucket lock. A waiter that
/// set `PARKED` but has not queued yet is safe too: if the unlock takes the bucket lock first it
/// finds nobody and stores 0, and the waiter's check under the bucket lock then fails.
pub struct QueuedLock {
    state: AtomicU32,
}
// ANCHOR_END: state

// ANCHOR: spin_wait
/// parking_lot's `SpinWait`: rounds of 2, 4 and 8 `PAUSE`s, then yields, 10 steps in all; then
/// park. Only while nobody is parked (a newcomer would only queue behind the parked ones).
#[derive(Default)]
struct SpinWait {
    step: u32,
}

impl SpinWait {
    const PAUSE_ROUNDS: u32 = 3;
    /// Under loom none: a spinning model would never reach the park (see `backoff::SPIN_LIMIT`).
    const STEPS: u32 = if cfg!(loom) { 0 } else { 10 };

    /// One step; `false` once the caller should park instead.
    fn spin(&mut self) -> bool {
        if self.step >= Self::STEPS {
            return false;
        }
        self.step += 1;
        if self.step <= Self::PAUSE_ROUNDS {
            for _ in 0..1u32 << self.step {
                spin_loop();
            }
        } else {
            yield_now();
        }
        true
    }
}
// ANCHOR_END: spin_wait

impl QueuedLock {
    crate::sync::loom_const_fn! {
        /// A new, unlocked lock.
        pub fn new() -> QueuedLock {
            QueuedLock { state: AtomicU32::new(0) }
        }
    }

    // ANCHOR: fast_path
    /// Acquires the lock.
    #[inline]
    pub fn lock(&self) {
        // Acquire: pairs with the Release of the `unlock` that freed it.
        if self
            .state
            .compare_exchange_weak(0, LOCKED_BIT, Acquire, Relaxed)
            .is_err()
        {
            self.lock_slow();
        }
    }

    /// Releases the lock; a parked thread, if any, is woken to compete for it again (or, about
    /// every 0.5 ms, handed the lock directly).
    ///
    /// # Safety
    ///
    /// The caller holds the lock.
    #[inline]
    pub unsafe fn unlock(&self) {
        // Release: publishes the critical section to the next Acquire of the lock.
        if self
            .state
            .compare_exchange(LOCKED_BIT, 0, Release, Relaxed)
            .is_err()
        {
            self.unlock_slow(false);
        }
    }
    // ANCHOR_END: fast_path

    /// Releases the lock, handing it directly to the longest-parked thread if there is one
    /// (parking_lot's `unlock_fair`).
    ///
    /// # Safety
    ///
    /// The caller holds the lock.
    pub unsafe fn unlock_fair(&self) {
        // Release: as in `unlock`.
        if self
            .state
            .compare_exchange(LOCKED_BIT, 0, Release, Relaxed)
            .is_err()
        {
            self.unlock_slow(true);
        }
    }

    /// Acquires the lock if it is free now (even ahead of parked threads).
    pub fn try_lock(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        while state & LOCKED_BIT == 0 {
            // Acquire: as in `lock`.
            match self
                .state
                .compare_exchange_weak(state, state | LOCKED_BIT, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(s) => state = s,
            }
        }
        false
    }

    /// `true` if some thread holds the lock (a snapshot).
    pub fn is_locked(&self) -> bool {
        // Relaxed: a hint only.
        self.state.load(Relaxed) & LOCKED_BIT != 0
    }

    fn key(&self) -> usize {
        ptr::from_ref(&self.state).addr()
    }

    // ANCHOR: lock_slow
    #[cold]
    fn lock_slow(&self) {
        let mut spin = SpinWait::default();
        // Relaxed: only a guide to the next CAS, which is the real test.
        let mut state = self.state.load(Relaxed);
        loop {
            // Free (even with threads parked: a running thread may barge in): take it.
            if state & LOCKED_BIT == 0 {
                // Acquire: as in `lock`.
                match self
                    .state
                    .compare_exchange_weak(state, state | LOCKED_BIT, Acquire, Relaxed)
                {
                    Ok(_) => return,
                    Err(s) => state = s,
                }
                continue;
            }
            // Held, and nobody parked: spin, then yield, hoping the holder leaves soon.
            if state & PARKED_BIT == 0 && spin.spin() {
                state = self.state.load(Relaxed);
                continue;
            }
            // Announce the park. Relaxed: the check that counts is made again under the bucket
            // lock, and this CAS and `unlock`'s fast CAS are ordered by the word itself.
            if state & PARKED_BIT == 0 {
                if let Err(s) =
                    self.state
                        .compare_exchange_weak(state, state | PARKED_BIT, Relaxed, Relaxed)
                {
                    state = s;
                    continue;
                }
            }
            if self.park() == HANDED_OFF {
                return; // the unlocker left LOCKED set for us
            }
            spin = SpinWait::default();
            state = self.state.load(Relaxed);
        }
    }
    // ANCHOR_END: lock_slow

    // ANCHOR: park
    /// Queues this thread on the lock and sleeps until an unlock dequeues it. Returns the token
    /// it was woken with, or `WOKEN` at once if the lock changed before it could queue.
    fn park(&self) -> u32 {
        let key = self.key();
        let bucket = bucket(key);
        let node = Node::new(key);
        bucket.lock.lock();
        // Relaxed: the bucket lock orders this load after every store an unlock made under it.
        if self.state.load(Relaxed) != LOCKED_BIT | PARKED_BIT {
            // SAFETY: taken just above.
            unsafe { bucket.lock.unlock() };
            return WOKEN;
        }
        // SAFETY: the bucket lock is held; `node` stays where it is, on this frame, which does
        // not return before an unlock has dequeued it and set its token.
        unsafe { bucket.with_queue(|q| q.push(&node)) };
        // SAFETY: taken just above.
        unsafe { bucket.lock.unlock() };
        #[cfg(loom)]
        PARKS.with(|n| n.set(n.get() + 1));
        loop {
            // Acquire: pairs with the Release store of the token in `unlock_slow`, so that a
            // hand-off brings the previous holder's writes with it.
            match node.token.load(Acquire) {
                table::WAITING => node.parker.park(), // may return early: look again
                token => return token,
            }
        }
    }
    // ANCHOR_END: park

    // ANCHOR: unlock_slow
    #[cold]
    fn unlock_slow(&self, force_fair: bool) {
        let bucket = bucket(self.key());
        bucket.lock.lock();
        // SAFETY: the bucket lock is held.
        let (node, more) = unsafe { bucket.with_queue(|q| q.remove_first(self.key())) };
        let Some(node) = node else {
            // A waiter set PARKED but has not queued: it will see 0 under the bucket lock and
            // retry. Release: as in `unlock`.
            self.state.store(0, Release);
            // SAFETY: taken above.
            return unsafe { bucket.lock.unlock() };
        };
        // SAFETY: the bucket lock is held.
        let token = if force_fair || unsafe { bucket.with_queue(|q| q.fair.due()) } {
            // Hand-off: the lock stays LOCKED and passes to the woken thread, which gets our
            // writes through the token (Release below). PARKED stays set if others remain.
            if !more {
                self.state.store(LOCKED_BIT, Relaxed);
            }
            HANDED_OFF
        } else {
            // Release: as in `unlock`. PARKED stays set while others are queued.
            self.state.store(if more { PARKED_BIT } else { 0 }, Release);
            WOKEN
        };
        // SAFETY: `node` was queued until just now, so its thread is still parked on it and it
        // is alive until the token store below; after that it is not touched again.
        let parker = unsafe { (*node).parker.clone() };
        // SAFETY: as above. Release: pairs with the Acquire load in `park`.
        unsafe { (*node).token.store(token, Release) };
        // SAFETY: taken above.
        unsafe { bucket.lock.unlock() };
        parker.unpark();
    }
    // ANCHOR_END: unlock_slow
}

impl Default for QueuedLock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(loom)]
std::thread_local! {
    /// How many times a model thread parked (a std thread-local: loom runs a model's threads on
    /// one OS thread), so that the loom tests can check that the models reach the park.
    static PARKS: Cell<usize> = const { Cell::new(0) };
}

/// Parks so far on this OS thread, over every execution of a loom model.
#[cfg(loom)]
pub fn loom_parks() -> usize {
    PARKS.with(Cell::get)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn try_lock_and_unlock() {
        let l = QueuedLock::new();
        assert!(l.try_lock());
        assert!(l.is_locked() && !l.try_lock());
        // SAFETY: held.
        unsafe { l.unlock() };
        assert!(!l.is_locked());
        l.lock();
        // SAFETY: held.
        unsafe { l.unlock_fair() };
        assert_eq!(l.state.load(Relaxed), 0);
    }
}
