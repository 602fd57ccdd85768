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
//! build on), the queue node lives on the parked thread's stack, and waiters yield instead of
//! spinning (see `SpinWait`).
//!
//! Why the queue, after the three-state word and the counted word (tuning log, 13 and 15): a
//! waiter that sleeps on the *lock word* is disturbed by every change to it, so a word that
//! records sleepers either stays "contended" too long (three states) or churns (a count). Here
//! each parked thread sleeps on its own word, the lock word says only "someone is parked", and
//! the unlock that empties the queue knows it and clears the bit, so newcomers yield again
//! instead of parking behind nobody.

mod table;

#[cfg(loom)]
use std::cell::Cell;
use std::fmt;
use std::ptr;
use std::time::Instant;

use crate::sync::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
    yield_now,
};
use table::{Bucket, HANDED_OFF, INVALID, Node, TIMED_OUT, WOKEN, bucket};

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

// ANCHOR: spin_wait
/// Up to 10 `yield_now`s, no `PAUSE`, then park; only while nobody is parked (a newcomer would
/// only queue behind the parked ones). parking_lot's `SpinWait` spends its first three steps on
/// 1, 2 and 4 `PAUSE`s. On 2 cores, yielding from the first step made short sections at 2-8
/// threads 0.73-0.86x parking_lot in criterion, and long ones at 4 and 8 threads 1.05-1.28x
/// (tuning log, entry 21): with fewer cores than threads the holder is often not running, and
/// only a yield lets it run, but a yield also misses a release by a holder that is running. The three-state lock could not take this policy (entry 19): there a waiter that ran
/// out of yields left the word contended for good; here the last unpark clears `PARKED`.
#[derive(Default)]
struct SpinWait {
    step: u32,
}

impl SpinWait {
    const STEPS: u32 = 10;

