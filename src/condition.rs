//! `Condition`: Python's `threading.Condition`, a condition variable used with a [`Lock`] or,
//! as Python's `Condition()` does by default, an [`RLock`](crate::RLock).
//!
//! Two words (the design of chapter 9 of *Rust Atomics and Locks*, second version):
//!
//! | field | meaning | who writes it |
//! |---|---|---|
//! | `seq` | notification counter; sleepers futex-wait on it | `notify_*`: +1 (wrapping) when `waiters > 0` |
//! | `waiters` | threads inside `wait`, between registering and waking | `wait`: +1 before unlocking, −1 after waking |
//!
//! `wait(guard)`: `waiters += 1`; load `seq`; unlock; sleep while `seq` still holds that value;
//! `waiters -= 1`; lock again. `notify_*`: if `waiters == 0` return — **no system call** when
//! nobody waits (std's `Condvar` makes one on every notify); else `seq += 1` and wake.
//!
//! Why no wakeup is lost, although every access is `Relaxed`: a waiter registers and reads `seq`
//! *while holding the lock*, and a notifier changes the shared state *under the same lock* before
//! notifying. So the notifier's locking happens after the waiter's unlock (the lock's
//! Release/Acquire pair), which makes both of the waiter's operations visible to it: it sees
//! `waiters > 0`, and its increment of `seq` comes after the value the waiter read, so the
//! waiter's futex wait either sees the new value and returns, or is already asleep and gets the
//! wake. The lock does the synchronising; the counters only have to be atomic.
//!
//! Wrap-around: a waiter that reads `seq`, is descheduled while exactly 2³² notifications happen,
//! and then sleeps, would miss them (std's futex condvar has the same property). Like spurious
//! wakeups, which this design allows as std's does, [`Condition::wait_while`] absorbs it in
//! practice; the predicate loop is the right way to wait.
//!
//! With an `RLock`, "unlock" and "lock again" are CPython's `_release_save` and
//! `_acquire_restore`: every recursion level of the owner is given up at once, and the same
//! count is restored on the way back (`src/rlock/wait.rs`, behind the sealed [`WaitGuard`]
//! trait). The argument above is unchanged: registering and reading `seq` still happen while
//! the waiter holds the raw lock, and a notifier of another thread must take that raw lock to
//! change the state.

use std::fmt;
use std::time::{Duration, Instant};

use crate::futex;
use crate::sync::{AtomicU32, Ordering::Relaxed, loom_const_fn};

pub(crate) mod guard;
pub use guard::{WaitGuard, WaitGuardRef};

/// A condition variable: threads wait on it, holding a [`Lock`](crate::Lock) or an
/// [`RLock`](crate::RLock), until another thread changes the locked state and notifies them.
/// Python's `threading.Condition`.
///
/// Like std's `Condvar`, a `wait` may return without a notification (a *spurious wakeup*), so
/// always wait in a loop on the state you need; [`wait_while`](Condition::wait_while) does that
/// for you (Python's `wait_for(p)` is `wait_while(|s| !p(s))`).
///
/// Every `wait*` method takes either guard ([`WaitGuard`]). With an [`RLockGuard`](crate::RLockGuard)
/// the thread may hold the lock several times: `wait` releases every level, so that the
/// notifier can get in, and restores the recursion count when it wakes (Python's default
/// `Condition()`; why the thread's other guards stay sound meanwhile is on [`WaitGuard`]).
///
/// Use one `Condition` with one lock. Using it with two locks at once is a logic error: it is
/// memory-safe, but notifications may be missed.
///
/// 8 bytes; `notify_*` with no waiter is a single load and no system call.
///
/// ```
/// use synclab::{Condition, Lock};
///
/// let ready = Lock::new(false);
/// let cond = Condition::new();
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         *ready.lock() = true;
///         cond.notify_one();
///     });
///     let guard = cond.wait_while(ready.lock(), |ready| !*ready);
///     assert!(*guard);
/// });
/// ```
// ANCHOR: fields
pub struct Condition {
    /// Notification counter (see the module docs' table).
    seq: AtomicU32,
    /// Threads currently inside `wait` (see the module docs' table).
    waiters: AtomicU32,
}
// ANCHOR_END: fields

/// Whether a timed wait on a [`Condition`] returned because its time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// `true` if the wait ended because the timeout passed (for the `_while` variants: and the
    /// condition was still not met).
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::{Condition, Lock};
    ///
    /// let lock = Lock::new(());
    /// let cond = Condition::new();
    /// let (_guard, result) = cond.wait_timeout(lock.lock(), Duration::from_millis(1));
    /// // Nobody notified (a spurious wakeup could also end the wait early).
    /// let _ = result.timed_out();
    /// ```
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

