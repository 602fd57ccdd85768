//! The raw process lock: the lock word, the holder's identity beside it, the slow path and the
//! take-over from a dead holder. [`Lock<T>`](super::Lock) wraps it around the data.
//!
//! A sleeper does not sleep forever: a dead holder never unlocks. On Linux, once it has waited
//! [`WATCH_AFTER`], it registers the holder with this process's death watcher
//! ([`owner_watch`](super::owner_watch)), which wakes it as soon as the holder's pidfd says the
//! holder exited. Without pidfds it sleeps in [`SLICE`]s and checks the holder after each, as
//! every sleeper did before. Either way the sleeper itself judges the holder
//! ([`owner::alive`]) before it takes the lock over.

use std::time::{Duration, Instant};

use super::owner;
#[cfg(all(target_os = "linux", not(miri)))]
use super::owner_watch::{self, Watch};
use super::ring::snooze_until;
use super::sys;
use crate::sync::{
    AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};

// ANCHOR: word
/// `0`: nobody holds the lock.
pub(super) const UNLOCKED: u32 = 0;
/// Set while a process may sleep on the word: unlock must wake one.
pub(super) const CONTENDED: u32 = 1 << 31;
/// Set by a death watcher whose pidfd says the holder exited: "check the holder now".
pub(super) const DIED_HINT: u32 = 1 << 30;
/// The low 30 bits: the holder's pid (Linux pids are below 2^22).
pub(super) const PID_MASK: u32 = !(CONTENDED | DIED_HINT);

/// How long a sleeper sleeps before it checks whether the holder still exists, when no death
/// watcher wakes it (and, with one, at most: see [`RawLock`]'s invariants).
pub(super) const SLICE: Duration = Duration::from_millis(50);

/// How long a sleeper waits before it asks the death watcher to watch the holder. Most waits
/// end sooner (the holder unlocks) and then cost no pidfd, no `/proc` read and no thread wake.
pub(super) const WATCH_AFTER: Duration = Duration::from_millis(1);

/// The lock word and the holder's identity of a [`process::Lock`](super::Lock).
///
/// `word`:
///
/// | value | meaning | `lock` does | `unlock` does |
/// |---|---|---|---|
/// | `0` | free | CAS 0 → pid, then store `id` | — |
/// | `pid` | held by process `pid`, nobody asleep | yield; then set `CONTENDED`, sleep | clear `id`, store 0, no syscall |
/// | `pid \| CONTENDED` | held by `pid`, someone may sleep | sleep (≤ `WATCH_AFTER`, then watched, ≤ `SLICE`); check the holder when the sleep times out or `DIED_HINT` appears | clear `id`, store 0, wake one |
/// | `pid \| CONTENDED \| DIED_HINT` | a watcher saw `pid`'s pidfd fire | check the holder at once | as above |
/// | `dead pid (\| bits)` | the holder died holding it | CAS → `my pid \| CONTENDED`, store `id`: [`OwnerDied`](super::OwnerDied) | — |
///
/// `id`, the holder's identity packed by [`owner::pack`] (start time `<< 22 \| pid`):
///
/// | value | meaning |
/// |---|---|
/// | `0` | unknown: the holder has not stored it yet, or cleared it before unlocking |
/// | `start << 22 \| pid` with the word's pid | the identity of the holder the word names |
/// | with another pid | left by a holder that died and was taken over: ignored |
///
/// Invariants: a process only sleeps on a value with `CONTENDED` set, which only an unlock
/// (or a take-over) removes, so an unlock that ends a sleep always sees it and wakes (no lost
/// wakeup). A woken or taking-over process keeps `CONTENDED`, since it cannot know whether
/// others still sleep. The holder's pid is in the word from the CAS that took the lock on. An
/// unlock clears `id` *before* it releases the word, so a reader that sees a holder's pid never
/// pairs it with an earlier holder's start time ([`RawLock::holder`]). A sleeper watches the
/// holder it went to sleep on; if the lock changes hands while it sleeps and the new holder
/// dies, the sleeper finds out at its next `SLICE` (or when the new holder's own sleepers wake).
#[repr(C)]
pub(super) struct RawLock {
    pub(super) word: AtomicU32,
    pub(super) id: AtomicU64,
}
// ANCHOR_END: word

/// How a `lock` ended.
pub(super) enum Acquired {
    /// The lock is ours, released properly by its previous holder.
    Clean,
    /// The lock is ours, taken over from process `pid`, which died holding it.
    OwnerDied(u32),
    /// The deadline passed.
    TimedOut,
}

