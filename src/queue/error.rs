//! The queues' error types: what a failed `put`, `get` or `task_done` tells you.
//!
//! The rule they all follow, as std's `SendError` does: **a value that could not be queued comes
//! back inside the error**, so nothing is ever lost. The `Debug` output does not require
//! `T: Debug` (it prints `Full(..)`), so `result.unwrap()` works for any item type.
//!
//! | Python (`queue` module) | synclab |
//! |---|---|
//! | `queue.Full` from `put_nowait` / `put(block=False)` | [`PutError::Full`] |
//! | `queue.Full` from `put(timeout=t)` | [`PutError::Timeout`] |
//! | `queue.Empty` from `get_nowait` / `get(block=False)` | [`GetError::Empty`] |
//! | `queue.Empty` from `get(timeout=t)` | [`GetError::Timeout`] |
//! | `queue.ShutDown` (3.13) | [`ShutDown`], [`PutError::ShutDown`], [`GetError::ShutDown`] |
//! | `ValueError('task_done() called too many times')` | [`TaskDoneError`] |

use std::error::Error;
use std::fmt;

/// The queue has been shut down: Python 3.13's `queue.ShutDown`.
///
/// [`put`](crate::Queue::put) returns `Err(ShutDown(item))`, handing the item back;
/// [`get`](crate::Queue::get) returns `Err(ShutDown(()))` once the queue is shut down *and*
/// empty.
///
/// ```
/// use synclab::{Queue, ShutDown};
///
/// let q = Queue::new();
/// q.shutdown();
/// let err = q.put(String::from("late")).unwrap_err();
/// assert_eq!(err.into_inner(), "late"); // the item comes back
/// assert_eq!(q.get(), Err(ShutDown(())));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ShutDown<T = ()>(pub T);

impl<T> ShutDown<T> {
    /// The item that could not be queued (for `put`), or `()` (for `get`).
    ///
    /// ```
    /// let e = synclab::ShutDown(7);
    /// assert_eq!(e.into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for ShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShutDown(..)")
    }
}

impl<T> fmt::Display for ShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the queue has been shut down: puts are refused (the item is handed back in the \
             error) and gets fail once the remaining items are drained",
        )
    }
}

impl<T> Error for ShutDown<T> {}

/// Why `try_put` or `put_timeout` did not queue the item; the item is inside.
///
/// A shut-down queue reports [`ShutDown`](PutError::ShutDown) even when it is also full.
///
/// ```
/// use std::time::Duration;
/// use synclab::{PutError, Queue};
///
/// let q = Queue::bounded(1);
/// q.put(1).unwrap();
/// assert_eq!(q.try_put(2), Err(PutError::Full(2)));
/// assert_eq!(q.put_timeout(3, Duration::ZERO), Err(PutError::Timeout(3)));
/// q.shutdown();
/// let err = q.try_put(4).unwrap_err();
/// assert!(err.is_shutdown());
/// assert_eq!(err.into_inner(), 4);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutError<T> {
    /// The queue was full (`try_put`; Python's `queue.Full` from `put_nowait`).
    Full(T),
    /// The queue stayed full until the timeout ran out (`put_timeout`).
    Timeout(T),
    /// The queue has been shut down.
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that could not be queued.
    ///
    /// ```
    /// assert_eq!(synclab::PutError::Full("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(t) | PutError::Timeout(t) | PutError::ShutDown(t) => t,
        }
    }

    /// `true` for [`PutError::Full`].
    ///
    /// ```
    /// assert!(synclab::PutError::Full(1).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }

    /// `true` for [`PutError::Timeout`].
    ///
    /// ```
    /// assert!(synclab::PutError::Timeout(1).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, PutError::Timeout(_))
    }

    /// `true` for [`PutError::ShutDown`].
    ///
    /// ```
    /// assert!(synclab::PutError::ShutDown(1).is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        matches!(self, PutError::ShutDown(_))
    }
}

impl<T> From<ShutDown<T>> for PutError<T> {
    fn from(ShutDown(t): ShutDown<T>) -> Self {
        PutError::ShutDown(t)
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PutError::Full(_) => "Full(..)",
            PutError::Timeout(_) => "Timeout(..)",
            PutError::ShutDown(_) => "ShutDown(..)",
        })
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PutError::Full(_) => {
                "the queue is full: the item is handed back in the error; retry later, use \
                 `put` to wait for room, or create the queue with a larger capacity"
            }
            PutError::Timeout(_) => {
                "timed out waiting for room in a full queue: the item is handed back in the \
                 error; are the consumers keeping up?"
            }
            PutError::ShutDown(_) => {
                "the queue has been shut down and accepts no more items: the item is handed \
                 back in the error"
            }
        })
    }
}

impl<T> Error for PutError<T> {}

/// Why `try_get` or `get_timeout` returned no item.
///
/// A shut-down queue still hands out its remaining items; `ShutDown` comes only once it is empty.
///
/// ```
/// use std::time::Duration;
/// use synclab::{GetError, Queue};
///
/// let q = Queue::<i32>::new();
/// assert_eq!(q.try_get(), Err(GetError::Empty));
/// assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Timeout));
/// q.shutdown();
/// assert_eq!(q.try_get(), Err(GetError::ShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GetError {
    /// The queue was empty (`try_get`; Python's `queue.Empty` from `get_nowait`).
    Empty,
    /// The queue stayed empty until the timeout ran out (`get_timeout`).
    Timeout,
    /// The queue has been shut down and is empty: no item will ever come.
    ShutDown,
}

impl GetError {
    /// `true` for [`GetError::Empty`].
    ///
    /// ```
    /// assert!(synclab::GetError::Empty.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == GetError::Empty
    }

    /// `true` for [`GetError::Timeout`].
    ///
    /// ```
    /// assert!(synclab::GetError::Timeout.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        *self == GetError::Timeout
    }

    /// `true` for [`GetError::ShutDown`].
    ///
    /// ```
    /// assert!(synclab::GetError::ShutDown.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        *self == GetError::ShutDown
    }
}

impl From<ShutDown> for GetError {
    fn from(_: ShutDown) -> Self {
        GetError::ShutDown
    }
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GetError::Empty => "the queue is empty: retry later, or use `get` to wait for an item",
            GetError::Timeout => {
                "timed out waiting for an item in an empty queue: are the producers running?"
            }
            GetError::ShutDown => {
                "the queue has been shut down and is empty: no more items will arrive"
            }
        })
    }
}

impl Error for GetError {}

/// `task_done` was called more times than items were put: Python's
/// `ValueError('task_done() called too many times')`. The task count is left unchanged.
///
/// ```
/// let q = synclab::Queue::new();
/// q.put(1).unwrap();
/// assert!(q.task_done().is_ok());
/// assert_eq!(q.task_done(), Err(synclab::TaskDoneError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "task_done() called more times than items were put: call it exactly once per item \
             taken with get",
        )
    }
}

impl Error for TaskDoneError {}
