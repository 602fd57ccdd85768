//! `explore::Condition`: wait releases the lock and sleeps in one step, a notify with nobody
//! waiting is lost (so a predicate checked outside the lock deadlocks some schedule), notify_one
//! wakes the oldest waiter and only it, notify_all wakes everyone.
#![cfg(not(miri))]

mod common;

use synclab::explore::{self, Condition, Lock, Outcome, Shared};

/// A waiter for `ready` and a setter; `under_lock` says where the waiter checks the flag.
fn waiter_and_setter(under_lock: bool) -> impl Fn() -> bool {
    move || {
        let (lock, cond) = (Lock::new("lock", ()), Condition::new("cond"));
        let ready = Shared::new("ready", false);
        let (l, c, r) = (lock.clone(), cond.clone(), ready.clone());
        let setter = explore::spawn("setter", move || {
            let g = l.lock();
            r.store(true);
            c.notify_one();
            drop(g);
        });
        if under_lock {
            let mut g = lock.lock();
            while !ready.load() {
                g = cond.wait(g);
            }
            drop(g);
        } else if !ready.load() {
            // checked without the lock: the setter may set and notify right here
            drop(cond.wait(lock.lock()));
        }
        setter.join();
        ready.peek()
    }
}

#[test]
fn a_predicate_checked_outside_the_lock_loses_the_wakeup() {
    common::guarded("cond_lost_wakeup", |_| {
        let report = explore::run(waiter_and_setter(false)).unwrap();
        let lost = report
            .find(|o| matches!(o, Outcome::Deadlock(_)))
            .expect("some schedule loses the notify");
        let table = lost.table();
        assert!(table.contains("cond.notify_one(): nobody waits"), "{table}");
        assert_eq!(
            lost.outcome(),
            "deadlock: main waits in cond.wait() for a notify"
        );
        assert!(
            report.count(|o| o.returned() == Some(&true)) > 0,
            "{report}"
        );
    });
}

#[test]
fn the_predicate_checked_under_the_lock_never_loses_it() {
    common::guarded("cond_under_lock", |_| {
        let report = explore::run(waiter_and_setter(true)).unwrap();
        assert!(report.schedules() > 2, "{report}");
        assert_eq!(
            report.count(|o| o.returned() == Some(&true)),
            report.schedules(),
            "{report}"
        );
    });
}

/// Two waiters count themselves in under the lock and wait; main waits until both are in,
/// then notifies once (`all`: notify_all).
fn two_waiters(all: bool) -> impl Fn() -> Vec<String> {
    move || {
        let lock = Lock::new("lock", Vec::<String>::new());
        let (cond, arrived) = (Condition::new("cond"), Condition::new("arrived"));
        let waiters: Vec<_> = ["t1", "t2"]
            .into_iter()
            .map(|name| {
                let (l, c, a) = (lock.clone(), cond.clone(), arrived.clone());
                explore::spawn(name, move || {
                    let mut g = l.lock();
                    g.push(name.to_string());
                    a.notify_one();
                    drop(c.wait(g));
                })
            })
            .collect();
        let mut g = lock.lock();
        while g.len() < 2 {
            g = arrived.wait(g);
        }
        let order = g.clone();
        if all {
            cond.notify_all();
        } else {
            cond.notify_one();
        }
        drop(g);
        waiters.into_iter().for_each(|w| w.join());
        order
    }
}

#[test]
fn notify_one_wakes_the_oldest_waiter_and_only_it() {
    common::guarded("cond_notify_one", |_| {
        let report = explore::run(two_waiters(false)).unwrap();
        assert!(report.schedules() > 1);
        // Every schedule deadlocks with exactly the younger waiter still asleep.
        for (first, second) in [("t1", "t2"), ("t2", "t1")] {
            let schedule = report
                .find(|o| match o {
                    Outcome::Deadlock(b) => b.iter().any(|l| l.starts_with(second)),
                    _ => false,
                })
                .expect("both orders of arrival happen");
            let table = schedule.table();
            let waited = |t: &str| {
                table
                    .lines()
                    .position(|l| l.contains("cond.wait(): unlock") && cell_of(l, &table) == t)
            };
            assert!(waited(first) < waited(second), "{table}");
            assert!(
                table.contains(&format!("cond.notify_one(): wakes {first}")),
                "{table}"
            );
            let expected = format!("main waits in join({second})");
            assert!(schedule.outcome().contains(&expected), "{table}");
            assert!(
                schedule
                    .outcome()
                    .contains(&format!("{second} waits in cond.wait() for a notify")),
                "{table}"
            );
        }
        assert_eq!(report.count(|o| o.returned().is_some()), 0, "{report}");
    });
}

/// The thread column a table line's step is in (`t1` or `t2`), from the header.
fn cell_of<'a>(line: &str, table: &'a str) -> &'a str {
    let header = table.lines().find(|l| l.starts_with("step")).unwrap();
    let col = line
        .split(" | ")
        .position(|c| c.contains("cond.wait(): unlock"));
    let names: Vec<&str> = header.split(" | ").map(str::trim).collect();
    col.map_or("", |c| names[c])
}

#[test]
fn notify_all_wakes_every_waiter() {
    common::guarded("cond_notify_all", |_| {
        let report = explore::run(two_waiters(true)).unwrap();
        assert!(report.schedules() > 1);
        assert_eq!(
            report.count(|o| o.returned().is_some()),
            report.schedules(),
            "{report}"
        );
        // Both arrival orders are explored.
        assert_eq!(report.outcomes().count(), 2, "{report}");
    });
}

#[test]
fn outside_a_model_wait_panics_instead_of_hanging() {
    let (lock, cond) = (Lock::new("lock", 0), Condition::new("cond"));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        drop(cond.wait(lock.lock()));
    }));
    assert!(r.is_err());
}
