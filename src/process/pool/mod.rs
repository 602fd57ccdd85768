//! [`Pool`]: Python's `multiprocessing.Pool` over worker processes started the *spawn* way,
//! with the thread [`Pool`](crate::Pool)'s method names and its [`AsyncResult`].
//!
//! # How it is built
//!
//! - **Workers** (`child.rs`): this executable run again with a role; [`init`] at the top of
//!   `main` turns such a process into a worker that reads batches of tasks from a pipe, runs
//!   each under `catch_unwind`, and commits one record per task to its result log in shared
//!   memory (`log.rs`), then writes one frame per batch back down a pipe.
//! - **Functions** travel as two offsets from a fixed function of the executable (`child.rs`),
//!   arguments and results as `postcard` bytes (`wire.rs`, `job.rs`).
//! - **Supervisors** (`supervisor.rs`): one thread per worker moves jobs from the pool's
//!   [`Queue`](crate::Queue) to its worker and delivers the records. End-of-file on a worker's
//!   result pipe means the worker died: the records it committed are delivered, the task it was
//!   running gets [`TaskError::WorkerDied`] (with the signal or exit status), a fresh worker
//!   replaces it, and the other tasks carry on.

mod child;
mod job;
mod log;
mod pipe;
mod supervisor;
mod wire;

use std::ffi::OsStr;
use std::fmt;
use std::mem;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Relaxed, Release};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use child::init;

use crate::pool::Slot;
use crate::process::ProcessError;
use crate::{AsyncResult, ImapUnordered, Lock, Queue, ShutDown, TaskError};
use job::{Job, MapSink, OneSink, QueueSink, Sink};
use supervisor::{Config, Shared};

/// A pool of worker **processes** that run functions on `serde` values: Python's
/// `multiprocessing.Pool`. Linux only (elsewhere [`Pool::new`] returns
/// [`ProcessError::Unsupported`]); behind the `serde` feature.
///
/// ```no_run
/// use synclab::process::Pool;
///
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// fn main() {
///     synclab::process::init(); // the worker side: first line of main
///     let pool = Pool::new(2).unwrap();
///     assert_eq!(pool.map(1..=4, square), Ok(vec![1, 4, 9, 16]));
///     let r = pool.apply_async(|s: String| s.len(), "four".to_string());
///     assert_eq!(r.get(), Ok(4));
/// }
/// ```
///
/// A task is a function pointer `fn(A) -> R` (a function, or a closure that captures nothing)
/// and its argument: the worker finds the function again by its place in the executable
/// ([`init`] explains the rest). `A` and `R` are any `Serialize + DeserializeOwned` types,
/// encoded with `postcard`, as Python pickles them.
///
/// # Crash isolation
///
/// | what happens in a task | its result | the pool |
/// |---|---|---|
/// | it panics | `Err(`[`TaskError::Panicked`]`)` with the message | the worker lives on |
/// | its worker dies (SIGKILL, `abort`, a segfault, `exit`) | `Err(`[`TaskError::WorkerDied`]`)`: the signal or exit status | a fresh worker replaces it; every other task completes (Python's `get()` hangs forever: bpo-22393) |
/// | a worker dies between tasks (the OOM killer, a stray `kill`) | no task is blamed (its log shows it never started the batch sent to it; with a task timeout, a death that races the sending blames that task) | it is replaced before its next batch |
/// | it runs past [`PoolBuilder::task_timeout`] | `Err(`[`TaskError::TimedOut`]`)` | its worker is killed and replaced |
/// | its argument or result does not encode or decode | `Err(`[`TaskError::Codec`]`)` | nothing else changes |
///
/// # From Python
///
/// | Python | synclab |
/// |---|---|
/// | `Pool(n)`, `Pool(n, maxtasksperchild=k)` | [`Pool::new(n)`](Pool::new), [`Pool::builder(n)`](Pool::builder)`.max_tasks_per_child(k).spawn()` |
/// | `apply_async(f, (arg,))` | [`apply_async(f, arg)`](Pool::apply_async) `->` [`AsyncResult<R>`](AsyncResult) |
/// | `map(f, items)`, `imap_unordered(f, items)` | [`map(items, f)`](Pool::map), [`imap_unordered(items, f)`](Pool::imap_unordered) |
/// | `close()`, `join()`, `terminate()` | [`close`](Pool::close), [`join`](Pool::join), [`terminate`](Pool::terminate) (kills the workers) |
/// | `[p.pid for p in pool._pool]` | [`pids`](Pool::pids) |
///
/// Dropping the pool is `close` + `join`, as for the thread pool (Python's `with` terminates).
pub struct Pool {
    shared: Arc<Shared>,
    handles: Lock<Vec<JoinHandle<()>>>,
}

