//! The explorer's scheduler: schedule counts, the notes' bank, locks, deadlocks, replay keys,
//! bounds, limits and panics. Every test runs under the watchdog: a bug in the baton would
//! hang, not fail.
//!
//! Not under Miri: the explorer is safe code over std's `Mutex`/`Condvar`, and these tests run
//! some two thousand executions of three OS threads each, hours in an interpreter.
#![cfg(not(miri))]

mod common;

use std::collections::BTreeMap;

use synclab::explore::{self, ExploreError, Explorer, Lock, Outcome, Semaphore, Shared};

/// `threads[i]` stores into its own variable `steps[i]` times: independent straight-line code.
fn straight_lines(steps: &'static [usize]) -> impl Fn() + Clone {
    move || {
        let handles: Vec<_> = steps
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let x = Shared::new(&format!("x{i}"), 0);
                explore::spawn(&format!("t{}", i + 1), move || {
                    (0..n).for_each(|k| x.store(k));
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join());
    }
}

fn binomial(n: usize, k: usize) -> usize {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

/// The notes' `change_it(n)`, in the notes' four steps.
fn change_it(balance: &Shared<i64>, n: i64) {
    let x = balance.load() + n;
    balance.store(x);
    let x = balance.load() - n;
    balance.store(x);
}

fn racy_bank() -> i64 {
    let balance = Shared::new("balance", 0);
    let (b1, b2) = (balance.clone(), balance.clone());
    let t1 = explore::spawn("t1", move || change_it(&b1, 5));
    let t2 = explore::spawn("t2", move || change_it(&b2, 8));
    t1.join();
    t2.join();
    balance.peek()
}

fn locked_bank() -> i64 {
    let balance = Lock::new("lock", 0);
    let spawn = |name, n| {
        let balance = balance.clone();
        explore::spawn(name, move || {
            let mut b = balance.lock(); // one guard for the whole call
            *b += n;
            *b -= n;
        })
    };
    let (t1, t2) = (spawn("t1", 5), spawn("t2", 8));
    t1.join();
    t2.join();
    *balance.lock()
}

/// Every interleaving of the two threads' four steps, simulated directly: the final balances
/// and how often each occurs.
fn bank_by_hand() -> BTreeMap<i64, usize> {
    let mut finals = BTreeMap::new();
    for mask in 0u32..256 {
        if mask.count_ones() != 4 {
            continue; // bit i set: step i is t2's
        }
        let (mut balance, mut x, mut pc) = (0i64, [0i64; 2], [0usize; 2]);
        for i in 0..8 {
            let t = ((mask >> i) & 1) as usize;
            let n = [5, 8][t];
            match pc[t] {
                0 => x[t] = balance + n,
                2 => x[t] = balance - n,
                _ => balance = x[t],
            }
            pc[t] += 1;
        }
        *finals.entry(balance).or_insert(0) += 1;
    }
    finals
}

fn histogram(report: &explore::Report<i64>) -> BTreeMap<i64, usize> {
    report
        .outcomes()
        .map(|(o, n)| (*o.returned().expect("the bank always returns"), n))
        .collect()
}

#[test]
fn two_straight_lines_give_the_binomial_count() {
    common::guarded("two_straight_lines_give_the_binomial_count", |_| {
        for steps in [&[1, 1][..], &[2, 3], &[4, 4], &[1, 6]] {
            let steps: &'static [usize] = Vec::leak(steps.to_vec());
            let report = explore::run(straight_lines(steps)).unwrap();
            let expected = binomial(steps[0] + steps[1], steps[0]);
            assert_eq!(report.schedules(), expected, "steps {steps:?}");
        }
    });
}

#[test]
fn three_straight_lines_give_the_multinomial_count() {
    common::guarded("three_straight_lines_give_the_multinomial_count", |_| {
        // 6! / (2! 2! 2!) = 90 and 6! / (1! 2! 3!) = 60
        assert_eq!(
            explore::run(straight_lines(&[2, 2, 2]))
                .unwrap()
                .schedules(),
            90
        );
        assert_eq!(
            explore::run(straight_lines(&[1, 2, 3]))
                .unwrap()
                .schedules(),
            60
        );
    });
}

#[test]
fn racy_bank_finds_minus_eight_and_every_balance_the_steps_allow() {
    common::guarded("racy_bank_finds_minus_eight", |_| {
        let report = explore::run(racy_bank).unwrap();
        assert_eq!(report.schedules(), 70);
        let found = histogram(&report);
        assert_eq!(found, bank_by_hand());
        assert!(found[&-8] > 0 && found[&0] > 0, "{found:?}");
        let minus_eight = report.find(|o| o.returned() == Some(&-8)).unwrap();
        assert!(minus_eight.lost_updates() >= 1, "{}", minus_eight.table());
    });
}

#[test]
fn the_notes_key_replays_the_notes_table() {
    common::guarded("the_notes_key_replays_the_notes_table", |_| {
        // t1 reads; t2 reads and writes 8; t1 writes 5 (t2's 8 is lost), reads, writes 0;
        // then t2 alone: reads 0, writes -8.
        let (outcome, schedule) = explore::replay("122111", racy_bank).unwrap();
        assert_eq!(outcome, Outcome::Returned(-8));
        let table = schedule.table();
        let rows: Vec<&str> = table.lines().collect();
        let expect = [
            ("t1", "reads balance = 0"),
            ("t2", "reads balance = 0"),
            ("t2", "balance = 8"),
            ("t1", "balance = 5"),
            ("t1", "reads balance = 5"),
            ("t1", "balance = 0"),
            ("t2", "reads balance = 0"),
            ("t2", "balance = -8"),
        ];
        assert_eq!(rows.len(), 1 + 1 + expect.len() + 1, "{table}");
        assert!(rows[1].contains("t1") && rows[1].contains("t2") && rows[1].contains("balance"));
        for (i, (who, what)) in expect.iter().enumerate() {
            let row = rows[i + 2];
            let cols: Vec<&str> = row.split('|').map(str::trim).collect();
            let col = if *who == "t1" { 1 } else { 2 };
            assert_eq!(cols[col], *what, "row {}: {row}\n{table}", i + 1);
        }
        assert!(rows[5].contains("lost update: t2's balance = 8"), "{table}");
        assert_eq!(schedule.lost_updates(), 1, "{table}");
        assert_eq!(schedule.key(), "122111");
    });
}

#[test]
fn replay_reproduces_every_schedule_the_walk_found() {
    common::guarded("replay_reproduces_every_schedule", |_| {
        let report = explore::run(racy_bank).unwrap();
        let outcomes: Vec<Outcome<i64>> = report.outcomes().map(|(o, _)| o.clone()).collect();
        for o in outcomes {
            let first = report.find(|x| *x == o).unwrap();
            for _ in 0..3 {
                let (again, schedule) = explore::replay(first.key(), racy_bank).unwrap();
                assert_eq!(again, o);
                assert_eq!(schedule.table(), first.table());
            }
        }
    });
}

#[test]
fn locked_bank_ends_at_zero_in_every_schedule() {
    common::guarded("locked_bank_ends_at_zero", |_| {
        let report = explore::run(locked_bank).unwrap();
        assert!(report.schedules() > 1);
        assert_eq!(
            report.count(|o| o.returned() == Some(&0)),
            report.schedules()
        );
        assert!(report.find(|o| o.returned() != Some(&0)).is_none());
    });
}

#[test]
fn two_locks_in_opposite_order_deadlock() {
    common::guarded("two_locks_in_opposite_order_deadlock", |_| {
        let model = || {
            let (a, b) = (Lock::new("a", ()), Lock::new("b", ()));
            let (a2, b2) = (a.clone(), b.clone());
            let t1 = explore::spawn("t1", move || {
                let _a = a.lock();
                let _b = b.lock();
            });
            let t2 = explore::spawn("t2", move || {
                let _b = b2.lock();
                let _a = a2.lock();
            });
            t1.join();
            t2.join();
        };
        let report = explore::run(model).unwrap();
        let deadlocked = report.count(|o| matches!(o, Outcome::Deadlock(_)));
        assert!(
            deadlocked > 0 && deadlocked < report.schedules(),
            "{report}"
        );
        let stuck = report.find(|o| matches!(o, Outcome::Deadlock(_))).unwrap();
        let text = stuck.outcome().to_string();
        assert!(text.contains("t1 waits for lock b (held by t2)"), "{text}");
        assert!(text.contains("t2 waits for lock a (held by t1)"), "{text}");
        let (again, _) = explore::replay(stuck.key(), model).unwrap();
        assert!(matches!(again, Outcome::Deadlock(_)));
    });
}

#[test]
fn the_preemption_bound_cuts_the_count_as_documented() {
    common::guarded("the_preemption_bound_cuts_the_count", |_| {
        let model = straight_lines(&[4, 4]);
        let count = |b| {
            Explorer::new()
                .preemption_bound(b)
                .run(model.clone())
                .unwrap()
        };
        assert_eq!(count(0).schedules(), 2);
        assert_eq!(count(1).schedules(), 8); // a + b
        let two = count(2).schedules();
        assert!(8 < two && two < 70, "{two}");
        assert_eq!(count(7).schedules(), 70); // no schedule of 4 + 4 steps needs more
        // Bound 0 never splits a thread's steps: the bank cannot lose an update.
        let serial = Explorer::new().preemption_bound(0).run(racy_bank).unwrap();
        assert_eq!(histogram(&serial), BTreeMap::from([(0, 2)]));
    });
}

#[test]
fn too_many_schedules_is_a_typed_error() {
    common::guarded("too_many_schedules_is_a_typed_error", |_| {
        let err = Explorer::new()
            .max_schedules(69)
            .run(racy_bank)
            .unwrap_err();
        assert_eq!(
            err,
            ExploreError::TooManySchedules {
                limit: 69,
                explored: 69
            }
        );
        assert!(err.to_string().contains("sample"), "{err}");
        assert_eq!(
            Explorer::new()
                .max_schedules(70)
                .run(racy_bank)
                .unwrap()
                .schedules(),
            70
        );
    });
}

#[test]
fn a_loop_that_never_ends_hits_the_step_limit() {
    common::guarded("a_loop_that_never_ends_hits_the_step_limit", |_| {
        let report = Explorer::new()
            .max_steps(50)
            .run(|| {
                let flag = Shared::new("flag", false);
                let f = flag.clone();
                let spinner = explore::spawn("spinner", move || while !f.load() {});
                spinner.join(); // nobody sets the flag
            })
            .unwrap();
        assert_eq!(
            report.count(|o| *o == Outcome::StepLimit(50)),
            report.schedules()
        );
    });
}

#[test]
fn bad_replay_keys_are_typed_errors() {
    common::guarded("bad_replay_keys_are_typed_errors", |_| {
        let bad = |key: &str| match explore::replay(key, racy_bank) {
            Err(ExploreError::BadKey { at, reason, .. }) => (at, reason),
            other => panic!("key {key:?}: {other:?}"),
        };
        assert_eq!(bad("12?").0, 2); // not a thread number
        assert_eq!(bad("3").0, 0); // there is no thread 3
        assert!(bad("12").1.contains("ends before"));
        assert!(bad("1221112").1.contains("ended before"));
    });
}

#[test]
fn a_panicking_thread_is_an_outcome_not_a_crash() {
    common::guarded("a_panicking_thread_is_an_outcome", |_| {
        let model = || {
            let balance = Lock::new("lock", 0);
            let seen = Shared::new("seen", 0);
            let (b, s) = (balance.clone(), seen.clone());
            let t1 = explore::spawn("t1", move || {
                let mut g = b.lock();
                *g += 5;
                if s.load() == 8 {
                    panic!("t1 saw t2's deposit"); // the guard is dropped while unwinding
                }
            });
            let t2 = explore::spawn("t2", move || seen.store(8));
            t1.join();
            t2.join();
            *balance.lock()
        };
        let report = explore::run(model).unwrap();
        let panicked = |o: &Outcome<i64>| {
            matches!(o, Outcome::Panicked { thread, message }
            if thread == "t1" && message == "t1 saw t2's deposit")
        };
        assert!(report.count(panicked) > 0, "{report}");
        assert!(report.count(|o| o.returned() == Some(&5)) > 0, "{report}");
        assert_eq!(
            report.count(panicked) + report.count(|o| o.returned() == Some(&5)),
            report.schedules()
        );
        // and the explorer is still usable afterwards
        assert_eq!(explore::run(racy_bank).unwrap().schedules(), 70);
    });
}

#[test]
fn a_model_that_changes_between_runs_is_reported() {
    common::guarded("a_model_that_changes_between_runs", |_| {
        use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let err = explore::run(|| {
            let x = Shared::new("x", 0);
            let x1 = x.clone();
            // every run after the first spawns one more thread: not a function of the choices
            if RUNS.fetch_add(1, Relaxed) > 0 {
                explore::spawn("extra", || ());
            }
            let t = explore::spawn("t1", move || x1.store(2));
            x.store(3);
            t.join();
        })
        .unwrap_err();
        assert!(
            matches!(err, ExploreError::Nondeterministic { .. }),
            "{err:?}"
        );
    });
}

#[test]
fn a_semaphore_orders_two_threads_in_every_schedule() {
    common::guarded("a_semaphore_orders_two_threads", |_| {
        let report = explore::run(|| {
            let (data, ready) = (Shared::new("data", 0), Semaphore::new("ready", 0));
            let (d, r) = (data.clone(), ready.clone());
            let t1 = explore::spawn("t1", move || {
                d.store(1);
                r.release();
            });
            ready.acquire();
            let v = data.load();
            t1.join();
            v
        })
        .unwrap();
        assert_eq!(
            report.count(|o| o.returned() == Some(&1)),
            report.schedules()
        );
    });
}

#[test]
fn sampling_is_reproducible_from_its_seed() {
    common::guarded("sampling_is_reproducible_from_its_seed", |_| {
        let random = |seed| histogram(&Explorer::new().sample(seed, 200, racy_bank).unwrap());
        assert_eq!(random(1), random(1));
        let all = bank_by_hand();
        for (balance, _) in random(1) {
            assert!(all.contains_key(&balance));
        }
        let pct = |seed| histogram(&Explorer::new().sample_pct(seed, 200, 3, racy_bank).unwrap());
        assert_eq!(pct(9), pct(9));
        assert!(
            pct(9).len() > 1,
            "PCT with depth 3 finds more than one balance"
        );
    });
}

#[path = "../examples/explore_bank.rs"]
mod explore_bank;

#[test]
fn the_books_copy_of_explore_bank_is_what_it_prints() {
    common::guarded("the_books_copy_of_explore_bank", |_| {
        let (out, tour) = explore_bank::explain().unwrap();
        let book = include_str!("../book/src/part1/explore-bank.txt");
        assert_eq!(
            out, book,
            "regenerate: cargo run --example explore_bank -- --write-book"
        );
        assert!(tour.contains("8 at -8"), "{tour}");
    });
}
