//! Stress tests: the primitives under 4× oversubscription ([`THREADS`] = 8 threads on CI's 2
//! cores), each followed by a conservation check (counts and sums add up, nothing lost or seen
//! twice). `BoundedSemaphore`, `LifoQueue`, `PriorityQueue` and `Timer` are in
//! `stress_kinds.rs`.
//!
//! # Run length
//!
//! Each test runs for `SYNCLAB_STRESS_MS` milliseconds (default **200**, what CI uses), e.g.
//! `SYNCLAB_STRESS_MS=60000 cargo test --release --test stress` for a minute per test. Every
//! loop is bounded both by that time and by an iteration cap ([`CAP`]), so a very fast machine
//! cannot run away. There are no timing assertions: a slow machine just does fewer iterations.
//!
//! Every test runs under `common::guarded`: a deadlock or lost wakeup becomes a failure that
//! prints each thread's last status line (updated before blocking calls, every [`STATUS_EVERY`]
//! iterations, to keep the overhead low).
//!
//! Not run under Miri (it would be far too slow for a time-bounded loop); the unit and
//! integration tests cover the same code there.
#![cfg(not(miri))]

mod common;

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::thread;

use common::guarded;
use common::stress::{CAP, Run, THREADS, every, mpmc};
use synclab::{Barrier, Condition, Event, Lock, Pool, Queue, RLock, Semaphore};

