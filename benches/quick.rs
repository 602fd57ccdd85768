//! Quick comparison: synclab against its peers in one run, for a fast check while tuning. The
//! full suite is `benches/{lock,signal,queue,pool}.rs`, run and reported by `cargo xtask bench`.
//!
//! ```text
//! cargo bench --bench quick
//! ```
//!
//! - `lock/uncontended`: one lock + unlock, one thread: `synclab::Lock` vs `std::sync::Mutex`
//!   vs `parking_lot::Mutex`.
//! - `lock/contended2`: 2 threads incrementing one counter under the lock; time per increment.
//! - `queue/spsc_bounded1024`: one producer, one consumer, 10 000 items through a
//!   1024-slot queue: `synclab::Queue` vs `crossbeam_channel::bounded`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

// ANCHOR: locks
/// A lock as the benchmarks see it: lock, increment, unlock.
trait BenchLock: Sync + Default {
    fn incr(&self);
}

impl BenchLock for synclab::Lock<u64> {
    #[inline]
    fn incr(&self) {
        *self.lock() += 1;
    }
}

impl BenchLock for std::sync::Mutex<u64> {
    #[inline]
    fn incr(&self) {
        *self.lock().unwrap() += 1;
    }
}

impl BenchLock for parking_lot::Mutex<u64> {
    #[inline]
    fn incr(&self) {
        *self.lock() += 1;
    }
}

fn uncontended<L: BenchLock>(c: &mut Criterion, name: &str) {
    let lock = L::default();
    c.bench_function(&format!("lock/uncontended/{name}"), |b| {
        b.iter(|| black_box(&lock).incr())
    });
}

/// `iters` increments split over `threads` threads; returns the wall time.
fn contended_run<L: BenchLock>(threads: usize, iters: u64) -> Duration {
    let lock = L::default();
    let per = iters / threads as u64 + 1;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per {
                    lock.incr();
                }
            });
        }
    });
    start.elapsed()
}

fn contended<L: BenchLock>(c: &mut Criterion, name: &str, threads: usize) {
    c.bench_function(&format!("lock/contended{threads}/{name}"), |b| {
        b.iter_custom(|iters| contended_run::<L>(threads, iters))
    });
}

fn locks(c: &mut Criterion) {
    uncontended::<synclab::Lock<u64>>(c, "synclab");
    uncontended::<std::sync::Mutex<u64>>(c, "std");
    uncontended::<parking_lot::Mutex<u64>>(c, "parking_lot");
    contended::<synclab::Lock<u64>>(c, "synclab", 2);
    contended::<std::sync::Mutex<u64>>(c, "std", 2);
    contended::<parking_lot::Mutex<u64>>(c, "parking_lot", 2);
}
// ANCHOR_END: locks

// ANCHOR: queues
/// One producer and one consumer move `items` items through a queue; returns the wall time.
fn spsc_run<Q: Sync>(
    q: &Q,
    items: u64,
    put: impl Fn(&Q, u64) + Sync,
    get: impl Fn(&Q) -> u64 + Sync,
) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..items {
                put(q, i);
            }
        });
        let mut sum = 0u64;
        for _ in 0..items {
            sum = sum.wrapping_add(get(q));
        }
        black_box(sum);
    });
    start.elapsed()
}

fn queues(c: &mut Criterion) {
    const ITEMS: u64 = 10_000;
    let mut g = c.benchmark_group("queue/spsc_bounded1024");
    g.throughput(criterion::Throughput::Elements(ITEMS));
    g.bench_function("synclab", |b| {
        b.iter_custom(|iters| {
            let q = synclab::Queue::bounded(1024);
            (0..iters)
                .map(|_| spsc_run(&q, ITEMS, |q, i| q.put(i).unwrap(), |q| q.get().unwrap()))
                .sum()
        })
    });
    g.bench_function("crossbeam", |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = crossbeam_channel::bounded(1024);
            let q = (tx, rx);
            (0..iters)
                .map(|_| {
                    spsc_run(
                        &q,
                        ITEMS,
                        |q, i| q.0.send(i).unwrap(),
                        |q| q.1.recv().unwrap(),
                    )
                })
                .sum()
        })
    });
    g.finish();
}
// ANCHOR_END: queues

// ANCHOR: config
criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = locks, queues
}
criterion_main!(benches);
// ANCHOR_END: config
