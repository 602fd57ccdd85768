//! Tests of `Pool` and `AsyncResult`.
//!
//! Results and order, panics (the pool lives on, on every worker), close/join/terminate/drop,
//! submitting after close, timeouts that keep the value, oversubscription with conservation
//! checks, and races between submitters and `close`/`terminate`. Every body runs under the
//! watchdog of `tests/common`; the tests that need workers to be busy block them on an `Event`
//! (and a `Barrier` to know they are), so nothing relies on timing.

mod common;

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::{guarded, scaled};
use synclab::{AsyncResult, Event, Pool, PoolClosed, TaskError};

/// Counts how many times it is dropped.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Occupies every worker of `pool` with a task that waits for `gate`; returns once all of
/// them are running (so later tasks stay queued until `gate` is set).
fn block_workers(pool: &Pool, gate: &Arc<Event>) -> Vec<AsyncResult<()>> {
    let started = Arc::new(Barrier::new(pool.workers() + 1));
    let blockers = (0..pool.workers())
        .map(|_| {
            let (started, gate) = (started.clone(), gate.clone());
            pool.apply_async(move || {
                started.wait();
                gate.wait();
            })
        })
        .collect();
    started.wait();
    blockers
}

#[test]
fn apply_async_results() {
    guarded("apply_async_results", |_| {
        let pool = Pool::new(3);
        let results: Vec<_> = (0..20u64)
            .map(|i| pool.apply_async(move || i * i))
            .collect();
        let values: Vec<u64> = results.into_iter().map(|r| r.get().unwrap()).collect();
        assert_eq!(values, (0..20).map(|i| i * i).collect::<Vec<_>>());
        let owned = pool.apply_async(|| String::from("owned"));
        assert_eq!(owned.get().as_deref(), Ok("owned"));
    });
}

#[test]
fn map_preserves_order_with_uneven_durations() {
    guarded("map_preserves_order_with_uneven_durations", |_| {
        let pool = Pool::new(4);
        let n = scaled(40);
        // Early items take longest, so they finish last.
        let out = pool.map(0..n, move |i| {
            thread::sleep(Duration::from_millis(((n - i) % 7) as u64));
            i * 10
        });
        assert_eq!(out, Ok((0..n).map(|i| i * 10).collect()));
        assert_eq!(pool.map(Vec::<u8>::new(), |x| x), Ok(vec![]));
    });
}

#[test]
fn map_reports_first_failure_in_item_order() {
    guarded("map_reports_first_failure_in_item_order", |_| {
        let pool = Pool::new(2);
        let err = pool
            .map(0..6, |i| {
                if i >= 2 {
                    panic!("item {i}");
                }
                i
            })
            .unwrap_err();
        assert_eq!(err.panic_message(), Some("item 2"));
    });
}

#[test]
fn imap_unordered_yields_every_result_once() {
    guarded("imap_unordered_yields_every_result_once", |_| {
        let pool = Pool::new(4);
        let n = scaled(500);
        let it = pool.imap_unordered(0..n, |i| {
            if i % 3 == 0 {
                thread::yield_now();
            }
            i
        });
        assert_eq!(it.len(), n);
        let mut got: Vec<usize> = it.map(Result::unwrap).collect();
        got.sort_unstable();
        assert_eq!(got, (0..n).collect::<Vec<_>>());
        // Panics come through as items too, one per failed task.
        let errors = pool
            .imap_unordered(0..10, |i| assert!(i % 2 == 0, "odd"))
            .filter(|r| r.as_ref().is_err_and(|e| e.panic_message() == Some("odd")))
            .count();
        assert_eq!(errors, 5);
    });
}

