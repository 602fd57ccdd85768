//! The notes' bank, explored: every order in which t1's and t2's steps can interleave, the
//! final balance of each, a schedule that ends at −8 drawn as the notes' table, and the locked
//! version, where every schedule ends at 0.
//!
//! ```text
//! cargo run --release --example explore_bank
//! ```

use synclab::explore::{self, Lock, Shared};

// ANCHOR: model
/// The notes' `change_it(n)`, each statement split into the notes' two steps.
fn change_it(balance: &Shared<i64>, n: i64) {
    let x = balance.load() + n; // x = balance + n
    balance.store(x); //           balance = x
    let x = balance.load() - n; // x = balance - n
    balance.store(x); //           balance = x
}

/// t1 = change_it(5), t2 = change_it(8), started and joined as in the notes.
fn racy_bank() -> i64 {
    let balance = Shared::new("balance", 0);
    let (b1, b2) = (balance.clone(), balance.clone());
    let t1 = explore::spawn("t1", move || change_it(&b1, 5));
    let t2 = explore::spawn("t2", move || change_it(&b2, 8));
    t1.join();
    t2.join();
    balance.peek()
}
// ANCHOR_END: model

// ANCHOR: locked
/// The fix: one guard around the whole `change_it`.
fn locked_bank() -> i64 {
    let balance = Lock::new("lock", 0);
    let spawn = |name, n| {
        let balance = balance.clone();
        explore::spawn(name, move || {
            let mut b = balance.lock(); // lock.acquire()
            *b += n;
            *b -= n;
        }) // the guard's drop: lock.release()
    };
    let (t1, t2) = (spawn("t1", 5), spawn("t2", 8));
    t1.join();
    t2.join();
    *balance.lock()
}
// ANCHOR_END: locked

fn main() {
    // ANCHOR: run
    let racy = explore::run(racy_bank).expect("70 schedules fit the default limit");
    println!("The racy bank: {racy}");
    let bad = racy.find(|o| o.returned() == Some(&-8)).expect("a -8");
    println!(
        "The first schedule that ends at -8 (replay key {:?}):",
        bad.key()
    );
    println!("{}", bad.table());
    // ANCHOR_END: run

    let (_, notes) = explore::replay("122111", racy_bank).expect("the notes' key fits");
    println!("The notes' own order (replay key \"122111\"):");
    println!("{}", notes.table());

    let locked = explore::run(locked_bank).expect("the locked bank fits the default limit");
    println!("The locked bank: {locked}");

    let wrong = racy.count(|o| o.returned() != Some(&0));
    let minus_eight = racy.count(|o| o.returned() == Some(&-8));
    let locked_zero = locked.count(|o| o.returned() == Some(&0));
    println!(
        "TOUR|explore_bank|the notes' table ends at -8; with a lock it prints 0|explored all {} schedules: {wrong} end wrong, {minus_eight} at -8 (key {}); locked: {locked_zero} of {} end at 0",
        racy.schedules(),
        bad.key(),
        locked.schedules()
    );
    if minus_eight == 0 || locked_zero != locked.schedules() {
        eprintln!("BUG: the explorer missed -8, or the lock let a schedule end elsewhere");
        std::process::exit(1);
    }
}
