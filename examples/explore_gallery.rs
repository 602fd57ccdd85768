//! The "Exploring interleavings" chapter's models, explored: how the number of schedules grows,
//! check-then-act, the lost wakeup of a two-state lock, the lightswitch's starving writer and
//! two locks taken in opposite order. Each bug is found by the explorer, and its fix checked
//! on every schedule.
//!
//! ```text
//! cargo run --release --example explore_gallery
//! cargo run --release --example explore_gallery -- --write-book   # rewrites the book's copies
//! ```

use std::fmt::Write as _;

use synclab::explore::{self, Condition, Explorer, Lock, Outcome, Report, Semaphore, Shared};

/// The notes' `change_it(n)` in its four steps.
fn change_it(balance: &Shared<i64>, n: i64) {
    let x = balance.load() + n;
    balance.store(x);
    let x = balance.load() - n;
    balance.store(x);
}

/// The notes' bank with `calls` calls of `change_it` per thread (the notes make a million).
fn bank(calls: usize) -> impl Fn() -> i64 {
    move || {
        let balance = Shared::new("balance", 0);
        let (b1, b2) = (balance.clone(), balance.clone());
        let t1 = explore::spawn("t1", move || (0..calls).for_each(|_| change_it(&b1, 5)));
        let t2 = explore::spawn("t2", move || (0..calls).for_each(|_| change_it(&b2, 8)));
        t1.join();
        t2.join();
        balance.peek()
    }
}

