//! The blocks of the unbounded list (`list.rs`): a `next` pointer and [`Block::CAP`] slots, in
//! one allocation whose number of slots depends on the item type.

use std::mem::{self, MaybeUninit};
use std::ptr::{self, NonNull};

use crate::backoff::Backoff;
use crate::sync::alloc::{self, Layout};
use crate::sync::{
    AtomicPtr, AtomicU32,
    Ordering::{AcqRel, Acquire},
    UnsafeCell,
};

/// `Slot::state`: the consumer has moved the value out.
pub(super) const READ: u32 = 1;
/// `Slot::state`: the thread freeing the block stopped here; this slot's consumer goes on.
pub(super) const DESTROY: u32 = 2;

// ANCHOR: cap
/// What a block aims to fill: one 4 KiB page.
const BLOCK_BYTES: usize = 4096;
/// The fewest slots per block: crossbeam's figure, kept for items too big for a page to hold
/// more of them.
const MIN_CAP: usize = 31;

/// Slots per block for slots of `slot` bytes: as many as fit in a page beside the `next`
/// pointer, rounded down to a power of two less one, so that a lap (`CAP + 1` positions, one
/// phantom) is a power of two and `% LAP` a mask; at least [`MIN_CAP`]. A `u64` item gets 255
/// slots of 16 bytes (4 088 bytes), a `String` 127 of 32, anything over 128 bytes 31: one
/// allocation and one free per 255 items instead of per 31 (tuning log, entry 24). Under loom
/// always 31: the models are written for that block, and a loom atomic is not a free word.
const fn cap_for(slot: usize) -> usize {
    if cfg!(loom) {
        return MIN_CAP;
    }
    let fit = (BLOCK_BYTES - mem::size_of::<usize>()) / slot;
    // The largest power of two at most `fit + 1`.
    let lap = 1usize << (usize::BITS - 1 - (fit + 1).leading_zeros());
    if lap - 1 > MIN_CAP { lap - 1 } else { MIN_CAP }
}
// ANCHOR_END: cap

// ANCHOR: slot
pub(super) struct Slot<T> {
    /// Initialised from `written` until its consumer reads it.
    pub(super) value: UnsafeCell<MaybeUninit<T>>,
    /// 1 once the producer has written the value: set by one plain store, and by nothing else.
    pub(super) written: AtomicU32,
    /// `READ | DESTROY` bits (`list.rs`'s module docs), set by read-modify-writes. A word of
    /// their own, so the producer's plain store cannot erase a `DESTROY` that the thread
    /// freeing the block set on a slot that was claimed but not yet written.
    pub(super) state: AtomicU32,
}

impl<T> Slot<T> {
    /// Waits until the producer that claimed this slot has written it.
    pub(super) fn wait_write(&self) {
        let mut backoff = Backoff::new();
        // Acquire: pairs with the producer's Release store: the value is visible.
        while self.written.load(Acquire) == 0 {
            backoff.snooze();
        }
    }
}
// ANCHOR_END: slot

// ANCHOR: block
#[repr(C)]
pub(super) struct Block<T> {
    /// The successor, null until the producer of this block's last slot links it.
    pub(super) next: AtomicPtr<Block<T>>,
    /// Where the slots start: [`Block::CAP`] of them follow the header in the same allocation
    /// (see `layout`), so their number can depend on `T`.
    slots: [Slot<T>; 0],
}
// ANCHOR_END: block

impl<T> Block<T> {
    /// Slots per block (see `cap_for`).
    pub(super) const CAP: usize = cap_for(mem::size_of::<Slot<T>>());
    /// Positions per lap: `CAP` real ones and one phantom.
    pub(super) const LAP: usize = Self::CAP + 1;

    /// The header, then `CAP` slots.
    fn layout() -> Layout {
        let slots = Layout::array::<Slot<T>>(Self::CAP).expect("a block fits in memory");
        let (layout, offset) = Layout::new::<Self>()
            .extend(slots)
            .expect("a block fits in memory");
        debug_assert_eq!(offset, mem::offset_of!(Self, slots));
        layout.pad_to_align()
    }

    /// A new block: `next` null, every slot empty.
    pub(super) fn alloc() -> NewBlock<T> {
        let layout = Self::layout();
        // SAFETY: the layout is not zero-sized (it holds at least the `next` pointer).
        let Some(block) = NonNull::new(unsafe { alloc::alloc(layout) }.cast::<Self>()) else {
            alloc::handle_alloc_error(layout)
        };
        let this = block.as_ptr();
        // SAFETY: `this` is a fresh allocation of `layout`: the header and `CAP` slots, each
        // written once here before anyone else can see the block.
        unsafe {
            ptr::addr_of_mut!((*this).next).write(AtomicPtr::new(ptr::null_mut()));
            let slots = ptr::addr_of_mut!((*this).slots).cast::<Slot<T>>();
            for i in 0..Self::CAP {
                slots.add(i).write(Slot {
                    value: UnsafeCell::new(MaybeUninit::uninit()),
                    written: AtomicU32::new(0),
                    state: AtomicU32::new(0),
                });
            }
        }
        NewBlock(block)
    }

