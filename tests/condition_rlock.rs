//! `Condition` with an `RLockGuard` (Python's default `Condition()`): every recursion level is
//! released during a wait and the count restored exactly; timeouts; notify semantics with
//! re-entrant waiters; panics; a `RefCell` borrow held through an outer guard.
//!
//! That a non-owner cannot wait is a compile error (guards are `!Send`): the `compile_fail`
//! example on `synclab::WaitGuard`.

mod common;

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use synclab::{Condition, RLock};

#[test]
fn a_recursion_depth_of_three_survives_a_wait() {
    common::guarded("depth_3", |status| {
        let lock = RLock::new(Cell::new(false));
        let cond = Condition::new();
        let seen_inside = AtomicU32::new(u32::MAX);
        std::thread::scope(|s| {
            let a = lock.lock();
            let b = lock.lock();
            let c = lock.lock();
            assert_eq!(lock.recursion_count(), 3);
            s.spawn(|| {
                status.set("notifier", "lock() while the waiter holds 3 levels");
                // Blocks forever unless the wait gave up all three levels.
                let g = lock.lock();
                seen_inside.store(lock.recursion_count(), SeqCst);
                g.set(true);
                drop(g);
                cond.notify_one();
                status.set("notifier", "done");
            });
            status.set("waiter", "wait_while at depth 3");
            let c = cond.wait_while(c, |ready| !ready.get());
            status.set("waiter", "woken");
            assert_eq!(
                seen_inside.load(SeqCst),
                1,
                "the notifier starts a count of its own"
            );
            assert!(lock.is_owned_by_current_thread());
            assert_eq!(lock.recursion_count(), 3, "every level is back");
            drop(c);
            assert_eq!(lock.recursion_count(), 2);
            drop(b);
            assert_eq!(lock.recursion_count(), 1);
            assert!(lock.is_locked());
            assert!(a.get());
            drop(a);
            assert!(
                !lock.is_locked(),
                "the last of the three guards frees the lock"
            );
        });
        std::thread::scope(|s| {
            assert!(s.spawn(|| lock.try_lock().is_some()).join().unwrap());
        });
    });
}

#[test]
fn the_other_thread_may_nest_while_the_waiter_sleeps() {
    common::guarded("nest_meanwhile", |status| {
        let lock = RLock::new(Cell::new(0u32));
        let cond = Condition::new();
        std::thread::scope(|s| {
            let outer = lock.lock();
            s.spawn(|| {
                status.set("other", "locking twice");
                let x = lock.lock();
                let y = lock.lock();
                assert_eq!(lock.recursion_count(), 2);
                y.set(x.get() + 1);
                drop((x, y));
                cond.notify_all();
                status.set("other", "done");
            });
            let inner = cond.wait_while(lock.lock(), |n| n.get() == 0);
            assert_eq!(lock.recursion_count(), 2);
            assert_eq!(outer.get() + inner.get(), 2);
        });
    });
}

#[test]
fn wait_timeout_zero_and_max_restore_the_count() {
    let lock = RLock::new(Cell::new(7));
    let cond = Condition::new();
    let outer = lock.lock();
    let (inner, _) = cond.wait_timeout(lock.lock(), Duration::ZERO);
    assert_eq!(lock.recursion_count(), 2);
    // `_while` with a condition that stays true must time out, spurious wakeups or not.
    let (inner, r) = cond.wait_timeout_while(inner, Duration::ZERO, |_| true);
    assert!(r.timed_out());
    assert_eq!(lock.recursion_count(), 2);
    // A condition that is already false returns at once, also with MAX.
    let (inner, r) = cond.wait_timeout_while(inner, Duration::MAX, |n| n.get() != 7);
    assert!(!r.timed_out());
    assert_eq!(inner.get() + outer.get(), 14);
    drop(inner);
    drop(outer);
    assert!(!lock.is_locked());
}

#[test]
fn wait_timeout_while_times_out_with_every_level_back() {
    let lock = RLock::new(Cell::new(false));
    let cond = Condition::new();
    let (a, b) = (lock.lock(), lock.lock());
    let (c, r) =
        cond.wait_timeout_while(lock.lock(), Duration::from_millis(20), |ready| !ready.get());
    assert!(r.timed_out());
    assert_eq!(lock.recursion_count(), 3);
    drop((a, b, c));
    assert!(!lock.is_locked());
}

#[test]
fn wait_timeout_max_is_woken_by_notify() {
    common::guarded("rlock_wait_timeout_max", |_| {
        let lock = RLock::new(Cell::new(false));
        let cond = Condition::new();
        std::thread::scope(|s| {
            let outer = lock.lock();
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(10));
                lock.lock().set(true);
                cond.notify_one();
            });
            let (inner, r) =
                cond.wait_timeout_while(lock.lock(), Duration::MAX, |ready| !ready.get());
            assert!(!r.timed_out());
            assert!(inner.get() && outer.get());
            assert_eq!(lock.recursion_count(), 2);
        });
    });
}

