//! `Barrier`: lockstep over generations, arrival indices and leaders, abort, reset, timeouts,
//! oversubscription, a panicking party, and ports of CPython's `BarrierTests`
//! (Lib/test/lock_tests.py, N = 5).

mod common;

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use synclab::{Barrier, BrokenBarrier, Lock};

const N: usize = 5;

/// Polls `done` (yielding in between) until it holds: for "wait until the others are inside".
fn spin_until(done: impl Fn() -> bool) {
    while !done() {
        std::thread::yield_now();
    }
}

/// Aborts the barrier if the thread unwinds while this guard is alive (the documented pattern).
struct AbortOnPanic<'a>(&'a Barrier);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.abort();
        }
    }
}

#[test]
#[should_panic(expected = "Barrier::new: parties must be at least 1")]
fn zero_parties_is_a_clear_error() {
    // CPython test_constructor: parties 0 -> ValueError.
    let _ = Barrier::new(0);
}

#[test]
fn single_thread_never_blocks() {
    // CPython test_single_thread.
    let b = Barrier::new(1);
    for _ in 0..3 {
        for r in [
            b.wait(),
            b.wait_timeout(Duration::ZERO),
            b.wait_timeout(Duration::MAX),
        ] {
            let r = r.unwrap();
            assert_eq!(r.index(), 0);
            assert!(r.is_leader());
        }
    }
    assert_eq!(b.parties(), 1);
    assert_eq!(b.n_waiting(), 0);
    assert!(!b.is_broken());
}

#[test]
fn lockstep_over_many_generations() {
    // CPython test_barrier / test_barrier_10: nobody starts pass i+1 before everyone finished
    // pass i.
    let passes = common::scaled(50).max(10);
    common::guarded("barrier_lockstep", |status| {
        let b = Barrier::new(N);
        let (before, after) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for t in 0..N {
                let (b, before, after) = (&b, &before, &after);
                s.spawn(move || {
                    for i in 0..passes {
                        status.set(format!("thread {t}"), format!("pass {i}"));
                        before.fetch_add(1, SeqCst);
                        b.wait().unwrap();
                        assert_eq!(before.load(SeqCst), N * (i + 1));
                        after.fetch_add(1, SeqCst);
                        b.wait().unwrap();
                        assert_eq!(after.load(SeqCst), N * (i + 1));
                    }
                });
            }
        });
        assert_eq!(b.n_waiting(), 0);
        assert!(!b.is_broken());
    });
}

#[test]
fn indices_are_a_permutation_and_one_leader_per_generation() {
    // CPython test_wait_return, plus std's "exactly one leader".
    let generations = common::scaled(100).max(10);
    common::guarded("barrier_wait_return", |_| {
        let b = Barrier::new(N);
        let seen = Lock::new(vec![Vec::new(); generations]);
        std::thread::scope(|s| {
            for _ in 0..N {
                s.spawn(|| {
                    for g in 0..generations {
                        let r = b.wait().unwrap();
                        assert_eq!(r.is_leader(), r.index() == N - 1);
                        seen.lock()[g].push(r.index());
                    }
                });
            }
        });
        for mut indices in seen.into_inner() {
            indices.sort_unstable();
            assert_eq!(indices, (0..N).collect::<Vec<_>>());
        }
    });
}

#[test]
fn more_threads_than_parties_and_cores() {
    // 16 threads on 2 cores through a barrier of 4, in any mix. (A fixed number of waits per
    // thread could strand the last few threads with nobody left to complete their generation,
    // so the thread that sees the target number of generations aborts to end the run.) Every
    // generation completes with exactly `PARTIES` `Ok`s, indices 0..PARTIES and one leader,
    // also the ones that complete while the abort comes: an abort does not take back a
    // completed generation.
    const THREADS: usize = 16;
    const PARTIES: usize = 4;
    let target = common::scaled(1_000).max(8);
    common::guarded("barrier_oversubscription", |_| {
        let b = Barrier::new(PARTIES);
        let (leaders, oks, index_sum) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    while let Ok(r) = b.wait() {
                        oks.fetch_add(1, SeqCst);
                        index_sum.fetch_add(r.index(), SeqCst);
                        if r.is_leader() && leaders.fetch_add(1, SeqCst) + 1 == target {
                            b.abort();
                        }
                    }
                });
            }
        });
        let generations = leaders.load(SeqCst);
        assert!(generations >= target);
        assert_eq!(oks.load(SeqCst), generations * PARTIES);
        assert_eq!(
            index_sum.load(SeqCst),
            generations * (0..PARTIES).sum::<usize>()
        );
        assert!(b.is_broken());
        assert_eq!(b.n_waiting(), 0);
    });
}

