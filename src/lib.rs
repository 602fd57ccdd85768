//! # synclab
//!
//! Python's synchronization toolbox, built from scratch on atomics and the futex system call.
//!
//! | Python | synclab | notes |
//! |---|---|---|
//! | `threading.RLock()` | [`RLock<T>`]: `lock`, `try_lock`, `lock_timeout`, `is_locked`, `is_owned_by_current_thread` | the guard gives `&T` (put a `Cell`/`RefCell` inside to mutate) |
//! | `threading.Barrier(n)` | [`Barrier`]: `wait`, `wait_timeout`, `abort`, `reset`, `is_broken`, `parties`, `n_waiting` | `Err(BrokenBarrier)` is Python's `BrokenBarrierError` |
//! | `threading.Timer(d, f)` | [`Timer`]: `start(d, f)`, `cancel() -> bool`, `wait` | dropping the handle does not cancel |
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod backoff;
mod barrier;
mod condition;
mod event;
pub mod futex;
mod lock;
#[cfg(all(feature = "lock_api", not(loom)))]
mod lock_api;
mod rlock;
mod semaphore;
mod sync;
mod timer;

pub use barrier::{Barrier, BarrierWaitResult, BrokenBarrier};
pub use condition::{Condition, WaitTimeoutResult};
pub use event::Event;
pub use lock::{Lock, LockGuard, RawLock};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, ReleaseError, Semaphore, SemaphorePermit};
pub use timer::Timer;
