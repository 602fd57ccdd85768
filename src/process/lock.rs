//! `process::Lock<T>`: a lock that works between processes and survives the death of its holder.
//!
//! Like [`synclab::Lock`](crate::Lock), one `AtomicU32` and a futex; but the word records *who*
//! holds the lock (the holder's pid) instead of just "held", so that a process that finds the lock
//! held for long can ask the kernel whether the holder still exists. If it was killed (SIGKILL,
//! a crash), the waiter takes the lock over and is told so with [`OwnerDied`]: the data may be
//! half-updated, and the new holder is the one who can repair it.
//!
//! Sleepers never sleep for more than [`SLICE`] at a time: a dead holder will never unlock, so
//! waiting for its wake would be waiting forever. After each slice they check the holder with
//! `kill(pid, 0)`. `try_lock` checks at once when it finds the lock held.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use super::{OwnerDied, Shareable, sys};
use crate::backoff;
use crate::sync::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
    UnsafeCell,
};

// ANCHOR: word
/// `0`: nobody holds the lock.
pub(super) const UNLOCKED: u32 = 0;
/// Set while a process may sleep on the word: unlock must wake one.
pub(super) const CONTENDED: u32 = 1 << 31;
/// The low 31 bits: the holder's pid (Linux pids are at most 2^22).
pub(super) const PID_MASK: u32 = !CONTENDED;

/// How long a sleeper sleeps before it checks whether the holder still exists.
pub(super) const SLICE: Duration = Duration::from_millis(50);

/// The lock word of a [`process::Lock`](super::Lock):
///
/// | value | meaning | `lock` does | `unlock` does |
/// |---|---|---|---|
/// | `0` | free | CAS 0 → pid | — |
/// | `pid` | held by process `pid`, nobody asleep | spin; then set `CONTENDED`, sleep ≤ `SLICE` | store 0, no syscall |
/// | `pid \| CONTENDED` | held by `pid`, someone may sleep | sleep ≤ `SLICE`; then `kill(pid, 0)` | store 0, wake one |
/// | `dead pid (\| CONTENDED)` | the holder was killed while holding | CAS → `my pid \| CONTENDED`: [`OwnerDied`](super::OwnerDied) | — |
///
/// Invariants: a process only sleeps on a value with `CONTENDED` set, which only an unlock
/// (or a take-over) removes, so an unlock that ends a sleep always sees it and wakes (no lost
/// wakeup, as in `synclab::Lock`). A woken or taking-over process keeps `CONTENDED`, since it
/// cannot know whether others still sleep. The holder's pid is in the word from the CAS that
/// took the lock on, so there is no moment when the lock is held by nobody known.
pub(super) struct RawLock {
    pub(super) word: AtomicU32,
}
// ANCHOR_END: word

/// How a `lock` ended.
pub(super) enum Acquired {
    /// The lock is ours, released properly by its previous holder.
    Clean,
    /// The lock is ours, taken over from process `pid`, which died holding it.
    OwnerDied(u32),
    /// The deadline passed.
    TimedOut,
}

impl RawLock {
    pub(super) const fn new() -> RawLock {
        RawLock {
            word: AtomicU32::new(UNLOCKED),
        }
    }

    /// Acquire: pairs with the Release in `unlock` (and, for a take-over, with whatever the dead
    /// holder stored: its stores reached memory before it died; see `take_over`).
    #[inline]
    pub(super) fn try_lock_fast(&self) -> bool {
        self.word
            .compare_exchange(UNLOCKED, sys::my_pid(), Acquire, Relaxed)
            .is_ok()
    }

    /// `try_lock`: the fast path, else take over from a dead holder; never sleeps.
    pub(super) fn try_lock(&self) -> Option<Acquired> {
        if self.try_lock_fast() {
            return Some(Acquired::Clean);
        }
        let word = self.word.load(Relaxed);
        if word == UNLOCKED {
            return self.try_lock_fast().then_some(Acquired::Clean);
        }
        self.take_over(word)
    }

    #[inline]
    pub(super) fn lock_until(&self, deadline: Option<Instant>) -> Acquired {
        if self.try_lock_fast() {
            Acquired::Clean
        } else {
            self.lock_contended(deadline)
        }
    }

    /// The slow path: spin, then sleep in slices, checking the holder after each.
    #[cold]
    fn lock_contended(&self, deadline: Option<Instant>) -> Acquired {
        let me = sys::my_pid();
        // Spin (loads only) while held and nobody sleeps.
        let mut word = UNLOCKED;
        backoff::spin_until(|| {
            word = self.word.load(Relaxed);
            word == UNLOCKED || word & CONTENDED != 0
        });
        if word == UNLOCKED && self.try_lock_fast() {
            return Acquired::Clean;
        }
        // Then give way a few times (`sched_yield`): between processes on few cores, the holder
        // is often descheduled, and yielding lets it finish sooner than a futex round trip.
        let mut backoff = backoff::Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            if self.word.load(Relaxed) == UNLOCKED && self.try_lock_fast() {
                return Acquired::Clean;
            }
        }
        loop {
            let word = self.word.load(Relaxed);
            if word == UNLOCKED {
                // Take it, keeping CONTENDED: others may sleep. Acquire: as in `try_lock_fast`.
                if self
                    .word
                    .compare_exchange(UNLOCKED, me | CONTENDED, Acquire, Relaxed)
                    .is_ok()
                {
                    return Acquired::Clean;
                }
                continue;
            }
            // Record that someone will sleep. Relaxed: the futex compares the value itself.
            if word & CONTENDED == 0
                && self
                    .word
                    .compare_exchange(word, word | CONTENDED, Relaxed, Relaxed)
                    .is_err()
            {
                continue;
            }
            let slice_end = Instant::now() + SLICE;
            let wake_at = match deadline {
                Some(d) if d < slice_end => Some(d),
                _ => Some(slice_end),
            };
            let timed_out = sys::wait(&self.word, word | CONTENDED, wake_at).timed_out();
            if timed_out {
                if let Some(got) = self.take_over(self.word.load(Relaxed)) {
                    return got;
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Acquired::TimedOut;
                }
            }
        }
    }

    // ANCHOR: owner_died
    /// If `word` names a holder that no longer exists, takes the lock over from it.
    ///
    /// Only one of several waiters wins the CAS; the others see the new holder (alive) and go
    /// on waiting. Acquire: the dead holder's writes to the data were made before its death, so
    /// they are in memory; the Acquire orders our reads of the data after the take-over.
    fn take_over(&self, word: u32) -> Option<Acquired> {
        let owner = word & PID_MASK;
        if word == UNLOCKED {
            return self.try_lock_fast().then_some(Acquired::Clean);
        }
        if sys::alive(owner) {
            return None;
        }
        self.word
            .compare_exchange(word, sys::my_pid() | CONTENDED, Acquire, Relaxed)
            .ok()
            .map(|_| Acquired::OwnerDied(owner))
    }
    // ANCHOR_END: owner_died

    /// Releases the lock. Release: publishes the data to the next Acquire in `lock`.
    #[inline]
    pub(super) fn unlock(&self) {
        if self.word.swap(UNLOCKED, Release) & CONTENDED != 0 {
            sys::wake_one(&self.word);
        }
    }

    /// The holder's pid, if any (a snapshot).
    pub(super) fn owner(&self) -> Option<u32> {
        // Relaxed: a hint only.
        match self.word.load(Relaxed) & PID_MASK {
            0 => None,
            pid => Some(pid),
        }
    }
}

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
    /// When the lock is held this makes one `kill(pid, 0)` system call to check the holder.
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
