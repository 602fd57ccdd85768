//! The worker threads: starting them, their loop, and telling `join` when the last one has
//! exited.

use std::panic::{self, AssertUnwindSafe};

use super::task::Job;
use crate::sync::{
    Arc, AtomicUsize,
    Ordering::AcqRel,
    thread::{self, JoinHandle},
};
use crate::{Event, Queue};

/// What the workers share with the pool.
pub(super) struct Shared {
    pub(super) jobs: Queue<Box<dyn Job>>,
    /// Workers still running; the one that brings it to 0 sets `exited`.
    live: AtomicUsize,
    /// Set once every worker has left its loop: what `join` waits for.
    pub(super) exited: Event,
}

/// Starts `workers` threads (at least 1) on a new, empty job queue.
///
/// # Panics
///
/// If the OS refuses a thread; the queue is shut down first, so the threads already started exit.
pub(super) fn spawn(workers: usize) -> (Arc<Shared>, Vec<JoinHandle<()>>) {
    let shared = Arc::new(Shared {
        jobs: Queue::new(),
        live: AtomicUsize::new(workers),
        exited: Event::new(),
    });
    let mut handles = Vec::with_capacity(workers);
    for i in 0..workers {
        let worker = shared.clone();
        let spawned = thread::Builder::new()
            .name(format!("synclab-pool-{i}"))
            .spawn(move || {
                let _exit = ExitGuard(&worker);
                work(&worker.jobs);
            });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(e) => {
                shared.jobs.shutdown();
                panic!("Pool::new: could not start worker thread {i} of {workers}: {e}");
            }
        }
    }
    (shared, handles)
}

// ANCHOR: work
/// A worker thread: runs jobs until the queue is shut down and empty (`close`), or shut down
/// and emptied by `terminate`.
fn work(jobs: &Queue<Box<dyn Job>>) {
    while let Ok(job) = jobs.get() {
        // The task's own panic is caught inside `run`. What could still unwind is dropping a
        // value nobody waits for (an `R` whose `AsyncResult` is gone, a panic payload) whose
        // `Drop` panics: ignore it, so that the worker lives on.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| job.run()));
    }
}

/// Counts a worker out when its thread ends; the last one sets `exited`.
struct ExitGuard<'a>(&'a Shared);

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        // AcqRel: the last worker acquires the others' decrements (a release sequence), and
        // `exited.set()` publishes all of it to `join`.
        if self.0.live.fetch_sub(1, AcqRel) == 1 {
            self.0.exited.set();
        }
    }
}
// ANCHOR_END: work
