//! # Exercise `shared_event` — Part II, "Across processes"
//!
//! Build an Event that works between processes: its whole state is one `AtomicU32` (`0` unset,
//! `1` set) that may live in memory mapped by several processes, so it holds no pointer, and
//! its sleepers sleep on `synclab::futex::shared`, the futex keyed by the memory's page rather
//! than by an address in one process. `set` wakes every waiter; `wait` and `wait_timeout`
//! re-check the word after every return of the futex.
//!
//! The tests use threads, and one child process: the parent maps a page with
//! `mmap(MAP_SHARED | MAP_ANONYMOUS)`, puts the event in it and forks. The child only touches
//! the word and calls `_exit` (the rules for a child of a multi-threaded process).
//!
//! Check your work: `cargo xtask check shared_event`

use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};
use std::time::Duration;

use synclab::futex;

const UNSET: u32 = 0;
const SET: u32 = 1;

/// Python's `multiprocessing.Event`: a flag that processes (and threads) can wait for.
/// `repr(transparent)`: exactly one `u32`, the same bytes in every process that maps it.
#[repr(transparent)]
pub struct SharedEvent {
    word: AtomicU32,
}

impl SharedEvent {
    /// A new, unset event.
    pub const fn new() -> Self {
        SharedEvent {
            word: AtomicU32::new(UNSET),
        }
    }

    /// `true` if the flag is set (a snapshot).
    pub fn is_set(&self) -> bool {
        // TODO: load the word (which ordering pairs with `set`?).
        todo!()
    }

    /// Sets the flag and wakes every waiter, in every process.
    pub fn set(&self) {
        // TODO: turn the flag on; if it was off, wake every waiter. Which wake reaches a
        // sleeper in *another* process: `futex::wake_all` or `futex::shared::wake_all`?
        todo!()
    }

    /// Turns the flag off.
    pub fn clear(&self) {
        // TODO: turn the flag off.
        todo!()
    }

    /// Sleeps until the flag is set.
    pub fn wait(&self) {
        // TODO: sleep with `futex::shared::wait` while the word is UNSET, and look again after
        // every return (a futex may return for no reason).
        todo!()
    }

    /// Sleeps until the flag is set or `timeout` has passed; `true` if it is set.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        // TODO: as `wait`, with a deadline (`futex::deadline_after` copes with Duration::MAX).
        // When the futex reports a timeout, return whether the flag is set after all.
        todo!()
    }
}

impl Default for SharedEvent {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Instant;

    #[test]
    fn set_clear_is_set_and_timeouts() {
        let ev = SharedEvent::new();
        assert_eq!(std::mem::size_of::<SharedEvent>(), 4);
        assert!(!ev.is_set());
        assert!(!ev.wait_timeout(Duration::ZERO));
        assert!(!ev.wait_timeout(Duration::from_millis(20)));
        ev.set();
        ev.set();
        assert!(ev.is_set());
        ev.wait();
        assert!(ev.wait_timeout(Duration::ZERO));
        assert!(ev.wait_timeout(Duration::MAX));
        ev.clear();
        assert!(!ev.is_set());
    }

    #[test]
    fn set_wakes_every_thread() {
        common::guarded("shared_event_threads", |status| {
            let ev = SharedEvent::new();
            let (waiting, returned) = (AtomicUsize::new(0), AtomicUsize::new(0));
            std::thread::scope(|s| {
                for i in 0..4 {
                    let (ev, waiting, returned) = (&ev, &waiting, &returned);
                    s.spawn(move || {
                        waiting.fetch_add(1, SeqCst);
                        if i % 2 == 0 {
                            ev.wait();
                        } else {
                            assert!(ev.wait_timeout(Duration::MAX));
                        }
                        returned.fetch_add(1, SeqCst);
                    });
                }
                while waiting.load(SeqCst) < 4 {
                    std::thread::yield_now();
                }
                std::thread::sleep(Duration::from_millis(30));
                assert_eq!(returned.load(SeqCst), 0, "a waiter returned before set()");
                status.set("main", "set(), joining");
                ev.set();
            });
            assert_eq!(returned.load(SeqCst), 4);
        });
    }

    /// Kills and reaps the forked child if the parent's side of the test panics first.
    struct Reap(libc::pid_t);

    impl Drop for Reap {
        fn drop(&mut self) {
            let mut status = 0;
            // SAFETY: our own child, not yet reaped (`Reap` is forgotten once it is).
            unsafe {
                libc::kill(self.0, libc::SIGKILL);
                libc::waitpid(self.0, &mut status, 0);
            }
        }
    }

    /// What the parent and the forked child share.
    #[repr(C)]
    struct Page {
        ev: SharedEvent,
        child_waiting: AtomicU32,
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot fork")]
    fn set_wakes_a_child_process() {
        let size = std::mem::size_of::<Page>();
        // SAFETY: a new anonymous mapping; no existing memory is affected.
        let mem = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(mem, libc::MAP_FAILED, "mmap failed");
        let page = mem.cast::<Page>();
        // SAFETY: the mapping is page-aligned, writable and large enough for a `Page`.
        unsafe {
            page.write(Page {
                ev: SharedEvent::new(),
                child_waiting: AtomicU32::new(0),
            })
        };
        // SAFETY: initialised just above; the mapping lives until the munmap at the end, after
        // the child has been reaped.
        let page = unsafe { &*page };

        // SAFETY: the child only uses atomics and the futex (async-signal-safe) and `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            page.child_waiting.store(1, SeqCst);
            let woke = std::panic::catch_unwind(|| page.ev.wait()).is_ok();
            // SAFETY: ends the child at once, running nothing of the parent's copy.
            unsafe { libc::_exit(if woke { 0 } else { 2 }) };
        }
        assert!(pid > 0, "fork failed");
        let reap = Reap(pid);
        let deadline = Instant::now() + Duration::from_secs(5);
        while page.child_waiting.load(SeqCst) == 0 && Instant::now() < deadline {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(50)); // let it fall asleep
        page.ev.set();

        let mut status = 0;
        let exited = loop {
            // SAFETY: `status` is a valid place for the child's status.
            if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
                std::mem::forget(reap);
                break true;
            }
            if Instant::now() > deadline {
                drop(reap); // kills and reaps it
                break false;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        // SAFETY: the child is gone and `page` is not used after this.
        unsafe { libc::munmap(mem, size) };
        assert!(
            exited,
            "the child never woke up: did set() wake a private futex, which only reaches \
             sleepers of its own process?"
        );
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the child's wait() failed (status {status})"
        );
    }
}
