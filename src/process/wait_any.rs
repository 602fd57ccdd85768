//! [`wait_any`]: block until any of several process queues or events is ready, Python's
//! `multiprocessing.connection.wait` for synclab's shared-memory objects.
//!
//! Each object sleeps on its own futex word in shared memory (a queue's `not_empty`, an
//! event's word). A waiter *arms* every object (under a queue's lock it registers as a getter
//! and reads the word, exactly as `get` does before it sleeps; on an event it puts the
//! `WAITERS` bit in), then sleeps on all the words at once with Linux's `futex_waitv` (5.16+),
//! then disarms them and looks again. No wakeup is lost for the reason each object's own
//! `get`/`wait` loses none: a put or `set` that comes after the arming changes the word (so the
//! kernel does not let the waiter sleep on the old value) and sees the registration (so it
//! wakes); one that came before left the object ready, which the arming reports instead of
//! sleeping.
//!
//! # Without `futex_waitv`
//!
//! Before Linux 5.16 the call fails with `ENOSYS` (remembered after the first try); then the
//! waiter takes short timed waits ([`POLL`], 1 ms) on each word in turn. Nothing is lost (a
//! word that changed while the waiter watched another returns at once when its turn comes), but
//! a wake can be late by up to one `POLL` per object, and the waiter wakes about once per
//! millisecond while it waits.
//!
//! As everywhere in the process module, a sleep lasts at most a [`SLICE`] before the waiter
//! looks again, so a woken process killed before it could act cannot leave others asleep.

use std::time::{Duration, Instant};

#[cfg(feature = "serde")]
use super::MessageQueue;
use super::raw_lock::SLICE;
use super::{ByteQueue, Event, Queue, Shareable, sys};
use crate::futex;
use crate::sync::AtomicU32;
#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::sync::{AtomicBool, Ordering::Relaxed};

/// The short timed wait of the fallback, per object.
pub(super) const POLL: Duration = Duration::from_millis(1);

/// Set once `futex_waitv` answered `ENOSYS` (or by a test, to exercise the fallback); always
/// taken as set where there is no `futex::shared` (not Linux).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) static NO_WAITV: AtomicBool = AtomicBool::new(false);

mod sealed {
    use super::AtomicU32;

    /// What [`wait_any`](super::wait_any) needs from an object.
    pub trait Source {
        /// `None` if ready now; else prepares to sleep and returns the word and its value.
        fn arm(&self) -> Option<(&AtomicU32, u32)>;
        /// Undoes a successful `arm`.
        fn disarm(&self);
    }
}

/// An object [`wait_any`] can wait on: [`process::Queue`](Queue), [`ByteQueue`] and
/// `MessageQueue` (feature `serde`) (ready: a `get` would not block, because an item is there
/// or the queue is shut down) and [`process::Event`](Event) (ready: set). Sealed.
///
/// ```
/// use synclab::process::{Event, Queue, Waitable};
/// let (q, e) = (Queue::<u32, 4>::new(), Event::new());
/// let objects: [&dyn Waitable; 2] = [&q, &e];
/// assert_eq!(objects.len(), 2);
/// ```
pub trait Waitable: sealed::Source {}

impl<T: Shareable + Copy, const N: usize> sealed::Source for Queue<T, N> {
    fn arm(&self) -> Option<(&AtomicU32, u32)> {
        self.arm_get()
    }
    fn disarm(&self) {
        self.disarm_get();
    }
}
impl<T: Shareable + Copy, const N: usize> Waitable for Queue<T, N> {}

impl sealed::Source for ByteQueue {
    fn arm(&self) -> Option<(&AtomicU32, u32)> {
        self.arm_get()
    }
    fn disarm(&self) {
        self.disarm_get();
    }
}
impl Waitable for ByteQueue {}

#[cfg(feature = "serde")]
impl<T: serde::Serialize + serde::de::DeserializeOwned> sealed::Source for MessageQueue<T> {
    fn arm(&self) -> Option<(&AtomicU32, u32)> {
        self.as_bytes().arm_get()
    }
    fn disarm(&self) {
        self.as_bytes().disarm_get();
    }
}
#[cfg(feature = "serde")]
impl<T: serde::Serialize + serde::de::DeserializeOwned> Waitable for MessageQueue<T> {}

impl sealed::Source for Event {
    fn arm(&self) -> Option<(&AtomicU32, u32)> {
        self.arm_wait()
    }
    fn disarm(&self) {}
}
impl Waitable for Event {}

