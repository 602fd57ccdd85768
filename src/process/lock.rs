//! `process::Lock<T>`: a lock that works between processes and survives the death of its holder.
//!
//! Like [`synclab::Lock`](crate::Lock), one `AtomicU32` and a futex; but the word records *who*
//! holds the lock (the holder's pid, with its start time beside it) instead of just "held", so
//! that a process that finds the lock held can ask the kernel whether the holder still lives.
//! If it was killed (SIGKILL, a crash), the waiter takes the lock over and is told so with
//! [`OwnerDied`]: the data may be half-updated, and the new holder is the one who can repair it.
//!
//! The word, the slow path and the take-over are in [`raw_lock`](super::raw_lock); how a dead
//! holder is recognized (pidfd, start time, `kill(pid, 0)` as the fallback) in
//! [`owner`](super::owner). `try_lock` judges the holder at once when it finds the lock held.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

pub(super) use super::raw_lock::SLICE;
use super::raw_lock::{Acquired, RawLock};
use super::{OwnerDied, Shareable};
use crate::sync::UnsafeCell;

/// A lock shared between processes: `multiprocessing.Lock`, owning its data like
/// [`synclab::Lock`](crate::Lock).
///
/// Put it in a [`Shared`](super::Shared) region (alone or inside a `#[repr(C)]` struct) and hand
/// the region to children; every process locks the same word. The methods are those of
/// [`synclab::Lock`](crate::Lock), except that each returns a [`LockResult`]: `Err(OwnerDied)`
/// when the previous holder died without unlocking. The error holds the guard, so the caller owns
/// the lock and can repair the data before using it.
///
/// ```
/// use synclab::process::{Lock, Shared};
///
/// # fn main() -> Result<(), synclab::process::ProcessError> {
/// # if cfg!(not(target_os = "linux")) { return Ok(()); }
/// let balance = Shared::new(Lock::new(0i64))?;
/// std::thread::scope(|s| {
///     s.spawn(|| *balance.lock().unwrap() += 5);
///     s.spawn(|| *balance.lock().unwrap() += 8);
/// });
/// assert_eq!(*balance.lock().unwrap(), 13);
/// # Ok(()) }
/// ```
#[repr(C)]
pub struct Lock<T: Shareable> {
    raw: RawLock,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands `&mut T` to one thread (of one process) at a time; `T: Shareable`
// implies `T: Sync` and plain data, so moving access between threads is fine.
unsafe impl<T: Shareable> Sync for Lock<T> {}
// SAFETY: the lock word and the data are plain data; any process may lock it (see `Lock`).
unsafe impl<T: Shareable> Shareable for Lock<T> {}

/// What [`Lock::lock`] returns: the guard, or [`OwnerDied`] holding the guard.
pub type LockResult<G> = Result<G, OwnerDied<G>>;

impl<T: Shareable> Lock<T> {
    /// A new, unlocked lock holding `value`.
    ///
    /// ```
    /// let lock = synclab::process::Lock::new([0u8; 16]);
    /// assert!(!lock.is_locked());
    /// ```
    pub const fn new(value: T) -> Lock<T> {
        Lock {
            raw: RawLock::new(),
            data: UnsafeCell::new(value),
        }
    }

    fn guard(&self, how: Acquired) -> Option<LockResult<LockGuard<'_, T>>> {
        let guard = || LockGuard {
            lock: self,
            _not_send: PhantomData,
        };
        match how {
            Acquired::Clean => Some(Ok(guard())),
            Acquired::OwnerDied(pid) => Some(Err(OwnerDied::new(guard(), pid))),
            Acquired::TimedOut => None,
        }
    }

