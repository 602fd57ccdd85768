//! `RLock<T>`: Python's `threading.RLock`, a lock that the thread holding it may take again.
//!
//! Three words on top of the data: a [`RawLock`] (synclab's queued lock, which does all
//! the sleeping and waking), the id of the thread that holds it, and how many guards that thread
//! holds (std's unstable `ReentrantLock` and parking_lot's `ReentrantMutex` have the same shape).
//!
//! | `raw` | `owner` | `count` | meaning |
//! |---|---|---|---|
//! | unlocked | `NO_OWNER` (0) | 0 | free |
//! | locked | 0 | 0 | being taken or given back: the holder is between `raw` and `owner` |
//! | locked | id of thread A | n ≥ 1 | A holds n guards |
//!
//! | operation, by thread T | transition |
//! |---|---|
//! | `lock` when `owner == T` | `count += 1` (no atomic RMW, no syscall); panics instead of overflowing |
//! | `lock` otherwise | `raw.lock()` (may sleep); then `owner = T`, `count = 1` |
//! | drop of a guard, `count > 1` | `count -= 1` |
//! | drop of the last guard | `count = 0`, `owner = 0`, then `raw.unlock()` (wakes a sleeper if any) |
//!
//! Why `owner` may be read with `Relaxed`: a thread compares it with **its own** id, which only
//! it ever stores, and it stores `0` before it lets go of `raw`. By the coherence of one atomic,
//! a thread sees its own latest store or a later one, so it reads its id back exactly when it
//! holds the lock. Otherwise it goes to `raw`, whose Acquire/Release does the synchronising.
//! `count` is touched only by the owner (`Relaxed`; an atomic so that no `unsafe` is needed).
//!
//! Thread ids come from a global counter, cached in a thread-local, and are never reused, even
//! after the thread exits. With a reusable id (the address of a thread-local, which the OS hands
//! to the next thread), a thread that leaked a guard (`mem::forget`) and exited would let a new
//! thread with the same id walk in as "owner" (rust-lang/rust#123458; why std's `ReentrantLock`
//! moved to `ThreadId`, whose `as_u64` is unstable). A `usize` fits every platform's atomics;
//! running out (2^64 ids, 2^32 on 32-bit targets) panics rather than reuse one.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use crate::RawLock;
use crate::futex;
use crate::sync::{AtomicU32, AtomicUsize, Ordering::Relaxed, loom_const_fn};

mod wait;

/// `owner` when no thread holds the lock; thread ids start at 1.
const NO_OWNER: usize = 0;

// ANCHOR: thread_id
/// This thread's id: nonzero and unique for the life of the process (module docs).
fn current_thread_id() -> usize {
    #[cfg(not(loom))]
    std::thread_local!(static ID: usize = next_thread_id());
    // loom runs its model threads on one OS thread, so std's thread-locals would be shared.
    #[cfg(loom)]
    loom::thread_local!(static ID: usize = next_thread_id());
    ID.with(|id| *id)
}

#[cold]
fn next_thread_id() -> usize {
    // A std atomic, not the facade's: this is a `const` static (loom atomics cannot be built in a
    // const context) and an id allocator outside every lock protocol. Relaxed: the RMW alone makes
    // every id unique; nothing else is published through it.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    NEXT.fetch_update(Relaxed, Relaxed, |n| n.checked_add(1))
        .expect("RLock: thread ids exhausted (usize::MAX threads have used an RLock)")
}
// ANCHOR_END: thread_id

