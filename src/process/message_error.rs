//! What can go wrong putting or getting a message: [`PutMessageError`], [`GetMessageError`].
//!
//! The variants of `synclab::Queue`'s [`PutError`](crate::PutError) and
//! [`GetError`](crate::GetError), plus what only a message ring has: a message larger than the
//! whole ring, a ring that another process wrote garbage into, and (for the typed
//! `MessageQueue`) bytes that do not decode.

use std::error::Error;
use std::fmt;

/// Why a message was not queued; the message is inside, as it was given.
///
/// ```
/// use synclab::process::{ByteQueue, PutMessageError};
/// # if cfg!(target_os = "linux") {
/// let q = ByteQueue::new(64).unwrap(); // room for 56 bytes of message
/// let big = vec![0u8; 100];
/// let err = q.put(&big[..]).unwrap_err();
/// assert!(matches!(err, PutMessageError::TooLarge { max: 56, .. }));
/// assert_eq!(err.into_inner().len(), 100); // nothing lost
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PutMessageError<T> {
    /// No room now (`try_put`; Python's `queue.Full`).
    Full(T),
    /// No room until the timeout ran out (`put_timeout`).
    Timeout(T),
    /// The queue has been shut down.
    ShutDown(T),
    /// The message (with its 8-byte length word) is larger than the whole ring: it would never
    /// fit, so `put` does not wait for room.
    TooLarge {
        /// The message.
        message: T,
        /// The largest message this ring takes, in bytes.
        max: usize,
    },
    /// The ring's commit word holds values no put or get could have written: another process
    /// wrote garbage into the region. Nothing was written.
    Corrupt(T),
    /// The value could not be encoded (typed `MessageQueue` only: e.g. a `Serialize` impl that
    /// fails, or a sequence of unknown length).
    Encode {
        /// The value.
        message: T,
        /// The encoder's reason.
        reason: String,
    },
}

impl<T> PutMessageError<T> {
    /// The message that could not be queued.
    ///
    /// ```
    /// let e = synclab::process::PutMessageError::Full("hi");
    /// assert_eq!(e.into_inner(), "hi");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutMessageError::Full(m)
            | PutMessageError::Timeout(m)
            | PutMessageError::ShutDown(m)
            | PutMessageError::TooLarge { message: m, .. }
            | PutMessageError::Corrupt(m)
            | PutMessageError::Encode { message: m, .. } => m,
        }
    }

    /// The same error around another message (the typed queue hands back the value, not its
    /// bytes).
    ///
    /// ```
    /// use synclab::process::PutMessageError;
    /// let e = PutMessageError::Full(&b"7"[..]).map(|_| 7);
    /// assert_eq!(e, PutMessageError::Full(7));
    /// ```
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> PutMessageError<U> {
        match self {
            PutMessageError::Full(m) => PutMessageError::Full(f(m)),
            PutMessageError::Timeout(m) => PutMessageError::Timeout(f(m)),
            PutMessageError::ShutDown(m) => PutMessageError::ShutDown(f(m)),
            PutMessageError::TooLarge { message, max } => PutMessageError::TooLarge {
                message: f(message),
                max,
            },
            PutMessageError::Corrupt(m) => PutMessageError::Corrupt(f(m)),
            PutMessageError::Encode { message, reason } => PutMessageError::Encode {
                message: f(message),
                reason,
            },
        }
    }

    /// `true` for [`PutMessageError::ShutDown`].
    ///
    /// ```
    /// assert!(synclab::process::PutMessageError::ShutDown(()).is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        matches!(self, PutMessageError::ShutDown(_))
    }
}

impl<T> fmt::Display for PutMessageError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutMessageError::Full(_) => f.write_str("the message queue is full"),
            PutMessageError::Timeout(_) => {
                f.write_str("the message queue stayed full until the timeout")
            }
            PutMessageError::ShutDown(_) => f.write_str("the message queue is shut down"),
            PutMessageError::TooLarge { max, .. } => write!(
                f,
                "the message is larger than the whole ring ({max} bytes at most): make the queue larger"
            ),
            PutMessageError::Corrupt(_) => f.write_str(
                "the message ring holds garbage (another process wrote into it): nothing was put",
            ),
            PutMessageError::Encode { reason, .. } => {
                write!(f, "the value could not be encoded: {reason}")
            }
        }
    }
}

impl<T: fmt::Debug> Error for PutMessageError<T> {}

/// Why no message was taken.
///
/// ```
/// use synclab::process::{ByteQueue, GetMessageError};
/// # if cfg!(target_os = "linux") {
/// let q = ByteQueue::new(64).unwrap();
/// assert_eq!(q.try_get(), Err(GetMessageError::Empty));
/// q.shutdown();
/// assert_eq!(q.get(), Err(GetMessageError::ShutDown));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GetMessageError {
    /// No message now (`try_get`; Python's `queue.Empty`).
    Empty,
    /// No message until the timeout ran out (`get_timeout`).
    Timeout,
    /// The queue is shut down and empty.
    ShutDown,
    /// The ring holds a length or commit word that no put could have written: another process
    /// wrote garbage into the region. Nothing was taken; every later get says the same.
    Corrupt {
        /// What was wrong, e.g. `"a record's length word"`, and the word's value.
        what: &'static str,
        /// The word as found.
        word: u64,
    },
    /// The message's bytes do not decode as the queue's type (typed `MessageQueue` only): a
    /// process put another type, or garbage. The message was taken; its bytes are here.
    Decode {
        /// The bytes taken.
        bytes: Vec<u8>,
        /// The decoder's reason.
        reason: String,
    },
}

impl fmt::Display for GetMessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetMessageError::Empty => f.write_str("the message queue is empty"),
            GetMessageError::Timeout => {
                f.write_str("the message queue stayed empty until the timeout")
            }
            GetMessageError::ShutDown => f.write_str("the message queue is shut down and empty"),
            GetMessageError::Corrupt { what, word } => write!(
                f,
                "the message ring holds garbage in {what} ({word:#x}): another process wrote into it"
            ),
            GetMessageError::Decode { bytes, reason } => write!(
                f,
                "a message of {} bytes does not decode as the queue's type: {reason}",
                bytes.len()
            ),
        }
    }
}

impl Error for GetMessageError {}
