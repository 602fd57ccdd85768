//! `Lock` against `std::sync::Mutex` and `parking_lot::Mutex`; `RLock` against
//! `parking_lot::ReentrantMutex`.
//!
//! ```text
//! cargo bench --bench lock                 # all of them
//! cargo bench --bench lock -- contended8   # the groups whose name matches
//! ```
//!
//! Each criterion group holds one comparison: synclab and its peers, measured one after the other
//! in the same run. `cargo xtask bench` turns the groups into a table of ratios.

use std::cell::Cell;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::{Futex, busy, share, timed_threads};

/// Rounds of [`busy`] in a "long" critical section: some 50–100 ns of work under the lock.
const LONG: u32 = 32;

// ANCHOR: locks
/// A lock as the benchmarks see it: lock, run `f` on the counter, unlock.
trait BenchLock: Sync + Default {
    fn with(&self, f: impl FnOnce(&mut u64));
}

impl BenchLock for synclab::Lock<u64> {
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock());
    }
}

impl BenchLock for std::sync::Mutex<u64> {
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock().unwrap());
    }
}

impl BenchLock for parking_lot::Mutex<u64> {
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        f(&mut self.lock());
    }
}
// ANCHOR_END: locks

/// `FutexLock`, the three-state lock `Lock` used before issue 14, as `synclab_futex` beside it.
/// (`cargo xtask bench` never counts a `synclab*` function as a peer.)
impl BenchLock for Futex {
    #[inline]
    fn with(&self, f: impl FnOnce(&mut u64)) {
        Futex::with(self, f);
    }
}

// ANCHOR: contended
/// `iters` critical sections shared by `threads` threads on one lock; the wall time.
fn contended_run<L: BenchLock>(threads: usize, rounds: u32, iters: u64) -> std::time::Duration {
    let lock = L::default();
    let per = share(iters, threads);
    timed_threads(threads, |_| {
        for _ in 0..per {
            lock.with(|n| {
                *n += 1;
                busy(n, rounds);
            });
        }
    })
}

fn lock_group<L1: BenchLock, L2: BenchLock, L3: BenchLock>(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock/uncontended");
    fn one<L: BenchLock>(b: &mut criterion::Bencher) {
        let lock = L::default();
        b.iter(|| black_box(&lock).with(|n| *n += 1));
    }
    g.bench_function("synclab", one::<L1>);
    g.bench_function("std", one::<L2>);
    g.bench_function("parking_lot", one::<L3>);
    g.finish();

    for threads in [2, 4, 8] {
        for (section, rounds) in [("short", 0), ("long", LONG)] {
            let mut g = c.benchmark_group(format!("lock/contended{threads}_{section}"));
            g.bench_function("synclab", |b| {
                b.iter_custom(|iters| contended_run::<L1>(threads, rounds, iters))
            });
            g.bench_function("std", |b| {
                b.iter_custom(|iters| contended_run::<L2>(threads, rounds, iters))
            });
            g.bench_function("parking_lot", |b| {
                b.iter_custom(|iters| contended_run::<L3>(threads, rounds, iters))
            });
            g.bench_function("synclab_futex", |b| {
                b.iter_custom(|iters| contended_run::<Futex>(threads, rounds, iters))
            });
            g.finish();
        }
    }
}
// ANCHOR_END: contended

fn locks(c: &mut Criterion) {
    lock_group::<synclab::Lock<u64>, std::sync::Mutex<u64>, parking_lot::Mutex<u64>>(c);
}

/// A re-entrant lock: lock (from the thread that may already hold it), run `f`, unlock.
trait BenchRLock: Sync + Default {
    fn with(&self, f: impl FnOnce(&Cell<u64>));
}

impl BenchRLock for synclab::RLock<Cell<u64>> {
    #[inline]
    fn with(&self, f: impl FnOnce(&Cell<u64>)) {
        f(&self.lock());
    }
}

impl BenchRLock for parking_lot::ReentrantMutex<Cell<u64>> {
    #[inline]
    fn with(&self, f: impl FnOnce(&Cell<u64>)) {
        f(&self.lock());
    }
}

fn rlock_contended<R: BenchRLock>(iters: u64) -> std::time::Duration {
    let lock = R::default();
    let per = share(iters, 2);
    timed_threads(2, |_| {
        for _ in 0..per {
            lock.with(|n| n.set(n.get() + 1));
        }
    })
}

fn rlock_groups<R1: BenchRLock, R2: BenchRLock>(c: &mut Criterion) {
    let mut g = c.benchmark_group("rlock/uncontended");
    fn once<R: BenchRLock>(b: &mut criterion::Bencher) {
        let lock = R::default();
        b.iter(|| black_box(&lock).with(|n| n.set(n.get() + 1)));
    }
    g.bench_function("synclab", once::<R1>);
    g.bench_function("parking_lot", once::<R2>);
    g.finish();

    // The re-entrant path: lock, then lock again from inside (depth 2), unlock both.
    let mut g = c.benchmark_group("rlock/reentrant2");
    fn twice<R: BenchRLock>(b: &mut criterion::Bencher) {
        let lock = R::default();
        b.iter(|| black_box(&lock).with(|_| lock.with(|n| n.set(n.get() + 1))));
    }
    g.bench_function("synclab", twice::<R1>);
    g.bench_function("parking_lot", twice::<R2>);
    g.finish();

    let mut g = c.benchmark_group("rlock/contended2");
    g.bench_function("synclab", |b| b.iter_custom(rlock_contended::<R1>));
    g.bench_function("parking_lot", |b| b.iter_custom(rlock_contended::<R2>));
    g.finish();
}

fn rlocks(c: &mut Criterion) {
    rlock_groups::<synclab::RLock<Cell<u64>>, parking_lot::ReentrantMutex<Cell<u64>>>(c);
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = locks, rlocks
}
criterion_main!(benches);
