//! What a trace records: a deadlock's trace ends where the threads got stuck (the guards
//! dropped while the schedule is torn down are not steps), and a write over a write that
//! changed nothing is not a lost update.
#![cfg(not(miri))]

mod common;

use synclab::explore::{self, Lock, Outcome, Shared};

#[test]
fn a_deadlocks_trace_ends_where_the_threads_got_stuck() {
    common::guarded("trace_deadlock", |_| {
        let report = explore::run(|| {
            let (a, b) = (Lock::new("a", ()), Lock::new("b", ()));
            let (a1, b1) = (a.clone(), b.clone());
            let t1 = explore::spawn("t1", move || {
                let _a = a1.lock();
                let _b = b1.lock();
            });
            let _b = b.lock();
            let _a = a.lock();
            drop((_a, _b));
            t1.join();
        })
        .unwrap();
        let stuck = report
            .find(|o| matches!(o, Outcome::Deadlock(_)))
            .expect("opposite order deadlocks");
        let table = stuck.table();
        assert_eq!(stuck.steps(), 2, "{table}");
        assert!(!table.contains("unlock"), "{table}");
    });
}

#[test]
fn overwriting_a_write_that_changed_nothing_loses_nothing() {
    common::guarded("trace_unchanged", |_| {
        // t1 takes the flag (0 -> 1) and later clears it; t2's swap in between writes 1 over
        // 1. Clearing it is not a lost update of t2's write.
        let (_, schedule) = explore::replay("12", || {
            let flag = Shared::new("flag", 0);
            let f1 = flag.clone();
            let t1 = explore::spawn("t1", move || {
                f1.update(|_| 1);
                f1.store(0);
            });
            let f2 = flag.clone();
            let t2 = explore::spawn("t2", move || {
                f2.update(|_| 1);
            });
            t1.join();
            t2.join();
        })
        .unwrap();
        let table = schedule.table();
        assert!(table.contains("flag = 1 (was 1)"), "{table}");
        assert_eq!(schedule.lost_updates(), 0, "{table}");
    });
}
