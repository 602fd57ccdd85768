//! # Exercise `explore_bank` — Part I, "The lost update"
//!
//! Put the explorer to work on the notes' bank (`synclab::explore`):
//!
//! - `lost_deposit_key()` runs `racy_bank` under `explore::run` and returns the replay key of
//!   a schedule in which t2's deposit of 8 is lost for good, so the balance ends at −8
//!   (`Schedule::key`);
//! - `locked_change_it(balance, n)` is the fix: `change_it` with an `explore::Lock`, such that
//!   EVERY schedule of `locked_bank` ends at 0.
//!
//! Check your work: `cargo xtask check explore_bank`

use synclab::explore::{self, Lock, Shared};

/// The notes' `change_it(n)` in its four steps.
pub fn change_it(balance: &Shared<i64>, n: i64) {
    let x = balance.load() + n;
    balance.store(x);
    let x = balance.load() - n;
    balance.store(x);
}

/// t1 = change_it(5) and t2 = change_it(8), joined; returns the final balance.
pub fn racy_bank() -> i64 {
    let balance = Shared::new("balance", 0);
    let (b1, b2) = (balance.clone(), balance.clone());
    let t1 = explore::spawn("t1", move || change_it(&b1, 5));
    let t2 = explore::spawn("t2", move || change_it(&b2, 8));
    t1.join();
    t2.join();
    balance.peek()
}

/// The same two threads with `locked_change_it`.
pub fn locked_bank() -> i64 {
    let balance = Lock::new("lock", 0);
    let (b1, b2) = (balance.clone(), balance.clone());
    let t1 = explore::spawn("t1", move || locked_change_it(&b1, 5));
    let t2 = explore::spawn("t2", move || locked_change_it(&b2, 8));
    t1.join();
    t2.join();
    *balance.lock()
}

/// The replay key of a schedule of `racy_bank` that ends at −8.
pub fn lost_deposit_key() -> String {
    // TODO: `explore::run(racy_bank)` gives a report; `find` the first schedule whose outcome
    // returned -8 and hand back its `key()`.
    todo!()
}

/// `change_it(n)` on a locked balance: deposit, then withdraw, with no other thread between.
pub fn locked_change_it(balance: &Lock<i64>, n: i64) {
    // TODO: take the lock, add `n`, take `n` away. How long must the guard live so that no
    // schedule can split the deposit from the withdrawal?
    let _ = (balance, n);
    todo!()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;

    #[test]
    fn the_key_replays_a_minus_eight() {
        common::guarded("explore_bank_key", |_| {
            let key = lost_deposit_key();
            let (outcome, schedule) = explore::replay(&key, racy_bank).unwrap();
            assert_eq!(outcome.returned(), Some(&-8), "{}", schedule.table());
            assert!(schedule.lost_updates() >= 1, "{}", schedule.table());
        });
    }

    #[test]
    fn every_locked_schedule_ends_at_zero() {
        common::guarded("explore_bank_locked", |_| {
            let report = explore::run(locked_bank).unwrap();
            let zero = report.count(|o| o.returned() == Some(&0));
            assert_eq!(zero, report.schedules(), "{report}");
        });
    }

    #[test]
    fn the_lock_is_held_across_the_whole_call() {
        common::guarded("explore_bank_held", |_| {
            // With a lock per statement, a third thread could see the deposit before the
            // withdrawal; with one guard it never does.
            let report = explore::run(|| {
                let balance = Lock::new("lock", 0);
                let b = balance.clone();
                let t1 = explore::spawn("t1", move || locked_change_it(&b, 5));
                let seen = *balance.lock();
                t1.join();
                seen
            })
            .unwrap();
            assert!(report.schedules() > 1, "{report}");
            assert_eq!(
                report.count(|o| o.returned() == Some(&0)),
                report.schedules(),
                "{report}"
            );
        });
    }
}
