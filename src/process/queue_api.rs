//! `process::Queue`'s public calls: the blocking, `try_` and timed forms of `put` and `get`
//! over `put_with` / `get_with` (`queue.rs`), and the snapshots.

use std::fmt;
use std::time::Duration;

use super::Patience;
use super::Queue;
use crate::process::Shareable;
use crate::sync::Ordering::Acquire;
use crate::{GetError, PutError, ShutDown};

impl<T: Shareable + Copy, const N: usize> Queue<T, N> {
    /// Puts `item` at the back, waiting while the queue is full. `Err(ShutDown(item))` once the
    /// queue is shut down: the item comes back.
    ///
    /// ```
    /// let q = synclab::process::Queue::<u32, 2>::new();
    /// q.put(7).unwrap();
    /// assert_eq!(q.get(), Ok(7));
    /// ```
    pub fn put(&self, item: T) -> Result<(), ShutDown<T>> {
        self.put_with(item, Patience::Until(None))
            .map_err(|e| ShutDown(e.into_inner()))
    }

    /// Puts `item` if there is room now (Python's `put_nowait`).
    ///
    /// ```
    /// use synclab::PutError;
    /// let q = synclab::process::Queue::<u32, 1>::new();
    /// q.try_put(1).unwrap();
    /// assert_eq!(q.try_put(2), Err(PutError::Full(2)));
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_with(item, Patience::None)
    }

    /// Puts `item`, waiting at most `timeout` for room.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::PutError;
    /// let q = synclab::process::Queue::<u32, 1>::new();
    /// q.put(1).unwrap();
    /// assert_eq!(q.put_timeout(2, Duration::from_millis(5)), Err(PutError::Timeout(2)));
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_with(item, Patience::Until(crate::futex::deadline_after(timeout)))
    }

    /// Takes the item at the front, waiting while the queue is empty. `Err(ShutDown(()))` only
    /// once the queue is shut down *and* empty.
    ///
    /// ```
    /// let q = synclab::process::Queue::<u32, 4>::new();
    /// q.put(1).unwrap();
    /// q.shutdown();
    /// assert_eq!(q.get(), Ok(1)); // drained first
    /// assert!(q.get().is_err());
    /// ```
    pub fn get(&self) -> Result<T, ShutDown> {
        self.get_with(Patience::Until(None))
            .map_err(|_| ShutDown(()))
    }

    /// Takes the front item if there is one now (Python's `get_nowait`).
    ///
    /// ```
    /// use synclab::GetError;
    /// let q = synclab::process::Queue::<u32, 4>::new();
    /// assert_eq!(q.try_get(), Err(GetError::Empty));
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.get_with(Patience::None)
    }

    /// Takes the front item, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::GetError;
    /// let q = synclab::process::Queue::<u32, 4>::new();
    /// assert_eq!(q.get_timeout(Duration::from_millis(5)), Err(GetError::Timeout));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.get_with(Patience::Until(crate::futex::deadline_after(timeout)))
    }

    /// How many items are queued (a snapshot: Python's `qsize()`).
    ///
    /// ```
    /// let q = synclab::process::Queue::<u32, 4>::new();
    /// q.put(1).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        // `head` first: `tail` only grows, so the later load is at least the earlier one; and
        // between the two loads more puts may land than there are slots, hence the `min`.
        let head = self.get.count.load(Acquire);
        let tail = self.put.count.load(Acquire);
        (tail.wrapping_sub(head) as usize).min(N)
    }

    /// `true` if no item is queued (a snapshot: Python's `empty()`).
    ///
    /// ```
    /// assert!(synclab::process::Queue::<u32, 4>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` if all `N` slots are taken (a snapshot: Python's `full()`).
    ///
    /// ```
    /// let q = synclab::process::Queue::<u32, 1>::new();
    /// q.put(1).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == N
    }

    /// The number of slots, `N` (always bounded, unlike `synclab::Queue::capacity`, which
    /// returns an `Option`).
    ///
    /// ```
    /// assert_eq!(synclab::process::Queue::<u8, 3>::new().capacity(), 3);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }

    /// `true` once [`shutdown`](Queue::shutdown) was called (by any process).
    ///
    /// ```
    /// assert!(!synclab::process::Queue::<u32, 4>::new().is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.shut.load(Acquire) != 0
    }
}

impl<T: Shareable + Copy, const N: usize> Default for Queue<T, N> {
    fn default() -> Self {
        Queue::new()
    }
}

impl<T: Shareable + Copy, const N: usize> fmt::Debug for Queue<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("process::Queue")
            .field("len", &self.len())
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}
