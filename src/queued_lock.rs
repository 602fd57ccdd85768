//! [`RawLock`], the raw lock behind [`Lock`](crate::Lock), [`RLock`](crate::RLock) and the
//! `lock_api` impl: a lock word of two bits, whose waiters park in a queue *off* the word, keyed
//! by the lock's address, with a direct hand-off on request (`unlock_fair`). Issue 14 built it
//! beside the three-state [`FutexLock`](crate::FutexLock) and made it the default once it
//! measured faster under contention and fairer (tuning log, entries 17, 21 and 22).
//!
//! The design is parking_lot's `RawMutex` over `parking_lot_core` (itself WebKit's
//! `WTF::ParkingLot`), as of parking_lot 0.13: two bits in the lock word, LOCKED and PARKED, the
//! parked threads in a global table of buckets, and an `unlock` that frees the lock *before* it
//! looks for a thread to wake (0.13's change, "deferring waking up parked threads until after
//! the lock is released"; 0.13 also dropped the automatic hand-off every ~0.5 ms, keeping only
//! `unlock_fair`). What differs from parking_lot: the table is fixed (64 buckets, as in the
//! portable futex backend, `src/futex/fallback.rs`), a bucket is guarded by synclab's own
//! [`FutexLock`](crate::FutexLock) (parking_lot needs its `WordLock` because it has no futex to
//! build on), the queue node lives on the parked thread's stack, and a waiter yields and then
//! pauses, looking at the lock word less and less often, where parking_lot spins and then yields
//! (see `SpinWait`).
//!
//! Why the queue, after the three-state word and the counted word (tuning log, 13 and 15): a
//! waiter that sleeps on the *lock word* is disturbed by every change to it, so a word that
//! records sleepers either stays "contended" too long (three states) or churns (a count). Here
//! each parked thread sleeps on its own word, the lock word says only "someone is parked", and
//! the unlock that empties the queue knows it and clears the bit, so newcomers yield again
//! instead of parking behind nobody.

mod park;
mod table;

#[cfg(loom)]
use std::cell::Cell;
use std::fmt;
use std::ptr;
use std::time::Instant;

use crate::backoff::SpinWait;
use crate::sync::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};
use table::{HANDED_OFF, TIMED_OUT, WOKEN};

// ANCHOR: state
const LOCKED_BIT: u32 = 0b01; // some thread holds the lock
const PARKED_BIT: u32 = 0b10; // some thread is (or is about to be) parked on this lock
const WOKEN_BIT: u32 = 0b100; // an unlock woke a thread that has not yet taken the lock or re-parked

/// The bare lock, without data: a lock word and nothing else (4 bytes); its waiters queue in a
/// global table. What [`Lock`](crate::Lock) and [`RLock`](crate::RLock) are built on; public for
/// building other types (and, with the `lock_api` feature, as `lock_api::Mutex<RawLock, T>`).
///
/// ```
/// use synclab::RawLock;
///
/// let raw = RawLock::new();
/// raw.lock();
/// assert!(raw.is_locked());
/// assert!(!raw.try_lock());
/// // SAFETY: this thread holds the lock.
/// unsafe { raw.unlock() };
/// assert!(!raw.is_locked());
/// ```
///
/// `state`, after parking_lot's `RawMutex`, plus the "woken" bit of Go's `sync.Mutex`:
///
/// | `WOKEN` | `PARKED` | `LOCKED` | meaning | `lock` does | `unlock` does |
/// |---|---|---|---|---|---|
/// | 0 | 0 | 0 | free, nobody parked | CAS → `LOCKED`, done | — |
/// | 0 | 0 | 1 | held, nobody parked | yield; then set `PARKED`, park | `-LOCKED` → 0, no syscall |
/// | 0 | 1 | 1 | held, threads parked (or about to) | park | `-LOCKED`; bucket: dequeue one, set `WOKEN`, wake it |
/// | 0 | 1 | 0 | free, threads parked (an unlock is on its way to the queue) | barge: CAS → `+LOCKED` | — |
/// | 1 | 1 | 1 | held, threads parked, one woken and competing | park (the woken one yields) | `-LOCKED`, and nothing else: the woken thread is still to come |
/// | 1 | × | 0 | free, one woken and competing | barge: CAS → `+LOCKED` | — |
///
/// Invariants (no lost wakeup):
///
/// 1. A thread enqueues itself only while holding its bucket's lock, and only after seeing
///    `LOCKED | PARKED` set under that lock.
/// 2. `PARKED_BIT` is cleared only with the bucket lock held, when the queue holds no other
///    thread for this lock: by an unlock, or by a waiter whose deadline passed as it leaves.
/// 3. `WOKEN_BIT` is set only by an unlock that dequeues a thread to wake it; that thread clears
///    it in the same compare-exchange that either takes the lock or sees it held (to park again,
///    or to give up at its deadline). So while `WOKEN` is set, a woken thread is still to look
///    at the lock, and if it finds the lock held, the holder's unlock comes later and sees
///    `WOKEN` clear.
///
/// So while anyone is queued, `PARKED` is set, and every `unlock` that frees the lock sees it
/// (in the value its `fetch_sub` returns). It then wakes one, unless the lock is already held
/// again (that holder's unlock will see `PARKED` in turn) or `WOKEN` says a woken thread is on
/// its way (invariant 3). A waiter that set `PARKED` but has not queued yet is safe too: if the
/// unlock takes the bucket lock first it finds nobody and clears `PARKED`, and the waiter's
/// check under the bucket lock then fails, so it retries instead of sleeping.
pub struct RawLock {
    state: AtomicU32,
}
// ANCHOR_END: state

