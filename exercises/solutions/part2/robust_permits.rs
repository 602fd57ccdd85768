//! # Exercise `robust_permits` — Part II, "A semaphore whose holders can die"
//!
//! A semaphore between processes loses a permit for good when its holder is SIGKILLed: nobody
//! knows who held it. Give every permit its own word, holding `0` when it is free and its
//! holder's pid when it is held, so that taking a permit and recording who took it are **one**
//! compare-exchange, and a process killed at any instruction leaves each permit either free or
//! marked. A permit marked with a dead pid is taken over, **from that exact pid** (so only one
//! of several takers wins), and reported as `Err(HolderDied { pid })`. A process gives back
//! only a permit it holds; several threads of one process share its pid.
//!
//! The tests use fake pids and a fake `is_alive`, so everything runs in one process.
//!
//! Check your work: `cargo xtask check robust_permits`

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

/// A permit word's value when the permit is free; any other value is its holder's pid.
const FREE: u32 = 0;

/// The permit was taken over from a holder that died holding it; the caller holds it now.
#[derive(Debug, PartialEq, Eq)]
pub struct HolderDied {
    /// The dead holder.
    pub pid: u32,
}

/// `release` by a process that holds no permit; nothing changed.
#[derive(Debug, PartialEq, Eq)]
pub struct NotHolder;

/// `N` permits, one word each: `0` free, `pid` held by process `pid`.
pub struct Permits<const N: usize> {
    words: [AtomicU32; N],
}

impl<const N: usize> Permits<N> {
    /// All `N` permits free.
    pub fn new() -> Self {
        Permits {
            words: std::array::from_fn(|_| AtomicU32::new(FREE)),
        }
    }

    /// How many permits are free (a snapshot).
    pub fn available(&self) -> usize {
        self.words.iter().filter(|w| w.load(SeqCst) == FREE).count()
    }

    /// How many permits `pid` holds (a snapshot).
    pub fn held_by(&self, pid: u32) -> usize {
        self.words.iter().filter(|w| w.load(SeqCst) == pid).count()
    }

    /// One attempt to take a permit for process `me`: `Some(Ok(()))` if a free one was taken,
    /// `Some(Err(HolderDied))` if one was taken over from a dead holder, `None` if every permit
    /// is held by a live process.
    pub fn take(&self, me: u32, is_alive: impl Fn(u32) -> bool) -> Option<Result<(), HolderDied>> {
        // A load then a store would let two takers both see FREE and both store: one CAS takes
        // the permit and records the holder in one step.
        for w in &self.words {
            if w.compare_exchange(FREE, me, SeqCst, SeqCst).is_ok() {
                return Some(Ok(()));
            }
        }
        for w in &self.words {
            let holder = w.load(SeqCst);
            // From that exact pid: if another taker got there first, the word holds its pid
            // and our CAS fails.
            if holder != FREE
                && !is_alive(holder)
                && w.compare_exchange(holder, me, SeqCst, SeqCst).is_ok()
            {
                return Some(Err(HolderDied { pid: holder }));
            }
        }
        None
    }

    /// Gives back one permit held by `me`; `Err(NotHolder)` if `me` holds none.
    pub fn release(&self, me: u32) -> Result<(), NotHolder> {
        // A CAS, not a store: of two threads that found the same word, one frees it and the
        // other goes on to the next.
        if self
            .words
            .iter()
            .any(|w| w.compare_exchange(me, FREE, SeqCst, SeqCst).is_ok())
        {
            Ok(())
        } else {
            Err(NotHolder)
        }
    }
}

