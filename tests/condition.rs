//! `Condition`: wait/notify semantics, timeouts, hand-off, notify(n), oversubscription.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use synclab::{Condition, Lock};

#[test]
fn size_is_a_contract() {
    assert!(size_of::<Condition>() <= 8);
}

#[test]
fn notify_without_waiters_is_harmless() {
    let cond = Condition::new();
    cond.notify_one();
    cond.notify_all();
    cond.notify(0);
    cond.notify(5);
    // A later waiter is not woken by those earlier notifications: it times out.
    let lock = Lock::new(());
    let (_g, r) = cond.wait_timeout_while(lock.lock(), Duration::from_millis(10), |_| true);
    assert!(r.timed_out());
}

#[test]
fn wait_timeout_zero_returns_with_the_lock_held() {
    let lock = Lock::new(1);
    let cond = Condition::new();
    let (g, _r) = cond.wait_timeout(lock.lock(), Duration::ZERO);
    assert_eq!(*g, 1);
    assert!(lock.is_locked());
}

#[test]
fn wait_timeout_really_waits() {
    let lock = Lock::new(());
    let cond = Condition::new();
    let start = Instant::now();
    let (_g, r) = cond.wait_timeout_while(lock.lock(), Duration::from_millis(30), |_| true);
    assert!(r.timed_out());
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[test]
fn wait_timeout_while_returns_at_once_when_condition_is_false() {
    let lock = Lock::new(3);
    let cond = Condition::new();
    let (g, r) = cond.wait_timeout_while(lock.lock(), Duration::MAX, |n| *n != 3);
    assert!(!r.timed_out());
    assert_eq!(*g, 3);
}

#[test]
fn wait_timeout_max_is_woken_by_notify() {
    common::guarded("wait_timeout_max", |_| {
        let state = Lock::new(false);
        let cond = Condition::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(10));
                *state.lock() = true;
                cond.notify_one();
            });
            let (g, r) = cond.wait_timeout_while(state.lock(), Duration::MAX, |ready| !*ready);
            assert!(*g);
            assert!(!r.timed_out());
        });
    });
}

#[test]
fn plain_wait_is_woken_by_notify_one() {
    common::guarded("plain_wait", |_| {
        let state = Lock::new(0);
        let cond = Condition::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut g = state.lock();
                while *g == 0 {
                    g = cond.wait(g);
                }
                *g = 2;
                cond.notify_one();
            });
            *state.lock() = 1;
            cond.notify_one();
            let g = cond.wait_while(state.lock(), |v| *v != 2);
            assert_eq!(*g, 2);
        });
    });
}

#[test]
fn notify_all_wakes_every_waiter() {
    const WAITERS: usize = 10;
    common::guarded("notify_all", |status| {
        let go = Lock::new(false);
        let cond = Condition::new();
        let woken = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for i in 0..WAITERS {
                let (go, cond, woken) = (&go, &cond, &woken);
                s.spawn(move || {
                    status.set(format!("waiter {i}"), "waiting");
                    drop(cond.wait_while(go.lock(), |go| !*go));
                    woken.fetch_add(1, SeqCst);
                    status.set(format!("waiter {i}"), "woken");
                });
            }
            std::thread::sleep(Duration::from_millis(20));
            *go.lock() = true;
            cond.notify_all();
        });
        assert_eq!(woken.load(SeqCst), WAITERS);
    });
}

