//! # Exercise `two_state_lock` — Part II, "Lock"
//!
//! Replace the spin lock's spinning with sleeping. The state is one `AtomicU32` with two
//! values, `UNLOCKED` (0) and `LOCKED` (1). A thread that finds the lock taken sleeps with
//! `futex::wait` while the word is still `LOCKED`; unlocking stores `UNLOCKED` and wakes one
//! sleeper with `futex::wake_one`, every time, since this lock cannot tell whether anyone
//! sleeps. Correct, but every unlock is a system call: the next exercise removes it.
//!
//! Check your work: `cargo xtask check two_state_lock`

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};

use synclab::futex;

const UNLOCKED: u32 = 0; // free
const LOCKED: u32 = 1; // held (and perhaps threads asleep: this lock cannot tell)

/// A lock whose waiters sleep on a futex instead of spinning.
pub struct TwoStateLock<T> {
    state: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands `&mut T` to one thread at a time, so sharing it is safe when `T` may
// move between threads.
unsafe impl<T: Send> Sync for TwoStateLock<T> {}

impl<T> TwoStateLock<T> {
    /// A new, unlocked lock.
    pub const fn new(value: T) -> Self {
        TwoStateLock {
            state: AtomicU32::new(UNLOCKED),
            value: UnsafeCell::new(value),
        }
    }

    /// `true` if some thread holds the lock (a snapshot).
    pub fn is_locked(&self) -> bool {
        self.state.load(Relaxed) != UNLOCKED
    }

    /// Takes the lock, sleeping while another thread holds it.
    pub fn lock(&self) -> Guard<'_, T> {
        // TODO: as in the spin lock, swap LOCKED in until the old value was UNLOCKED, but
        // instead of spinning, sleep with `futex::wait(&self.state, LOCKED, None)`. What
        // happens if the holder unlocks just after your swap and before `futex::wait`?
        todo!()
    }

    /// Takes the lock only if it is free right now; never sleeps.
    pub fn try_lock(&self) -> Option<Guard<'_, T>> {
        // TODO: one attempt, UNLOCKED -> LOCKED, and no sleeping. Careful: a `Guard` that
        // you build and then drop unlocks the lock, so build one only when you got the lock.
        todo!()
    }
}

/// Proof that the lock is held; releases it when dropped.
pub struct Guard<'a, T> {
    lock: &'a TwoStateLock<T>,
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while this thread holds the lock, and `&mut self`
        // makes this the only reference through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        // TODO: release the lock (which ordering?), then wake a sleeper with `futex::wake_one`.
        // Why is one enough?
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::time::Duration;

    #[test]
    fn lock_gives_access_and_unlocks_on_drop() {
        let lock = TwoStateLock::new(1);
        *lock.lock() += 1;
        assert!(!lock.is_locked());
        assert_eq!(*lock.lock(), 2);
    }

    #[test]
    fn try_lock_fails_while_held() {
        let lock = TwoStateLock::new(());
        let guard = lock.lock();
        assert!(lock.is_locked());
        assert!(lock.try_lock().is_none());
        assert!(
            lock.is_locked(),
            "a failed try_lock must leave the lock held"
        );
        drop(guard);
        assert!(lock.try_lock().is_some());
    }

    #[test]
    fn a_waiter_sleeps_until_the_holder_unlocks() {
        common::guarded("two_state_wake", |status| {
            let lock = TwoStateLock::new(0);
            std::thread::scope(|s| {
                let guard = lock.lock();
                let waiter = s.spawn(|| {
                    *lock.lock() += 1;
                });
                // Long enough for the waiter to go to sleep on the futex.
                std::thread::sleep(Duration::from_millis(50));
                assert!(
                    !waiter.is_finished(),
                    "the waiter got in while the lock was held"
                );
                status.set("main", "unlocking");
                drop(guard);
                waiter.join().unwrap();
            });
            assert_eq!(*lock.lock(), 1);
        });
    }

    #[test]
    fn threads_never_lose_an_update() {
        // More threads than the 2 cores CI has: holders get preempted, waiters must sleep.
        let iters = common::scaled(10_000);
        common::guarded("two_state_count", |_| {
            let lock = TwoStateLock::new(0usize);
            std::thread::scope(|s| {
                for _ in 0..6 {
                    s.spawn(|| {
                        for _ in 0..iters {
                            let mut g = lock.lock();
                            let v = *g;
                            *g = std::hint::black_box(v) + 1;
                        }
                    });
                }
            });
            assert_eq!(*lock.lock(), 6 * iters);
            assert!(!lock.is_locked());
        });
    }
}
