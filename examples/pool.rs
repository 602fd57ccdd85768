//! The notes' `Pool(processes=2)` (`mp_pool.py`): the countdown split into two `apply_async`
//! jobs on a pool of two workers, then `close()` and `join()`, timed against one thread doing
//! the whole count. As in the `countdown` example, the default count is four times the notes'
//! 50,000,000, because Rust counts that far in about 20 ms, too short to time threads well.
//!
//! ```text
//! cargo run --release --example pool
//! cargo run --release --example pool -- --count 50000000 --runs 5   # the notes' COUNT
//! ```
//!
//! The pool is `synclab::Pool`: worker threads taking boxed jobs from a `synclab::Queue`, each
//! job answering through its own result slot (the Part II chapter "Pool" takes it apart).

use std::hint::black_box;
use std::panic;
use std::time::{Duration, Instant};

use synclab::{Pool, TaskError};

mod common;
use common::arg;

/// The notes' `countdown(n)` (see the `countdown` example for `black_box`). Returns how many
/// times it counted, so that the results can be checked.
///
/// `#[inline(never)]`, as in the `countdown` example: the one-thread run and the pool's jobs
/// must run the same machine code. Inlined into each caller, the loop compiled differently
/// in `main` and in the jobs' closures, and the "speed-up" measured code layout (3x on 2 cores).
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

// ANCHOR: notes
/// `mp_pool.py`: two halves on a pool of two.
fn pool_run(count: u64) -> (Duration, u64) {
    let pool = Pool::new(2); // pool = Pool(processes=2)
    let start = Instant::now(); // start = time.time()
    let r1 = pool.apply_async(move || countdown(count / 2)); // r1 = pool.apply_async(...)
    let r2 = pool.apply_async(move || countdown(count / 2)); // r2 = pool.apply_async(...)
    pool.close(); // pool.close()
    pool.join(); // pool.join()
    let elapsed = start.elapsed(); // end = time.time()
    // r1.get(), r2.get(): each is `Err(TaskError)` only if its job panicked.
    (elapsed, r1.get().unwrap() + r2.get().unwrap())
}
// ANCHOR_END: notes

// ANCHOR: panicking_job
/// A job that panics, then another on the same (only) worker. Python's `get()` re-raises the
/// job's exception; here `get()` returns it as `Err(TaskError::Panicked)`, with the message.
fn panicking_job() -> (bool, bool) {
    let pool = Pool::new(1);
    let bad = pool.apply_async(|| -> u64 { panic!("a job failed") });
    let good = pool.apply_async(|| countdown(1000));
    let reported =
        matches!(bad.get(), Err(TaskError::Panicked(p)) if p.message() == Some("a job failed"));
    let next_ran = good.get() == Ok(1000);
    (reported, next_ran) // dropping the pool closes and joins it
}
// ANCHOR_END: panicking_job

fn main() {
    let count = arg("--count", 200_000_000);
    let runs = arg("--runs", 3).max(1);
    println!(
        "countdown of {count}: one thread vs Pool(2) with two apply_async halves (best of {runs})"
    );

    let mut one = Duration::MAX;
    let mut pooled = Duration::MAX;
    let mut ok = true;
    for _ in 0..runs {
        let start = Instant::now();
        ok &= countdown(count) == count;
        one = one.min(start.elapsed());

        let (t, steps) = pool_run(count);
        ok &= steps == count / 2 * 2;
        pooled = pooled.min(t);
    }

    // A job that panics: the worker survives, and get() reports the panic as an Err.
    let prev_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {})); // keep the expected panic quiet
    let (reported, next_ran) = panicking_job();
    panic::set_hook(prev_hook);
    ok &= reported && next_ran;

    let speedup = one.as_secs_f64() / pooled.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("  one thread            : {:>7.1} ms", ms(one));
    println!(
        "  Pool(2), 2 x COUNT/2  : {:>7.1} ms   {speedup:.2}x",
        ms(pooled)
    );
    println!(
        "  a panicking job: get() reported it: {reported}; the next job on its worker ran: {next_ran}"
    );
    println!(
        "TOUR|pool|Pool(processes=2) with two apply_async halves: about twice as fast as one process on 2 cores|1 thread {:.1} ms, pool of 2 {:.1} ms: {speedup:.2}x",
        ms(one),
        ms(pooled)
    );
    if !ok {
        eprintln!("BUG: a countdown result was wrong or a panic was not reported");
        std::process::exit(1);
    }
}
