//! # Exercise `collect_ids` — Part I, "Ten workers and a queue"
//!
//! The notes' program, made safe: `workers` threads each do some work, then put their id into
//! a `synclab::Queue`, and `collect_ids` returns every id, in the order they arrived. Avoid
//! both traps of the chapter:
//!
//! - `is_empty()` is a snapshot: a loop `while !q.is_empty()` that runs while workers are
//!   still busy stops early. Know how many items to expect instead (or `shutdown` the queue
//!   once every worker is done, and `get` until it fails);
//! - joining before draining deadlocks when the queue is *bounded* and smaller than the number
//!   of workers: the workers wait in `put` for room, and the joiner waits for the workers. And
//!   a `std::thread::scope` joins its threads when it ends.
//!
//! Check your work: `cargo xtask check collect_ids`

use synclab::Queue;

/// Starts `workers` threads; worker `id` calls `work(id)` and then puts `id` into a queue that
/// holds at most `capacity` items (`None`: no limit). Returns the ids in the order they came
/// out of the queue.
///
/// # Panics
///
/// If `capacity` is `Some(0)`.
pub fn collect_ids<W>(workers: usize, capacity: Option<usize>, work: W) -> Vec<usize>
where
    W: Fn(usize) + Sync,
{
    let q = match capacity {
        Some(capacity) => Queue::bounded(capacity),
        None => Queue::new(),
    };
    std::thread::scope(|s| {
        for id in 0..workers {
            let (q, work) = (&q, &work);
            s.spawn(move || {
                work(id); // the notes' `time.sleep(random.randint(1, 3))`
                q.put(id).expect("nobody shuts the queue down");
            });
        }
        // Drain *inside* the scope, before it joins the workers: with a bounded queue, the
        // workers still blocked in `put` are waiting for exactly these `get`s. And count rather
        // than ask `is_empty()`: one id per worker, so `workers` gets, each of which waits for
        // its item if it is not there yet.
        (0..workers)
            .map(|_| q.get().expect("nobody shuts the queue down"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;

    /// Sorted, the ids must be exactly `0..n`: each one once.
    fn assert_each_id_once(mut ids: Vec<usize>, n: usize) {
        ids.sort_unstable();
        assert_eq!(ids, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn ten_workers_unbounded_queue() {
        common::guarded("collect_ids_unbounded", |_| {
            let calls = AtomicUsize::new(0);
            let ids = collect_ids(10, None, |_| {
                calls.fetch_add(1, SeqCst);
            });
            assert_each_id_once(ids, 10);
            assert_eq!(calls.load(SeqCst), 10, "work once per worker");
        });
    }

    #[test]
    fn a_queue_smaller_than_the_workers_does_not_deadlock() {
        // Joining before draining hangs here; the watchdog reports it after 10 s.
        common::watchdog("collect_ids_bounded", Duration::from_secs(10), |status| {
            for capacity in [2, 1] {
                status.set("main", format!("10 workers, Queue::bounded({capacity})"));
                assert_each_id_once(collect_ids(10, Some(capacity), |_| {}), 10);
            }
        });
    }

    #[test]
    fn slow_workers_are_waited_for() {
        // Worker 0 is the slowest (the notes' workers sleep 1 to 3 s): a drain that stops at
        // the first empty queue misses it; a bounded drain must wait for it too.
        common::watchdog("collect_ids_slow", Duration::from_secs(10), |status| {
            for capacity in [None, Some(2)] {
                status.set("main", format!("capacity {capacity:?}, worker 0 sleeps"));
                let ids = collect_ids(10, capacity, |id| {
                    if id == 0 {
                        std::thread::sleep(Duration::from_millis(30));
                    }
                });
                assert_each_id_once(ids, 10);
            }
        });
    }
}
