//! # Exercise `owner_died` — Part II, "Across processes"
//!
//! A lock between processes must survive the death of its holder: a process killed with
//! SIGKILL runs no destructor, so it never unlocks. Build a lock whose word holds the holder's
//! pid (`0` = free). A process that finds the lock held asks `is_alive(pid)`; if the holder is
//! dead, it takes the lock over with a compare-exchange **from that exact word** (so only one
//! of several waiters wins) and reports `Err(OwnerDied { pid })`: the lock is now its own, but
//! the data may be half-updated. Sleepers sleep in bounded slices, because a dead holder never
//! wakes anyone.
//!
//! The tests use fake pids and a fake `is_alive`, so everything runs in one process.
//!
//! Check your work: `cargo xtask check owner_died`

use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};
use std::time::{Duration, Instant};

use synclab::futex;

/// The word's value when nobody holds the lock; any other value is the holder's pid.
const FREE: u32 = 0;
/// How long a waiter sleeps before it looks at the holder again.
const SLICE: Duration = Duration::from_millis(5);

/// The lock was taken over from a holder that died holding it. The caller holds it now.
#[derive(Debug, PartialEq, Eq)]
pub struct OwnerDied {
    /// The dead holder.
    pub pid: u32,
}

/// A lock whose word names its holder: `0` free, `pid` held by process `pid`.
pub struct PidLock {
    word: AtomicU32,
}

impl PidLock {
    /// A free lock.
    pub const fn new() -> Self {
        PidLock {
            word: AtomicU32::new(FREE),
        }
    }

    /// The holder's pid, or `None` when free (a snapshot).
    pub fn owner(&self) -> Option<u32> {
        match self.word.load(Relaxed) {
            FREE => None,
            pid => Some(pid),
        }
    }

    /// One attempt: `None` if a live process holds the lock; `Some(Ok(()))` if we took a free
    /// lock; `Some(Err(OwnerDied))` if we took it over from a dead holder.
    pub fn try_lock(
        &self,
        me: u32,
        is_alive: impl Fn(u32) -> bool,
    ) -> Option<Result<(), OwnerDied>> {
        assert_ne!(me, FREE, "0 is not a pid");
        // Acquire: pairs with the Release in `unlock`, so the last holder's writes are visible.
        let seen = match self.word.compare_exchange(FREE, me, Acquire, Relaxed) {
            Ok(_) => return Some(Ok(())),
            Err(seen) => seen,
        };
        if is_alive(seen) {
            return None;
        }
        // The holder is dead. Replace *its* pid with ours: if another waiter got there first,
        // the word has changed and our CAS fails, so exactly one waiter takes over.
        // Acquire: the dead holder's writes happened before its death; order our reads after.
        match self.word.compare_exchange(seen, me, Acquire, Relaxed) {
            Ok(_) => Some(Err(OwnerDied { pid: seen })),
            Err(_) => None,
        }
    }
    // ^^^ the take-over is a CAS from the exact word we judged dead, never a plain store

    /// Takes the lock, sleeping while a live process holds it.
    pub fn lock(&self, me: u32, is_alive: impl Fn(u32) -> bool) -> Result<(), OwnerDied> {
        loop {
            if let Some(result) = self.try_lock(me, &is_alive) {
                return result;
            }
            let seen = self.word.load(Relaxed);
            if seen != FREE {
                // A bounded sleep: a dead holder never calls `unlock`, so no wake would come.
                // `shared`: the word may live in memory mapped by several processes.
                futex::shared::wait(&self.word, seen, Some(Instant::now() + SLICE));
            }
        }
    }

    /// Releases the lock held by `me`. Release: publishes the data to the next `lock`.
    pub fn unlock(&self, me: u32) {
        let was = self.word.swap(FREE, Release);
        debug_assert_eq!(was, me, "unlock by a process that does not hold the lock");
        futex::shared::wake_one(&self.word);
    }
}

