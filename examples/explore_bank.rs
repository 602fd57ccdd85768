//! The notes' bank, explored: every order in which t1's and t2's steps can interleave, the
//! final balance of each, a schedule that ends at −8 drawn as the notes' table, and the locked
//! version, where every schedule ends at 0.
//!
//! ```text
//! cargo run --release --example explore_bank
//! cargo run --release --example explore_bank -- --write-book   # also rewrites the book's copies
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

/// Everything the program prints but the tour line, and that line; `Err` if the explorer
/// missed −8 or the lock let a schedule end elsewhere. (`tests/explore.rs` checks that the
/// book's copy of this output is what it prints.)
pub fn explain() -> Result<(String, String), String> {
    use std::fmt::Write as _;
    let mut out = String::new();
    // ANCHOR: run
    let racy = explore::run(racy_bank).expect("70 schedules fit the default limit");
    let _ = writeln!(out, "The racy bank: {racy}");
    let bad = racy.find(|o| o.returned() == Some(&-8)).expect("a -8");
    let _ = writeln!(
        out,
        "The first schedule that ends at -8 (key {:?}):",
        bad.key()
    );
    let _ = writeln!(out, "{}", bad.table());
    // ANCHOR_END: run

    let (_, notes) = explore::replay("122111", racy_bank).expect("the notes' key fits");
    let _ = writeln!(out, "The notes' own order (key \"122111\"):");
    let _ = writeln!(out, "{}", notes.table());

    let locked = explore::run(locked_bank).expect("the locked bank fits the default limit");
    let _ = write!(out, "The locked bank: {locked}");

    let wrong = racy.count(|o| o.returned() != Some(&0));
    let minus_eight = racy.count(|o| o.returned() == Some(&-8));
    let locked_zero = locked.count(|o| o.returned() == Some(&0));
    let tour = format!(
        "TOUR|explore_bank|the notes' table ends at -8; with a lock it prints 0|explored all {} schedules: {wrong} end wrong, {minus_eight} at -8 (key {}); locked: {locked_zero} of {} end at 0",
        racy.schedules(),
        bad.key(),
        locked.schedules()
    );
    if minus_eight == 0 || locked_zero != locked.schedules() {
        return Err("the explorer missed -8, or the lock let a schedule end elsewhere".into());
    }
    Ok((out, tour))
}

/// The notes' own order as an SVG timeline, the picture in the lost-update chapter
/// (`tests/explore_svg.rs` checks the book's copy).
#[allow(dead_code)] // `tests/explore.rs` includes this file as a module and does not use it
pub fn notes_order_svg() -> String {
    let (_, notes) = explore::replay("122111", racy_bank).expect("the notes' key fits");
    notes.svg()
}

#[allow(dead_code)] // `tests/explore.rs` includes this file as a module
fn main() {
    let result = explain();
    if std::env::args().any(|a| a == "--write-book") {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/part1");
        let text = result.as_ref().map(|r| r.0.clone()).unwrap_or_default();
        for (file, body) in [
            ("explore-bank.txt", text),
            ("explore-bank.svg", notes_order_svg()),
        ] {
            std::fs::write(dir.join(file), body).expect("the book's folder is writable");
            println!("wrote book/src/part1/{file}");
        }
    }
    match result {
        Ok((out, tour)) => println!("{out}\n{tour}"),
        Err(e) => {
            eprintln!("BUG: {e}");
            std::process::exit(1);
        }
    }
}