/// A re-entrant lock that owns the data it protects: Python's `threading.RLock`.
///
/// The thread that holds the lock may call [`lock`](RLock::lock) again and gets another guard at
/// once; other threads block until every guard of the holder is dropped. This makes it safe for
/// a locked function to call another function that locks the same `RLock` (a plain
/// [`Lock`](crate::Lock) would deadlock).
///
/// Because the holder may have several guards at once, a guard only gives **`&T`**, never
/// `&mut T` (two `&mut` to the same data would be undefined behaviour). To change the data,
/// put interior mutability inside: a [`Cell`](std::cell::Cell) or
/// [`RefCell`](std::cell::RefCell) (which need no `Sync`, since only one thread at a time gets
/// in), or a [`Lock`](crate::Lock) for the part that needs `&mut`.
///
/// Like every synclab lock it never poisons: a panicking holder drops its guards while
/// unwinding, and the lock is free again. It is 16 bytes plus the data on 64-bit targets.
///
/// ```
/// use std::cell::RefCell;
/// use synclab::RLock;
///
/// static LOG: RLock<RefCell<Vec<&str>>> = RLock::new(RefCell::new(Vec::new()));
///
/// fn log(msg: &'static str) {
///     LOG.lock().borrow_mut().push(msg);
/// }
///
/// fn log_twice(msg: &'static str) {
///     let _held = LOG.lock(); // the two lines stay together...
///     log(msg); // ...and locking again from this thread does not deadlock
///     log(msg);
/// }
///
/// log_twice("hi");
/// assert_eq!(*LOG.lock().borrow(), ["hi", "hi"]);
/// ```
// ANCHOR: fields
pub struct RLock<T: ?Sized> {
    /// The mutex other threads sleep on.
    raw: RawLock,
    /// Guards the owner holds; 0 when free. Written only by the owner.
    count: AtomicU32,
    /// The holder's thread id, or `NO_OWNER` (table in the module docs).
    owner: AtomicUsize,
    data: T,
}
// ANCHOR_END: fields

// `Send` is automatic: it holds a `T`, so it is `Send` exactly when `T` is.
// SAFETY: `&T` reaches one thread at a time (the raw lock hands it over with Release/Acquire), so
// `T` need not be `Sync`; but it does move between threads, so `T: Send` (std's `ReentrantLock`
// and parking_lot's `ReentrantMutex` have the same bound).
unsafe impl<T: ?Sized + Send> Sync for RLock<T> {}

impl<T> RLock<T> {
    loom_const_fn! {
        /// A new, unlocked re-entrant lock holding `value`.
        ///
        /// ```
        /// static COUNT: synclab::RLock<std::cell::Cell<u32>> =
        ///     synclab::RLock::new(std::cell::Cell::new(0));
        /// let c = COUNT.lock();
        /// c.set(c.get() + 1);
        /// ```
        pub fn new(value: T) -> RLock<T> {
            RLock {
                raw: RawLock::new(),
                count: AtomicU32::new(0),
                owner: AtomicUsize::new(NO_OWNER),
                data: value,
            }
        }
    }

    /// Consumes the lock and returns the data.
    ///
    /// ```
    /// let lock = synclab::RLock::new(String::from("x"));
    /// assert_eq!(lock.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data
    }
}