#[test]
fn lock_counter() {
    guarded("stress lock_counter", |status| {
        let run = Run::start();
        let lock = Lock::new(0u64);
        let total: u64 = thread::scope(|s| {
            let hs: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (lock, status) = (&lock, status.clone());
                    s.spawn(move || {
                        let who = format!("thread {t}");
                        let mut mine = 0u64;
                        let mut i = 0;
                        while run.more(i) {
                            every(&status, &who, i, "lock");
                            *lock.lock() += 1;
                            mine += 1;
                            i += 1;
                        }
                        status.set(who, "done");
                        mine
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(*lock.lock(), total);
        assert!(!lock.is_locked());
    });
}

#[test]
fn rlock_reentrant_counter() {
    guarded("stress rlock_reentrant_counter", |status| {
        let run = Run::start();
        let lock = RLock::new(Cell::new(0u64));
        let total: u64 = thread::scope(|s| {
            let hs: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (lock, status) = (&lock, status.clone());
                    s.spawn(move || {
                        let who = format!("thread {t}");
                        let mut mine = 0u64;
                        let mut i = 0;
                        while run.more(i) {
                            every(&status, &who, i, "lock (outer)");
                            let outer = lock.lock();
                            let before = outer.get();
                            {
                                let inner = lock.lock();
                                assert_eq!(lock.recursion_count(), 2);
                                inner.set(inner.get() + 1);
                            }
                            // Nobody else got in while we held it.
                            assert_eq!(outer.get(), before + 1);
                            outer.set(outer.get() + 1);
                            drop(outer);
                            mine += 2;
                            i += 1;
                        }
                        status.set(who, "done");
                        mine
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(lock.lock().get(), total);
        assert!(!lock.is_locked());
    });
}

#[test]
fn semaphore_never_more_than_n_holders() {
    const N: usize = 3;
    guarded("stress semaphore", |status| {
        let run = Run::start();
        let sem = Semaphore::new(N);
        let holders = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let total: usize = thread::scope(|s| {
            let hs: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (sem, holders, most, status) = (&sem, &holders, &most, status.clone());
                    s.spawn(move || {
                        let who = format!("thread {t}");
                        let mut i = 0;
                        while run.more(i) {
                            every(&status, &who, i, "acquire");
                            sem.acquire();
                            let now = holders.fetch_add(1, SeqCst) + 1;
                            assert!(now <= N, "{now} holders of a {N}-permit semaphore");
                            most.fetch_max(now, SeqCst);
                            holders.fetch_sub(1, SeqCst);
                            sem.release().unwrap();
                            i += 1;
                        }
                        status.set(who, "done");
                        i
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert!(total > 0);
        assert_eq!(holders.load(SeqCst), 0);
        assert!(most.load(SeqCst) <= N);
        assert_eq!(sem.available(), N);
    });
}

#[test]
fn event_set_clear_wait_rounds() {
    // One toggler sets and clears; the others wait. A wait that returns must have seen a set
    // that came after the last clear the waiter knew of: the toggler counts each set *before*
    // it and each clear *after* it, so `sets > clears read before the wait`.
    guarded("stress event", |status| {
        let run = Run::start();
        let ev = Event::new();
        let sets = AtomicU64::new(0);
        let clears = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        thread::scope(|s| {
            let waiters: Vec<_> = (1..THREADS)
                .map(|t| {
                    let (ev, sets, clears, stop, status) =
                        (&ev, &sets, &clears, &stop, status.clone());
                    s.spawn(move || {
                        let who = format!("waiter {t}");
                        let mut i = 0;
                        while !stop.load(SeqCst) && i < CAP {
                            every(&status, &who, i, "wait");
                            let c = clears.load(SeqCst);
                            ev.wait();
                            let seen = sets.load(SeqCst);
                            assert!(seen > c, "wait returned with {seen} sets after clear {c}");
                            i += 1;
                        }
                        status.set(who, "done");
                    })
                })
                .collect();
            let who = "toggler";
            let mut i = 0;
            while run.more(i) {
                every(status, who, i, "set/clear");
                sets.fetch_add(1, SeqCst);
                ev.set();
                thread::yield_now();
                ev.clear();
                clears.fetch_add(1, SeqCst);
                i += 1;
            }
            // Release everyone for good.
            stop.store(true, SeqCst);
            sets.fetch_add(1, SeqCst);
            ev.set();
            status.set(who, "joining waiters");
            for w in waiters {
                w.join().unwrap();
            }
            status.set(who, "done");
        });
        assert!(ev.is_set());
    });
}

#[test]
fn condition_hand_off() {
    // Half the threads produce numbered items into a `Lock<VecDeque>` and `notify_one`; the
    // other half `wait_while` it is empty. Every item is consumed exactly once (count and sum).
    struct Shared {
        items: VecDeque<u64>,
        producers_left: usize,
    }
    const PRODUCERS: usize = THREADS / 2;
    guarded("stress condition_hand_off", |status| {
        let run = Run::start();
        let state = Lock::new(Shared {
            items: VecDeque::new(),
            producers_left: PRODUCERS,
        });
        let cond = Condition::new();
        let (produced, consumed) = thread::scope(|s| {
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|t| {
                    let (state, cond, status) = (&state, &cond, status.clone());
                    s.spawn(move || {
                        let who = format!("producer {t}");
                        let (mut count, mut sum) = (0u64, 0u64);
                        let mut i = 0;
                        while run.more(i) {
                            every(&status, &who, i, "lock to push");
                            let item = (t * CAP + i) as u64;
                            state.lock().items.push_back(item);
                            cond.notify_one();
                            count += 1;
                            sum += item;
                            i += 1;
                        }
                        state.lock().producers_left -= 1;
                        cond.notify_all();
                        status.set(who, "done");
                        (count, sum)
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..THREADS - PRODUCERS)
                .map(|t| {
                    let (state, cond, status) = (&state, &cond, status.clone());
                    s.spawn(move || {
                        let who = format!("consumer {t}");
                        let (mut count, mut sum) = (0u64, 0u64);
                        let mut i = 0;
                        loop {
                            every(&status, &who, i, "wait_while empty");
                            let mut g = cond.wait_while(state.lock(), |st| {
                                st.items.is_empty() && st.producers_left > 0
                            });
                            match g.items.pop_front() {
                                Some(item) => {
                                    drop(g);
                                    count += 1;
                                    sum += item;
                                }
                                None => break, // empty and no producer left
                            }
                            i += 1;
                        }
                        status.set(who, "done");
                        (count, sum)
                    })
                })
                .collect();
            let add = |a: (u64, u64), b: (u64, u64)| (a.0 + b.0, a.1 + b.1);
            let p = producers
                .into_iter()
                .map(|h| h.join().unwrap())
                .fold((0, 0), add);
            let c = consumers
                .into_iter()
                .map(|h| h.join().unwrap())
                .fold((0, 0), add);
            (p, c)
        });
        assert_eq!(produced, consumed);
        assert!(state.lock().items.is_empty());
    });
}

#[test]
fn barrier_rounds() {
    // Two waits per round: after the first, the leader decides whether to stop (so that every
    // thread runs the same number of rounds); after the second, everyone reads the decision.
    guarded("stress barrier_rounds", |status| {
        let run = Run::start();
        let barrier = Barrier::new(THREADS);
        let arrived = AtomicUsize::new(0);
        let leaders = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let rounds: Vec<usize> = thread::scope(|s| {
            let hs: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (barrier, arrived, leaders, stop, status) =
                        (&barrier, &arrived, &leaders, &stop, status.clone());
                    s.spawn(move || {
                        let who = format!("thread {t}");
                        let mut round = 0;
                        loop {
                            if round % 64 == 0 {
                                status.set(&who, format!("round {round}: first wait"));
                            }
                            arrived.fetch_add(1, SeqCst);
                            let r = barrier.wait().unwrap();
                            // Everyone of this round (and no one of the next) has arrived.
                            let n = arrived.load(SeqCst);
                            assert!(n >= (round + 1) * THREADS, "round {round}: {n} arrivals");
                            assert!(n <= (round + 1) * THREADS + THREADS);
                            if r.is_leader() {
                                leaders.fetch_add(1, SeqCst);
                                if !run.more(round) {
                                    stop.store(true, SeqCst);
                                }
                            }
                            if round % 64 == 0 {
                                status.set(&who, format!("round {round}: second wait"));
                            }
                            if barrier.wait().unwrap().is_leader() {
                                leaders.fetch_add(1, SeqCst);
                            }
                            round += 1;
                            if stop.load(SeqCst) {
                                break;
                            }
                        }
                        status.set(who, "done");
                        round
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let r = rounds[0];
        assert!(rounds.iter().all(|&x| x == r), "{rounds:?}");
        assert_eq!(arrived.load(SeqCst), r * THREADS);
        assert_eq!(leaders.load(SeqCst), 2 * r, "one leader per wait");
        assert!(!barrier.is_broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn queue_bounded_mpmc_each_item_once() {
    mpmc("stress queue_bounded_mpmc", &Queue::bounded(4), true);
}

#[test]
fn queue_unbounded_mpmc_each_item_once() {
    mpmc("stress queue_unbounded_mpmc", &Queue::new(), true);
}

#[test]
fn pool_tasks() {
    // Submitter threads keep a pool of half as many workers busy; every task runs once and
    // its result comes back.
    const SUBMITTERS: usize = THREADS / 2;
    const BATCH: usize = 64;
    guarded("stress pool_tasks", |status| {
        let run = Run::start();
        let pool = Pool::new(THREADS - SUBMITTERS);
        let ran = std::sync::Arc::new(AtomicU64::new(0));
        let (submitted, sum) = thread::scope(|s| {
            let hs: Vec<_> = (0..SUBMITTERS)
                .map(|t| {
                    let (pool, ran, status) = (&pool, &ran, status.clone());
                    s.spawn(move || {
                        let who = format!("submitter {t}");
                        let (mut count, mut sum) = (0u64, 0u64);
                        let mut i = 0;
                        while run.more(i) {
                            status.set(&who, format!("batch at {i}: submitting"));
                            let batch: Vec<_> = (0..BATCH as u64)
                                .map(|k| {
                                    let ran = ran.clone();
                                    let x = (i as u64) * BATCH as u64 + k;
                                    pool.apply_async(move || {
                                        ran.fetch_add(1, SeqCst);
                                        x * 2
                                    })
                                })
                                .collect();
                            status.set(&who, format!("batch at {i}: get"));
                            for (k, r) in batch.into_iter().enumerate() {
                                let x = (i as u64) * BATCH as u64 + k as u64;
                                assert_eq!(r.get(), Ok(x * 2));
                                sum += x * 2;
                            }
                            count += BATCH as u64;
                            i += BATCH;
                        }
                        status.set(who, "done");
                        (count, sum)
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap())
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
        });
        status.set("main", "pool.close + join");
        pool.close();
        pool.join();
        assert_eq!(ran.load(SeqCst), submitted);
        // Each submitter's tasks were numbered 0, 1, 2, … and returned twice their number.
        assert!(submitted == 0 || sum > 0);
    });
}