#[test]
fn notify_n_hands_out_exactly_n_tokens_to_reentrant_waiters() {
    // As the `Lock` version in tests/condition.rs, with every waiter two levels deep: each
    // notify(n) releases n tokens, each waiter takes one, and each finds its count restored.
    const WAITERS: usize = 6;
    common::guarded("rlock_notify_n", |status| {
        let tokens = RLock::new(Cell::new(0usize));
        let cond = Condition::new();
        let done = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for i in 0..WAITERS {
                let (tokens, cond, done) = (&tokens, &cond, &done);
                s.spawn(move || {
                    status.set(format!("waiter {i}"), "waiting for a token, depth 2");
                    let outer = tokens.lock();
                    let inner = cond.wait_while(tokens.lock(), |t| t.get() == 0);
                    assert_eq!(tokens.recursion_count(), 2);
                    inner.set(outer.get() - 1);
                    done.fetch_add(1, SeqCst);
                    status.set(format!("waiter {i}"), "done");
                });
            }
            for (batch, total) in [(2usize, 2usize), (4, 6)] {
                let t = tokens.lock();
                t.set(t.get() + batch);
                drop(t);
                cond.notify(batch);
                while done.load(SeqCst) < total {
                    std::thread::yield_now();
                }
                std::thread::sleep(Duration::from_millis(5));
                assert_eq!(
                    done.load(SeqCst),
                    total,
                    "more waiters ran than tokens given"
                );
            }
        });
        assert_eq!(tokens.lock().get(), 0);
    });
}

#[test]
fn notify_all_wakes_every_reentrant_waiter() {
    const WAITERS: usize = 8;
    common::guarded("rlock_notify_all", |status| {
        let go = RLock::new(Cell::new(false));
        let cond = Condition::new();
        let woken = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for i in 0..WAITERS {
                let (go, cond, woken) = (&go, &cond, &woken);
                s.spawn(move || {
                    status.set(format!("waiter {i}"), "waiting");
                    let _outer = go.lock();
                    drop(cond.wait_while(go.lock(), |go| !go.get()));
                    assert_eq!(
                        go.recursion_count(),
                        1,
                        "one level left after the inner drop"
                    );
                    woken.fetch_add(1, SeqCst);
                    status.set(format!("waiter {i}"), "woken");
                });
            }
            std::thread::sleep(Duration::from_millis(20));
            go.lock().set(true);
            cond.notify_all();
        });
        assert_eq!(woken.load(SeqCst), WAITERS);
    });
}

#[test]
fn turns_pass_round_robin_between_nested_waiters() {
    // Each thread waits, two levels deep, for its turn and passes it on: exclusion holds (the
    // counter is a plain `Cell`) and every thread gets exactly its share of turns.
    const THREADS: usize = 3;
    let rounds = common::scaled(300);
    common::guarded("rlock_round_robin", |status| {
        let turn = RLock::new(Cell::new(0usize));
        let cond = Condition::new();
        std::thread::scope(|s| {
            for i in 0..THREADS {
                let (turn, cond) = (&turn, &cond);
                s.spawn(move || {
                    for r in 0..rounds {
                        status.set(format!("thread {i}"), format!("round {r}"));
                        let outer = turn.lock();
                        let inner = cond.wait_while(turn.lock(), |t| t.get() % THREADS != i);
                        assert_eq!(turn.recursion_count(), 2);
                        inner.set(outer.get() + 1);
                        drop((inner, outer));
                        cond.notify_all();
                    }
                    status.set(format!("thread {i}"), "done");
                });
            }
        });
        assert_eq!(turn.lock().get(), THREADS * rounds);
    });
}

#[test]
fn a_panicking_predicate_gives_back_one_level() {
    let lock = RLock::new(Cell::new(0));
    let cond = Condition::new();
    let outer = lock.lock();
    // Before any wait...
    let r = catch_unwind(AssertUnwindSafe(|| {
        cond.wait_while(lock.lock(), |_| panic!("predicate"))
    }));
    assert!(r.is_err());
    assert_eq!(lock.recursion_count(), 1);
    // ...and after one: the first call waits (and times out), the second panics, so the guard
    // restored by the wait is the one dropped by the unwinding.
    let calls = Cell::new(0);
    let r = catch_unwind(AssertUnwindSafe(|| {
        cond.wait_timeout_while(lock.lock(), Duration::ZERO, |_| {
            calls.set(calls.get() + 1);
            assert!(calls.get() < 2, "predicate, second call");
            true
        })
    }));
    assert!(r.is_err());
    assert_eq!(calls.get(), 2);
    assert_eq!(lock.recursion_count(), 1);
    drop(outer);
    assert!(!lock.is_locked());
    std::thread::scope(|s| {
        assert!(s.spawn(|| lock.try_lock().is_some()).join().unwrap());
    });
}

#[test]
fn an_outer_refcell_borrow_stays_a_borrow_during_the_wait() {
    // The waiter keeps a `Ref` through its outer guard across the wait. The other thread owns
    // the lock meanwhile: it may read, but `borrow_mut` fails instead of aliasing the `Ref`.
    common::guarded("refcell_across_wait", |status| {
        let lock = RLock::new((RefCell::new(vec![1, 2]), Cell::new(false)));
        let cond = Condition::new();
        let could_borrow_mut = AtomicBool::new(true);
        std::thread::scope(|s| {
            let outer = lock.lock();
            let items = outer.0.borrow();
            s.spawn(|| {
                status.set("other", "lock()");
                let g = lock.lock();
                could_borrow_mut.store(g.0.try_borrow_mut().is_ok(), SeqCst);
                assert_eq!(*g.0.borrow(), [1, 2]);
                g.1.set(true);
                drop(g);
                cond.notify_one();
                status.set("other", "done");
            });
            let inner = cond.wait_while(lock.lock(), |(_, done)| !done.get());
            assert!(
                !could_borrow_mut.load(SeqCst),
                "a second borrow_mut beside a live Ref"
            );
            assert_eq!(*items, [1, 2]);
            drop(items);
            inner.0.borrow_mut().push(3);
            assert_eq!(*outer.0.borrow(), [1, 2, 3]);
        });
    });
}
