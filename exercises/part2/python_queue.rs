//! # Exercise `python_queue` — Part II, "Queue"
//!
//! Build Python's `queue.Queue` the way CPython builds it: one lock around a `VecDeque` and a
//! count of unfinished tasks, and three conditions that all use that lock: `not_empty` (getters
//! wait on it), `not_full` (putters wait on it while the queue is at `maxsize`) and
//! `all_tasks_done` (`join` waits on it until every item put has been marked done).
//!
//! Check your work: `cargo xtask check python_queue`

use std::collections::VecDeque;

use synclab::{Condition, Lock};

/// What the lock protects.
struct State<T> {
    items: VecDeque<T>,
    /// Items put and not yet marked done by `task_done` (Python's `unfinished_tasks`).
    unfinished: usize,
}

/// `task_done` was called more times than items were put (Python raises `ValueError`).
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyTaskDone;

/// A first-in, first-out queue: Python's `queue.Queue(maxsize)`.
pub struct PyQueue<T> {
    /// At most this many items; 0 means unbounded, as in Python.
    maxsize: usize,
    state: Lock<State<T>>,
    /// Signalled when an item is added: getters wait on it.
    not_empty: Condition,
    /// Signalled when an item is removed: putters wait on it while the queue is full.
    not_full: Condition,
    /// Signalled when the unfinished count reaches 0: `join` waits on it.
    all_tasks_done: Condition,
}

impl<T> PyQueue<T> {
    /// A queue holding at most `maxsize` items (`0`: no limit).
    pub fn new(maxsize: usize) -> Self {
        PyQueue {
            maxsize,
            state: Lock::new(State {
                items: VecDeque::new(),
                unfinished: 0,
            }),
            not_empty: Condition::new(),
            not_full: Condition::new(),
            all_tasks_done: Condition::new(),
        }
    }

    /// How many items are queued now (Python's `qsize()`; a snapshot).
    pub fn qsize(&self) -> usize {
        self.state.lock().items.len()
    }

    /// Adds `item`, waiting while the queue is full.
    pub fn put(&self, item: T) {
        // TODO: lock the state; wait on `not_full` while the queue is bounded (`maxsize > 0`)
        // and full; push the item, count one more unfinished task, and tell one getter.
        todo!()
    }

    /// Removes and returns the oldest item, waiting while the queue is empty.
    pub fn get(&self) -> T {
        // TODO: lock the state; wait on `not_empty` while there is no item; take the oldest
        // one and tell one putter that there is room.
        todo!()
    }

    /// Marks one item as processed. `Err` if there is no unfinished item.
    pub fn task_done(&self) -> Result<(), TooManyTaskDone> {
        // TODO: under the lock, refuse when nothing is unfinished; otherwise count one task
        // less, and when that makes zero, wake *every* thread in `join`.
        todo!()
    }