#[test]
fn notify_n_hands_out_exactly_n_tokens() {
    // Each notify(n) releases n tokens; every waiter consumes one. Spurious wakeups are absorbed
    // by the predicate, so the count of finished waiters follows the tokens exactly.
    const WAITERS: usize = 8;
    common::guarded("notify_n", |status| {
        let tokens = Lock::new(0usize);
        let cond = Condition::new();
        let done = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for i in 0..WAITERS {
                let (tokens, cond, done) = (&tokens, &cond, &done);
                s.spawn(move || {
                    status.set(format!("waiter {i}"), "waiting for a token");
                    let mut t = cond.wait_while(tokens.lock(), |t| *t == 0);
                    *t -= 1;
                    done.fetch_add(1, SeqCst);
                    status.set(format!("waiter {i}"), "done");
                });
            }
            for (batch, total) in [(3usize, 3usize), (5, 8)] {
                *tokens.lock() += batch;
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
        assert_eq!(*tokens.lock(), 0);
    });
}

#[test]
fn producer_consumer_hand_off_delivers_everything_once() {
    // A bounded buffer from one Lock and one Condition (the book's first queue), 4 producers,
    // 4 consumers on 2 cores: every item arrives exactly once.
    const PRODUCERS: usize = 4;
    let per = common::scaled(5_000);
    common::guarded("hand_off", |_| {
        let buf = Lock::new(std::collections::VecDeque::new());
        let cond = Condition::new();
        let sum = AtomicUsize::new(0);
        let got = AtomicUsize::new(0);
        let total = PRODUCERS * per;
        std::thread::scope(|s| {
            for p in 0..PRODUCERS {
                let (buf, cond) = (&buf, &cond);
                s.spawn(move || {
                    for i in 0..per {
                        let mut q = cond.wait_while(buf.lock(), |q| q.len() >= 16);
                        q.push_back(p * per + i);
                        drop(q);
                        cond.notify_all();
                    }
                });
            }
            for _ in 0..4 {
                let (buf, cond, sum, got) = (&buf, &cond, &sum, &got);
                s.spawn(move || {
                    loop {
                        let mut q = cond
                            .wait_while(buf.lock(), |q| q.is_empty() && got.load(SeqCst) < total);
                        let Some(v) = q.pop_front() else { break };
                        drop(q);
                        sum.fetch_add(v, SeqCst);
                        got.fetch_add(1, SeqCst);
                        // Wakes producers waiting for room, and (after the last item) the
                        // consumers still waiting, so they can see that everything arrived.
                        cond.notify_all();
                    }
                });
            }
        });
        assert_eq!(got.load(SeqCst), total);
        assert_eq!(sum.load(SeqCst), total * (total - 1) / 2);
    });
}

#[test]
fn waiters_with_short_timeouts_do_not_strand_the_others() {
    // Timeout racing with notify (parking_lot #129/#466 class): timed waiters come and go while
    // untimed waiters must still all be woken.
    let rounds = common::scaled(200);
    common::guarded("timeouts_vs_notify", |_| {
        let round = Lock::new(0usize);
        let cond = Condition::new();
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for r in 1..=rounds {
                        drop(cond.wait_while(round.lock(), |cur| *cur < r));
                    }
                });
            }
            for _ in 0..3 {
                s.spawn(|| {
                    while *round.lock() < rounds {
                        let _ = cond.wait_timeout(round.lock(), Duration::from_micros(100));
                    }
                });
            }
            for _ in 0..rounds {
                *round.lock() += 1;
                cond.notify_all();
                std::thread::yield_now();
            }
        });
    });
}

#[test]
fn panic_in_predicate_leaves_condition_usable() {
    common::guarded("panic_in_predicate", |_| {
        let state = Lock::new(0);
        let cond = Condition::new();
        std::thread::scope(|s| {
            let r = s
                .spawn(|| {
                    drop(cond.wait_while(state.lock(), |_| panic!("predicate panicked")));
                })
                .join();
            assert!(r.is_err());
        });
        assert!(!state.is_locked());
        std::thread::scope(|s| {
            s.spawn(|| {
                *state.lock() = 1;
                cond.notify_all();
            });
            assert_eq!(*cond.wait_while(state.lock(), |v| *v == 0), 1);
        });
    });
}

#[test]
fn static_condition_is_const() {
    static COND: Condition = Condition::new();
    COND.notify_all();
    let _ = format!("{COND:?}");
    let _ = Condition::default();
}

#[test]
fn one_condition_with_two_locks_is_memory_safe_and_timed_waiters_finish() {
    // Misuse, with its documented outcome (see `Condition`'s docs): one Condition shared by
    // waiters that hold two different Locks. It does not panic and is memory-safe; because the
    // no-lost-wakeup argument needs one lock, a notification may be missed, so these waiters
    // use timed waits and re-check their own lock's state.
    common::guarded("condition_two_locks", |_| {
        let a = Lock::new(false);
        let b = Lock::new(false);
        let cond = Condition::new();
        std::thread::scope(|s| {
            for lock in [&a, &b] {
                let cond = &cond;
                s.spawn(move || {
                    loop {
                        let (g, _) =
                            cond.wait_timeout_while(lock.lock(), Duration::from_millis(1), |set| {
                                !*set
                            });
                        if *g {
                            break;
                        }
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(5));
            *a.lock() = true;
            *b.lock() = true;
            cond.notify_all();
        });
        assert!(*a.lock() && *b.lock());
        assert!(!a.is_locked() && !b.is_locked());
    });
}
