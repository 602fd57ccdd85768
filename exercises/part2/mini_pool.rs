//! # Exercise `mini_pool` — Part II, "Pool"
//!
//! Build a small `multiprocessing.Pool` over threads: `new(n)` starts `n` workers that take
//! boxed jobs from one `synclab::Queue`; `apply_async(f)` wraps `f` into such a job and returns
//! at once with a [`Handle`] whose `get` blocks until the result is there; `close` lets the
//! workers finish what is queued and then exit; `join` waits for them. A job that panics must
//! not take its worker down: its handle reports `Err` with the panic message, and the worker
//! takes the next job.
//!
//! The result slot behind a handle (a `Lock<Option<…>>` plus an `Event`) is given; the
//! exercise is the pool around it.
//!
//! Check your work: `cargo xtask check mini_pool`

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;

use synclab::{Event, Lock, Queue};

/// A job: a closure a worker runs once. It fills its own result slot.
type Job = Box<dyn FnOnce() + Send>;

/// What a job produced: its value, or the message of its panic.
pub type Outcome<R> = Result<R, String>;

/// A fixed set of worker threads fed by one queue of jobs.
pub struct MiniPool {
    jobs: Arc<Queue<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl MiniPool {
    /// Starts `n` workers (`n >= 1`) that run jobs until the queue is shut down and empty.
    pub fn new(n: usize) -> Self {
        assert!(n >= 1, "a pool needs at least one worker");
        // TODO: make the job queue (shared with the workers) and spawn `n` threads that take
        // jobs from it and run them until `get` fails. When does a queue's `get` fail?
        todo!()
    }

    /// Queues `f` and returns at once with the handle to its outcome. After `close`, `f` is
    /// not run and the handle reports `Err`.
    pub fn apply_async<F, R>(&self, f: F) -> Handle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        // TODO: make a result slot shared by the handle and a boxed job. The job runs `f`
        // under `panic::catch_unwind` (turn a panic into its message with `panic_message`) and
        // fills the slot. Queue the job; if the queue refuses it (closed), fill the slot with
        // an `Err` yourself: nobody else ever will.
        todo!()
    }

    /// No more jobs: the workers finish the queued ones, then exit.
    pub fn close(&self) {
        // TODO: one call on the queue. Which one lets the workers finish what is queued?
        todo!()
    }

    /// Waits for every worker to exit (call `close` first, or this waits forever).
    pub fn join(self) {
        // TODO: join every worker thread.
        todo!()
    }
}

/// The message of a caught panic (`panic!` payloads are `&str` or `String`).
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&str>() {
            Ok(s) => s.to_string(),
            Err(_) => "a panic with a non-string payload".to_string(),
        },
    }
}

/// One job's outcome: stored under the lock, then announced by the event.
struct Slot<R> {
    value: Lock<Option<Outcome<R>>>,
    ready: Event,
}

impl<R> Slot<R> {
    fn new() -> Self {
        Slot {
            value: Lock::new(None),
            ready: Event::new(),
        }
    }

    /// Stores the outcome, *then* sets the event: a woken `get` always finds it.
    fn fill(&self, outcome: Outcome<R>) {
        *self.value.lock() = Some(outcome);
        self.ready.set();
    }
}

/// Where a job's outcome will appear: Python's `AsyncResult`.
pub struct Handle<R> {
    slot: Arc<Slot<R>>,
}

impl<R> Handle<R> {
    /// Blocks until the job is done; its value, or `Err` with its panic message.
    pub fn get(self) -> Outcome<R> {
        self.slot.ready.wait();
        self.slot
            .value
            .lock()
            .take()
            .expect("the outcome is stored before the event is set")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;
    use synclab::Barrier;

    #[test]
    fn results_come_back_to_their_handles() {
        common::guarded("mini_pool_results", |_| {
            let pool = MiniPool::new(3);
            let handles: Vec<Handle<u64>> = (0..20u64)
                .map(|i| pool.apply_async(move || i * i))
                .collect();
            let results: Vec<u64> = handles.into_iter().map(|h| h.get().unwrap()).collect();
            assert_eq!(results, (0..20u64).map(|i| i * i).collect::<Vec<_>>());
            pool.close();
            pool.join();
        });
    }

    #[test]
    fn a_panicking_job_gives_err_and_its_worker_lives_on() {
        // One worker: if the panic killed it, the next `get` would wait forever.
        common::watchdog("mini_pool_panic", Duration::from_secs(20), |status| {
            let pool = MiniPool::new(1);
            let bad = pool.apply_async(|| -> u32 { panic!("job {} failed", 7) });
            let good = pool.apply_async(|| 42);
            status.set("main", "get() on the panicking job");
            assert_eq!(bad.get(), Err("job 7 failed".to_string()));
            status.set("main", "get() on the next job, same worker");
            assert_eq!(good.get(), Ok(42));
            pool.close();
            pool.join();
        });
    }

    #[test]
    fn the_workers_run_jobs_at_the_same_time() {
        // Four jobs that can only finish together: a pool that runs fewer than four at once
        // never gets past the barrier.
        common::watchdog("mini_pool_parallel", Duration::from_secs(20), |_| {
            let pool = MiniPool::new(4);
            let barrier = Arc::new(Barrier::new(4));
            let handles: Vec<Handle<bool>> = (0..4)
                .map(|_| {
                    let barrier = barrier.clone();
                    pool.apply_async(move || barrier.wait().is_ok())
                })
                .collect();
            for h in handles {
                assert_eq!(h.get(), Ok(true));
            }
            pool.close();
            pool.join();
        });
    }

    #[test]
    fn close_then_join_runs_every_queued_job() {
        let jobs = common::scaled(200);
        common::guarded("mini_pool_close_join", |status| {
            let pool = MiniPool::new(2);
            let done = Arc::new(AtomicUsize::new(0));
            let gate = Arc::new(Event::new());
            // Both workers wait at the gate, so every other job is still queued at `close`.
            for _ in 0..2 {
                let gate = gate.clone();
                pool.apply_async(move || gate.wait());
            }
            for _ in 0..jobs {
                let done = done.clone();
                pool.apply_async(move || done.fetch_add(1, SeqCst));
            }
            pool.close();
            let late = pool.apply_async(|| 1);
            assert!(late.get().is_err(), "a job submitted after close() ran");
            gate.set();
            status.set("main", "join()");
            pool.join();
            assert_eq!(
                done.load(SeqCst),
                jobs,
                "join() returned before every job ran"
            );
        });
    }
}
