//! The three things the process primitives need from the OS, in one place: a futex that works
//! between processes, this process's id, and "is process N still alive?".
//!
//! On Linux and Android the futex is [`futex::shared`](crate::futex::shared) (no
//! `FUTEX_PRIVATE_FLAG`). Elsewhere the primitives still compile and work between the threads
//! of one process, on the private futex calls; no shared region can be created there, so they
//! never meet another process.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::Instant;

use crate::futex::{self, WaitResult};

/// Sleeps while `*word == expected` (see [`futex::wait`]).
#[inline]
pub(crate) fn wait(word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> WaitResult {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return futex::shared::wait(word, expected, deadline);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    return futex::wait(word, expected, deadline);
}

/// Wakes one sleeper on `word`, in any process.
#[inline]
pub(crate) fn wake_one(word: &AtomicU32) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    futex::shared::wake_one(word);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    futex::wake_one(word);
}

/// Wakes every sleeper on `word`, in any process.
#[inline]
pub(crate) fn wake_all(word: &AtomicU32) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    futex::shared::wake_all(word);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    futex::wake_all(word);
}

/// This process's id, cached (a `getpid` system call per lock would cost more than the lock).
static PID: AtomicU32 = AtomicU32::new(0);

/// This process's id, read once. A child made by a bare `fork` (which synclab never does, but a
/// user may) forgets the cached value through a `pthread_atfork` handler registered on first use,
/// so a lock it takes records the child's pid, not its parent's.
#[inline]
pub(super) fn my_pid() -> u32 {
    // Relaxed: every thread computes the same value; the race only repeats the call.
    match PID.load(Relaxed) {
        0 => {
            forget_pid_in_forked_children();
            let pid = std::process::id();
            PID.store(pid, Relaxed);
            pid
        }
        pid => pid,
    }
}

/// Registers (once) a fork handler that clears [`PID`] in the child.
fn forget_pid_in_forked_children() {
    #[cfg(all(unix, not(miri)))]
    {
        extern "C" fn forget_pid() {
            // Atomic stores: async-signal-safe, as a fork handler must be.
            PID.store(0, Relaxed);
            super::owner::forget_in_forked_child();
        }
        static REGISTER: std::sync::Once = std::sync::Once::new();
        REGISTER.call_once(|| {
            // SAFETY: `forget_pid` is a plain `extern "C" fn` with no captured state that lives
            // for the whole program; registering handlers has no other precondition.
            unsafe { libc::pthread_atfork(None, None, Some(forget_pid)) };
        });
    }
}

// ANCHOR: alive
/// `false` only when process `pid` certainly no longer exists: the fallback of
/// [`owner::alive`](super::owner::alive) where there are no pidfds.
///
/// `kill(pid, 0)` sends no signal; it only checks. `ESRCH` means no such process; `EPERM`
/// means it exists but belongs to someone else (alive). A zombie (dead, not yet reaped by its
/// parent) still counts as existing, so a parent reaps its children (`Child::join`) before the
/// others can see them dead. If the pid was reused by a new process in the meantime, the owner
/// looks alive here (the start time that `owner` compares catches that): pids are recycled only
/// after the whole range (`/proc/sys/kernel/pid_max`) has been used.
pub(super) fn alive(pid: u32) -> bool {
    if pid == my_pid() {
        return true; // ourselves: no system call (and none under Miri)
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 performs only the existence and permission checks; it affects no
        // process.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        true // no other process can share our memory here
    }
}
// ANCHOR_END: alive
