//! [`MessageQueue<T>`]: any `serde` value between processes (the `serde` feature), encoded with
//! `postcard` over a [`ByteQueue`]: Python's pickling `multiprocessing.Queue`.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ring::Patience;
use super::{ByteQueue, GetMessageError, ProcessError, PutMessageError, Shareable, Shared};
use crate::TaskDoneError;

thread_local! {
    /// The encoding and decoding buffer of this thread: no allocation per message once warm.
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A bounded FIFO queue of `T` values shared between processes: `multiprocessing.Queue` (and
/// `JoinableQueue`) for any `T: Serialize + DeserializeOwned`, as Python's carries any
/// picklable object.
///
/// Each value is encoded with [`postcard`](https://docs.rs/postcard) (a compact, `no_std`
/// format: a `u64` takes 1 to 10 bytes, a `String` its length and its bytes) into a
/// [`ByteQueue`] of `capacity` bytes, and decoded by the process that takes it. The plain-data
/// [`Queue<T, N>`](super::Queue) copies `Shareable` values without encoding and is the faster
/// path for them; this one carries `String`, `Vec`, enums and your `#[derive(Serialize,
/// Deserialize)]` structs. Bytes that do not decode as `T` (another program put another type,
/// or garbage) are [`GetMessageError::Decode`], never undefined behaviour.
///
/// ```
/// use synclab::process::MessageQueue;
///
/// # fn main() -> Result<(), synclab::process::ProcessError> {
/// # if cfg!(not(target_os = "linux")) { return Ok(()); }
/// let q = MessageQueue::<(u32, String)>::new(4096)?;
/// q.put((std::process::id(), "[0] Hello!".to_string())).unwrap();
/// let (pid, greeting) = q.get().unwrap();
/// assert_eq!(pid, std::process::id());
/// assert_eq!(greeting, "[0] Hello!");
/// # Ok(()) }
/// ```
pub struct MessageQueue<T> {
    bytes: ByteQueue,
    /// `fn() -> T`: the queue owns no `T`, and is `Send`/`Sync` whatever `T` is.
    _type: PhantomData<fn(T) -> T>,
}

impl<T: Serialize + DeserializeOwned> MessageQueue<T> {
    /// A queue whose ring holds `capacity` bytes of encoded values (see
    /// [`ByteQueue::new`]), in a new anonymous shared region.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<String>::new(1 << 16).unwrap();
    /// assert_eq!(q.capacity(), 65536);
    /// # }
    /// ```
    pub fn new(capacity: usize) -> Result<MessageQueue<T>, ProcessError> {
        ByteQueue::new(capacity).map(MessageQueue::from_bytes)
    }

    /// In a child started by [`Command`](super::Command), the queue the parent shared as its
    /// `index`-th region.
    ///
    /// ```
    /// use synclab::process::{MessageQueue, ProcessError};
    /// assert!(matches!(
    ///     MessageQueue::<String>::inherited(0),
    ///     Err(ProcessError::NotInherited { .. } | ProcessError::Unsupported)
    /// ));
    /// ```
    pub fn inherited(index: usize) -> Result<MessageQueue<T>, ProcessError> {
        ByteQueue::inherited(index).map(MessageQueue::from_bytes)
    }

    fn from_bytes(bytes: ByteQueue) -> MessageQueue<T> {
        MessageQueue {
            bytes,
            _type: PhantomData,
        }
    }

    /// The shared region, for [`Command::share`](super::Command::share).
    ///
    /// ```no_run
    /// use synclab::process::{Command, MessageQueue};
    /// let q = MessageQueue::<String>::new(1 << 16).unwrap();
    /// let child = Command::new("worker").share(q.region()).spawn().unwrap();
    /// ```
    pub fn region(&self) -> &Shared<impl Shareable + use<T>> {
        self.bytes.region()
    }

    /// The byte queue underneath (to put or get raw bytes, or to look at a message that did
    /// not decode).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<u64>::new(64).unwrap();
    /// q.put(300).unwrap();
    /// assert_eq!(q.as_bytes().get().unwrap(), [0xac, 0x02]); // postcard's varint
    /// # }
    /// ```
    pub fn as_bytes(&self) -> &ByteQueue {
        &self.bytes
    }

    // ANCHOR: typed_put
    fn put_with(&self, value: T, patience: Patience) -> Result<(), PutMessageError<T>> {
        BUF.with_borrow_mut(|buf| {
            buf.clear();
            let encoded = postcard::to_extend(&value, std::mem::take(buf));
            *buf = match encoded {
                Ok(encoded) => encoded,
                Err(e) => {
                    let reason = e.to_string();
                    return Err(PutMessageError::Encode {
                        message: value,
                        reason,
                    });
                }
            };
            let ring = self.bytes.ring();
            let put = ring.put_with(ring.tail(), &buf[..], patience);
            put.map_err(|e| e.map(|_| value))
        })
    }

    fn get_with(&self, patience: Patience) -> Result<T, GetMessageError> {
        BUF.with_borrow_mut(|buf| {
            let ring = self.bytes.ring();
            ring.get_with(ring.tail(), buf, patience)?;
            postcard::from_bytes(buf).map_err(|e| GetMessageError::Decode {
                bytes: buf.clone(),
                reason: e.to_string(),
            })
        })
    }
    // ANCHOR_END: typed_put

    /// Puts `value` at the back, waiting while there is no room for it; the value comes back
    /// in the error.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<Vec<String>>::new(256).unwrap();
    /// q.put(vec!["a".into(), "b".into()]).unwrap();
    /// assert_eq!(q.get().unwrap(), ["a", "b"]);
    /// # }
    /// ```
    pub fn put(&self, value: T) -> Result<(), PutMessageError<T>> {
        self.put_with(value, Patience::Until(None))
    }

    /// Puts `value` if there is room now.
    ///
    /// ```
    /// use synclab::process::PutMessageError;
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<u8>::new(16).unwrap();
    /// q.try_put(1).unwrap(); // a length word and a data word: the whole ring
    /// assert_eq!(q.try_put(2), Err(PutMessageError::Full(2)));
    /// # }
    /// ```
    pub fn try_put(&self, value: T) -> Result<(), PutMessageError<T>> {
        self.put_with(value, Patience::None)
    }

    /// Puts `value`, waiting at most `timeout` for room.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::process::PutMessageError;
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<String>::new(16).unwrap();
    /// q.put("full".into()).unwrap();
    /// let r = q.put_timeout("late".into(), Duration::from_millis(5));
    /// assert_eq!(r, Err(PutMessageError::Timeout("late".to_string())));
    /// # }
    /// ```
    pub fn put_timeout(&self, value: T, timeout: Duration) -> Result<(), PutMessageError<T>> {
        let deadline = crate::futex::deadline_after(timeout);
        self.put_with(value, Patience::Until(deadline))
    }

    /// Takes the value at the front, waiting while the queue is empty.
    ///
    /// ```
    /// use synclab::process::GetMessageError;
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<u32>::new(64).unwrap();
    /// q.as_bytes().put([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap(); // not a u32
    /// assert!(matches!(q.get(), Err(GetMessageError::Decode { .. })));
    /// # }
    /// ```
    pub fn get(&self) -> Result<T, GetMessageError> {
        self.get_with(Patience::Until(None))
    }

    /// Takes the front value if there is one now.
    ///
    /// ```
    /// use synclab::process::GetMessageError;
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<u32>::new(64).unwrap();
    /// assert_eq!(q.try_get(), Err(GetMessageError::Empty));
    /// # }
    /// ```
    pub fn try_get(&self) -> Result<T, GetMessageError> {
        self.get_with(Patience::None)
    }

    /// Takes the front value, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::process::GetMessageError;
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<u32>::new(64).unwrap();
    /// assert_eq!(q.get_timeout(Duration::ZERO), Err(GetMessageError::Timeout));
    /// # }
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetMessageError> {
        let deadline = crate::futex::deadline_after(timeout);
        self.get_with(Patience::Until(deadline))
    }

    /// How many values are queued (a snapshot). See [`ByteQueue::len`].
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<u32>::new(64).unwrap();
    /// q.put(1).unwrap();
    /// assert_eq!(q.len(), 1);
    /// assert!(!q.is_empty());
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// `true` if no value is queued (a snapshot).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// assert!(synclab::process::MessageQueue::<u32>::new(64).unwrap().is_empty());
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The ring's size in bytes. See [`ByteQueue::capacity`].
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// assert_eq!(synclab::process::MessageQueue::<u32>::new(64).unwrap().capacity(), 64);
    /// # }
    /// ```
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Marks one value taken as processed (Python's `JoinableQueue.task_done()`).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<u32>::new(64).unwrap();
    /// q.put(1).unwrap();
    /// q.get().unwrap();
    /// q.task_done().unwrap();
    /// q.join(); // returns at once: everything is done
    /// # }
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.bytes.task_done()
    }

    /// Blocks until every value put was marked done. See [`ByteQueue::join`].
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// synclab::process::MessageQueue::<u32>::new(64).unwrap().join();
    /// # }
    /// ```
    pub fn join(&self) {
        self.bytes.join()
    }

    /// Like [`join`](MessageQueue::join), waiting at most `timeout`.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<u32>::new(64).unwrap();
    /// q.put(1).unwrap();
    /// assert!(!q.join_timeout(std::time::Duration::ZERO));
    /// # }
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> bool {
        self.bytes.join_timeout(timeout)
    }

    /// Shuts the queue down, in every process. See [`ByteQueue::shutdown`].
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let q = synclab::process::MessageQueue::<String>::new(64).unwrap();
    /// q.shutdown();
    /// assert_eq!(q.put("late".into()).unwrap_err().into_inner(), "late");
    /// # }
    /// ```
    pub fn shutdown(&self) {
        self.bytes.shutdown()
    }

    /// `true` once the queue was shut down (by any process).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// assert!(!synclab::process::MessageQueue::<u8>::new(64).unwrap().is_shutdown());
    /// # }
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.bytes.is_shutdown()
    }
}

impl<T> fmt::Debug for MessageQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("process::MessageQueue")
            .field("type", &std::any::type_name::<T>())
            .field("bytes", &self.bytes)
            .finish()
    }
}
