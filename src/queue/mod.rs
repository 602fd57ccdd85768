//! Python's `queue` module: [`Queue`] (FIFO), [`LifoQueue`] and [`PriorityQueue`], with task
//! tracking (`task_done`/`join`) and Python 3.13's shutdown.
//!
//! The Python → synclab naming is in [`Queue`]'s documentation.
//!
//! # How it is built
//!
//! One blocking layer (`core.rs`: spin, then sleep on a futex only while empty or full; wake
//! only when someone sleeps; shutdown; task counting) over three stores:
//!
//! | queue | store | file |
//! |---|---|---|
//! | `Queue::bounded` | lock-free ring, Vyukov's bounded MPMC queue (crossbeam-channel's array flavor) | `array.rs` |
//! | `Queue::new` | lock-free linked blocks (crossbeam-channel's list flavor) | `list.rs` |
//! | `LifoQueue` | `Vec` under a [`Lock`](crate::Lock) | `locked.rs` |
//! | `PriorityQueue` | `BinaryHeap` (min-first) under a [`Lock`](crate::Lock) | `locked.rs` |
//!
//! [`Select`] (`select.rs`) waits on several queues at once; each queue keeps the selectors
//! registered on it beside its getters (`selectors.rs`).

mod api;
mod array;
mod block;
mod core;
mod error;
mod fifo;
mod list;
mod locked;
mod select;
mod selectors;
pub(crate) mod waiters;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub use error::{GetError, PutError, ShutDown, TaskDoneError};
pub use select::{Select, Selectable};

/// A first-in, first-out queue for passing items between threads: Python's `queue.Queue`.
///
/// Bounded queues ([`bounded`](Queue::bounded)) are a lock-free ring of preallocated slots (so
/// `bounded(n)` allocates `n` slots up front, as `crossbeam_channel::bounded` does); unbounded
/// ones ([`new`](Queue::new)) a lock-free list of blocks. Neither takes a lock or makes a system
/// call unless a thread has to sleep because the queue is empty or full.
///
/// The ten workers of the notes, each putting its id; the main thread collects them:
///
/// ```
/// use synclab::Queue;
///
/// let q = Queue::new();
/// std::thread::scope(|s| {
///     for id in 0..10 {
///         let q = &q;
///         s.spawn(move || q.put(id).unwrap());
///     }
/// });
/// let mut ids: Vec<i32> = (0..10).map(|_| q.get().unwrap()).collect();
/// ids.sort();
/// assert_eq!(ids, (0..10).collect::<Vec<_>>());
/// ```
///
/// Items from one producer come out in the order it put them:
///
/// ```
/// let q = synclab::Queue::bounded(4);
/// for c in ['a', 'b', 'c'] {
///     q.put(c).unwrap();
/// }
/// assert_eq!(q.shutdown_now(), ['a', 'b', 'c']);
/// ```
///
/// # From Python
///
/// | Python | synclab |
/// |---|---|
/// | `Queue()`, `Queue(maxsize=0)` | [`Queue::new()`] (unbounded) |
/// | `Queue(maxsize=n)`, `n > 0` | [`Queue::bounded(n)`](Queue::bounded) (`bounded(0)` panics: use `new`) |
/// | `put(x)` | [`put(x)`](Queue::put) `-> Result<(), ShutDown<T>>` |
/// | `put_nowait(x)`, `put(x, block=False)` | [`try_put(x)`](Queue::try_put): `Err(PutError::Full(x))` |
/// | `put(x, timeout=t)` | [`put_timeout(x, t)`](Queue::put_timeout): `Err(PutError::Timeout(x))` |
/// | `get()` | [`get()`](Queue::get) `-> Result<T, ShutDown>` |
/// | `get_nowait()`, `get(block=False)` | [`try_get()`](Queue::try_get): `Err(GetError::Empty)` |
/// | `get(timeout=t)` | [`get_timeout(t)`](Queue::get_timeout): `Err(GetError::Timeout)` |
/// | `qsize()` / `empty()` / `full()` / `maxsize` | [`len`](Queue::len) / [`is_empty`](Queue::is_empty) / [`is_full`](Queue::is_full) / [`capacity`](Queue::capacity) |
/// | `task_done()`, `join()` | [`task_done`](Queue::task_done) `-> Result<(), TaskDoneError>`, [`join`](Queue::join), [`join_timeout`](Queue::join_timeout) |
/// | `shutdown()` | [`shutdown`](Queue::shutdown) |
/// | `shutdown(immediate=True)` | [`shutdown_now`](Queue::shutdown_now) `-> Vec<T>` (the discarded items, in get order) |
/// | `is_shutdown` | [`is_shutdown`](Queue::is_shutdown) |
/// | exceptions `Full`, `Empty`, `ShutDown`, `ValueError` | [`PutError`], [`GetError`], [`ShutDown`], [`TaskDoneError`] |
///
/// Differences: a value that could not be queued always comes back inside the error (Python
/// drops it with the exception); negative timeouts cannot be written (`Duration`), and
/// `Duration::MAX` means "no timeout"; `LifoQueue` and `PriorityQueue` have the same methods.
///
///
/// # Sharing
///
/// All three queues are `Send + Sync` exactly when `T: Send`; share them with `&` (in
/// `thread::scope`) or in an `Arc`:
///
/// ```compile_fail
/// fn shareable<Q: Send + Sync>() {}
/// shareable::<synclab::Queue<std::rc::Rc<u8>>>(); // Rc is not Send: refused
/// ```
pub struct Queue<T> {
    core: core::Core<fifo::Fifo<T>>,
}

/// A last-in, first-out queue (a stack shared between threads): Python's `queue.LifoQueue`.
///
/// Same methods as [`Queue`]; `get` returns the most recently put item. The items live in a
/// `Vec` under a [`Lock`](crate::Lock); the blocking layer is [`Queue`]'s.
///
/// ```
/// let q = synclab::LifoQueue::new();
/// for n in 1..=3 {
///     q.put(n).unwrap();
/// }
/// assert_eq!(q.get(), Ok(3));
/// assert_eq!(q.get(), Ok(2));
/// assert_eq!(q.get(), Ok(1));
/// ```
pub struct LifoQueue<T> {
    core: core::Core<locked::Locked<Vec<T>>>,
}

/// A queue that hands out the **smallest** item first: Python's `queue.PriorityQueue`.
///
/// Same methods as [`Queue`], for `T: Ord`. Like Python's `heapq`, equal items come out in no
/// particular order; put `(priority, sequence_number, item)` tuples for first-in-first-out
/// among equals. Wrap items in [`std::cmp::Reverse`] to get the **largest** first. The items
/// live in a binary heap under a [`Lock`](crate::Lock).
///
/// ```
/// use std::cmp::Reverse;
/// use synclab::PriorityQueue;
///
/// let q = PriorityQueue::new();
/// for job in [(2, "write"), (1, "read"), (3, "close")] {
///     q.put(job).unwrap();
/// }
/// assert_eq!(q.get(), Ok((1, "read")));
///
/// let largest_first = PriorityQueue::new();
/// for n in [2, 9, 4] {
///     largest_first.put(Reverse(n)).unwrap();
/// }
/// assert_eq!(largest_first.get(), Ok(Reverse(9)));
/// ```
pub struct PriorityQueue<T> {
    core: core::Core<locked::Locked<BinaryHeap<Reverse<T>>>>,
}
