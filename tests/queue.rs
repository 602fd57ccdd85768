//! Tests of `Queue`, `LifoQueue` and `PriorityQueue`.
//!
//! `suite!` generates the shared tests once per queue type (every method, timeouts, blocking,
//! shutdown, task accounting, many threads, drop counting); the order tests and the
//! store-specific ones (ring laps, list blocks) follow. Ports of CPython's `test_queue.py` are
//! named after the CPython test. Multi-threaded bodies run under the watchdog of
//! `tests/common`, and sleeps only make blocking likely: no test relies on timing.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use common::{guarded, scaled};
use synclab::{GetError, LifoQueue, PriorityQueue, PutError, Queue, ShutDown, TaskDoneError};

/// Long enough that a thread spawned before it has most likely blocked (not a correctness
/// condition: the tests pass whether or not it did).
const SETTLE: Duration = Duration::from_millis(30);

/// Counts drops, to check that every item is dropped exactly once.
#[derive(Debug)]
struct Counted<'a>(u32, &'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.1.fetch_add(1, SeqCst);
    }
}

impl PartialEq for Counted<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Counted<'_> {}
impl PartialOrd for Counted<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Counted<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

/// `n` producers each put `per` items `p * per + i`; `m` consumers get until shutdown.
/// Returns what each consumer got, in the order it got them.
#[allow(clippy::too_many_arguments)] // a test driver: each closure is one knob
fn mpmc<Q: Sync>(
    q: &Q,
    n: usize,
    m: usize,
    per: usize,
    put: impl Fn(&Q, usize) + Sync,
    get: impl Fn(&Q) -> Option<usize> + Sync,
    shutdown: impl FnOnce(&Q),
    status: &common::Status,
) -> Vec<Vec<usize>> {
    thread::scope(|s| {
        let consumers: Vec<_> = (0..m)
            .map(|_| {
                let get = &get;
                s.spawn(move || {
                    let mut got = Vec::new();
                    while let Some(v) = get(q) {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        let producers: Vec<_> = (0..n)
            .map(|p| {
                let put = &put;
                s.spawn(move || {
                    for i in 0..per {
                        put(q, p * per + i);
                    }
                })
            })
            .collect();
        for (p, h) in producers.into_iter().enumerate() {
            status.set("main", format!("joining producer {p}"));
            h.join().unwrap();
        }
        status.set("main", "shutting down");
        shutdown(q);
        status.set("main", "joining consumers");
        consumers.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Every item `0 .. n * per` exactly once.
fn assert_each_once(got: &[Vec<usize>], total: usize) {
    let mut all: Vec<usize> = got.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all.len(), total, "items lost or duplicated");
    assert!(all.iter().copied().eq(0..total), "items lost or duplicated");
}

macro_rules! suite {
    ($m:ident, $Q:ident) => {
        mod $m {
            use super::*;

            #[test]
            fn new_is_unbounded_and_empty() {
                let q = $Q::<i32>::new();
                assert!(q.is_empty());
                assert!(!q.is_full());
                assert_eq!(q.len(), 0);
                assert_eq!(q.capacity(), None);
                assert!(!q.is_shutdown());
                let d = $Q::<i32>::default();
                assert_eq!(d.capacity(), None);
                for i in 0..100 {
                    q.put(i).unwrap();
                }
                assert_eq!(q.len(), 100);
                assert!(!q.is_full());
            }

            #[test]
            #[should_panic(expected = "bounded(0)")]
            fn bounded_zero_panics() {
                let _ = $Q::<i32>::bounded(0);
            }

            #[test]
            fn bounded_len_full_capacity() {
                let q = $Q::bounded(3);
                assert_eq!(q.capacity(), Some(3));
                for i in 1..=3 {
                    assert!(!q.is_full());
                    q.try_put(i).unwrap();
                    assert_eq!(q.len(), i);
                }
                assert!(q.is_full());
                assert_eq!(q.try_put(9), Err(PutError::Full(9)));
                assert_eq!(q.len(), 3);
                let mut got: Vec<usize> = (0..3).map(|_| q.try_get().unwrap()).collect();
                got.sort();
                assert_eq!(got, [1, 2, 3]);
                assert_eq!(q.try_get(), Err(GetError::Empty));
                assert!(q.is_empty());
            }

            #[test]
            fn capacity_one() {
                let q = $Q::bounded(1);
                for i in 0..scaled(1000) {
                    q.try_put(i).unwrap();
                    assert!(q.is_full());
                    assert!(q.try_put(i).unwrap_err().is_full());
                    assert_eq!(q.try_get(), Ok(i));
                    assert!(q.try_get().unwrap_err().is_empty());
                }
            }

            /// CPython `test_nowait`: the refused item comes back intact.
            #[test]
            fn try_put_full_returns_the_item() {
                let q = $Q::bounded(1);
                q.put(String::from("a")).unwrap();
                let err = q.try_put(String::from("b")).unwrap_err();
                assert!(err.is_full());
                assert_eq!(err.into_inner(), "b");
                assert_eq!(q.try_get().unwrap(), "a");
            }

            #[test]
            fn timeout_zero_tries_once() {
                let q = $Q::bounded(1);
                assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Timeout));
                assert_eq!(q.put_timeout(1, Duration::ZERO), Ok(()));
                assert_eq!(q.put_timeout(2, Duration::ZERO), Err(PutError::Timeout(2)));
                assert_eq!(q.get_timeout(Duration::ZERO), Ok(1));
                assert!(!q.join_timeout(Duration::ZERO));
                q.task_done().unwrap();
                assert!(q.join_timeout(Duration::ZERO));
            }

            #[test]
            fn timeout_max_means_forever() {
                let q = $Q::bounded(1);
                assert_eq!(q.put_timeout(1, Duration::MAX), Ok(()));
                assert_eq!(q.get_timeout(Duration::MAX), Ok(1));
                q.task_done().unwrap();
                assert!(q.join_timeout(Duration::MAX));
                guarded(concat!(stringify!($m), "::timeout_max"), |status| {
                    thread::scope(|s| {
                        s.spawn(|| {
                            status.set("getter", "in get_timeout(MAX)");
                            assert_eq!(q.get_timeout(Duration::MAX), Ok(2));
                            status.set("getter", "done");
                        });
                        thread::sleep(SETTLE);
                        q.put(2).unwrap();
                        q.put(3).unwrap();
                        s.spawn(|| {
                            status.set("putter", "in put_timeout(MAX)");
                            assert_eq!(q.put_timeout(4, Duration::MAX), Ok(()));
                            status.set("putter", "done");
                        });
                        thread::sleep(SETTLE);
                        // 2 went to the getter; taking 3 makes room for the putter's 4.
                        assert_eq!(q.get_timeout(Duration::MAX), Ok(3));
                    });
                    assert_eq!(q.try_get(), Ok(4));
                });
            }

            /// CPython `test_basic`: timed put/get on full/empty queues fail with a timeout.
            #[test]
            fn short_timeouts_expire() {
                let q = $Q::bounded(1);
                let t = Duration::from_millis(10);
                assert_eq!(q.get_timeout(t), Err(GetError::Timeout));
                q.put(1).unwrap();
                assert_eq!(q.put_timeout(2, t), Err(PutError::Timeout(2)));
                assert!(!q.join_timeout(t));
            }

            /// CPython `do_blocking_test`: `get` really waits for the `put` that releases it.
            #[test]
            fn get_blocks_until_put() {
                guarded(concat!(stringify!($m), "::get_blocks"), |status| {
                    let q = $Q::new();
                    let released = AtomicBool::new(false);
                    thread::scope(|s| {
                        s.spawn(|| {
                            status.set("getter", "blocked in get");
                            assert_eq!(q.get(), Ok(7));
                            assert!(released.load(SeqCst), "get returned before the put");
                            status.set("getter", "done");
                        });
                        thread::sleep(SETTLE);
                        released.store(true, SeqCst);
                        q.put(7).unwrap();
                    });
                });
            }

            /// CPython `do_blocking_test`: `put` on a full queue waits for a `get`.
            #[test]
            fn put_blocks_until_get() {
                guarded(concat!(stringify!($m), "::put_blocks"), |status| {
                    let q = $Q::bounded(1);
                    q.put(1).unwrap();
                    let released = AtomicBool::new(false);
                    thread::scope(|s| {
                        s.spawn(|| {
                            status.set("putter", "blocked in put");
                            q.put(2).unwrap();
                            assert!(released.load(SeqCst), "put returned before the get");
                            status.set("putter", "done");
                        });
                        thread::sleep(SETTLE);
                        released.store(true, SeqCst);
                        assert_eq!(q.get(), Ok(1));
                    });
                    assert_eq!(q.try_get(), Ok(2));
                });
            }

            /// CPython `test_queue_task_done`.
            #[test]
            fn task_done_without_items_is_an_error() {
                let q = $Q::<i32>::new();
                assert_eq!(q.task_done(), Err(TaskDoneError));
                q.put(1).unwrap();
                q.put(2).unwrap();
                assert_eq!(q.task_done(), Ok(()));
                assert_eq!(q.task_done(), Ok(()));
                assert_eq!(q.task_done(), Err(TaskDoneError));
                // The failed call changed nothing: one more put needs exactly one more done.
                q.put(3).unwrap();
                assert!(!q.join_timeout(Duration::ZERO));
                assert_eq!(q.task_done(), Ok(()));
                assert!(q.join_timeout(Duration::ZERO));
                assert_eq!(q.task_done(), Err(TaskDoneError));
            }

            /// CPython `test_queue_join`: two workers sum 0..100; `join` waits for every
            /// `task_done`, twice; then an extra `task_done` fails.
            #[test]
            fn join_waits_for_every_task_done() {
                guarded(concat!(stringify!($m), "::join"), |status| {
                    let q = $Q::new();
                    let sum = AtomicUsize::new(0);
                    let n = scaled(100);
                    thread::scope(|s| {
                        for w in 0..2 {
                            let (q, sum) = (&q, &sum);
                            s.spawn(move || {
                                while let Ok(v) = q.get() {
                                    status.set(format!("worker {w}"), format!("working on {v}"));
                                    sum.fetch_add(v, SeqCst);
                                    q.task_done().unwrap();
                                }
                                status.set(format!("worker {w}"), "done");
                            });
                        }
                        for round in 0..2 {
                            sum.store(0, SeqCst);
                            for i in 0..n {
                                q.put(i).unwrap();
                            }
                            status.set("main", format!("join, round {round}"));
                            q.join();
                            assert_eq!(sum.load(SeqCst), n * (n - 1) / 2, "join returned early");
                        }
                        q.shutdown();
                    });
                    assert_eq!(q.task_done(), Err(TaskDoneError));
                });
            }

            /// CPython `test_shutdown_empty` and `test_shutdown_all_methods_in_one_thread`.
            #[test]
            fn shutdown_empty_refuses_everything() {
                let q = $Q::bounded(2);
                q.shutdown();
                assert!(q.is_shutdown());
                assert_eq!(q.put(1).unwrap_err(), ShutDown(1));
                assert_eq!(q.try_put(2), Err(PutError::ShutDown(2)));
                assert_eq!(q.put_timeout(3, Duration::ZERO), Err(PutError::ShutDown(3)));
                assert_eq!(q.put_timeout(4, Duration::MAX), Err(PutError::ShutDown(4)));
                assert_eq!(q.get(), Err(ShutDown(())));
                assert_eq!(q.try_get(), Err(GetError::ShutDown));
                assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::ShutDown));
                assert_eq!(q.get_timeout(Duration::MAX), Err(GetError::ShutDown));
                assert_eq!(q.task_done(), Err(TaskDoneError));
                q.join();
                assert_eq!(q.len(), 0);
                q.shutdown(); // again: nothing happens
                assert!(q.shutdown_now().is_empty());
            }

            /// CPython `test_shutdown_nonempty`: gets drain, then fail.
            #[test]
            fn shutdown_nonempty_drains_then_fails() {
                let q = $Q::bounded(2);
                q.put(1).unwrap();
                q.put(2).unwrap();
                q.shutdown();
                // ShutDown is reported before Full.
                assert_eq!(q.try_put(3), Err(PutError::ShutDown(3)));
                assert_eq!(
                    q.put_timeout(3, Duration::from_millis(1)),
                    Err(PutError::ShutDown(3))
                );
                assert_eq!(q.len(), 2);
                let mut got = vec![q.get().unwrap(), q.get_timeout(Duration::ZERO).unwrap()];
                got.sort();
                assert_eq!(got, [1, 2]);
                assert_eq!(q.get(), Err(ShutDown(())));
                // Graceful shutdown does not finish tasks: join still waits for them.
                assert!(!q.join_timeout(Duration::ZERO));
                q.task_done().unwrap();
                q.task_done().unwrap();
                q.join();
            }

            /// CPython `test_shutdown_immediate` and `..._all_methods_in_one_thread_immediate`.
            #[test]
            fn shutdown_now_hands_back_the_items() {
                let q = $Q::new();
                for i in 0..5 {
                    q.put(i).unwrap();
                }
                let first = q.get().unwrap();
                let mut rest = q.shutdown_now();
                assert_eq!(rest.len(), 4);
                rest.push(first);
                rest.sort();
                assert_eq!(rest, [0, 1, 2, 3, 4]);
                assert!(q.is_empty());
                assert_eq!(q.get(), Err(ShutDown(())));
                assert_eq!(q.try_put(9), Err(PutError::ShutDown(9)));
                // The 4 discarded items count as done; the one handed out does not.
                assert!(!q.join_timeout(Duration::ZERO));
                q.task_done().unwrap();
                q.join();
                assert_eq!(q.task_done(), Err(TaskDoneError));
            }

            /// CPython `test_shutdown_allowed_transitions`.
            #[test]
            fn shutdown_then_shutdown_now() {
                let q = $Q::new();
                q.put(1).unwrap();
                assert!(!q.is_shutdown());
                q.shutdown();
                assert!(q.is_shutdown());
                assert_eq!(q.shutdown_now(), [1]);
                assert!(q.is_shutdown());
                assert!(q.shutdown_now().is_empty());
                q.join();
            }

            /// `shutdown_now` never takes `unfinished` below zero (Python clamps too).
            #[test]
            fn shutdown_now_after_early_task_done() {
                let q = $Q::new();
                q.put(1).unwrap();
                q.put(2).unwrap();
                q.task_done().unwrap();
                q.task_done().unwrap();
                assert_eq!(q.shutdown_now().len(), 2);
                assert_eq!(q.task_done(), Err(TaskDoneError));
                q.join();
            }

            /// CPython `test_shutdown_pending_get` / `test_shutdown_immediate_get`: getters
            /// blocked on an empty queue all wake with `ShutDown`.
            #[test]
            fn shutdown_wakes_blocked_getters() {
                for now in [false, true] {
                    guarded(concat!(stringify!($m), "::shutdown_getters"), |status| {
                        let q = $Q::<u32>::bounded(2);
                        let woke = AtomicUsize::new(0);
                        thread::scope(|s| {
                            for i in 0..4 {
                                let (q, woke) = (&q, &woke);
                                s.spawn(move || {
                                    status.set(format!("getter {i}"), "blocked in get");
                                    let r = if i % 2 == 0 {
                                        q.get().map_err(GetError::from)
                                    } else {
                                        q.get_timeout(Duration::MAX)
                                    };
                                    assert_eq!(r, Err(GetError::ShutDown));
                                    woke.fetch_add(1, SeqCst);
                                    status.set(format!("getter {i}"), "woke");
                                });
                            }
                            thread::sleep(SETTLE);
                            if now {
                                q.shutdown_now();
                            } else {
                                q.shutdown();
                            }
                        });
                        assert_eq!(woke.load(SeqCst), 4);
                    });
                }
            }

            /// CPython `test_shutdown_put` / `test_shutdown_immediate_put`: putters blocked on
            /// a full queue wake with their item back.
            #[test]
            fn shutdown_wakes_blocked_putters() {
                for now in [false, true] {
                    guarded(concat!(stringify!($m), "::shutdown_putters"), |status| {
                        let q = $Q::bounded(1);
                        q.put(100).unwrap();
                        let back = std::sync::Mutex::new(Vec::new());
                        thread::scope(|s| {
                            for i in 0..4 {
                                let (q, back) = (&q, &back);
                                s.spawn(move || {
                                    status.set(format!("putter {i}"), "blocked in put");
                                    let item = if i % 2 == 0 {
                                        q.put(i).unwrap_err().into_inner()
                                    } else {
                                        let e = q.put_timeout(i, Duration::MAX).unwrap_err();
                                        assert!(e.is_shutdown());
                                        e.into_inner()
                                    };
                                    back.lock().unwrap().push(item);
                                    status.set(format!("putter {i}"), "woke");
                                });
                            }
                            thread::sleep(SETTLE);
                            if now {
                                assert_eq!(q.shutdown_now(), [100]);
                            } else {
                                q.shutdown();
                            }
                        });
                        let mut back = back.into_inner().unwrap();
                        back.sort();
                        assert_eq!(back, [0, 1, 2, 3]);
                        if !now {
                            assert_eq!(q.get(), Ok(100));
                        }
                        assert_eq!(q.get(), Err(ShutDown(())));
                    });
                }
            }

            /// CPython `test_shutdown_get`: 3 getters, 2 items: after a graceful shutdown,
            /// exactly one getter gets `ShutDown`.
            #[test]
            fn shutdown_get_all_but_one_get_an_item() {
                guarded(concat!(stringify!($m), "::shutdown_get"), |status| {
                    let q = $Q::bounded(2);
                    let ok = AtomicUsize::new(0);
                    let failed = AtomicUsize::new(0);
                    thread::scope(|s| {
                        for i in 0..3 {
                            let (q, ok, failed) = (&q, &ok, &failed);
                            s.spawn(move || {
                                status.set(format!("getter {i}"), "in get");
                                match q.get() {
                                    Ok(_) => ok.fetch_add(1, SeqCst),
                                    Err(_) => failed.fetch_add(1, SeqCst),
                                };
                                status.set(format!("getter {i}"), "done");
                            });
                        }
                        q.put(1).unwrap();
                        q.put(2).unwrap();
                        status.set("main", "waiting for two gets");
                        while ok.load(SeqCst) < 2 {
                            thread::yield_now();
                        }
                        q.shutdown();
                    });
                    assert_eq!((ok.load(SeqCst), failed.load(SeqCst)), (2, 1));
                });
            }

            /// CPython `test_shutdown_join` / `..._immediate_join` / `..._put_join`: joiners
            /// are released by `shutdown_now`, or by the `task_done`s after `shutdown`; a
            /// putter blocked at the same time gets its item back.
            #[test]
            fn shutdown_releases_joiners() {
                for now in [false, true] {
                    guarded(concat!(stringify!($m), "::shutdown_join"), |status| {
                        let q = $Q::bounded(2);
                        q.put(1).unwrap();
                        q.put(2).unwrap();
                        let joined = AtomicBool::new(false);
                        thread::scope(|s| {
                            for i in 0..2 {
                                let (q, joined) = (&q, &joined);
                                s.spawn(move || {
                                    status.set(format!("joiner {i}"), "blocked in join");
                                    q.join();
                                    joined.store(true, SeqCst);
                                    status.set(format!("joiner {i}"), "released");
                                });
                            }
                            s.spawn(|| {
                                status.set("putter", "blocked in put");
                                assert_eq!(q.put(3), Err(ShutDown(3)));
                                status.set("putter", "done");
                            });
                            thread::sleep(SETTLE);
                            assert!(!joined.load(SeqCst));
                            if now {
                                assert_eq!(q.shutdown_now().len(), 2);
                            } else {
                                q.shutdown();
                                thread::sleep(SETTLE);
                                assert!(!joined.load(SeqCst), "graceful shutdown released join");
                                while q.get().is_ok() {
                                    q.task_done().unwrap();
                                }
                            }
                        });
                        assert!(joined.load(SeqCst));
                        assert_eq!(q.task_done(), Err(TaskDoneError));
                    });
                }
            }

            /// CPython `test_shutdown_all_methods_in_many_threads` (and `_immediate_`):
            /// writers, readers and joiners, shutdown mid-stream; every reader ends with
            /// `ShutDown`, every item is either got, handed back, or refused, exactly once.
            #[test]
            fn shutdown_in_many_threads() {
                for now in [false, true] {
                    guarded(concat!(stringify!($m), "::shutdown_many"), |status| {
                        let q = $Q::bounded(4);
                        let per = scaled(2000);
                        let (got, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
                        let (sum_got, sum_refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
                        let returned = thread::scope(|s| {
                            for w in 0..4 {
                                let (q, refused, sum_refused) = (&q, &refused, &sum_refused);
                                s.spawn(move || {
                                    status.set(format!("writer {w}"), "putting");
                                    for i in 0..per {
                                        if let Err(ShutDown(v)) = q.put(w * per + i) {
                                            refused.fetch_add(1, SeqCst);
                                            sum_refused.fetch_add(v, SeqCst);
                                        }
                                    }
                                    status.set(format!("writer {w}"), "done");
                                });
                            }
                            for r in 0..6 {
                                let (q, got, sum_got) = (&q, &got, &sum_got);
                                s.spawn(move || {
                                    status.set(format!("reader {r}"), "getting");
                                    while let Ok(v) = q.get() {
                                        got.fetch_add(1, SeqCst);
                                        sum_got.fetch_add(v, SeqCst);
                                        q.task_done().unwrap();
                                    }
                                    status.set(format!("reader {r}"), "got ShutDown");
                                });
                            }
                            for j in 0..2 {
                                let q = &q;
                                s.spawn(move || {
                                    status.set(format!("joiner {j}"), "in join");
                                    q.join();
                                    status.set(format!("joiner {j}"), "released");
                                });
                            }
                            while got.load(SeqCst) < per {
                                thread::yield_now();
                            }
                            status.set("main", "shutting down");
                            if now {
                                q.shutdown_now()
                            } else {
                                q.shutdown();
                                Vec::new()
                            }
                        });
                        let total = 4 * per;
                        let n = got.load(SeqCst) + refused.load(SeqCst) + returned.len();
                        assert_eq!(n, total, "an item was lost or duplicated");
                        let sum = sum_got.load(SeqCst)
                            + sum_refused.load(SeqCst)
                            + returned.iter().sum::<usize>();
                        assert_eq!(sum, total * (total - 1) / 2);
                        assert!(q.is_empty());
                        q.join();
                    });
                }
            }

            /// Shutdown is linearizable with put: a put that starts after `shutdown()`
            /// returned never succeeds, and every item whose put succeeded is got.
            #[test]
            fn no_put_succeeds_after_shutdown_returns() {
                for cap in [Some(2), None] {
                    guarded(concat!(stringify!($m), "::put_vs_shutdown"), |status| {
                        let q = match cap {
                            Some(c) => $Q::bounded(c),
                            None => $Q::new(),
                        };
                        let after = AtomicBool::new(false);
                        let (put_ok, got) = (AtomicUsize::new(0), AtomicUsize::new(0));
                        thread::scope(|s| {
                            for p in 0..3 {
                                let (q, after, put_ok) = (&q, &after, &put_ok);
                                s.spawn(move || {
                                    status.set(format!("putter {p}"), "putting");
                                    for i in 0.. {
                                        let started_after = after.load(SeqCst);
                                        match q.put(i) {
                                            Ok(()) => {
                                                assert!(!started_after, "put after shutdown");
                                                put_ok.fetch_add(1, SeqCst);
                                            }
                                            Err(ShutDown(v)) => {
                                                assert_eq!(v, i);
                                                break;
                                            }
                                        }
                                    }
                                    status.set(format!("putter {p}"), "refused");
                                });
                            }
                            for c in 0..2 {
                                let (q, got) = (&q, &got);
                                s.spawn(move || {
                                    status.set(format!("getter {c}"), "getting");
                                    while q.get().is_ok() {
                                        got.fetch_add(1, SeqCst);
                                    }
                                    status.set(format!("getter {c}"), "done");
                                });
                            }
                            while got.load(SeqCst) < scaled(1000) {
                                thread::yield_now();
                            }
                            q.shutdown();
                            after.store(true, SeqCst);
                        });
                        assert_eq!(put_ok.load(SeqCst), got.load(SeqCst));
                    });
                }
            }

            /// N producers, M consumers, more threads than cores, a small bounded queue (so
            /// both sides sleep) and an unbounded one: every item arrives exactly once.
            #[test]
            fn mpmc_every_item_once() {
                for (n, m, cap) in [
                    (1, 1, Some(1)),
                    (4, 4, Some(2)),
                    (8, 8, Some(16)),
                    (3, 5, None),
                ] {
                    guarded(concat!(stringify!($m), "::mpmc"), |status| {
                        let q = match cap {
                            Some(c) => $Q::bounded(c),
                            None => $Q::new(),
                        };
                        let per = scaled(5000) / n;
                        let got = mpmc(
                            &q,
                            n,
                            m,
                            per,
                            |q, v| q.put(v).unwrap(),
                            |q| q.get().ok(),
                            |q| q.shutdown(),
                            status,
                        );
                        assert_each_once(&got, n * per);
                        assert!(q.is_empty());
                    });
                }
            }

            /// CPython `test_many_threads_nonblock` / `_timeout`: consumers that only poll
            /// (`try_get`, tiny `get_timeout`s) race with producers and lose nothing.
            #[test]
            fn polling_consumers_lose_nothing() {
                for timeout in [None, Some(Duration::from_micros(10))] {
                    guarded(concat!(stringify!($m), "::polling"), |status| {
                        let q = $Q::bounded(8);
                        let done = AtomicBool::new(false);
                        let per = scaled(2000);
                        let got = mpmc(
                            &q,
                            2,
                            3,
                            per,
                            |q, v| {
                                let mut v = v;
                                loop {
                                    match q.try_put(v) {
                                        Ok(()) => break,
                                        Err(e) => {
                                            v = e.into_inner();
                                            thread::yield_now();
                                        }
                                    }
                                }
                            },
                            |q| loop {
                                let r = match timeout {
                                    None => q.try_get(),
                                    Some(t) => q.get_timeout(t),
                                };
                                match r {
                                    Ok(v) => return Some(v),
                                    Err(GetError::ShutDown) => return None,
                                    Err(_) if done.load(SeqCst) && q.is_empty() => return None,
                                    Err(_) => thread::yield_now(),
                                }
                            },
                            |_| done.store(true, SeqCst),
                            status,
                        );
                        assert_each_once(&got, 2 * per);
                    });
                }
            }

            /// Dropping a queue drops the items still in it, exactly once; items handed out
            /// or handed back are the caller's.
            #[test]
            fn drop_drops_each_item_once() {
                for cap in [Some(8), Some(100), None] {
                    let drops = AtomicUsize::new(0);
                    {
                        let q = match cap {
                            Some(c) => $Q::bounded(c),
                            None => $Q::new(),
                        };
                        for i in 0..80 {
                            q.put(Counted(i, &drops)).unwrap_or_else(|_| unreachable!());
                            if q.is_full() {
                                drop(q.get().unwrap());
                            }
                        }
                        for _ in 0..3 {
                            drop(q.get().unwrap());
                        }
                        let before = drops.load(SeqCst);
                        let e = q.try_put(Counted(999, &drops));
                        if let Err(e) = e {
                            drop(e.into_inner());
                        }
                        assert!(drops.load(SeqCst) <= before + 1);
                    }
                    assert_eq!(drops.load(SeqCst), 81, "capacity {cap:?}");
                }
                let drops = AtomicUsize::new(0);
                let q = $Q::new();
                for i in 0..40 {
                    q.put(Counted(i, &drops)).unwrap_or_else(|_| unreachable!());
                }
                let back = q.shutdown_now();
                assert_eq!(drops.load(SeqCst), 0);
                drop(q);
                assert_eq!(drops.load(SeqCst), 0, "shutdown_now left an item behind");
                drop(back);
                assert_eq!(drops.load(SeqCst), 40);
            }

            /// Destroy-after-wake (glibc BZ#12674): the woken getter drops the last reference
            /// right after the put that woke it returned.
            #[test]
            fn woken_thread_drops_the_queue() {
                guarded(concat!(stringify!($m), "::destroy_after_wake"), |status| {
                    for _ in 0..scaled(50) {
                        let q = Arc::new($Q::bounded(1));
                        let q2 = Arc::clone(&q);
                        let h = thread::spawn(move || {
                            let v = q2.get().unwrap();
                            drop(q2);
                            v
                        });
                        status.set("main", "put");
                        q.put(5).unwrap();
                        drop(q);
                        assert_eq!(h.join().unwrap(), 5);
                    }
                });
            }

            #[test]
            fn debug_shows_state() {
                #[derive(PartialEq, Eq, PartialOrd, Ord)]
                struct NotDebug(u8);
                let q = $Q::bounded(2);
                q.put(NotDebug(1)).unwrap_or_else(|_| unreachable!());
                let s = format!("{q:?}");
                assert!(s.starts_with(stringify!($Q)), "{s}");
                assert!(
                    s.contains("len: 1") && s.contains("capacity: Some(2)"),
                    "{s}"
                );
                assert!(
                    s.contains("unfinished: 1") && s.contains("shutdown: false"),
                    "{s}"
                );
            }

            #[test]
            fn send_sync_when_t_send() {
                fn is_send_sync<T: Send + Sync>() {}
                is_send_sync::<$Q<u8>>();
                is_send_sync::<$Q<std::cell::Cell<u8>>>(); // Send, not Sync: still fine
            }
        }
    };
}

suite!(fifo, Queue);
suite!(lifo, LifoQueue);
suite!(priority, PriorityQueue);

#[test]
fn fifo_order_bounded_and_unbounded() {
    for q in [Queue::bounded(3), Queue::new()] {
        // Many laps of the ring / many blocks of the list, checked against a model.
        let mut model = std::collections::VecDeque::new();
        for i in 0..scaled(1000) {
            if i % 3 == 0 || q.capacity() == Some(model.len()) {
                assert_eq!(q.try_get().ok(), model.pop_front());
            }
            q.try_put(i).unwrap();
            model.push_back(i);
            assert_eq!(q.len(), model.len());
        }
        assert_eq!(q.shutdown_now(), Vec::from(model));
    }
    // Across list blocks (255 slots each for an `i32`), filled then drained.
    let q = Queue::new();
    for i in 0..1000 {
        q.put(i).unwrap();
    }
    assert_eq!(q.len(), 1000);
    for i in 0..1000 {
        assert_eq!(q.get(), Ok(i));
        assert_eq!(q.len(), 999 - i);
    }
}

#[test]
fn lifo_order() {
    let q = LifoQueue::bounded(5);
    for i in 0..5 {
        q.put(i).unwrap();
    }
    assert_eq!(q.get(), Ok(4));
    q.put(10).unwrap();
    assert_eq!(q.shutdown_now(), [10, 3, 2, 1, 0]);
}

#[test]
fn priority_order_smallest_first() {
    let q = PriorityQueue::new();
    let items = [5, 1, 9, 3, 7, 3, 0, 8];
    for i in items {
        q.put(i).unwrap();
    }
    assert_eq!(q.get(), Ok(0));
    let mut sorted = items.to_vec();
    sorted.sort();
    assert_eq!(q.shutdown_now(), sorted[1..]);

    let q = PriorityQueue::bounded(3);
    for i in [2, 7, 4] {
        q.put(std::cmp::Reverse(i)).unwrap();
    }
    assert!(q.is_full());
    assert_eq!(q.get(), Ok(std::cmp::Reverse(7)));
}

/// Per producer, a FIFO queue delivers items in the order they were put, to every consumer.
#[test]
fn fifo_per_producer_order() {
    for cap in [Some(4), None] {
        guarded("fifo_per_producer_order", |status| {
            let q = match cap {
                Some(c) => Queue::bounded(c),
                None => Queue::new(),
            };
            let (n, per) = (4, scaled(5000));
            let got = mpmc(
                &q,
                n,
                3,
                per,
                |q, v| q.put(v).unwrap(),
                |q| q.get().ok(),
                |q| q.shutdown(),
                status,
            );
            for consumer in &got {
                let mut last = vec![None; n];
                for &v in consumer {
                    let p = v / per;
                    assert!(last[p] < Some(v), "producer {p}'s items out of order");
                    last[p] = Some(v);
                }
            }
            assert_each_once(&got, n * per);
        });
    }
}

#[test]
fn error_types() {
    struct NotDebug;
    let e = PutError::Full(NotDebug);
    assert_eq!(format!("{e:?}"), "Full(..)");
    assert!(e.to_string().contains("full"));
    assert!(
        PutError::Timeout(NotDebug)
            .to_string()
            .contains("timed out")
    );
    assert!(
        PutError::ShutDown(NotDebug)
            .to_string()
            .contains("shut down")
    );
    assert_eq!(format!("{:?}", ShutDown(NotDebug)), "ShutDown(..)");
    let boxed: Box<dyn std::error::Error> = Box::new(PutError::Full(NotDebug));
    assert!(!boxed.to_string().is_empty());
    for g in [GetError::Empty, GetError::Timeout, GetError::ShutDown] {
        assert!(!g.to_string().is_empty());
        let _: &dyn std::error::Error = &g;
    }
    assert!(TaskDoneError.to_string().contains("task_done"));
    assert_eq!(PutError::from(ShutDown(3)), PutError::ShutDown(3));
    assert_eq!(GetError::from(ShutDown(())), GetError::ShutDown);
    let copy = GetError::Empty;
    let _also = copy;
    assert!(copy.is_empty());
}