#[test]
fn writes_before_wait_are_seen_after_it() {
    // Plain (non-atomic) slots: Miri reports a data race if the barrier does not order each
    // thread's write before the others' reads, and the reads before the next round's writes.
    struct Slots(UnsafeCell<[usize; N]>);
    // SAFETY: the test's barrier separates every write from every read of another thread.
    unsafe impl Sync for Slots {}
    let rounds = common::scaled(200).max(4);
    common::guarded("barrier_handover", |_| {
        let b = Barrier::new(N);
        let slots = Slots(UnsafeCell::new([0; N]));
        std::thread::scope(|s| {
            for t in 0..N {
                let (b, slots) = (&b, &slots);
                s.spawn(move || {
                    for round in 1..=rounds {
                        // SAFETY: slot t is written only by thread t, between two waits in
                        // which nobody reads.
                        unsafe { (*slots.0.get())[t] = round };
                        b.wait().unwrap();
                        // SAFETY: nobody writes between these two waits.
                        let all = unsafe { *slots.0.get() };
                        assert_eq!(all, [round; N]);
                        b.wait().unwrap();
                    }
                });
            }
        });
    });
}

#[test]
fn n_waiting_counts_the_current_generation() {
    common::guarded("barrier_n_waiting", |_| {
        let b = Barrier::new(3);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| b.wait().unwrap());
            }
            spin_until(|| b.n_waiting() == 2);
            assert!(format!("{b:?}").contains("n_waiting: 2"));
            assert!(b.wait().unwrap().is_leader());
        });
        assert_eq!(b.n_waiting(), 0);
    });
}

#[test]
fn abort_releases_waiters_with_an_error() {
    // CPython test_abort: after one pass, the thread with index N/2 fails and aborts; the others
    // get BrokenBarrier from their second wait.
    common::guarded("barrier_abort", |_| {
        let b = Barrier::new(N);
        let broken = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..N {
                s.spawn(|| {
                    if b.wait().unwrap().index() == N / 2 {
                        spin_until(|| b.n_waiting() == N - 1);
                        b.abort();
                    } else {
                        assert_eq!(b.wait(), Err(BrokenBarrier));
                        broken.fetch_add(1, SeqCst);
                    }
                });
            }
        });
        assert_eq!(broken.load(SeqCst), N - 1);
        assert!(b.is_broken());
        // Future waits fail at once, with every kind of wait.
        assert_eq!(b.wait(), Err(BrokenBarrier));
        assert_eq!(b.wait_timeout(Duration::MAX), Err(BrokenBarrier));
        assert_eq!(b.wait_timeout(Duration::ZERO), Err(BrokenBarrier));
        assert!(format!("{b:?}").contains("broken: true"));
    });
}

#[test]
fn reset_breaks_current_waiters_then_the_barrier_works() {
    // CPython test_reset.
    common::guarded("barrier_reset", |_| {
        let b = Barrier::new(N);
        let (passed, broken, again) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        std::thread::scope(|s| {
            for _ in 0..N {
                s.spawn(|| {
                    if b.wait().unwrap().index() == N / 2 {
                        spin_until(|| b.n_waiting() == N - 1);
                        b.reset();
                    } else {
                        match b.wait() {
                            Ok(_) => passed.fetch_add(1, SeqCst),
                            Err(BrokenBarrier) => broken.fetch_add(1, SeqCst),
                        };
                    }
                    // The barrier is fresh: everyone passes it again.
                    b.wait().unwrap();
                    again.fetch_add(1, SeqCst);
                });
            }
        });
        assert_eq!(passed.load(SeqCst), 0);
        assert_eq!(broken.load(SeqCst), N - 1);
        assert_eq!(again.load(SeqCst), N);
        assert!(!b.is_broken());
    });
}

