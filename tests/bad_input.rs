//! Bad input and misuse that the per-primitive test files do not already cover, each with its
//! documented outcome. The full table (input → primitive → outcome → test, here or elsewhere)
//! is in the book's Part III testing chapter, "Bad input and misuse".
#![cfg(not(loom))]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use synclab::{
    Barrier, Condition, Event, Lock, Pool, RLock, Semaphore, TaskError, Timer, WaitTimeoutResult,
};

/// Waits until `count` reaches `n`, then a little longer so the counted threads get to block.
fn wait_until_blocked(count: &AtomicUsize, n: usize) {
    while count.load(SeqCst) < n {
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 30 }));
}

/// `set` and `clear` with nobody waiting only change the flag; no wake is remembered.
#[test]
fn event_set_and_clear_without_waiters() {
    let ev = Event::new();
    ev.clear();
    assert!(!ev.is_set());
    ev.set();
    ev.set();
    assert!(ev.is_set());
    ev.clear();
    assert!(
        !ev.wait_timeout(Duration::ZERO),
        "a set cleared before anyone waited was kept"
    );
}

/// `notify(0)` wakes nobody, and a notify with no waiter is not saved for a later waiter
/// (Python's `notify` is not a semaphore either).
#[test]
fn condition_notify_zero_and_notify_before_wait_are_not_kept() {
    let lock = Lock::new(());
    let cond = Condition::new();
    cond.notify_one();
    cond.notify_all();
    cond.notify(usize::MAX);
    let (guard, r) = cond.wait_timeout(lock.lock(), Duration::from_millis(5));
    assert!(r.timed_out(), "a notify sent before the wait woke it");
    drop(guard);
    common::guarded("notify_zero", |status| {
        let started = AtomicUsize::new(0);
        thread::scope(|s| {
            let waiter = s.spawn(|| {
                let g = lock.lock();
                started.fetch_add(1, SeqCst);
                let (_g, r): (_, WaitTimeoutResult) =
                    cond.wait_timeout(g, Duration::from_millis(100));
                r.timed_out()
            });
            wait_until_blocked(&started, 1);
            status.set("main", "notify(0) to one waiter");
            drop(lock.lock()); // the waiter is inside wait_timeout now
            cond.notify(0);
            assert!(waiter.join().unwrap(), "notify(0) woke a waiter");
        });
    });
}

/// A panic while an RLock is held several levels deep, inside a Condition's predicate, and
/// while holding a Semaphore permit: each is given back on unwind, nothing is poisoned.
#[test]
fn panics_while_holding_guards_give_everything_back() {
    let rlock = RLock::new(0);
    let sem = Semaphore::new(1);
    let lock = Lock::new(0);
    let cond = Condition::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _outer = rlock.lock();
        let _inner = rlock.lock();
        let _permit = sem.permit();
        let _g = cond.wait_while(lock.lock(), |_| panic!("predicate panics"));
    }));
    assert!(r.is_err());
    assert!(!rlock.is_locked());
    assert_eq!(sem.available(), 1);
    assert!(!lock.is_locked());
    *lock.lock() += 1; // not poisoned
}

/// A pool task that panics while holding a Lock guard and a Semaphore permit: the task's
/// result is `Err(TaskError::Panicked)` with the message, both are released by the unwind, and
/// the worker runs the next task.
#[test]
fn pool_task_panicking_with_a_guard_and_a_permit() {
    let pool = Pool::new(1);
    let shared = Arc::new((Lock::new(0), Semaphore::new(1)));
    let s = shared.clone();
    let bad = pool.apply_async(move || {
        let mut g = s.0.lock();
        let _p = s.1.permit();
        *g += 1;
        panic!("task fails holding both");
    });
    let err = bad.get().unwrap_err();
    assert!(matches!(err, TaskError::Panicked(_)));
    assert!(err.to_string().contains("task fails holding both"), "{err}");
    let s = shared.clone();
    let next = pool.apply_async(move || {
        let _p = s.1.try_permit().expect("the permit was not given back");
        *s.0.try_lock().expect("the lock was not released") += 1;
        *s.0.lock()
    });
    assert_eq!(next.get(), Ok(2));
}

