//! # Exercise `rendezvous` — Part II, "Puzzles from the Little Book of Semaphores"
//!
//! Two threads, A and B, each reach a meeting point; neither may go past it until the other
//! has arrived. Build it from two semaphores that start at zero: each thread announces its own
//! arrival on one and waits for the other's on the other. It must also work when the two
//! threads meet again and again (at point 1, point 2, …).
//!
//! Check your work: `cargo xtask check rendezvous`

use synclab::Semaphore;

/// A meeting point for two threads, A and B.
pub struct Rendezvous {
    /// One permit per arrival of A.
    a_arrived: Semaphore,
    /// One permit per arrival of B.
    b_arrived: Semaphore,
}

impl Rendezvous {
    /// Nobody has arrived yet.
    pub const fn new() -> Self {
        Rendezvous {
            a_arrived: Semaphore::new(0),
            b_arrived: Semaphore::new(0),
        }
    }

    /// Thread A has arrived; returns once B has arrived too.
    pub fn arrive_a(&self) {
        // Announce first, then wait: if both threads waited first, neither would ever
        // announce (a deadlock).
        self.a_arrived
            .release()
            .expect("far below the permit limit");
        self.b_arrived.acquire();
    }

    /// Thread B has arrived; returns once A has arrived too.
    pub fn arrive_b(&self) {
        // The mirror image of `arrive_a`.
        self.b_arrived
            .release()
            .expect("far below the permit limit");
        self.a_arrived.acquire();
    }
}

impl Default for Rendezvous {
    fn default() -> Self {
        Rendezvous::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;
    use synclab::Lock;

    #[test]
    fn the_first_to_arrive_waits_for_the_other() {
        common::guarded("rendezvous_waits", |status| {
            let meeting = Rendezvous::new();
            let a_passed = AtomicBool::new(false);
            std::thread::scope(|s| {
                s.spawn(|| {
                    status.set("A", "arrived, waiting for B");
                    meeting.arrive_a();
                    a_passed.store(true, SeqCst);
                    status.set("A", "passed");
                });
                std::thread::sleep(Duration::from_millis(50));
                assert!(!a_passed.load(SeqCst), "A passed before B arrived");
                status.set("B", "arrived");
                meeting.arrive_b();
            });
            assert!(a_passed.load(SeqCst));
        });
    }

    #[test]
    fn neither_passes_a_point_before_both_arrived_there() {
        let points = common::scaled(2_000);
        common::guarded("rendezvous_rounds", |status| {
            let meeting = Rendezvous::new();
            // How many points each thread has arrived at.
            let arrivals = [AtomicUsize::new(0), AtomicUsize::new(0)];
            // Recorded, not asserted on the spot: a thread that panicked would leave the other
            // one waiting at the next point forever.
            let problems = Lock::new(Vec::new());
            std::thread::scope(|s| {
                for me in 0..2 {
                    let (meeting, arrivals, problems) = (&meeting, &arrivals, &problems);
                    s.spawn(move || {
                        let name = ["A", "B"][me];
                        for point in 1..=points {
                            status.set(name, format!("arrived at point {point}"));
                            arrivals[me].store(point, SeqCst);
                            if me == 0 {
                                meeting.arrive_a();
                            } else {
                                meeting.arrive_b();
                            }
                            let other = arrivals[1 - me].load(SeqCst);
                            if other < point {
                                problems.lock().push(format!(
                                    "{name} passed point {point} while the other had only reached {other}"
                                ));
                            }
                        }
                        status.set(name, "done");
                    });
                }
            });
            let problems = problems.into_inner();
            assert!(problems.is_empty(), "{problems:#?}");
        });
    }
}
