//! The blocking layer shared by every queue: spin, then sleep on a futex while the store is
//! empty (getters) or full (putters); shutdown; unfinished-task counting and `join`.
//!
//! The layer is written once, generic over a [`Store`]: a non-blocking container that can only
//! say "done", "full", "empty" or "closed". The split is the one crossbeam-channel makes between
//! a flavor's `start_send`/`start_recv` and the blocking `send`/`recv` built on top of them
//! (<https://github.com/crossbeam-rs/crossbeam/tree/master/crossbeam-channel/src/flavors>).
//!
//! Sleeping and waking go through [`Waiters`] (`waiters.rs`, which documents the handshake that
//! keeps wakeups from being lost). While it spins before registering, a blocked caller asks
//! the store's load-only guess ([`Store::may_push`], [`Store::may_pop`]) and makes a real
//! attempt only when it says yes; the guesses take no part in the handshake: the re-check after
//! registering and the first attempt after a sleep are always real attempts.
//!
//! # Task accounting
//!
//! Python keeps `unfinished_tasks`, incremented on every put. We avoid that extra contended
//! read-modify-write: the store reports how many items it ever accepted ([`Store::pushed`],
//! derived from its tail index), and the core counts only `done` (`task_done` calls plus items
//! discarded by `shutdown_now`). `unfinished = pushed - done`, with wrapping arithmetic; it is
//! exact until a store's tail index wraps, after at least 2^62 items on 64-bit targets (2^30 on
//! 32-bit ones).

use std::time::Instant;

use crate::backoff::SpinWait;
use crate::futex::expired;
use crate::sync::{AtomicUsize, Ordering::SeqCst};

use super::error::{GetError, PutError, TaskDoneError};
use super::selectors::{Selectors, Token};
use super::waiters::{Padded, Waiters};
use crate::sync::Arc;

/// Why [`Store::try_push`] refused an item (which comes back).
pub(crate) enum PushError<T> {
    /// No room.
    Full(T),
    /// [`Store::close`] came first.
    Closed(T),
}

/// Why [`Store::try_pop`] returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PopError {
    /// Nothing there, but more may come.
    Empty,
    /// Closed, and every item accepted before the close has been popped.
    Closed,
}

/// A non-blocking container the core can put to sleep around.
///
/// Contract (every store keeps it, the core relies on it):
/// - `try_push`/`try_pop` never sleep; a push or pop that succeeds does so with a SeqCst
///   read-modify-write (or under a `Lock`), which is what the wakeup handshake pairs with;
/// - once `close` has returned, no `try_push` succeeds, and `try_pop` returns every item
///   accepted before it, then `Closed`;
/// - `pushed` counts accepted items (wrapping), never decreases, and is final once closed and
///   drained;
/// - dropping the store drops the items still in it, exactly once.
pub(crate) trait Store {
    /// What the store holds.
    type Item;
    /// A store with room for `capacity` items (`None`: unbounded; never `Some(0)`).
    fn with_capacity(capacity: Option<usize>) -> Self;
    /// Adds `item` unless the store is full or closed.
    fn try_push(&self, item: Self::Item) -> Result<(), PushError<Self::Item>>;
    /// Removes the next item (in the store's order), if any.
    fn try_pop(&self) -> Result<Self::Item, PopError>;
    /// How many items are in the store (a snapshot).
    fn len(&self) -> usize;
    /// The capacity given to [`Store::with_capacity`].
    fn capacity(&self) -> Option<usize>;
    /// Refuses all later pushes. `true` if this call closed the store.
    fn close(&self) -> bool;
    /// `true` once [`Store::close`] has been called.
    fn is_closed(&self) -> bool;
    /// How many items the store has accepted since it was made (wrapping at `usize::MAX`).
    fn pushed(&self) -> usize;
    /// A guess, from loads only, whether [`Store::try_push`] could succeed now (or report
    /// `Closed`). The core asks it while it spins on a full store, so that the wait reads the
    /// one line the other side will write when room appears instead of re-running `try_push`
    /// (a fence and a load of the consumers' `head` line per look). `false` may be wrong: it
    /// only delays the next real attempt, and the core always makes one before it sleeps.
    #[inline]
    fn may_push(&self) -> bool {
        true
    }
    /// The same guess for [`Store::try_pop`], asked while the store is empty (it may miss a
    /// `close`: the attempt made when the backoff completes sees it).
    #[inline]
    fn may_pop(&self) -> bool {
        true
    }
}

/// How long a `put`/`get` may wait.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    /// Try once (`try_put`/`try_get`): report `Full`/`Empty`.
    No,
    /// Wait until the deadline (`None`: forever); report `Timeout`.
    Until(Option<Instant>),
}

/// What waits for an item: blocked getters and registered selectors.
#[derive(Debug, Default)]
struct GetSide {
    waiters: Waiters,
    selectors: Selectors,
}

