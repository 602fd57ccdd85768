//! The pool's error types: why a task gave no value.
//!
//! | Python (`multiprocessing.Pool`) | synclab |
//! |---|---|
//! | the task's exception, re-raised by `AsyncResult.get()` | [`TaskError::Panicked`]`(`[`TaskPanicked`]`)` |
//! | `get()` after `terminate()` (Python hangs, or raises on timeout) | [`TaskError::Terminated`] |
//! | `ValueError("Pool not running")` from `apply_async`/`map` after `close` | [`TaskError::Closed`], or [`PoolClosed`] from [`try_apply_async`](crate::Pool::try_apply_async) |

use std::any::Any;
use std::error::Error;
use std::fmt;

/// A task panicked; [`Display`](fmt::Display) shows the panic message.
///
/// The message is kept when the panic payload is a `&str` or a `String` (what `panic!`
/// produces); any other payload is reported as a "non-string panic payload".
///
/// ```
/// use synclab::{Pool, TaskError};
///
/// let pool = Pool::new(1);
/// let err = pool.apply_async(|| -> u8 { panic!("bad input {}", 7) }).get().unwrap_err();
/// let TaskError::Panicked(panicked) = err else { unreachable!() };
/// assert_eq!(panicked.message(), Some("bad input 7"));
/// assert_eq!(panicked.to_string(), "task panicked: bad input 7");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskPanicked {
    /// The panic message, `None` for a payload that is neither `&str` nor `String`.
    message: Option<String>,
}

impl TaskPanicked {
    /// Reads the message out of a payload caught by `catch_unwind`.
    pub(super) fn from_payload(payload: &(dyn Any + Send)) -> TaskPanicked {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            Some((*s).to_owned())
        } else {
            payload.downcast_ref::<String>().cloned()
        };
        TaskPanicked { message }
    }

    /// The panic message, or `None` if the task panicked with a payload that is not a string
    /// (`std::panic::panic_any(42)`).
    ///
    /// ```
    /// let pool = synclab::Pool::new(1);
    /// let err = pool.apply_async(|| std::panic::panic_any(42)).get().unwrap_err();
    /// assert_eq!(err.panic_message(), None);
    /// assert_eq!(err.to_string(), "task panicked with a non-string panic payload");
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for TaskPanicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => write!(f, "task panicked: {message}"),
            None => f.write_str("task panicked with a non-string panic payload"),
        }
    }
}

impl Error for TaskPanicked {}

/// Why a task submitted to a [`Pool`](crate::Pool) gave no value: what
/// [`AsyncResult::get`](crate::AsyncResult::get), [`Pool::map`](crate::Pool::map) and
/// [`Pool::imap_unordered`](crate::Pool::imap_unordered) return instead.
///
/// ```
/// use synclab::{Pool, TaskError};
///
/// let pool = Pool::new(1);
/// pool.close();
/// assert_eq!(pool.apply_async(|| 1).get(), Err(TaskError::Closed)); // never ran
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskError {
    /// The task ran and panicked (Python: `get()` re-raises the task's exception).
    Panicked(TaskPanicked),
    /// The task was still queued when [`Pool::terminate`](crate::Pool::terminate) dropped it:
    /// it never ran. (Python's `get()` would hang, or time out.)
    Terminated,
    /// The pool was already closed or terminated when the task was submitted, so it was
    /// refused and never ran (Python raises `ValueError("Pool not running")`).
    Closed,
}

impl TaskError {
    /// The panic message if the task panicked with a string message, else `None`.
    ///
    /// ```
    /// let pool = synclab::Pool::new(1);
    /// let err = pool.apply_async(|| -> () { panic!("boom") }).get().unwrap_err();
    /// assert_eq!(err.panic_message(), Some("boom"));
    /// assert_eq!(synclab::TaskError::Terminated.panic_message(), None);
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            TaskError::Panicked(p) => p.message(),
            TaskError::Terminated | TaskError::Closed => None,
        }
    }
}

impl From<TaskPanicked> for TaskError {
    /// Wraps the panic as [`TaskError::Panicked`].
    fn from(p: TaskPanicked) -> TaskError {
        TaskError::Panicked(p)
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The panic message is part of this message, so `source` is `None`: a report
            // printing the chain would show it twice otherwise.
            TaskError::Panicked(p) => p.fmt(f),
            TaskError::Terminated => {
                f.write_str("the task never ran: the pool was terminated while it was queued")
            }
            TaskError::Closed => f.write_str(
                "the task was refused: the pool was closed or terminated before it was submitted",
            ),
        }
    }
}

impl Error for TaskError {}

/// [`Pool::try_apply_async`](crate::Pool::try_apply_async) refused the task because the pool
/// is closed; the closure comes back inside, as a queue's [`ShutDown`](crate::ShutDown) hands
/// back its item.
///
/// `Debug` prints `PoolClosed(..)`, so closures (which are not `Debug`) can be unwrapped.
///
/// ```
/// let pool = synclab::Pool::new(1);
/// pool.close();
/// let err = pool.try_apply_async(|| 6 * 7).unwrap_err();
/// let f = err.into_inner(); // not lost: run it here instead
/// assert_eq!(f(), 42);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PoolClosed<F>(pub F);

impl<F> PoolClosed<F> {
    /// The refused closure.
    ///
    /// ```
    /// let e = synclab::PoolClosed(|| 1);
    /// assert_eq!((e.into_inner())(), 1);
    /// ```
    pub fn into_inner(self) -> F {
        self.0
    }
}

impl<F> fmt::Debug for PoolClosed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PoolClosed(..)")
    }
}

impl<F> fmt::Display for PoolClosed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the pool is closed or terminated: the task was refused (the closure is handed back \
             in the error)",
        )
    }
}

impl<F> Error for PoolClosed<F> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads() {
        let s: Box<dyn Any + Send> = Box::new("static");
        let owned: Box<dyn Any + Send> = Box::new(String::from("owned"));
        let other: Box<dyn Any + Send> = Box::new(7_u32);
        assert_eq!(TaskPanicked::from_payload(&*s).message(), Some("static"));
        assert_eq!(TaskPanicked::from_payload(&*owned).message(), Some("owned"));
        assert_eq!(TaskPanicked::from_payload(&*other).message(), None);
    }

    #[test]
    fn messages_are_distinct() {
        let p = TaskError::from(TaskPanicked {
            message: Some("m".into()),
        });
        let all = [
            p.to_string(),
            TaskError::Terminated.to_string(),
            TaskError::Closed.to_string(),
        ];
        assert_eq!(all[0], "task panicked: m");
        assert!(all[1].contains("terminated") && all[2].contains("closed"));
        assert_eq!(format!("{:?}", PoolClosed(|| ())), "PoolClosed(..)");
    }
}
