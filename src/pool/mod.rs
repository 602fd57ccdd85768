//! [`Pool`]: Python's `multiprocessing.Pool` API over threads, with [`AsyncResult`] handles.
//!
//! # How it is built
//!
//! - **Jobs:** one unbounded [`Queue`] of boxed tasks (`task.rs`); each of the `n` worker
//!   threads (`worker.rs`) loops on `get` and runs what it gets under `catch_unwind`, so a
//!   panicking task is reported and the worker lives on.
//! - **Results:** each task carries a delivery closure that fills a result slot, a
//!   [`Lock`]`<Option<Result<R, TaskError>>>` plus an [`Event`] (`result.rs`), or, for
//!   `imap_unordered`, puts into a result queue. Every task delivers exactly once: its value,
//!   its panic, `Terminated` if it was dropped unrun, or `Closed` if it was refused.
//! - **Ending:** `close` is the queue's `shutdown` (workers drain it, then exit); `terminate` is
//!   `shutdown_now` (the queued tasks are dropped, reporting `Terminated`); `join` waits on an
//!   [`Event`] set by the last worker to exit; dropping the pool is `close` + `join`.

mod error;
mod imap;
mod result;
mod task;
mod worker;

use std::fmt;
use std::mem;
use std::num::NonZero;

pub use error::{PoolClosed, TaskError, TaskPanicked, WorkerDied};
pub use imap::ImapUnordered;
pub use result::AsyncResult;

use crate::sync::Arc;
use crate::sync::thread::{self, JoinHandle};
use crate::{Lock, Queue, ShutDown};
pub(crate) use result::Slot;
use task::{Job, Task};
use worker::Shared;

/// A fixed set of worker threads that run submitted closures: Python's `multiprocessing.Pool`
/// (more exactly `multiprocessing.pool.ThreadPool`, since the workers are threads).
///
/// ```
/// use synclab::Pool;
///
/// let pool = Pool::new(4);
/// let squares = pool.map(1..=5, |n| n * n).unwrap();
/// assert_eq!(squares, [1, 4, 9, 16, 25]);
///
/// let answer = pool.apply_async(|| 6 * 7);
/// assert_eq!(answer.get(), Ok(42));
///
/// let mut sums: Vec<u32> = pool.imap_unordered(0..4, |n| n + 10).map(Result::unwrap).collect();
/// sums.sort(); // in completion order until sorted
/// assert_eq!(sums, [10, 11, 12, 13]);
/// ```
///
/// Tasks are `'static` closures (Python pickles them; here they are moved into the pool), so
/// they own what they use, or share it in an [`Arc`](std::sync::Arc). A task that panics gives
/// `Err(TaskError::Panicked(_))` with the panic message, and the pool keeps working.
///
/// # From Python
///
/// | Python | synclab |
/// |---|---|
/// | `Pool(n)`, `Pool()` | [`Pool::new(n)`](Pool::new) (`0` panics, Python's `ValueError`), [`Pool::default()`] (one worker per CPU) |
/// | `apply_async(f)` | [`apply_async(f)`](Pool::apply_async) `-> AsyncResult<R>`; [`try_apply_async`](Pool::try_apply_async) hands the closure back when closed |
/// | `map(f, items)` | [`map(items, f)`](Pool::map) `-> Result<Vec<R>, TaskError>`, in item order |
/// | `imap_unordered(f, items)` | [`imap_unordered(items, f)`](Pool::imap_unordered), an iterator in completion order |
/// | `close()`, `terminate()`, `join()` | [`close`](Pool::close), [`terminate`](Pool::terminate), [`join`](Pool::join) (panics before `close`/`terminate`, Python's `ValueError`) |
/// | `ValueError("Pool not running")` on submit after `close` | the task is not run: `Err(TaskError::Closed)` from its result, or `Err(PoolClosed(f))` |
/// | `with Pool() as p:` — `terminate()` on exit | dropping the pool: `close()` + `join()`, see below |
///
/// # Dropping a pool waits for its tasks
///
/// Dropping a `Pool` **closes and joins it**: every task already submitted still runs, and the
/// drop returns when the workers have exited. Python's `with Pool() as p:` does the opposite:
/// its `__exit__` calls `terminate()`, which throws away the queued tasks (their `get()` then
/// hangs), so Python code must call `p.close(); p.join()` inside the block to wait for them.
/// Here waiting is the default because Rust drops values implicitly (at the end of a scope, on
/// `?`, while unwinding from a panic), and an implicit drop should not throw work away; call
/// [`terminate`](Pool::terminate) before the drop to get Python's behaviour (the dropped tasks'
/// results report [`TaskError::Terminated`]). The drop blocks until the running and queued
/// tasks have finished, so a task that never returns makes it hang.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
///
/// let done = Arc::new(AtomicUsize::new(0));
/// let pool = synclab::Pool::new(2);
/// for _ in 0..10 {
///     let done = done.clone();
///     pool.apply_async(move || done.fetch_add(1, SeqCst));
/// }
/// drop(pool); // waits for all 10
/// assert_eq!(done.load(SeqCst), 10);
/// ```
///
/// A task that drops the last handle to its own pool (an `Arc<Pool>` it captured) cannot wait
/// for itself: that drop closes the pool and lets the workers finish on their own.
pub struct Pool {
    shared: Arc<Shared>,
    /// Taken (and joined) by the first `join` after the workers have exited.
    handles: Lock<Vec<JoinHandle<()>>>,
    workers: usize,
}

