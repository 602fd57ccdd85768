//! `Pool` against a thread per task, and the notes' countdown on one and two threads.
//!
//! ```text
//! cargo bench --bench pool
//! ```

use std::hint::black_box;
use std::thread;
use std::time::Instant;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

mod common;

/// At most this many threads alive at once in the thread-per-task contestant, so that a large
/// sample does not start thousands of threads together.
const WINDOW: usize = 64;

/// The task: a little arithmetic that cannot be optimized away.
fn task(i: u64) -> u64 {
    black_box(i).wrapping_mul(31).wrapping_add(7)
}

// ANCHOR: pool
fn pools(c: &mut Criterion) {
    // One iteration is one task submitted and its result collected. The pool (2 workers, the
    // machine's 2 cores) starts once per sample, outside the timed region.
    let mut g = c.benchmark_group("pool/tasks");
    g.bench_function("synclab", |b| {
        b.iter_custom(|iters| {
            let pool = synclab::Pool::new(2);
            let start = Instant::now();
            let results: Vec<_> = (0..iters)
                .map(|i| pool.apply_async(move || task(i)))
                .collect();
            let sum = results
                .into_iter()
                .fold(0u64, |s, r| s.wrapping_add(r.get().unwrap()));
            let elapsed = start.elapsed();
            black_box(sum);
            elapsed
        })
    });
    g.bench_function("thread_per_task", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let mut sum = 0u64;
            let mut next = 0;
            while next < iters {
                let end = (next + WINDOW as u64).min(iters);
                let handles: Vec<_> = (next..end)
                    .map(|i| thread::spawn(move || task(i)))
                    .collect();
                for h in handles {
                    sum = sum.wrapping_add(h.join().unwrap());
                }
                next = end;
            }
            let elapsed = start.elapsed();
            black_box(sum);
            elapsed
        })
    });
    g.finish();
}
// ANCHOR_END: pool

// ANCHOR: countdown
/// Counted down per iteration: 20 million, some 10–40 ms of work.
const COUNT: u64 = 20_000_000;

/// The notes' `countdown(n)`, as in `examples/countdown.rs`: `black_box` keeps every one of the
/// `n` iterations, `inline(never)` makes every caller run the same machine code.
#[inline(never)]
fn countdown(n: u64) {
    let mut n = n;
    while black_box(n) > 0 {
        n -= 1;
    }
}

fn countdowns(c: &mut Criterion) {
    let mut g = c.benchmark_group("countdown");
    // Long iterations: a fixed number per sample, 10 samples.
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.bench_function("1_thread", |b| b.iter(|| countdown(COUNT)));
    g.bench_function("2_threads", |b| {
        b.iter(|| {
            thread::scope(|s| {
                s.spawn(|| countdown(COUNT / 2));
                s.spawn(|| countdown(COUNT / 2));
            })
        })
    });
    g.finish();
}
// ANCHOR_END: countdown

criterion_group! {
    name = benches;
    config = common::config();
    targets = pools, countdowns
}
criterion_main!(benches);