#[test]
fn panic_is_reported_and_every_worker_lives_on() {
    guarded("panic_is_reported_and_every_worker_lives_on", |status| {
        let workers = 4;
        let pool = Pool::new(workers);
        // Each round's tasks meet at a barrier, so each runs on a different worker: the first
        // round panics on every worker, the second proves every worker still runs tasks.
        let meet = Arc::new(Barrier::new(workers));
        for round in ["panic", "work"] {
            status.set("main", format!("round {round}"));
            let results: Vec<_> = (0..workers)
                .map(|i| {
                    let meet = meet.clone();
                    pool.apply_async(move || {
                        meet.wait();
                        if round == "panic" {
                            panic!("task {i} failed");
                        }
                        i
                    })
                })
                .collect();
            for (i, r) in results.into_iter().enumerate() {
                match (round, r.get()) {
                    ("panic", Err(TaskError::Panicked(p))) => {
                        assert_eq!(p.message(), Some(&*format!("task {i} failed")));
                        assert_eq!(p.to_string(), format!("task panicked: task {i} failed"));
                    }
                    ("work", Ok(v)) => assert_eq!(v, i),
                    (round, other) => panic!("round {round}, task {i}: {other:?}"),
                }
            }
        }
        let literal = pool.apply_async(|| -> () { panic!("literal") });
        assert_eq!(literal.get().unwrap_err().panic_message(), Some("literal"));
        let any = pool
            .apply_async(|| panic::panic_any(7_u8))
            .get()
            .unwrap_err();
        assert_eq!(
            any.to_string(),
            "task panicked with a non-string panic payload"
        );
    });
}

#[test]
fn close_then_join_runs_all_queued_tasks() {
    guarded("close_then_join_runs_all_queued_tasks", |_| {
        let pool = Pool::new(2);
        let gate = Arc::new(Event::new());
        let blockers = block_workers(&pool, &gate);
        let ran = Arc::new(AtomicUsize::new(0));
        let n = scaled(200);
        let queued: Vec<_> = (0..n)
            .map(|_| {
                let ran = ran.clone();
                pool.apply_async(move || ran.fetch_add(1, SeqCst))
            })
            .collect();
        pool.close();
        assert_eq!(pool.apply_async(|| 0).get(), Err(TaskError::Closed));
        gate.set();
        pool.join();
        assert_eq!(ran.load(SeqCst), n);
        assert!(queued.iter().all(|r| r.successful() == Some(true)));
        assert!(blockers.into_iter().all(|r| r.get().is_ok()));
        pool.join(); // again: returns at once
    });
}