impl Pool {
    /// Starts a pool of `workers` threads (Python's `Pool(processes=workers)`).
    ///
    /// # Panics
    ///
    /// If `workers` is 0 (Python: `ValueError("Number of processes must be at least 1")`), or
    /// if the OS refuses to start a thread.
    ///
    /// ```
    /// let pool = synclab::Pool::new(3);
    /// assert_eq!(pool.workers(), 3);
    /// ```
    pub fn new(workers: usize) -> Pool {
        assert!(workers != 0, "Pool::new(0): a pool needs at least 1 worker");
        let (shared, handles) = worker::spawn(workers);
        Pool {
            shared,
            handles: Lock::new(handles),
            workers,
        }
    }

    /// The number of worker threads.
    ///
    /// ```
    /// assert_eq!(synclab::Pool::new(2).workers(), 2);
    /// ```
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Queues `f` to run on a worker and returns the handle to its result (Python's
    /// `apply_async(f)`). Never blocks.
    ///
    /// On a closed or terminated pool `f` is not run (and is dropped): the handle is ready at
    /// once with `Err(TaskError::Closed)`. Use [`try_apply_async`](Pool::try_apply_async) to
    /// get the closure back instead.
    ///
    /// ```
    /// let pool = synclab::Pool::new(2);
    /// let name = String::from("pool");
    /// let r = pool.apply_async(move || name.len()); // the task owns what it uses
    /// assert_eq!(r.get(), Ok(4));
    /// ```
    // ANCHOR: apply_async
    pub fn apply_async<F, R>(&self, f: F) -> AsyncResult<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let slot = Arc::new(Slot::new());
        let filler = slot.clone();
        if let Err((_, deliver)) = self.submit(f, move |outcome| filler.fill(outcome)) {
            deliver(Err(TaskError::Closed));
        }
        AsyncResult::new(slot)
    }
    // ANCHOR_END: apply_async

