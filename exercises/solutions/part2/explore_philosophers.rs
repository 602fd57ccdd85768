//! # Exercise `explore_philosophers` — Part II, "Exploring interleavings"
//!
//! Three philosophers, three forks (explore `Lock`s), one meal each. `naive_dine` picks up the
//! left fork, then the right one, and the explorer finds the schedule in which all three hold
//! their left fork and wait for ever. Write `dine` so that NO schedule deadlocks: pick up the
//! lower-numbered fork first (philosopher 2's forks are 2 and 0, so it reaches for fork 0
//! first). Both forks must be held while `eat` runs.
//!
//! Check your work: `cargo xtask check explore_philosophers`

use synclab::explore::{self, Lock};

/// Philosophers (and forks) at the table.
pub const N: usize = 3;

/// Philosopher `i`'s left and right forks.
pub fn forks_of(i: usize) -> (usize, usize) {
    (i, (i + 1) % N)
}

/// Left fork, then right fork: the deadlock.
pub fn naive_dine(i: usize, forks: &[Lock<u32>], eat: &dyn Fn()) {
    let (left, right) = forks_of(i);
    let mut l = forks[left].lock();
    let mut r = forks[right].lock();
    eat();
    *l += 1;
    *r += 1;
}

/// Philosopher `i` eats once, holding both forks, and no schedule can deadlock.
pub fn dine(i: usize, forks: &[Lock<u32>], eat: &dyn Fn()) {
    let (left, right) = forks_of(i);
    // One global order on the forks: nobody holds a higher fork while waiting for a lower one,
    // so no cycle of waiting can close.
    let (first, second) = (left.min(right), left.max(right));
    let mut a = forks[first].lock();
    let mut b = forks[second].lock();
    eat();
    *a += 1;
    *b += 1;
}

/// The table: every philosopher dines once with `dine` (and `eat` at the meal); returns how
/// often each fork was used.
pub fn table(dine: fn(usize, &[Lock<u32>], &dyn Fn()), eat: fn(usize, &[Lock<u32>])) -> Vec<u32> {
    let forks: Vec<Lock<u32>> = (0..N).map(|f| Lock::new(&format!("fork{f}"), 0)).collect();
    let philosophers: Vec<_> = (0..N)
        .map(|i| {
            let forks = forks.clone();
            explore::spawn(&format!("p{i}"), move || {
                dine(i, &forks, &|| eat(i, &forks))
            })
        })
        .collect();
    philosophers.into_iter().for_each(|p| p.join());
    forks.iter().map(|f| *f.lock()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use synclab::explore::Outcome;

    fn nothing(_: usize, _: &[Lock<u32>]) {}

    #[test]
    fn the_naive_table_deadlocks_and_yours_never_does() {
        common::guarded("philosophers_deadlock", |_| {
            let naive = explore::run(|| table(naive_dine, nothing)).unwrap();
            assert!(
                naive.count(|o| matches!(o, Outcome::Deadlock(_))) > 0,
                "{naive}"
            );
            let report = explore::run(|| table(dine, nothing)).unwrap();
            assert!(report.schedules() > 1, "{report}");
            let fed = report.count(|o| o.returned() == Some(&vec![2, 2, 2]));
            assert_eq!(fed, report.schedules(), "{report}");
        });
    }

    #[test]
    fn both_forks_are_held_at_the_meal() {
        common::guarded("philosophers_held", |_| {
            // At the meal, both of the eater's forks are taken: try_lock fails on each.
            fn check(i: usize, forks: &[Lock<u32>]) {
                let (left, right) = forks_of(i);
                assert!(
                    forks[left].try_lock().is_none(),
                    "p{i} eats without fork {left}"
                );
                assert!(
                    forks[right].try_lock().is_none(),
                    "p{i} eats without fork {right}"
                );
            }
            let report = explore::Explorer::new()
                .preemption_bound(2)
                .run(|| table(dine, check))
                .unwrap();
            let fed = report.count(|o| o.returned() == Some(&vec![2, 2, 2]));
            assert_eq!(fed, report.schedules(), "{report}");
        });
    }

    #[test]
    fn the_order_is_the_forks_order() {
        common::guarded("philosophers_order", |_| {
            // Philosopher 2 alone: forks 2 and 0, and it reaches for fork 0 first.
            let (outcome, schedule) = explore::replay("", || {
                let forks: Vec<Lock<u32>> =
                    (0..N).map(|f| Lock::new(&format!("fork{f}"), 0)).collect();
                dine(2, &forks, &|| ());
                forks.iter().map(|f| *f.lock()).collect::<Vec<_>>()
            })
            .unwrap();
            assert_eq!(outcome.returned(), Some(&vec![1, 0, 1]));
            let table = schedule.table();
            let at = |s: &str| table.find(s).unwrap_or(usize::MAX);
            assert!(at("lock fork0") < at("lock fork2"), "{table}");
        });
    }
}
