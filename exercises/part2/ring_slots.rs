//! # Exercise `ring_slots` — Part II, "Across processes"
//!
//! A bounded ring that lives in shared memory, used under a lock. A process can be killed at
//! any instruction, even while it holds the lock, and then the next locker finds the ring
//! exactly as the dead process left it. Write `put` and `get` so that a death at any point
//! leaves **no torn item** (half old, half new) and **no lost slot**: write the slot first and
//! move the `tail` counter last (the *commit*); read the slot first and move the `head` counter
//! last.
//!
//! An item is several words, written one at a time. After each word, `put_with` and
//! `get_with` call `step()`: a point where the process could die. The tests die there (with a
//! panic) and check what the next user of the ring finds.
//!
//! Check your work: `cargo xtask check ring_slots`

/// Words per item.
pub const WORDS: usize = 4;

/// An item: `WORDS` words, written one at a time.
pub type Item = [u64; WORDS];

/// A ring of `N` slots, `N` a power of two. `head` and `tail` count gets and puts since the
/// start, wrapping at 2^32; `tail - head` (wrapping) is the number of items, and the slot of
/// count `c` is `c % N`. (A power of two divides 2^32, so the wrap from `u32::MAX` to `0` goes
/// from the last slot to the first, as every other step does.) Each commit is one store of one
/// counter: a process dies before it or after it, never half-way.
#[repr(C)]
pub struct Ring<const N: usize> {
    head: u32,
    tail: u32,
    slots: [Item; N],
}

impl<const N: usize> Ring<N> {
    /// An empty ring.
    pub const fn new() -> Self {
        const { assert!(N.is_power_of_two(), "N must be a power of two") };
        Ring {
            head: 0,
            tail: 0,
            slots: [[0; WORDS]; N],
        }
    }

    /// The number of committed items.
    pub fn len(&self) -> usize {
        // TODO: how many items are committed? (The counters wrap.)
        todo!()
    }

    /// `true` when no item is committed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `item`, calling `step()` after each word written; `Err(item)` when full.
    pub fn put_with(&mut self, item: Item, mut step: impl FnMut()) -> Result<(), Item> {
        // TODO: full? give the item back. Otherwise write the item into the slot of count
        // `tail`, one word at a time, calling `step()` after each word (the process may die
        // there), and only then move `tail`. What would a reader find if you moved `tail`
        // first and died after two words?
        todo!()
    }

    /// Takes the oldest item, calling `step()` after each word read; `None` when empty.
    pub fn get_with(&mut self, mut step: impl FnMut()) -> Option<Item> {
        // TODO: empty? `None`. Otherwise copy the slot of count `head` out, one word at a time,
        // calling `step()` after each word, and only then move `head`.
        todo!()
    }

    /// `put_with` without death points.
    pub fn put(&mut self, item: Item) -> Result<(), Item> {
        self.put_with(item, || {})
    }

    /// `get_with` without death points.
    pub fn get(&mut self) -> Option<Item> {
        self.get_with(|| {})
    }
}

