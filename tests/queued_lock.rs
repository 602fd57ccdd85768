//! `RawLock`, the queued lock of issue 14 (`src/queued_lock.rs`, tuning log entries 17, 21 and
//! 22), under real threads: more threads than the machine's 2 cores, a watchdog, exact counts,
//! an "inside" flag that two holders at once would trip, and waiters with short deadlines that
//! time out and leave the queue while others sleep in it.

mod common;

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use synclab::RawLock;

/// A counter behind the queued lock.
#[derive(Default)]
struct Counter {
    lock: RawLock,
    inside: AtomicBool,
    value: UnsafeCell<usize>,
}

// SAFETY: `value` is touched only with `lock` held.
unsafe impl Sync for Counter {}

impl Counter {
    /// One locked increment, split into a read and a write so a second holder would lose
    /// updates; `how` picks the unlock (odd: `unlock_fair`), a `try_lock` first (`% 3 == 2`),
    /// 20 µs deadlines retried until one succeeds (`% 5 == 4`) and a yield inside the critical
    /// section (`% 97 == 96`).
    fn add(&self, how: usize) {
        if how % 3 != 2 || !self.lock.try_lock() {
            if how % 5 == 4 {
                let patience = Duration::from_micros(20);
                while !self.lock.lock_until(Some(Instant::now() + patience)) {}
            } else {
                self.lock.lock();
            }
        }
        assert!(!self.inside.swap(true, SeqCst), "two holders at once");
        // SAFETY: the lock is held, so this is the only access.
        unsafe {
            let v = *self.value.get();
            if how % 97 == 96 {
                // Now and then a long critical section, so that waiters run out of spins and park.
                std::thread::yield_now();
            }
            *self.value.get() = v + 1;
        }
        self.inside.store(false, SeqCst);
        // SAFETY: this thread holds the lock.
        unsafe {
            if how % 2 == 1 {
                self.lock.unlock_fair();
            } else {
                self.lock.unlock();
            }
        }
    }
}

fn hammer(name: &str, threads: usize, iters: usize, mix: bool) {
    common::guarded(name, |status| {
        let c = Counter::default();
        let done = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..threads {
                let (c, done) = (&c, &done);
                s.spawn(move || {
                    for i in 0..iters {
                        c.add(if mix { i + t } else { i % 97 * 2 });
                        if i % 10_000 == 0 {
                            status.set(format!("thread {t}"), format!("{i} of {iters}"));
                        }
                    }
                    done.fetch_add(1, SeqCst);
                    status.set(format!("thread {t}"), "done");
                });
            }
        });
        assert_eq!(done.load(SeqCst), threads);
        assert!(!c.lock.is_locked());
        assert_eq!(c.value.into_inner(), threads * iters);
    });
}

#[test]
fn eight_threads_on_two_cores_lose_nothing() {
    hammer("queued_8", 8, common::scaled(100_000), false);
}

#[test]
fn sixteen_threads_mixing_unlock_fair_and_try_lock() {
    hammer("queued_16_mixed", 16, common::scaled(20_000), true);
}

#[test]
fn many_locks_share_the_buckets() {
    // 200 locks over 64 buckets: queues hold nodes of several locks, and a dequeue must take
    // the right one (and report "more" only for its own lock).
    const LOCKS: usize = 200;
    let iters = common::scaled(2_000);
    common::guarded("queued_many_locks", |_| {
        let counters: Vec<Counter> = (0..LOCKS).map(|_| Counter::default()).collect();
        std::thread::scope(|s| {
            for t in 0..8 {
                let counters = &counters;
                s.spawn(move || {
                    for i in 0..iters {
                        counters[(i * 7 + t) % LOCKS].add(i);
                        counters[(i * 13 + t * 3) % 4].add(i);
                    }
                });
            }
        });
        let total: usize = counters.into_iter().map(|c| c.value.into_inner()).sum();
        assert_eq!(total, 8 * iters * 2);
    });
}
