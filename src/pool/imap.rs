//! [`ImapUnordered`]: the results of `Pool::imap_unordered`, read from a queue the tasks'
//! deliveries fill, in the order they complete.

use std::fmt;
use std::iter::FusedIterator;

use super::TaskError;
use crate::Queue;
use crate::sync::Arc;

/// The iterator returned by [`Pool::imap_unordered`](crate::Pool::imap_unordered): one result per item, in completion
/// order. Dropping it early does not cancel the tasks.
///
/// ```
/// let pool = synclab::Pool::new(2);
/// let mut it = pool.imap_unordered(vec![5], |n: i32| -n);
/// assert_eq!(it.len(), 1);
/// assert_eq!(it.next(), Some(Ok(-5)));
/// assert_eq!(it.next(), None);
/// ```
pub struct ImapUnordered<R> {
    /// Filled by the tasks' deliveries; never shut down.
    results: Arc<Queue<Result<R, TaskError>>>,
    /// Results not yet yielded: one per submitted item.
    remaining: usize,
}

impl<R> ImapUnordered<R> {
    pub(crate) fn new(results: Arc<Queue<Result<R, TaskError>>>, remaining: usize) -> Self {
        ImapUnordered { results, remaining }
    }
}

impl<R> Iterator for ImapUnordered<R> {
    type Item = Result<R, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some(
            self.results
                .get()
                .expect("the result queue is never shut down"),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<R> ExactSizeIterator for ImapUnordered<R> {}

impl<R> FusedIterator for ImapUnordered<R> {}

impl<R> fmt::Debug for ImapUnordered<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapUnordered")
            .field("remaining", &self.remaining)
            .finish()
    }
}
