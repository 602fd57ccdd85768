//! `process::Queue<T, N>`: Python's `multiprocessing.Queue` for plain-data items, as a ring of
//! `N` slots in shared memory.
//!
//! The ring is guarded by a process [`Lock`]; two sequence words beside it are what processes
//! sleep on, and only when the ring is empty (getters) or full (putters). An item is copied in
//! and out byte for byte, so `T` must be [`Shareable`] and `Copy`: no pointers, no heap data.
//!
//! | word | values | meaning |
//! |---|---|---|
//! | `ring.state` | `head << 32 \| len` | where the oldest item is, and how many there are: **the commit word** |
//! | `ring.getters`, `ring.putters` | `registered`, `claimed`: `0..` | who may sleep on `not_empty` / `not_full`, and how many wakes are on their way (under the lock; table at `Sleepers`) |
//! | `ring.shut` | `0` or `1` | shut down (under the lock) |
//! | `not_empty` | wraps | bumped (under the lock) by every put and by `shutdown`; getters sleep on it |
//! | `not_full` | wraps | bumped (under the lock) by every get and by `shutdown`; putters sleep on it |
//!
//! **Killed in the middle.** A `put` writes the item into the free slot first and only then
//! stores the new `state`, with one 64-bit store. A `get` copies the item out first and then
//! stores `state`. A process killed before that store changed nothing anyone can see (a
//! half-written slot is outside `head..head+len`, and the next put overwrites it); killed after
//! it, the operation is complete. So the ring is consistent at every instant, and whoever takes
//! the lock over from a dead holder ([`OwnerDied`]) can simply go on.
//!
//! **No lost wakeup.** A getter reads `not_empty` and registers in `getters` while it holds the
//! lock, then sleeps on the value it read. A putter bumps `not_empty` and reads `getters` under
//! the same lock, so either the getter registered first (the putter wakes one, and the value has
//! changed, so the futex cannot sleep through it) or the put came first (the getter saw the item).
//! A putter wakes only while some registered getter has no wake on its way yet (a *claim*, see
//! `Sleepers` in `ring.rs`): one wake per sleep, not one per put until the woken getter runs.
//! Sleeps last at most a [`SLICE`](super::lock::SLICE): a woken process that is killed before it
//! takes its item cannot leave the others asleep for longer than that.

use std::fmt;
use std::mem::MaybeUninit;
use std::time::Duration;

use super::ring::{Patience, Ring, STALL_IN_PUT, Sleepers, snooze_while, stall_half_written};
use super::{Lock, LockGuard, OwnerDied, Shareable, sys};
use crate::sync::{
    AtomicU32, AtomicU64,
    Ordering::{Acquire, Relaxed},
};
use crate::{GetError, PutError, ShutDown};

