//! # Exercise `result_slot` — Part I, "Pools"
//!
//! The heart of `apply_async`: the pool hands the caller a handle on a result that does not
//! exist yet, and a worker fills it in later. Build that one-shot slot from a
//! `Lock<Option<T>>` (the value) and an `Event` ("the value is there"):
//!
//! - `set(value)` stores the value and wakes every waiter; a slot is filled once, so a second
//!   `set` hands its value back as `Err`;
//! - `ready()` says whether it has been set (Python's `AsyncResult.ready()`);
//! - `get()` waits for the value and takes it (Python's `get()`);
//! - `get_timeout(t)` waits at most `t`: `None` if the value is not there yet, and then the
//!   value is *not lost*: a later `get` still receives it (Python's `get(timeout)`, which
//!   raises `TimeoutError` and leaves the result alone).
//!
//! Check your work: `cargo xtask check result_slot`

use std::time::Duration;

use synclab::{Event, Lock};

/// A value that one thread sets once and another waits for.
pub struct ResultSlot<T> {
    /// The value: `None` until `set`, and again after `get` took it.
    value: Lock<Option<T>>,
    /// Set by `set`, once the value is stored; never cleared.
    filled: Event,
}

impl<T> ResultSlot<T> {
    /// An empty slot.
    pub fn new() -> Self {
        ResultSlot {
            value: Lock::new(None),
            filled: Event::new(),
        }
    }

    /// Stores `value` and wakes every thread waiting for it. `Err(value)` if the slot was set
    /// already: the first value stays.
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut slot = self.value.lock();
        // Decided under the lock: of two racing `set`s, the second to lock sees the event
        // that the first one set before unlocking.
        if self.filled.is_set() {
            return Err(value);
        }
        // Store first, then set the event: a waiter that wakes up must find the value. (The
        // event's Release/Acquire pair, and the lock, make the stored value visible to it.)
        *slot = Some(value);
        self.filled.set();
        Ok(())
    }

    /// Whether the slot has been set (a snapshot).
    pub fn ready(&self) -> bool {
        self.filled.is_set()
    }

    /// Waits until the slot is set and takes the value.
    ///
    /// # Panics
    ///
    /// If the value was taken already (each slot has one reader).
    pub fn get(&self) -> T {
        self.filled.wait();
        self.take()
    }

    /// Waits at most `timeout` for the value: `Some(value)` once it is set, `None` if time
    /// runs out first, and then the slot is unchanged: a later `set` and `get` still work.
    ///
    /// # Panics
    ///
    /// If the value was taken already.
    pub fn get_timeout(&self, timeout: Duration) -> Option<T> {
        // Only a wait that saw the event set may take the value; on a timeout, the slot is
        // left exactly as it was.
        if self.filled.wait_timeout(timeout) {
            Some(self.take())
        } else {
            None
        }
    }

    /// Takes the value out of a slot whose event is set.
    fn take(&self) -> T {
        self.value
            .lock()
            .take()
            .expect("ResultSlot: the value was already taken")
    }
}

impl<T> Default for ResultSlot<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::time::Instant;

    #[test]
    fn set_then_get_on_one_thread() {
        let slot = ResultSlot::new();
        assert!(!slot.ready());
        assert_eq!(slot.set("done"), Ok(()));
        assert!(slot.ready());
        assert_eq!(slot.get_timeout(Duration::ZERO), Some("done"));
    }

    #[test]
    fn a_slot_is_set_once() {
        let slot = ResultSlot::new();
        assert_eq!(slot.set(1), Ok(()));
        assert_eq!(slot.set(2), Err(2), "a second set must hand its value back");
        assert!(slot.ready());
        assert_eq!(slot.get(), 1);
    }

    #[test]
    fn get_waits_for_a_value_set_by_another_thread() {
        common::guarded("result_slot_get_waits", |status| {
            let slot = ResultSlot::new();
            assert!(!slot.ready());
            std::thread::scope(|s| {
                s.spawn(|| {
                    status.set("worker", "computing");
                    std::thread::sleep(Duration::from_millis(20));
                    slot.set(12 * 12).unwrap();
                    status.set("worker", "set");
                });
                status.set("main", "in get");
                assert_eq!(slot.get(), 144);
            });
        });
    }

    #[test]
    fn get_timeout_gives_up_without_losing_the_value() {
        common::guarded("result_slot_timeout", |status| {
            let slot = ResultSlot::new();
            let timeout = Duration::from_millis(30);
            let start = Instant::now();
            assert_eq!(slot.get_timeout(timeout), None);
            assert!(
                start.elapsed() >= timeout,
                "get_timeout returned before its timeout"
            );
            assert!(!slot.ready());
            std::thread::scope(|s| {
                s.spawn(|| slot.set(String::from("late")).unwrap());
                status.set("main", "in get, after a timeout");
                assert_eq!(slot.get(), "late");
            });
        });
    }

    #[test]
    fn many_slots_filled_and_read_at_once() {
        // Two workers fill the slots from the back, two readers read them from the front:
        // most `get`s wait, some find their value already there.
        let n = common::scaled(2_000);
        common::guarded("result_slot_many", |status| {
            let slots: Vec<ResultSlot<usize>> = (0..n).map(|_| ResultSlot::new()).collect();
            std::thread::scope(|s| {
                for w in 0..2 {
                    let slots = &slots;
                    s.spawn(move || {
                        status.set(format!("worker {w}"), "setting");
                        for i in (0..n).rev().filter(|i| i % 2 == w) {
                            slots[i].set(i * i).unwrap();
                        }
                        status.set(format!("worker {w}"), "done");
                    });
                }
                for r in 0..2 {
                    let slots = &slots;
                    s.spawn(move || {
                        for i in (0..n).filter(|i| i % 2 != r) {
                            status.set(format!("reader {r}"), format!("get slot {i}"));
                            assert_eq!(slots[i].get(), i * i);
                        }
                        status.set(format!("reader {r}"), "done");
                    });
                }
            });
            assert!(slots.iter().all(ResultSlot::ready));
        });
    }
}