#[test]
fn abort_then_reset_makes_it_usable_again() {
    // CPython test_abort_and_reset: a second barrier makes sure everyone has left the broken
    // barrier before the reset, and that nobody enters it before the reset.
    common::guarded("barrier_abort_and_reset", |_| {
        let b = Barrier::new(N);
        let b2 = Barrier::new(N);
        let (passed, broken, again) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        std::thread::scope(|s| {
            for _ in 0..N {
                s.spawn(|| {
                    if b.wait().unwrap().index() == N / 2 {
                        b.abort(); // as if this thread failed
                    } else {
                        match b.wait() {
                            Ok(_) => passed.fetch_add(1, SeqCst),
                            Err(BrokenBarrier) => broken.fetch_add(1, SeqCst),
                        };
                    }
                    if b2.wait().unwrap().index() == N / 2 {
                        b.reset();
                    }
                    b2.wait().unwrap();
                    b.wait().unwrap();
                    again.fetch_add(1, SeqCst);
                });
            }
        });
        assert_eq!(passed.load(SeqCst), 0);
        assert_eq!(broken.load(SeqCst), N - 1);
        assert_eq!(again.load(SeqCst), N);
    });
}

#[test]
fn timeout_breaks_the_barrier_for_everyone() {
    // CPython test_timeout: one thread is late; the others' timed waits run out and break the
    // barrier, and the late thread finds it broken.
    common::guarded("barrier_timeout", |_| {
        let b = Barrier::new(N);
        let broken = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..N {
                s.spawn(|| {
                    if b.wait().unwrap().index() == N / 2 {
                        spin_until(|| b.is_broken());
                        assert_eq!(b.wait(), Err(BrokenBarrier));
                    } else {
                        assert_eq!(
                            b.wait_timeout(Duration::from_millis(20)),
                            Err(BrokenBarrier)
                        );
                    }
                    broken.fetch_add(1, SeqCst);
                });
            }
        });
        assert_eq!(broken.load(SeqCst), N);
        assert!(b.is_broken());
    });
}

#[test]
fn a_lone_timed_wait_lasts_at_least_its_timeout() {
    let b = Barrier::new(2);
    let start = Instant::now();
    assert_eq!(
        b.wait_timeout(Duration::from_millis(30)),
        Err(BrokenBarrier)
    );
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert!(b.is_broken());
    b.reset();
    assert!(!b.is_broken());
}

#[test]
fn zero_timeout_breaks_unless_last() {
    let b = Barrier::new(2);
    assert_eq!(b.wait_timeout(Duration::ZERO), Err(BrokenBarrier));
    assert!(b.is_broken());
    b.reset();
    common::guarded("barrier_zero_last", |_| {
        std::thread::scope(|s| {
            s.spawn(|| b.wait().unwrap());
            spin_until(|| b.n_waiting() == 1);
            let r = b.wait_timeout(Duration::ZERO).unwrap();
            assert!(r.is_leader());
        });
    });
}

#[test]
fn max_timeout_waits_like_wait() {
    common::guarded("barrier_timeout_max", |_| {
        let b = Barrier::new(3);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| b.wait_timeout(Duration::MAX).unwrap());
            }
            std::thread::sleep(Duration::from_millis(10));
            b.wait_timeout(Duration::MAX).unwrap();
        });
        assert!(!b.is_broken());
    });
}

#[test]
fn a_panicking_party_that_aborts_does_not_hang_the_others() {
    common::guarded("barrier_panic", |_| {
        let b = Barrier::new(4);
        std::thread::scope(|s| {
            let waiters: Vec<_> = (0..3).map(|_| s.spawn(|| b.wait())).collect();
            let failing = s.spawn(|| {
                let _abort = AbortOnPanic(&b);
                spin_until(|| b.n_waiting() == 3);
                panic!("a party fails before reaching the barrier");
            });
            assert!(failing.join().is_err());
            for w in waiters {
                assert_eq!(w.join().unwrap(), Err(BrokenBarrier));
            }
        });
        b.reset();
        let parties: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4).map(|_| s.spawn(|| b.wait())).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(parties.iter().all(Result::is_ok));
    });
}

#[test]
fn broken_barrier_error_is_a_proper_error() {
    fn is_error<E: std::error::Error + Send + Sync + Copy + Eq + 'static>(_: E) {}
    is_error(BrokenBarrier);
    let msg = BrokenBarrier.to_string();
    assert!(msg.contains("broken") && msg.contains("reset"), "{msg}");
    let boxed: Box<dyn std::error::Error> = Box::new(BrokenBarrier);
    assert_eq!(boxed.to_string(), msg);
}

#[test]
fn static_barrier_is_const() {
    static B: Barrier = Barrier::new(1);
    assert!(B.wait().unwrap().is_leader());
}