    /// One step; `false` once the caller should park instead (under loom at once: a spinning
    /// model would never reach the park, see `backoff::SPIN_LIMIT`).
    fn spin(&mut self) -> bool {
        if cfg!(loom) || self.step >= Self::STEPS {
            return false;
        }
        self.step += 1;
        yield_now();
        true
    }
}
// ANCHOR_END: spin_wait

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
            // queue alone until it parks again): yield, hoping the holder runs and leaves soon.
            // (An overdue woken thread parks again at once: its place is first in the queue,
            // and the next unlock hands it the lock.)
            if (state & PARKED_BIT == 0 || woken && !since.is_some_and(table::overdue))
                && spin.spin()
            {
                state = self.state.load(Relaxed);
                continue;
            }
            // Out of time: do not queue (a zero timeout tries, yields, and gives up here); a
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

    // ANCHOR: park
    /// Queues this thread on the lock and sleeps until an unlock dequeues it. Returns the token
    /// it was woken with, `INVALID` at once if the lock changed before it could queue, or
    /// `TIMED_OUT` if `deadline` passed and it took itself out of the queue.
    fn park(&self, deadline: Option<Instant>, since: Instant, requeued: bool) -> u32 {
        let key = self.key();
        let bucket = bucket(key);
        let node = Node::new(key, since, requeued);
        bucket.lock.lock();
        // Relaxed: the bucket lock orders this load after every store an unlock made under it.
        // (WOKEN may be set: the woken thread is still to look at the lock, invariant 3.)
        if self.state.load(Relaxed) & (LOCKED_BIT | PARKED_BIT) != LOCKED_BIT | PARKED_BIT {
            // SAFETY: taken just above.
            unsafe { bucket.lock.unlock() };
            return INVALID;
        }
        // SAFETY: the bucket lock is held; `node` stays where it is, on this frame, which does
        // not return before an unlock has dequeued it and set its token.
        unsafe {
            bucket.with_queue(|q| {
                if node.requeued() {
                    q.push_front(&node);
                } else {
                    q.push(&node);
                }
            });
        }
        // SAFETY: taken just above.
        unsafe { bucket.lock.unlock() };
        #[cfg(loom)]
        PARKS.with(|n| n.set(n.get() + 1));
        loop {
            // Acquire: pairs with the Release store of the token in `unlock_slow`, so that a
            // hand-off brings the previous holder's writes with it.
            match node.token.load(Acquire) {
                // Woken, or early: look again.
                table::WAITING if node.parker.park_until(deadline) => {}
                table::WAITING => return self.leave(bucket, &node),
                token => return token,
            }
        }
    }

    /// A parked thread's deadline has passed: it takes its node out of the queue, unless an
    /// unlock dequeued it first (then it was woken after all, and returns that token).
    #[cold]
    fn leave(&self, bucket: &Bucket, node: &Node) -> u32 {
        bucket.lock.lock();
        // Acquire: as in `park`. Under the bucket lock, WAITING means still queued: an unlock
        // stores the token before it lets go of the bucket.
        let token = node.token.load(Acquire);
        if token == table::WAITING {
            // SAFETY: the bucket lock is held, and `node` is queued (its token says so).
            if !unsafe { bucket.with_queue(|q| q.remove(node)) } {
                // The last one for this lock: clear PARKED, as `unlock_slow` does (invariant 2).
                // Relaxed: the bucket lock orders it for parkers.
                self.state.fetch_and(!PARKED_BIT, Relaxed);
            }
        }
        // SAFETY: taken above.
        unsafe { bucket.lock.unlock() };
        if token == table::WAITING {
            TIMED_OUT
        } else {
            token
        }
    }
    // ANCHOR_END: park

    // ANCHOR: unlock_slow
    /// The rest of `unlock` when threads were parked: the lock is already free (and may be held
    /// by another thread by now), but `&self` is still borrowed for this call, so the word is
    /// alive (the same contract that lets std's futex mutex wake after its release).
    #[cold]
    fn unlock_slow(&self) {
        // Held again already (that holder's unlock will see PARKED), or a woken thread is still
        // to look at the lock (invariant 3): nobody to wake now. This is what keeps a holder
        // that retakes the lock at once from waking, one unlock after another, parked threads
        // that can only find it held and park again. Relaxed: ordered by the word itself.
        if self.state.load(Relaxed) & (LOCKED_BIT | WOKEN_BIT) != 0 {
            return;
        }
        let bucket = bucket(self.key());
        bucket.lock.lock();
        // SAFETY: the bucket lock is held.
        let (node, more) = unsafe { bucket.with_queue(|q| q.remove_first(self.key())) };
        if !more {
            // The last one (or nobody yet: a waiter that set PARKED but has not queued sees the
            // bit gone under the bucket lock and retries). `fetch_and`, not a store: another
            // thread may hold the lock by now. Relaxed: the bucket lock orders it for parkers.
            self.state.fetch_and(!PARKED_BIT, Relaxed);
        }
        match node {
            Some(node) => {
                // A thread that has waited too long is handed the lock, if nobody has barged in
                // meanwhile (that thread's unlock will come here in turn): it wakes holding it.
                // SAFETY: `node` was just dequeued under the bucket lock, so it is alive.
                let token = if unsafe { (*node).overdue() } && self.try_lock() {
                    HANDED_OFF
                } else {
                    // Relaxed: the woken thread learns of it from its token (Release/Acquire).
                    self.state.fetch_or(WOKEN_BIT, Relaxed);
                    WOKEN
                };
                // SAFETY: the bucket lock is held, and `node` was just dequeued.
                unsafe { wake(bucket, node, token) }
            }
            // SAFETY: taken above.
            None => unsafe { bucket.lock.unlock() },
        }
    }

    /// The rest of `unlock_fair` when threads are parked: the lock is still held.
    #[cold]
    fn unlock_fair_slow(&self) {
        let bucket = bucket(self.key());
        bucket.lock.lock();
        // SAFETY: the bucket lock is held.
        let (node, more) = unsafe { bucket.with_queue(|q| q.remove_first(self.key())) };
        // Read-modify-writes, not parking_lot's plain stores (which are sound: we hold the lock,
        // and a waiter setting PARKED meanwhile re-checks under the bucket lock). loom 0.7,
        // though, let this thread read back a value older than its own plain store here
        // ("stored 0, read 3") and then reported a deadlock; the RMWs cost the same on a path
        // that wakes a thread anyway.
        let Some(node) = node else {
            // Nobody queued yet (see `unlock_slow`). Release: as in `unlock`.
            self.state.fetch_and(!(LOCKED_BIT | PARKED_BIT), Release);
            // SAFETY: taken above.
            return unsafe { bucket.lock.unlock() };
        };
        if !more {
            // LOCKED stays set. Relaxed: the bucket lock orders it for parkers.
            self.state.fetch_and(!PARKED_BIT, Relaxed);
        }
        // The lock stays LOCKED and passes to the woken thread, which gets our writes through
        // the token's Release.
        // SAFETY: the bucket lock is held, and `node` was just dequeued.
        unsafe { wake(bucket, node, HANDED_OFF) };
    }
    // ANCHOR_END: unlock_slow
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