/// A bounded FIFO queue of plain-data items shared between processes: `multiprocessing.Queue`.
///
/// `N` slots (at least 1) live inside the queue itself, so the whole queue is one block of plain
/// memory: put it in a [`Shared`](super::Shared) region and hand it to children. Items are
/// copied byte for byte, hence `T: Shareable + Copy`: numbers, arrays, `#[repr(C)]` structs of
/// those; never a `String` or a `Vec` (send bytes in an array instead). The methods and errors
/// are those of [`synclab::Queue`](crate::Queue).
///
/// A process killed in the middle of `put` or `get` leaves no torn item and no lost slot (see
/// the module docs); the next process to lock the queue takes the lock over from it.
///
/// ```
/// use synclab::process::{Queue, Shared};
///
/// # fn main() -> Result<(), synclab::process::ProcessError> {
/// # if cfg!(not(target_os = "linux")) { return Ok(()); }
/// let q = Shared::new(Queue::<u64, 16>::new())?;
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         for i in 0..100 {
///             q.put(i).unwrap();
///         }
///         q.shutdown();
///     });
///     let mut sum = 0;
///     while let Ok(i) = q.get() {
///         sum += i;
///     }
///     assert_eq!(sum, 4950);
/// });
/// # Ok(()) }
/// ```
#[repr(C)]
pub struct Queue<T: Shareable + Copy, const N: usize> {
    ring: Lock<Ring<T, N>>,
    /// Bumped by every put and by `shutdown`; getters sleep on it.
    not_empty: AtomicU32,
    /// Bumped by every get and by `shutdown`; putters sleep on it.
    not_full: AtomicU32,
}

// SAFETY: a process lock over plain data, and two atomic words.
unsafe impl<T: Shareable + Copy, const N: usize> Shareable for Queue<T, N> {}

impl<T: Shareable + Copy, const N: usize> Queue<T, N> {
    /// An empty queue with `N` slots. `N == 0` (or more than 2^31) does not compile.
    ///
    /// ```
    /// let q = synclab::process::Queue::<[u8; 64], 128>::new();
    /// assert_eq!(q.capacity(), 128);
    /// ```
    pub const fn new() -> Queue<T, N> {
        const {
            assert!(
                N > 0 && N <= (u32::MAX >> 1) as usize,
                "a queue needs 1 to 2^31 slots"
            )
        };
        Queue {
            ring: Lock::new(Ring {
                state: AtomicU64::new(0),
                getters: Sleepers::new(),
                putters: Sleepers::new(),
                shut: AtomicU32::new(0),
                slots: [const { MaybeUninit::uninit() }; N],
            }),
            not_empty: AtomicU32::new(0),
            not_full: AtomicU32::new(0),
        }
    }

    /// Locks the ring. A holder that died left it consistent (module docs), so a take-over
    /// needs no repair.
    fn ring(&self) -> LockGuard<'_, Ring<T, N>> {
        self.ring.lock().unwrap_or_else(OwnerDied::into_inner)
    }

    // ANCHOR: put
    fn put_with(&self, item: T, patience: Patience) -> Result<(), PutError<T>> {
        let (mut registered, mut snoozed) = (false, false);
        loop {
            let mut ring = self.ring();
            if std::mem::take(&mut registered) {
                ring.putters.leave();
            }
            if *ring.shut.get_mut() != 0 {
                return Err(PutError::ShutDown(item));
            }
            let (head, len) = ring.head_len();
            if len < N {
                let slot = ring.slots[(head + len) % N].as_mut_ptr();
                if STALL_IN_PUT.load(Relaxed) {
                    stall_half_written(slot, &item);
                }
                // SAFETY: `slot` points into the ring, which the guard lets us write; the slot
                // is outside `head..head+len`, so no reader looks at it until the commit.
                unsafe { slot.write(item) };
                ring.commit(head, len + 1); // the item becomes visible here, all at once
                // Relaxed: getters read it under the same lock.
                self.not_empty.fetch_add(1, Relaxed);
                let wake = ring.getters.claim();
                drop(ring);
                if wake {
                    sys::wake_one(&self.not_empty);
                }
                return Ok(());
            }
            if patience.expired() {
                return Err(match patience {
                    Patience::None => PutError::Full(item),
                    Patience::Until(_) => PutError::Timeout(item),
                });
            }
            let seen = self.not_full.load(Relaxed);
            if !std::mem::replace(&mut snoozed, true) {
                drop(ring);
                snooze_while(&self.not_full, seen); // then look again, under the lock
                continue;
            }
            ring.putters.register();
            registered = true;
            drop(ring);
            sys::wait(&self.not_full, seen, patience.next_wake());
        }
    }
    // ANCHOR_END: put

    // ANCHOR: get
    fn get_with(&self, patience: Patience) -> Result<T, GetError> {
        let (mut registered, mut snoozed) = (false, false);
        loop {
            let mut ring = self.ring();
            if std::mem::take(&mut registered) {
                ring.getters.leave();
            }
            let (head, len) = ring.head_len();
            if len > 0 {
                // SAFETY: slots `head..head+len` were written by committed puts.
                let item = unsafe { ring.slots[head].assume_init() };
                ring.commit((head + 1) % N, len - 1); // the slot is free from here on
                self.not_full.fetch_add(1, Relaxed); // Relaxed: read under the lock
                let wake = ring.putters.claim();
                drop(ring);
                if wake {
                    sys::wake_one(&self.not_full);
                }
                return Ok(item);
            }
            if *ring.shut.get_mut() != 0 {
                return Err(GetError::ShutDown);
            }
            if patience.expired() {
                return Err(match patience {
                    Patience::None => GetError::Empty,
                    Patience::Until(_) => GetError::Timeout,
                });
            }
            let seen = self.not_empty.load(Relaxed);
            if !std::mem::replace(&mut snoozed, true) {
                drop(ring);
                snooze_while(&self.not_empty, seen); // then look again, under the lock
                continue;
            }
            ring.getters.register();
            registered = true;
            drop(ring);
            sys::wait(&self.not_empty, seen, patience.next_wake());
        }
    }
    // ANCHOR_END: get

    /// Puts `item` at the back, waiting while the queue is full. `Err(ShutDown(item))` once the
    /// queue is shut down: the item comes back.
    ///
    /// ```
    /// let q = synclab::process::Queue::<u32, 2>::new();
    /// q.put(7).unwrap();
    /// assert_eq!(q.get(), Ok(7));
    /// ```
    pub fn put(&self, item: T) -> Result<(), ShutDown<T>> {
        self.put_with(item, Patience::Until(None))
            .map_err(|e| ShutDown(e.into_inner()))
    }

    /// Puts `item` if there is room now (Python's `put_nowait`).
    ///
    /// ```
    /// use synclab::PutError;
    /// let q = synclab::process::Queue::<u32, 1>::new();
    /// q.try_put(1).unwrap();
    /// assert_eq!(q.try_put(2), Err(PutError::Full(2)));
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_with(item, Patience::None)
    }

    /// Puts `item`, waiting at most `timeout` for room.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::PutError;
    /// let q = synclab::process::Queue::<u32, 1>::new();
    /// q.put(1).unwrap();
    /// assert_eq!(q.put_timeout(2, Duration::from_millis(5)), Err(PutError::Timeout(2)));
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_with(item, Patience::Until(crate::futex::deadline_after(timeout)))
    }

    /// Takes the item at the front, waiting while the queue is empty. `Err(ShutDown(()))` only
    /// once the queue is shut down *and* empty.
    ///
    /// ```
    /// let q = synclab::process::Queue::<u32, 4>::new();
    /// q.put(1).unwrap();
    /// q.shutdown();
    /// assert_eq!(q.get(), Ok(1)); // drained first
    /// assert!(q.get().is_err());
    /// ```
    pub fn get(&self) -> Result<T, ShutDown> {
        self.get_with(Patience::Until(None))
            .map_err(|_| ShutDown(()))
    }

    /// Takes the front item if there is one now (Python's `get_nowait`).
    ///
    /// ```
    /// use synclab::GetError;
    /// let q = synclab::process::Queue::<u32, 4>::new();
    /// assert_eq!(q.try_get(), Err(GetError::Empty));
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.get_with(Patience::None)
    }

    /// Takes the front item, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::GetError;
    /// let q = synclab::process::Queue::<u32, 4>::new();
    /// assert_eq!(q.get_timeout(Duration::from_millis(5)), Err(GetError::Timeout));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.get_with(Patience::Until(crate::futex::deadline_after(timeout)))
    }

    /// How many items are queued (a snapshot: Python's `qsize()`).
    ///
    /// ```
    /// let q = synclab::process::Queue::<u32, 4>::new();
    /// q.put(1).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.ring().head_len().1
    }

    /// `true` if no item is queued (a snapshot: Python's `empty()`).
    ///
    /// ```
    /// assert!(synclab::process::Queue::<u32, 4>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` if all `N` slots are taken (a snapshot: Python's `full()`).
    ///
    /// ```
    /// let q = synclab::process::Queue::<u32, 1>::new();
    /// q.put(1).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == N
    }

    /// The number of slots, `N` (always bounded, unlike `synclab::Queue::capacity`, which
    /// returns an `Option`).
    ///
    /// ```
    /// assert_eq!(synclab::process::Queue::<u8, 3>::new().capacity(), 3);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Shuts the queue down, in every process: puts fail from now on (handing their item back),
    /// gets drain what is left and then fail; every sleeper wakes.
    ///
    /// ```
    /// let q = synclab::process::Queue::<u32, 4>::new();
    /// q.shutdown();
    /// assert!(q.is_shutdown());
    /// assert_eq!(q.put(1).unwrap_err().into_inner(), 1);
    /// ```
    pub fn shutdown(&self) {
        let mut ring = self.ring();
        *ring.shut.get_mut() = 1;
        self.not_empty.fetch_add(1, Relaxed);
        self.not_full.fetch_add(1, Relaxed);
        drop(ring);
        sys::wake_all(&self.not_empty);
        sys::wake_all(&self.not_full);
    }

    // ANCHOR: arm
    /// For [`wait_any`](super::wait_any): `None` if a `get` would not block now (an item, or
    /// shut down); else registers as a getter, as `get` does before it sleeps, and returns the
    /// word to sleep on with the value read under the lock.
    pub(super) fn arm_get(&self) -> Option<(&AtomicU32, u32)> {
        let mut ring = self.ring();
        if ring.head_len().1 > 0 || *ring.shut.get_mut() != 0 {
            return None;
        }
        let seen = self.not_empty.load(Relaxed); // Relaxed: bumped under the same lock
        ring.getters.register();
        Some((&self.not_empty, seen))
    }

    /// Undoes [`arm_get`](Self::arm_get). A wait-any waiter does not take the item it was
    /// woken for, so if items are there and another getter sleeps with no wake on its way
    /// (the one a put sent may have come to us), it passes one on: bump and wake, as a put does.
    pub(super) fn disarm_get(&self) {
        let mut ring = self.ring();
        ring.getters.leave();
        let wake = ring.head_len().1 > 0 && ring.getters.claim();
        if wake {
            self.not_empty.fetch_add(1, Relaxed); // Relaxed: read under the lock
        }
        drop(ring);
        if wake {
            sys::wake_one(&self.not_empty);
        }
    }
    // ANCHOR_END: arm

    /// `true` once [`shutdown`](Queue::shutdown) was called (by any process).
    ///
    /// ```
    /// assert!(!synclab::process::Queue::<u32, 4>::new().is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.ring().shut.load(Acquire) != 0
    }
}

impl<T: Shareable + Copy, const N: usize> Default for Queue<T, N> {
    fn default() -> Self {
        Queue::new()
    }
}

impl<T: Shareable + Copy, const N: usize> fmt::Debug for Queue<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("process::Queue")
            .field("len", &self.len())
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
