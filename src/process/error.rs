//! What can go wrong when setting up shared memory or a child process: [`ProcessError`].
//!
//! The primitives themselves report the same errors as their in-process twins (`ShutDown`,
//! `PutError`, `GetError`, `ReleaseError`), plus [`OwnerDied`](super::OwnerDied) for a lock whose
//! holder was killed.

use std::error::Error;
use std::fmt;
use std::io;

/// Why a shared region could not be created, opened or inherited, or a child not started.
///
/// ```
/// use synclab::process::{ProcessError, Shared};
///
/// // Outside a child started by `process::Command` nothing was inherited.
/// match Shared::<u64>::inherited(0) {
///     Err(ProcessError::NotInherited { index: 0 }) | Err(ProcessError::Unsupported) => {}
///     other => panic!("unexpected: {other:?}"),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessError {
    /// This platform has no process-shared primitives (only Linux has them).
    Unsupported,
    /// A system call failed (`memfd_create`, `shm_open`, `mmap`, spawning, waiting, ...).
    Io(io::Error),
    /// The region holds another type than the one asked for (size, alignment or type name
    /// differ), or it is not initialized yet.
    LayoutMismatch {
        /// What the caller expected, e.g. `"synclab::process::Queue<u64, 1024> (8216 bytes, align 8)"`.
        expected: String,
        /// What the region's header says.
        found: String,
    },
    /// No region with this index was handed to this process by its parent.
    NotInherited {
        /// The index asked for.
        index: usize,
    },
    /// A name for a named region must be 1 to 200 characters, without `/` or NUL.
    InvalidName {
        /// The name given.
        name: String,
    },
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::Unsupported => f.write_str(
                "process-shared primitives are only supported on Linux (unsupported on this platform)",
            ),
            ProcessError::Io(e) => write!(f, "system call failed: {e}"),
            ProcessError::LayoutMismatch { expected, found } => write!(
                f,
                "the shared region does not hold the expected type: expected {expected}, found {found}"
            ),
            ProcessError::NotInherited { index } => write!(
                f,
                "no shared region #{index} was inherited: this process was not started by \
                 process::Command with that many .share() calls"
            ),
            ProcessError::InvalidName { name } => write!(
                f,
                "invalid name {name:?} for a named region: use 1 to 200 characters, without '/' or NUL"
            ),
        }
    }
}

impl Error for ProcessError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ProcessError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ProcessError {
    fn from(e: io::Error) -> Self {
        ProcessError::Io(e)
    }
}

/// The previous holder of a process [`Lock`](super::Lock) died without unlocking it; the lock is now yours.
///
/// The data may be inconsistent (the holder may have died half-way through an update).
/// [`into_inner`](OwnerDied::into_inner) gives the guard, to repair the data or to go on.
///
/// ```
/// use synclab::process::{Lock, OwnerDied};
///
/// let lock = Lock::new(0u32);
/// let v = match lock.lock() {
///     Ok(guard) => *guard,
///     Err(died) => {
///         eprintln!("{died}"); // the process holding the lock (pid ...) died; ...
///         let mut guard = died.into_inner();
///         *guard = 0; // repair
///         *guard
///     }
/// };
/// assert_eq!(v, 0);
/// ```
pub struct OwnerDied<G> {
    guard: G,
    pid: u32,
}

impl<G> OwnerDied<G> {
    pub(super) fn new(guard: G, pid: u32) -> Self {
        OwnerDied { guard, pid }
    }

    /// The guard: the lock is held by the caller.
    ///
    /// ```
    /// # let lock = synclab::process::Lock::new(1u8);
    /// let guard = lock.lock().unwrap_or_else(synclab::process::OwnerDied::into_inner);
    /// assert_eq!(*guard, 1);
    /// ```
    pub fn into_inner(self) -> G {
        self.guard
    }

    /// The pid of the process that died holding the lock.
    ///
    /// ```
    /// # let lock = synclab::process::Lock::new(1u8);
    /// if let Err(died) = lock.lock() {
    ///     assert_ne!(died.owner_pid(), std::process::id());
    /// }
    /// ```
    pub fn owner_pid(&self) -> u32 {
        self.pid
    }
}

impl<G> fmt::Debug for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerDied")
            .field("owner_pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl<G> fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the process holding the lock (pid {}) died; the data may be inconsistent",
            self.pid
        )
    }
}

impl<G> std::error::Error for OwnerDied<G> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        assert!(
            ProcessError::Unsupported
                .to_string()
                .contains("only supported on Linux")
        );
        let e = ProcessError::NotInherited { index: 2 };
        assert!(e.to_string().contains("#2"));
        let e = ProcessError::Io(io::Error::from_raw_os_error(2));
        assert!(e.source().is_some());
    }
}
