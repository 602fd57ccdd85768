//! Quick comparison: synclab against its peers in one run (the full suite is its own issue).
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

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = locks
}
criterion_main!(benches);