impl RawLock {
    pub(super) const fn new() -> RawLock {
        RawLock {
            word: AtomicU32::new(UNLOCKED),
            id: AtomicU64::new(0),
        }
    }

    /// Acquire: pairs with the Release in `unlock` (and, for a take-over, with whatever the dead
    /// holder stored: its stores reached memory before it died; see `take_over`).
    #[inline]
    pub(super) fn try_lock_fast(&self) -> bool {
        let won = self
            .word
            .compare_exchange(UNLOCKED, sys::my_pid(), Acquire, Relaxed)
            .is_ok();
        if won {
            self.publish_id();
        }
        won
    }

    /// Records our identity for the others. Relaxed: readers order it through the word (see
    /// `holder`), and after our CAS on the word no earlier `id` store can come after it.
    #[inline]
    fn publish_id(&self) {
        self.id.store(owner::my_id(), Relaxed);
    }

    /// The word and the start time of the holder it names, if known: a consistent snapshot.
    pub(super) fn holder(&self) -> (u32, Option<u64>) {
        loop {
            // Acquire: pairs with the Release of the unlock heading the release sequence this
            // value belongs to, so the `id` cleared before that unlock is visible: `id` below
            // is 0 or was stored by a later holder.
            let word = self.word.load(Acquire);
            // Acquire: keeps the re-read of the word after this load.
            let id = self.id.load(Acquire);
            if self.word.load(Relaxed) == word {
                return (word, owner::start_in(id, word & PID_MASK));
            }
        }
    }

    /// `try_lock`: the fast path, else take over from a dead holder; never sleeps.
    pub(super) fn try_lock(&self) -> Option<Acquired> {
        if self.try_lock_fast() {
            return Some(Acquired::Clean);
        }
        let (word, start) = self.holder();
        self.take_over(word, start)
    }

    #[inline]
    pub(super) fn lock_until(&self, deadline: Option<Instant>) -> Acquired {
        if self.try_lock_fast() {
            Acquired::Clean
        } else {
            self.lock_contended(deadline)
        }
    }

