//! The public methods, written once for all three queues by `queue_api!`: each queue is a
//! [`Core`] over its store, and every method forwards to the core. The doc examples name the
//! queue they are generated for, so each one runs (as a doctest) against every queue type.

use std::fmt;
use std::time::Duration;

use crate::futex;

use super::core::{Core, Store, Wait};
use super::error::{GetError, PutError, ShutDown, TaskDoneError};
use super::{LifoQueue, PriorityQueue, Queue};

/// `queue_api!(Type, [bounds on T], "items 1 then 2 come out as")`
macro_rules! queue_api {
    ($Q:ident, [$($bound:tt)*], $order:literal) => {
        impl<T $($bound)*> $Q<T> {
            /// An unbounded queue (Python's `maxsize=0`, the default): `put` never blocks.
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::new();")]
            /// q.put(1).unwrap();
            /// assert_eq!(q.capacity(), None);
            /// assert_eq!(q.len(), 1);
            /// ```
            pub fn new() -> Self {
                $Q { core: Core::new(None) }
            }

            /// A queue that holds at most `capacity` items (Python's `maxsize=capacity`): `put`
            /// blocks while it is full.
            ///
            /// # Panics
            ///
            /// If `capacity` is 0. Python's `maxsize=0` means *unbounded*, which here is
            #[doc = concat!("[`", stringify!($Q), "::new`]; a queue that could never hold an item")]
            /// would block every `put` forever, so it is refused rather than guessed at.
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::bounded(2);")]
            /// q.put(1).unwrap();
            /// q.put(2).unwrap();
            /// assert!(q.is_full());
            /// assert!(q.try_put(3).unwrap_err().is_full());
            /// ```
            pub fn bounded(capacity: usize) -> Self {
                assert!(
                    capacity != 0,
                    concat!(
                        stringify!($Q),
                        "::bounded(0): a queue needs room for at least one item. ",
                        "Python's maxsize=0 means unbounded: use ",
                        stringify!($Q),
                        "::new() for that"
                    )
                );
                $Q { core: Core::new(Some(capacity)) }
            }

            /// Adds `item`, blocking while the queue is full (Python's `put(item)`).
            ///
            /// Fails only if the queue is shut down (before or while waiting); the item comes
            /// back in the error.
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::bounded(1);")]
            /// q.put("a").unwrap();
            /// q.shutdown();
            /// assert_eq!(q.put("b").unwrap_err().into_inner(), "b");
            /// ```
            #[inline]
            pub fn put(&self, item: T) -> Result<(), ShutDown<T>> {
                self.core.push(item, Wait::Until(None)).map_err(|e| ShutDown(e.into_inner()))
            }

            /// Adds `item` if there is room now (Python's `put_nowait` / `put(block=False)`).
            ///
            /// `Err(Full(item))` if the queue is full, `Err(ShutDown(item))` if it is shut down
            /// (checked first).
            ///
            /// ```
            /// use synclab::PutError;
            #[doc = concat!("let q = synclab::", stringify!($Q), "::bounded(1);")]
            /// assert_eq!(q.try_put(1), Ok(()));
            /// assert_eq!(q.try_put(2), Err(PutError::Full(2)));
            /// ```
            #[inline]
            pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
                self.core.push(item, Wait::No)
            }

            /// Adds `item`, waiting at most `timeout` for room (Python's `put(item, timeout=t)`).
            ///
            /// `Err(Timeout(item))` if the queue stayed full. `Duration::ZERO` tries once;
            /// `Duration::MAX` waits forever.
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let q = synclab::", stringify!($Q), "::bounded(1);")]
            /// q.put(1).unwrap();
            /// let err = q.put_timeout(2, Duration::from_millis(5)).unwrap_err();
            /// assert!(err.is_timeout());
            /// assert_eq!(err.into_inner(), 2);
            /// ```
            #[inline]
            pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
                self.core.push(item, Wait::Until(futex::deadline_after(timeout)))
            }

            /// Removes and returns the next item, blocking while the queue is empty (Python's
            /// `get()`).
            ///
            /// Fails only once the queue is shut down *and* empty: items put before the
            /// shutdown are still handed out.
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::new();")]
            /// q.put(1).unwrap();
            /// q.shutdown();
            /// assert_eq!(q.get(), Ok(1));
            /// assert!(q.get().is_err());
            /// ```
            #[inline]
            pub fn get(&self) -> Result<T, ShutDown> {
                self.core.pop(Wait::Until(None)).map_err(|_| ShutDown(()))
            }

            /// Removes the next item if there is one now (Python's `get_nowait` /
            /// `get(block=False)`).
            ///
            /// ```
            /// use synclab::GetError;
            #[doc = concat!("let q = synclab::", stringify!($Q), "::new();")]
            /// assert_eq!(q.try_get(), Err(GetError::Empty));
            /// q.put(5).unwrap();
            /// assert_eq!(q.try_get(), Ok(5));
            /// ```
            #[inline]
            pub fn try_get(&self) -> Result<T, GetError> {
                self.core.pop(Wait::No)
            }

            /// Removes the next item, waiting at most `timeout` for one (Python's
            /// `get(timeout=t)`).
            ///
            /// `Err(Timeout)` if the queue stayed empty. `Duration::ZERO` tries once;
            /// `Duration::MAX` waits forever.
            ///
            /// ```
            /// use std::time::Duration;
            /// use synclab::GetError;
            #[doc = concat!("let q = synclab::", stringify!($Q), "::<i32>::new();")]
            /// assert_eq!(q.get_timeout(Duration::from_millis(5)), Err(GetError::Timeout));
            /// ```
            #[inline]
            pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
                self.core.pop(Wait::Until(futex::deadline_after(timeout)))
            }

            /// How many items are queued (Python's `qsize()`). A snapshot: other threads may
            /// change it at once.
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::new();")]
            /// q.put('x').unwrap();
            /// assert_eq!(q.len(), 1);
            /// ```
            pub fn len(&self) -> usize {
                self.core.store().len()
            }

            /// `true` if no item is queued (Python's `empty()`); a snapshot.
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::<u8>::new();")]
            /// assert!(q.is_empty());
            /// ```
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// `true` if a bounded queue holds `capacity` items (Python's `full()`); always
            /// `false` when unbounded. A snapshot.
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::bounded(1);")]
            /// assert!(!q.is_full());
            /// q.put(1).unwrap();
            /// assert!(q.is_full());
            /// ```
            pub fn is_full(&self) -> bool {
                self.capacity().is_some_and(|cap| self.len() >= cap)
            }

            /// The most items the queue holds (Python's `maxsize`), `None` when unbounded.
            ///
            /// ```
            #[doc = concat!("assert_eq!(synclab::", stringify!($Q), "::<u8>::bounded(3).capacity(), Some(3));")]
            #[doc = concat!("assert_eq!(synclab::", stringify!($Q), "::<u8>::new().capacity(), None);")]
            /// ```
            pub fn capacity(&self) -> Option<usize> {
                self.core.store().capacity()
            }

            /// Marks one item taken with `get` as processed (Python's `task_done()`), so that
            /// [`join`](Self::join) can return once every item put has been marked.
            ///
            /// Calling it more times than items were put is an error, not a panic, and changes
            /// nothing.
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::new();")]
            /// q.put(1).unwrap();
            /// let _item = q.get().unwrap();
            /// q.task_done().unwrap();
            /// assert!(q.task_done().is_err()); // one too many
            /// ```
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Blocks until every item put so far has been marked with
            /// [`task_done`](Self::task_done) (Python's `join()`).
            ///
            /// [`shutdown_now`](Self::shutdown_now) counts the items it discards as done; a
            /// plain [`shutdown`](Self::shutdown) does not, so `join` still waits for the
            /// consumers to finish.
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::new();")]
            /// std::thread::scope(|s| {
            ///     s.spawn(|| {
            ///         while let Ok(n) = q.get() {
            ///             let _ = n * 2; // the work
            ///             q.task_done().unwrap();
            ///         }
            ///     });
            ///     for n in 0..10 {
            ///         q.put(n).unwrap();
            ///     }
            ///     q.join(); // all 10 processed
            ///     q.shutdown(); // lets the worker's get fail, so it exits
            /// });
            /// ```
            pub fn join(&self) {
                self.core.join_until(None);
            }

            /// Like [`join`](Self::join), waiting at most `timeout`; `true` if every item was
            /// marked done in time. `Duration::ZERO` only checks.
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let q = synclab::", stringify!($Q), "::new();")]
            /// assert!(q.join_timeout(Duration::ZERO)); // nothing was put
            /// q.put(1).unwrap();
            /// assert!(!q.join_timeout(Duration::from_millis(5)));
            /// ```
            pub fn join_timeout(&self, timeout: Duration) -> bool {
                self.core.join_until(futex::deadline_after(timeout))
            }

            /// Shuts the queue down gracefully (Python 3.13's `shutdown()`): from now on every
            /// put fails with `ShutDown`, gets drain the remaining items and then fail, and
            /// every thread blocked in `put` or `get` wakes up to see it. Calling it again does
            /// nothing.
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::new();")]
            /// q.put(1).unwrap();
            /// q.shutdown();
            /// assert!(q.is_shutdown());
            /// assert!(q.put(2).is_err());
            /// assert_eq!(q.get(), Ok(1));
            /// assert!(q.get().is_err());
            /// ```
            pub fn shutdown(&self) {
                self.core.shutdown()
            }

            /// Shuts the queue down at once (Python 3.13's `shutdown(immediate=True)`) and hands
            /// back the items still queued, in the order `get` would have returned them.
            ///
            /// Blocked callers wake: putters get their item back, getters get `ShutDown`. Each
            /// discarded item counts as done for [`join`](Self::join), which therefore returns
            /// once the items already handed out are marked done too. Allowed after
            /// [`shutdown`](Self::shutdown).
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::new();")]
            /// q.put(1).unwrap();
            /// q.put(2).unwrap();
            #[doc = concat!("assert_eq!(q.shutdown_now(), ", $order, ");")]
            /// assert!(q.get().is_err());
            /// q.join(); // nothing left unfinished
            /// ```
            pub fn shutdown_now(&self) -> Vec<T> {
                self.core.shutdown_now()
            }

            /// `true` once [`shutdown`](Self::shutdown) or
            /// [`shutdown_now`](Self::shutdown_now) has been called (Python's `is_shutdown`).
            ///
            /// ```
            #[doc = concat!("let q = synclab::", stringify!($Q), "::<()>::new();")]
            /// assert!(!q.is_shutdown());
            /// q.shutdown();
            /// assert!(q.is_shutdown());
            /// ```
            pub fn is_shutdown(&self) -> bool {
                self.core.is_shutdown()
            }
        }

        impl<T $($bound)*> Default for $Q<T> {
            /// An unbounded queue, as [`new`](Self::new).
            fn default() -> Self {
                Self::new()
            }
        }

        /// Shows the state (length, capacity, shutdown, unfinished tasks), not the items, so
        /// `T` need not be `Debug`.
        impl<T $($bound)*> fmt::Debug for $Q<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($Q))
                    .field("len", &self.len())
                    .field("capacity", &self.capacity())
                    .field("unfinished", &self.core.unfinished())
                    .field("shutdown", &self.is_shutdown())
                    .finish()
            }
        }
    };
}

queue_api!(Queue, [], "[1, 2]");
queue_api!(LifoQueue, [], "[2, 1]");
queue_api!(PriorityQueue, [: Ord], "[1, 2]");
