//! # Exercise `dining_philosophers` — Part II, "Puzzles from the Little Book of Semaphores"
//!
//! Five philosophers sit at a round table with one fork between each pair of neighbours;
//! philosopher `i` needs fork `i` (on the left) and fork `i + 1` (on the right, modulo 5) to
//! eat. If all five pick up their left fork at the same moment, each waits forever for the
//! right one: a deadlock. Make `eat` safe: two neighbours never eat at once (each fork is a
//! `Lock`), and the table never deadlocks.
//!
//! Two classic ways out: a *footman* who lets at most four philosophers sit down at a time (a
//! semaphore with 4 permits: then at least one of the seated can get both forks), or an order
//! on the forks (everyone picks up the lower-numbered fork first, so one philosopher reaches
//! in the opposite direction and the cycle of waiting cannot close). The table comes with a
//! footman; if you order the forks instead, leave him unused.
//!
//! Check your work: `cargo xtask check dining_philosophers`

use synclab::{Lock, Semaphore};

/// How many philosophers (and forks) there are.
pub const SEATS: usize = 5;

/// The table: five forks and a footman.
pub struct Table {
    forks: [Lock<()>; SEATS],
    /// At most `SEATS - 1` philosophers at the table at once.
    footman: Semaphore,
}

impl Table {
    /// All forks on the table, all seats free.
    pub const fn new() -> Self {
        Table {
            forks: [const { Lock::new(()) }; SEATS],
            footman: Semaphore::new(SEATS - 1),
        }
    }

    /// Philosopher `i` (`0..SEATS`) picks up both forks, runs `f` (eats), and puts them down.
    pub fn eat<R>(&self, i: usize, f: impl FnOnce() -> R) -> R {
        assert!(i < SEATS, "there are only {SEATS} philosophers");
        // TODO: take both forks (guards that put them down when dropped), run `f`, return its
        // result. Taken naively (left, then right) the five of you can deadlock: use the
        // `footman`, or take the forks in a fixed global order.
        todo!()
    }
}

impl Default for Table {
    fn default() -> Self {
        Table::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

    #[test]
    fn each_philosopher_can_eat_alone() {
        let table = Table::new();
        for i in 0..SEATS {
            assert_eq!(table.eat(i, || i * 10), i * 10);
        }
    }

    #[test]
    fn everyone_eats_and_neighbours_never_eat_at_once() {
        let meals = common::scaled(1_000);
        common::guarded("dining_philosophers", |status| {
            let table = Table::new();
            let eating: [AtomicBool; SEATS] = std::array::from_fn(|_| AtomicBool::new(false));
            let eaten: [AtomicUsize; SEATS] = std::array::from_fn(|_| AtomicUsize::new(0));
            let clashes = AtomicUsize::new(0);
            std::thread::scope(|s| {
                for i in 0..SEATS {
                    let (table, eating, eaten, clashes) = (&table, &eating, &eaten, &clashes);
                    s.spawn(move || {
                        let (left, right) = ((i + SEATS - 1) % SEATS, (i + 1) % SEATS);
                        for m in 0..meals {
                            status.set(format!("philosopher {i}"), format!("hungry, meal {m}"));
                            table.eat(i, || {
                                eating[i].store(true, SeqCst);
                                if eating[left].load(SeqCst) || eating[right].load(SeqCst) {
                                    clashes.fetch_add(1, SeqCst);
                                }
                                std::thread::yield_now();
                                eating[i].store(false, SeqCst);
                                eaten[i].fetch_add(1, SeqCst);
                            });
                            status.set(
                                format!("philosopher {i}"),
                                format!("thinking after meal {m}"),
                            );
                        }
                    });
                }
            });
            assert_eq!(
                clashes.load(SeqCst),
                0,
                "meals eaten next to an eating neighbour"
            );
            for (i, n) in eaten.iter().enumerate() {
                assert_eq!(n.load(SeqCst), meals, "philosopher {i}'s meals");
            }
        });
    }
}