impl<const N: usize> Default for Ring<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use synclab::Lock;

    /// An item whose words all derive from `n`, so a torn one is recognisable.
    fn item(n: u64) -> Item {
        [n, !n, n.rotate_left(17), n ^ 0x5555_5555_5555_5555]
    }

    fn whole(it: &Item) -> Option<u64> {
        (*it == item(it[0])).then_some(it[0])
    }

    /// Runs `f`, which dies (panics, our SIGKILL) at one of its steps. (The test harness
    /// captures the panic messages.)
    fn dies<R>(f: impl FnOnce() -> R) {
        let r = catch_unwind(AssertUnwindSafe(f));
        assert!(r.is_err(), "the operation should have died at its step");
    }

    /// A `step` that kills the operation at step `k` (0 = after the first word).
    fn killer(k: usize) -> impl FnMut() {
        let mut n = 0;
        move || {
            if n == k {
                panic!("killed");
            }
            n += 1;
        }
    }

    #[test]
    fn fifo_and_capacity() {
        let mut ring = Ring::<4>::new();
        assert!(ring.is_empty());
        for n in 0..4 {
            ring.put(item(n)).unwrap();
        }
        assert_eq!(ring.len(), 4);
        assert_eq!(ring.put(item(9)), Err(item(9)));
        assert_eq!(ring.get(), Some(item(0)));
        ring.put(item(4)).unwrap();
        for n in 1..5 {
            assert_eq!(ring.get(), Some(item(n)));
        }
        assert_eq!(ring.get(), None);
    }

    #[test]
    fn counters_wrap() {
        // A full ring across the wrap of the counters, from several starting points.
        for start in [u32::MAX - 3, u32::MAX - 2, u32::MAX - 1, u32::MAX] {
            let mut ring = Ring::<4>::new();
            ring.head = start;
            ring.tail = start;
            for round in 0..3 {
                for n in 0..4 {
                    ring.put(item(round * 10 + n)).unwrap();
                }
                assert_eq!(ring.len(), 4);
                assert_eq!(ring.put(item(99)), Err(item(99)));
                for n in 0..4 {
                    assert_eq!(ring.get(), Some(item(round * 10 + n)), "start {start}");
                }
                assert!(ring.is_empty());
            }
        }
    }

    #[test]
    fn a_writer_killed_mid_put_tears_nothing_and_loses_no_slot() {
        for k in 0..WORDS {
            let mut ring = Ring::<4>::new();
            for n in 1..=3 {
                ring.put(item(n)).unwrap();
            }
            dies(|| ring.put_with(item(666), killer(k)));
            assert_eq!(
                ring.len(),
                3,
                "killed after word {k}: the half-written item counts"
            );
            // The next writer reuses the slot, and the ring still holds 4.
            ring.put(item(4)).unwrap();
            assert_eq!(ring.len(), 4);
            for n in 1..=4 {
                assert_eq!(ring.get(), Some(item(n)), "killed after word {k}");
            }
            assert_eq!(ring.get(), None);
        }
    }

    #[test]
    fn a_reader_killed_mid_get_loses_nothing() {
        for k in 0..WORDS {
            let mut ring = Ring::<2>::new();
            ring.put(item(1)).unwrap();
            ring.put(item(2)).unwrap();
            dies(|| ring.get_with(killer(k)));
            assert_eq!(ring.len(), 2, "killed after word {k}: the item was lost");
            assert_eq!(ring.get(), Some(item(1)));
            assert_eq!(ring.get(), Some(item(2)));
        }
    }

    #[test]
    fn dying_writers_under_a_lock() {
        // Threads share the ring under a Lock (released when a holder "dies"); some puts die
        // half-way. Every item that was put comes out once and whole.
        let per = common::scaled(2_000) as u64;
        common::guarded("ring_slots_dying_writers", |_| {
            let ring = Lock::new(Ring::<4>::new());
            let (committed, taken) = (AtomicUsize::new(0), AtomicUsize::new(0));
            let mut seen = Vec::new();
            std::thread::scope(|s| {
                for w in 0..2u64 {
                    let (ring, committed) = (&ring, &committed);
                    s.spawn(move || {
                        for i in 0..per {
                            let n = w * per + i;
                            let mut it = Some(item(n));
                            while let Some(x) = it.take() {
                                let mut r = ring.lock();
                                if i % 7 == 3 {
                                    // This put dies after two words; the item is not committed.
                                    let _ = catch_unwind(AssertUnwindSafe(|| {
                                        r.put_with(item(u64::MAX - n), killer(2))
                                    }));
                                }
                                match r.put(x) {
                                    Ok(()) => {
                                        committed.fetch_add(1, SeqCst);
                                    }
                                    Err(back) => {
                                        it = Some(back);
                                        drop(r);
                                        std::thread::yield_now();
                                    }
                                }
                            }
                        }
                    });
                }
                let total = 2 * per as usize;
                while taken.load(SeqCst) < total {
                    if let Some(x) = ring.lock().get() {
                        seen.push(whole(&x).expect("a torn item"));
                        taken.fetch_add(1, SeqCst);
                    } else {
                        std::thread::yield_now();
                    }
                }
            });
            seen.sort_unstable();
            assert_eq!(seen, (0..2 * per).collect::<Vec<_>>());
            assert_eq!(committed.load(SeqCst), 2 * per as usize);
        });
    }
}
