//! What travels through the pool's job queue, and the worker loop that runs it.
//!
//! A [`Task`] pairs the user's closure with a *delivery* closure that hands the outcome to
//! whoever waits (an `AsyncResult`'s slot, or `imap_unordered`'s result queue). Every task
//! delivers exactly once, whatever happens to it:
//!
//! | fate of the task | who delivers | outcome |
//! |---|---|---|
//! | a worker runs it | the worker, after `catch_unwind` | `Ok(value)` or `Err(Panicked)` |
//! | `terminate` drops it from the queue | `Task`'s `Drop` | `Err(Terminated)` |
//! | the queue refuses it (pool closed) | the submitter, after [`Task::into_parts`] | `Err(Closed)` |

use std::any::Any;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};

use super::{TaskError, TaskPanicked};

// ANCHOR: job
/// A task with its types erased, as the job queue holds it.
pub(super) trait Job: Send {
    /// Runs the task and delivers its outcome.
    fn run(self: Box<Self>);
    /// For the submitter to get its concrete [`Task`] back when the queue refuses the job.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// The user's closure `F` and the delivery `D` of its outcome. Both are `Some` until the task
/// runs or is taken apart.
pub(super) struct Task<F, D: FnOnce(Result<R, TaskError>), R> {
    f: Option<F>,
    deliver: Option<D>,
    /// `fn() -> R`: the task makes an `R` but holds none, so `R` does not affect `Send`.
    _produces: PhantomData<fn() -> R>,
}
// ANCHOR_END: job

impl<F, D: FnOnce(Result<R, TaskError>), R> Task<F, D, R> {
    pub(super) fn new(f: F, deliver: D) -> Self {
        Task {
            f: Some(f),
            deliver: Some(deliver),
            _produces: PhantomData,
        }
    }

    /// The closure and its delivery, undelivered (the submitter decides what to tell).
    pub(super) fn into_parts(mut self) -> (F, D) {
        let parts = (self.f.take(), self.deliver.take());
        match parts {
            (Some(f), Some(d)) => (f, d),
            _ => unreachable!("a task is taken apart only before it runs"),
        }
    }
}

impl<F, D, R> Job for Task<F, D, R>
where
    F: FnOnce() -> R + Send + 'static,
    D: FnOnce(Result<R, TaskError>) + Send + 'static,
    R: 'static,
{
    // ANCHOR: run
    fn run(mut self: Box<Self>) {
        let f = self.f.take().expect("a task runs once");
        // AssertUnwindSafe: like `thread::spawn`, which does not ask for `UnwindSafe` either. The
        // closure is consumed, so nothing it owned is seen after a panic; state it shares with
        // other threads may be left half-updated, which is the user's to handle once `get`
        // reports the panic, exactly as with a panicked `JoinHandle`.
        let outcome = panic::catch_unwind(AssertUnwindSafe(f))
            .map_err(|payload| TaskError::Panicked(TaskPanicked::from_payload(&*payload)));
        let deliver = self.deliver.take().expect("a task delivers once");
        deliver(outcome);
    }
    // ANCHOR_END: run

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

// ANCHOR: task_drop
impl<F, D: FnOnce(Result<R, TaskError>), R> Drop for Task<F, D, R> {
    /// A task dropped before it delivered (dropped from the queue by `terminate`) reports
    /// `Terminated`, so nobody waits for it forever.
    fn drop(&mut self) {
        if let Some(deliver) = self.deliver.take() {
            drop(self.f.take()); // the closure's captures go first, as if it had run
            deliver(Err(TaskError::Terminated));
        }
    }
}
// ANCHOR_END: task_drop

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    /// Counts deliveries per outcome kind: [ok, panicked, terminated].
    fn counter(seen: &Arc<[AtomicUsize; 3]>) -> impl FnOnce(Result<u8, TaskError>) + use<> {
        let seen = seen.clone();
        move |outcome| {
            let i = match outcome {
                Ok(_) => 0,
                Err(TaskError::Panicked(_)) => 1,
                Err(_) => 2,
            };
            seen[i].fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn every_fate_delivers_once() {
        let seen = Arc::new([const { AtomicUsize::new(0) }; 3]);
        Box::new(Task::new(|| 1, counter(&seen))).run();
        Box::new(Task::new(|| -> u8 { panic!("x") }, counter(&seen))).run();
        drop(Task::new(|| 1, counter(&seen)));
        let (f, _undelivered) = Task::new(|| 9, counter(&seen)).into_parts();
        assert_eq!(f(), 9);
        let counts: Vec<_> = seen.iter().map(|c| c.load(SeqCst)).collect();
        assert_eq!(counts, [1, 1, 1]);
    }

    #[test]
    fn refused_job_comes_back_typed() {
        /// What `Pool::submit` does with a job the queue hands back.
        fn round_trip<F, D>(f: F, d: D) -> (F, D)
        where
            F: FnOnce() -> u8 + Send + 'static,
            D: FnOnce(Result<u8, TaskError>) + Send + 'static,
        {
            let job: Box<dyn Job> = Box::new(Task::new(f, d));
            (*job.into_any().downcast::<Task<F, D, u8>>().unwrap()).into_parts()
        }
        let seen = Arc::new([const { AtomicUsize::new(0) }; 3]);
        let (f, d) = round_trip(|| 3, counter(&seen));
        assert_eq!(f(), 3);
        d(Err(TaskError::Closed));
        assert_eq!(seen[2].load(SeqCst), 1);
    }
}
