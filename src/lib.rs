//! # synclab
//!
//! Python's synchronization toolbox, built from scratch on atomics and the futex system call.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod backoff;
mod event;
pub mod futex;
mod lock;
mod semaphore;
mod sync;

pub use event::Event;
pub use lock::{Lock, LockGuard, RawLock};
pub use semaphore::{BoundedSemaphore, ReleaseError, Semaphore, SemaphorePermit};
