//! `process::RobustSemaphore<N>`: a semaphore between processes that gets a dead holder's
//! permits back.
//!
//! `multiprocessing.Semaphore` is a POSIX semaphore: a count and nothing else. A process killed
//! while it holds a permit takes the permit with it, and once all permits are lost that way
//! everyone else waits forever (System V semaphores have `SEM_UNDO` for this; POSIX ones do
//! not). [`Semaphore`](super::Semaphore) behaves the same. This one remembers *who* holds each
//! permit, so that a permit whose holder no longer exists can be taken over, as
//! [`process::Lock`](super::Lock) takes over a lock from a dead holder.
//!
//! Each of the `N` permits is one word, holding the pid of the process that holds it:
//!
//! | permit word | meaning | `acquire` does | `release` does |
//! |---|---|---|---|
//! | `0` | free | CAS `0` → my pid: the permit is mine | — |
//! | `pid` of a live process | held by it | look at the next permit | (its holder) CAS → `0`, bump `released`, wake if `sleepers` > 0 |
//! | `pid` of a dead process | held by nobody alive | CAS `pid` → my pid: mine, with [`HolderDied`] | — |
//!
//! | other word | meaning |
//! |---|---|
//! | `released` | bumped by every `release`: sleepers sleep on its value, so a release wakes them |
//! | `sleepers` | how many may be asleep on `released`: `release` makes a system call only if non-zero |
//!
//! **Kill-safe at every instruction.** Taking a permit and recording its holder are one CAS,
//! and giving it back is one CAS: a process killed anywhere leaves every permit either free
//! or marked with its pid, never counted and unrecorded. (A counter plus a table of holders
//! would need both updated together, and a death between the two would lose or invent a
//! permit.) The price: `acquire` looks at up to `N` words and `available` counts them, so the
//! type suits a handful of permits (devices, connections, worker slots), not thousands.
//!
//! **No lost wakeup**, as in [`Semaphore`](super::Semaphore): a waiter reads `released` before
//! it looks at the permits and increments `sleepers` before the futex compares `released`; a
//! releaser frees its permit, then bumps `released`, then reads `sleepers`; all `SeqCst`. If the
//! waiter's look missed the freed permit, its read of `released` came before the bump, so the
//! futex does not sleep, or (if it is already asleep) the releaser sees `sleepers` and wakes it.
//!
//! **Finding the dead.** A sleeper sleeps at most [`SLICE`](super::lock::SLICE) at a time; then,
//! and whenever `try_acquire` finds no free permit, it asks the kernel whether each holder still
//! exists (`kill(pid, 0)`, with the limits that [the module docs](super#a-process-that-dies)
//! give: a zombie or a reused pid looks alive).

use std::fmt;
use std::time::{Duration, Instant};

use super::{Shareable, lock::SLICE, sys};
use crate::sync::{AtomicU32, Ordering::SeqCst};

/// A semaphore of `N` permits shared between processes, which gives back the permits of a
/// process that died holding them.
///
/// Unlike [`Semaphore`](super::Semaphore), a permit belongs to the process that took it: only
/// that process can [`release`](RobustSemaphore::release) it (threads of one process share its
/// permits). When a holder dies without releasing, the next process that needs a permit takes
/// the dead one's over and is told so with [`HolderDied`], as [`process::Lock`](super::Lock)
/// reports [`OwnerDied`](super::OwnerDied): whatever the permits guarded may have been left
/// half-done. Put it in a [`Shared`](super::Shared) region to use it between processes.
///
/// ```
/// use synclab::process::{RobustSemaphore, Shared};
///
/// # fn main() -> Result<(), synclab::process::ProcessError> {
/// # if cfg!(not(target_os = "linux")) { return Ok(()); }
/// let gpus = Shared::new(RobustSemaphore::<2>::new())?;
/// gpus.acquire().unwrap();
/// assert!(gpus.try_acquire().is_some());
/// assert!(gpus.try_acquire().is_none()); // both held (by this process, which lives)
/// assert_eq!(gpus.held_by_me(), 2);
/// gpus.release().unwrap();
/// gpus.release().unwrap();
/// assert!(gpus.release().is_err()); // this process holds none
/// assert_eq!(gpus.available(), 2);
/// # Ok(()) }
/// ```
#[repr(C)]
pub struct RobustSemaphore<const N: usize> {
    /// Bumped by every release; sleepers sleep on it.
    released: AtomicU32,
    /// How many may sleep on `released`.
    sleepers: AtomicU32,
    /// Permit `i`: `0` when free, else its holder's pid (table in the module docs).
    permits: [AtomicU32; N],
}

// SAFETY: atomic words only; every bit pattern is a valid state (a garbage pid is a holder that
// does not exist, whose permit is taken over).
unsafe impl<const N: usize> Shareable for RobustSemaphore<N> {}