impl Default for PidLock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};

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
        /// `is_alive`; "dead" comes back only once a second waiter has asked too (or after
        /// 20 ms), so that two waiters judge the same holder dead at the same time.
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
    fn a_live_holder_keeps_the_lock() {
        let world = World::new(4);
        let lock = PidLock::new();
        assert_eq!(lock.owner(), None);
        assert_eq!(lock.lock(1, world.is_alive()), Ok(()));
        assert_eq!(lock.owner(), Some(1));
        assert!(lock.try_lock(2, world.is_alive()).is_none());
        assert_eq!(lock.owner(), Some(1));
        lock.unlock(1);
        assert_eq!(lock.owner(), None);
        assert_eq!(lock.try_lock(2, world.is_alive()), Some(Ok(())));
        assert_eq!(lock.owner(), Some(2));
    }

    #[test]
    fn a_dead_holder_is_reported_and_replaced() {
        let world = World::new(4);
        let lock = PidLock::new();
        lock.lock(1, world.is_alive()).unwrap();
        world.kill(1); // killed while holding: no unlock
        assert_eq!(
            lock.try_lock(2, world.is_alive()),
            Some(Err(OwnerDied { pid: 1 }))
        );
        assert_eq!(lock.owner(), Some(2));
        // The new holder is alive: nobody else may take it over.
        assert!(lock.try_lock(3, world.is_alive()).is_none());
        lock.unlock(2);
        assert_eq!(lock.lock(3, world.is_alive()), Ok(()));
    }

    #[test]
    fn a_sleeping_waiter_notices_the_death() {
        // Nobody unlocks and nobody wakes the waiter: it must look again by itself.
        common::guarded("owner_died_sleeper", |status| {
            let world = World::new(4);
            let lock = PidLock::new();
            lock.lock(1, world.is_alive()).unwrap();
            std::thread::scope(|s| {
                let waiter = s.spawn(|| lock.lock(2, world.is_alive()));
                status.set("main", "letting the waiter fall asleep");
                std::thread::sleep(Duration::from_millis(30));
                assert!(!waiter.is_finished(), "lock() returned while pid 1 held it");
                status.set("main", "killing pid 1; the waiter must notice alone");
                world.kill(1);
                assert_eq!(waiter.join().unwrap(), Err(OwnerDied { pid: 1 }));
            });
            assert_eq!(lock.owner(), Some(2));
        });
    }

    #[test]
    fn exactly_one_waiter_takes_over() {
        common::guarded("owner_died_one_winner", |status| {
            for round in 0..common::scaled(50) {
                status.set("main", format!("round {round}"));
                let world = World::new(8);
                let lock = PidLock::new();
                lock.lock(1, world.is_alive()).unwrap();
                let (reports, inside) = (AtomicUsize::new(0), AtomicUsize::new(0));
                std::thread::scope(|s| {
                    for me in 2..8u32 {
                        let (lock, world, reports, inside) = (&lock, &world, &reports, &inside);
                        s.spawn(move || {
                            if let Err(died) = lock.lock(me, world.is_alive()) {
                                assert_eq!(died.pid, 1);
                                reports.fetch_add(1, SeqCst);
                            }
                            assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders at once");
                            std::thread::yield_now();
                            inside.fetch_sub(1, SeqCst);
                            lock.unlock(me);
                        });
                    }
                    world.kill(1);
                });
                assert_eq!(
                    reports.load(SeqCst),
                    1,
                    "round {round}: one take-over, no more"
                );
                assert_eq!(lock.owner(), None);
            }
        });
    }

    #[test]
    fn mutual_exclusion_among_live_processes() {
        let per = common::scaled(2_000);
        common::guarded("owner_died_exclusion", |_| {
            let world = World::new(5);
            let lock = PidLock::new();
            let counter = AtomicU64::new(0);
            std::thread::scope(|s| {
                for me in 1..5u32 {
                    let (lock, world, counter) = (&lock, &world, &counter);
                    s.spawn(move || {
                        for _ in 0..per {
                            lock.lock(me, world.is_alive()).unwrap();
                            // A non-atomic increment: a lost update shows a broken lock.
                            let v = counter.load(Relaxed);
                            counter.store(v + 1, Relaxed);
                            lock.unlock(me);
                        }
                    });
                }
            });
            assert_eq!(counter.load(SeqCst), 4 * per as u64);
        });
    }
}
