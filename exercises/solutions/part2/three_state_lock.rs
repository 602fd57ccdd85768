//! # Exercise `three_state_lock` — Part II, "Lock"
//!
//! Make unlocking free when nobody waits. The state gets a third value: `UNLOCKED` (0),
//! `LOCKED` (1: held, nobody asleep) and `CONTENDED` (2: held, threads may sleep). The
//! uncontended path is one compare-exchange 0 → 1 to lock and one swap to 0 to unlock, with
//! no system call; only an unlock that finds `CONTENDED` calls `futex::wake_one`. A thread that
//! has to wait may spin briefly (loads only), then marks the lock `CONTENDED` and sleeps.
//!
//! The trap: a thread that wakes up and takes the lock must leave it `CONTENDED`, because it
//! cannot know whether others still sleep. The chapter walks through what goes wrong if it
//! sets `LOCKED` instead.
//!
//! Check your work: `cargo xtask check three_state_lock`

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};

// `synclab::futex` with each call counted, so that the tests can see every system call.
use synclab_exercises::futex;

const UNLOCKED: u32 = 0; // free
const LOCKED: u32 = 1; // held, nobody asleep: unlock makes no system call
const CONTENDED: u32 = 2; // held, threads may sleep: unlock must wake one

/// How many times a waiter looks at the lock before it goes to sleep (std uses 100 too).
const SPIN_LIMIT: u32 = 100;

/// A futex lock whose uncontended lock and unlock make no system call.
pub struct ThreeStateLock<T> {
    state: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands `&mut T` to one thread at a time, so sharing it is safe when `T` may
// move between threads.
unsafe impl<T: Send> Sync for ThreeStateLock<T> {}

impl<T> ThreeStateLock<T> {
    /// A new, unlocked lock.
    pub const fn new(value: T) -> Self {
        ThreeStateLock {
            state: AtomicU32::new(UNLOCKED),
            value: UnsafeCell::new(value),
        }
    }

    /// The state word now: `UNLOCKED`, `LOCKED` or `CONTENDED` (a snapshot, for tests).
    pub fn state(&self) -> u32 {
        self.state.load(Relaxed)
    }

    /// Takes the lock, sleeping while another thread holds it.
    pub fn lock(&self) -> Guard<'_, T> {
        // The fast path: free → LOCKED, nobody to wake later. Acquire: pairs with the Release
        // swap in `Guard::drop`.
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        Guard { lock: self }
    }

    /// The slow path of `lock`: spin a little, then sleep.
    #[cold]
    fn lock_contended(&self) {
        // Spin with loads only (a CAS in a loop would steal the cache line from the holder),
        // and only while the lock is LOCKED: if it is CONTENDED, others sleep already and we
        // will queue up behind them anyway.
        let mut spins = 0;
        while self.state.load(Relaxed) == LOCKED && spins < SPIN_LIMIT {
            std::hint::spin_loop();
            spins += 1;
        }
        // Free now? Take it the cheap way, as LOCKED: nobody is recorded as sleeping.
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_ok()
        {
            return;
        }
        // Mark the lock CONTENDED, and take it if the swap found it free. Taking it this way
        // keeps CONTENDED set even if we were the last sleeper: we cannot know, so we pay for
        // one spare wake rather than risk a sleeper that nobody wakes.
        while self.state.swap(CONTENDED, Acquire) != UNLOCKED {
            // Sleep only while the word is CONTENDED; the kernel checks, so an unlock that
            // lands between our swap and this call is not lost.
            futex::wait(&self.state, CONTENDED, None);
        }
    }

    /// Takes the lock only if it is free right now; never sleeps.
    pub fn try_lock(&self) -> Option<Guard<'_, T>> {
        // Acquire: as in `lock`. A failed attempt writes nothing, so it cannot turn
        // CONTENDED into something else.
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_ok()
            // `then`, not `then_some`: `then_some(Guard { .. })` would build a guard even
            // when we failed, and dropping it would unlock the lock another thread holds.
            .then(|| Guard { lock: self })
    }
}