/// The settings of a process [`Pool`] beyond its size: [`Pool::builder`].
///
/// ```no_run
/// use std::time::Duration;
///
/// let pool = synclab::process::Pool::builder(2)
///     .max_tasks_per_child(100)
///     .task_timeout(Duration::from_secs(10))
///     .spawn()
///     .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    config: Config,
}

impl PoolBuilder {
    /// Replaces each worker after it has run `tasks` tasks (Python's `maxtasksperchild`).
    ///
    /// # Panics
    ///
    /// If `tasks` is 0.
    ///
    /// ```
    /// let builder = synclab::process::Pool::builder(2).max_tasks_per_child(1);
    /// ```
    pub fn max_tasks_per_child(mut self, tasks: usize) -> PoolBuilder {
        assert!(
            tasks != 0,
            "max_tasks_per_child(0): a worker must run at least one task"
        );
        self.config.max_tasks = tasks;
        self
    }

    /// Kills and replaces a worker whose task runs longer than `limit`; the task gets
    /// [`TaskError::TimedOut`] (Python's Pool has no such limit; the `pebble` package adds
    /// one). `Duration::ZERO` gives up on any task not already answered; `Duration::MAX` never.
    ///
    /// ```
    /// let builder = synclab::process::Pool::builder(2).task_timeout(std::time::Duration::from_secs(5));
    /// ```
    pub fn task_timeout(mut self, limit: Duration) -> PoolBuilder {
        self.config.task_timeout = Some(limit);
        self
    }

    /// Command-line arguments for every worker. A program whose `main` calls [`init`] first
    /// needs none; a test binary passes the name of a test that calls `init`, so that the
    /// harness in the worker runs just that one:
    ///
    /// ```
    /// let builder = synclab::process::Pool::builder(2)
    ///     .worker_args(["pool_worker", "--exact", "--nocapture"]);
    /// ```
    pub fn worker_args<I, S>(mut self, args: I) -> PoolBuilder
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.config.args = args.into_iter().map(|a| a.as_ref().into()).collect();
        self
    }

    /// Starts the workers and waits until each has said hello.
    ///
    /// # Errors
    ///
    /// [`ProcessError::Unsupported`] off Linux; [`ProcessError::Io`] if a worker cannot be
    /// started or exits before it serves (its message says what to check: usually a `main`
    /// that does not call [`init`] first).
    ///
    /// # Panics
    ///
    /// In a process that is itself a pool worker: `main` made a pool before calling [`init`],
    /// which would start workers without end.
    pub fn spawn(self) -> Result<Pool, ProcessError> {
        assert!(
            crate::process::role().as_deref() != Some(child::WORKER_ROLE),
            "a process Pool made in a pool worker: call synclab::process::init() first in main"
        );
        let config = self.config;
        let launched = (0..config.workers)
            .map(|_| supervisor::launch(&config))
            .collect::<Result<Vec<_>, _>>()?;
        let mut workers = launched
            .into_iter()
            .map(supervisor::greet)
            .collect::<Result<Vec<_>, _>>()?;
        let shared = Arc::new(Shared {
            jobs: Queue::new(),
            terminated: false.into(),
            pids: Lock::new(vec![0; config.workers]),
            started: 0.into(),
            config,
        });
        for (slot, worker) in workers.iter_mut().enumerate() {
            shared.register(slot, worker);
        }
        let handles = workers
            .into_iter()
            .enumerate()
            .map(|(slot, worker)| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("synclab-pool-supervisor-{slot}"))
                    .spawn(move || supervisor::supervise(slot, &shared, Some(worker)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pool {
            shared,
            handles: Lock::new(handles),
        })
    }
}

impl Pool {
    /// Starts `workers` worker processes (Python's `Pool(processes=workers)`).
    ///
    /// # Errors and panics
    ///
    /// As [`PoolBuilder::spawn`]; panics if `workers` is 0, as [`crate::Pool::new`].
    ///
    /// ```no_run
    /// let pool = synclab::process::Pool::new(2).unwrap();
    /// assert_eq!(pool.workers(), 2);
    /// ```
    pub fn new(workers: usize) -> Result<Pool, ProcessError> {
        Pool::builder(workers).spawn()
    }

