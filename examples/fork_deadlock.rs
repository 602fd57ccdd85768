//! The trap from the pool article the notes link to ("Why your multiprocessing Pool is stuck"),
//! reproduced safely: a thread holds a lock while the main thread forks.
//!
//! ```text
//! cargo run --release --example fork_deadlock
//! cargo run --release --example fork_deadlock -- --patience 1000   # the child waits 1 s
//! ```
//!
//! 1. **The trap.** A thread takes a `synclab::Lock` (standing in for the `logging` module's
//!    lock in the article) and keeps it. The main thread calls `fork()`. The child is a copy of
//!    the parent's memory with **one** thread, the one that called `fork`: the lock's word says
//!    "locked", and the thread that would unlock it does not exist in the child. The child tries
//!    `lock_timeout`; where the article's Pool worker called a plain `acquire()` and hung
//!    forever, ours gives up after `--patience` ms and reports.
//! 2. **The fix: spawn instead of fork.** The child is a fresh run of this program, started with
//!    a role by `synclab::process::Command`: its statics start from their initial values, so its
//!    `LOG_LOCK` is free, and it takes it at once. (That is Python's `spawn` start method, the
//!    default on macOS and Windows.) A lock that parent and child must really share lives in
//!    shared memory (`process::Lock` in a `Shared`): the child waits for the parent's thread to
//!    release it, which it does 50 ms after the spawn.
//!
//! The forked child obeys the rule for a child of a multi-threaded process: until it exits it
//! only does async-signal-safe things. `lock_timeout` is atomics, `clock_gettime`,
//! `sched_yield` and the futex system call; the message is a `write(2)` of bytes prepared before
//! the fork, and the exit is `_exit(2)`, which runs no destructors and flushes nothing.

#[path = "common/mod.rs"]
mod common;

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use synclab::process::{self, Shared};
use synclab::{Event, Lock};

/// The lock the child inherits; it stands in for the `logging` module's lock of the article.
static LOG_LOCK: Lock<u64> = Lock::new(0);

/// What a child reports with its exit code.
const GAVE_UP: i32 = 10;
const TOOK_IT: i32 = 11;

/// How long the parent's thread keeps its locks after the spawn.
const HOLD_AFTER_SPAWN: Duration = Duration::from_millis(50);

// ANCHOR: trap
/// A thread holds `LOG_LOCK` while the main thread forks. Returns the child's exit code and how
/// long it ran.
fn fork_while_locked(patience: Duration) -> (i32, Duration) {
    let holding = Event::new();
    let done = Event::new();
    thread::scope(|s| {
        s.spawn(|| {
            let mut lines = LOG_LOCK.lock(); // a thread in the middle of logging...
            *lines += 1;
            holding.set();
            done.wait(); // ...stays there while the main thread forks
        });
        holding.wait();
        // Prepared before the fork: the child may not allocate (another thread of the parent
        // may have held the allocator's lock at the moment of the fork).
        let gave_up = format!(
            "  forked child: lock_timeout({} ms) gave up: the lock is held by a thread that does not exist in this process\n",
            patience.as_millis()
        );
        let took_it = "  forked child: took the lock (unexpected)\n";
        std::io::stdout().flush().unwrap(); // nothing buffered for the child to print twice
        let start = Instant::now();
        // SAFETY: `fork` has no preconditions of its own; the child below only calls
        // async-signal-safe code and ends with `_exit`, never returning into this program.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // In the child: one thread, and a copy of a lock that nobody will ever unlock.
            let (code, msg) = match LOG_LOCK.lock_timeout(patience) {
                None => (GAVE_UP, gave_up.as_bytes()),
                Some(_) => (TOOK_IT, took_it.as_bytes()),
            };
            // SAFETY: `msg` is a valid buffer of `msg.len()` bytes; fd 1 is our stdout.
            unsafe { libc::write(1, msg.as_ptr().cast(), msg.len()) };
            // SAFETY: `_exit` ends the child at once, running nothing of the parent's copy.
            unsafe { libc::_exit(code) };
        }
        assert!(pid > 0, "fork failed: {}", std::io::Error::last_os_error());
        let code = wait_for_child(pid, patience * 10);
        done.set(); // the parent's holder thread lets go, in the parent only
        (code, start.elapsed())
    })
}
// ANCHOR_END: trap

