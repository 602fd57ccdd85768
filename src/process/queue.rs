//! `process::Queue<T, N>`: Python's `multiprocessing.Queue` for plain-data items, as a ring of
//! `N` slots in shared memory.
//!
//! **Two locks.** Putters take the *put* lock and getters the *get* lock (process [`Lock`]s), so
//! a getter never waits for a putter or the other way round: they meet only in the slots and in
//! the two counters, each written by one side and read by the other. (One lock for both sides
//! made every item cross between cores twice under the same lock; with one producer and one
//! consumer on two cores that capped the queue at about 2 M items/s.)
//!
//! | word | values | meaning |
//! |---|---|---|
//! | `tail` | `0..` (wrapping) | items ever put: stored by a put, under the put lock, **after** its slot is written (the put's commit) |
//! | `head` | `0..` (wrapping) | items ever got: stored by a get, under the get lock, **after** its slot is read (the get's commit) |
//! | the slots | `tail - head` of them hold items | item `i` is in slot `i % N`; the put lock owns slots `tail..head + N`, the get lock slots `head..tail` |
//! | `shut` | `0` or `1` | shut down (set under the put lock) |
//! | `getters`, `putters` | a [`Waiters`] each: a futex word and a count | who sleeps while the ring is empty / full (the in-process queue's handshake, on the shared futex) |
//!
//! `tail - head` is always in `0..=N`: a put checks it under the put lock (`tail` is its own,
//! `head` only grows), a get under the get lock. A counter that a misbehaving process wrote
//! garbage into breaks that, and the next put or get panics saying so; every slot index is
//! `% N`, so nothing is ever read or written out of bounds.
//!
//! **Killed in the middle.** A `put` writes the item into slot `tail % N` first and then commits
//! with one store of `tail`; a `get` copies the item out first and then commits with one store
//! of `head`. A process killed before its commit changed nothing anyone can see (a half-written
//! slot is outside `head..tail`, and the next put overwrites it; an item copied out but not
//! committed is still at the front, for the next get); killed after it, the operation is
//! complete. So whoever takes a lock over from a dead holder ([`OwnerDied`]) can simply go on.
//!
//! **No lost wakeup.** Each commit is a SeqCst read-modify-write, and the committing side then
//! looks (SeqCst) at the other side's [`Waiters`]; a process about to sleep registers there
//! first (SeqCst, and a fence) and then looks at the counters again. In the single SeqCst order
//! either the commit comes first, and the sleeper's second look sees it, or the registration
//! does, and the committer wakes it: the Dekker argument of the in-process queue
//! (`src/queue/waiters.rs`, proved there under loom). Sleeps still last at most a
//! [`SLICE`](super::lock::SLICE): a process killed while registered leaves a stale unit behind,
//! which costs at most a wasted wake, and a woken process killed before it took its item cannot
//! leave the others asleep for longer than that.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;

use super::ring::{Patience, STALL_IN_PUT, snooze_until, stall_half_written};
use super::{Lock, LockGuard, OwnerDied, Shareable};
use crate::queue::waiters::{Padded, Waiters};
use crate::sync::{
    AtomicU32, AtomicU64,
    Ordering::{Acquire, Relaxed, SeqCst},
};
use crate::{GetError, PutError};

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
    /// The putters' lock, and `tail`: items ever put, stored last by a put (its commit).
    put: Padded<Side>,
    /// The getters' lock, and `head`: items ever got, stored last by a get (its commit).
    get: Padded<Side>,
    /// Getters asleep while the ring is empty.
    getters: Padded<Waiters>,
    /// Putters asleep while the ring is full.
    putters: Padded<Waiters>,
    /// 1 once shut down (set under the put lock).
    shut: AtomicU32,
    slots: [UnsafeCell<MaybeUninit<T>>; N],
}

