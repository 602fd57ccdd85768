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
//! synclab's own `Pool` (with `map`, `terminate`, timeouts and panics reported as errors) is on
//! its way. Until it lands, [`TinyPool`] below is the smallest pool that has the notes' shape:
//! worker threads taking jobs from a `synclab::Queue`, and for each job a result slot (a
//! `synclab::Lock<Option<R>>`) plus an `Event` that says the result is there.

use std::hint::black_box;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use synclab::{Event, Lock, Queue};

// ANCHOR: tiny_pool
// A stand-in until synclab's Pool lands: replace `TinyPool` with `synclab::Pool` then.

/// A job: any closure a worker can run once.
type Job = Box<dyn FnOnce() + Send>;

/// A fixed number of worker threads taking jobs from one queue.
struct TinyPool {
    jobs: Arc<Queue<Job>>,
    workers: Vec<JoinHandle<()>>,
}

/// Where a job's result will appear: Python's `AsyncResult`.
struct AsyncResult<R> {
    slot: Arc<(Lock<Option<thread::Result<R>>>, Event)>,
}

impl TinyPool {
    /// `Pool(processes=n)`: starts `n` workers that run jobs until the queue is shut down and
    /// empty.
    fn new(n: usize) -> TinyPool {
        let jobs: Arc<Queue<Job>> = Arc::new(Queue::new());
        let workers = (0..n)
            .map(|_| {
                let jobs = Arc::clone(&jobs);
                thread::spawn(move || {
                    while let Ok(job) = jobs.get() {
                        job();
                    }
                })
            })
            .collect();
        TinyPool { jobs, workers }
    }

    /// `pool.apply_async(f)`: queues `f` and returns at once with a handle to its result.
    fn apply_async<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> AsyncResult<R> {
        let slot = Arc::new((Lock::new(None), Event::new()));
        let result = AsyncResult {
            slot: Arc::clone(&slot),
        };
        let job: Job = Box::new(move || {
            // A panicking job must not kill the worker or leave `get` waiting forever.
            let r = panic::catch_unwind(AssertUnwindSafe(f));
            *slot.0.lock() = Some(r);
            slot.1.set(); // the result is there
        });
        if self.jobs.put(job).is_err() {
            panic!("apply_async after close()");
        }
        result
    }

    /// `pool.close()`: no more jobs; the workers finish the queued ones and exit.
    fn close(&self) {
        self.jobs.shutdown();
    }

    /// `pool.join()`: waits for the workers to exit (call `close` first, as in Python).
    fn join(self) {
        for worker in self.workers {
            worker.join().unwrap();
        }
    }
}

impl<R> AsyncResult<R> {
    /// `r.get()`: waits for the job and returns its result (re-raising its panic, as Python
    /// re-raises the job's exception).
    fn get(self) -> R {
        self.slot.1.wait();
        let r = self
            .slot
            .0
            .lock()
            .take()
            .expect("the result is set before the event");
        r.unwrap_or_else(|payload| panic::resume_unwind(payload))
    }
}
// ANCHOR_END: tiny_pool

/// The notes' `countdown(n)` (see the `countdown` example for `black_box`). Returns how many
/// times it counted, so that the results can be checked.
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
    let pool = TinyPool::new(2); // pool = Pool(processes=2)
    let start = Instant::now(); // start = time.time()
    let r1 = pool.apply_async(move || countdown(count / 2)); // r1 = pool.apply_async(...)
    let r2 = pool.apply_async(move || countdown(count / 2)); // r2 = pool.apply_async(...)
    pool.close(); // pool.close()
    pool.join(); // pool.join()
    let elapsed = start.elapsed(); // end = time.time()
    (elapsed, r1.get() + r2.get())
}
// ANCHOR_END: notes

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("{name} takes a number, got {v:?}"))
        })
        .unwrap_or(default)
}

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

    // A job that panics: the pool survives, and get() re-raises the panic in the caller.
    let prev_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {})); // keep the expected panic quiet
    let pool = TinyPool::new(1);
    let bad = pool.apply_async(|| -> u64 { panic!("a job failed") });
    let good = pool.apply_async(|| countdown(1000));
    pool.close();
    pool.join();
    let reraised = panic::catch_unwind(AssertUnwindSafe(|| bad.get())).is_err();
    panic::set_hook(prev_hook);
    ok &= reraised && good.get() == 1000;

    let speedup = one.as_secs_f64() / pooled.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("  one thread            : {:>7.1} ms", ms(one));
    println!(
        "  Pool(2), 2 x COUNT/2  : {:>7.1} ms   {speedup:.2}x",
        ms(pooled)
    );
    println!("  a panicking job: get() re-raised it: {reraised}; the next job still ran");
    println!(
        "TOUR|pool|Pool(processes=2) with two apply_async halves: about twice as fast as one process on 2 cores|1 thread {:.1} ms, pool of 2 {:.1} ms: {speedup:.2}x",
        ms(one),
        ms(pooled)
    );
    if !ok {
        eprintln!("BUG: a countdown result was wrong or a panic was lost");
        std::process::exit(1);
    }
}
