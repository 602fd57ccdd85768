//! The pool's error types: why a task gave no value.
//!
//! | Python (`multiprocessing.Pool`) | synclab |
//! |---|---|
//! | the task's exception, re-raised by `AsyncResult.get()` | [`TaskError::Panicked`]`(`[`TaskPanicked`]`)` |
//! | `get()` after `terminate()` (Python hangs, or raises on timeout) | [`TaskError::Terminated`] |
//! | `ValueError("Pool not running")` from `apply_async`/`map` after `close` | [`TaskError::Closed`], or [`PoolClosed`] from [`try_apply_async`](crate::Pool::try_apply_async) |
//! | a worker process killed in a task (Python's `get()` hangs: bpo-22393) | [`TaskError::WorkerDied`]`(`[`WorkerDied`]`)`, process pool only |
//! | no per-task timeout (the `pebble` package adds one) | [`TaskError::TimedOut`], process pool only |
//! | a pickling error | [`TaskError::Codec`]: the argument or result did not encode or decode, process pool only |
//! | a worker that cannot be started | [`TaskError::Spawn`], process pool only |

use std::any::Any;
use std::error::Error;
use std::fmt;
use std::time::Duration;

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
    /// A panic whose message (if it was a string) came from a worker process.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))] // only the process pool uses it
    pub(crate) fn from_message(message: Option<String>) -> TaskPanicked {
        TaskPanicked { message }
    }

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
    /// [`process::Pool`](crate::process) only: the worker process died while it ran the task
    /// (killed by a signal, or exited); a fresh worker replaced it.
    WorkerDied(WorkerDied),
    /// [`process::Pool`](crate::process) only: the task ran longer than the pool's task
    /// timeout (held here); its worker was killed and replaced.
    TimedOut(Duration),
    /// [`process::Pool`](crate::process) only: the argument or the result could not be
    /// encoded or decoded (Python's pickling error); the message says which and why.
    Codec(String),
    /// [`process::Pool`](crate::process) only: no worker process could be started to run the
    /// task (the message says why: the system refused the process, or the executable was
    /// replaced on disk since the program started).
    Spawn(String),
}

/// How a worker process died: the signal that killed it, or the status it exited with
/// (Python's `Process.exitcode`, negative for a signal). Held by [`TaskError::WorkerDied`].
///
/// ```
/// use synclab::WorkerDied;
///
/// let killed = WorkerDied::new(4242, Some(9), None);
/// assert_eq!(killed.signal(), Some(9));
/// assert_eq!(killed.to_string(), "the worker process 4242 running the task was killed by signal 9 (SIGKILL)");
/// let exited = WorkerDied::new(4243, None, Some(3));
/// assert_eq!(exited.exit_code(), Some(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkerDied {
    pid: u32,
    signal: Option<i32>,
    exit_code: Option<i32>,
}

impl WorkerDied {
    /// A worker `pid` that died by `signal`, or exited with `exit_code`.
    ///
    /// ```
    /// let d = synclab::WorkerDied::new(1, None, Some(0));
    /// assert_eq!(d.pid(), 1);
    /// ```
    pub fn new(pid: u32, signal: Option<i32>, exit_code: Option<i32>) -> WorkerDied {
        WorkerDied {
            pid,
            signal,
            exit_code,
        }
    }

    /// The dead worker's process id.
    ///
    /// ```
    /// assert_eq!(synclab::WorkerDied::new(7, Some(6), None).pid(), 7);
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The signal that killed it (9 for SIGKILL, 6 for `abort`, 11 for a segfault), if a
    /// signal did.
    ///
    /// ```
    /// assert_eq!(synclab::WorkerDied::new(7, Some(11), None).signal(), Some(11));
    /// ```
    pub fn signal(&self) -> Option<i32> {
        self.signal
    }

    /// The status it exited with, if it exited (`std::process::exit` in a task).
    ///
    /// ```
    /// assert_eq!(synclab::WorkerDied::new(7, Some(9), None).exit_code(), None);
    /// ```
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code
    }
}

/// The usual name of a Linux signal number.
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => return None,
    })
}

impl fmt::Display for WorkerDied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the worker process {} running the task ", self.pid)?;
        match (self.signal, self.exit_code) {
            (Some(sig), _) => match signal_name(sig) {
                Some(name) => write!(f, "was killed by signal {sig} ({name})"),
                None => write!(f, "was killed by signal {sig}"),
            },
            (None, Some(code)) => write!(f, "exited with status {code}"),
            (None, None) => f.write_str("died"),
        }
    }
}

impl Error for WorkerDied {}

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
            _ => None,
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
            TaskError::WorkerDied(died) => died.fmt(f),
            TaskError::TimedOut(limit) => write!(
                f,
                "the task ran past its timeout of {limit:?}: its worker was killed and replaced"
            ),
            TaskError::Codec(why) => f.write_str(why),
            TaskError::Spawn(why) => write!(f, "no worker process could be started: {why}"),
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
