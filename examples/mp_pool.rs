//! The notes' countdown (`mp_pool.py`) split across 2 processes, against 2 threads and 1 thread,
//! timed. The default count is the `pool` example's 200,000,000 (Rust counts 50,000,000 too
//! fast to time processes well).
//!
//! ```text
//! cargo run --release --example mp_pool
//! cargo run --release --example mp_pool -- --count 50000000 --runs 5
//! ```
//!
//! Each child counts its half and writes the result into a `Shared<[AtomicU64; 2]>`; the
//! process figure includes starting the two children (spawn, not fork: a fresh copy of this
//! program) and reaping them.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use synclab::process::{self, Command, Shared};

mod common;
use common::arg;

/// The notes' `countdown(n)`; returns how many times it counted. `#[inline(never)]`, as in
/// the `pool` example, so that every variant runs the same machine code.
#[inline(never)]
fn countdown(n: u64) -> u64 {
    let mut n = n;
    let mut steps = 0;
    while black_box(n) > 0 {
        n -= 1;
        steps += 1;
    }
    steps
}

// ANCHOR: processes
/// Two child processes, each counting `count / 2`.
fn two_processes(count: u64) -> (Duration, u64) {
    let results = Shared::new([AtomicU64::new(0), AtomicU64::new(0)]).expect("Linux only");
    let start = Instant::now();
    let children: Vec<_> = (0..2)
        .map(|i| {
            Command::new("count")
                .env("INDEX", i.to_string())
                .env("COUNT", (count / 2).to_string())
                .share(&results)
                .spawn()
                .expect("start a child")
        })
        .collect();
    for child in children {
        assert!(child.join().unwrap().success());
    }
    let elapsed = start.elapsed();
    (elapsed, results[0].load(Relaxed) + results[1].load(Relaxed))
}
// ANCHOR_END: processes

fn two_threads(count: u64) -> (Duration, u64) {
    let start = Instant::now();
    let steps = std::thread::scope(|s| {
        let a = s.spawn(|| countdown(count / 2));
        let b = s.spawn(|| countdown(count / 2));
        a.join().unwrap() + b.join().unwrap()
    });
    (start.elapsed(), steps)
}

fn main() {
    if process::role().as_deref() == Some("count") {
        let results = Shared::<[AtomicU64; 2]>::inherited(0).unwrap();
        let i: usize = std::env::var("INDEX").unwrap().parse().unwrap();
        let n: u64 = std::env::var("COUNT").unwrap().parse().unwrap();
        results[i].store(countdown(n), Relaxed);
        return;
    }
    let count = arg("--count", 200_000_000u64);
    let runs = arg("--runs", 3).max(1);
    println!("countdown of {count}: 1 thread vs 2 threads vs 2 processes (best of {runs})");
    let (mut one, mut threads, mut procs) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let mut ok = true;
    for _ in 0..runs {
        let start = Instant::now();
        ok &= countdown(count) == count;
        one = one.min(start.elapsed());
        let (t, steps) = two_threads(count);
        ok &= steps == count / 2 * 2;
        threads = threads.min(t);
        let (t, steps) = two_processes(count);
        ok &= steps == count / 2 * 2;
        procs = procs.min(t);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let x = |d: Duration| one.as_secs_f64() / d.as_secs_f64();
    println!("  1 thread      : {:>7.1} ms", ms(one));
    println!(
        "  2 threads     : {:>7.1} ms   {:.2}x",
        ms(threads),
        x(threads)
    );
    println!(
        "  2 processes   : {:>7.1} ms   {:.2}x (spawn included)",
        ms(procs),
        x(procs)
    );
    println!(
        "TOUR|mp_pool|Pool(processes=2): about twice as fast as one process on 2 cores|1 thread {:.1} ms, 2 threads {:.1} ms ({:.2}x), 2 processes {:.1} ms ({:.2}x)",
        ms(one),
        ms(threads),
        x(threads),
        ms(procs),
        x(procs)
    );
    if !ok {
        eprintln!("BUG: a countdown result was wrong");
        std::process::exit(1);
    }
}
