//! [`AsyncResult`]: the handle to one task's outcome, over a result slot shared with the task.
//!
//! The slot is a [`Lock`] holding `Option<Result<R, TaskError>>` plus an [`Event`]. It is filled
//! exactly once, by whoever disposes of the task: the worker that ran it, `terminate` dropping it
//! from the queue, or the submitter when the pool refused it. Filling stores the value under the
//! lock and then sets the event; readers wait on the event (its Release/Acquire pair makes the
//! stored value visible) and only then take the lock.

use std::fmt;
use std::time::Duration;

use super::TaskError;
use crate::sync::Arc;
use crate::{Event, Lock};

/// What a task produced, or why it produced nothing.
pub(super) type Outcome<R> = Result<R, TaskError>;

// ANCHOR: slot
/// One task's outcome, filled once and read once.
pub(crate) struct Slot<R> {
    value: Lock<Option<Outcome<R>>>,
    ready: Event,
}

impl<R> Slot<R> {
    pub(crate) fn new() -> Slot<R> {
        Slot {
            value: Lock::new(None),
            ready: Event::new(),
        }
    }

    /// Stores the outcome and wakes the waiters. Called once per slot.
    pub(crate) fn fill(&self, outcome: Outcome<R>) {
        let old = self.value.lock().replace(outcome);
        debug_assert!(old.is_none(), "a result slot was filled twice");
        self.ready.set();
    }
}
// ANCHOR_END: slot

/// The handle to a task submitted with [`Pool::apply_async`](crate::Pool::apply_async):
/// Python's `multiprocessing.pool.AsyncResult`.
///
/// It does not borrow the pool (the pool may be dropped first), and it is `Send` when `R` is,
/// so it can be handed to another thread. Dropping it does not cancel the task.
///
/// ```
/// use synclab::Pool;
///
/// let pool = Pool::new(2);
/// let square = pool.apply_async(|| 12 * 12);
/// square.wait();
/// assert!(square.ready());
/// assert_eq!(square.successful(), Some(true));
/// assert_eq!(square.get(), Ok(144));
/// ```
///
/// | Python | synclab |
/// |---|---|
/// | `get()` | [`get`](AsyncResult::get) `-> Result<R, TaskError>` (consumes the handle) |
/// | `get(timeout)` | [`get_timeout`](AsyncResult::get_timeout): `Err(self)` on timeout, so nothing is lost |
/// | `wait()`, `wait(timeout)` | [`wait`](AsyncResult::wait), [`wait_timeout`](AsyncResult::wait_timeout) `-> bool` |
/// | `ready()` | [`ready`](AsyncResult::ready) |
/// | `successful()` (`ValueError` if not ready) | [`successful`](AsyncResult::successful) `-> Option<bool>` (`None` if not ready) |
pub struct AsyncResult<R> {
    slot: Arc<Slot<R>>,
}

impl<R> AsyncResult<R> {
    pub(crate) fn new(slot: Arc<Slot<R>>) -> AsyncResult<R> {
        AsyncResult { slot }
    }

    /// Blocks until the task is done and returns its value (Python's `get()`).
    ///
    /// `Err(TaskError::Panicked(_))` if the task panicked (with its message),
    /// `Err(TaskError::Terminated)` if [`Pool::terminate`](crate::Pool::terminate) dropped it
    /// before it ran, `Err(TaskError::Closed)` if the pool had refused it.
    ///
    /// ```
    /// let pool = synclab::Pool::new(1);
    /// let ok = pool.apply_async(|| "done");
    /// let bad = pool.apply_async(|| -> &str { panic!("oops") });
    /// assert_eq!(ok.get(), Ok("done"));
    /// assert_eq!(bad.get().unwrap_err().to_string(), "task panicked: oops");
    /// ```
    // ANCHOR: get
    pub fn get(self) -> Result<R, TaskError> {
        self.slot.ready.wait();
        self.take()
    }
    // ANCHOR_END: get