    /// Acquires the lock, blocking until it is free or its holder is found dead.
    ///
    /// `Err(OwnerDied)` hands over the lock of a holder that died: the data may be
    /// half-updated. Recover with `unwrap_or_else(OwnerDied::into_inner)` when every state of
    /// the data is valid, or repair it first.
    ///
    /// ```
    /// let lock = synclab::process::Lock::new(1u32);
    /// *lock.lock().unwrap() += 1;
    /// assert_eq!(*lock.lock().unwrap(), 2);
    /// ```
    pub fn lock(&self) -> LockResult<LockGuard<'_, T>> {
        let how = self.raw.lock_until(None);
        self.guard(how)
            .expect("a lock without deadline cannot time out")
    }

    /// Acquires the lock if it is free now, or if its holder is dead; never sleeps.
    ///
    /// When the lock is held this checks the holder with a few system calls (a pidfd and a read
    /// of `/proc/PID/stat`, or `kill(pid, 0)` where there are no pidfds).
    ///
    /// ```
    /// let lock = synclab::process::Lock::new(());
    /// let held = lock.lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(held);
    /// assert!(lock.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<LockResult<LockGuard<'_, T>>> {
        self.raw.try_lock().and_then(|how| self.guard(how))
    }

    /// Acquires the lock, waiting at most `timeout`. `Duration::ZERO` tries once (and checks
    /// the holder); `Duration::MAX` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = synclab::process::Lock::new(());
    /// let held = lock.lock().unwrap();
    /// assert!(lock.lock_timeout(Duration::from_millis(10)).is_none());
    /// drop(held);
    /// assert!(lock.lock_timeout(Duration::ZERO).is_some());
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> Option<LockResult<LockGuard<'_, T>>> {
        if timeout.is_zero() {
            return self.try_lock();
        }
        let how = self.raw.lock_until(crate::futex::deadline_after(timeout));
        self.guard(how)
    }

    /// `true` if some process holds the lock (a snapshot).
    ///
    /// ```
    /// let lock = synclab::process::Lock::new(());
    /// let g = lock.lock().unwrap();
    /// assert!(lock.is_locked());
    /// drop(g);
    /// assert!(!lock.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.raw.owner().is_some()
    }

    /// The pid of the process holding the lock, if any (a snapshot).
    ///
    /// ```
    /// let lock = synclab::process::Lock::new(());
    /// let _g = lock.lock().unwrap();
    /// assert_eq!(lock.owner_pid(), Some(std::process::id()));
    /// ```
    pub fn owner_pid(&self) -> Option<u32> {
        self.raw.owner()
    }

    /// For tests: makes the lock look held by process `pid` with start time `start` (clock
    /// ticks after boot, field 22 of `/proc/PID/stat`), as if that process had locked it and
    /// died, so that a test can stage a holder whose pid now belongs to another process.
    #[doc(hidden)]
    pub fn __forge_holder(&self, pid: u32, start: Option<u64>) {
        self.raw.forge_holder(pid, start);
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds a reference.
    ///
    /// ```
    /// let mut lock = synclab::process::Lock::new(1u8);
    /// *lock.get_mut() = 5;
    /// assert_eq!(*lock.lock().unwrap(), 5);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Shareable + Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T: Shareable> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("process::Lock")
            .field("owner_pid", &self.owner_pid())
            .finish_non_exhaustive()
    }
}

/// Proof that this process holds a [`Lock`]: derefs to the data, unlocks when dropped. `!Send`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a, T: Shareable> {
    lock: &'a Lock<T>,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: `&LockGuard` only gives `&T`, and `T: Shareable` is `Sync`.
unsafe impl<T: Shareable> Sync for LockGuard<'_, T> {}

impl<T: Shareable> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this process holds the lock, so nobody else
        // has a `&mut T`; the reference cannot outlive the guard.
        self.lock.data.with(|p| unsafe { &*p })
    }
}

impl<T: Shareable> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: holding the lock makes this the only access to the data; `&mut self` makes
        // it the only reference through this guard.
        self.lock.data.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T: Shareable> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.raw.unlock();
    }
}

impl<T: Shareable + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
