//! The bounded FIFO store: a lock-free ring of slots with per-slot stamps.
//!
//! This is Dmitry Vyukov's bounded MPMC queue
//! (<https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue>), in the form
//! crossbeam-channel's array flavor gives it
//! (<https://github.com/crossbeam-rs/crossbeam/blob/master/crossbeam-channel/src/flavors/array.rs>):
//! head and tail are *stamps* that carry a lap count besides the index, each slot carries the
//! stamp it expects next, and the tail holds a mark bit for "closed".
//!
//! # Stamps
//!
//! With `cap` slots, `MARK = (cap + 1).next_power_of_two()` and `ONE_LAP = 2 * MARK`:
//!
//! ```text
//!   stamp = lap * ONE_LAP  |  mark (tail only)  |  index (0 .. cap)
//!           high bits         bit log2(MARK)       low bits
//! ```
//!
//! The index runs `0 .. cap`; after `cap - 1` the stamp jumps to the next lap with index 0.
//!
//! | slot stamp | meaning | who may act |
//! |---|---|---|
//! | `== tail` | empty, ready for the producer of this lap | a producer that wins the CAS on `tail` |
//! | `== head + 1` | written in this lap, ready to read | a consumer that wins the CAS on `head` |
//! | `+ ONE_LAP == tail + 1` | still holds last lap's item | nobody: the ring is full, or a consumer is reading it |
//!
//! A producer reserves a slot by CAS-ing `tail` forward, writes the value, then stores
//! `stamp = tail + 1` (Release). A consumer reserves by CAS-ing `head`, reads the value, then
//! stores `stamp = head + ONE_LAP` (Release): the empty stamp of the same slot in the next lap.
//!
//! # Closing
//!
//! `close` sets the mark bit in `tail` with one `fetch_or`. A producer's reservation is a CAS on
//! the whole `tail`, so it fails once the mark is there and every later producer sees the mark:
//! no push succeeds after `close` returns. Items reserved before the mark are still written; a
//! consumer that finds `head` behind the (unmarked) tail waits for that write.

use std::mem::MaybeUninit;

use crate::backoff::Backoff;
use crate::sync::{
    AtomicUsize,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
    UnsafeCell, fence,
};

use super::core::{PopError, PushError};
use super::waiters::Padded;

// ANCHOR: ring
/// One cell of the ring.
struct Slot<T> {
    /// The stamp this slot expects next (table in the module docs).
    stamp: AtomicUsize,
    /// The item, initialised exactly while `stamp == head + 1` for the slot's lap, i.e. between
    /// a producer's Release store of the stamp and the consumer's read.
    value: UnsafeCell<MaybeUninit<T>>,
}

/// The lock-free bounded ring (module docs).
pub(crate) struct Ring<T> {
    /// The next stamp to read: `{ lap, 0, index }`. Written only by consumers' CAS.
    head: Padded<AtomicUsize>,
    /// The next stamp to write: `{ lap, mark, index }`. Written by producers' CAS and by
    /// `close` (`fetch_or(mark_bit)`).
    tail: Padded<AtomicUsize>,
    /// `cap` slots; slot `i` starts with stamp `i` (empty, lap 0).
    slots: Box<[Slot<T>]>,
    /// Number of slots, `>= 1`.
    cap: usize,
    /// The "closed" bit of `tail`, `(cap + 1).next_power_of_two()`; `mark_bit - 1` masks the index.
    mark_bit: usize,
    /// `2 * mark_bit`: adding it to a stamp moves to the next lap.
    one_lap: usize,
    /// `log2(one_lap)`: a stamp's lap number is `stamp >> lap_shift`.
    lap_shift: u32,
}
// ANCHOR_END: ring

