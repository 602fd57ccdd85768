//! # synclab
//!
//! Python's synchronization toolbox — `Lock`, `RLock`, `Event`, `Semaphore`, `BoundedSemaphore`,
//! `Condition`, `Barrier`, `Timer`, `Queue`, `LifoQueue`, `PriorityQueue`, `Pool` — built from
//! scratch on atomics and the futex system call.
//!
//! Every primitive is a small state machine over one or two [`AtomicU32`]s, documented by a state
//! table at the top of its file, that sleeps through [`futex::wait`] only when it must and makes
//! no system call on its uncontended paths. The only dependency is `libc`.
//!
//! synclab is also the library half of a workbook that replays a set of notes on Python's GIL,
//! threads, processes, locks and queues in Rust and then builds each primitive step by step; the
//! code here is what its chapters include.
//!
//! [`AtomicU32`]: std::sync::atomic::AtomicU32
//!
//! ## Python → synclab
//!
//! | Python | synclab | notes |
//! |---|---|---|
//! | `threading.Lock()` | [`Lock<T>`]: [`lock`](Lock::lock), [`try_lock`](Lock::try_lock), [`lock_timeout`](Lock::lock_timeout), [`is_locked`](Lock::is_locked) | owns its data; dropping the [`LockGuard`] is `release()` |
//! | `threading.Event()` | [`Event`]: [`set`](Event::set), [`clear`](Event::clear), [`is_set`](Event::is_set), [`wait`](Event::wait), [`wait_timeout`](Event::wait_timeout) | `set` makes no syscall when nobody waits |
//! | `threading.Semaphore(n)` | [`Semaphore`]: [`acquire`](Semaphore::acquire), [`try_acquire`](Semaphore::try_acquire), [`acquire_timeout`](Semaphore::acquire_timeout), [`release`](Semaphore::release), [`release_n`](Semaphore::release_n), [`permit`](Semaphore::permit) | overflow is an [`Err`], never a wrap |
//! | `threading.BoundedSemaphore(n)` | [`BoundedSemaphore`] | releasing past the initial count is an [`Err`] (Python's `ValueError`) |
//! | `threading.RLock()` | [`RLock<T>`]: [`lock`](RLock::lock), [`try_lock`](RLock::try_lock), [`lock_timeout`](RLock::lock_timeout), [`is_locked`](RLock::is_locked), [`is_owned_by_current_thread`](RLock::is_owned_by_current_thread) | owner thread + recursion count; the guard gives `&T` (put a `Cell`/`RefCell` inside to mutate) |
//! | `threading.Barrier(n)` | [`Barrier`]: [`wait`](Barrier::wait), [`wait_timeout`](Barrier::wait_timeout), [`abort`](Barrier::abort), [`reset`](Barrier::reset), [`is_broken`](Barrier::is_broken), [`parties`](Barrier::parties), [`n_waiting`](Barrier::n_waiting) | `Err(BrokenBarrier)` is Python's `BrokenBarrierError` |
//! | `threading.Timer(d, f)` | [`Timer`]: [`start`](Timer::start), [`cancel`](Timer::cancel) `-> bool`, [`wait`](Timer::wait) | dropping the handle does not cancel, as in Python |
//! | `threading.Condition()` | [`Condition`]: [`wait`](Condition::wait), [`wait_while`](Condition::wait_while), [`wait_timeout`](Condition::wait_timeout), [`wait_timeout_while`](Condition::wait_timeout_while), [`notify_one`](Condition::notify_one), [`notify_all`](Condition::notify_all), [`notify`](Condition::notify) | used with a [`LockGuard`] or an [`RLockGuard`] (Python's default: every recursion level released, the count restored; see [`WaitGuard`]); `wait_for(p)` is `wait_while(!p)` |
//! | `queue.Queue(maxsize)` | [`Queue<T>`]: [`new`](Queue::new), [`bounded`](Queue::bounded), [`put`](Queue::put), [`get`](Queue::get), `try_*`, `*_timeout`, [`task_done`](Queue::task_done), [`join`](Queue::join), [`shutdown`](Queue::shutdown), [`shutdown_now`](Queue::shutdown_now) | a value that could not be queued comes back inside the error |
//! | `queue.LifoQueue()` | [`LifoQueue<T>`] | same methods |
//! | `queue.PriorityQueue()` | [`PriorityQueue<T: Ord>`](PriorityQueue) | same methods; smallest first, like Python |
//! | `multiprocessing.Pool(n)` (processes) | `process::Pool` (`serde` feature): `new(n)`, `apply_async(f, arg)`, `map`, `imap_unordered`, `close`, `join`, `terminate`; `process::init()` first in `main` | Linux; a task that panics, or whose worker dies (signal, exit), gets an `Err` saying how; the dead worker is replaced and the other tasks complete |
//! | `multiprocessing.pool.ThreadPool(n)` | [`Pool`]: [`apply_async`](Pool::apply_async) `->` [`AsyncResult`] ([`get`](AsyncResult::get), [`get_timeout`](AsyncResult::get_timeout), [`wait`](AsyncResult::wait), [`ready`](AsyncResult::ready), [`successful`](AsyncResult::successful)), [`map`](Pool::map), [`imap_unordered`](Pool::imap_unordered), [`close`](Pool::close), [`join`](Pool::join), [`terminate`](Pool::terminate) | worker threads; a panicking task is an [`Err`]([`TaskError`]) and the pool lives on; dropping the pool is `close` + `join` (Python's `with` terminates) |
//! | `multiprocessing.Queue/Lock/Event/Semaphore`, `Process` | [`process::Queue`], [`process::Lock`], [`process::Event`], [`process::Semaphore`] in a [`process::Shared`] region; children from [`process::Command`] | Linux; shared memory + non-private futex; a lock whose holder died returns [`process::OwnerDied`] |
//! | `multiprocessing.Semaphore` that survives a SIGKILLed holder | [`process::RobustSemaphore`] | Linux; each permit records its holder's pid; a dead holder's permit comes back with [`process::HolderDied`] |
//! | crossbeam-channel's `select!` over receivers | [`Select`]: [`queue`](Select::queue), [`get`](Select::get) `-> (index, item)`, [`try_get`](Select::try_get), [`get_timeout`](Select::get_timeout), [`biased`](Select::biased) | queues of one item type; fair (round robin) unless biased; `ShutDown` once every queue is shut down and empty |
//! | `multiprocessing.connection.wait(objects, timeout)` | [`process::wait_any`], [`process::wait_any_timeout`] `-> Vec<usize>` | process queues and events; Linux's `futex_waitv`, polling fallback before 5.16 |
//! | `put_nowait`, `get_nowait`, `qsize()`, `empty()`, `full()` | `try_put`, `try_get`, `len()`, `is_empty()`, `is_full()` | |
//! | `acquire(timeout=t)`, `wait(timeout=t)`, `get(timeout=t)` | `*_timeout(Duration)` | `Duration::ZERO` tries once; `Duration::MAX` waits forever |
//!
//! Nothing poisons: a thread that panics while holding a guard releases it on the way out, as
//! Python's `with` block does, and the primitive stays usable.
//!
//! ## One example per primitive
//!
//! A [`Lock`] owns the data it protects:
//!
//! ```
//! use synclab::Lock;
//!
//! let balance = Lock::new(0);
//! std::thread::scope(|s| {
//!     s.spawn(|| *balance.lock() += 5);
//!     s.spawn(|| *balance.lock() += 8);
//! });
//! assert_eq!(balance.into_inner(), 13);
//! ```
//!
//! An [`Event`] is a starting gun:
//!
//! ```
//! use synclab::Event;
//!
//! let go = Event::new();
//! std::thread::scope(|s| {
//!     for _ in 0..3 {
//!         s.spawn(|| go.wait());
//!     }
//!     go.set(); // every waiter wakes
//! });
//! assert!(go.is_set());
//! ```
//!
//! A [`Semaphore`] limits how many threads do something at once:
//!
//! ```
//! use synclab::Semaphore;
//!
//! let downloads = Semaphore::new(2);
//! std::thread::scope(|s| {
//!     for _ in 0..5 {
//!         s.spawn(|| {
//!             let _permit = downloads.permit(); // at most 2 threads in here
//!             // ... download ...
//!         });
//!     }
//! });
//! assert_eq!(downloads.available(), 2);
//! ```
//!
//! A [`BoundedSemaphore`] refuses to be released more often than it was acquired:
//!
//! ```
//! use synclab::BoundedSemaphore;
//!
//! let sem = BoundedSemaphore::new(1);
//! sem.acquire();
//! assert!(sem.release().is_ok());
//! assert!(sem.release().is_err()); // Python raises ValueError here
//! ```
//!
//! A [`Condition`] lets a thread sleep until the locked state changes:
//!
//! ```
//! use synclab::{Condition, Lock};
//!
//! let items = Lock::new(Vec::new());
//! let changed = Condition::new();
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         items.lock().push("work");
//!         changed.notify_one();
//!     });
//!     let items = changed.wait_while(items.lock(), |v| v.is_empty());
//!     assert_eq!(*items, ["work"]);
//! });
//! ```
//!
//! A [`Queue`] connects producers and consumers; [`shutdown`](Queue::shutdown) ends the stream:
//!
//! ```
//! use synclab::Queue;
//!
//! let q = Queue::bounded(4);
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         for i in 0..10 {
//!             q.put(i).unwrap();
//!         }
//!         q.shutdown();
//!     });
//!     let mut got = Vec::new();
//!     while let Ok(i) = q.get() {
//!         got.push(i);
//!     }
//!     assert_eq!(got, (0..10).collect::<Vec<_>>());
//! });
//! ```
//!
//! [`LifoQueue`] and [`PriorityQueue`] have the same methods:
//!
//! ```
//! use synclab::{LifoQueue, PriorityQueue};
//!
//! let stack = LifoQueue::new();
//! let heap = PriorityQueue::new();
//! for i in [2, 3, 1] {
//!     stack.put(i).unwrap();
//!     heap.put(i).unwrap();
//! }
//! assert_eq!(stack.try_get(), Ok(1)); // last in, first out
//! assert_eq!(heap.try_get(), Ok(1)); // smallest first
//! ```
//!
//! ## Modules
//!
//! - [`futex`]: sleeping on an atomic — the one place that talks to the OS, public so that
//!   readers of the workbook can build their own primitives on it.
//! - [`explore`]: a deterministic scheduler for teaching-sized models: every interleaving of a
//!   few threads' steps, the outcome histogram, the notes' step table and a replay key.
//! - [`process`]: the primitives shared between processes, shared memory, and child processes
//!   started the `spawn` way (Linux).
//!
//! ## Platforms
//!
//! Linux and Android use the `futex` system call; macOS `__ulock_wait2`; Windows
//! `WaitOnAddress`; FreeBSD `_umtx_op`; every other platform a portable table of parked threads
//! (also available on Linux with the `force-fallback` feature, for testing). Under
//! `RUSTFLAGS="--cfg loom"` the atomics and the futex become models for the loom checker.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backoff;
mod barrier;
mod condition;
mod event;
#[cfg(not(loom))]
pub mod explore;
pub mod futex;
mod futex_lock;
mod lock;
#[cfg(all(feature = "lock_api", not(loom)))]
mod lock_api;
mod pool;
#[cfg(not(loom))]
pub mod process;
mod queue;
mod queued_lock;
mod rlock;
mod semaphore;
mod sync;
mod timer;

pub use barrier::{Barrier, BarrierWaitResult, BrokenBarrier};
pub use condition::{Condition, WaitGuard, WaitGuardRef, WaitTimeoutResult};
pub use event::Event;
pub use futex_lock::FutexLock;
pub use lock::{Lock, LockGuard};
pub use pool::{AsyncResult, ImapUnordered, Pool, PoolClosed, TaskError, TaskPanicked, WorkerDied};
pub use queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, Select, Selectable, ShutDown,
    TaskDoneError,
};
pub use queued_lock::RawLock;
/// How many times loom model threads parked on a [`RawLock`] (loom builds only: the models check
/// that they reach the park).
#[cfg(loom)]
#[doc(hidden)]
pub use queued_lock::loom_parks;
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, ReleaseError, Semaphore, SemaphorePermit};
pub use timer::Timer;

#[cfg(doctest)]
mod book_doctests;

/// The README's code blocks, compiled and run as doctests by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
