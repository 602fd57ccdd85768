//! The unbounded FIFO store: a lock-free linked list of blocks of slots.
//!
//! The design is crossbeam-channel's list flavor
//! (<https://github.com/crossbeam-rs/crossbeam/blob/master/crossbeam-channel/src/flavors/list.rs>),
//! itself after Dmitry Vyukov's unbounded MPMC queue: producers and consumers claim positions by
//! CAS on a `tail`/`head` index, positions are grouped into blocks of `CAP` slots
//! ([`Block::CAP`], `block.rs`: 255 for a `u64` where crossbeam has 31) that are allocated one
//! at a time, and each block is freed by whichever consumer reads its last remaining slot. One change from crossbeam: our queue can be closed while a producer is
//! linking a new block, so that producer advances `tail` with `fetch_add` (which keeps the close
//! mark) where crossbeam stores a fresh value (its senders are all gone when it disconnects).
//!
//! # Indices
//!
//! ```text
//!   index = position << SHIFT | mark      position = lap * LAP + offset, offset 0 ..= CAP
//! ```
//!
//! `LAP = CAP + 1`: each lap has one phantom position (`offset == CAP`) that means
//! "the block is full, the next one is being linked"; threads that see it snooze. The mark bit
//! is "closed" in `tail` and "the head block has a successor" (`HAS_NEXT`) in `head`, which
//! spares consumers a look at `tail` when the queue cannot be empty.
//!
//! # Slot states (`Slot::written`, and the bits of `Slot::state`)
//!
//! | word, bit | set by | how | meaning |
//! |---|---|---|---|
//! | `written` = 1 | the producer, after writing the value | a plain `store` | the value is there |
//! | `state`, `READ` | the consumer, after moving the value out | `fetch_or` | the slot is done |
//! | `state`, `DESTROY` | the thread freeing the block, on a slot not yet `READ` | `fetch_or` | its consumer must continue freeing |
//!
//! Crossbeam keeps all three in one word, and so the producer sets `WRITE` with a `fetch_or`, so
//! as not to erase a `DESTROY` set on a slot that was claimed but not yet written. Here the
//! producer's flag has a word of its own (the slot stays 16 bytes for a `u64`), and a plain
//! store does not wait for the consumers' cache line as a read-modify-write does (tuning log,
//! entry 26).
//!
//! # Freeing blocks exactly once
//!
//! The consumer of a block's last slot starts `destroy(block, 0)`: it walks slots `0 ..
//! CAP - 1` and, at the first one not yet `READ`, sets `DESTROY` and stops; that slot's
//! consumer sees `DESTROY` when it sets `READ` and resumes the walk after its own slot. The walk
//! is a baton held by one thread at a time; whoever finishes it frees the block. Nothing else
//! frees a block except `Drop`, which (with `&mut self`) first drains the queue through the same
//! protocol and then frees the one block left.
//!
//! A thread dereferences a block only after its CAS claimed a slot in it: an unread claimed slot
//! stops the walk, so the block cannot be freed under it.

use std::marker::PhantomData;
use std::mem::MaybeUninit;

use crate::backoff::Backoff;
use crate::sync::{
    AtomicPtr, AtomicUsize,
    Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst},
    fence,
};

use super::block::{Block, DESTROY, READ};
use super::core::{PopError, PushError};
use super::waiters::Padded;

/// The index holds the position above the mark bit.
const SHIFT: usize = 1;
/// `tail`: closed. `head`: the head block has a successor (`HAS_NEXT`).
const MARK_BIT: usize = 1;

/// A `head` or `tail`: an index and the block it is in.
struct Position<T> {
    /// `position << SHIFT | mark` (module docs).
    index: AtomicUsize,
    /// The block holding `index`'s position. Stored (Release) before the first index in it is
    /// published, so a thread that loads `index` (Acquire) and then `block` sees this block or
    /// a later one; a later one only if `index` already moved on, which its CAS then detects.
    block: AtomicPtr<Block<T>>,
    /// In `head` only: a value `tail`'s index had (so at most its current position: `tail` only
    /// grows), stored by the consumers that load `tail`. A `head` position below it is claimed
    /// by a producer already, so a consumer there need not look at `tail`, the producers' line
    /// (tuning log, entry 24; crossbeam's `HAS_NEXT` mark does this for a later block only).
    seen_tail: AtomicUsize,
}

/// The lock-free unbounded list (module docs).
pub(crate) struct List<T> {
    head: Padded<Position<T>>,
    tail: Padded<Position<T>>,
    _owns: PhantomData<T>,
}

