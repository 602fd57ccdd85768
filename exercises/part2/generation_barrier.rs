//! # Exercise `generation_barrier` — Part II, "Barrier"
//!
//! Build a reusable barrier from a `synclab::Lock` and a `synclab::Condition`, the way Rust's
//! `std::sync::Barrier` does it: under the lock, a count of the threads that have arrived in the
//! current round, and a *generation* number that the last thread to arrive bumps. A waiter
//! remembers the generation it arrived in and sleeps while the generation is still that one:
//! once it has changed, its round is over, whatever the counter says by then.
//!
//! Check your work: `cargo xtask check generation_barrier`

use synclab::{Condition, Lock};

/// What the lock protects.
struct State {
    /// Threads that have arrived in the current generation.
    arrived: usize,
    /// Bumped (wrapping) by the last thread of each generation.
    generation: u64,
}

/// A barrier for `parties` threads that can be used round after round.
pub struct GenerationBarrier {
    parties: usize,
    state: Lock<State>,
    /// Notified when a generation completes.
    released: Condition,
}

impl GenerationBarrier {
    /// A barrier for `parties` threads (`parties >= 1`).
    pub fn new(parties: usize) -> Self {
        assert!(parties >= 1, "a barrier needs at least one party");
        GenerationBarrier {
            parties,
            state: Lock::new(State {
                arrived: 0,
                generation: 0,
            }),
            released: Condition::new(),
        }
    }

    /// Blocks until `parties` threads have called `wait` in this generation. Returns `true` in
    /// exactly one of them, the leader: the last to arrive.
    pub fn wait(&self) -> bool {
        // TODO: under the lock, remember the generation you arrive in and count yourself in.
        // The last to arrive resets the count, bumps the generation, and wakes every sleeper;
        // it is the leader. Everyone else sleeps until the generation is no longer the one
        // they arrived in. Why not "until `arrived` reaches `parties`"?
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;

    #[test]
    fn one_party_passes_at_once_and_leads() {
        common::watchdog("generation_barrier_one", Duration::from_secs(10), |_| {
            let barrier = GenerationBarrier::new(1);
            for _ in 0..3 {
                assert!(barrier.wait(), "the only party is the last to arrive");
            }
        });
    }

    #[test]
    fn the_first_to_arrive_waits_for_the_others() {
        common::watchdog(
            "generation_barrier_waits",
            Duration::from_secs(10),
            |status| {
                let barrier = GenerationBarrier::new(2);
                let passed = AtomicBool::new(false);
                std::thread::scope(|s| {
                    s.spawn(|| {
                        status.set("early", "wait()");
                        barrier.wait();
                        passed.store(true, SeqCst);
                        status.set("early", "passed");
                    });
                    std::thread::sleep(Duration::from_millis(50));
                    let early = passed.load(SeqCst);
                    status.set("main", "wait()");
                    barrier.wait();
                    assert!(!early, "a thread passed the barrier alone");
                });
            },
        );
    }

    #[test]
    fn threads_stay_in_lockstep_round_after_round() {
        const THREADS: usize = 5;
        let rounds = common::scaled(300);
        common::watchdog(
            "generation_barrier_lockstep",
            Duration::from_secs(30),
            |status| {
                let barrier = GenerationBarrier::new(THREADS);
                // finished[t]: how many rounds thread t has finished.
                let finished: Vec<AtomicUsize> =
                    (0..THREADS).map(|_| AtomicUsize::new(0)).collect();
                let violations = AtomicUsize::new(0);
                std::thread::scope(|s| {
                    for t in 0..THREADS {
                        let (barrier, finished, violations) = (&barrier, &finished, &violations);
                        s.spawn(move || {
                            for round in 1..=rounds {
                                finished[t].store(round, SeqCst);
                                status
                                    .set(format!("thread {t}"), format!("wait() in round {round}"));
                                barrier.wait();
                                // Past the barrier of `round`: everyone has finished it.
                                if finished.iter().any(|f| f.load(SeqCst) < round) {
                                    violations.fetch_add(1, SeqCst);
                                }
                            }
                            status.set(format!("thread {t}"), "done");
                        });
                    }
                });
                assert_eq!(
                    violations.load(SeqCst),
                    0,
                    "a thread passed the barrier before every thread had finished the round"
                );
            },
        );
    }

    #[test]
    fn exactly_one_leader_per_round() {
        const THREADS: usize = 4;
        let rounds = common::scaled(200);
        common::guarded("generation_barrier_leaders", |status| {
            let barrier = GenerationBarrier::new(THREADS);
            let leaders: Vec<AtomicUsize> = (0..rounds).map(|_| AtomicUsize::new(0)).collect();
            std::thread::scope(|s| {
                for t in 0..THREADS {
                    let (barrier, leaders) = (&barrier, &leaders);
                    s.spawn(move || {
                        for (round, leader) in leaders.iter().enumerate() {
                            status.set(format!("thread {t}"), format!("wait() in round {round}"));
                            if barrier.wait() {
                                leader.fetch_add(1, SeqCst);
                            }
                        }
                        status.set(format!("thread {t}"), "done");
                    });
                }
            });
            let counts: Vec<usize> = leaders.iter().map(|l| l.load(SeqCst)).collect();
            assert!(
                counts.iter().all(|&c| c == 1),
                "leaders per round (each should be 1): {counts:?}"
            );
        });
    }
}