/// Waits for the forked child `pid` (killing it if it outlives `limit`, which would mean
/// `lock_timeout` ignored its timeout); returns its exit code.
fn wait_for_child(pid: libc::pid_t, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid place for the kernel to write the child's status.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
        }
        assert!(r == 0, "waitpid: {}", std::io::Error::last_os_error());
        if Instant::now() > deadline {
            // SAFETY: `pid` is our own child, not yet reaped, so it names no other process.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        thread::sleep(Duration::from_millis(2));
    }
}

// ANCHOR: fix
/// The same situation, but the child is spawned: a fresh run of this program with a role. The
/// parent's thread also holds a lock that really is shared, a `process::Lock` in shared memory;
/// the child waits for that one until the parent's thread lets it go.
fn spawn_while_locked(patience: Duration) -> (i32, Duration) {
    let shared = Shared::new(process::Lock::new(0u64)).expect("shared memory (Linux only)");
    let holding = Event::new();
    let done = Event::new();
    thread::scope(|s| {
        s.spawn(|| {
            let _lines = LOG_LOCK.lock();
            let _shared = shared.lock().unwrap_or_else(|died| died.into_inner());
            holding.set();
            done.wait();
        });
        holding.wait();
        let start = Instant::now();
        let child = process::Command::new("spawned")
            .args(["--patience", &patience.as_millis().to_string()])
            .share(&shared)
            .spawn()
            .expect("could not start the child");
        thread::sleep(HOLD_AFTER_SPAWN); // the parent's thread keeps both locks a while longer
        done.set();
        let status = child.join().expect("could not wait for the child");
        (status.code().unwrap_or(-1), start.elapsed())
    })
}

/// What the spawned child runs: its own `main`, with its own, fresh `LOG_LOCK`, and the
/// parent's shared lock, which it waits for.
fn spawned_child(patience: Duration) -> i32 {
    let Some(_fresh) = LOG_LOCK.lock_timeout(patience) else {
        println!("  spawned child: lock_timeout gave up (unexpected)");
        return GAVE_UP;
    };
    println!("  spawned child: took its own LOG_LOCK at once (a fresh process, a fresh lock)");
    let shared = Shared::<process::Lock<u64>>::inherited(0).expect("the parent shares the lock");
    let start = Instant::now();
    match shared.lock_timeout(patience * 10) {
        Some(Ok(mut lines)) => {
            *lines += 1;
            println!(
                "  spawned child: took the shared lock after {:.0} ms, when the parent's thread let it go",
                start.elapsed().as_secs_f64() * 1e3
            );
            TOOK_IT
        }
        _ => GAVE_UP,
    }
}
// ANCHOR_END: fix

fn main() {
    let patience = Duration::from_millis(common::arg("--patience", 200));
    if process::role().as_deref() == Some("spawned") {
        std::process::exit(spawned_child(patience));
    }

    println!("A thread holds the lock while the main thread forks:");
    let (forked, fork_time) = fork_while_locked(patience);
    println!(
        "  parent: the forked child exited after {:.0} ms",
        fork_time.as_secs_f64() * 1e3
    );

    println!("\nThe same, but the child is spawned (this program, run again with a role):");
    let (spawned, spawn_time) = spawn_while_locked(patience);
    println!(
        "  parent: the spawned child exited after {:.1} ms (50 of them waiting for the shared lock)",
        spawn_time.as_secs_f64() * 1e3
    );

    println!(
        "TOUR|fork_deadlock|the pool article: a Pool forked while another thread held logging's lock; its workers wait for that lock forever|fork: the child's lock_timeout({} ms) {} after {:.0} ms; spawn: the child {} ({:.0} ms in all, 50 of them waiting)",
        patience.as_millis(),
        if forked == GAVE_UP {
            "gave up"
        } else {
            "took the lock (?)"
        },
        fork_time.as_secs_f64() * 1e3,
        if spawned == TOOK_IT {
            "took its fresh lock at once, and the shared one when the parent's thread let it go"
        } else {
            "could not take a lock (?)"
        },
        spawn_time.as_secs_f64() * 1e3,
    );
    if forked != GAVE_UP || spawned != TOOK_IT {
        eprintln!("BUG: expected the forked child to give up and the spawned child to succeed");
        std::process::exit(1);
    }
}