impl<T: ?Sized> RLock<T> {
    /// Acquires the lock, blocking while another thread holds it; returns at once if this
    /// thread holds it already. The lock is free again when every guard is dropped.
    ///
    /// # Panics
    ///
    /// If this thread already holds `u32::MAX` guards of this lock.
    ///
    /// ```
    /// let lock = synclab::RLock::new(5);
    /// let a = lock.lock();
    /// let b = lock.lock(); // same thread: no deadlock
    /// assert_eq!(*a + *b, 10);
    /// ```
    // ANCHOR: lock
    #[inline]
    pub fn lock(&self) -> RLockGuard<'_, T> {
        let me = current_thread_id();
        if !self.reenter(me) {
            self.raw.lock();
            self.take(me);
        }
        RLockGuard::new(self)
    }
    // ANCHOR_END: lock

    /// `lock` with a fallible way of taking `raw` when this thread does not hold it yet.
    #[inline]
    fn lock_with(&self, take_raw: impl FnOnce(&RawLock) -> bool) -> Option<RLockGuard<'_, T>> {
        let me = current_thread_id();
        if !self.reenter(me) {
            if !take_raw(&self.raw) {
                return None;
            }
            self.take(me);
        }
        Some(RLockGuard::new(self))
    }

    /// Acquires the lock if it is free or held by this thread; never blocks (Python's
    /// `acquire(blocking=False)`).
    ///
    /// # Panics
    ///
    /// As [`lock`](RLock::lock), on recursion-count overflow.
    ///
    /// ```
    /// let lock = synclab::RLock::new(());
    /// let _g = lock.lock();
    /// assert!(lock.try_lock().is_some()); // re-entry always succeeds
    /// std::thread::scope(|s| assert!(s.spawn(|| lock.try_lock().is_none()).join().unwrap()));
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<RLockGuard<'_, T>> {
        self.lock_with(RawLock::try_lock)
    }

    /// Acquires the lock, waiting at most `timeout` for another thread to let go (Python's
    /// `acquire(timeout=…)`). Re-entry succeeds at once.
    ///
    /// `Duration::ZERO` tries once; `Duration::MAX` waits forever.
    ///
    /// # Panics
    ///
    /// As [`lock`](RLock::lock), on recursion-count overflow.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = synclab::RLock::new(());
    /// let _g = lock.lock_timeout(Duration::ZERO).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(lock.lock_timeout(Duration::from_millis(5)).is_none()));
    /// });
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_, T>> {
        self.lock_with(|raw| raw.lock_until(futex::deadline_after(timeout)))
    }

    /// `true` if some thread holds the lock (Python's `locked()`); a snapshot only.
    ///
    /// ```
    /// let lock = synclab::RLock::new(());
    /// let g = lock.lock();
    /// assert!(lock.is_locked());
    /// drop(g);
    /// assert!(!lock.is_locked());
    /// ```
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// `true` if the calling thread holds the lock (Python's `_is_owned()`). Exact, not a
    /// snapshot: no other thread can change the answer for this thread.
    ///
    /// ```
    /// let lock = synclab::RLock::new(());
    /// let _g = lock.lock();
    /// assert!(lock.is_owned_by_current_thread());
    /// std::thread::scope(|s| {
    ///     assert!(!s.spawn(|| lock.is_owned_by_current_thread()).join().unwrap());
    /// });
    /// ```
    // ANCHOR: is_owned
    #[inline]
    pub fn is_owned_by_current_thread(&self) -> bool {
        // Relaxed: a thread reads its own id back only if it stored it (module docs).
        self.owner.load(Relaxed) == current_thread_id()
    }
    // ANCHOR_END: is_owned

    /// How many guards the calling thread holds: 0 if it does not hold the lock, also while
    /// another thread does (Python's `_recursion_count()`).
    ///
    /// ```
    /// let lock = synclab::RLock::new(());
    /// assert_eq!(lock.recursion_count(), 0);
    /// let a = lock.lock();
    /// let b = lock.lock();
    /// assert_eq!(lock.recursion_count(), 2);
    /// drop((a, b));
    /// assert_eq!(lock.recursion_count(), 0);
    /// ```
    #[inline]
    pub fn recursion_count(&self) -> u32 {
        if self.is_owned_by_current_thread() {
            // Relaxed: we are the owner, the only thread that writes `count`.
            self.count.load(Relaxed)
        } else {
            0
        }
    }

    /// Mutable access without locking: `&mut self` proves that no guard exists.
    ///
    /// ```
    /// let mut lock = synclab::RLock::new(1);
    /// *lock.get_mut() = 5;
    /// assert_eq!(*lock.lock(), 5);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.data
    }

    // ANCHOR: reenter
    /// If thread `me` holds the lock, counts one more guard and returns `true`.
    #[inline]
    fn reenter(&self, me: usize) -> bool {
        // Relaxed: see `is_owned_by_current_thread`. When this is not our id, `raw` synchronises.
        if self.owner.load(Relaxed) != me {
            return false;
        }
        // Relaxed (both): only the owner, this thread, touches `count` while it holds the lock.
        let count = self.count.load(Relaxed);
        match count.checked_add(1) {
            Some(count) => self.count.store(count, Relaxed),
            None => recursion_overflow(),
        }
        true
    }

    /// Records thread `me` as the owner of a freshly taken `raw` lock.
    #[inline]
    fn take(&self, me: usize) {
        // Relaxed (both): ordered after the Acquire that took `raw` and before its Release; the
        // previous owner cleared both before its Release (module docs).
        debug_assert_eq!(self.count.load(Relaxed), 0);
        self.count.store(1, Relaxed);
        self.owner.store(me, Relaxed);
    }
    // ANCHOR_END: reenter
}