    /// The settings for a pool of `workers` processes; [`PoolBuilder::spawn`] starts it.
    ///
    /// # Panics
    ///
    /// If `workers` is 0 (Python: `ValueError("Number of processes must be at least 1")`).
    ///
    /// ```
    /// let builder = synclab::process::Pool::builder(4);
    /// ```
    pub fn builder(workers: usize) -> PoolBuilder {
        assert!(workers != 0, "Pool::new(0): a pool needs at least 1 worker");
        PoolBuilder {
            config: Config {
                workers,
                args: Vec::new(),
                max_tasks: usize::MAX,
                task_timeout: None,
            },
        }
    }

    /// The number of worker processes (constant: a dead worker is replaced).
    ///
    /// ```no_run
    /// assert_eq!(synclab::process::Pool::new(3).unwrap().workers(), 3);
    /// ```
    pub fn workers(&self) -> usize {
        self.shared.config.workers
    }

    /// The process ids of the workers running now (one per worker, except briefly while one
    /// is being replaced; none after `join`).
    ///
    /// ```no_run
    /// let pool = synclab::process::Pool::new(2).unwrap();
    /// assert_eq!(pool.pids().len(), 2);
    /// ```
    pub fn pids(&self) -> Vec<u32> {
        let pids = self.shared.pids.lock();
        pids.iter().copied().filter(|&pid| pid != 0).collect()
    }

    /// How many worker processes were started so far, replacements included.
    ///
    /// ```no_run
    /// let pool = synclab::process::Pool::new(2).unwrap();
    /// assert_eq!(pool.workers_started(), 2);
    /// ```
    pub fn workers_started(&self) -> usize {
        self.shared.started.load(Relaxed) // a statistic: no other memory depends on it
    }

