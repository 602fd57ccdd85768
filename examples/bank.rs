//! The notes' bank balance: two threads deposit and withdraw 5 and 8, a million times each.
//! "It should print 0, but in practice it may print something else."
//!
//! ```text
//! cargo run --release --example bank                 # 20 runs of each version
//! cargo run --release --example bank -- --runs 50 --iters 200000
//! ```
//!
//! - **racy**: `balance = balance + n` split into a load and a store, exactly the two steps the
//!   notes describe (`x = balance + n; balance = x`). The load and store are atomic, so there is
//!   no undefined behaviour, but another thread can store between them and its update is lost.
//! - **locked**: the same steps inside a `synclab::Lock` — Python's
//!   `lock.acquire(); try: change_it(n) finally: lock.release()`, where the guard's drop is the
//!   `finally`. Always 0.
//!
//! Both versions start their loops together (see [`starting_line`]): on a busy machine starting
//! a thread can take longer than the whole loop, and threads that never overlap cannot race.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering::Relaxed};
use std::thread;

use synclab::Lock;

mod common;
use common::arg;

/// Spins until both threads have arrived, so that their loops run at the same time. Spinning
/// (rather than sleeping on an `Event`) keeps both threads on a CPU at the moment they start.
fn starting_line(arrived: &AtomicUsize) {
    arrived.fetch_add(1, Relaxed);
    while arrived.load(Relaxed) < 2 {
        std::hint::spin_loop();
    }
}

// ANCHOR: racy
/// The shared balance, changed without a lock.
static BALANCE: AtomicI64 = AtomicI64::new(0);

/// `balance = balance + n; balance = balance - n`, each line a separate load and store.
///
/// On x86-64 the compiler merges each load, add and store into one instruction,
/// `add [BALANCE], n`. That instruction still reads and then writes memory, and without a
/// `lock` prefix another core can write in between, so updates are still lost; the window is
/// just narrower than in the source, and the race shows in some runs rather than all.
fn change_it_racy(n: i64) {
    let x = BALANCE.load(Relaxed) + n; // x = balance + n
    BALANCE.store(x, Relaxed); //          balance = x
    let x = BALANCE.load(Relaxed) - n; // x = balance - n
    BALANCE.store(x, Relaxed); //          balance = x
}

fn run_racy(iters: usize) -> i64 {
    BALANCE.store(0, Relaxed);
    let arrived = AtomicUsize::new(0);
    thread::scope(|s| {
        for n in [5, 8] {
            let arrived = &arrived;
            s.spawn(move || {
                starting_line(arrived);
                for _ in 0..iters {
                    change_it_racy(n);
                }
            });
        }
    });
    BALANCE.load(Relaxed)
}
// ANCHOR_END: racy

// ANCHOR: locked
fn run_locked(iters: usize) -> i64 {
    let balance = Lock::new(0i64);
    let arrived = AtomicUsize::new(0);
    thread::scope(|s| {
        for n in [5, 8] {
            let (balance, arrived) = (&balance, &arrived);
            s.spawn(move || {
                starting_line(arrived);
                for _ in 0..iters {
                    let mut b = balance.lock(); // lock.acquire()
                    *b += n; //                     change_it(n), under the lock
                    *b -= n;
                } //                                guard dropped: lock.release()
            });
        }
    });
    balance.into_inner()
}
// ANCHOR_END: locked

fn main() {
    let runs = arg("--runs", 20);
    let iters = arg("--iters", 1_000_000);
    println!("bank: 2 threads (n = 5 and n = 8) x {iters} iterations, {runs} runs each");

    let racy: Vec<i64> = (0..runs).map(|_| run_racy(iters)).collect();
    let nonzero = racy.iter().filter(|&&b| b != 0).count();
    println!("racy   (load/store, no lock): {racy:?}");
    println!("racy   : {nonzero} of {runs} runs ended nonzero (lost updates)");

    let locked: Vec<i64> = (0..runs).map(|_| run_locked(iters)).collect();
    let zero = locked.iter().filter(|&&b| b == 0).count();
    println!("locked (synclab::Lock)      : {locked:?}");
    println!("locked : {zero} of {runs} runs ended at 0");

    let examples: Vec<String> = racy
        .iter()
        .filter(|&&b| b != 0)
        .take(4)
        .map(|b| b.to_string())
        .collect();
    println!(
        "TOUR|bank: no lock|it should print 0, but may print something else|{nonzero} of {runs} runs nonzero ({})",
        if examples.is_empty() {
            "no lost update this time".to_string()
        } else {
            format!("e.g. {}", examples.join(", "))
        }
    );
    println!(
        "TOUR|bank: with a Lock|with lock.acquire() and try/finally release() it prints 0|{zero} of {runs} runs ended at 0"
    );

    if zero != runs {
        eprintln!("BUG: the locked version lost an update");
        std::process::exit(1);
    }
}