impl<const N: usize> Default for Permits<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicBool, AtomicUsize};
    use std::time::{Duration, Instant};

    /// Fake processes: pid `i` is alive while `alive[i]` is true.
    struct World {
        alive: Vec<AtomicBool>,
        /// How many times a dead pid was asked about.
        obituaries: AtomicUsize,
    }

    impl World {
        fn new(n: usize) -> Self {
            World {
                alive: (0..n).map(|_| AtomicBool::new(true)).collect(),
                obituaries: AtomicUsize::new(0),
            }
        }
        /// `is_alive`; "dead" comes back only once a second taker has asked too (or after
        /// 20 ms), so that two takers judge the same holder dead at the same time.
        fn is_alive(&self) -> impl Fn(u32) -> bool + '_ {
            |pid| {
                if self.alive[pid as usize].load(SeqCst) {
                    return true;
                }
                let asked = self.obituaries.fetch_add(1, SeqCst) + 1;
                let until = Instant::now() + Duration::from_millis(20);
                while asked < 2 && self.obituaries.load(SeqCst) < 2 && Instant::now() < until {
                    std::thread::yield_now();
                }
                false
            }
        }
        fn kill(&self, pid: u32) {
            self.alive[pid as usize].store(false, SeqCst);
        }
    }

    #[test]
    fn permits_are_counted_and_belong_to_their_holder() {
        let world = World::new(4);
        let permits = Permits::<2>::new();
        assert_eq!(permits.take(1, world.is_alive()), Some(Ok(())));
        assert_eq!(permits.take(2, world.is_alive()), Some(Ok(())));
        assert_eq!(
            permits.take(3, world.is_alive()),
            None,
            "both held by live processes"
        );
        assert_eq!((permits.held_by(1), permits.held_by(2)), (1, 1));
        assert_eq!(permits.release(3), Err(NotHolder));
        assert_eq!(permits.available(), 0, "a refused release changes nothing");
        assert_eq!(permits.release(1), Ok(()));
        assert_eq!(permits.release(1), Err(NotHolder));
        assert_eq!((permits.available(), permits.held_by(2)), (1, 1));
        assert_eq!(permits.take(3, world.is_alive()), Some(Ok(())));
        assert_eq!(permits.held_by(3), 1);
    }

    #[test]
    fn a_dead_holders_permit_is_taken_over_and_reported() {
        let world = World::new(4);
        let permits = Permits::<2>::new();
        permits.take(1, world.is_alive()).unwrap().unwrap();
        permits.take(2, world.is_alive()).unwrap().unwrap();
        world.kill(1); // killed holding its permit: no release
        assert_eq!(
            permits.take(3, world.is_alive()),
            Some(Err(HolderDied { pid: 1 }))
        );
        assert_eq!((permits.held_by(1), permits.held_by(3)), (0, 1));
        assert_eq!(permits.take(1, world.is_alive()), None, "3 is alive");
        assert_eq!(permits.release(2), Ok(()));
        assert_eq!(permits.release(3), Ok(()));
        assert_eq!(permits.available(), 2);
    }

    #[test]
    fn exactly_one_taker_gets_a_dead_holders_permit() {
        common::guarded("robust_permits_one_winner", |status| {
            for round in 0..common::scaled(50) {
                status.set("main", format!("round {round}"));
                let world = World::new(8);
                let permits = Permits::<1>::new();
                permits.take(1, world.is_alive()).unwrap().unwrap();
                world.kill(1);
                let winners = AtomicUsize::new(0);
                std::thread::scope(|s| {
                    for me in 2..8u32 {
                        let (permits, world, winners) = (&permits, &world, &winners);
                        s.spawn(move || {
                            if let Some(got) = permits.take(me, world.is_alive()) {
                                assert_eq!(got, Err(HolderDied { pid: 1 }));
                                winners.fetch_add(1, SeqCst);
                            }
                        });
                    }
                });
                assert_eq!(
                    winners.load(SeqCst),
                    1,
                    "round {round}: one permit, one taker"
                );
                assert_eq!(permits.available(), 0);
            }
        });
    }

    #[test]
    fn threads_of_one_process_share_its_permits_and_lose_none() {
        let per = common::scaled(3_000);
        common::guarded("robust_permits_threads", |_| {
            let world = World::new(2);
            let permits = Permits::<2>::new();
            let (inside, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
            std::thread::scope(|s| {
                for _ in 0..6 {
                    let (permits, world, inside, most) = (&permits, &world, &inside, &most);
                    s.spawn(move || {
                        for _ in 0..per {
                            // Every thread is process 1.
                            while permits.take(1, world.is_alive()).is_none() {
                                std::thread::yield_now();
                            }
                            most.fetch_max(inside.fetch_add(1, SeqCst) + 1, SeqCst);
                            std::thread::yield_now();
                            inside.fetch_sub(1, SeqCst);
                            permits.release(1).expect("a thread of 1 holds a permit");
                        }
                    });
                }
            });
            assert!(most.load(SeqCst) <= 2, "more holders than permits");
            assert_eq!(
                permits.available(),
                2,
                "a permit was lost by a live process"
            );
        });
    }
}