    // ANCHOR: apply_async
    /// Queues `f(arg)` to run in a worker and returns the handle to its result (Python's
    /// `apply_async(f, (arg,))`). Never blocks. On a closed pool the handle is ready at once
    /// with `Err(TaskError::Closed)`.
    ///
    /// `f` must capture nothing: it is found again in the worker by its place in the
    /// executable, and captured values would not be there. A capturing closure does not
    /// coerce to `fn(A) -> R`, so it is refused when the program is compiled:
    ///
    /// ```compile_fail
    /// # fn demo(pool: &synclab::process::Pool) {
    /// let offset = 10_u32;
    /// pool.apply_async(move |n: u32| n + offset, 1); // error: closure captures `offset`
    /// # }
    /// ```
    ///
    /// ```no_run
    /// let pool = synclab::process::Pool::new(1).unwrap();
    /// let r = pool.apply_async(|n: u32| n + 10, 1); // captures nothing: fine
    /// assert_eq!(r.get(), Ok(11));
    /// ```
    pub fn apply_async<A, R>(&self, f: fn(A) -> R, arg: A) -> AsyncResult<R>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let slot = Arc::new(Slot::new());
        let mut job = Job::new(child::call_of(f), Arc::new(OneSink(slot.clone())));
        job.push(0, |out| encode(&arg, out));
        self.submit(job);
        AsyncResult::new(slot)
    }
    // ANCHOR_END: apply_async

    /// Runs `f` on every item and returns the results **in item order** (Python's
    /// `map(f, items)`), or the error of the first failed item; blocks until every task is
    /// done. The items go to the workers in chunks, as Python's default `chunksize` does (a
    /// quarter of each worker's share), each chunk one message; a worker that dies in a chunk
    /// costs only the task it was running. On a closed pool: `Err(TaskError::Closed)`.
    ///
    /// ```no_run
    /// let pool = synclab::process::Pool::new(2).unwrap();
    /// let lens = pool.map(["a".to_string(), "bb".to_string()], |s: String| s.len());
    /// assert_eq!(lens, Ok(vec![1, 2]));
    /// ```
    pub fn map<I, A, R>(&self, items: I, f: fn(A) -> R) -> Result<Vec<R>, TaskError>
    where
        I: IntoIterator<Item = A>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        if self.shared.jobs.is_shutdown() {
            return Err(TaskError::Closed);
        }
        let items: Vec<A> = items.into_iter().collect();
        let sink = Arc::new(MapSink::new(items.len()));
        self.submit_chunks(f, items, sink.clone());
        sink.wait()
    }

    /// Runs `f` on every item and returns an iterator over the results **in the order they
    /// complete** (Python's `imap_unordered(f, items)`), one per item. The items go in chunks
    /// as for [`map`](Pool::map), and a chunk's results arrive together when it is done, as
    /// Python's do. Every task is queued before this returns. On a closed pool every item yields `Err(TaskError::Closed)`.
    ///
    /// ```no_run
    /// let pool = synclab::process::Pool::new(2).unwrap();
    /// let total: u64 = pool.imap_unordered(1..=100, |n: u64| n * n).map(Result::unwrap).sum();
    /// assert_eq!(total, 338_350);
    /// ```
    pub fn imap_unordered<I, A, R>(&self, items: I, f: fn(A) -> R) -> ImapUnordered<R>
    where
        I: IntoIterator<Item = A>,
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned + Send + 'static,
    {
        let items: Vec<A> = items.into_iter().collect();
        let count = items.len();
        let results = std::sync::Arc::new(Queue::new());
        self.submit_chunks(f, items, Arc::new(QueueSink(results.clone())));
        ImapUnordered::new(results, count)
    }

    /// Stops accepting tasks (Python's `close()`); the queued ones still run, then each worker
    /// is told to exit. Calling it again does nothing.
    ///
    /// ```no_run
    /// use synclab::TaskError;
    /// let pool = synclab::process::Pool::new(1).unwrap();
    /// pool.close();
    /// assert_eq!(pool.apply_async(|n: u8| n, 1).get(), Err(TaskError::Closed));
    /// ```
    pub fn close(&self) {
        self.shared.jobs.shutdown();
    }

    /// Stops accepting tasks, drops the queued ones and **kills the workers** (SIGKILL,
    /// Python's `terminate()`): every task not finished reports [`TaskError::Terminated`].
    /// Does not wait: [`join`](Pool::join) does.
    ///
    /// ```no_run
    /// let pool = synclab::process::Pool::new(1).unwrap();
    /// pool.terminate();
    /// pool.join();
    /// assert!(pool.pids().is_empty());
    /// ```
    pub fn terminate(&self) {
        // Release: pairs with the supervisors' Acquire loads; set before the kills, so that a
        // supervisor that sees its worker die also sees why.
        self.shared.terminated.store(true, Release);
        drop(self.shared.jobs.shutdown_now()); // each dropped job reports `Terminated`
        self.shared.kill_all();
    }

    /// Waits until every worker has exited (Python's `join()`): after `close`, once the queued
    /// tasks have run; after `terminate`, at once. Calling it again returns at once.
    ///
    /// # Panics
    ///
    /// If neither `close` nor `terminate` was called (Python raises `ValueError`).
    ///
    /// ```no_run
    /// let pool = synclab::process::Pool::new(1).unwrap();
    /// let r = pool.apply_async(|n: u8| n * 2, 4);
    /// pool.close();
    /// pool.join();
    /// assert_eq!(r.get(), Ok(8));
    /// ```
    pub fn join(&self) {
        assert!(
            self.shared.jobs.is_shutdown(),
            "process::Pool::join on a running pool: call close() or terminate() first"
        );
        for handle in mem::take(&mut *self.handles.lock()) {
            // A supervisor catches nothing and panics at nothing it expects; pass a bug on.
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }

    /// Queues `job`; a closed pool answers its items `Closed` at once.
    fn submit(&self, job: Job) {
        if job.pending() == 0 {
            return;
        }
        if let Err(ShutDown(job)) = self.shared.jobs.put(job) {
            job.fail_all(&TaskError::Closed);
        }
    }

    /// Queues `items` as jobs of about a quarter of each worker's share.
    fn submit_chunks<A, R>(&self, f: fn(A) -> R, items: Vec<A>, sink: Arc<dyn Sink>)
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        let call = child::call_of(f);
        let chunk = items.len().div_ceil(self.workers() * 4).max(1);
        let mut job = Job::new(call, sink.clone());
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 && i % chunk == 0 {
                self.submit(mem::replace(&mut job, Job::new(call, sink.clone())));
            }
            job.push(i, |out| encode(&item, out));
        }
        self.submit(job);
    }
}

/// Appends `value`'s postcard encoding to `out`.
fn encode<T: Serialize>(value: &T, out: &mut Vec<u8>) -> Result<(), String> {
    let bytes = postcard::to_allocvec(value)
        .map_err(|e| format!("the task's argument did not encode: {e}"))?;
    out.extend_from_slice(&bytes);
    Ok(())
}

impl Drop for Pool {
    /// `close` + `join`: the queued tasks still run.
    fn drop(&mut self) {
        self.close();
        self.join();
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers())
            .field("pids", &self.pids())
            .field("queued_jobs", &self.shared.jobs.len())
            .field("closed", &self.shared.jobs.is_shutdown())
            .finish()
    }
}