/// Proof that the lock is held; releases it when dropped.
pub struct Guard<'a, T> {
    lock: &'a ThreeStateLock<T>,
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
        // Release: publishes our writes to the next holder's Acquire. The swap tells us what
        // the state was: only CONTENDED means someone may sleep and needs a wake.
        if self.lock.state.swap(UNLOCKED, Release) == CONTENDED {
            // One: it takes the lock as CONTENDED, so its unlock wakes the next.
            futex::wake_one(&self.lock.state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::time::{Duration, Instant};

    #[test]
    fn uncontended_lock_is_locked_and_unlock_leaves_it_unlocked() {
        let lock = ThreeStateLock::new(1);
        let mut guard = lock.lock();
        *guard += 1;
        assert_eq!(
            lock.state(),
            LOCKED,
            "nobody waits: the lock must be LOCKED, not CONTENDED"
        );
        drop(guard);
        assert_eq!(lock.state(), UNLOCKED);
        assert_eq!(*lock.lock(), 2);
        assert_eq!(lock.state(), UNLOCKED);
    }

    #[test]
    fn try_lock_fails_while_held_and_changes_nothing() {
        let lock = ThreeStateLock::new(());
        let guard = lock.lock();
        assert!(lock.try_lock().is_none());
        assert_eq!(lock.state(), LOCKED);
        drop(guard);
        let guard = lock.try_lock().expect("the lock is free");
        assert_eq!(lock.state(), LOCKED);
        drop(guard);
        assert_eq!(lock.state(), UNLOCKED);
    }

    #[test]
    fn an_uncontended_lock_and_unlock_make_no_system_call() {
        // The point of the third state: nobody sleeps, so unlock must not call wake_one (a
        // system call on every unlock is the cost this lock removes) and lock must not wait.
        let lock = ThreeStateLock::new(0);
        let before = futex::calls();
        for _ in 0..3 {
            *lock.lock() += 1;
            if let Some(mut guard) = lock.try_lock() {
                *guard += 1;
            }
        }
        assert_eq!(*lock.lock(), 6);
        let calls = futex::calls();
        assert_eq!(
            calls.wakes - before.wakes,
            0,
            "nobody slept, yet unlock called wake: only an unlock that finds CONTENDED may"
        );
        assert_eq!(calls.waits - before.waits, 0, "a free lock never waits");
    }

    #[test]
    fn try_lock_on_a_contended_lock_leaves_it_contended() {
        // Held, with sleepers: a failed try_lock must write nothing. A swap(LOCKED) that
        // "fails" would turn CONTENDED into LOCKED, and the holder's unlock would then wake
        // nobody: the sleepers would sleep forever.
        let lock = ThreeStateLock::new(());
        let guard = lock.lock();
        lock.state.store(CONTENDED, Relaxed); // as if a waiter had marked it
        assert!(lock.try_lock().is_none());
        assert_eq!(
            lock.state(),
            CONTENDED,
            "a failed try_lock changed the state"
        );
        let before = futex::calls();
        drop(guard);
        assert_eq!(lock.state(), UNLOCKED);
        assert_eq!(
            futex::calls().wakes - before.wakes,
            1,
            "unlocking a CONTENDED lock must wake one sleeper"
        );
    }

    #[test]
    fn a_waiter_marks_the_lock_contended_before_it_sleeps() {
        common::guarded("three_state_contended", |status| {
            let lock = ThreeStateLock::new(0);
            std::thread::scope(|s| {
                let guard = lock.lock();
                s.spawn(|| *lock.lock() += 1);
                status.set("main", "waiting for the state to become CONTENDED");
                let start = Instant::now();
                while lock.state() != CONTENDED {
                    assert!(
                        start.elapsed() < Duration::from_secs(10),
                        "a waiter has been blocked for 10 s and the state is still {}",
                        lock.state()
                    );
                    std::thread::yield_now();
                }
                status.set("main", "unlocking");
                drop(guard);
            });
            assert_eq!(*lock.lock(), 1);
            assert_eq!(lock.state(), UNLOCKED);
        });
    }

    #[test]
    fn every_sleeper_gets_the_lock_in_turn() {
        // Three threads asleep behind a held lock. If a woken thread took the lock as LOCKED,
        // its unlock would wake nobody and the other two would sleep forever: the watchdog
        // (10 s here) then reports the hang.
        common::watchdog("three_state_sleepers", Duration::from_secs(10), |status| {
            let lock = ThreeStateLock::new(0);
            std::thread::scope(|s| {
                let guard = lock.lock();
                for i in 0..3 {
                    let (lock, status) = (&lock, status.clone());
                    s.spawn(move || {
                        status.set(format!("sleeper {i}"), "in lock()");
                        *lock.lock() += 1;
                        status.set(format!("sleeper {i}"), "got the lock and left");
                    });
                }
                while lock.state() != CONTENDED {
                    std::thread::yield_now();
                }
                // Time for all three to fall asleep.
                std::thread::sleep(Duration::from_millis(50));
                status.set("main", "unlocked; waiting for the sleepers");
                drop(guard);
            });
            assert_eq!(*lock.lock(), 3);
        });
    }

    #[test]
    fn more_threads_than_cores_never_lose_an_update() {
        let iters = common::scaled(10_000);
        common::guarded("three_state_count", |_| {
            let lock = ThreeStateLock::new(0usize);
            std::thread::scope(|s| {
                for _ in 0..8 {
                    s.spawn(|| {
                        for i in 0..iters {
                            let mut g = lock.lock();
                            let v = *g;
                            if i % 64 == 0 {
                                // Now and then, get preempted while holding the lock.
                                std::thread::yield_now();
                            }
                            *g = std::hint::black_box(v) + 1;
                        }
                    });
                }
            });
            assert_eq!(*lock.lock(), 8 * iters);
            assert_eq!(lock.state(), UNLOCKED);
        });
    }
}
