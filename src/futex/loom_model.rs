//! A futex that the loom model checker can explore (`--cfg loom` only).
//!
//! loom has no futex, so we build one from what it does model: a global table, behind a loom
//! `Mutex`, that maps a word's address to a loom `Condvar`.
//!
//! - `wait` locks the table, loads the word, and returns if it changed; otherwise it sleeps on
//!   the word's condition variable, which releases the table lock atomically. Holding the table
//!   lock across "load, compare, sleep" gives exactly the kernel's guarantee that a wake cannot
//!   slip in between the check and the sleep.
//! - `wake_*` locks the table and notifies.
//!
//! A lost wakeup in a primitive then leaves a loom thread asleep forever, which loom reports as a
//! deadlock. loom has no clock: a wait *with* a deadline is modelled as "the deadline has just
//! passed" and returns `false` at once, which makes loom explore every timeout path.
//!
//! The table is a `loom::lazy_static`, created afresh for each execution of a model.

use std::cell::Cell;
use std::collections::HashMap;
use std::time::Instant;

use loom::sync::{Arc, Condvar, Mutex};

use crate::sync::{AtomicU32, Ordering::SeqCst};

// ANCHOR: model
loom::lazy_static! {
    /// The words that threads sleep on now: each one's condition variable and how many sleep on
    /// it. An entry leaves with its last sleeper, so a word allocated later at the same address
    /// starts afresh. (Addresses differ between executions of a model; had an entry outlived its
    /// word, a new word reusing the address would find it in some executions and create a
    /// `Condvar` in others, and loom requires every execution to make the same objects in the
    /// same order: "Is the model fully deterministic?")
    static ref TABLE: Mutex<HashMap<usize, (Arc<Condvar>, usize)>> = Mutex::new(HashMap::new());
}

fn key(futex: &AtomicU32) -> usize {
    futex as *const AtomicU32 as usize
}

// ANCHOR: loom_wait
pub(super) fn wait(futex: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
    let mut table = TABLE.lock().unwrap();
    // SeqCst, like the kernel's futex (a full barrier before the comparison).
    if futex.load(SeqCst) != expected {
        return true;
    }
    if deadline.is_some() {
        return false;
    }
    let entry = table
        .entry(key(futex))
        .or_insert_with(|| (Arc::new(Condvar::new()), 0));
    entry.1 += 1;
    let cv = entry.0.clone();
    SLEEPS.with(|n| n.set(n.get() + 1));
    let mut table = cv.wait(table).unwrap();
    let sleepers = table
        .get_mut(&key(futex))
        .map(|entry| {
            entry.1 -= 1;
            entry.1
        })
        .expect("an entry stays while a thread sleeps on it");
    if sleepers == 0 {
        table.remove(&key(futex));
    }
    true
}
// ANCHOR_END: loom_wait

std::thread_local! {
    /// How many times a model thread went to sleep in [`wait`]. A std (not loom) thread-local:
    /// loom runs every thread of every execution of a model as a coroutine on the OS thread that
    /// called `loom::model`, so this counts the sleeps of one `#[test]`, over all its executions.
    static SLEEPS: Cell<usize> = const { Cell::new(0) };
}

/// See [`super::loom_sleeps`].
pub(super) fn sleeps() -> usize {
    SLEEPS.with(Cell::get)
}

pub(super) fn wake_one(futex: &AtomicU32) -> usize {
    let table = TABLE.lock().unwrap();
    if let Some((cv, _)) = table.get(&key(futex)) {
        cv.notify_one();
    }
    0
}
// ANCHOR_END: model

pub(super) fn wake_all(futex: &AtomicU32) -> usize {
    let table = TABLE.lock().unwrap();
    if let Some((cv, _)) = table.get(&key(futex)) {
        cv.notify_all();
    }
    0
}
