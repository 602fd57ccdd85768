//! The tool must catch a real bug: a deliberately broken Event, and loom's verdict on it (run:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom cargo test
//! --release --test loom_broken_event -- --nocapture`).
//!
//! Both events below live on one `AtomicU32` (bit 0 SET, bit 1 WAITERS) and synclab's futex,
//! which under `--cfg loom` is the model in which a lost wakeup leaves a thread asleep forever.
//! The broken `set` looks for sleepers *before* it publishes the flag and never looks again: a
//! waiter that registers and sleeps between the look and the store is never woken. loom finds
//! that interleaving and reports a deadlock; the test below proves it does, so CI keeps checking
//! that the model checker catches this class of bug. The correct `set` swaps the flag in and
//! decides from the value it replaced, and passes the same model.
//!
//! loom cannot be caught with `#[should_panic]` here: after a deadlock it tears down the
//! blocked threads with a second panic, which aborts the process. So the broken model runs in a
//! child process (this same test binary, one test selected), and the parent reads its stderr.
#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicU32, Ordering::SeqCst};
use loom::thread;
use synclab::futex;

const SET: u32 = 1;
const WAITERS: u32 = 2;

struct ToyEvent {
    word: AtomicU32,
    broken: bool,
}

impl ToyEvent {
    fn new(broken: bool) -> Self {
        ToyEvent {
            word: AtomicU32::new(0),
            broken,
        }
    }

    fn wait(&self) {
        loop {
            let s = self.word.load(SeqCst);
            if s & SET != 0 {
                return;
            }
            // Register as a sleeper, then sleep while the word still says "unset, waiters".
            if s & WAITERS == 0
                && self
                    .word
                    .compare_exchange(s, s | WAITERS, SeqCst, SeqCst)
                    .is_err()
            {
                continue;
            }
            futex::wait(&self.word, s | WAITERS, None);
        }
    }

    // ANCHOR: broken_set
    fn set(&self) {
        if self.broken {
            // BUG: the look for sleepers comes before the store that publishes SET. A waiter
            // that registers in between sleeps on WAITERS; the store then replaces the word,
            // and nobody wakes the sleeper.
            let had_waiters = self.word.load(SeqCst) & WAITERS != 0;
            self.word.store(SET, SeqCst);
            if had_waiters {
                futex::wake_all(&self.word);
            }
        } else {
            // Right: publish and look in one step, and decide from the value replaced.
            if self.word.swap(SET, SeqCst) & WAITERS != 0 {
                futex::wake_all(&self.word);
            }
        }
    }
    // ANCHOR_END: broken_set
}

fn one_waiter_one_setter(broken: bool) {
    loom::model(move || {
        let ev = Arc::new(ToyEvent::new(broken));
        let waiter = {
            let ev = ev.clone();
            thread::spawn(move || ev.wait())
        };
        ev.set();
        waiter.join().unwrap();
    });
}

const CHILD: &str = "SYNCLAB_BROKEN_EVENT_CHILD";

/// Runs the broken model, only inside the child process started by the test below.
#[test]
fn broken_model_child() {
    if std::env::var_os(CHILD).is_some() {
        one_waiter_one_setter(true);
    }
}

/// loom must find the interleaving where the waiter sleeps between the setter's look and its
/// store, and report it as a deadlock.
#[test]
fn loom_catches_the_set_that_looks_for_sleepers_too_early() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "broken_model_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "loom passed the broken Event");
    let verdict = stderr.lines().find(|l| l.starts_with("deadlock"));
    assert!(verdict.is_some(), "no deadlock report from loom:\n{stderr}");
    eprintln!("loom on the broken Event: {}", verdict.unwrap());
}

/// The same model passes with the swap-based `set`.
#[test]
fn the_swap_based_set_passes_the_same_model() {
    one_waiter_one_setter(false);
}
