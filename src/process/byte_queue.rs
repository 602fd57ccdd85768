//! [`ByteQueue`]: messages of any length between processes, in a ring of a size chosen at run
//! time (the ring and its state words: `process/msg_ring.rs`).

use std::fmt;
use std::io;
use std::time::Duration;

use super::msg_ring::{MAX_WORDS, MessageRing, max_message};
use super::ring::Patience;
use super::{GetMessageError, ProcessError, PutMessageError, Shareable, Shared};
use crate::TaskDoneError;

/// A bounded FIFO queue of byte messages shared between processes: `multiprocessing.Queue` for
/// `bytes`, and `JoinableQueue`'s [`task_done`](ByteQueue::task_done)/[`join`](ByteQueue::join).
///
/// The messages live in a ring of `capacity` bytes chosen at run time ([`new`](ByteQueue::new)),
/// each taking its length rounded up to 8 bytes plus an 8-byte length word. Hand the queue to
/// a child with [`Command::share`](super::Command::share)`(q.`[`region`](ByteQueue::region)`())`;
/// the child opens it with [`inherited`](ByteQueue::inherited). The methods are those of
/// [`synclab::Queue`](crate::Queue); the errors add what only a message ring has (a message
/// larger than the ring, a ring another process wrote garbage into): [`PutMessageError`],
/// [`GetMessageError`]. A message that could not be queued comes back in the error.
///
/// A process killed in the middle of `put` or `get` leaves no torn message and no lost space:
/// a record is written first and made visible by one commit store, last.
///
/// ```
/// use synclab::process::ByteQueue;
///
/// # fn main() -> Result<(), synclab::process::ProcessError> {
/// # if cfg!(not(target_os = "linux")) { return Ok(()); }
/// let q = ByteQueue::new(4096)?;
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         for n in 0..10 {
///             q.put(format!("[{n}] Hello!")).unwrap();
///         }
///         q.shutdown();
///     });
///     let mut got = Vec::new();
///     while let Ok(bytes) = q.get() {
///         got.push(String::from_utf8(bytes).unwrap());
///     }
///     assert_eq!(got[3], "[3] Hello!");
///     assert_eq!(got.len(), 10);
/// });
/// # Ok(()) }
/// ```
pub struct ByteQueue {
    region: Shared<MessageRing>,
}

impl ByteQueue {
    /// A queue whose ring holds `capacity` bytes (rounded up to a multiple of 8, at least 16),
    /// in a new anonymous shared region. [`ProcessError::Io`] (`InvalidInput`) above 512 MiB.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(100).unwrap();
    /// assert_eq!(q.capacity(), 104);
    /// assert_eq!(q.max_message(), 96); // one word holds the length
    /// # }
    /// ```
    pub fn new(capacity: usize) -> Result<ByteQueue, ProcessError> {
        let words = capacity.div_ceil(8).max(2);
        if words > MAX_WORDS {
            return Err(ProcessError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a message ring holds at most {} bytes", MAX_WORDS * 8),
            )));
        }
        let region = Shared::with_tail(MessageRing::new(), words)?;
        Ok(ByteQueue { region })
    }

    /// In a child started by [`Command`](super::Command), the queue the parent shared as its
    /// `index`-th region.
    ///
    /// ```
    /// use synclab::process::{ByteQueue, ProcessError};
    /// assert!(matches!(
    ///     ByteQueue::inherited(0),
    ///     Err(ProcessError::NotInherited { .. } | ProcessError::Unsupported)
    /// ));
    /// ```
    pub fn inherited(index: usize) -> Result<ByteQueue, ProcessError> {
        let region = Shared::<MessageRing>::inherited(index)?;
        if region.tail().len() < 2 || region.tail().len() > MAX_WORDS {
            return Err(ProcessError::LayoutMismatch {
                expected: "a message ring of 2 words or more".into(),
                found: format!("{} words", region.tail().len()),
            });
        }
        Ok(ByteQueue { region })
    }

    /// The shared region, for [`Command::share`](super::Command::share).
    ///
    /// ```no_run
    /// use synclab::process::{ByteQueue, Command};
    /// let q = ByteQueue::new(1 << 16).unwrap();
    /// let child = Command::new("worker").share(q.region()).spawn().unwrap();
    /// ```
    pub fn region(&self) -> &Shared<impl Shareable + use<>> {
        &self.region
    }

    /// The region, as the typed queue uses it.
    #[cfg(feature = "serde")]
    pub(super) fn ring(&self) -> &Shared<MessageRing> {
        &self.region
    }

    /// For `wait_any` (see `MessageRing::arm_get`).
    pub(super) fn arm_get(&self) -> Option<(&std::sync::atomic::AtomicU32, u32)> {
        self.region.arm_get(self.words().len())
    }

    /// For `wait_any` (see `MessageRing::disarm_get`).
    pub(super) fn disarm_get(&self) {
        self.region.disarm_get(self.words().len())
    }

    fn words(&self) -> &[std::sync::atomic::AtomicU64] {
        self.region.tail()
    }

    /// Puts `msg` at the back, waiting while there is no room for it.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(64).unwrap();
    /// q.put(b"hello").unwrap();
    /// assert_eq!(q.get().unwrap(), b"hello");
    /// # }
    /// ```
    pub fn put<M: AsRef<[u8]>>(&self, msg: M) -> Result<(), PutMessageError<M>> {
        self.region
            .put_with(self.words(), msg, Patience::Until(None))
    }

    /// Puts `msg` if there is room for it now (Python's `put_nowait`).
    ///
    /// ```
    /// use synclab::process::PutMessageError;
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(16).unwrap(); // one 8-byte message
    /// q.try_put(b"12345678").unwrap();
    /// assert_eq!(q.try_put(b"x"), Err(PutMessageError::Full(b"x")));
    /// # }
    /// ```
    pub fn try_put<M: AsRef<[u8]>>(&self, msg: M) -> Result<(), PutMessageError<M>> {
        self.region.put_with(self.words(), msg, Patience::None)
    }

    /// Puts `msg`, waiting at most `timeout` for room.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::process::PutMessageError;
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(16).unwrap();
    /// q.put(b"12345678").unwrap();
    /// let r = q.put_timeout(b"x", Duration::from_millis(5));
    /// assert_eq!(r, Err(PutMessageError::Timeout(b"x")));
    /// # }
    /// ```
    pub fn put_timeout<M: AsRef<[u8]>>(
        &self,
        msg: M,
        timeout: Duration,
    ) -> Result<(), PutMessageError<M>> {
        let deadline = crate::futex::deadline_after(timeout);
        self.region
            .put_with(self.words(), msg, Patience::Until(deadline))
    }

    /// Takes the message at the front, waiting while the queue is empty.
    /// `Err(`[`ShutDown`](GetMessageError::ShutDown)`)` once the queue is shut down and empty.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(64).unwrap();
    /// q.put(vec![1, 2, 3]).unwrap();
    /// assert_eq!(q.get().unwrap(), [1, 2, 3]);
    /// # }
    /// ```
    pub fn get(&self) -> Result<Vec<u8>, GetMessageError> {
        let mut out = Vec::new();
        self.get_into(&mut out).map(|()| out)
    }

    /// Like [`get`](ByteQueue::get), into `out` (cleared first): no allocation once `out` is
    /// large enough.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(64).unwrap();
    /// let mut buf = Vec::with_capacity(64);
    /// q.put(b"abc").unwrap();
    /// q.get_into(&mut buf).unwrap();
    /// assert_eq!(buf, b"abc");
    /// # }
    /// ```
    pub fn get_into(&self, out: &mut Vec<u8>) -> Result<(), GetMessageError> {
        self.region
            .get_with(self.words(), out, Patience::Until(None))
    }

    /// Takes the front message if there is one now (Python's `get_nowait`).
    ///
    /// ```
    /// use synclab::process::GetMessageError;
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(64).unwrap();
    /// assert_eq!(q.try_get(), Err(GetMessageError::Empty));
    /// # }
    /// ```
    pub fn try_get(&self) -> Result<Vec<u8>, GetMessageError> {
        let mut out = Vec::new();
        self.region
            .get_with(self.words(), &mut out, Patience::None)
            .map(|()| out)
    }

    /// Takes the front message, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::process::GetMessageError;
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(64).unwrap();
    /// assert_eq!(q.get_timeout(Duration::ZERO), Err(GetMessageError::Timeout));
    /// # }
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<Vec<u8>, GetMessageError> {
        let deadline = crate::futex::deadline_after(timeout);
        let mut out = Vec::new();
        self.region
            .get_with(self.words(), &mut out, Patience::Until(deadline))
            .map(|()| out)
    }

    /// How many messages are queued (a snapshot: Python's `qsize()`).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(64).unwrap();
    /// q.put(b"a").unwrap();
    /// q.put(b"").unwrap();
    /// assert_eq!(q.len(), 2);
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.region.len(self.words())
    }

    /// `true` if no message is queued (a snapshot: Python's `empty()`).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// assert!(synclab::process::ByteQueue::new(64).unwrap().is_empty());
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.region.used(self.words().len()) == Some(0)
    }

    /// The ring's size in bytes, length words included.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// assert_eq!(synclab::process::ByteQueue::new(4096).unwrap().capacity(), 4096);
    /// # }
    /// ```
    pub fn capacity(&self) -> usize {
        self.words().len() * 8
    }

    /// The largest message the ring takes: its capacity less one length word.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// assert_eq!(synclab::process::ByteQueue::new(4096).unwrap().max_message(), 4088);
    /// # }
    /// ```
    pub fn max_message(&self) -> usize {
        max_message(self.words().len())
    }

    /// Marks one message taken with `get` as processed (Python's `JoinableQueue.task_done()`).
    /// More calls than messages put is an error and changes nothing.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(64).unwrap();
    /// q.put(b"job").unwrap();
    /// q.get().unwrap();
    /// q.task_done().unwrap();
    /// assert!(q.task_done().is_err());
    /// # }
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.region.task_done()
    }

    /// Blocks until every message put so far (by any process) has been marked with
    /// [`task_done`](ByteQueue::task_done) (Python's `JoinableQueue.join()`).
    ///
    /// A consumer killed between its `get` and its `task_done` never marks its message: `join`
    /// then waits for ever, as Python's does; [`join_timeout`](ByteQueue::join_timeout) bounds it.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(256).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         while let Ok(job) = q.get() {
    ///             let _ = job.len(); // the work
    ///             q.task_done().unwrap();
    ///         }
    ///     });
    ///     for n in 0..10u8 {
    ///         q.put([n]).unwrap();
    ///     }
    ///     q.join();
    ///     q.shutdown();
    /// });
    /// # }
    /// ```
    pub fn join(&self) {
        self.region.join_until(None);
    }

    /// Like [`join`](ByteQueue::join), waiting at most `timeout`; `true` if every message was
    /// marked done in time.
    ///
    /// ```
    /// use std::time::Duration;
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(64).unwrap();
    /// assert!(q.join_timeout(Duration::ZERO));
    /// q.put(b"x").unwrap();
    /// assert!(!q.join_timeout(Duration::from_millis(5)));
    /// # }
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.region
            .join_until(crate::futex::deadline_after(timeout))
    }

    /// Shuts the queue down, in every process: puts fail (handing their message back), gets
    /// drain what is left and then fail; every sleeper wakes.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::ByteQueue::new(64).unwrap();
    /// q.shutdown();
    /// assert!(q.is_shutdown());
    /// assert_eq!(q.put(b"late").unwrap_err().into_inner(), b"late");
    /// # }
    /// ```
    pub fn shutdown(&self) {
        self.region.shutdown()
    }

    /// `true` once [`shutdown`](ByteQueue::shutdown) was called (by any process).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// assert!(!synclab::process::ByteQueue::new(64).unwrap().is_shutdown());
    /// # }
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.region.is_shutdown()
    }
}

impl fmt::Debug for ByteQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("process::ByteQueue")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}