// SAFETY: items move from the producing to the consuming thread (`T: Send`); blocks are shared
// raw allocations whose slots are accessed by one claimant at a time.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above; all shared state is atomic or behind a claimed slot.
unsafe impl<T: Send> Sync for List<T> {}

impl<T> List<T> {
    pub(crate) fn new() -> Self {
        // The first block is allocated eagerly, so `head.block` and `tail.block` are never null.
        let first = Block::<T>::alloc().into_raw();
        List {
            head: Padded(Position {
                index: AtomicUsize::new(0),
                block: AtomicPtr::new(first),
                seen_tail: AtomicUsize::new(0),
            }),
            tail: Padded(Position {
                index: AtomicUsize::new(0),
                block: AtomicPtr::new(first),
                seen_tail: AtomicUsize::new(0),
            }),
            _owns: PhantomData,
        }
    }

    pub(crate) fn try_push(&self, value: T) -> Result<(), PushError<T>> {
        let mut backoff = Backoff::new();
        // Acquire (both): see `Position::block`.
        let mut tail = self.tail.index.load(Acquire);
        let mut block = self.tail.block.load(Acquire);
        let mut next_block = None;
        loop {
            if tail & MARK_BIT != 0 {
                return Err(PushError::Closed(value));
            }
            let offset = (tail >> SHIFT) % Block::<T>::LAP;
            if offset == Block::<T>::CAP {
                // Another producer is linking the next block.
                backoff.snooze();
                tail = self.tail.index.load(Acquire);
                block = self.tail.block.load(Acquire);
                continue;
            }
            // Claiming the last slot obliges us to link the next block: allocate it before the
            // CAS so that others wait for as short a time as possible.
            if offset + 1 == Block::<T>::CAP && next_block.is_none() {
                next_block = Some(Block::<T>::alloc());
            }
            let new_tail = tail + (1 << SHIFT);
            // SeqCst: the store-side half of the wakeup handshake (core.rs), ordered with
            // `close`. Acquire on failure: see `Position::block`.
            match self
                .tail
                .index
                .compare_exchange_weak(tail, new_tail, SeqCst, Acquire)
            {
                Ok(_) => {
                    if offset + 1 == Block::<T>::CAP {
                        let next = next_block.take().expect("allocated above").into_raw();
                        // Release (both): see `Position::block`. `fetch_add`, not `store`, so a
                        // concurrent `close` keeps its mark (we alone move the phantom position).
                        self.tail.block.store(next, Release);
                        self.tail.index.fetch_add(1 << SHIFT, Release);
                        // SAFETY: our claimed slot in `block` is not yet written, so not read:
                        // the block cannot have been freed.
                        unsafe { (*block).next.store(next, Release) };
                    }
                    // SAFETY: as above, `block` is alive; the CAS made slot `offset` ours
                    // until we set `written`.
                    let slot = unsafe { Block::slot(block, offset) };
                    // SAFETY: we own the slot (above); nobody reads it before `written`.
                    slot.value
                        .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
                    // Release: publishes the value to the consumer's Acquire in `wait_write`.
                    // A plain store: `written` is this producer's alone (module docs).
                    slot.written.store(1, Release);
                    return Ok(());
                }
                Err(t) => {
                    tail = t;
                    block = self.tail.block.load(Acquire);
                    backoff.spin();
                }
            }
        }
    }