#[test]
fn terminate_drops_queued_tasks() {
    guarded("terminate_drops_queued_tasks", |_| {
        let pool = Pool::new(3);
        let gate = Arc::new(Event::new());
        let blockers = block_workers(&pool, &gate);
        let (ran, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let n = scaled(100);
        let queued: Vec<_> = (0..n)
            .map(|_| {
                let ran = ran.clone();
                let token = Counted(dropped.clone());
                pool.apply_async(move || {
                    let _token = token;
                    ran.fetch_add(1, SeqCst);
                })
            })
            .collect();
        let imap = pool.imap_unordered(0..5, |i| i);
        pool.terminate();
        // Before the workers are released: every dropped task has already answered.
        assert_eq!(
            dropped.load(SeqCst),
            n,
            "the dropped tasks' closures are dropped"
        );
        assert!(
            queued
                .into_iter()
                .all(|r| r.get() == Err(TaskError::Terminated))
        );
        assert!(
            imap.map(|r| r.unwrap_err())
                .all(|e| e == TaskError::Terminated)
        );
        assert_eq!(pool.apply_async(|| ()).get(), Err(TaskError::Closed));
        gate.set();
        pool.join();
        assert_eq!(ran.load(SeqCst), 0);
        // The running tasks were not interrupted.
        assert!(blockers.into_iter().all(|r| r.get() == Ok(())));
    });
}

#[test]
fn drop_closes_and_joins() {
    guarded("drop_closes_and_joins", |_| {
        let done = Arc::new(AtomicUsize::new(0));
        let n = scaled(300);
        let pool = Pool::new(2);
        let results: Vec<_> = (0..n)
            .map(|_| {
                let done = done.clone();
                pool.apply_async(move || done.fetch_add(1, SeqCst))
            })
            .collect();
        drop(pool);
        assert_eq!(done.load(SeqCst), n);
        // The handles outlive the pool.
        let mut tickets: Vec<usize> = results.into_iter().map(|r| r.get().unwrap()).collect();
        tickets.sort_unstable();
        assert_eq!(tickets, (0..n).collect::<Vec<_>>());
    });
}

#[test]
fn submit_after_close() {
    guarded("submit_after_close", |_| {
        let pool = Pool::new(1);
        pool.close();
        let r = pool.apply_async(|| 1);
        assert!(r.ready());
        assert_eq!(r.successful(), Some(false));
        assert_eq!(r.get(), Err(TaskError::Closed));
        let tag = String::from("kept");
        let PoolClosed(f) = pool.try_apply_async(move || tag).unwrap_err();
        assert_eq!(f(), "kept");
        assert_eq!(pool.map([1, 2], |x| x), Err(TaskError::Closed));
        assert_eq!(pool.map(Vec::<u8>::new(), |x| x), Err(TaskError::Closed));
        let all: Vec<_> = pool.imap_unordered(0..3, |x| x).collect();
        assert_eq!(all, vec![Err(TaskError::Closed); 3]);
        pool.terminate(); // after close: harmless
        pool.join();
    });
}

#[test]
fn get_timeout_keeps_the_value() {
    guarded("get_timeout_keeps_the_value", |_| {
        let pool = Pool::new(1);
        let gate = Arc::new(Event::new());
        let g = gate.clone();
        let r = pool.apply_async(move || {
            g.wait();
            String::from("late")
        });
        let r = r.get_timeout(Duration::ZERO).unwrap_err();
        let r = r.get_timeout(Duration::from_millis(1)).unwrap_err();
        assert!(!r.wait_timeout(Duration::ZERO));
        assert!(!r.ready());
        assert_eq!(r.successful(), None);
        gate.set();
        assert_eq!(r.get_timeout(Duration::MAX).unwrap().as_deref(), Ok("late"));
        // ZERO on a finished task gets the value; MAX on wait_timeout returns true.
        let done = pool.apply_async(|| 5);
        assert!(done.wait_timeout(Duration::MAX));
        assert_eq!(done.get_timeout(Duration::ZERO).unwrap(), Ok(5));
    });
}

#[test]
fn ready_and_successful_states() {
    guarded("ready_and_successful_states", |_| {
        let pool = Pool::new(2);
        let gate = Arc::new(Event::new());
        let blockers = block_workers(&pool, &gate);
        let ok = pool.apply_async(|| 1);
        let bad = pool.apply_async(|| -> i32 { panic!("bad") });
        for r in [&ok, &bad] {
            assert!(!r.ready());
            assert_eq!(r.successful(), None);
        }
        assert_eq!(format!("{ok:?}"), "AsyncResult { ready: false }");
        gate.set();
        ok.wait();
        bad.wait();
        assert!(ok.ready() && bad.ready());
        assert_eq!(
            (ok.successful(), bad.successful()),
            (Some(true), Some(false))
        );
        assert_eq!(
            ok.successful(),
            Some(true),
            "successful() does not take the value"
        );
        assert_eq!(ok.get(), Ok(1));
        assert!(blockers.into_iter().all(|b| b.get() == Ok(())));
    });
}

#[test]
fn oversubscription_conserves_every_task() {
    guarded("oversubscription_conserves_every_task", |status| {
        let pool = Pool::new(8);
        let n = scaled(1000);
        let sum = Arc::new(AtomicUsize::new(0));
        status.set("main", "submitting");
        let results: Vec<_> = (0..n)
            .map(|i| {
                let sum = sum.clone();
                pool.apply_async(move || {
                    sum.fetch_add(i, SeqCst);
                    i
                })
            })
            .collect();
        status.set("main", "collecting");
        let total: usize = results.into_iter().map(|r| r.get().unwrap()).sum();
        pool.close();
        pool.join();
        assert_eq!(total, n * (n - 1) / 2);
        assert_eq!(sum.load(SeqCst), n * (n - 1) / 2);
    });
}

/// Submitters race `close` or `terminate`: every task is answered exactly once (ran, dropped or
/// refused), none hangs, and the count of tasks that ran equals the count of `Ok`s.
fn race_the_end(name: &str, end: fn(&Pool)) {
    guarded(name, |status| {
        let pool = Pool::new(3);
        let (ran, submitted) = (Arc::new(AtomicUsize::new(0)), AtomicUsize::new(0));
        let per = scaled(300);
        let outcomes = thread::scope(|s| {
            let submitters: Vec<_> = (0..3)
                .map(|_| {
                    let (pool, ran, submitted) = (&pool, &ran, &submitted);
                    s.spawn(move || {
                        let results: Vec<_> = (0..per)
                            .map(|_| {
                                let ran = ran.clone();
                                submitted.fetch_add(1, SeqCst);
                                thread::yield_now(); // let the workers and `end` interleave
                                pool.apply_async(move || {
                                    thread::sleep(Duration::from_micros(50)); // slower than submitting
                                    ran.fetch_add(1, SeqCst)
                                })
                            })
                            .collect();
                        results
                            .into_iter()
                            .map(AsyncResult::get)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            status.set("main", "waiting for the first submissions");
            while submitted.load(SeqCst) < per {
                thread::yield_now(); // end the pool in the middle of the submissions
            }
            end(&pool);
            status.set("main", "ended the pool; collecting");
            submitters
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        });
        pool.join();
        assert_eq!(outcomes.len(), 3 * per);
        let oks = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(oks, ran.load(SeqCst));
        assert!(
            outcomes
                .iter()
                .all(|o| !matches!(o, Err(TaskError::Panicked(_))))
        );
    });
}

#[test]
fn close_races_submitters() {
    race_the_end("close_races_submitters", Pool::close);
}

#[test]
fn terminate_races_submitters() {
    race_the_end("terminate_races_submitters", Pool::terminate);
}

#[test]
#[should_panic(expected = "call close() or terminate() first")]
fn join_on_running_pool_panics() {
    let pool = Pool::new(1);
    pool.join();
}

#[test]
#[should_panic(expected = "at least 1 worker")]
fn zero_workers_panics() {
    let _ = Pool::new(0);
}

#[test]
fn join_from_own_task_is_an_error() {
    guarded("join_from_own_task_is_an_error", |_| {
        let pool = Arc::new(Pool::new(1));
        let inner = pool.clone();
        let r = pool.apply_async(move || {
            inner.close();
            inner.join();
        });
        let msg = r.get().unwrap_err().panic_message().map(str::to_owned);
        assert!(msg.unwrap().contains("own tasks"));
    });
}

#[test]
fn last_handle_dropped_by_own_task_does_not_deadlock() {
    guarded("last_handle_dropped_by_own_task_does_not_deadlock", |_| {
        let pool = Arc::new(Pool::new(2));
        let gate = Arc::new(Event::new());
        let (inner, g) = (pool.clone(), gate.clone());
        let last = pool.apply_async(move || {
            g.wait();
            drop(inner); // the last handle: closes, cannot join itself
            "dropped"
        });
        let queued = pool.apply_async(|| "still runs");
        drop(pool);
        gate.set();
        assert_eq!(last.get(), Ok("dropped"));
        assert_eq!(queued.get(), Ok("still runs"));
    });
}

#[test]
fn send_sync_and_debug() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Pool>();
    send_sync::<AsyncResult<Vec<u8>>>();
    send_sync::<TaskError>();
    guarded("send_sync_and_debug", |_| {
        let pool = Pool::default();
        assert!(pool.workers() >= 1);
        let shown = format!("{pool:?}");
        assert!(shown.starts_with("Pool { workers: ") && shown.ends_with("closed: false }"));
        let it = pool.imap_unordered([1], |x: i32| x);
        assert_eq!(format!("{it:?}"), "ImapUnordered { remaining: 1 }");
    });
}
