//! # synclab
//!
//! Python's synchronization toolbox, built from scratch on atomics and the futex system call.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod backoff;
pub mod futex;
mod lock;
mod queue;
mod sync;

pub use lock::{Lock, LockGuard, RawLock};
pub use queue::{GetError, LifoQueue, PriorityQueue, PutError, Queue, ShutDown, TaskDoneError};