// ANCHOR: overflow
#[cold]
#[track_caller]
fn recursion_overflow() -> ! {
    panic!("RLock: recursion count overflow (this thread already holds u32::MAX guards)")
}
// ANCHOR_END: overflow

impl<T: Default> Default for RLock<T> {
    fn default() -> Self {
        RLock::new(T::default())
    }
}

impl<T> From<T> for RLock<T> {
    fn from(value: T) -> Self {
        RLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RLock<T> {
    /// Shows the data if this thread can lock it now (also re-entrantly), else `<locked>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RLock");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

/// Proof that this thread holds an [`RLock`]: derefs to `&T`, and gives one level of the lock
/// back when dropped.
///
/// `!Send` (the lock belongs to the thread that took it); `Sync` when `T: Sync`, since sharing
/// `&RLockGuard` only shares `&T`.
///
/// A [`Condition`](crate::Condition) can wait with it: the wait releases every level of this
/// thread and restores them on waking. During that wait this thread's other guards stay alive
/// but the lock is another thread's, so a live guard proves ownership only on its own thread
/// and outside waits (the soundness argument is on [`WaitGuard`](crate::WaitGuard)).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a, T: ?Sized> {
    lock: &'a RLock<T>,
    /// `!Send` (and `!Sync`, restored below for `T: Sync`).
    _not_send: std::marker::PhantomData<*const ()>,
}

// SAFETY: `&RLockGuard` gives nothing but `&T`, which may cross threads when `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for RLockGuard<'_, T> {}

impl<'a, T: ?Sized> RLockGuard<'a, T> {
    fn new(lock: &'a RLock<T>) -> Self {
        RLockGuard {
            lock,
            _not_send: std::marker::PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RLockGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.lock.data
    }
}

// ANCHOR: guard_drop
impl<T: ?Sized> Drop for RLockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        let lock = self.lock;
        // Relaxed (all three): we are the owner; `raw.unlock` (Release) publishes them with the
        // data to the next owner's Acquire.
        let count = lock.count.load(Relaxed);
        debug_assert!(count >= 1, "an RLockGuard exists, so the count is positive");
        if count > 1 {
            lock.count.store(count - 1, Relaxed);
            return;
        }
        lock.count.store(0, Relaxed);
        lock.owner.store(NO_OWNER, Relaxed);
        // SAFETY: this guard is proof that this thread holds `raw`, and it was the last guard.
        unsafe { lock.raw.unlock() }
    }
}
// ANCHOR_END: guard_drop

impl<T: ?Sized + fmt::Debug> fmt::Debug for RLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "RLock: recursion count overflow")]
    fn recursion_overflow_panics_with_a_clear_message() {
        let lock = RLock::new(());
        let _g = lock.lock();
        lock.count.store(u32::MAX, Relaxed); // as if u32::MAX guards were alive
        let _ = lock.lock();
    }

    #[test]
    fn overflow_leaves_the_count_as_it_was() {
        let lock = RLock::new(());
        let g = lock.lock();
        lock.count.store(u32::MAX, Relaxed);
        assert!(std::panic::catch_unwind(|| lock.try_lock().is_some()).is_err());
        assert_eq!(lock.count.load(Relaxed), u32::MAX);
        lock.count.store(1, Relaxed);
        drop(g);
        assert!(!lock.is_locked());
    }

    #[test]
    fn thread_ids_are_distinct_and_stable_and_the_last_guard_clears_the_owner() {
        let (here, there) = (
            current_thread_id(),
            std::thread::spawn(current_thread_id).join().unwrap(),
        );
        assert_eq!(here, current_thread_id());
        assert!(here != NO_OWNER && there != NO_OWNER && here != there);
        let lock = RLock::new(());
        let (a, b) = (lock.lock(), lock.lock());
        assert_eq!(lock.owner.load(Relaxed), here);
        drop((a, b));
        assert_eq!(lock.owner.load(Relaxed), NO_OWNER);
    }
}
