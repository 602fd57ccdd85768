//! # Exercise `spin_lock` — Part II, "Atomics and memory ordering"
//!
//! Build the simplest lock there is: one `AtomicBool`, taken by swapping `true` into it until
//! the old value was `false`, released by storing `false`. The point is the orderings: taking
//! the lock is an `Acquire` and releasing it a `Release`, so that everything one holder wrote
//! is visible to the next one.
//!
//! Check your work: `cargo xtask check spin_lock`

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

/// A lock that never sleeps: waiting threads spin.
pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands `&mut T` to one thread at a time, so sharing it is safe when `T` may
// move between threads.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// A new, unlocked spin lock.
    pub const fn new(value: T) -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Spins until the lock is ours.
    pub fn lock(&self) -> SpinGuard<'_, T> {
        // TODO: swap `true` into `locked` until the old value was `false`, calling
        // `std::hint::spin_loop()` while you wait. Which ordering makes the previous holder's
        // writes visible to you? Then return a `SpinGuard`.
        todo!()
    }

    /// Takes the lock only if it is free right now.
    pub fn try_lock(&self) -> Option<SpinGuard<'_, T>> {
        // TODO: one swap, no loop: `Some(guard)` if the old value was `false`.
        todo!()
    }
}

/// Proof that the lock is held; releases it when dropped.
pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while this thread holds the lock, and `&mut self`
        // makes this the only reference through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        // TODO: release the lock. Which ordering publishes your writes to the next holder?
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;

    #[test]
    fn lock_gives_access_and_unlocks_on_drop() {
        let lock = SpinLock::new(1);
        *lock.lock() += 1;
        assert_eq!(*lock.lock(), 2);
    }

    #[test]
    fn try_lock_fails_while_held() {
        let lock = SpinLock::new(());
        let guard = lock.lock();
        assert!(lock.try_lock().is_none());
        // A failed attempt must leave the holder's lock alone.
        assert!(lock.try_lock().is_none());
        drop(guard);
        assert!(lock.try_lock().is_some());
    }

    /// Regression (`then_some` guard bug, fixed in e1de0ff): `try_lock` written as
    /// `(!swap).then_some(SpinGuard { .. })` builds the guard even when the swap failed, and
    /// dropping that unused guard unlocked the lock that another holder still held.
    #[test]
    fn then_some_failed_try_lock_does_not_unlock_the_holder() {
        let lock = SpinLock::new(());
        let _held = lock.lock();
        assert!(lock.try_lock().is_none());
        assert!(
            lock.try_lock().is_none(),
            "a failed try_lock released the lock that another guard holds"
        );
    }

    #[test]
    fn four_threads_never_lose_an_update() {
        let iters = common::scaled(20_000);
        common::guarded("spin_lock_count", |_| {
            let lock = SpinLock::new(0usize);
            std::thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| {
                        for _ in 0..iters {
                            let mut g = lock.lock();
                            let v = *g;
                            *g = std::hint::black_box(v) + 1;
                        }
                    });
                }
            });
            assert_eq!(*lock.lock(), 4 * iters);
        });
    }
}
