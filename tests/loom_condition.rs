//! loom models of `Condition` with an `RLockGuard` (run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release --test loom_condition`).
//!
//! The waiter holds the `RLock` two levels deep and waits with the inner guard, so every model
//! also checks the hand-off of the recursion count: the notifier must get in (a wait that kept
//! a level would deadlock, which loom reports), and the waiter must find its count again. The
//! data is a `loom::cell::Cell`, so an access that the lock does not order is reported, and a
//! lost wakeup leaves a thread asleep in the futex model, which loom reports as a deadlock.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use std::time::Duration;

use loom::cell::Cell;
use loom::sync::Arc;
use loom::thread;
use loom_model::model;
use synclab::{Condition, RLock};

type State = (RLock<Cell<u32>>, Condition);

/// Locks once (or twice, nested), adds one, notifies.
fn notify_after_adding(state: &State, nested: bool) {
    let (lock, cond) = state;
    let g = lock.lock();
    let inner = nested.then(|| lock.lock());
    g.set(g.get() + 1);
    drop((inner, g));
    cond.notify_all();
}

// ANCHOR: loom_rlock_wait
#[test]
fn rlock_notify_between_release_and_sleep_is_not_lost() {
    model(|| {
        let state: Arc<State> = Arc::new((RLock::new(Cell::new(0)), Condition::new()));
        let notifier = {
            let state = state.clone();
            thread::spawn(move || notify_after_adding(&state, true))
        };
        let (lock, cond) = &*state;
        let outer = lock.lock();
        let inner = cond.wait_while(lock.lock(), |n| n.get() == 0);
        assert_eq!(
            lock.recursion_count(),
            2,
            "the waiter's count comes back whole"
        );
        assert_eq!(outer.get(), 1);
        drop((inner, outer));
        assert!(!lock.is_locked());
        notifier.join().unwrap();
    });
}
// ANCHOR_END: loom_rlock_wait

#[test]
fn rlock_waiters_at_two_depths_are_both_woken() {
    model(|| {
        let state: Arc<State> = Arc::new((RLock::new(Cell::new(0)), Condition::new()));
        let deep = {
            let state = state.clone();
            thread::spawn(move || {
                let (lock, cond) = &*state;
                let _outer = lock.lock();
                drop(cond.wait_while(lock.lock(), |n| n.get() == 0));
                assert_eq!(lock.recursion_count(), 1);
            })
        };
        let shallow = {
            let state = state.clone();
            thread::spawn(move || {
                let (lock, cond) = &*state;
                drop(cond.wait_while(lock.lock(), |n| n.get() == 0));
                assert_eq!(lock.recursion_count(), 0);
            })
        };
        notify_after_adding(&state, false);
        deep.join().unwrap();
        shallow.join().unwrap();
        assert!(!state.0.is_locked());
    });
}

#[test]
fn rlock_timed_wait_restores_the_count_whether_notified_or_not() {
    // loom has no clock: the futex model treats a deadline as passed, so this explores a timeout
    // racing with the notification. Either way the waiter holds both levels afterwards.
    model(|| {
        let state: Arc<State> = Arc::new((RLock::new(Cell::new(0)), Condition::new()));
        let notifier = {
            let state = state.clone();
            thread::spawn(move || notify_after_adding(&state, false))
        };
        let (lock, cond) = &*state;
        let outer = lock.lock();
        let (inner, result) =
            cond.wait_timeout_while(lock.lock(), Duration::from_millis(1), |n| n.get() == 0);
        assert_eq!(lock.recursion_count(), 2);
        assert_eq!(result.timed_out(), inner.get() == 0);
        drop((inner, outer));
        notifier.join().unwrap();
        assert_eq!(lock.lock().get(), 1);
    });
}
