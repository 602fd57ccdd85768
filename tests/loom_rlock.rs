//! loom models of `RLock` (run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test
//! --release --test loom_rlock`). The data is a `loom::cell::Cell`, so loom reports any access
//! that the lock does not order (a causality violation), and a lost wakeup shows up as a loom
//! deadlock. Thread ids come from `loom::thread_local!`, one per model thread.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use std::time::Duration;

use loom::cell::Cell;
use loom::sync::Arc;
use loom::thread;
use loom_model::model;
use synclab::RLock;

/// Takes the lock twice (re-entrantly) and increments the counter in the inner guard.
fn nested_increment(lock: &RLock<Cell<u32>>) {
    let outer = lock.lock();
    assert_eq!(lock.recursion_count(), 1);
    {
        let inner = lock.lock();
        assert_eq!(lock.recursion_count(), 2);
        inner.set(inner.get() + 1);
    }
    assert!(lock.is_owned_by_current_thread());
    outer.set(outer.get() + 1);
}

#[test]
fn two_threads_reenter_and_count_exactly() {
    model(|| {
        let lock = Arc::new(RLock::new(Cell::new(0)));
        let other = {
            let lock = lock.clone();
            thread::spawn(move || nested_increment(&lock))
        };
        nested_increment(&lock);
        other.join().unwrap();
        assert!(!lock.is_locked());
        assert_eq!(lock.lock().get(), 4);
    });
}

#[test]
fn try_and_timed_lock_never_enter_a_held_lock() {
    // The other thread's try_lock / lock_timeout (whose deadline loom treats as passed) either
    // gets the lock cleanly or gets nothing; the counter stays exact either way.
    model(|| {
        let lock = Arc::new(RLock::new(Cell::new(0)));
        let other = {
            let lock = lock.clone();
            thread::spawn(move || {
                let mut got = 0;
                if let Some(g) = lock.try_lock() {
                    g.set(g.get() + 1);
                    got += 1;
                }
                if let Some(g) = lock.lock_timeout(Duration::from_millis(1)) {
                    let again = lock.try_lock().expect("re-entry");
                    again.set(g.get() + 1);
                    got += 1;
                }
                got
            })
        };
        nested_increment(&lock);
        let got = other.join().unwrap();
        assert_eq!(lock.lock().get(), 2 + got);
    });
}