/// The permit was taken over from a process that died holding it: the caller now holds it.
///
/// What the permit guarded may have been left half-done by the dead holder.
///
/// ```
/// let sem = synclab::process::RobustSemaphore::<1>::new();
/// match sem.acquire() {
///     Ok(()) => {}
///     Err(died) => eprintln!("{died}; checking the device first"), // a permit is held either way
/// }
/// # sem.release().unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HolderDied {
    pid: u32,
}

impl HolderDied {
    /// The pid of the process that died holding the permit.
    ///
    /// ```
    /// # let sem = synclab::process::RobustSemaphore::<1>::new();
    /// if let Err(died) = sem.acquire() {
    ///     assert_ne!(died.holder_pid(), std::process::id());
    /// }
    /// ```
    pub fn holder_pid(&self) -> u32 {
        self.pid
    }
}

impl fmt::Display for HolderDied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the process holding this permit (pid {}) died without releasing it; the permit is \
             now held by this process",
            self.pid
        )
    }
}

impl std::error::Error for HolderDied {}

/// [`RobustSemaphore::release`] by a process that holds none of its permits; nothing changed.
///
/// ```
/// let sem = synclab::process::RobustSemaphore::<1>::new();
/// let err = sem.release().unwrap_err();
/// assert!(err.to_string().contains("holds none"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotHolder {
    pid: u32,
}

impl fmt::Display for NotHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "process {} holds none of this semaphore's permits, so it has none to release \
             (a robust semaphore's permit is released by the process that acquired it)",
            self.pid
        )
    }
}

impl std::error::Error for NotHolder {}

impl<const N: usize> RobustSemaphore<N> {
    /// A semaphore with its `N` permits free.
    ///
    /// # Panics
    ///
    /// At compile time if `N` is 0.
    ///
    /// ```
    /// assert_eq!(synclab::process::RobustSemaphore::<3>::new().available(), 3);
    /// ```
    pub const fn new() -> RobustSemaphore<N> {
        const { assert!(N > 0, "a RobustSemaphore needs at least one permit") };
        RobustSemaphore {
            released: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
            permits: [const { AtomicU32::new(0) }; N],
        }
    }

    // ANCHOR: take
    /// Takes a free permit, or (with `reclaim`) one whose holder is dead. `None`: none now.
    fn take(&self, reclaim: bool) -> Option<Result<(), HolderDied>> {
        let me = sys::my_pid();
        // Start at a place that depends on the pid, so that processes do not all fight over
        // the first permit.
        let start = me as usize % N;
        for i in (start..N).chain(0..start) {
            // SeqCst: the CAS publishes our pid with the permit, and acquires what the last
            // holder wrote before its release (see "No lost wakeup" for the rest). The load
            // first: a failed CAS on a held permit would be a locked write for nothing.
            if self.permits[i].load(SeqCst) == 0
                && self.permits[i]
                    .compare_exchange(0, me, SeqCst, SeqCst)
                    .is_ok()
            {
                return Some(Ok(()));
            }
        }
        if reclaim {
            for i in (start..N).chain(0..start) {
                let holder = self.permits[i].load(SeqCst);
                if holder != 0
                    && !sys::alive(holder)
                    && self.permits[i]
                        .compare_exchange(holder, me, SeqCst, SeqCst)
                        .is_ok()
                {
                    return Some(Err(HolderDied { pid: holder }));
                }
            }
        }
        None
    }
    // ANCHOR_END: take

    /// Takes a permit, sleeping while every permit is held by a live process. `Err` when the
    /// permit was taken over from a dead holder: the caller holds it either way.
    ///
    /// ```
    /// let sem = synclab::process::RobustSemaphore::<1>::new();
    /// sem.acquire().unwrap();
    /// assert_eq!(sem.available(), 0);
    /// # sem.release().unwrap();
    /// ```
    pub fn acquire(&self) -> Result<(), HolderDied> {
        self.acquire_until(None)
            .expect("a wait without deadline ends with a permit")
    }

    /// Takes a permit if one is free now, or held by a process that no longer exists (which
    /// costs one `kill(pid, 0)` per permit). `None`: every permit is held by a live process.
    ///
    /// ```
    /// let sem = synclab::process::RobustSemaphore::<1>::new();
    /// assert!(sem.try_acquire().is_some());
    /// assert!(sem.try_acquire().is_none());
    /// # sem.release().unwrap();
    /// ```
    pub fn try_acquire(&self) -> Option<Result<(), HolderDied>> {
        self.take(true)
    }

