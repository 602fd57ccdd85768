//! The explorer's SVG timeline: a lane per thread, a box per step, the lost update marked, and
//! the book's copy of the bank's picture up to date.
#![cfg(not(miri))]

mod common;

use synclab::explore::{self, Lock, Shared};

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

/// The `<g class="step...` elements of an SVG, as `(class, step number, thread)`.
fn steps(svg: &str) -> Vec<(String, usize, String)> {
    svg.split("<g class=\"step")
        .skip(1)
        .map(|rest| {
            let class = format!("step{}", &rest[..rest.find('"').unwrap()]);
            let attr = |name: &str| {
                let at = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                rest[at..at + rest[at..].find('"').unwrap()].to_string()
            };
            (
                class,
                attr("data-step").parse().unwrap(),
                attr("data-thread"),
            )
        })
        .collect()
}

#[test]
fn the_notes_order_has_two_lanes_eight_boxes_and_step_four_marked() {
    common::guarded("svg_notes_order", |_| {
        let (_, schedule) = explore::replay("122111", racy_bank).unwrap();
        let svg = schedule.svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<g class=\"lane\"").count(), 2, "{svg}");
        assert!(
            svg.contains("data-thread=\"t1\"><line") && svg.contains("data-thread=\"t2\"><line")
        );
        let boxes = steps(&svg);
        assert_eq!(boxes.len(), schedule.steps());
        assert_eq!(schedule.steps(), 8);
        let numbers: Vec<usize> = boxes.iter().map(|b| b.1).collect();
        assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
        let threads: Vec<&str> = boxes.iter().map(|b| b.2.as_str()).collect();
        assert_eq!(threads, ["t1", "t2", "t2", "t1", "t1", "t1", "t2", "t2"]);
        // The notes' step 4, t1's `balance = x1` (5), overwrites t2's 8: the only red box.
        let lost: Vec<_> = boxes.iter().filter(|b| b.0 == "step lost").collect();
        assert_eq!(lost.len(), 1, "{svg}");
        assert_eq!((lost[0].1, lost[0].2.as_str()), (4, "t1"));
        assert_eq!(svg.matches("<g class=\"overwrite\"").count(), 1);
        assert!(svg.contains("lost update: t2&apos;s balance = 8 is overwritten"));
        // Each box shows the operation and the value read or written.
        assert!(svg.contains(">reads balance = 0</text>"));
        assert!(svg.contains(">balance = 5</text>"));
        assert!(svg.contains("outcome: returned -8"));
    });
}

#[test]
fn a_locked_schedule_has_no_red_box() {
    common::guarded("svg_locked", |_| {
        let report = explore::run(|| {
            let balance = Lock::new("lock", 0);
            let b = balance.clone();
            let t1 = explore::spawn("t1", move || *b.lock() += 5);
            *balance.lock() += 8;
            t1.join();
            *balance.lock()
        })
        .unwrap();
        let schedule = report.find(|_| true).unwrap();
        let svg = schedule.svg();
        assert_eq!(steps(&svg).len(), schedule.steps());
        assert!(schedule.steps() > 0);
        assert!(!svg.contains("step lost"));
        assert!(!svg.contains("class=\"overwrite\""));
        assert!(svg.contains(">lock lock</text>"));
    });
}

#[test]
fn values_are_escaped() {
    common::guarded("svg_escaped", |_| {
        let report = explore::run(|| {
            let s = Shared::new("s<&>", String::from("a\"b'c"));
            s.store(s.load() + "<x>");
        })
        .unwrap();
        let svg = report.find(|_| true).unwrap().svg();
        assert!(svg.contains("s&lt;&amp;&gt;"), "{svg}");
        assert!(svg.contains("\\&quot;"), "{svg}"); // the Debug quotes of the String
        assert!(!svg.contains("<x>"), "{svg}");
    });
}

#[path = "../examples/explore_bank.rs"]
mod explore_bank;

#[test]
fn the_books_copy_of_the_bank_svg_is_what_the_example_draws() {
    common::guarded("svg_book_copy", |_| {
        let svg = explore_bank::notes_order_svg();
        let book = include_str!("../book/src/part1/explore-bank.svg");
        assert_eq!(
            svg, book,
            "regenerate: cargo run --example explore_bank -- --write-book"
        );
    });
}

#[test]
fn a_deadlock_draws_what_each_thread_waits_for() {
    common::guarded("svg_deadlock", |_| {
        let report = explore::run(|| {
            let (a, b) = (Lock::new("a", ()), Lock::new("b", ()));
            let (a1, b1) = (a.clone(), b.clone());
            let t1 = explore::spawn("t1", move || {
                let _a = a1.lock();
                let _b = b1.lock();
            });
            let (a2, b2) = (a.clone(), b.clone());
            let t2 = explore::spawn("t2", move || {
                let _b = b2.lock();
                let _a = a2.lock();
            });
            t1.join();
            t2.join();
        })
        .unwrap();
        let stuck = report.find(|o| o.returned().is_none()).unwrap();
        let svg = stuck.svg();
        assert_eq!(steps(&svg).len(), 2, "{svg}");
        assert_eq!(svg.matches("<g class=\"blocked\"").count(), 2, "{svg}");
        assert!(
            svg.contains(">waits for lock b (held by t2)</text>"),
            "{svg}"
        );
        assert!(
            svg.contains(">waits for lock a (held by t1)</text>"),
            "{svg}"
        );
        // main took no step: no lane, and its wait is only in the outcome line
        assert_eq!(svg.matches("<g class=\"lane\"").count(), 2, "{svg}");
    });
}