/// One side of the ring: the lock its processes take, the counter only they write (on a cache
/// line of its own: the other side reads it, and must not pull the lock's line away with it),
/// and the other side's counter as they last saw it.
#[repr(C)]
struct Side {
    lock: Lock<()>,
    count: Padded<AtomicU64>,
    /// The other side's counter when this side last loaded it (under this side's lock; it only
    /// grows, so this is never ahead of it): a put that still has room by this figure, or a
    /// get that still has items, need not touch the other side's line at all.
    seen: AtomicU64,
}

impl Side {
    const fn new() -> Side {
        Side {
            lock: Lock::new(()),
            count: Padded(AtomicU64::new(0)),
            seen: AtomicU64::new(0),
        }
    }

    /// Takes this side's lock. A holder that died left the ring consistent (module docs), so a
    /// take-over needs no repair.
    fn lock(&self) -> LockGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(OwnerDied::into_inner)
    }
}

// SAFETY: process locks, atomics, and slots of a Shareable + Copy type: plain data, no
// pointers, no Drop. The slots are written and read only under the locks, as the module docs
// say.
unsafe impl<T: Shareable + Copy, const N: usize> Shareable for Queue<T, N> {}
// SAFETY: a slot is touched only by the holder of the lock that owns it (module docs), and
// an item is plain data (`Shareable`: no pointers, every bit pattern valid) that is copied in
// and out, as it is between processes, so handing copies to other threads is sound.
unsafe impl<T: Shareable + Copy, const N: usize> Sync for Queue<T, N> {}

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
            put: Padded(Side::new()),
            get: Padded(Side::new()),
            getters: Padded(Waiters::new()),
            putters: Padded(Waiters::new()),
            shut: AtomicU32::new(0),
            slots: [const { UnsafeCell::new(MaybeUninit::uninit()) }; N],
        }
    }

    /// `tail - head`, checked: the number of items, or a panic if a process wrote garbage into
    /// a counter (the one place that believes them).
    fn items(tail: u64, head: u64) -> usize {
        let len = tail.wrapping_sub(head);
        assert!(
            len <= N as u64,
            "process::Queue: its counters say {len} items in {N} slots (tail {tail}, head \
             {head}): a process wrote garbage into the shared region"
        );
        len as usize
    }

    // ANCHOR: put
    fn put_with(&self, item: T, patience: Patience) -> Result<(), PutError<T>> {
        let mut snoozed = false;
        loop {
            let (tail, head) = {
                let held = self.put.lock();
                // Acquire: pairs with `shutdown`'s store (made under this lock too).
                if self.shut.load(Acquire) != 0 {
                    return Err(PutError::ShutDown(item));
                }
                // Relaxed: `tail` and `seen` are written only under the lock we hold.
                let tail = self.put.count.load(Relaxed);
                let mut head = self.put.seen.load(Relaxed);
                if Self::items(tail, head) == N {
                    // Full as last seen: look at the getters' counter. Acquire: pairs with
                    // the get's commit; its read of the slot came before.
                    head = self.get.count.load(Acquire);
                    self.put.seen.store(head, Relaxed);
                }
                if Self::items(tail, head) < N {
                    let slot = self.slots[(tail % N as u64) as usize].get().cast::<T>();
                    if STALL_IN_PUT.load(Relaxed) {
                        stall_half_written(slot, &item);
                    }
                    // SAFETY: slot `tail % N` is outside `head..tail`, so it belongs to the put
                    // lock, which we hold: no other process reads or writes it until the
                    // commit below.
                    unsafe { slot.write(item) };
                    // The commit: the item becomes visible here, all at once. SeqCst: the
                    // committer's half of the Dekker pair with a getter about to sleep.
                    self.put.count.fetch_add(1, SeqCst);
                    drop(held);
                    self.getters.notify_one_shared();
                    return Ok(());
                }
                (tail, head)
            };
            if patience.expired() {
                return Err(match patience {
                    Patience::None => PutError::Full(item),
                    Patience::Until(_) => PutError::Timeout(item),
                });
            }
            if !std::mem::replace(&mut snoozed, true) {
                snooze_until(|| self.get.count.load(Relaxed) != head);
                continue; // then look again, under the lock
            }
            let seq = self.putters.prepare();
            // The second look, after registering: a get, a put, or a shutdown since?
            if self.get.count.load(Relaxed) != head
                || self.put.count.load(Relaxed) != tail
                || self.shut.load(Relaxed) != 0
            {
                self.putters.cancel();
                continue;
            }
            self.putters.sleep_shared(seq, patience.next_wake());
        }
    }
    // ANCHOR_END: put

    // ANCHOR: get
    fn get_with(&self, patience: Patience) -> Result<T, GetError> {
        let mut snoozed = false;
        loop {
            let (head, tail) = {
                let held = self.get.lock();
                // Relaxed: `head` and `seen` are written only under the lock we hold.
                let head = self.get.count.load(Relaxed);
                let mut tail = self.get.seen.load(Relaxed);
                let mut shut = false;
                if Self::items(tail, head) == 0 {
                    // Empty as last seen: look at the putters' counter. `shut` before `tail`,
                    // both Acquire: every put that succeeded before the shutdown is then seen,
                    // so "empty and shut down" is the end. `tail` pairs with the put's commit;
                    // its write of the slot came before.
                    shut = self.shut.load(Acquire) != 0;
                    tail = self.put.count.load(Acquire);
                    self.get.seen.store(tail, Relaxed);
                }
                if Self::items(tail, head) > 0 {
                    // SAFETY: slot `head % N` is in `head..tail`: a committed put wrote it, and
                    // it belongs to the get lock, which we hold, until our commit below.
                    let item =
                        unsafe { (*self.slots[(head % N as u64) as usize].get()).assume_init() };
                    // The commit: the slot is free from here on. SeqCst: as in `put_with`.
                    self.get.count.fetch_add(1, SeqCst);
                    drop(held);
                    self.putters.notify_one_shared();
                    return Ok(item);
                }
                if shut {
                    return Err(GetError::ShutDown);
                }
                (head, tail)
            };
            if patience.expired() {
                return Err(match patience {
                    Patience::None => GetError::Empty,
                    Patience::Until(_) => GetError::Timeout,
                });
            }
            if !std::mem::replace(&mut snoozed, true) {
                snooze_until(|| self.put.count.load(Relaxed) != tail);
                continue; // then look again, under the lock
            }
            let seq = self.getters.prepare();
            // The second look, after registering: a put, a get, or a shutdown since?
            if self.put.count.load(Relaxed) != tail
                || self.get.count.load(Relaxed) != head
                || self.shut.load(Relaxed) != 0
            {
                self.getters.cancel();
                continue;
            }
            self.getters.sleep_shared(seq, patience.next_wake());
        }
    }
    // ANCHOR_END: get

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
        let held = self.put.lock();
        // SeqCst: the committer's half of the Dekker pair, for every sleeper (as a put's
        // commit); under the put lock, so that no put succeeds after this returns.
        self.shut.swap(1, SeqCst);
        drop(held);
        self.getters.notify_all_shared();
        self.putters.notify_all_shared();
    }

    // ANCHOR: arm
    /// For [`wait_any`](super::wait_any): `None` if a `get` would not block now (an item, or
    /// shut down); else registers as a getter, as `get` does before it sleeps, and returns the
    /// word to sleep on with the value read before registering.
    pub(super) fn arm_get(&self) -> Option<(&AtomicU32, u32)> {
        let seq = self.getters.prepare();
        // The look after registering, as `get`'s second look.
        if !self.is_empty() || self.shut.load(Relaxed) != 0 {
            self.getters.cancel();
            return None;
        }
        Some((self.getters.word(), seq))
    }

    /// Undoes [`arm_get`](Self::arm_get). A wait-any waiter does not take the item it was
    /// woken for, so if items are there and another getter sleeps with no wake on its way
    /// (the one a put sent may have come to us), it passes one on, as a put does.
    pub(super) fn disarm_get(&self) {
        self.getters.leave();
        if !self.is_empty() {
            self.getters.notify_one_shared();
        }
    }
    // ANCHOR_END: arm
}

#[path = "queue_api.rs"]
mod api;

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
