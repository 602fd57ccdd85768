//! What the process queues share: how long a call may wait, the snooze before a sleep, the
//! sleeper counts of the byte ring ([`Sleepers`]), and the fault-injection hook of the tests.

use std::time::{Duration, Instant};

use super::lock::SLICE;
use crate::sync::{AtomicBool, AtomicU32, Ordering::Relaxed};

/// How long a blocking call may wait.
#[derive(Clone, Copy)]
pub(super) enum Patience {
    /// `try_*`: not at all (report `Full` / `Empty`).
    None,
    /// Until the deadline (`None`: forever); report `Timeout`.
    Until(Option<Instant>),
}

impl Patience {
    pub(super) fn expired(self) -> bool {
        match self {
            Patience::None => true,
            Patience::Until(d) => d.is_some_and(|d| Instant::now() >= d),
        }
    }

    /// The next wake-up: the deadline, or one [`SLICE`] from now if that comes first.
    pub(super) fn next_wake(self) -> Option<Instant> {
        let slice_end = Instant::now() + SLICE;
        match self {
            Patience::Until(Some(d)) if d < slice_end => Some(d),
            _ => Some(slice_end),
        }
    }
}

// ANCHOR: snooze
/// How many times a process gives its core away before it registers to sleep.
const SNOOZE_YIELDS: u32 = 10;

/// Before a process registers to sleep on a sequence word: yield (`sched_yield`) a few times
/// while the word still reads `seen`, *without* the lock. `true` if the word moved (the other
/// side put or got something: try again instead of sleeping).
///
/// Between processes on few cores a futex sleep and its wake cost two system calls and two
/// context switches, and the other side is usually about to move: ten producers that each
/// yield a core to the consumer refill an empty ring within a few yields. Yield, not spin:
/// with more processes than cores, a spinning waiter holds the core that the process it waits
/// for needs, and each look at the other side's counter pulls a cache line the other side is
/// about to write. Measured (`mp_throughput`, 2 cores): 1.3–2.2× the items/s of spinning
/// first, with one producer as with ten.
pub(super) fn snooze_while(word: &AtomicU32, seen: u32) -> bool {
    // Relaxed: only a hint; the decision is made again under the lock.
    snooze_until(|| word.load(Relaxed) != seen)
}

/// The same, until `moved()` says the other side acted (the process queue watches a counter).
pub(super) fn snooze_until(mut moved: impl FnMut() -> bool) -> bool {
    for _ in 0..SNOOZE_YIELDS {
        crate::sync::yield_now();
        if moved() {
            return true;
        }
    }
    false
}
// ANCHOR_END: snooze

/// Who may be asleep on one of the queue's sequence words. Plain counters: only ever read and
/// written under the queue's lock, which orders them between processes.
///
/// | word | `+1` by | `-1` by |
/// |---|---|---|
/// | `registered` | a thread about to sleep ([`register`](Self::register)) | that thread, back under the lock ([`leave`](Self::leave)) |
/// | `claimed` | the other side, bumping the word and waking one ([`claim`](Self::claim)) | a thread back under the lock, if non-zero |
///
/// `registered - claimed` bounds the sleepers that no wake is on its way to, so the other side
/// wakes only while it is non-zero: one `futex_wake` per sleep, instead of one per operation
/// until the woken thread gets a core and the lock back (the same claim as the in-process
/// queue's `Waiters`). Why no wakeup is lost: a claim bumps the sequence word under the lock,
/// so every registered thread not yet asleep returns from its futex wait at once, and the wake
/// that follows releases one sleeper (or a newcomer that registered after the bump, which adds
/// one to `registered` itself); a thread coming back is awake, so taking one from each count
/// keeps the bound. A process killed while registered leaves one stale unit: at most one wasted
/// wake per sleep, never a missed one. And no sleep is longer than a `SLICE` anyway.
// ANCHOR: sleepers
#[repr(C)]
pub(super) struct Sleepers {
    registered: u32,
    claimed: u32,
}

impl Sleepers {
    pub(super) const fn new() -> Sleepers {
        Sleepers {
            registered: 0,
            claimed: 0,
        }
    }

    /// This thread will sleep on the word (whose value it read under the lock).
    pub(super) fn register(&mut self) {
        self.registered += 1;
    }

    /// A registered thread is back under the lock (woken, timed out, or never asleep).
    pub(super) fn leave(&mut self) {
        self.registered -= 1;
        self.claimed = self.claimed.saturating_sub(1);
    }

    /// After bumping the word: `true` if a sleeper needs a wake (and counts it as sent).
    pub(super) fn claim(&mut self) -> bool {
        let unclaimed = self.registered > self.claimed;
        self.claimed += u32::from(unclaimed);
        unclaimed
    }
}
// ANCHOR_END: sleepers

#[cfg(test)]
impl Sleepers {
    /// How many threads are registered (a test's look, under the lock).
    pub(super) fn registered(&self) -> u32 {
        self.registered
    }
}

/// Set by a test's child process: the next `put` writes half its item and then stalls forever
/// while holding the lock (so that the parent can SIGKILL it there).
pub(super) static STALL_IN_PUT: AtomicBool = AtomicBool::new(false);

/// Fault injection for the tests: every later `put` in this process writes half of its item into
/// the slot and then stalls forever, holding the queue's lock. Not part of the API.
#[doc(hidden)]
pub fn __stall_puts_half_written() {
    STALL_IN_PUT.store(true, Relaxed);
}

/// The fault-injection path of `put`: copy the first half of the item's bytes into the slot,
/// then hang (holding the lock) until killed.
#[cold]
pub(super) fn stall_half_written<T>(slot: *mut T, item: &T) -> ! {
    // SAFETY: `slot` is a valid, writable slot of `size_of::<T>()` bytes (see `put_with`); we
    // copy half of that many bytes from `item`, which is readable for all of them.
    unsafe {
        std::ptr::copy_nonoverlapping(
            (item as *const T).cast::<u8>(),
            slot.cast::<u8>(),
            size_of::<T>() / 2,
        );
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
