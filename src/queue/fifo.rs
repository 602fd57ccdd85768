//! `Queue`'s store: the lock-free ring ([`Ring`], `array.rs`) when bounded, the lock-free list
//! ([`List`], `list.rs`) when not. One enum, one predictable branch per operation (crossbeam's
//! `Sender` dispatches over its flavors the same way).

use super::array::Ring;
use super::core::{PopError, PushError, Store};
use super::list::List;

/// `Queue`'s store: the lock-free ring when bounded, the lock-free list when not.
pub(crate) enum Fifo<T> {
    Bounded(Ring<T>),
    Unbounded(List<T>),
}

impl<T> Store for Fifo<T> {
    type Item = T;

    fn with_capacity(capacity: Option<usize>) -> Self {
        match capacity {
            Some(cap) => Fifo::Bounded(Ring::new(cap)),
            None => Fifo::Unbounded(List::new()),
        }
    }

    #[inline]
    fn try_push(&self, item: T) -> Result<(), PushError<T>> {
        match self {
            Fifo::Bounded(r) => r.try_push(item),
            Fifo::Unbounded(l) => l.try_push(item),
        }
    }

    #[inline]
    fn try_pop(&self) -> Result<T, PopError> {
        match self {
            Fifo::Bounded(r) => r.try_pop(),
            Fifo::Unbounded(l) => l.try_pop(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Fifo::Bounded(r) => r.len(),
            Fifo::Unbounded(l) => l.len(),
        }
    }

    #[inline]
    fn capacity(&self) -> Option<usize> {
        match self {
            Fifo::Bounded(r) => Some(r.capacity()),
            Fifo::Unbounded(_) => None,
        }
    }

    fn close(&self) -> bool {
        match self {
            Fifo::Bounded(r) => r.close(),
            Fifo::Unbounded(l) => l.close(),
        }
    }

    fn is_closed(&self) -> bool {
        match self {
            Fifo::Bounded(r) => r.is_closed(),
            Fifo::Unbounded(l) => l.is_closed(),
        }
    }

    #[inline]
    fn may_push(&self) -> bool {
        match self {
            Fifo::Bounded(r) => r.may_push(),
            Fifo::Unbounded(_) => true,
        }
    }

    #[inline]
    fn may_pop(&self) -> bool {
        match self {
            Fifo::Bounded(r) => r.may_pop(),
            Fifo::Unbounded(_) => true,
        }
    }

    fn pushed(&self) -> usize {
        match self {
            Fifo::Bounded(r) => r.pushed(),
            Fifo::Unbounded(l) => l.pushed(),
        }
    }
}