    /// Waits at most `timeout` for the task (Python's `get(timeout)`): `Ok(outcome)` once it is
    /// done, or `Err(self)`, the handle itself, if it is still pending, so the value can still
    /// be fetched later. `Duration::ZERO` only looks; `Duration::MAX` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::{Event, Pool};
    /// use std::sync::Arc;
    ///
    /// let pool = Pool::new(1);
    /// let go = Arc::new(Event::new());
    /// let gate = go.clone();
    /// let pending = pool.apply_async(move || {
    ///     gate.wait();
    ///     7
    /// });
    /// let pending = pending.get_timeout(Duration::ZERO).unwrap_err(); // not yet: handed back
    /// go.set();
    /// assert_eq!(pending.get_timeout(Duration::MAX).ok(), Some(Ok(7)));
    /// ```
    pub fn get_timeout(self, timeout: Duration) -> Result<Result<R, TaskError>, AsyncResult<R>> {
        if self.slot.ready.wait_timeout(timeout) {
            Ok(self.take())
        } else {
            Err(self)
        }
    }

    /// Blocks until the task is done, without taking its value (Python's `wait()`).
    ///
    /// ```
    /// let pool = synclab::Pool::new(1);
    /// let r = pool.apply_async(|| ());
    /// r.wait();
    /// assert!(r.ready());
    /// ```
    pub fn wait(&self) {
        self.slot.ready.wait();
    }

    /// Waits at most `timeout` for the task; `true` if it is done (Python's `wait(timeout)`
    /// followed by `ready()`). `Duration::ZERO` only looks; `Duration::MAX` waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = synclab::Pool::new(1);
    /// let r = pool.apply_async(|| ());
    /// assert!(r.wait_timeout(Duration::MAX));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.slot.ready.wait_timeout(timeout)
    }

    /// `true` once the task is done: it returned, panicked, or was dropped or refused (Python's
    /// `ready()`). Never blocks.
    ///
    /// ```
    /// let pool = synclab::Pool::new(1);
    /// pool.close();
    /// assert!(pool.apply_async(|| ()).ready()); // refused: done at once
    /// ```
    pub fn ready(&self) -> bool {
        self.slot.ready.is_set()
    }

    /// `Some(true)` if the task returned a value, `Some(false)` if it panicked or never ran,
    /// `None` while it is not done (Python's `successful()`, which raises `ValueError` then).
    /// Never blocks.
    ///
    /// ```
    /// let pool = synclab::Pool::new(1);
    /// let bad = pool.apply_async(|| -> () { panic!() });
    /// bad.wait();
    /// assert_eq!(bad.successful(), Some(false));
    /// ```
    pub fn successful(&self) -> Option<bool> {
        if !self.ready() {
            return None;
        }
        // The event was set after the slot was filled, so the value is there.
        self.slot.value.lock().as_ref().map(Result::is_ok)
    }

    /// Takes the value out of a slot whose event is set.
    fn take(self) -> Result<R, TaskError> {
        self.slot
            .value
            .lock()
            .take()
            .expect("a ready result slot holds its outcome")
    }
}

/// Shows whether the task is done, not its value, so `R` need not be `Debug`.
impl<R> fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("ready", &self.ready())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_states() {
        let slot = Arc::new(Slot::new());
        let r = AsyncResult::new(slot.clone());
        assert!(!r.ready());
        assert_eq!(r.successful(), None);
        assert_eq!(format!("{r:?}"), "AsyncResult { ready: false }");
        let r = r.get_timeout(Duration::ZERO).unwrap_err();
        slot.fill(Ok(5));
        assert_eq!(r.successful(), Some(true));
        assert_eq!(r.get(), Ok(5));
    }

    #[test]
    fn failed_is_not_successful() {
        let slot = Arc::new(Slot::<()>::new());
        slot.fill(Err(TaskError::Terminated));
        let r = AsyncResult::new(slot);
        assert_eq!(r.successful(), Some(false));
        assert_eq!(
            r.get_timeout(Duration::ZERO).ok(),
            Some(Err(TaskError::Terminated))
        );
    }
}