    /// Slot `i` of block `this`.
    ///
    /// # Safety
    ///
    /// `this` is alive (came from [`alloc`](Block::alloc), not yet freed) for `'a`, and
    /// `i < CAP`.
    #[inline]
    pub(super) unsafe fn slot<'a>(this: *const Self, i: usize) -> &'a Slot<T> {
        debug_assert!(i < Self::CAP);
        // SAFETY: the slots follow the header in the block's allocation (`layout`); the pointer
        // comes from `this`, which covers the whole allocation, not from a `&Block`.
        unsafe { &*ptr::addr_of!((*this).slots).cast::<Slot<T>>().add(i) }
    }

    /// Waits until the successor is linked (its producer claimed our last slot, so it will be).
    pub(super) fn wait_next(&self) -> *mut Block<T> {
        let mut backoff = Backoff::new();
        loop {
            // Acquire: pairs with the Release store in `try_push`: the block is initialised.
            let next = self.next.load(Acquire);
            if !next.is_null() {
                return next;
            }
            backoff.snooze();
        }
    }

    /// Continues freeing `this`, from slot `start` (`list.rs`'s module docs, "Freeing blocks").
    ///
    /// # Safety
    ///
    /// `this` came from [`alloc`](Block::alloc), every slot before `start` is `READ` or was
    /// handed over, and the caller holds the baton: it read the last slot, or it read slot
    /// `start - 1` and found `DESTROY` there.
    pub(super) unsafe fn destroy(this: *mut Self, start: usize) {
        for i in start..Self::CAP - 1 {
            // SAFETY: the block is alive: slot `i` is not known `READ`, and nobody frees a block
            // before all of its slots are.
            let slot = unsafe { Self::slot(this, i) };
            // Acquire (both): the consumer's read of the value happens before we free it.
            // Release (fetch_or): our earlier accesses happen before the freeing the slot's
            // consumer will do when it sees `DESTROY`.
            if slot.state.load(Acquire) & READ == 0
                && slot.state.fetch_or(DESTROY, AcqRel) & READ == 0
            {
                // Slot `i`'s consumer takes the baton.
                return;
            }
        }
        // SAFETY: every slot is `READ` (moved out), so no thread will touch the block again.
        unsafe { Self::free(this) };
    }

    /// Frees `this`. Its values are `MaybeUninit`: none is dropped.
    ///
    /// # Safety
    ///
    /// `this` came from [`alloc`](Block::alloc), no thread will touch it again, and every
    /// value written to it has been moved out.
    pub(super) unsafe fn free(this: *mut Self) {
        // SAFETY: the header and the `CAP` slots were written by `alloc` and are dropped once
        // here (a no-op for real atomics; loom's keep books); then the allocation goes back
        // with the layout it was made with.
        unsafe {
            let slots = ptr::addr_of_mut!((*this).slots).cast::<Slot<T>>();
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(slots, Self::CAP));
            ptr::drop_in_place(ptr::addr_of_mut!((*this).next));
            alloc::dealloc(this.cast(), Self::layout());
        }
    }
}

/// A block allocated and not yet linked into the list: freed if dropped (a push that allocated
/// the next block and then found the queue closed).
pub(super) struct NewBlock<T>(NonNull<Block<T>>);

impl<T> NewBlock<T> {
    /// Gives up ownership: the list frees the block from now on.
    pub(super) fn into_raw(self) -> *mut Block<T> {
        let block = self.0.as_ptr();
        mem::forget(self);
        block
    }
}

impl<T> Drop for NewBlock<T> {
    fn drop(&mut self) {
        // SAFETY: the block came from `alloc` and was never linked, so nobody else has seen
        // it, and no value was written to it.
        unsafe { Block::free(self.0.as_ptr()) }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_block_fills_a_page_for_small_items_and_keeps_31_slots_for_big_ones() {
        assert_eq!(Block::<u64>::CAP, 255);
        assert_eq!(Block::<u8>::CAP, 255);
        assert_eq!(Block::<()>::CAP, 511);
        assert_eq!(Block::<String>::CAP, 127);
        assert_eq!(Block::<[u64; 7]>::CAP, 63);
        assert_eq!(Block::<[u8; 4096]>::CAP, 31);
        assert!(Block::<u64>::layout().size() <= BLOCK_BYTES);
        assert!(Block::<String>::layout().size() <= BLOCK_BYTES);
        assert!(Block::<[u64; 7]>::layout().size() <= BLOCK_BYTES);
    }

    #[test]
    fn a_slot_with_two_flag_words_is_no_bigger_for_word_sized_items() {
        // `written` and `state` are two `u32`s: together the `usize` crossbeam's slot has.
        assert_eq!(mem::size_of::<Slot<u64>>(), 16);
        assert_eq!(mem::size_of::<Slot<String>>(), 32);
        assert_eq!(mem::size_of::<Slot<()>>(), 8);
    }

    #[test]
    fn an_unlinked_block_is_freed_and_a_linked_one_is_not() {
        let new = Block::<String>::alloc();
        drop(new);
        let raw = Block::<String>::alloc().into_raw();
        // SAFETY: `raw` is alive and `CAP - 1 < CAP`.
        let last = unsafe { Block::slot(raw, Block::<String>::CAP - 1) };
        assert_eq!(last.state.load(Acquire), 0);
        // SAFETY: `raw` came from `alloc`, and nothing else holds it or was written to it.
        unsafe { Block::free(raw) };
    }
}