/// Blocks until at least one of `objects` is ready and returns the indices of those ready
/// (ascending): Python's `multiprocessing.connection.wait(objects)`.
///
/// Ready means a queue's `get` would not block (an item is there, or it is shut down) or an
/// event is set, at the moment of the look; another process may take the item first, so
/// follow with `try_get`. An event set and cleared again before the waiter looks is not
/// reported (the waiter wakes, finds it clear, and sleeps again), unlike `Event::wait`, which
/// also returns for such a pulse. An empty list returns an empty `Vec` at once (nothing could wake it).
/// On Linux 5.16+ one `futex_waitv` sleeps on all the objects' words; older kernels get the
/// polling fallback of the module docs.
///
/// ```
/// use synclab::process::{Event, Queue, Shared, wait_any};
///
/// # fn main() -> Result<(), synclab::process::ProcessError> {
/// # if cfg!(not(target_os = "linux")) { return Ok(()); }
/// let work = Shared::new(Queue::<u64, 8>::new())?;
/// let stop = Shared::new(Event::new())?;
/// std::thread::scope(|s| {
///     s.spawn(|| work.put(42).unwrap()); // a child process would do the same
///     let ready = wait_any(&[&*work, &*stop]);
///     assert_eq!(ready, [0]);
///     assert_eq!(work.try_get(), Ok(42));
/// });
/// # Ok(()) }
/// ```
pub fn wait_any(objects: &[&dyn Waitable]) -> Vec<usize> {
    wait_until(objects, None)
}

/// Like [`wait_any`], waiting at most `timeout`: an empty `Vec` means it passed (Python's
/// `wait(objects, timeout)`). `Duration::ZERO` only looks; `Duration::MAX` waits forever.
///
/// ```
/// use std::time::Duration;
/// use synclab::process::{Event, Queue, wait_any_timeout};
///
/// let (q, e) = (Queue::<u8, 2>::new(), Event::new());
/// assert!(wait_any_timeout(&[&q, &e], Duration::from_millis(5)).is_empty());
/// e.set();
/// q.put(1).unwrap();
/// assert_eq!(wait_any_timeout(&[&q, &e], Duration::ZERO), [0, 1]);
/// ```
pub fn wait_any_timeout(objects: &[&dyn Waitable], timeout: Duration) -> Vec<usize> {
    wait_until(objects, futex::deadline_after(timeout))
}

/// The indices of the objects ready now (each looked at under its own lock or word).
fn ready_now(objects: &[&dyn Waitable]) -> Vec<usize> {
    (0..objects.len())
        .filter(|&at| match objects[at].arm() {
            None => true,
            Some(_) => {
                objects[at].disarm();
                false
            }
        })
        .collect()
}

// ANCHOR: wait_any
fn wait_until(objects: &[&dyn Waitable], deadline: Option<Instant>) -> Vec<usize> {
    if objects.is_empty() {
        return Vec::new();
    }
    let mut armed = Vec::with_capacity(objects.len());
    loop {
        let ready = ready_now(objects);
        if !ready.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
            return ready;
        }
        // Arm every object; stop at the first that is ready (it did not arm).
        armed.clear();
        for object in objects {
            match object.arm() {
                Some(word) => armed.push(word),
                None => break,
            }
        }
        if armed.len() == objects.len() {
            let slice_end = Instant::now() + SLICE;
            let wake = Some(deadline.map_or(slice_end, |d| d.min(slice_end)));
            sleep_any(&armed, wake);
        }
        for object in &objects[..armed.len()] {
            object.disarm();
        }
    }
}
// ANCHOR_END: wait_any

/// One sleep on all the words: `futex_waitv`, or the polling fallback (module docs).
fn sleep_any(words: &[(&AtomicU32, u32)], deadline: Option<Instant>) {
    // Relaxed: a cache of a fact about the kernel; a stale `false` only costs one more ENOSYS.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if !NO_WAITV.load(Relaxed) {
        if futex::shared::wait_any(words, deadline).is_some() {
            return;
        }
        NO_WAITV.store(true, Relaxed);
    }
    for &(word, expected) in words {
        let now = Instant::now();
        let until = deadline.map_or(now + POLL, |d| d.min(now + POLL));
        if sys::wait(word, expected, Some(until)).timed_out() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return;
            }
            continue;
        }
        return; // woken, or the word moved: go and look
    }
}

/// Test hook: `true` makes every later wait in this process use the fallback.
#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
pub(super) fn force_fallback(on: bool) {
    NO_WAITV.store(on, Relaxed);
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;

    /// The polling fallback, forced, with threads standing in for processes (the words are
    /// the same, so is the logic): a put on either queue and a `set` each end the wait.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn fallback_without_futex_waitv() {
        force_fallback(true);
        let (a, b, e) = (Queue::<u32, 2>::new(), Queue::<u32, 2>::new(), Event::new());
        for which in 0..3 {
            std::thread::scope(|s| {
                s.spawn(|| {
                    std::thread::sleep(Duration::from_millis(20));
                    match which {
                        0 => a.put(1).unwrap(),
                        1 => b.put(2).unwrap(),
                        _ => e.set(),
                    }
                });
                assert_eq!(wait_any(&[&a, &b, &e]), [which]);
            });
            match which {
                0 => assert_eq!(a.try_get(), Ok(1)),
                1 => assert_eq!(b.try_get(), Ok(2)),
                _ => e.clear(),
            }
        }
        assert!(wait_any_timeout(&[&a, &b], Duration::from_millis(5)).is_empty());
        force_fallback(false);
    }
}