    /// The slow path: yield, then sleep until woken, watched or not (module docs).
    #[cold]
    fn lock_contended(&self, deadline: Option<Instant>) -> Acquired {
        let me = sys::my_pid();
        // Give way a few times (`sched_yield`) before sleeping, without spinning first: between
        // processes on few cores the holder is often descheduled, and yielding lets it finish
        // sooner than a futex round trip; a spinning waiter would hold the core it needs, and
        // pull the lock's cache line from it at every look. `perf_scratch process_lock`
        // (threads incrementing under the lock, 2 cores): 14-22 ns per increment yielding at
        // once, 66-113 ns spinning 100 loads and then backing off (tuning log, entry 18).
        if snooze_until(|| self.word.load(Relaxed) == UNLOCKED && self.try_lock_fast()) {
            return Acquired::Clean;
        }
        let mut first_sleep: Option<Instant> = None;
        loop {
            let (word, start) = self.holder();
            if word == UNLOCKED {
                // Take it, keeping CONTENDED: others may sleep. Acquire: as in `try_lock_fast`.
                if self
                    .word
                    .compare_exchange(UNLOCKED, me | CONTENDED, Acquire, Relaxed)
                    .is_ok()
                {
                    self.publish_id();
                    return Acquired::Clean;
                }
                continue;
            }
            // Record that someone will sleep. Relaxed: the futex compares the value itself.
            if word & CONTENDED == 0
                && self
                    .word
                    .compare_exchange(word, word | CONTENDED, Relaxed, Relaxed)
                    .is_err()
            {
                continue;
            }
            let expected = word | CONTENDED;
            let now = Instant::now();
            let since = *first_sleep.get_or_insert(now);
            let sleep = if now < since + WATCH_AFTER {
                Sleep::NotYet(since + WATCH_AFTER)
            } else {
                self.watch(expected, start)
            };
            let (until, token, check_on_timeout) = match sleep {
                Sleep::Took(got) => return got,
                Sleep::NotYet(until) => (until, None, false),
                Sleep::Polled => (now + SLICE, None, true),
                Sleep::Watched(token) => (now + SLICE, Some(token), true),
            };
            let wake_at = deadline.map_or(until, |d| d.min(until));
            let timed_out = sys::wait(&self.word, expected, Some(wake_at)).timed_out();
            if let Some(token) = token {
                unwatch(token);
            }
            let hinted = self.word.load(Relaxed) & DIED_HINT != 0;
            if (timed_out && check_on_timeout) || hinted {
                let (word, start) = self.holder();
                if let Some(got) = self.take_over(word, start) {
                    return got;
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Acquired::TimedOut;
            }
        }
    }

    /// Registers the holder named by `word` with the death watcher, if there is one; takes the
    /// lock over at once if the watcher already knows the holder is dead.
    fn watch(&self, word: u32, start: Option<u64>) -> Sleep {
        #[cfg(all(target_os = "linux", not(miri)))]
        match owner_watch::watch(&self.word, word & PID_MASK, start) {
            Watch::Watching(token) => return Sleep::Watched(token),
            Watch::Dead => {
                if let Some(got) = self.take_over(word, start) {
                    return Sleep::Took(got);
                }
                // Not ours after all (another waiter won, or the word moved on): sleep a slice.
            }
            Watch::Unavailable => {}
        }
        let _ = (word, start);
        Sleep::Polled
    }

    // ANCHOR: owner_died
    /// If `word` names a holder that no longer lives, takes the lock over from it.
    ///
    /// Only one of several waiters wins the CAS, from a word naming the holder judged dead; the
    /// others see the new holder (alive) and go on waiting. Before the CAS the identity is read
    /// again: a taker that stored its own `id` meanwhile is not judged by the previous holder's. Acquire:
    /// the dead holder's writes to the data were made before its death, so they are in memory;
    /// the Acquire orders our reads of the data after the take-over.
    fn take_over(&self, word: u32, start: Option<u64>) -> Option<Acquired> {
        let owner = word & PID_MASK;
        if word == UNLOCKED {
            return self.try_lock_fast().then_some(Acquired::Clean);
        }
        if owner::alive(owner, start) {
            return None;
        }
        // The same holder still? (Only its bits, `CONTENDED` or `DIED_HINT`, may have changed.)
        let (now, now_start) = self.holder();
        if now & PID_MASK != owner || now_start != start {
            return None; // another holder, or it stored its identity meanwhile: judge again
        }
        let taken = self
            .word
            .compare_exchange(now, sys::my_pid() | CONTENDED, AcqRel, Relaxed)
            .is_ok();
        taken.then(|| {
            self.publish_id();
            Acquired::OwnerDied(owner)
        })
    }
    // ANCHOR_END: owner_died

    /// Releases the lock. Release: publishes the data (and the cleared `id`) to the next
    /// Acquire of the word in `lock` and `holder`.
    #[inline]
    pub(super) fn unlock(&self) {
        self.id.store(0, Relaxed);
        if self.word.swap(UNLOCKED, Release) & CONTENDED != 0 {
            sys::wake_one(&self.word);
        }
    }

    /// The holder's pid, if any (a snapshot).
    pub(super) fn owner(&self) -> Option<u32> {
        // Relaxed: a hint only.
        match self.word.load(Relaxed) & PID_MASK {
            0 => None,
            pid => Some(pid),
        }
    }

    /// For tests: make the lock look held by `(pid, start)`, as if that process had locked it.
    pub(super) fn forge_holder(&self, pid: u32, start: Option<u64>) {
        self.id.store(owner::pack(pid, start), Relaxed);
        // Release: the `id` above is visible to whoever reads the word.
        self.word.store(pid & PID_MASK, Release);
    }
}

/// How the next sleep of `lock_contended` goes. (Without pidfds only `NotYet` and `Polled`.)
#[cfg_attr(not(all(target_os = "linux", not(miri))), allow(dead_code))]
enum Sleep {
    /// Not yet waited `WATCH_AFTER`: sleep until then, unwatched.
    NotYet(Instant),
    /// No death watcher: sleep a `SLICE`, then check the holder (the fallback).
    Polled,
    /// Watched: the watcher wakes us if the holder exits; a `SLICE` at most.
    Watched(Token),
    /// The holder was already dead, and the lock is ours.
    Took(Acquired),
}

#[cfg(all(target_os = "linux", not(miri)))]
use owner_watch::{Token, unwatch};

/// No watcher, no registrations.
#[cfg(not(all(target_os = "linux", not(miri))))]
enum Token {}

#[cfg(not(all(target_os = "linux", not(miri))))]
fn unwatch(token: Token) {
    match token {}
}
