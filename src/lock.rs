//! `Lock<T>`: Python's `threading.Lock`, a [`RawLock`] (the queued lock, `src/queued_lock.rs`)
//! that owns its data.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use crate::RawLock;
use crate::futex;
use crate::sync::{UnsafeCell, loom_const_fn};

/// A mutual-exclusion lock that owns the data it protects: Python's `threading.Lock`, with the
/// `with lock:` block spelled as a guard.
///
/// `lock()` returns a [`LockGuard`]; the data is reachable only through it, and dropping it
/// unlocks (Python's `try/finally: lock.release()`). A thread that panics while holding the guard
/// releases the lock as it unwinds, and the lock stays usable: synclab's locks never poison.
///
/// The lock is 4 bytes plus the data, and the uncontended `lock`/`unlock` pair is one
/// compare-exchange and one `fetch_sub`, with no system call.
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

    /// Releases the lock *to the thread that has waited longest*, if one is parked: it wakes
    /// holding the lock, so no running thread can take it first (parking_lot's
    /// `MutexGuard::unlock_fair`). Dropping the guard instead frees the lock and then wakes a
    /// parked thread to compete for it, which is faster: a running thread barges in and keeps
    /// the data in its cache, at the price of longer waits for the sleeper (the fairness
    /// figures are in Part III's benchmarks chapter).
    ///
    /// ```
    /// use synclab::{Lock, LockGuard};
    ///
    /// let turn = Lock::new(0);
    /// let mut g = turn.lock();
    /// *g += 1;
    /// LockGuard::unlock_fair(g);
    /// assert_eq!(*turn.lock(), 1);
    /// ```
    pub fn unlock_fair(guard: Self) {
        let lock = guard.lock;
        std::mem::forget(guard);
        // SAFETY: the guard proved that this thread holds the lock, and it is forgotten, so its
        // `Drop` will not release the lock a second time.
        unsafe { lock.raw.unlock_fair() }
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