/// `get_timeout(ZERO)` only looks and hands the handle back; `Duration::MAX` waits forever
/// (here: until the task ends); neither loses the value.
#[test]
fn pool_get_timeout_zero_and_max() {
    let pool = Pool::new(1);
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let r = pool.apply_async(move || {
        g.wait();
        5
    });
    let r = r.get_timeout(Duration::ZERO).unwrap_err();
    assert!(!r.wait_timeout(Duration::ZERO));
    gate.set();
    assert!(r.wait_timeout(Duration::MAX));
    assert_eq!(r.get_timeout(Duration::MAX).ok(), Some(Ok(5)));
}

/// `terminate` while another thread waits in `get` for a queued task: that thread returns
/// `Err(TaskError::Terminated)` instead of waiting forever.
#[test]
fn pool_terminate_while_a_thread_waits_in_get() {
    common::guarded("terminate_vs_get", |status| {
        let pool = Pool::new(1);
        let (started, go) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let (st, g) = (started.clone(), go.clone());
        let running = pool.apply_async(move || {
            st.set();
            g.wait();
        });
        let queued = pool.apply_async(|| 1);
        started.wait();
        let waiting = AtomicUsize::new(0);
        thread::scope(|s| {
            let getter = s.spawn(|| {
                waiting.fetch_add(1, SeqCst);
                queued.get()
            });
            wait_until_blocked(&waiting, 1);
            status.set("main", "terminate while a thread waits in get");
            pool.terminate();
            assert_eq!(getter.join().unwrap(), Err(TaskError::Terminated));
        });
        go.set();
        pool.join();
        assert_eq!(running.get(), Ok(()));
    });
}

/// A party that panics before it reaches the barrier (and does not abort it, as the Barrier
/// docs advise) never arrives: the others wait, and a timed wait breaks the barrier for all.
#[test]
fn barrier_party_panicking_before_wait_without_abort() {
    common::guarded("barrier_panic", |_| {
        let barrier = Barrier::new(2);
        thread::scope(|s| {
            let failing = s.spawn(|| -> () { panic!("never reaches the barrier") });
            assert!(barrier.wait_timeout(Duration::from_millis(20)).is_err());
            assert!(failing.join().is_err());
        });
        assert!(barrier.is_broken());
        assert!(
            barrier.wait().is_err(),
            "a broken barrier must refuse until reset"
        );
        barrier.reset();
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// `Timer` with `Duration::ZERO` runs `f` at once; `cancel` after it ran says `false`;
/// cancelling twice before it ran says `true` both times and `f` never runs.
#[test]
fn timer_zero_delay_and_double_cancel() {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let t = Timer::start(Duration::ZERO, move || {
        r.fetch_add(1, SeqCst);
    });
    t.wait();
    assert!(!t.cancel());
    assert_eq!(ran.load(SeqCst), 1);
    let r = ran.clone();
    let t = Timer::start(Duration::MAX, move || {
        r.fetch_add(1, SeqCst);
    });
    assert!(t.cancel());
    assert!(t.cancel());
    assert!(t.wait_timeout(Duration::MAX));
    assert_eq!(ran.load(SeqCst), 1);
}

/// `Semaphore::release` on a semaphore nobody waits on only counts; `release_n(0)` and
/// `acquire_timeout(ZERO)` on an empty one never block.
#[test]
fn semaphore_release_without_waiters_and_zero_inputs() {
    let sem = Semaphore::new(0);
    assert!(!sem.acquire_timeout(Duration::ZERO));
    sem.release_n(0).unwrap();
    assert_eq!(sem.available(), 0);
    sem.release().unwrap();
    assert!(sem.try_acquire());
    assert!(!sem.try_acquire());
}