impl Condition {
    loom_const_fn! {
        /// A new condition variable with no waiters.
        ///
        /// ```
        /// static COND: synclab::Condition = synclab::Condition::new();
        /// COND.notify_all(); // nobody waits: no system call
        /// ```
        pub fn new() -> Condition {
            Condition { seq: AtomicU32::new(0), waiters: AtomicU32::new(0) }
        }
    }

    /// Releases the guard's lock, sleeps until notified (or spuriously woken), and locks again
    /// before returning the guard. Python's `cond.wait()`.
    ///
    /// `guard` is a [`LockGuard`](crate::LockGuard) or an [`RLockGuard`](crate::RLockGuard)
    /// ([`WaitGuard`]). With an `RLockGuard`, every level this thread holds is released and the
    /// same recursion count is restored before `wait` returns; the thread's other guards are
    /// valid again then (they must not be relied on for exclusion during the wait).
    ///
    /// ```
    /// use synclab::{Condition, Lock};
    ///
    /// let queue = Lock::new(Vec::new());
    /// let cond = Condition::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         queue.lock().push(42);
    ///         cond.notify_one();
    ///     });
    ///     let mut q = queue.lock();
    ///     while q.is_empty() {
    ///         q = cond.wait(q);
    ///     }
    ///     assert_eq!(q.pop(), Some(42));
    /// });
    /// ```
    ///
    /// The same with an [`RLock`](crate::RLock), waited on two levels deep:
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use synclab::{Condition, RLock};
    ///
    /// let queue = RLock::new(RefCell::new(Vec::new()));
    /// let cond = Condition::new();
    /// std::thread::scope(|s| {
    ///     let outer = queue.lock();
    ///     s.spawn(|| {
    ///         queue.lock().borrow_mut().push(42);
    ///         cond.notify_one();
    ///     });
    ///     let mut q = queue.lock();
    ///     while q.borrow().is_empty() {
    ///         q = cond.wait(q); // gives up both levels, takes both back
    ///     }
    ///     assert_eq!(queue.recursion_count(), 2);
    ///     assert_eq!(outer.borrow_mut().pop(), Some(42));
    /// });
    /// ```
    pub fn wait<G: WaitGuard>(&self, guard: G) -> G {
        self.wait_until(guard, None).0
    }

    /// Waits while `condition` returns `true`, re-checking it after every wake-up (so spurious
    /// wakeups are absorbed). Python's `wait_for(predicate)` with the predicate negated.
    ///
    /// `condition` gets `&mut T` with a [`LockGuard`](crate::LockGuard) and `&T` with an
    /// [`RLockGuard`](crate::RLockGuard) ([`WaitGuardRef`]).
    ///
    /// If `condition` panics, the guard is dropped as the panic unwinds, so the lock is
    /// released (with an `RLock`: one level, the thread's other guards keep theirs), and the
    /// `Condition` stays usable by the other threads (nothing poisons).
    ///
    /// ```
    /// use synclab::{Condition, Lock};
    ///
    /// let count = Lock::new(0);
    /// let cond = Condition::new();
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| {
    ///             *count.lock() += 1;
    ///             cond.notify_all();
    ///         });
    ///     }
    ///     let done = cond.wait_while(count.lock(), |n| *n < 4);
    ///     assert_eq!(*done, 4);
    /// });
    /// ```
    // ANCHOR: wait_while
    pub fn wait_while<G: WaitGuard, F>(&self, mut guard: G, mut condition: F) -> G
    where
        F: for<'g> FnMut(<G as WaitGuardRef<'g>>::Ref) -> bool,
    {
        while guard.test(&mut condition) {
            guard = self.wait(guard);
        }
        guard
    }
    // ANCHOR_END: wait_while

    /// Like [`wait`](Condition::wait), but gives up after `timeout`. Python's `wait(timeout)`
    /// (which returns `False` where this returns a result whose `timed_out()` is `true`).
    ///
    /// `Duration::ZERO` releases and re-takes the lock without sleeping; `Duration::MAX` never
    /// times out.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::{Condition, Lock};
    ///
    /// let lock = Lock::new(0);
    /// let cond = Condition::new();
    /// let (guard, _result) = cond.wait_timeout(lock.lock(), Duration::ZERO);
    /// assert_eq!(*guard, 0); // we hold the lock again either way
    ///
    /// let rlock = synclab::RLock::new(0);
    /// let _outer = rlock.lock();
    /// let (_inner, _result) = cond.wait_timeout(rlock.lock(), Duration::ZERO);
    /// assert_eq!(rlock.recursion_count(), 2); // both levels again, either way
    /// ```
    pub fn wait_timeout<G: WaitGuard>(
        &self,
        guard: G,
        timeout: Duration,
    ) -> (G, WaitTimeoutResult) {
        self.wait_until(guard, futex::deadline_after(timeout))
    }

