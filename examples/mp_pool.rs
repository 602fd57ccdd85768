//! The notes' `mp_pool.py` as it reads there: `Pool(processes=2)`, two `apply_async(countdown,
//! half)`, `close()`, `join()`, timed, on a `synclab::process::Pool` of two worker processes,
//! beside one thread and the thread `synclab::Pool` of two. The default count is the `pool`
//! example's 200,000,000 (Rust counts the notes' 50,000,000 too fast to time processes well).
//!
//! ```text
//! cargo run --release --features serde --example mp_pool
//! cargo run --release --features serde --example mp_pool -- --count 50000000 --runs 5
//! ```
//!
//! As in the notes, the clock starts after the pool exists: the workers (this program started
//! again, the spawn way) are already running. Their start-up is printed on its own line. The
//! timed part includes sending each half to a worker and its result back through a pipe, and
//! `join`, which waits for both workers to exit.

use std::hint::black_box;
use std::time::{Duration, Instant};

use synclab::process;

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
/// `mp_pool.py`, line for line, on two worker processes. Returns the pool's start-up, the
/// timed part and the steps counted.
fn process_pool(count: u64) -> (Duration, Duration, u64) {
    let started = Instant::now();
    let pool = process::Pool::new(2).expect("Linux only"); // pool = Pool(processes=2)
    let spawn = started.elapsed();
    let start = Instant::now(); // start = time.time()
    let r1 = pool.apply_async(countdown, count / 2); // r1 = pool.apply_async(countdown, [COUNT//2])
    let r2 = pool.apply_async(countdown, count / 2); // r2 = pool.apply_async(countdown, [COUNT//2])
    pool.close(); // pool.close()
    pool.join(); // pool.join()
    let elapsed = start.elapsed(); // end = time.time()
    // `get()` is `Err(TaskError)` if the task panicked or its worker died (the notes never
    // look; here the counts are checked).
    (spawn, elapsed, r1.get().unwrap() + r2.get().unwrap())
}
// ANCHOR_END: processes

/// The same on the thread `synclab::Pool` of two (its closures may capture `count`).
fn thread_pool(count: u64) -> (Duration, u64) {
    let pool = synclab::Pool::new(2);
    let start = Instant::now();
    let r1 = pool.apply_async(move || countdown(count / 2));
    let r2 = pool.apply_async(move || countdown(count / 2));
    pool.close();
    pool.join();
    (start.elapsed(), r1.get().unwrap() + r2.get().unwrap())
}

fn main() {
    process::init(); // a pool worker stops here: it serves tasks, then exits
    let count = arg("--count", 200_000_000u64);
    let runs = arg("--runs", 3).max(1);
    println!(
        "countdown of {count}: 1 thread vs thread Pool(2) vs process Pool(2), two apply_async halves each (best of {runs})"
    );
    let (mut one, mut threads, mut procs, mut spawn) =
        (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
    let mut ok = true;
    for _ in 0..runs {
        let start = Instant::now();
        ok &= countdown(count) == count;
        one = one.min(start.elapsed());
        let (t, steps) = thread_pool(count);
        ok &= steps == count / 2 * 2;
        threads = threads.min(t);
        let (s, t, steps) = process_pool(count);
        ok &= steps == count / 2 * 2;
        procs = procs.min(t);
        spawn = spawn.min(s);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let x = |d: Duration| one.as_secs_f64() / d.as_secs_f64();
    println!("  1 thread          : {:>7.1} ms", ms(one));
    println!(
        "  thread Pool(2)    : {:>7.1} ms   {:.2}x",
        ms(threads),
        x(threads)
    );
    println!(
        "  process Pool(2)   : {:>7.1} ms   {:.2}x (after Pool::new, as the notes time it)",
        ms(procs),
        x(procs)
    );
    println!(
        "  process Pool::new(2): {:.1} ms to start both workers",
        ms(spawn)
    );
    println!(
        "TOUR|mp_pool|Pool(processes=2): about twice as fast as one process on 2 cores|1 thread {:.1} ms, thread Pool(2) {:.1} ms ({:.2}x), process Pool(2) {:.1} ms ({:.2}x; its start-up {:.1} ms)",
        ms(one),
        ms(threads),
        x(threads),
        ms(procs),
        x(procs),
        ms(spawn)
    );
    if !ok {
        eprintln!("BUG: a countdown result was wrong");
        std::process::exit(1);
    }
}
