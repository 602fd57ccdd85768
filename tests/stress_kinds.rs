//! Stress tests for the primitives `tests/stress.rs` does not cover: `BoundedSemaphore`,
//! `LifoQueue`, `PriorityQueue` and `Timer`, under the same 4× oversubscription, run length
//! (`SYNCLAB_STRESS_MS`, default 200 ms) and watchdog, each followed by a conservation check.
//!
//! Not run under Miri (time-bounded loops); the per-primitive tests cover the same code there.
#![cfg(not(miri))]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use common::guarded;
use common::stress::{CAP, Run, THREADS, every, mpmc};
use synclab::{BoundedSemaphore, LifoQueue, PriorityQueue, Timer};

#[test]
fn bounded_semaphore_never_exceeds_its_bound() {
    // Holders acquire and release; one rogue thread keeps calling `release` without holding
    // anything. A rogue release can only succeed while a holder has a permit out (below the
    // bound), and then that holder's own release later finds the semaphore full and fails.
    // So at rest: rogue successes == holders' failures, every permit is back, and `available`
    // never passed the bound on the way.
    const N: usize = 3;
    guarded("stress bounded_semaphore", |status| {
        let run = Run::start();
        let sem = BoundedSemaphore::new(N);
        let done = AtomicBool::new(false);
        let (acquired, failed, rogue) = thread::scope(|s| {
            let holders: Vec<_> = (1..THREADS)
                .map(|t| {
                    let (sem, status) = (&sem, status.clone());
                    s.spawn(move || {
                        let who = format!("holder {t}");
                        let (mut i, mut failed) = (0, 0usize);
                        while run.more(i) {
                            every(&status, &who, i, "acquire");
                            sem.acquire();
                            assert!(sem.available() <= N, "available past the bound");
                            failed += usize::from(sem.release().is_err());
                            i += 1;
                        }
                        status.set(who, "done");
                        (i, failed)
                    })
                })
                .collect();
            let rogue = {
                let (sem, done, status) = (&sem, &done, status.clone());
                s.spawn(move || {
                    let (mut i, mut got_in) = (0, 0usize);
                    while !done.load(SeqCst) && i < CAP {
                        every(&status, "rogue", i, "release without a permit");
                        got_in += usize::from(sem.release().is_ok());
                        assert!(sem.available() <= N, "available past the bound");
                        thread::yield_now();
                        i += 1;
                    }
                    status.set("rogue", "done");
                    got_in
                })
            };
            let (acquired, failed) = holders
                .into_iter()
                .map(|h| h.join().unwrap())
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            done.store(true, SeqCst);
            (acquired, failed, rogue.join().unwrap())
        });
        assert!(acquired > 0);
        assert_eq!(
            rogue, failed,
            "rogue releases that got in vs holders' releases refused"
        );
        assert_eq!(sem.available(), N);
        assert!(sem.release().is_err());
    });
}

#[test]
fn lifo_queue_bounded_mpmc_each_item_once() {
    mpmc("stress lifo_bounded", &LifoQueue::bounded(4), false);
}

#[test]
fn lifo_queue_unbounded_mpmc_each_item_once() {
    mpmc("stress lifo_unbounded", &LifoQueue::new(), false);
}

#[test]
fn priority_queue_bounded_mpmc_each_item_once() {
    mpmc("stress priority_bounded", &PriorityQueue::bounded(4), false);
}

#[test]
fn priority_queue_unbounded_mpmc_each_item_once() {
    mpmc("stress priority_unbounded", &PriorityQueue::new(), false);
}

#[test]
fn timers_cancelled_at_random_moments_run_or_cancel_exactly_once() {
    // Every thread starts timers with delays of 0–63 µs and cancels each after a spin of its
    // own varying length, so cancel lands before, during and after the firing. For every timer,
    // exactly one of "its function ran" and "cancel returned true" holds, and `wait` returns.
    /// Timers per thread at most: each one is a thread of its own.
    const TIMERS: usize = 500;
    guarded("stress timers", |status| {
        let run = Run::start();
        let (ran, cancelled, started) = thread::scope(|s| {
            let hs: Vec<_> = (0..THREADS)
                .map(|t| {
                    let status = status.clone();
                    s.spawn(move || {
                        let who = format!("thread {t}");
                        let (mut ran, mut cancelled) = (0usize, 0usize);
                        let mut i = 0;
                        while run.more(i) && i < TIMERS {
                            every(&status, &who, i, "start/cancel/wait");
                            let fired = Arc::new(AtomicBool::new(false));
                            let flag = fired.clone();
                            let delay = Duration::from_micros(((i * 7 + t) % 64) as u64);
                            let timer = Timer::start(delay, move || flag.store(true, SeqCst));
                            for _ in 0..(i * 13 + t * 5) % 2000 {
                                std::hint::spin_loop();
                            }
                            let stopped = timer.cancel();
                            timer.wait();
                            let did_run = fired.load(SeqCst);
                            assert_ne!(
                                did_run, stopped,
                                "timer {i}: ran {did_run}, cancel {stopped}"
                            );
                            ran += usize::from(did_run);
                            cancelled += usize::from(stopped);
                            i += 1;
                        }
                        status.set(who, "done");
                        (ran, cancelled, i)
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap())
                .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
        });
        assert!(started > 0);
        assert_eq!(ran + cancelled, started);
    });
}
