//! The notes' interleaving table, forced step by step: two threads run
//! `balance = balance + n; balance = balance - n` (t1 with n = 5, t2 with n = 8) in exactly the
//! order the notes give, and the balance ends at −8. Every time.
//!
//! ```text
//! cargo run --release --example bank_interleaving
//! cargo run --release --example bank_interleaving -- --repeat 100000
//! ```
//!
//! `examples/bank.rs` shows that the race happens by chance; this program shows *how*. Each
//! thread has a `synclab::Semaphore` that is its turn: a conductor (the main thread) walks the
//! schedule, releases the semaphore of the thread whose step is next, and waits on a `done`
//! semaphore until that one step has run. The threads never run two steps at once, so the
//! schedule is the only thing that decides the result: the notes' order gives −8, the "normal"
//! order (t1 +5 −5, then t2 +8 −8) gives 0.

use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::thread;

use synclab::Semaphore;

mod common;
use common::arg;

// ANCHOR: steps
/// The four steps of `change_it(n)`, as the notes split them (`x = balance + n; balance = x`).
#[derive(Clone, Copy)]
enum Step {
    /// `x = balance + n`
    LoadAdd,
    /// `balance = x` (after the addition)
    StoreAdd,
    /// `x = balance - n`
    LoadSub,
    /// `balance = x` (after the subtraction)
    StoreSub,
}

/// Thread 0 is t1 (n = 5), thread 1 is t2 (n = 8). Each thread always runs its own four steps in
/// order; a schedule only says whose step comes next.
const T1: usize = 0;
const T2: usize = 1;

/// The notes' "abnormal order".
const NOTES_ORDER: [usize; 8] = [
    T1, // t1: x1 = balance + 5
    T2, // t2: x2 = balance + 8
    T2, // t2: balance = x2
    T1, // t1: balance = x1
    T1, // t1: x1 = balance - 5
    T1, // t1: balance = x1
    T2, // t2: x2 = balance - 8
    T2, // t2: balance = x2
];

/// The notes' "normal order": t1 (+5, -5), then t2 (+8, -8).
const SERIAL_ORDER: [usize; 8] = [T1, T1, T1, T1, T2, T2, T2, T2];
// ANCHOR_END: steps

// ANCHOR: conductor
/// Runs the two threads through `schedule`, one step at a time, and returns the final balance.
/// With `trace`, each step prints a line of the notes' table.
fn replay(schedule: &[usize], trace: bool) -> i64 {
    let balance = AtomicI64::new(0); // the shared balance, starting at 0
    let turn = [Semaphore::new(0), Semaphore::new(0)]; // "your step now", one per thread
    let done = Semaphore::new(0); // "my step is done"

    thread::scope(|s| {
        for (me, n) in [(T1, 5), (T2, 8)] {
            let (balance, turn, done) = (&balance, &turn[me], &done);
            s.spawn(move || {
                let name = ["t1", "t2"][me];
                let x_name = ["x1", "x2"][me];
                let mut x = 0; // this thread's local `x`
                for step in [Step::LoadAdd, Step::StoreAdd, Step::LoadSub, Step::StoreSub] {
                    turn.acquire(); // wait for the conductor
                    let line = match step {
                        Step::LoadAdd => {
                            let b = balance.load(Relaxed);
                            x = b + n;
                            format!("{x_name} = balance + {n}  # {x_name} = {b} + {n} = {x}")
                        }
                        Step::LoadSub => {
                            let b = balance.load(Relaxed);
                            x = b - n;
                            format!("{x_name} = balance - {n}  # {x_name} = {b} - {n} = {x}")
                        }
                        Step::StoreAdd | Step::StoreSub => {
                            balance.store(x, Relaxed);
                            format!("balance = {x_name}      # balance = {x}")
                        }
                    };
                    if trace {
                        println!("{name}: {line}");
                    }
                    done.release().unwrap(); // hand the baton back
                }
            });
        }

        // The conductor: one step at a time, in the schedule's order.
        for &thread in schedule {
            turn[thread].release().unwrap();
            done.acquire();
        }
    });
    balance.load(Relaxed)
}
// ANCHOR_END: conductor

fn main() {
    let repeat = arg("--repeat", 1000);

    println!("The notes' interleaving (initial balance = 0):");
    let notes = replay(&NOTES_ORDER, true);
    println!("result: balance = {notes}\n");

    println!("The normal order, t1 (+5, -5) then t2 (+8, -8):");
    let serial = replay(&SERIAL_ORDER, true);
    println!("result: balance = {serial}\n");

    let minus_eight = (0..repeat)
        .filter(|_| replay(&NOTES_ORDER, false) == -8)
        .count();
    println!("The notes' order replayed {repeat} more times: -8 in {minus_eight} of {repeat}");

    println!(
        "TOUR|bank_interleaving|the notes' interleaving table ends with balance = -8|forced step by step with Semaphores: {notes} (and -8 in {minus_eight} of {repeat} replays); normal order: {serial}"
    );
    if notes != -8 || serial != 0 || minus_eight != repeat {
        eprintln!("BUG: a forced schedule gave a different result");
        std::process::exit(1);
    }
}
