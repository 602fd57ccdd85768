//! The queue side of [`Select`](super::Select): the selectors registered on one queue, and the
//! token each selector sleeps on.
//!
//! A thread blocked in [`Queue::get`](crate::Queue::get) sleeps on *that queue's* futex word
//! (`waiters.rs`). A selector waits on several queues, and a thread can sleep on only one word,
//! so it brings its own: a [`Token`]. Before it sleeps it registers the token on every queue it
//! watches; a queue that gets an item (or is shut down) while tokens are registered notifies
//! each of them.
//!
//! # Why no wakeup is lost
//!
//! The same Dekker pair as the getters' (`waiters.rs`), with the selector count in the place of
//! the waiter count:
//!
//! - the selector registers on *every* queue (`count += 1`, SeqCst, under the list lock), then
//!   `fence(SeqCst)`, then tries every queue again, and sleeps only if all were empty;
//! - the putter changes the store with a SeqCst read-modify-write, then loads `count` (SeqCst)
//!   and, only if it is non-zero, takes the list lock and notifies every token in the list.
//!
//! If the putter's load misses a registration, its store change comes before the selector's
//! fence in the single SeqCst order, and the selector's re-check finds the item. Otherwise the
//! putter sees the count, and then the token: the count is raised with the list lock held,
//! after the push, so a putter that read it locks the list after the registration unlocked it.
//! The notification sets the token to `NOTIFIED` before it wakes, and the selector's futex wait
//! expects `WAITING`, so a notification that comes between the re-check and the sleep makes the
//! sleep return at once.
//!
//! # Cost to a queue nobody selects on
//!
//! One SeqCst load of `count` per successful put, a word on the same cache line as the getters'
//! count that the put loads anyway, never written while nobody selects (a plain `mov` on
//! x86-64). `benches/queue.rs`' synclab rows, the binary before and after this hook run
//! alternately (4 runs each, busy 2-core machine): medians within 0.84–1.08× of before, the
//! run-to-run noise of that machine.
//!
//! # The token word
//!
//! | value | meaning | set by |
//! |---|---|---|
//! | `WAITING` (0) | armed: the selector may sleep on it | the selector, before it registers |
//! | `NOTIFIED` (1) | a watched queue changed since the selector armed | a notifier (the first one also wakes) |

use crate::futex;
use crate::lock::Lock;
use crate::sync::{
    Arc, AtomicU32, AtomicUsize,
    Ordering::{Relaxed, SeqCst},
    fence,
};

/// Armed: the selector registered and may sleep.
const WAITING: u32 = 0;
/// Some watched queue changed since the selector armed.
const NOTIFIED: u32 = 1;

/// The word one selector sleeps on (state table in the module docs). `pub` only because the
/// sealed `Source` trait names it; the module is private, so no one outside can.
#[derive(Debug)]
pub struct Token {
    state: AtomicU32,
}

impl Token {
    pub(crate) fn new() -> Self {
        Token {
            state: AtomicU32::new(WAITING),
        }
    }

    /// Arms the token before registering (no notifier can hold it now: the selector
    /// unregistered from every queue, under each list's lock, before re-arming).
    pub(crate) fn arm(&self) {
        // Relaxed: the flag carries no data (what the selector reads afterwards is ordered by
        // the stores' own operations and the lists' locks).
        self.state.store(WAITING, Relaxed);
    }

    /// Sleeps until notified or `deadline`; returns at once if already notified.
    pub(crate) fn sleep(&self, deadline: Option<std::time::Instant>) {
        futex::wait(&self.state, WAITING, deadline);
    }

    /// Marks the token notified; the first notifier since it was armed wakes the sleeper.
    fn notify(&self) {
        // Relaxed: as in `arm`; the futex compares the value in the kernel, so a wait that
        // starts after this swap returns at once.
        if self.state.swap(NOTIFIED, Relaxed) == WAITING {
            futex::wake_one(&self.state);
        }
    }
}

/// The selectors registered on one queue.
#[derive(Debug, Default)]
pub(crate) struct Selectors {
    /// How many tokens are in `list`: raised under the lock after the push, lowered under the
    /// lock after the removal. Putters skip the lock while it is 0.
    count: AtomicUsize,
    /// The registered tokens (one per selector that watches this queue and is about to sleep).
    list: Lock<Vec<Arc<Token>>>,
}

// ANCHOR: notify
impl Selectors {
    /// Called after every change a getter could be waiting for (a put, a shutdown): notify the
    /// registered selectors, if any. No lock, no write and no syscall while there are none.
    #[inline]
    pub(crate) fn notify(&self) {
        loom_seq_cst_fence();
        // SeqCst: the putter half of the Dekker pair (module docs); the store's SeqCst
        // read-modify-write comes before, the selector's registration and fence pair with it.
        if self.count.load(SeqCst) != 0 {
            self.notify_registered();
        }
    }

    #[cold]
    fn notify_registered(&self) {
        for token in self.list.lock().iter() {
            token.notify();
        }
    }

    /// Adds `token` (the selector then fences and re-checks every queue before it sleeps).
    pub(crate) fn register(&self, token: &Arc<Token>) {
        let mut list = self.list.lock();
        list.push(token.clone());
        // SeqCst: the selector half of the Dekker pair, with the fence that follows.
        self.count.fetch_add(1, SeqCst);
    }

    /// Removes `token` (registered by the same selector before).
    pub(crate) fn unregister(&self, token: &Arc<Token>) {
        let mut list = self.list.lock();
        if let Some(at) = list.iter().position(|t| Arc::ptr_eq(t, token)) {
            list.swap_remove(at);
            // Relaxed: a putter that still sees the old count only takes the lock for nothing.
            self.count.fetch_sub(1, Relaxed);
        }
    }
}
// ANCHOR_END: notify

/// The fence between the registrations and the re-check (selector half of the Dekker pair).
#[inline]
pub(crate) fn registered_fence() {
    // SeqCst: pairs with the putters' SeqCst store change and load of `count` (module docs).
    fence(SeqCst);
}

/// As `waiters.rs`' fence of the same name: loom models SeqCst loads as Acquire only
/// (tokio-rs/loom#180), so under loom the notifier's load gets a real SeqCst fence in front.
#[inline(always)]
fn loom_seq_cst_fence() {
    #[cfg(loom)]
    fence(SeqCst);
}
