//! Waiting on a [`Condition`](crate::Condition) with an [`RLockGuard`]: CPython's
//! `_release_save` and `_acquire_restore`.
//!
//! | step | `raw` | `owner` | `count` |
//! |---|---|---|---|
//! | before: thread A holds n guards | locked | A | n |
//! | `release`: saves (A, n), clears both, unlocks | unlocked | 0 | 0 |
//! | (others may own the lock meanwhile, with any count) | … | … | … |
//! | `reacquire`: `raw.lock()`, then restores | locked | A | n |
//!
//! The n guards of A live on through the wait (the waited one is forgotten by `release` and
//! made again by `reacquire`): they are only references to the lock, and the count they stand
//! for is saved in [`Released`]. Why the outer ones are harmless meanwhile is argued on
//! [`WaitGuard`](crate::WaitGuard).

use std::marker::PhantomData;
use std::mem::ManuallyDrop;

use super::{NO_OWNER, RLock, RLockGuard};
use crate::condition::guard::{WaitGuard, WaitGuardRef, sealed::Sealed};
use crate::sync::Ordering::Relaxed;

/// An `RLock` given up by a waiting thread: who held it and how often.
///
/// Dropping it instead of passing it to `reacquire` (only if something between the two
/// panicked; nothing there is meant to) takes the lock back and gives one level up: the waited
/// guard is gone, but the thread's outer guards still count on the lock being theirs.
pub struct Released<'a, T: ?Sized> {
    lock: &'a RLock<T>,
    /// The owner's thread id, read from `owner` (so no thread-local access on the way back).
    owner: usize,
    /// The recursion count at the time of the wait: every guard of the thread.
    count: u32,
    /// `!Send`: it must be restored on the thread whose id it holds.
    _not_send: PhantomData<*const ()>,
}

// ANCHOR: hand_off
impl<'a, T: ?Sized> Sealed for RLockGuard<'a, T> {
    type Released = Released<'a, T>;

    /// `_release_save`: every level at once.
    fn release(self) -> Released<'a, T> {
        let lock = self.lock;
        // The level this guard stands for is part of `count`, saved below and restored by
        // `reacquire`: its drop must not give it back now.
        std::mem::forget(self);
        // Relaxed (all): we are the owner, the only writer of both words; `raw.unlock`
        // (Release) publishes them to the next owner, as in the guard's drop.
        let owner = lock.owner.load(Relaxed);
        let count = lock.count.load(Relaxed);
        debug_assert!(
            owner != NO_OWNER && count >= 1,
            "a guard exists: we own the lock"
        );
        lock.count.store(0, Relaxed);
        lock.owner.store(NO_OWNER, Relaxed);
        // SAFETY: the guard was proof that this thread holds `raw` (guards are `!Send`), and
        // the count of 0 and owner of 0 stored above are what the last guard's drop leaves.
        unsafe { lock.raw.unlock() }
        Released {
            lock,
            owner,
            count,
            _not_send: PhantomData,
        }
    }

    /// `_acquire_restore`: the same owner, the same count.
    fn reacquire(released: Released<'a, T>) -> Self {
        ManuallyDrop::new(released).restore()
    }

    fn test<F>(&mut self, condition: &mut F) -> bool
    where
        F: for<'g> FnMut(<Self as WaitGuardRef<'g>>::Ref) -> bool,
    {
        condition(&**self)
    }
}

impl<'a, T: ?Sized> Released<'a, T> {
    fn restore(&self) -> RLockGuard<'a, T> {
        let lock = self.lock;
        lock.raw.lock();
        // Relaxed (both): as in `RLock::take`, after the Acquire of `raw.lock()`; the previous
        // owner cleared both before its Release.
        debug_assert_eq!(lock.count.load(Relaxed), 0);
        lock.count.store(self.count, Relaxed);
        lock.owner.store(self.owner, Relaxed);
        RLockGuard::new(lock)
    }
}
// ANCHOR_END: hand_off

impl<T: ?Sized> Drop for Released<'_, T> {
    fn drop(&mut self) {
        drop(self.restore());
    }
}

impl<T: ?Sized> WaitGuard for RLockGuard<'_, T> {}

impl<'g, T: ?Sized> WaitGuardRef<'g> for RLockGuard<'_, T> {
    type Ref = &'g T;
}