/// Gives a dequeued node its token, releases the bucket, and wakes the node's thread.
///
/// # Safety
///
/// `bucket.lock` is held, and `node` has just been taken out of its queue (so it is alive, and
/// its thread is parked on it or about to look at its token).
unsafe fn wake(bucket: &Bucket, node: *const Node, token: u32) {
    // SAFETY: `node` is alive until the token store below (its thread leaves only after seeing
    // a token); after that store it is not touched again.
    let parker = unsafe { (*node).parker.clone() };
    // SAFETY: as above. Release: pairs with the Acquire load in `park`.
    unsafe { (*node).token.store(token, Release) };
    // SAFETY: held, by the contract.
    unsafe { bucket.lock.unlock() };
    parker.unpark();
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
mod tests {
    use super::*;

    #[test]
    fn try_lock_and_unlock() {
        let l = RawLock::new();
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

    /// Waits (up to 10 s) until `l`'s word reads `want`.
    fn until_state(l: &RawLock, want: u32) {
        let start = std::time::Instant::now();
        while l.state.load(Relaxed) != want {
            assert!(
                start.elapsed().as_secs() < 10,
                "state {}",
                l.state.load(Relaxed)
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Waiters whose deadlines pass take themselves out: the last one clears `PARKED` (else
    /// every later unlock would go to the bucket for nobody), but not while a waiter without a
    /// deadline is still queued.
    #[test]
    fn timed_out_waiters_leave_and_the_last_clears_parked() {
        use std::time::{Duration, Instant};
        let l = RawLock::new();
        l.lock();
        let ms = |n| Some(Instant::now() + Duration::from_millis(n));
        std::thread::scope(|s| {
            let timed: Vec<_> = (0..3).map(|_| s.spawn(|| l.lock_until(ms(30)))).collect();
            until_state(&l, LOCKED_BIT | PARKED_BIT);
            assert!(timed.into_iter().all(|t| !t.join().unwrap()));
            assert_eq!(
                l.state.load(Relaxed),
                LOCKED_BIT,
                "PARKED left set by nobody"
            );

            let blocking = s.spawn(|| {
                l.lock();
                // SAFETY: held.
                unsafe { l.unlock() };
            });
            until_state(&l, LOCKED_BIT | PARKED_BIT);
            let timed = s.spawn(|| l.lock_until(ms(30)));
            assert!(!timed.join().unwrap());
            assert_eq!(
                l.state.load(Relaxed),
                LOCKED_BIT | PARKED_BIT,
                "the sleeper was forgotten"
            );
            // SAFETY: held since the start.
            unsafe { l.unlock() };
            blocking.join().unwrap();
        });
        assert_eq!(l.state.load(Relaxed), 0);
        // A deadline already past still takes a free lock (one try).
        assert!(l.lock_until(Some(Instant::now())));
        // SAFETY: just taken.
        unsafe { l.unlock() };
    }
}