impl GetSide {
    /// An item came (or the shutdown): wake one getter and every selector.
    #[inline]
    fn notify_one(&self) {
        self.waiters.notify_one();
        self.selectors.notify();
    }

    /// The shutdown: wake every getter and every selector.
    #[inline]
    fn notify_all(&self) {
        self.waiters.notify_all();
        self.selectors.notify();
    }
}

/// The queue machinery over a store `S`.
pub(crate) struct Core<S> {
    store: S,
    /// Getters waiting for an item (or for the shutdown), and the selectors watching this
    /// queue (`selectors.rs`): one padded line, which every successful put loads anyway.
    getters: Padded<GetSide>,
    /// Putters waiting for room (or for the shutdown); only bounded stores ever have any.
    putters: Padded<Waiters>,
    /// Threads in `join`.
    joiners: Waiters,
    /// Tasks finished: `task_done` calls plus items discarded by `shutdown_now`. Invariant:
    /// `done <= store.pushed()` (wrapping distance), so `unfinished = pushed - done`. Only
    /// `task_done`, `shutdown_now` and `join` touch it: on its own line, away from the hot words.
    done: Padded<AtomicUsize>,
}

impl<S: Store> Core<S> {
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        Core {
            store: S::with_capacity(capacity),
            getters: Padded::default(),
            putters: Padded::default(),
            joiners: Waiters::default(),
            done: Padded(AtomicUsize::new(0)),
        }
    }

    pub(crate) fn store(&self) -> &S {
        &self.store
    }

    // ANCHOR: push
    /// `put`, `try_put` and `put_timeout`.
    #[inline]
    pub(crate) fn push(&self, item: S::Item, wait: Wait) -> Result<(), PutError<S::Item>> {
        match self.store.try_push(item) {
            Ok(()) => {
                self.getters.notify_one();
                Ok(())
            }
            Err(PushError::Closed(item)) => Err(PutError::ShutDown(item)),
            Err(PushError::Full(item)) => match wait {
                Wait::No => Err(PutError::Full(item)),
                Wait::Until(deadline) => self.push_contended(item, deadline),
            },
        }
    }

    /// The slow path of `push`: spin while the store stays full, then sleep on `putters`.
    #[cold]
    fn push_contended(
        &self,
        mut item: S::Item,
        deadline: Option<Instant>,
    ) -> Result<(), PutError<S::Item>> {
        // `SpinWait`, not `Backoff`, whose early looks come every few `PAUSE`s: a putter waits
        // on the getters, whose line each look takes (tuning log, entry 24).
        let mut spin = SpinWait::default();
        let mut registered = None;
        loop {
            // While spinning, look first (loads only) and try only when room may be there; the
            // re-check after registering (step 3) and the first try after a sleep always try.
            let spinning = registered.is_none() && !spin.is_completed();
            if !spinning || self.store.may_push() {
                match self.store.try_push(item) {
                    Ok(()) => {
                        if registered.is_some() {
                            self.putters.cancel();
                        }
                        self.getters.notify_one();
                        return Ok(());
                    }
                    Err(PushError::Closed(it)) => {
                        if registered.is_some() {
                            self.putters.cancel();
                        }
                        return Err(PutError::ShutDown(it));
                    }
                    Err(PushError::Full(it)) => item = it,
                }
            }
            if let Some(seq) = registered.take() {
                // The re-check (step 3) failed too: sleep.
                self.putters.sleep(seq, deadline);
            } else if expired(deadline) {
                return Err(PutError::Timeout(item));
            } else if !spin.spin(deadline) {
                registered = Some(self.putters.prepare());
            }
        }
    }
    // ANCHOR_END: push

    /// `get`, `try_get` and `get_timeout`.
    #[inline]
    pub(crate) fn pop(&self, wait: Wait) -> Result<S::Item, GetError> {
        match self.store.try_pop() {
            Ok(item) => {
                self.popped();
                Ok(item)
            }
            Err(PopError::Closed) => Err(GetError::ShutDown),
            Err(PopError::Empty) => match wait {
                Wait::No => Err(GetError::Empty),
                Wait::Until(deadline) => self.pop_contended(deadline),
            },
        }
    }

    /// The slow path of `pop`: spin while the store stays empty, then sleep on `getters`.
    #[cold]
    fn pop_contended(&self, deadline: Option<Instant>) -> Result<S::Item, GetError> {
        // `SpinWait`, as in `push_contended`: a getter waits on the putters.
        let mut spin = SpinWait::default();
        let mut registered = None;
        loop {
            // As in `push_contended`: while spinning, look before trying.
            let spinning = registered.is_none() && !spin.is_completed();
            if !spinning || self.store.may_pop() {
                match self.store.try_pop() {
                    Ok(item) => {
                        if registered.is_some() {
                            self.getters.waiters.cancel();
                        }
                        self.popped();
                        return Ok(item);
                    }
                    Err(PopError::Closed) => {
                        if registered.is_some() {
                            self.getters.waiters.cancel();
                        }
                        return Err(GetError::ShutDown);
                    }
                    Err(PopError::Empty) => {}
                }
            }
            if let Some(seq) = registered.take() {
                // The re-check (step 3) failed too: sleep.
                self.getters.waiters.sleep(seq, deadline);
            } else if expired(deadline) {
                return Err(GetError::Timeout);
            } else if !spin.spin(deadline) {
                registered = Some(self.getters.waiters.prepare());
            }
        }
    }

    /// A pop made room: wake a putter if one sleeps (bounded stores only).
    #[inline]
    fn popped(&self) {
        if self.store.capacity().is_some() {
            self.putters.notify_one();
        }
    }

    // ANCHOR: task_accounting
    /// `pushed - done`: items put and not yet marked done.
    #[inline]
    pub(crate) fn unfinished(&self) -> usize {
        // Read `done` first: both counters only grow and `done <= pushed` holds at every
        // moment, so `pushed` read afterwards is at least the `pushed` of the moment `done`
        // was read, and a result of 0 means "unfinished was 0 when `done` was read".
        // SeqCst: the joiner half of the Dekker pair with `task_done` (module docs).
        let done = self.done.load(SeqCst);
        self.store.pushed().wrapping_sub(done)
    }

    /// Python's `task_done`.
    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        // SeqCst: part of the Dekker pair with `join` (its registration, then its loads).
        let mut done = self.done.load(SeqCst);
        loop {
            if self.store.pushed() == done {
                return Err(TaskDoneError);
            }
            // `pushed` only grows, so `done + 1 <= pushed` still holds if the CAS succeeds.
            match self
                .done
                .compare_exchange_weak(done, done.wrapping_add(1), SeqCst, SeqCst)
            {
                Ok(_) => break,
                Err(d) => done = d,
            }
        }
        // Only a count that reached zero can release a joiner: skip the wake otherwise (a put
        // that came in between means zero was never reached after it, as in Python).
        if self.unfinished() == 0 {
            self.joiners.notify_all();
        }
        Ok(())
    }

    /// Python's `join`: waits until every item put has been marked done. `false` on timeout.
    pub(crate) fn join_until(&self, deadline: Option<Instant>) -> bool {
        loop {
            if self.unfinished() == 0 {
                return true;
            }
            if expired(deadline) {
                return false;
            }
            let seq = self.joiners.prepare();
            if self.unfinished() == 0 {
                self.joiners.cancel();
                return true;
            }
            self.joiners.sleep(seq, deadline);
        }
    }
    // ANCHOR_END: task_accounting

    // ANCHOR: shutdown
    /// Python's `shutdown()`: refuse puts; gets drain, then fail; wake every blocked caller.
    pub(crate) fn shutdown(&self) {
        self.store.close();
        // `close` is a SeqCst read-modify-write (or under the lock), like a push: the same
        // handshake guarantees that a thread registering after it sees the close.
        self.getters.notify_all();
        self.putters.notify_all();
    }
    // ANCHOR_END: shutdown

    /// Python's `shutdown(immediate=True)`, handing the discarded items back in get order.
    pub(crate) fn shutdown_now(&self) -> Vec<S::Item> {
        self.store.close();
        let mut items = Vec::new();
        // After the close, `try_pop` returns each item accepted before it (waiting for puts
        // still writing their slot), then `Closed`. Concurrent getters may take some.
        while let Ok(item) = self.store.try_pop() {
            items.push(item);
        }
        if !items.is_empty() {
            // Like Python, each discarded item finishes one task, but `unfinished` never goes
            // below zero (`task_done` may already have been called for queued items). The store
            // is closed and drained, so `pushed` is final.
            let pushed = self.store.pushed();
            let mut done = self.done.load(SeqCst);
            loop {
                let unfinished = pushed.wrapping_sub(done);
                let new = done.wrapping_add(items.len().min(unfinished));
                // SeqCst: pairs with `join` as in `task_done`.
                match self.done.compare_exchange_weak(done, new, SeqCst, SeqCst) {
                    Ok(_) => break,
                    Err(d) => done = d,
                }
            }
        }
        self.getters.notify_all();
        self.putters.notify_all();
        self.joiners.notify_all();
        items
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.store.is_closed()
    }

    /// A selector watches this queue from now on (`select.rs`).
    pub(crate) fn register_selector(&self, token: &Arc<Token>) {
        self.getters.selectors.register(token);
    }

    /// The selector stops watching this queue.
    pub(crate) fn unregister_selector(&self, token: &Arc<Token>) {
        self.getters.selectors.unregister(token);
    }
}