fn binomial(n: u64, k: u64) -> u64 {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

/// `log10 C(2m, m)`, from Stirling's formula: `2m log10 2 - log10(pi m) / 2`.
fn log10_central_binomial(m: f64) -> f64 {
    2.0 * m * 2f64.log10() - (std::f64::consts::PI * m).log10() / 2.0
}

// ANCHOR: counts
fn counts() -> String {
    let mut out = String::new();
    let row = |out: &mut String, calls: &str, steps: &str, c: &str, explored: &str| {
        let _ = writeln!(out, "{calls:>16} | {steps:>16} | {c:>16} | {explored}");
    };
    row(
        &mut out,
        "calls per thread",
        "steps per thread",
        "C(2s, s)",
        "schedules explored",
    );
    for calls in 1..=2u64 {
        let s = 4 * calls;
        let report = explore::run(bank(calls as usize)).expect("fits the default limit");
        let (c, n) = (binomial(2 * s, s), report.schedules());
        row(
            &mut out,
            &calls.to_string(),
            &s.to_string(),
            &c.to_string(),
            &n.to_string(),
        );
    }
    let c = binomial(24, 12).to_string();
    row(
        &mut out,
        "3",
        "12",
        &c,
        "more than the default limit, 100 000",
    );
    let c = format!("about 10^{:.0}", log10_central_binomial(4e6).floor());
    row(&mut out, "1 000 000", "4 000 000", &c, "-");
    let _ = writeln!(out, "\nTwo calls per thread, with a preemption bound:");
    for bound in 0..=3 {
        let r = Explorer::new()
            .preemption_bound(bound)
            .run(bank(2))
            .expect("fits the default limit");
        let wrong = r.count(|o| o.returned() != Some(&0));
        let _ = writeln!(
            out,
            "  at most {bound} preemptions: {:>5} schedules, {wrong:>5} end wrong",
            r.schedules()
        );
    }
    out
}
// ANCHOR_END: counts

// ANCHOR: withdraw
/// Check, then act: take `n` out if the balance covers it. The update itself is atomic.
fn withdraw(balance: &Shared<i64>, n: i64) -> bool {
    if balance.load() >= n {
        balance.update(|b| b - n); // one step: nobody can split the subtraction
        true
    } else {
        false
    }
}

/// Two withdrawals of 8 from a balance of 10: at most one may succeed.
fn two_withdrawals() -> i64 {
    let balance = Shared::new("balance", 10);
    let (b1, b2) = (balance.clone(), balance.clone());
    let t1 = explore::spawn("t1", move || withdraw(&b1, 8));
    let t2 = explore::spawn("t2", move || withdraw(&b2, 8));
    t1.join();
    t2.join();
    balance.peek()
}
// ANCHOR_END: withdraw

// ANCHOR: withdraw_locked
/// The fix: the check and the act under one guard.
fn two_locked_withdrawals() -> i64 {
    let balance = Lock::new("lock", 10);
    let spawn = |name| {
        let balance = balance.clone();
        explore::spawn(name, move || {
            let mut b = balance.lock();
            if *b >= 8 {
                *b -= 8;
            }
        })
    };
    let (t1, t2) = (spawn("t1"), spawn("t2"));
    t1.join();
    t2.join();
    *balance.lock()
}
// ANCHOR_END: withdraw_locked

// ANCHOR: two_state
const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;

/// The Lock chapter's two-state lock, with its sleep modelled: `queue` and `sleepers` stand
/// for the kernel's wait queue of the word (the futex hash bucket's lock and its sleepers).
#[derive(Clone)]
struct TwoStateLock {
    state: Shared<u32>,
    queue: Lock<()>,
    sleepers: Condition,
    /// `true`: sleep the futex way, re-reading the word under the queue's lock.
    futex: bool,
}

impl TwoStateLock {
    fn new(futex: bool) -> Self {
        TwoStateLock {
            state: Shared::new("state", UNLOCKED),
            queue: Lock::new("queue", ()),
            sleepers: Condition::new("sleepers"),
            futex,
        }
    }

    fn lock(&self) {
        while self.state.update(|_| LOCKED) == LOCKED {
            // swap(LOCKED) found it held: go to sleep
            let queue = self.queue.lock();
            if !self.futex || self.state.load() == LOCKED {
                drop(self.sleepers.wait(queue)); // futex_wait(state, LOCKED) if `futex`
            }
        }
    }

    fn unlock(&self) {
        self.state.store(UNLOCKED);
        let queue = self.queue.lock();
        self.sleepers.notify_one(); // futex_wake(state, 1)
        drop(queue);
    }
}
// ANCHOR_END: two_state

/// Two threads take the lock once each.
fn two_lockers(futex: bool) -> impl Fn() {
    move || {
        let lock = TwoStateLock::new(futex);
        let spawn = |name| {
            let lock = lock.clone();
            explore::spawn(name, move || {
                lock.lock();
                lock.unlock();
            })
        };
        let (t1, t2) = (spawn("t1"), spawn("t2"));
        t1.join();
        t2.join();
    }
}

// ANCHOR: lightswitch
/// The Little Book of Semaphores' lightswitch: a counter under a lock; the first reader in
/// takes the room's key (the light goes on), the last one out gives it back.
#[derive(Clone)]
struct Lightswitch {
    mutex: Lock<()>,
    readers: Shared<usize>,
}

impl Lightswitch {
    fn enter(&self, room: &Semaphore) {
        let _mutex = self.mutex.lock();
        if self.readers.update(|n| n + 1) == 0 {
            room.acquire(); // first in: wait for the room, still holding the mutex
        }
    }

    /// `true`: this reader was the last one out.
    fn leave(&self, room: &Semaphore) -> bool {
        let _mutex = self.mutex.lock();
        let last = self.readers.update(|n| n - 1) == 1;
        if last {
            room.release(); // last out: the light goes off
        }
        last
    }
}

/// Two readers reading `rounds` times each, and a writer. `turnstile`: Downey's fix, a
/// semaphore every reader passes through and a writer holds while it waits for the room.
fn readers_and_writer(rounds: usize, turnstile: bool) -> impl Fn() -> String {
    move || {
        let room = Semaphore::new("room", 1);
        let door = Semaphore::new("turnstile", 1);
        let switch = Lightswitch {
            mutex: Lock::new("mutex", ()),
            readers: Shared::new("readers", 0),
        };
        // r: a read, o: the light went off, w: the writer waits, W: it writes
        let log = Shared::new("log", String::new());
        let reader = |name| {
            let (room, door, switch, log) =
                (room.clone(), door.clone(), switch.clone(), log.clone());
            explore::spawn(name, move || {
                for _ in 0..rounds {
                    if turnstile {
                        door.acquire();
                        door.release();
                    }
                    switch.enter(&room);
                    log.update(|l| l + "r");
                    if switch.leave(&room) {
                        log.update(|l| l + "o"); // o: the light went off
                    }
                }
            })
        };
        let (r1, r2) = (reader("r1"), reader("r2"));
        let wlog = log.clone();
        let writer = explore::spawn("writer", move || {
            if turnstile {
                door.acquire();
            }
            wlog.update(|l| l + "w");
            room.acquire();
            wlog.update(|l| l + "W");
            if turnstile {
                door.release();
            }
            room.release();
        });
        writer.join();
        r1.join();
        r2.join();
        log.peek()
    }
}
// ANCHOR_END: lightswitch

/// How many reads happened while the writer waited (between its `w` and its `W`).
fn reads_while_waiting(log: &str) -> usize {
    let from = log.find('w').expect("the writer waits");
    let to = log.find('W').expect("the writer writes");
    log[from..to].matches('r').count()
}

/// The light went off between the writer's `w` and the last read before its `W`.
fn light_went_off(log: &str) -> bool {
    let from = log.find('w').expect("the writer waits");
    let to = log.find('W').expect("the writer writes");
    let last_read = log[..to].rfind('r').unwrap_or(0);
    last_read > from && log[from..last_read].contains('o')
}

// ANCHOR: opposite
/// Two accounts, a lock each: t1 moves 10 from a to b, t2 moves 20 from b to a. Each takes the
/// lock of the account it takes money from first, unless `ordered`: then both take a first.
fn transfers(ordered: bool) -> impl Fn() -> (i64, i64) {
    move || {
        let (a, b) = (Lock::new("a", 100), Lock::new("b", 100));
        let (a1, b1) = (a.clone(), b.clone());
        let t1 = explore::spawn("t1", move || {
            let mut from = a1.lock();
            let mut to = b1.lock();
            *from -= 10;
            *to += 10;
        });
        let (a2, b2) = (a.clone(), b.clone());
        let t2 = explore::spawn("t2", move || {
            if ordered {
                let mut to = a2.lock(); // a first, as t1 does
                let mut from = b2.lock();
                *from -= 20;
                *to += 20;
            } else {
                let mut from = b2.lock();
                let mut to = a2.lock();
                *from -= 20;
                *to += 20;
            }
        });
        t1.join();
        t2.join();
        (*a.lock(), *b.lock())
    }
}
// ANCHOR_END: opposite

/// A section of the chapter: its text file and, for a bug, its picture.
pub struct Figure {
    /// `exploring-<name>.txt` and `.svg` in `book/src/part2/`.
    pub name: &'static str,
    /// The report and the failing schedule's table.
    pub text: String,
    /// The failing schedule drawn.
    pub svg: Option<String>,
}

fn histogram_line<T: std::fmt::Debug + PartialEq>(what: &str, r: &Report<T>) -> String {
    format!("{what}: {r}")
}

/// Every figure of the chapter, and the tour line; `Err` when a claim of the chapter fails.
pub fn figures() -> Result<(Vec<Figure>, String), String> {
    let mut figs = Vec::new();
    figs.push(Figure {
        name: "counts",
        text: counts(),
        svg: None,
    });

    // ANCHOR: run_withdraw
    let racy = explore::run(two_withdrawals).map_err(|e| e.to_string())?;
    let overdrawn = racy
        .find(|o| o.returned() == Some(&-6))
        .ok_or("no schedule overdraws")?;
    let locked = explore::run(two_locked_withdrawals).map_err(|e| e.to_string())?;
    // ANCHOR_END: run_withdraw
    if locked.count(|o| o.returned() == Some(&2)) != locked.schedules() {
        return Err("a locked withdrawal overdrew".into());
    }
    figs.push(Figure {
        name: "check-then-act",
        text: format!(
            "{}\nThe first schedule that overdraws (key {:?}):\n{}\n{}",
            histogram_line("Check, then act", &racy),
            overdrawn.key(),
            overdrawn.table(),
            histogram_line("Check and act under one lock", &locked)
        ),
        svg: Some(overdrawn.svg()),
    });

    let sleepy = explore::run(two_lockers(false)).map_err(|e| e.to_string())?;
    let lost = sleepy
        .find(|o| matches!(o, Outcome::Deadlock(_)))
        .ok_or("no lost wakeup")?;
    let futex = explore::run(two_lockers(true)).map_err(|e| e.to_string())?;
    if futex.count(|o| o.returned().is_some()) != futex.schedules() {
        return Err("the futex-style sleep lost a wakeup".into());
    }
    figs.push(Figure {
        name: "lost-wakeup",
        text: format!(
            "{}\nThe first lost wakeup (key {:?}):\n{}\n{}",
            histogram_line("Sleep without looking at the word again", &sleepy),
            lost.key(),
            lost.table(),
            histogram_line("Sleep only while the word is LOCKED (the futex)", &futex)
        ),
        svg: Some(lost.svg()),
    });

    let bound: usize = std::env::var("BOUND")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(2);
    let explorer = Explorer::new().preemption_bound(bound);
    let rounds = 2;
    let plain = explorer
        .run(readers_and_writer(rounds, false))
        .map_err(|e| e.to_string())?;
    let fixed = explorer
        .run(readers_and_writer(rounds, true))
        .map_err(|e| e.to_string())?;
    let worst = |r: &Report<String>| {
        r.outcomes()
            .filter_map(|(o, _)| o.returned().map(|l| reads_while_waiting(l)))
            .max()
            .unwrap_or(0)
    };
    let starved = plain
        .find(|o| {
            o.returned()
                .is_some_and(|l| reads_while_waiting(l) == 2 * rounds && !light_went_off(l))
        })
        .ok_or("no starving schedule")?;
    figs.push(Figure {
        name: "lightswitch",
        text: format!(
            "Two readers of {rounds} reads each and one writer, \
             every schedule with at most {bound} preemptions:\n\
             without the turnstile: {} schedules, {} deadlocks, \
             at most {} reads while the writer waits\n\
             with the turnstile:    {} schedules, {} deadlocks, \
             at most {} reads while the writer waits\n\n\
             A schedule in which the writer waits through every read (key {:?}):\n{}",
            plain.schedules(),
            plain.count(|o| o.returned().is_none()),
            worst(&plain),
            fixed.schedules(),
            fixed.count(|o| o.returned().is_none()),
            worst(&fixed),
            starved.key(),
            starved.table()
        ),
        svg: Some(starved.svg()),
    });

    let crossed = explore::run(transfers(false)).map_err(|e| e.to_string())?;
    let stuck = crossed
        .find(|o| matches!(o, Outcome::Deadlock(_)))
        .ok_or("no deadlock")?;
    let ordered = explore::run(transfers(true)).map_err(|e| e.to_string())?;
    if ordered.count(|o| o.returned() == Some(&(110, 90))) != ordered.schedules() {
        return Err("the ordered transfers deadlocked or lost money".into());
    }
    figs.push(Figure {
        name: "deadlock",
        text: format!(
            "{}\nThe first deadlock (key {:?}):\n{}\n{}",
            histogram_line("Locks taken in opposite order", &crossed),
            stuck.key(),
            stuck.table(),
            histogram_line("Both take a before b", &ordered)
        ),
        svg: Some(stuck.svg()),
    });

    let tour = format!(
        "TOUR|explore_gallery|(the notes show one bad order by hand)|check-then-act: {} of {} schedules overdraw; two-state lock: {} of {} lose the wakeup; lightswitch: a writer waits through {} reads ({} with a turnstile); opposite locks: {} of {} deadlock",
        racy.count(|o| o.returned() == Some(&-6)),
        racy.schedules(),
        sleepy.count(|o| o.returned().is_none()),
        sleepy.schedules(),
        worst(&plain),
        worst(&fixed),
        crossed.count(|o| o.returned().is_none()),
        crossed.schedules()
    );
    Ok((figs, tour))
}

#[allow(dead_code)] // `tests/explore_gallery.rs` includes this file as a module
fn main() {
    let (figs, tour) = match figures() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("BUG: {e}");
            std::process::exit(1);
        }
    };
    let write = std::env::args().any(|a| a == "--write-book");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/part2");
    for f in &figs {
        println!("== {} ==\n{}", f.name, f.text);
        if write {
            let txt = format!("exploring-{}.txt", f.name);
            std::fs::write(dir.join(&txt), &f.text).expect("the book's folder is writable");
            println!("wrote book/src/part2/{txt}");
            if let Some(svg) = &f.svg {
                let file = format!("exploring-{}.svg", f.name);
                std::fs::write(dir.join(&file), svg).expect("the book's folder is writable");
                println!("wrote book/src/part2/{file}");
            }
        }
    }
    println!("{tour}");
}
