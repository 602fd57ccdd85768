//! # Exercise `forced_interleaving` — Part I, "The lost update"
//!
//! Two parts, one bug.
//!
//! 1. `replay(schedule)` makes the notes' bad order happen *every time*. Thread t1 runs
//!    `change_it(5)` and thread t2 `change_it(8)`, each as four steps (`x = balance + n`,
//!    `balance = x`, `x = balance - n`, `balance = x`), and `schedule` says whose step comes
//!    next. There is no conductor this time (the chapter's example has one): each thread waits
//!    for its turn on its own `Semaphore`, and after each step *the thread itself* passes the
//!    baton to the owner of the next step. It returns the final balance and the trace of the
//!    steps in the order they ran; the notes' order must give −8.
//! 2. `locked_bank(iters, between)` is the notes' program with the fix: two threads, `iters`
//!    calls of `change_it` each, and a `synclab::Lock` that makes each call one indivisible
//!    step. `between` is called between each read and its write, where the race window is:
//!    the tests make it wide, and the balance must still end at 0.
//!
//! Check your work: `cargo xtask check forced_interleaving`

use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

use synclab::{Lock, Semaphore};

/// Thread t1, which runs `change_it(5)`.
pub const T1: usize = 0;
/// Thread t2, which runs `change_it(8)`.
pub const T2: usize = 1;
/// What each thread adds and takes away again: `[t1's n, t2's n]`.
pub const AMOUNT: [i64; 2] = [5, 8];

/// The notes' bad order.
pub const NOTES_ORDER: [usize; 8] = [T1, T2, T2, T1, T1, T1, T2, T2];

/// One step of `change_it(n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `x = balance + n`
    LoadAdd,
    /// `balance = x` (after the addition)
    StoreAdd,
    /// `x = balance - n`
    LoadSub,
    /// `balance = x` (after the subtraction)
    StoreSub,
}

/// Each thread's steps, always in this order.
pub const STEPS: [Step; 4] = [Step::LoadAdd, Step::StoreAdd, Step::LoadSub, Step::StoreSub];

/// One line of the notes' table: who ran which step, and the value it computed (`x` after a
/// load, the new balance after a store).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    /// `T1` or `T2`.
    pub thread: usize,
    /// Which of its four steps.
    pub step: Step,
    /// `x` after a load step, the balance after a store step.
    pub value: i64,
}

/// Runs one step for a thread whose amount is `n` and whose local variable is `x`; returns
/// the value for the trace.
fn run_step(step: Step, n: i64, x: &mut i64, balance: &AtomicI64) -> i64 {
    // Relaxed is enough: the semaphores order the steps (a release happens before the
    // acquire that it lets through), and that order is what carries each write to the next
    // reader.
    match step {
        Step::LoadAdd => *x = balance.load(Relaxed) + n,
        Step::LoadSub => *x = balance.load(Relaxed) - n,
        Step::StoreAdd | Step::StoreSub => balance.store(*x, Relaxed),
    }
    *x
}

/// Runs t1 and t2 through `schedule` (four `T1`s and four `T2`s, in any order), one step at a
/// time, and returns the final balance and the trace.
///
/// # Panics
///
/// If `schedule` does not hold exactly four steps of each thread.
pub fn replay(schedule: &[usize]) -> (i64, Vec<Line>) {
    // TODO: check that `schedule` gives each thread exactly four steps (`assert_eq!`).
    //
    // TODO: make the shared balance (an `AtomicI64` at 0, read and written with `run_step`),
    // one `Semaphore::new(0)` per thread ("your step now") and the trace (a
    // `Lock<Vec<Line>>`).
    //
    // TODO: in a `std::thread::scope`, spawn t1 and t2. Each one, for each step of `STEPS`:
    // acquires its own semaphore, runs the step, pushes its `Line` onto the trace, and then
    // passes the baton: the schedule's entry at index "number of lines so far" names the
    // thread whose step is next (if there is one): release *that* thread's semaphore.
    //
    // TODO: start the relay: release the semaphore of `schedule[0]`. After the scope, return
    // the balance and the trace.
    todo!()
}