    /// Waits while `condition` returns `true`, for at most `timeout` in all. The result's
    /// `timed_out()` is `true` if time ran out with the condition still `true`. Python's
    /// `wait_for(predicate, timeout)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::{Condition, Lock};
    ///
    /// let items = Lock::new(Vec::<u32>::new());
    /// let cond = Condition::new();
    /// let (guard, result) =
    ///     cond.wait_timeout_while(items.lock(), Duration::from_millis(5), |v| v.is_empty());
    /// assert!(result.timed_out());
    /// assert!(guard.is_empty());
    ///
    /// // With an RLock the predicate gets `&T`: here `&Cell<u32>`.
    /// let tickets = synclab::RLock::new(std::cell::Cell::new(0u32));
    /// let (_guard, result) =
    ///     cond.wait_timeout_while(tickets.lock(), Duration::ZERO, |t| t.get() == 0);
    /// assert!(result.timed_out());
    /// ```
    pub fn wait_timeout_while<G: WaitGuard, F>(
        &self,
        mut guard: G,
        timeout: Duration,
        mut condition: F,
    ) -> (G, WaitTimeoutResult)
    where
        F: for<'g> FnMut(<G as WaitGuardRef<'g>>::Ref) -> bool,
    {
        let deadline = futex::deadline_after(timeout);
        loop {
            if !guard.test(&mut condition) {
                return (guard, WaitTimeoutResult(false));
            }
            let (g, result) = self.wait_until(guard, deadline);
            guard = g;
            if result.timed_out() {
                let still = guard.test(&mut condition);
                return (guard, WaitTimeoutResult(still));
            }
        }
    }

    /// Wakes one waiting thread, if any. No system call when nobody waits, and a notification
    /// that finds nobody waiting is not remembered: a later `wait` sleeps until the next one
    /// (like Python's, and unlike a semaphore's `release`).
    ///
    /// ```
    /// let cond = synclab::Condition::new();
    /// cond.notify_one(); // nobody waits: a no-op
    /// ```
    #[inline]
    pub fn notify_one(&self) {
        self.notify(1);
    }

    /// Wakes every waiting thread. No system call when nobody waits.
    ///
    /// ```
    /// let cond = synclab::Condition::new();
    /// cond.notify_all(); // nobody waits: a no-op
    /// ```
    #[inline]
    pub fn notify_all(&self) {
        self.notify(usize::MAX);
    }

    /// Wakes up to `n` waiting threads (Python's `notify(n)`). No system call when nobody waits
    /// or `n == 0`.
    ///
    /// ```
    /// use synclab::{Condition, Lock};
    ///
    /// let go = Lock::new(false);
    /// let cond = Condition::new();
    /// std::thread::scope(|s| {
    ///     for _ in 0..3 {
    ///         s.spawn(|| drop(cond.wait_while(go.lock(), |go| !*go)));
    ///     }
    ///     *go.lock() = true;
    ///     cond.notify(3);
    /// });
    /// ```
    // ANCHOR: notify
    #[inline]
    pub fn notify(&self, n: usize) {
        // Relaxed: the lock orders this load after any registration that matters (module docs).
        let waiters = self.waiters.load(Relaxed);
        if n == 0 || waiters == 0 {
            return;
        }
        self.notify_slow(n, waiters);
    }

    #[cold]
    fn notify_slow(&self, n: usize, waiters: u32) {
        // Relaxed: only the futex needs to see the new value, and it reads it atomically.
        self.seq.fetch_add(1, Relaxed);
        if n >= waiters as usize {
            futex::wake_all(&self.seq);
        } else {
            for _ in 0..n {
                futex::wake_one(&self.seq);
            }
        }
    }
    // ANCHOR_END: notify

    /// The one waiting routine behind every `wait*`: unlock, sleep on `seq` until `deadline`,
    /// lock again.
    // ANCHOR: wait_until
    fn wait_until<G: WaitGuard>(
        &self,
        guard: G,
        deadline: Option<Instant>,
    ) -> (G, WaitTimeoutResult) {
        // Relaxed (both): done under the lock, which publishes them to any notifier that takes
        // the lock after we release it (module docs).
        self.waiters.fetch_add(1, Relaxed);
        let seq = self.seq.load(Relaxed);
        // A `LockGuard` is dropped; an `RLockGuard` gives up every level (`src/rlock/wait.rs`).
        let released = guard.release();
        let result = futex::wait(&self.seq, seq, deadline);
        // Relaxed: a stale count only costs a notifier one unneeded wake.
        self.waiters.fetch_sub(1, Relaxed);
        (
            G::reacquire(released),
            WaitTimeoutResult(result.timed_out()),
        )
    }
    // ANCHOR_END: wait_until
}

impl Default for Condition {
    fn default() -> Self {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters.load(Relaxed))
            .finish()
    }
}
