//! # Exercise `reusable_barrier` — Part II, "Puzzles from the Little Book of Semaphores"
//!
//! `n` threads work in rounds; at the end of each round every thread calls `wait`, and nobody
//! starts round k + 1 before all `n` have finished round k. Build it from a locked counter and
//! two *turnstiles* (semaphores that start closed, at 0):
//!
//! 1. phase one: count yourself in; the last to arrive opens the first turnstile for all `n`
//!    (`release_n(n)`); everyone passes it;
//! 2. phase two: count yourself out; the last to leave opens the second turnstile for all `n`;
//!    everyone passes it.
//!
//! The second phase is what makes the barrier reusable: without it, a fast thread could run
//! into the next round's `wait` and take a permit meant for a slow thread of this round.
//!
//! Check your work: `cargo xtask check reusable_barrier`

use synclab::{Lock, Semaphore};

/// A barrier for `n` threads that can be used round after round.
pub struct Barrier {
    n: usize,
    /// Threads between the start of phase one and the end of phase two.
    count: Lock<usize>,
    /// Phase one: opened (n permits) by the last thread to arrive.
    turnstile1: Semaphore,
    /// Phase two: opened (n permits) by the last thread to leave.
    turnstile2: Semaphore,
}

impl Barrier {
    /// A barrier for `n` threads (`n >= 1`).
    pub fn new(n: usize) -> Self {
        assert!(n >= 1, "a barrier needs at least one thread");
        Barrier {
            n,
            count: Lock::new(0),
            turnstile1: Semaphore::new(0),
            turnstile2: Semaphore::new(0),
        }
    }

    /// Waits until all `n` threads have called `wait` for this round.
    pub fn wait(&self) {
        self.phase1();
        self.phase2();
    }

    fn phase1(&self) {
        // TODO: count yourself in under the lock; if you are the n-th, open `turnstile1` for
        // all n threads. Then pass `turnstile1` — but not while holding the lock. Why not?
        todo!()
    }

    fn phase2(&self) {
        // TODO: count yourself out; if you are the last, open `turnstile2` for all n. Then pass
        // `turnstile2`.
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use synclab::Lock;

    #[test]
    fn a_barrier_for_one_never_blocks() {
        let barrier = Barrier::new(1);
        for _ in 0..3 {
            barrier.wait();
        }
    }

    #[test]
    fn nobody_starts_a_round_before_everyone_finished_the_last() {
        let rounds = common::scaled(300);
        let n = 4;
        common::guarded("reusable_barrier_rounds", |status| {
            let barrier = Barrier::new(n);
            // (thread, round) pairs finished so far.
            let finished = AtomicUsize::new(0);
            // Recorded, not asserted on the spot: a thread that panicked would leave the others
            // waiting at the barrier forever.
            let problems = Lock::new(Vec::new());
            std::thread::scope(|s| {
                for t in 0..n {
                    let (barrier, finished, problems) = (&barrier, &finished, &problems);
                    s.spawn(move || {
                        for round in 0..rounds {
                            finished.fetch_add(1, SeqCst);
                            status.set(format!("thread {t}"), format!("at the barrier, round {round}"));
                            barrier.wait();
                            // Everyone finished this round; nobody can have finished the next
                            // one (it needs us).
                            let now = finished.load(SeqCst);
                            if !((round + 1) * n <= now && now <= (round + 2) * n) {
                                problems.lock().push(format!(
                                    "thread {t} left round {round} with {now} (thread, round) pairs finished"
                                ));
                            }
                        }
                        status.set(format!("thread {t}"), "done");
                    });
                }
            });
            let problems = problems.into_inner();
            assert!(problems.is_empty(), "{problems:#?}");
            assert_eq!(finished.load(SeqCst), rounds * n);
        });
    }
}
