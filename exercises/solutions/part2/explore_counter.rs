//! # Exercise `explore_counter` — Part II, "Exploring interleavings"
//!
//! A visitor counter: each visitor counts itself in (`hits += 1`) and out (`hits -= 1`), so
//! after everyone has left it must read 0. `racy_visit` does each update as a load and a store,
//! two steps each, and the explorer finds schedules that end at 1, −1 and more. Write `visit`
//! so that EVERY schedule of `visitors(visit)` ends at 0, without a lock: each update must be
//! one step that no other thread can split (`Shared::update`, the model's `fetch_add`), so a
//! visit is exactly two steps.
//!
//! Check your work: `cargo xtask check explore_counter`

use synclab::explore::{self, Shared};

/// The counter as the notes would write it: `hits = hits + 1`, later `hits = hits - 1`.
pub fn racy_visit(hits: &Shared<i64>) {
    let n = hits.load();
    hits.store(n + 1);
    let n = hits.load();
    hits.store(n - 1);
}

/// One visit: count yourself in, then out, each in one step.
pub fn visit(hits: &Shared<i64>) {
    // One read-modify-write per update: nothing can run between the read and the write.
    hits.update(|n| n + 1);
    hits.update(|n| n - 1);
}

/// Three visitors, each visiting once with `visit`; returns the counter after they left.
pub fn visitors(visit: fn(&Shared<i64>)) -> i64 {
    let hits = Shared::new("hits", 0);
    let threads: Vec<_> = ["v1", "v2", "v3"]
        .into_iter()
        .map(|name| {
            let hits = hits.clone();
            explore::spawn(name, move || visit(&hits))
        })
        .collect();
    threads.into_iter().for_each(|t| t.join());
    hits.peek()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;

    #[test]
    fn every_schedule_ends_at_zero() {
        common::guarded("explore_counter_zero", |_| {
            let report = explore::run(|| visitors(visit)).unwrap();
            assert!(report.schedules() > 1, "{report}");
            let zero = report.count(|o| o.returned() == Some(&0));
            assert_eq!(zero, report.schedules(), "{report}");
        });
    }

    #[test]
    fn a_visit_is_two_steps_and_counts_in_first() {
        common::guarded("explore_counter_steps", |_| {
            // One thread alone: its trace is the visit.
            let (outcome, schedule) = explore::replay("", || {
                let hits = Shared::new("hits", 0);
                visit(&hits);
                hits.peek()
            })
            .unwrap();
            assert_eq!(outcome.returned(), Some(&0));
            let table = schedule.table();
            assert_eq!(schedule.steps(), 2, "{table}");
            assert!(table.contains("hits = 1 (was 0)"), "{table}");
            assert!(table.contains("hits = 0 (was 1)"), "{table}");
        });
    }

    #[test]
    fn someone_inside_is_always_counted() {
        common::guarded("explore_counter_inside", |_| {
            // A watcher reads the counter while one visitor is inside: it sees 0 or 1, never
            // anything else, in every schedule.
            let report = explore::run(|| {
                let hits = Shared::new("hits", 0);
                let h = hits.clone();
                let v = explore::spawn("v1", move || visit(&h));
                let seen = hits.load();
                v.join();
                (seen, hits.peek())
            })
            .unwrap();
            let fine = report.count(|o| matches!(o.returned(), Some((0 | 1, 0))));
            assert_eq!(fine, report.schedules(), "{report}");
            assert!(
                report.count(|o| o.returned() == Some(&(1, 0))) > 0,
                "{report}"
            );
        });
    }
}