    /// Takes a permit, waiting at most `timeout`; `None` if none came. `Duration::ZERO` is
    /// [`try_acquire`](Self::try_acquire); `Duration::MAX` waits as long as it takes.
    ///
    /// ```
    /// use std::time::Duration;
    /// let sem = synclab::process::RobustSemaphore::<1>::new();
    /// sem.acquire().unwrap();
    /// assert!(sem.acquire_timeout(Duration::from_millis(5)).is_none());
    /// # sem.release().unwrap();
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<Result<(), HolderDied>> {
        self.acquire_until(crate::futex::deadline_after(timeout))
    }

    fn acquire_until(&self, deadline: Option<Instant>) -> Option<Result<(), HolderDied>> {
        let mut reclaim = true;
        loop {
            // SeqCst: read before looking at the permits ("No lost wakeup").
            let seen = self.released.load(SeqCst);
            if let Some(got) = self.take(reclaim) {
                return Some(got);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return None;
            }
            let slice_end = now + SLICE;
            let wake_at = match deadline {
                Some(d) if d < slice_end => d,
                _ => slice_end,
            };
            self.sleepers.fetch_add(1, SeqCst);
            let r = sys::wait(&self.released, seen, Some(wake_at));
            self.sleepers.fetch_sub(1, SeqCst);
            // Woken by a release: a permit is free, no need to ask the kernel about the
            // holders. After a whole slice without a release, look for the dead again.
            reclaim = r.timed_out();
        }
    }

    // ANCHOR: release
    /// Gives back one permit held by this process. `Err` if it holds none.
    ///
    /// ```
    /// let sem = synclab::process::RobustSemaphore::<2>::new();
    /// sem.acquire().unwrap();
    /// sem.release().unwrap();
    /// assert!(sem.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), NotHolder> {
        let me = sys::my_pid();
        // A CAS, not a store: two threads of this process releasing at once may both find the
        // same permit marked with our pid, and only one of them may free it (the other goes on
        // to the next). Only this process turns a word holding its pid into anything else
        // (another takes it over only once this one is dead). SeqCst: publishes the holder's
        // writes to the next taker, and orders before the bump ("No lost wakeup").
        // Look where `take` starts, and read before the CAS: a failed CAS is a locked
        // read-modify-write too.
        let start = me as usize % N;
        let freed = (start..N).chain(0..start).any(|i| {
            let p = &self.permits[i];
            p.load(SeqCst) == me && p.compare_exchange(me, 0, SeqCst, SeqCst).is_ok()
        });
        if !freed {
            return Err(NotHolder { pid: me });
        }
        self.released.fetch_add(1, SeqCst);
        if self.sleepers.load(SeqCst) > 0 {
            sys::wake_one(&self.released);
        }
        Ok(())
    }
    // ANCHOR_END: release

    /// How many permits are free (a snapshot; permits of dead holders count as held until
    /// someone takes them over).
    ///
    /// ```
    /// assert_eq!(synclab::process::RobustSemaphore::<2>::new().available(), 2);
    /// ```
    pub fn available(&self) -> usize {
        self.permits.iter().filter(|p| p.load(SeqCst) == 0).count()
    }

    /// How many permits this process holds (a snapshot).
    ///
    /// ```
    /// let sem = synclab::process::RobustSemaphore::<2>::new();
    /// sem.acquire().unwrap();
    /// assert_eq!(sem.held_by_me(), 1);
    /// # sem.release().unwrap();
    /// ```
    pub fn held_by_me(&self) -> usize {
        let me = sys::my_pid();
        self.permits.iter().filter(|p| p.load(SeqCst) == me).count()
    }

    /// Frees every permit whose holder no longer exists, waking waiters; returns how many
    /// (one `kill(pid, 0)` per held permit). `acquire` does this on its own when it has to;
    /// this is for a supervisor that wants the count right now.
    ///
    /// ```
    /// let sem = synclab::process::RobustSemaphore::<2>::new();
    /// sem.acquire().unwrap();
    /// assert_eq!(sem.reclaim(), 0); // this process is alive
    /// # sem.release().unwrap();
    /// ```
    pub fn reclaim(&self) -> usize {
        let mut freed = 0;
        for p in &self.permits {
            let holder = p.load(SeqCst);
            if holder != 0
                && !sys::alive(holder)
                && p.compare_exchange(holder, 0, SeqCst, SeqCst).is_ok()
            {
                freed += 1;
            }
        }
        if freed > 0 {
            self.released.fetch_add(1, SeqCst);
            if self.sleepers.load(SeqCst) > 0 {
                sys::wake_all(&self.released);
            }
        }
        freed
    }
}

impl<const N: usize> Default for RobustSemaphore<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for RobustSemaphore<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("process::RobustSemaphore")
            .field("permits", &N)
            .field("available", &self.available())
            .finish()
    }
}