    pub(crate) fn try_pop(&self) -> Result<T, PopError> {
        let mut backoff = Backoff::new();
        // Acquire (both): see `Position::block`.
        let mut head = self.head.index.load(Acquire);
        let mut block = self.head.block.load(Acquire);
        loop {
            let offset = (head >> SHIFT) % Block::<T>::LAP;
            if offset == Block::<T>::CAP {
                // Another consumer is moving `head` to the next block.
                backoff.snooze();
                head = self.head.index.load(Acquire);
                block = self.head.block.load(Acquire);
                continue;
            }
            let mut new_head = head + (1 << SHIFT);
            if new_head & MARK_BIT == 0 {
                // The tail may be in this block: has a producer claimed our position? Yes if it
                // is below `seen_tail` (a value `tail` once had); else ask `tail` itself.
                // Relaxed: a lower bound of `tail` whatever its age (`Position::seen_tail`); the
                // slot's block and value are ordered by the CAS and `wait_write`, as ever.
                let mut tail = self.head.seen_tail.load(Relaxed);
                if head >> SHIFT >= tail >> SHIFT {
                    // SeqCst fence: a producer's SeqCst CAS (or `close`) that the wakeup
                    // handshake ordered before us is visible to the load below.
                    fence(SeqCst);
                    // Relaxed: the fence provides the ordering.
                    tail = self.tail.index.load(Relaxed);
                    if head >> SHIFT == tail >> SHIFT {
                        return Err(if tail & MARK_BIT != 0 {
                            PopError::Closed
                        } else {
                            PopError::Empty
                        });
                    }
                    // Relaxed: a hint (see `Position::seen_tail`). Above the old value, since
                    // `tail` is past `head`, which is not below it.
                    self.head.seen_tail.store(tail, Relaxed);
                }
                if (head >> SHIFT) / Block::<T>::LAP != (tail >> SHIFT) / Block::<T>::LAP {
                    new_head |= MARK_BIT;
                }
            }
            // SeqCst: the store-side half of the handshake (only for symmetry: nobody sleeps
            // for room in an unbounded queue). Acquire on failure: see `Position::block`.
            match self
                .head
                .index
                .compare_exchange_weak(head, new_head, SeqCst, Acquire)
            {
                Ok(_) => {
                    if offset + 1 == Block::<T>::CAP {
                        // SAFETY: our claimed slot is unread, so `block` is alive.
                        let next = unsafe { (*block).wait_next() };
                        let mut next_index = (new_head & !MARK_BIT).wrapping_add(1 << SHIFT);
                        // Relaxed: `HAS_NEXT` is only a shortcut; a stale null just makes the
                        // next consumer look at `tail` (which is always correct).
                        // SAFETY: `next` is alive: its slots cannot be claimed (let alone
                        // read) before we publish `next_index` below.
                        if !unsafe { (*next).next.load(Relaxed) }.is_null() {
                            next_index |= MARK_BIT;
                        }
                        // Release (both): see `Position::block`. A plain store is fine: other
                        // consumers only snooze while `head` is on the phantom position.
                        self.head.block.store(next, Release);
                        self.head.index.store(next_index, Release);
                    }
                    // SAFETY: our claimed slot is unread, so `block` is alive.
                    let slot = unsafe { Block::slot(block, offset) };
                    slot.wait_write();
                    // SAFETY: `written` is set (Acquire): the value is initialised, and the CAS
                    // made us its only reader. Reading moves it out.
                    let value = slot.value.with(|p| unsafe { p.read().assume_init() });
                    if offset + 1 == Block::<T>::CAP {
                        // SAFETY: we read the last slot: we start the walk.
                        unsafe { Block::destroy(block, 0) };
                    } else if slot.state.fetch_or(READ, AcqRel) & DESTROY != 0 {
                        // AcqRel: Release publishes our read to the freeing thread; Acquire
                        // takes the baton from the thread that set `DESTROY`.
                        // SAFETY: `DESTROY` on our slot hands us the walk from `offset + 1`.
                        unsafe { Block::destroy(block, offset + 1) };
                    }
                    return Ok(value);
                }
                Err(h) => {
                    head = h;
                    block = self.head.block.load(Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// Number of real slots before an index's position (`position - lap`: one phantom per lap).
    #[inline]
    fn count(index: usize) -> usize {
        let position = index >> SHIFT;
        position - position / Block::<T>::LAP
    }

    pub(crate) fn len(&self) -> usize {
        loop {
            // SeqCst: `tail`, `head`, `tail` in one total order: an unchanged `tail` means the
            // pair was current at the same moment.
            let tail = self.tail.index.load(SeqCst);
            let head = self.head.index.load(SeqCst);
            if self.tail.index.load(SeqCst) == tail {
                return Self::count(tail).wrapping_sub(Self::count(head));
            }
        }
    }

    pub(crate) fn close(&self) -> bool {
        // SeqCst: ordered with every producer's reservation CAS, and the store-side half of the
        // wakeup handshake for sleeping getters.
        self.tail.index.fetch_or(MARK_BIT, SeqCst) & MARK_BIT == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        // SeqCst: once `close` returned, every later call sees the mark.
        self.tail.index.load(SeqCst) & MARK_BIT != 0
    }

    pub(crate) fn pushed(&self) -> usize {
        // SeqCst: read in the same total order as `done` in the core's task accounting.
        Self::count(self.tail.index.load(SeqCst))
    }
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // `&mut self`: nothing is in flight. Popping every item drops it once and frees each
        // fully read block through the normal protocol; then `head` and `tail` share the one
        // block left, which we free.
        while self.try_pop().is_ok() {}
        // Relaxed: `&mut self` means every other thread's accesses happened before.
        let block = self.head.block.load(Relaxed);
        debug_assert_eq!(block, self.tail.block.load(Relaxed));
        // SAFETY: `block` came from `Block::alloc`, was not freed (the walk only frees blocks
        // whose every slot was read, and `head` is still in this one), and no thread can reach
        // it any more. Its read slots are moved-out `MaybeUninit`s; nothing else was written.
        unsafe { Block::free(block) };
    }
}
