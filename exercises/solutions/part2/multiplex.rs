//! # Exercise `multiplex` — Part II, "Puzzles from the Little Book of Semaphores"
//!
//! A section of code that at most `n` threads may be in at once: a lock that lets `n` in
//! instead of one (think of a limit on concurrent downloads, or a club with a doorman who
//! counts). One semaphore holding `n` permits is the whole solution; the exercise is to see
//! why.
//!
//! Check your work: `cargo xtask check multiplex`

use synclab::Semaphore;

/// Lets at most `n` threads into a section at a time.
pub struct Multiplex {
    /// One permit per free place in the section.
    places: Semaphore,
}

impl Multiplex {
    /// A section with room for `n` threads.
    pub fn new(n: usize) -> Self {
        // Every place starts free.
        Multiplex {
            places: Semaphore::new(n),
        }
    }

    /// Enters the section, waiting while it is full.
    pub fn enter(&self) {
        // Take a place; sleeps while none is free.
        self.places.acquire();
    }

    /// Enters the section if there is room now; `true` if it did.
    pub fn try_enter(&self) -> bool {
        // Never sleeps.
        self.places.try_acquire()
    }

    /// Leaves the section (after `enter` or a successful `try_enter`).
    pub fn leave(&self) {
        // Give the place back; wakes one thread waiting in `enter`, if any.
        self.places.release().expect("more leaves than enters");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    #[test]
    fn only_n_get_in() {
        let m = Multiplex::new(2);
        assert!(m.try_enter());
        assert!(m.try_enter());
        assert!(!m.try_enter(), "a third thread got into a section for two");
        m.leave();
        assert!(m.try_enter());
        m.leave();
        m.leave();
    }

    #[test]
    fn never_more_than_n_inside() {
        let rounds = common::scaled(2_000);
        common::guarded("multiplex_limit", |status| {
            let m = Multiplex::new(3);
            let inside = AtomicUsize::new(0);
            let most = AtomicUsize::new(0);
            std::thread::scope(|s| {
                for t in 0..8 {
                    let (m, inside, most) = (&m, &inside, &most);
                    s.spawn(move || {
                        for r in 0..rounds {
                            status.set(format!("thread {t}"), format!("entering, round {r}"));
                            m.enter();
                            // Record, don't assert here: a thread that panicked inside
                            // would never leave, and the others would wait for its place.
                            let now = inside.fetch_add(1, SeqCst) + 1;
                            most.fetch_max(now, SeqCst);
                            std::thread::yield_now();
                            inside.fetch_sub(1, SeqCst);
                            m.leave();
                        }
                        status.set(format!("thread {t}"), "done");
                    });
                }
            });
            let most = most.load(SeqCst);
            assert!(most <= 3, "{most} threads were inside a section for 3");
            // Every place is free again: three threads can enter without waiting.
            assert!(m.try_enter() && m.try_enter() && m.try_enter());
        });
    }
}