impl RawLock {
    crate::sync::loom_const_fn! {
        /// A new, unlocked lock.
        pub fn new() -> RawLock {
            RawLock { state: AtomicU32::new(0) }
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
            self.lock_slow(None);
        }
    }

    /// Releases the lock at once; then, if threads are parked, wakes one to compete for it.
    ///
    /// # Safety
    ///
    /// The caller holds the lock.
    #[inline]
    pub unsafe fn unlock(&self) {
        // Release: publishes the critical section to the next Acquire of the lock. The lock is
        // free from this instruction on, parked threads or not (parking_lot 0.13's unlock): a
        // running thread can take it while this one is still busy with the queue.
        if self.state.fetch_sub(LOCKED_BIT, Release) & PARKED_BIT != 0 {
            self.unlock_slow();
        }
    }
    // ANCHOR_END: fast_path

    /// Releases the lock, handing it directly to the longest-parked thread if there is one
    /// (parking_lot's `unlock_fair`).
    ///
    /// # Safety
    ///
    /// The caller holds the lock.
    #[inline]
    pub unsafe fn unlock_fair(&self) {
        // Release: as in `unlock`.
        if self
            .state
            .compare_exchange(LOCKED_BIT, 0, Release, Relaxed)
            .is_err()
        {
            self.unlock_fair_slow();
        }
    }

    /// Acquires the lock if it is free now (even ahead of parked threads).
    #[inline]
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

    /// Acquires the lock, waiting until `deadline` at most (`None`: no limit). `true` if the
    /// lock was acquired; a deadline already past still tries once.
    #[inline]
    pub fn lock_until(&self, deadline: Option<Instant>) -> bool {
        self.try_lock() || self.lock_slow(deadline)
    }

    /// `true` if some thread holds the lock (a snapshot).
    #[inline]
    pub fn is_locked(&self) -> bool {
        // Relaxed: a hint only.
        self.state.load(Relaxed) & LOCKED_BIT != 0
    }

    fn key(&self) -> usize {
        ptr::from_ref(&self.state).addr()
    }

    // ANCHOR: lock_slow
    /// The slow path of `lock`: yield, then park. `false` if `deadline` passed first.
    #[cold]
    fn lock_slow(&self, deadline: Option<Instant>) -> bool {
        let mut spin = SpinWait::default();
        // Whether an unlock woke this thread and set WOKEN for it (invariant 3): it must then
        // clear the bit in the CAS that takes the lock or that sees it held.
        let mut woken = false;
        // Whether it has parked once already (loom's clock: see `expired`), and when it first
        // did (a thread that has waited long enough is handed the lock: `Node::overdue`).
        let mut slept = false;
        let mut since = None;
        // Relaxed: only a guide to the next CAS, which is the real test.
        let mut state = self.state.load(Relaxed);
        loop {
            let clear = if woken { WOKEN_BIT } else { 0 };
            // Free (even with threads parked: a running thread may barge in): take it.
            if state & LOCKED_BIT == 0 {
                // Acquire: as in `lock`.
                match self.state.compare_exchange_weak(
                    state,
                    (state | LOCKED_BIT) & !clear,
                    Acquire,
                    Relaxed,
                ) {
                    Ok(_) => return true,
                    Err(s) => state = s,
                }
                continue;
            }
            // Held, and nobody parked, or this thread was woken (then the unlocks leave the
            // queue alone until it parks again): spin (yield, then pause: `SpinWait`), hoping
            // the holder runs and leaves soon. Not while others are parked: a newcomer would
            // only queue behind them.
            // (An overdue woken thread parks again at once: its place is first in the queue,
            // and the next unlock hands it the lock.)
            if (state & PARKED_BIT == 0 || woken && !since.is_some_and(table::overdue))
                && spin.spin(deadline)
            {
                state = self.state.load(Relaxed);
                continue;
            }
            // Out of time: do not queue (a zero timeout tries and gives up here); a
            // woken thread first hands back WOKEN, while the lock is still held (invariant 3).
            if expired(deadline, slept) {
                if !woken {
                    return false;
                }
                // Relaxed: as the CAS below.
                match self
                    .state
                    .compare_exchange_weak(state, state & !clear, Relaxed, Relaxed)
                {
                    Ok(_) => return false,
                    Err(s) => state = s,
                }
                continue;
            }
            // Announce the park (and hand back WOKEN). Relaxed: the check that counts is made
            // again under the bucket lock, and this CAS and `unlock`'s `fetch_sub` are ordered by
            // the word itself.
            let parked = (state | PARKED_BIT) & !clear;
            if parked != state {
                if let Err(s) = self
                    .state
                    .compare_exchange_weak(state, parked, Relaxed, Relaxed)
                {
                    state = s;
                    continue;
                }
            }
            woken = false;
            let requeued = slept;
            slept = true;
            let since = *since.get_or_insert_with(Instant::now);
            match self.park(deadline, since, requeued) {
                HANDED_OFF => return true, // the unlocker left LOCKED set for us
                TIMED_OUT => return false,
                WOKEN => woken = true, // and WOKEN is set for us
                _ => {}                // INVALID: the state changed before we could queue
            }
            spin = SpinWait::default();
            state = self.state.load(Relaxed);
        }
    }
    // ANCHOR_END: lock_slow
}

/// Whether `deadline` has passed. loom has no clock: there, as in its futex model, a deadline
/// passes while the thread sleeps, so it counts as passed once the thread has parked, and the
/// models reach the path of a thread woken by an unlock that then gives up.
fn expired(deadline: Option<Instant>, slept: bool) -> bool {
    if cfg!(loom) {
        deadline.is_some() && slept
    } else {
        deadline.is_some_and(|d| Instant::now() >= d)
    }
}

impl Default for RawLock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RawLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawLock")
            .field("locked", &self.is_locked())
            .finish()
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
mod tests;
