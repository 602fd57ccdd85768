//! The stores behind `LifoQueue` (a `Vec` used as a stack) and `PriorityQueue` (a min-heap),
//! each protected by a [`Lock`].
//!
//! A stack or a heap has one hot end that every operation touches, so a lock costs little over
//! a lock-free structure here; CPython's `LifoQueue` and `PriorityQueue` are the same list and
//! `heapq` under one mutex. The lock makes the contract of [`Store`] easy to keep:
//!
//! - the *closed* flag is read and written only with the lock held, so "no push after `close`"
//!   is the lock's mutual exclusion;
//! - the wakeup handshake (core.rs) holds through the lock: lock operations on one word are
//!   totally ordered, so either the waiter's re-check takes the lock after the push released it
//!   (and sees the item), or before the push took it, in which case the waiter's registration
//!   happens before the notifier's load of `count` (unlock Release → lock Acquire).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::lock::Lock;
use crate::sync::{
    AtomicBool, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};

use super::core::{PopError, PushError, Store};

/// A container for the `Lock` store: where items go in and come out.
pub(crate) trait Pile: Default {
    type Item;
    fn put(&mut self, item: Self::Item);
    fn take(&mut self) -> Option<Self::Item>;
    fn count(&self) -> usize;
}

/// Last in, first out.
impl<T> Pile for Vec<T> {
    type Item = T;
    fn put(&mut self, item: T) {
        self.push(item);
    }
    fn take(&mut self) -> Option<T> {
        self.pop()
    }
    fn count(&self) -> usize {
        self.len()
    }
}

/// Smallest first, like Python's `heapq` (std's heap is a max-heap, hence `Reverse`).
impl<T: Ord> Pile for BinaryHeap<Reverse<T>> {
    type Item = T;
    fn put(&mut self, item: T) {
        self.push(Reverse(item));
    }
    fn take(&mut self) -> Option<T> {
        self.pop().map(|Reverse(item)| item)
    }
    fn count(&self) -> usize {
        self.len()
    }
}

/// A [`Pile`] under a [`Lock`].
pub(crate) struct Locked<P> {
    pile: Lock<P>,
    capacity: Option<usize>,
    /// `true` once closed. Written only with `pile`'s lock held; read under the lock by
    /// `try_push`/`try_pop` (Relaxed: the lock orders it) and without it by `is_closed`.
    closed: AtomicBool,
    /// Items accepted so far (wrapping). Written only with the lock held (so a load-add-store
    /// is enough), read without it by the task accounting.
    pushed: AtomicUsize,
}

impl<P: Pile> Store for Locked<P> {
    type Item = P::Item;

    fn with_capacity(capacity: Option<usize>) -> Self {
        Locked {
            pile: Lock::new(P::default()),
            capacity,
            closed: AtomicBool::new(false),
            pushed: AtomicUsize::new(0),
        }
    }

    fn try_push(&self, item: P::Item) -> Result<(), PushError<P::Item>> {
        let mut pile = self.pile.lock();
        // Relaxed: written only under this lock, which orders it.
        if self.closed.load(Relaxed) {
            return Err(PushError::Closed(item));
        }
        if self.capacity.is_some_and(|cap| pile.count() >= cap) {
            return Err(PushError::Full(item));
        }
        pile.put(item);
        // Release: pairs with the Acquire in `pushed`, read by `task_done`/`join` unlocked.
        let n = self.pushed.load(Relaxed);
        self.pushed.store(n.wrapping_add(1), Release);
        Ok(())
    }

    fn try_pop(&self) -> Result<P::Item, PopError> {
        let mut pile = self.pile.lock();
        match pile.take() {
            Some(item) => Ok(item),
            // Relaxed: under the lock, as in `try_push`.
            None if self.closed.load(Relaxed) => Err(PopError::Closed),
            None => Err(PopError::Empty),
        }
    }

    fn len(&self) -> usize {
        self.pile.lock().count()
    }

    fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    fn close(&self) -> bool {
        let _pile = self.pile.lock();
        // Release: for the unlocked Acquire load in `is_closed`; under the lock otherwise.
        !self.closed.swap(true, Release)
    }

    fn is_closed(&self) -> bool {
        // Acquire: pairs with the Release swap in `close`.
        self.closed.load(Acquire)
    }

    fn pushed(&self) -> usize {
        // Acquire: pairs with the Release store in `try_push`, so `pushed >= done` holds for a
        // `done` that was derived from this count.
        self.pushed.load(Acquire)
    }
}