    /// Like [`apply_async`](Pool::apply_async), but a closed or terminated pool hands `f`
    /// back in `Err(PoolClosed(f))`.
    ///
    /// ```
    /// let pool = synclab::Pool::new(1);
    /// assert_eq!(pool.try_apply_async(|| 1).unwrap().get(), Ok(1));
    /// pool.close();
    /// assert!(pool.try_apply_async(|| 2).is_err());
    /// ```
    pub fn try_apply_async<F, R>(&self, f: F) -> Result<AsyncResult<R>, PoolClosed<F>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let slot = Arc::new(Slot::new());
        let filler = slot.clone();
        match self.submit(f, move |outcome| filler.fill(outcome)) {
            Ok(()) => Ok(AsyncResult::new(slot)),
            Err((f, _)) => Err(PoolClosed(f)),
        }
    }

    /// Runs `f` on every item, one task per item, and returns the results **in item order**
    /// (Python's `map(f, items)`; there is no `chunksize`). Blocks until done.
    ///
    /// If a task fails, returns the error of the first failed item in item order; the other
    /// tasks still run, and their results are dropped. On a closed pool: `Err(Closed)`.
    /// Like every blocking call on the pool, calling it from one of the pool's own tasks can
    /// deadlock (all workers waiting for tasks that no worker is free to run).
    ///
    /// ```
    /// use synclab::{Pool, TaskError};
    ///
    /// let pool = Pool::new(2);
    /// let words = vec!["a", "bb", "ccc"];
    /// assert_eq!(pool.map(words, str::len), Ok(vec![1, 2, 3]));
    ///
    /// let err = pool.map([1, 0, 2], |d| 10 / d).unwrap_err();
    /// assert!(matches!(err, TaskError::Panicked(_)));
    /// ```
    // ANCHOR: map
    pub fn map<I, F, R>(&self, items: I, f: F) -> Result<Vec<R>, TaskError>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> R + Send + Sync + 'static,
        R: Send + 'static,
    {
        if self.is_closed() {
            return Err(TaskError::Closed); // even for no items, as Python does
        }
        let f = Arc::new(f);
        let pending: Vec<AsyncResult<R>> = items
            .into_iter()
            .map(|item| {
                let f = f.clone();
                self.apply_async(move || f(item))
            })
            .collect();
        pending.into_iter().map(AsyncResult::get).collect()
    }
    // ANCHOR_END: map

    /// Runs `f` on every item, one task per item, and returns an iterator over the results
    /// **in the order they complete** (Python's `imap_unordered(f, items)`). All the tasks are
    /// queued before this returns; the iterator blocks until the next result is ready and
    /// yields exactly one result per item. On a closed pool every item yields
    /// `Err(TaskError::Closed)`.
    ///
    /// ```
    /// let pool = synclab::Pool::new(3);
    /// let results = pool.imap_unordered(1..=100, |n: u64| n * n);
    /// assert_eq!(results.len(), 100);
    /// let total: u64 = results.map(Result::unwrap).sum();
    /// assert_eq!(total, 338_350);
    /// ```
    pub fn imap_unordered<I, F, R>(&self, items: I, f: F) -> ImapUnordered<R>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> R + Send + Sync + 'static,
        R: Send + 'static,
    {
        let f = Arc::new(f);
        let results = Arc::new(Queue::new());
        let mut remaining = 0;
        for item in items {
            let f = f.clone();
            let sink = results.clone();
            // `put` on an unbounded queue that is never shut down cannot fail.
            let deliver = move |outcome: Result<R, TaskError>| drop(sink.put(outcome));
            if let Err((_, deliver)) = self.submit(move || f(item), deliver) {
                deliver(Err(TaskError::Closed));
            }
            remaining += 1;
        }
        ImapUnordered::new(results, remaining)
    }

    /// Stops accepting tasks (Python's `close()`). Tasks already queued still run; the workers
    /// exit once the queue is empty. Calling it again, or after `terminate`, does nothing.
    ///
    /// ```
    /// use synclab::{Pool, TaskError};
    ///
    /// let pool = Pool::new(1);
    /// let queued = pool.apply_async(|| 1);
    /// pool.close();
    /// assert_eq!(pool.apply_async(|| 2).get(), Err(TaskError::Closed));
    /// pool.join();
    /// assert_eq!(queued.get(), Ok(1)); // queued before close: it ran
    /// ```
    // ANCHOR: close
    pub fn close(&self) {
        self.shared.jobs.shutdown();
    }
    // ANCHOR_END: close

    /// Stops accepting tasks and drops every task still queued (Python's `terminate()`); their
    /// results report [`TaskError::Terminated`]. Tasks already running are not interrupted
    /// (threads cannot be killed): each worker exits after its current task. Does not wait:
    /// call [`join`](Pool::join) for that.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use synclab::{Event, Pool, TaskError};
    ///
    /// let pool = Pool::new(1);
    /// let (started, go) = (Arc::new(Event::new()), Arc::new(Event::new()));
    /// let (s, g) = (started.clone(), go.clone());
    /// let running = pool.apply_async(move || {
    ///     s.set();
    ///     g.wait(); // occupies the only worker until `go` is set
    /// });
    /// let queued = pool.apply_async(|| 2);
    /// started.wait();
    /// pool.terminate();
    /// assert_eq!(queued.get(), Err(TaskError::Terminated));
    /// go.set();
    /// pool.join();
    /// assert_eq!(running.get(), Ok(()));
    /// ```
    // ANCHOR: terminate
    pub fn terminate(&self) {
        // Dropping the tasks delivers `Terminated` to their results (`Task`'s `Drop`).
        drop(self.shared.jobs.shutdown_now());
    }
    // ANCHOR_END: terminate

    /// Waits for every worker to exit (Python's `join()`): after [`close`](Pool::close), once
    /// all queued tasks have run; after [`terminate`](Pool::terminate), once the running ones
    /// have finished. Calling it again returns at once.
    ///
    /// # Panics
    ///
    /// If the pool is still running, i.e. neither `close` nor `terminate` was called: the
    /// workers would wait for tasks forever, and so would `join` (Python raises `ValueError`).
    /// Also if called from one of the pool's own tasks, which would wait for itself.
    ///
    /// ```should_panic
    /// let pool = synclab::Pool::new(1);
    /// pool.join(); // panics: close() or terminate() first
    /// ```
    pub fn join(&self) {
        assert!(
            self.is_closed(),
            "Pool::join on a running pool: call close() or terminate() first (Python raises \
             ValueError), or the workers would never exit"
        );
        assert!(
            !self.on_worker_thread(),
            "Pool::join from one of the pool's own tasks: a worker cannot wait for itself to exit"
        );
        self.shared.exited.wait();
        let handles = mem::take(&mut *self.handles.lock());
        for handle in handles {
            // Cannot be `Err`: `task::work` catches every panic.
            let _ = handle.join();
        }
    }

    // ANCHOR: submit
    /// Queues a task that passes `f`'s outcome to `deliver`; if the pool is closed, hands both
    /// back undelivered.
    fn submit<F, D, R>(&self, f: F, deliver: D) -> Result<(), (F, D)>
    where
        F: FnOnce() -> R + Send + 'static,
        D: FnOnce(Result<R, TaskError>) + Send + 'static,
        R: 'static,
    {
        let job: Box<dyn Job> = Box::new(Task::new(f, deliver));
        self.shared.jobs.put(job).map_err(|ShutDown(job)| {
            let task = job.into_any().downcast::<Task<F, D, R>>();
            (*task.expect("the queue hands back the job it was given")).into_parts()
        })
    }
    // ANCHOR_END: submit

    fn is_closed(&self) -> bool {
        self.shared.jobs.is_shutdown()
    }

    /// `true` on one of this pool's worker threads (before `join` has reaped them; after,
    /// no worker runs).
    fn on_worker_thread(&self) -> bool {
        let me = thread::current().id();
        self.handles.lock().iter().any(|h| h.thread().id() == me)
    }
}

impl Default for Pool {
    /// One worker per CPU, as Python's `Pool()` (`os.cpu_count()`); 1 if that is unknown.
    fn default() -> Pool {
        Pool::new(std::thread::available_parallelism().map_or(1, NonZero::get))
    }
}

// ANCHOR: drop
impl Drop for Pool {
    /// `close` + `join`: queued tasks still run (see the type's docs for how this differs from
    /// Python's `with Pool()`).
    fn drop(&mut self) {
        self.close();
        if !self.on_worker_thread() {
            self.join();
        }
    }
}
// ANCHOR_END: drop

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers)
            .field("queued", &self.shared.jobs.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}
