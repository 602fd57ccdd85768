//! # synclab
//!
//! Python's synchronization toolbox, built from scratch on atomics and the futex system call.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod backoff;
mod condition;
mod event;
pub mod futex;
mod lock;
#[cfg(all(feature = "lock_api", not(loom)))]
mod lock_api;
mod semaphore;
mod sync;

pub use condition::{Condition, WaitTimeoutResult};
pub use event::Event;
pub use lock::{Lock, LockGuard, RawLock};
pub use semaphore::{BoundedSemaphore, ReleaseError, Semaphore, SemaphorePermit};