/// The notes' program with the lock: t1 runs `change_it(5)` and t2 `change_it(8)`, `iters`
/// times each, and `between()` is called between each read of the balance and its write.
/// Returns the final balance.
pub fn locked_bank(iters: usize, between: impl Fn() + Sync) -> i64 {
    // TODO: a `Lock<i64>` for the balance, and two threads in a `std::thread::scope`,
    // one per amount of `AMOUNT`. Each runs `change_it(n)` `iters` times: `x = balance + n;
    // between(); balance = x; x = balance - n; between(); balance = x;`.
    //
    // TODO: which part of that must one guard cover, so that no other thread can come between
    // a read and its write? Return the final balance.
    todo!()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    fn line(thread: usize, step: Step, value: i64) -> Line {
        Line {
            thread,
            step,
            value,
        }
    }

    #[test]
    fn the_notes_order_ends_at_minus_8_with_the_notes_table() {
        use Step::*;
        let (balance, trace) = replay(&NOTES_ORDER);
        assert_eq!(
            trace,
            [
                line(T1, LoadAdd, 5),   // t1: x1 = balance + 5  # x1 = 0 + 5 = 5
                line(T2, LoadAdd, 8),   // t2: x2 = balance + 8  # x2 = 0 + 8 = 8
                line(T2, StoreAdd, 8),  // t2: balance = x2      # balance = 8
                line(T1, StoreAdd, 5),  // t1: balance = x1      # balance = 5
                line(T1, LoadSub, 0),   // t1: x1 = balance - 5  # x1 = 5 - 5 = 0
                line(T1, StoreSub, 0),  // t1: balance = x1      # balance = 0
                line(T2, LoadSub, -8),  // t2: x2 = balance - 8  # x2 = 0 - 8 = -8
                line(T2, StoreSub, -8), // t2: balance = x2      # balance = -8
            ]
        );
        assert_eq!(balance, -8);
    }

    #[test]
    fn other_orders_give_their_own_results() {
        use Step::*;
        // The serial order: no update is lost.
        let (balance, trace) = replay(&[T2, T2, T2, T2, T1, T1, T1, T1]);
        assert_eq!(balance, 0);
        let who: Vec<_> = trace.iter().map(|l| (l.thread, l.step)).collect();
        assert_eq!(
            who,
            [
                (T2, LoadAdd),
                (T2, StoreAdd),
                (T2, LoadSub),
                (T2, StoreSub),
                (T1, LoadAdd),
                (T1, StoreAdd),
                (T1, LoadSub),
                (T1, StoreSub)
            ]
        );
        // The notes' order with the roles swapped: t1's deposit is lost instead.
        let (balance, trace) = replay(&[T2, T1, T1, T2, T2, T2, T1, T1]);
        assert_eq!(balance, -5);
        assert_eq!(trace.last(), Some(&line(T1, StoreSub, -5)));
    }

    #[test]
    fn the_notes_order_gives_minus_8_every_time() {
        let runs = common::scaled(300);
        common::guarded("forced_interleaving_replay", |status| {
            for run in 0..runs {
                status.set("main", format!("replay #{run}"));
                let (balance, trace) = replay(&NOTES_ORDER);
                assert_eq!(balance, -8, "run {run}");
                let who: Vec<_> = trace.iter().map(|l| l.thread).collect();
                assert_eq!(who, NOTES_ORDER, "run {run}");
            }
        });
    }

    #[test]
    fn the_lock_keeps_the_balance_at_0_even_with_a_wide_window() {
        let iters = common::scaled(20_000);
        common::guarded("forced_interleaving_locked", |status| {
            status.set("main", "two threads in locked_bank");
            let calls = AtomicUsize::new(0);
            let inside = AtomicUsize::new(0); // threads between a read and its write now
            let overlaps = AtomicUsize::new(0);
            let balance = locked_bank(iters, || {
                let call = calls.fetch_add(1, SeqCst);
                if inside.fetch_add(1, SeqCst) != 0 {
                    overlaps.fetch_add(1, SeqCst); // the other thread is mid-update too
                }
                if call < 10 {
                    // The first few times, hold the window open: wait up to 20 ms for the
                    // other thread to arrive here as well. With the lock held across the
                    // whole update it never can, and this only costs the wait.
                    let start = Instant::now();
                    while inside.load(SeqCst) < 2 && start.elapsed() < Duration::from_millis(20) {
                        std::thread::yield_now();
                    }
                } else {
                    std::thread::yield_now(); // invite the other thread in
                }
                inside.fetch_sub(1, SeqCst);
            });
            let overlaps = overlaps.load(SeqCst);
            assert_eq!(
                overlaps, 0,
                "both threads were between a read and its write at once"
            );
            assert_eq!(balance, 0, "an update was lost");
            assert_eq!(
                calls.load(SeqCst),
                2 * 2 * iters,
                "`between` once per read-write pair"
            );
        });
    }
}