// SAFETY: the ring hands each `T` from the thread that pushed it to the one that pops it, so
// `T: Send` is needed and enough; slots are only touched by the thread that reserved them.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above; all shared state is atomic, and each `UnsafeCell` is accessed by one thread
// at a time (the owner of its reservation), ordered by the slot's stamp.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// A ring of `cap` slots.
    ///
    /// # Panics
    ///
    /// If `cap == 0` (the caller checks first, with a better message) or the stamps would not
    /// fit in a `usize`.
    pub(crate) fn new(cap: usize) -> Self {
        assert!(cap > 0, "a ring needs at least one slot");
        let mark_bit = cap
            .checked_add(1)
            .and_then(usize::checked_next_power_of_two)
            .expect("queue capacity too large");
        let one_lap = mark_bit.checked_mul(2).expect("queue capacity too large");
        let slots = (0..cap)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
            slots,
            cap,
            mark_bit,
            one_lap,
            lap_shift: one_lap.trailing_zeros(),
        }
    }

    /// The stamp after `stamp` (index + 1, or the next lap's index 0).
    #[inline]
    fn next(&self, stamp: usize) -> usize {
        let index = stamp & (self.mark_bit - 1);
        if index + 1 < self.cap {
            stamp + 1
        } else {
            (stamp & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// How many pushes (for `tail`) or pops (for `head`) a stamp stands for.
    ///
    /// Exact until the stamp wraps past `usize::MAX` (2^63 items on 64-bit targets, never in
    /// practice; 2^31 on 32-bit ones).
    #[inline]
    fn count(&self, stamp: usize) -> usize {
        (stamp >> self.lap_shift)
            .wrapping_mul(self.cap)
            .wrapping_add(stamp & (self.mark_bit - 1))
    }

    // ANCHOR: try_push
    pub(crate) fn try_push(&self, value: T) -> Result<(), PushError<T>> {
        let mut backoff = Backoff::new();
        // Relaxed: only a starting guess; the CAS below and the stamp check validate it.
        let mut tail = self.tail.load(Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return Err(PushError::Closed(value));
            }
            let slot = &self.slots[tail & (self.mark_bit - 1)];
            // Acquire: pairs with the Release stamp store of the consumer that emptied the slot
            // last lap, so its read of the old value happens before our write.
            let stamp = slot.stamp.load(Acquire);
            if stamp == tail {
                // SeqCst: the reservation is the store-side half of the wakeup handshake
                // (core.rs) and is ordered with `close`'s fetch_or. Relaxed on failure: we retry.
                match self
                    .tail
                    .compare_exchange_weak(tail, self.next(tail), SeqCst, Relaxed)
                {
                    Ok(_) => {
                        // Winning the CAS for stamp `tail` gives this thread the slot until it
                        // publishes the new stamp: no producer can reserve it (tail moved on)
                        // and no consumer reads it (its stamp is not `head + 1`).
                        let write = |p: *mut MaybeUninit<T>| {
                            // SAFETY: this thread owns the slot (above).
                            unsafe { p.write(MaybeUninit::new(value)) }
                        };
                        slot.value.with_mut(write);
                        // Release: publishes the value to the consumer's Acquire stamp load.
                        slot.stamp.store(tail + 1, Release);
                        return Ok(());
                    }
                    Err(t) => {
                        tail = t;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds last lap's item. Full, unless the consumer of that item
                // has already moved `head` and is reading it.
                // SeqCst fence: a consumer's SeqCst CAS on `head` that the wakeup handshake
                // ordered before us is visible to the load below.
                fence(SeqCst);
                // Relaxed: the fence provides the ordering.
                let head = self.head.load(Relaxed);
                if head.wrapping_add(self.one_lap) == tail {
                    return Err(PushError::Full(value));
                }
                // A consumer is between its CAS and its stamp store: wait for it, then reload
                // (Relaxed: a guess, as above).
                backoff.spin();
                tail = self.tail.load(Relaxed);
            } else {
                // Our `tail` is stale: another producer reserved this slot. Wait, reload
                // (Relaxed: a guess, as above).
                backoff.snooze();
                tail = self.tail.load(Relaxed);
            }
        }
    }
    // ANCHOR_END: try_push

    pub(crate) fn try_pop(&self) -> Result<T, PopError> {
        let mut backoff = Backoff::new();
        // Relaxed: a guess, validated by the stamp and the CAS.
        let mut head = self.head.load(Relaxed);
        loop {
            let slot = &self.slots[head & (self.mark_bit - 1)];
            // Acquire: pairs with the producer's Release stamp store: the value is written.
            let stamp = slot.stamp.load(Acquire);
            if stamp == head + 1 {
                // SeqCst: the store-side half of the wakeup handshake for sleeping putters.
                match self
                    .head
                    .compare_exchange_weak(head, self.next(head), SeqCst, Relaxed)
                {
                    Ok(_) => {
                        // The stamp says a producer wrote the value of this lap (the Acquire
                        // load made the write visible); winning the CAS makes us its only
                        // reader. Reading moves it out; the slot counts as empty again once we
                        // store the next lap's stamp.
                        // SAFETY: initialised and ours alone to read (above).
                        let value = slot.value.with(|p| unsafe { p.read().assume_init() });
                        // Release: our read happens before the next producer's write (its
                        // Acquire stamp load).
                        slot.stamp.store(head.wrapping_add(self.one_lap), Release);
                        return Ok(value);
                    }
                    Err(h) => {
                        head = h;
                        backoff.spin();
                    }
                }
            } else if stamp == head {
                // Nothing written here in this lap. Empty, unless a producer has reserved the
                // slot and is still writing.
                // SeqCst fence: makes a producer's SeqCst CAS (or `close`) that the wakeup
                // handshake ordered before us visible to the load below.
                fence(SeqCst);
                // Relaxed: the fence provides the ordering.
                let tail = self.tail.load(Relaxed);
                if tail & !self.mark_bit == head {
                    return Err(if tail & self.mark_bit != 0 {
                        PopError::Closed
                    } else {
                        PopError::Empty
                    });
                }
                // A write is in flight: give its producer time, then reload (Relaxed: a guess,
                // as above).
                backoff.spin();
                head = self.head.load(Relaxed);
            } else {
                // Our `head` is stale: another consumer took this slot. Reload (Relaxed: a
                // guess, as above).
                backoff.snooze();
                head = self.head.load(Relaxed);
            }
        }
    }

    /// `Store::may_push`: the slot at `tail` is empty for this lap, or the ring is closed. Two
    /// loads (the producers' own `tail` line and the slot the consumer frees), no fence and no
    /// load of `head`: a producer waiting on a full ring leaves the consumers' line alone.
    #[inline]
    pub(crate) fn may_push(&self) -> bool {
        // Relaxed: a guess; `try_push` validates it.
        let tail = self.tail.load(Relaxed);
        tail & self.mark_bit != 0
            || self.slots[tail & (self.mark_bit - 1)].stamp.load(Relaxed) == tail
    }

    /// `Store::may_pop`: the slot at `head` holds this lap's item. It does not look at `tail`
    /// (the producers' line) for the closed mark: a getter that is spinning when the ring
    /// closes sees it in the real attempt it makes when its backoff completes, a few
    /// microseconds later, before it would sleep.
    #[inline]
    pub(crate) fn may_pop(&self) -> bool {
        // Relaxed: a guess; `try_pop` validates it (and waits for any write in flight).
        let head = self.head.load(Relaxed);
        self.slots[head & (self.mark_bit - 1)].stamp.load(Relaxed) == head.wrapping_add(1)
    }

    /// Items in the ring (reserved slots included), from a consistent pair of stamps.
    pub(crate) fn len(&self) -> usize {
        loop {
            // SeqCst: read `tail`, `head`, `tail` in one total order, so an unchanged `tail`
            // means the pair was current at the same moment.
            let tail = self.tail.load(SeqCst);
            let head = self.head.load(SeqCst);
            if self.tail.load(SeqCst) == tail {
                let len = self
                    .count(tail & !self.mark_bit)
                    .wrapping_sub(self.count(head));
                return len.min(self.cap);
            }
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    // ANCHOR: close
    pub(crate) fn close(&self) -> bool {
        // SeqCst: ordered with every producer's reservation CAS (module docs, "Closing"), and
        // the store-side half of the wakeup handshake for sleepers.
        self.tail.fetch_or(self.mark_bit, SeqCst) & self.mark_bit == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        // SeqCst: once `close` returned, every later call sees the mark.
        self.tail.load(SeqCst) & self.mark_bit != 0
    }

    pub(crate) fn pushed(&self) -> usize {
        // SeqCst: read in the same total order as `done` in the core's task accounting.
        self.count(self.tail.load(SeqCst) & !self.mark_bit)
    }
    // ANCHOR_END: close
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // `&mut self`: no operation is in flight, so popping until empty visits exactly the
        // initialised slots, each once, and drops their items.
        while self.try_pop().is_ok() {}
    }
}
