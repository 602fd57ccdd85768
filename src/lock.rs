//! `Lock<T>`: Python's `threading.Lock`, as a 3-state futex mutex that owns its data.
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
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use crate::backoff::Backoff;
use crate::futex;
use crate::sync::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
    UnsafeCell, loom_const_fn,
};

// ANCHOR: states
const UNLOCKED: u32 = 0; // free
const LOCKED: u32 = 1; // held, no sleeper recorded
const CONTENDED: u32 = 2; // held, sleepers possible: unlock must wake one
// ANCHOR_END: states

/// The bare lock state, without data: what [`Lock`] and [`Condition`](crate::Condition) are built
/// on. Most code wants [`Lock`]; this is public for readers of the workbook and for building
/// other types (it is 4 bytes).
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
pub struct RawLock {
    /// `UNLOCKED`, `LOCKED` or `CONTENDED` (table in the module docs).
    state: AtomicU32,
}

impl RawLock {
    loom_const_fn! {
        /// A new, unlocked lock.
        pub fn new() -> RawLock {
            RawLock { state: AtomicU32::new(UNLOCKED) }
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
    /// The lock must be held, by this thread or by a guard this thread owns. (`Lock` and
    /// `LockGuard` call it for you.)
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

/// A mutual-exclusion lock that owns the data it protects: Python's `threading.Lock`, with the
/// `with lock:` block spelled as a guard.
///
/// `lock()` returns a [`LockGuard`]; the data is reachable only through it, and dropping it
/// unlocks (Python's `try/finally: lock.release()`). A thread that panics while holding the guard
/// releases the lock as it unwinds, and the lock stays usable: synclab's locks never poison.
///
/// The lock is 4 bytes plus the data, and the uncontended `lock`/`unlock` pair is one
/// compare-exchange and one swap, with no system call.
///
/// ```
/// use synclab::Lock;
///
/// let balance = Lock::new(0i64);
/// std::thread::scope(|s| {
///     for n in [5, 8] {
///         let balance = &balance;
///         s.spawn(move || {
///             for _ in 0..1000 {
///                 let mut b = balance.lock();
///                 *b += n;
///                 *b -= n;
///             }
///         });
///     }
/// });
/// assert_eq!(balance.into_inner(), 0);
/// ```
pub struct Lock<T: ?Sized> {
    raw: RawLock,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands the `T` from thread to thread (so `T: Send`), but only ever to one
// thread at a time, so `T` need not be `Sync` (std's `Mutex` has the same bounds).
unsafe impl<T: ?Sized + Send> Send for Lock<T> {}
// SAFETY: as above: sharing the lock lets other threads take `&mut T` one at a time.
unsafe impl<T: ?Sized + Send> Sync for Lock<T> {}

impl<T> Lock<T> {
    loom_const_fn! {
        /// A new, unlocked lock holding `value`.
        ///
        /// ```
        /// static COUNTER: synclab::Lock<u64> = synclab::Lock::new(0);
        /// *COUNTER.lock() += 1;
        /// assert_eq!(*COUNTER.lock(), 1);
        /// ```
        pub fn new(value: T) -> Lock<T> {
            Lock { raw: RawLock::new(), data: UnsafeCell::new(value) }
        }
    }

    /// Consumes the lock and returns the data (no locking needed: we own it).
    ///
    /// ```
    /// let lock = synclab::Lock::new(vec![1, 2]);
    /// assert_eq!(lock.into_inner(), vec![1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Lock<T> {
    /// Acquires the lock, blocking until it is free. Dropping the guard releases it.
    ///
    /// Locking again from the thread that holds it deadlocks, as with Python's `Lock` (use
    /// an `RLock` for re-entry).
    ///
    /// ```
    /// let lock = synclab::Lock::new(1);
    /// *lock.lock() += 1;
    /// assert_eq!(*lock.lock(), 2);
    /// ```
    #[inline]
    pub fn lock(&self) -> LockGuard<'_, T> {
        self.raw.lock();
        LockGuard::new(self)
    }

    /// Acquires the lock only if it is free now (Python's `acquire(blocking=False)`).
    ///
    /// ```
    /// let lock = synclab::Lock::new(());
    /// let held = lock.lock();
    /// assert!(lock.try_lock().is_none());
    /// drop(held);
    /// assert!(lock.try_lock().is_some());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        self.raw.try_lock().then(|| LockGuard::new(self))
    }

    /// Acquires the lock, waiting at most `timeout` (Python's `acquire(timeout=…)`).
    ///
    /// `Duration::ZERO` tries once; `Duration::MAX` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = synclab::Lock::new(());
    /// let held = lock.lock();
    /// assert!(lock.lock_timeout(Duration::from_millis(10)).is_none());
    /// drop(held);
    /// assert!(lock.lock_timeout(Duration::ZERO).is_some());
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<LockGuard<'_, T>> {
        if self.raw.try_lock() {
            return Some(LockGuard::new(self));
        }
        self.raw
            .lock_until(futex::deadline_after(timeout))
            .then(|| LockGuard::new(self))
    }

    /// `true` if some thread holds the lock (Python's `locked()`); a snapshot only.
    ///
    /// ```
    /// let lock = synclab::Lock::new(());
    /// let g = lock.lock();
    /// assert!(lock.is_locked());
    /// drop(g);
    /// assert!(!lock.is_locked());
    /// ```
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Mutable access without locking: `&mut self` proves nobody else can hold the lock.
    ///
    /// ```
    /// let mut lock = synclab::Lock::new(1);
    /// *lock.get_mut() = 5;
    /// assert_eq!(*lock.lock(), 5);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T> From<T> for Lock<T> {
    fn from(value: T) -> Self {
        Lock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Lock");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

/// Proof that the lock is held: derefs to the data, and unlocks when dropped.
///
/// Like std's `MutexGuard` it is `!Send` (a lock is released by the thread that took it), and it
/// cannot outlive its [`Lock`].
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a, T: ?Sized> {
    lock: &'a Lock<T>,
    /// `!Send`, as std's guards are.
    _not_send: std::marker::PhantomData<*const ()>,
}

// SAFETY: sharing `&LockGuard` between threads only gives out `&T`, which is fine when `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for LockGuard<'_, T> {}

impl<'a, T: ?Sized> LockGuard<'a, T> {
    fn new(lock: &'a Lock<T>) -> Self {
        LockGuard {
            lock,
            _not_send: std::marker::PhantomData,
        }
    }

    /// The lock this guard holds (used by [`Condition`](crate::Condition) to release and
    /// re-acquire it).
    pub(crate) fn lock_ref(&self) -> &'a Lock<T> {
        self.lock
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock, so no `&mut T` exists
        // elsewhere; the reference cannot outlive the guard.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: holding the lock makes this the only access to the data, and `&mut self`
        // makes this the only reference through the guard.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

// ANCHOR: guard_drop
impl<T: ?Sized> Drop for LockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the guard's existence proves that this thread holds the lock.
        unsafe { self.lock.raw.unlock() }
    }
}
// ANCHOR_END: guard_drop

impl<T: ?Sized + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