    /// Waits until every item put has been marked done with `task_done`.
    pub fn join(&self) {
        // TODO: wait on `all_tasks_done` until the unfinished count is zero.
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::time::Duration;

    #[test]
    fn items_come_out_in_the_order_they_went_in() {
        let q = PyQueue::new(0);
        for c in ['a', 'b', 'c'] {
            q.put(c);
        }
        assert_eq!(q.qsize(), 3);
        assert_eq!([q.get(), q.get(), q.get()], ['a', 'b', 'c']);
        assert_eq!(q.qsize(), 0);
    }

    #[test]
    fn task_done_without_an_unfinished_item_is_an_error() {
        let q = PyQueue::new(0);
        assert_eq!(q.task_done(), Err(TooManyTaskDone));
        q.put(1);
        assert_eq!(q.get(), 1);
        assert_eq!(q.task_done(), Ok(()));
        assert_eq!(q.task_done(), Err(TooManyTaskDone));
        q.join(); // nothing unfinished: returns at once
    }

    #[test]
    fn producers_and_consumers_pass_every_item_exactly_once() {
        let per_producer = common::scaled(3_000);
        let (producers, consumers) = (3, 2);
        let total = producers * per_producer;
        common::guarded("python_queue_mpmc", |status| {
            let q = PyQueue::new(4);
            let got = Lock::new(Vec::new());
            std::thread::scope(|s| {
                for p in 0..producers {
                    let q = &q;
                    s.spawn(move || {
                        for i in 0..per_producer {
                            status.set(format!("producer {p}"), format!("put #{i}"));
                            q.put(p * per_producer + i);
                        }
                        status.set(format!("producer {p}"), "done");
                    });
                }
                for c in 0..consumers {
                    let (q, got) = (&q, &got);
                    s.spawn(move || {
                        let mut mine = Vec::new();
                        for i in 0..total / consumers {
                            status.set(format!("consumer {c}"), format!("get #{i}"));
                            mine.push(q.get());
                            q.task_done().unwrap();
                        }
                        got.lock().extend(mine);
                        status.set(format!("consumer {c}"), "done");
                    });
                }
                status.set("main", "in join");
                q.join();
                status.set("main", "joined");
            });
            let mut got = got.into_inner();
            got.sort_unstable();
            assert_eq!(got, (0..total).collect::<Vec<_>>());
        });
    }

    #[test]
    fn put_blocks_while_the_queue_is_full() {
        common::guarded("python_queue_put_blocks", |status| {
            let q = PyQueue::new(1);
            let second_put_done = AtomicBool::new(false);
            q.put(1);
            std::thread::scope(|s| {
                s.spawn(|| {
                    status.set("putter", "put(2) into a full queue");
                    q.put(2);
                    second_put_done.store(true, SeqCst);
                    status.set("putter", "done");
                });
                std::thread::sleep(Duration::from_millis(50));
                assert!(
                    !second_put_done.load(SeqCst),
                    "put returned while the queue was full"
                );
                status.set("main", "get() to make room");
                assert_eq!(q.get(), 1);
            });
            assert!(second_put_done.load(SeqCst));
            assert_eq!(q.get(), 2);
        });
    }

    #[test]
    fn every_joiner_returns_when_the_last_task_is_done() {
        // Several threads may `join` at once, and the last `task_done` must release them all.
        common::guarded("pyqueue_joiners", |status| {
            let q = PyQueue::new(0);
            q.put(1);
            let returned = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|s| {
                for i in 0..3 {
                    let (q, returned) = (&q, &returned);
                    s.spawn(move || {
                        status.set(format!("joiner {i}"), "in join()");
                        q.join();
                        returned.fetch_add(1, SeqCst);
                        status.set(format!("joiner {i}"), "returned");
                    });
                }
                // Time for the joiners to fall asleep (if one is late, it finds the count at
                // zero and returns at once: the test still passes for a right solution).
                std::thread::sleep(Duration::from_millis(50));
                assert_eq!(
                    returned.load(SeqCst),
                    0,
                    "join returned with a task unfinished"
                );
                assert_eq!(q.get(), 1);
                q.task_done().unwrap();
            });
            assert_eq!(returned.load(SeqCst), 3);
        });
    }

    #[test]
    fn join_waits_for_every_task_done() {
        common::guarded("python_queue_join", |status| {
            let q = PyQueue::new(0);
            let joined = AtomicBool::new(false);
            for i in 0..3 {
                q.put(i);
            }
            std::thread::scope(|s| {
                s.spawn(|| {
                    status.set("joiner", "in join");
                    q.join();
                    joined.store(true, SeqCst);
                    status.set("joiner", "joined");
                });
                for _ in 0..3 {
                    q.get();
                    std::thread::sleep(Duration::from_millis(10));
                    assert!(!joined.load(SeqCst), "join returned before task_done");
                    status.set("main", "task_done");
                    q.task_done().unwrap();
                }
            });
            assert!(joined.load(SeqCst));
        });
    }
}
