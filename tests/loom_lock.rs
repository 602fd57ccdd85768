//! loom models of `Lock` and `Condition` (run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release --test loom_lock`).
//!
//! Under `--cfg loom` synclab's atomics are loom's and its futex is a model in which a lost
//! wakeup leaves a thread asleep forever, which loom reports as a deadlock.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use loom::sync::Arc;
use loom::thread;
use loom_model::model;
use synclab::{Condition, Lock};

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
