//! loom models of `Lock` (over the queued `RawLock`, whose own models are in
//! `loom_queued_lock.rs`), the three-state `FutexLock`, and `Condition` (run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release --test loom_lock`).
//!
//! Under `--cfg loom` synclab's atomics are loom's and its futex is a model in which a lost
//! wakeup leaves a thread asleep forever, which loom reports as a deadlock.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use loom_model::model;
use synclab::{Condition, FutexLock, Lock};

// ANCHOR: two_threads
#[test]
fn lock_two_threads_count_exactly() {
    model(|| {
        let lock = Arc::new(Lock::new(0));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let lock = lock.clone();
                thread::spawn(move || *lock.lock() += 1)
            })
            .collect();
        *lock.lock() += 1;
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*lock.lock(), 3);
    });
}
// ANCHOR_END: two_threads

#[test]
fn lock_timeout_never_strands_a_sleeper() {
    // A timed locker gives up (loom models the deadline as passed) while another thread sleeps.
    model(|| {
        let lock = Arc::new(Lock::new(0));
        let l2 = lock.clone();
        let sleeper = thread::spawn(move || *l2.lock() += 1);
        let l3 = lock.clone();
        let timed = thread::spawn(move || {
            if let Some(mut g) = l3.lock_timeout(std::time::Duration::from_millis(1)) {
                *g += 10;
            }
        });
        *lock.lock() += 100;
        sleeper.join().unwrap();
        timed.join().unwrap();
        let v = *lock.lock();
        assert!(v == 101 || v == 111, "{v}");
    });
}

/// A counter behind the three-state `FutexLock` (the book's first full lock, and the lock of
/// each bucket of `RawLock`'s parking table).
#[derive(Default)]
struct FutexCounter(FutexLock, UnsafeCell<u32>);

// SAFETY: the cell is touched only with the lock held.
unsafe impl Sync for FutexCounter {}
// SAFETY: as above; the parts are `Send`.
unsafe impl Send for FutexCounter {}

impl FutexCounter {
    /// Adds `n` under the lock, waiting at most until a loom deadline (which loom treats as
    /// passed) when `timed`; `true` if it did.
    fn add(&self, n: u32, timed: bool) -> bool {
        let deadline = timed.then(|| std::time::Instant::now() + std::time::Duration::from_secs(1));
        if !self.0.lock_until(deadline) {
            return false;
        }
        // SAFETY: the lock is held: this is the only access to the cell, and ours to release.
        unsafe {
            self.1.with_mut(|p| *p += n);
            self.0.unlock();
        }
        true
    }
}

#[test]
fn futex_lock_three_threads_count_exactly_and_a_timeout_strands_nobody() {
    model(|| {
        let c = Arc::new(FutexCounter::default());
        let c1 = c.clone();
        let sleeper = thread::spawn(move || c1.add(1, false));
        let c2 = c.clone();
        let timed = thread::spawn(move || c2.add(10, true));
        c.add(100, false);
        sleeper.join().unwrap();
        let got = if timed.join().unwrap() { 10 } else { 0 };
        c.add(0, false);
        // SAFETY: every other thread has been joined; nothing holds the lock.
        assert_eq!(c.1.with(|p| unsafe { *p }), 101 + got);
    });
}

// ANCHOR: lost_wakeup
#[test]
fn condition_notify_between_unlock_and_sleep_is_not_lost() {
    model(|| {
        let state = Arc::new((Lock::new(false), Condition::new()));
        let s2 = state.clone();
        let notifier = thread::spawn(move || {
            *s2.0.lock() = true;
            s2.1.notify_one();
        });
        let (lock, cond) = &*state;
        let g = cond.wait_while(lock.lock(), |ready| !*ready);
        assert!(*g);
        drop(g);
        notifier.join().unwrap();
    });
}
// ANCHOR_END: lost_wakeup

#[test]
fn condition_notify_all_wakes_two_waiters() {
    model(|| {
        let state = Arc::new((Lock::new(0u32), Condition::new()));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let s = state.clone();
                thread::spawn(move || drop(s.1.wait_while(s.0.lock(), |n| *n == 0)))
            })
            .collect();
        *state.0.lock() = 1;
        state.1.notify_all();
        for w in waiters {
            w.join().unwrap();
        }
    });
}
