//! # Exercise `explore_flag_lock` — Part II, "Exploring interleavings"
//!
//! A flag as a lock: `flag_enter` looks at the flag and, if it is down, raises it and goes in.
//! It looks right, and it is wrong: between the look and the raise another thread can look too.
//!
//! - `both_inside_key()`: let the explorer find the schedule of `two_visitors(flag_enter)` in
//!   which both visitors are inside at once, and return its replay key;
//! - `swap_enter(flag)`: the fix, an enter that looks and raises in ONE step
//!   (`Shared::update`, the model's `swap`), so that no schedule lets two in, and in every
//!   schedule somebody gets in.
//!
//! Check your work: `cargo xtask check explore_flag_lock`

use synclab::explore::{self, Shared};

/// The broken flag lock: look, then raise (two steps). `true`: you are in.
pub fn flag_enter(flag: &Shared<bool>) -> bool {
    if flag.load() {
        return false; // someone is inside: give up
    }
    flag.store(true);
    true
}

/// Leaves: lowers the flag.
pub fn leave(flag: &Shared<bool>) {
    flag.store(false);
}

/// Two visitors try to enter once with `enter`; returns `(most inside at once, how many got
/// in)`.
pub fn two_visitors(enter: fn(&Shared<bool>) -> bool) -> (usize, usize) {
    let flag = Shared::new("flag", false);
    let inside = Shared::new("inside", 0usize);
    let (most, got_in) = (Shared::new("most", 0usize), Shared::new("got_in", 0usize));
    let visitor = |name| {
        let (flag, inside, most, got_in) =
            (flag.clone(), inside.clone(), most.clone(), got_in.clone());
        explore::spawn(name, move || {
            if enter(&flag) {
                got_in.update(|n| n + 1);
                let now = inside.update(|n| n + 1) + 1;
                most.update(|m| m.max(now));
                inside.update(|n| n - 1);
                leave(&flag);
            }
        })
    };
    let (v1, v2) = (visitor("v1"), visitor("v2"));
    v1.join();
    v2.join();
    (most.peek(), got_in.peek())
}

/// The replay key of a schedule of `two_visitors(flag_enter)` with both visitors inside.
pub fn both_inside_key() -> String {
    let report = explore::run(|| two_visitors(flag_enter)).expect("a few hundred schedules");
    let both = report.find(|o| o.returned().is_some_and(|&(most, _)| most == 2));
    both.expect("the explorer finds both inside")
        .key()
        .to_string()
}

/// The fixed enter: raise the flag and learn what it was, in one step. `true`: you are in.
pub fn swap_enter(flag: &Shared<bool>) -> bool {
    // `update` returns the old value: if the flag was down, it was us who raised it.
    !flag.update(|_| true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;

    #[test]
    fn the_key_lets_both_in() {
        common::guarded("flag_lock_key", |_| {
            let key = both_inside_key();
            let (outcome, schedule) = explore::replay(&key, || two_visitors(flag_enter)).unwrap();
            assert_eq!(outcome.returned(), Some(&(2, 2)), "{}", schedule.table());
        });
    }

    #[test]
    fn the_swap_never_lets_two_in() {
        common::guarded("flag_lock_swap", |_| {
            let report = explore::run(|| two_visitors(swap_enter)).unwrap();
            assert!(report.schedules() > 1, "{report}");
            let alone = report.count(|o| o.returned().is_some_and(|&(most, _)| most == 1));
            assert_eq!(alone, report.schedules(), "{report}");
        });
    }

    #[test]
    fn somebody_always_gets_in_and_both_sometimes_do() {
        common::guarded("flag_lock_progress", |_| {
            let report = explore::run(|| two_visitors(swap_enter)).unwrap();
            let someone = report.count(|o| o.returned().is_some_and(|&(_, n)| n >= 1));
            assert_eq!(someone, report.schedules(), "{report}");
            // one after the other, both get in
            assert!(
                report.count(|o| o.returned() == Some(&(1, 2))) > 0,
                "{report}"
            );
            // and a swap is one step: a lone visitor's enter is exactly one
            let (_, schedule) = explore::replay("", || {
                let flag = Shared::new("flag", false);
                swap_enter(&flag)
            })
            .unwrap();
            assert_eq!(schedule.steps(), 1, "{}", schedule.table());
        });
    }
}
