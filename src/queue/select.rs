//! [`Select`]: wait until any of several queues has an item (crossbeam-channel's `select!`,
//! Python's `multiprocessing.connection.wait` for threads).
//!
//! How a selector sleeps without losing a wakeup is in `selectors.rs`; this file is the loop:
//! try every queue, snooze a little, then register a token on every queue, try every queue
//! again, sleep on the token, unregister, and start over.

use std::fmt;
use std::time::{Duration, Instant};

use crate::backoff::Backoff;
use crate::futex;
use crate::sync::Arc;

use super::core::Wait;
use super::error::{GetError, ShutDown};
use super::selectors::{Token, registered_fence};
use super::{LifoQueue, PriorityQueue, Queue};

mod sealed {
    use super::{Arc, GetError, Token};

    /// What [`Select`](super::Select) needs from a queue.
    pub trait Source<T> {
        /// `try_get`.
        fn try_take(&self) -> Result<T, GetError>;
        /// Watch the queue with `token`.
        fn register(&self, token: &Arc<Token>);
        /// Stop watching.
        fn unregister(&self, token: &Arc<Token>);
    }
}

/// A queue a [`Select`] can wait on: [`Queue`], [`LifoQueue`] and [`PriorityQueue`]. Sealed.
///
/// ```
/// fn selectable<Q: synclab::Selectable<u8>>() {}
/// selectable::<synclab::Queue<u8>>();
/// selectable::<synclab::PriorityQueue<u8>>();
/// ```
pub trait Selectable<T>: sealed::Source<T> {}

macro_rules! selectable {
    ($Q:ident, [$($bound:tt)*]) => {
        impl<T $($bound)*> sealed::Source<T> for $Q<T> {
            fn try_take(&self) -> Result<T, GetError> {
                self.core.pop(Wait::No)
            }
            fn register(&self, token: &Arc<Token>) {
                self.core.register_selector(token);
            }
            fn unregister(&self, token: &Arc<Token>) {
                self.core.unregister_selector(token);
            }
        }
        impl<T $($bound)*> Selectable<T> for $Q<T> {}
    };
}

selectable!(Queue, []);
selectable!(LifoQueue, []);
selectable!(PriorityQueue, [: Ord]);

/// Waits on several queues of the same item type at once and takes an item from whichever has
/// one: crossbeam-channel's `select!` over receivers, for synclab's queues.
///
/// Build it with [`queue`](Select::queue) (the index of a queue is the order it was added in), then
/// call [`get`](Select::get), [`try_get`](Select::try_get) or
/// [`get_timeout`](Select::get_timeout) as often as you like; each returns `(index, item)`.
///
/// ```
/// use synclab::{Queue, Select};
///
/// let small = Queue::new();
/// let large = Queue::bounded(8);
/// std::thread::scope(|s| {
///     s.spawn(|| large.put(1000).unwrap());
///     let mut sel = Select::new().queue(&small).queue(&large);
///     assert_eq!(sel.get(), Ok((1, 1000))); // from `large`, index 1
/// });
/// ```
///
/// # Shutdown
///
/// A queue that is shut down *and* empty is finished: the select skips it. `get` fails with
/// [`ShutDown`] once every queue is finished (at once for a select with no queues), so a
/// consumer loop ends when all its producers have shut their queues:
///
/// ```
/// use synclab::{Queue, Select};
///
/// let (a, b) = (Queue::new(), Queue::new());
/// a.put("a1").unwrap();
/// a.shutdown();
/// b.put("b1").unwrap();
/// b.shutdown();
/// let mut sel = Select::new().queue(&a).queue(&b);
/// let mut got = Vec::new();
/// while let Ok((_, item)) = sel.get() {
///     got.push(item);
/// }
/// got.sort();
/// assert_eq!(got, ["a1", "b1"]);
/// ```
///
/// # Order: fair or biased
///
/// By default the order is **fair** (round robin): each call starts looking at the queue after
/// the one that served the previous call, so a queue that always has items cannot starve the
/// others. [`biased`](Select::biased) always looks in the order the queues were added and takes
/// from the first that has an item (tokio's `biased;`), for priorities. crossbeam's `select!`
/// picks a random start instead; round robin gives the same guarantee (no starvation)
/// deterministically.
///
/// ```
/// use synclab::{Queue, Select};
///
/// let (urgent, normal) = (Queue::new(), Queue::new());
/// for n in 0..2 {
///     urgent.put(n).unwrap();
///     normal.put(10 + n).unwrap();
/// }
/// let mut fair = Select::new().queue(&urgent).queue(&normal);
/// assert_eq!(fair.get(), Ok((0, 0)));
/// assert_eq!(fair.get(), Ok((1, 10))); // takes turns
/// let mut biased = Select::new().queue(&urgent).queue(&normal).biased();
/// assert_eq!(biased.get(), Ok((0, 1))); // `urgent` first while it has items
/// assert_eq!(biased.get(), Ok((1, 11)));
/// ```
///
/// # How it waits
///
/// Like `Queue::get`: it tries every queue, snoozes briefly, and then sleeps on a futex word
/// of its own, registered on every queue it watches, so a put on any of them wakes it. No
/// wakeup is lost and nothing spins while it sleeps (the argument is in the workbook's queue
/// chapter). A queue pays for this only while a selector is registered on it: a put then takes
/// a small lock and wakes each registered selector at most once per sleep; with no selector it
/// pays one load of a word it reads anyway.
pub struct Select<'a, T> {
    queues: Vec<&'a dyn sealed::Source<T>>,
    biased: bool,
    /// Fair order: the index to look at first.
    next: usize,
    /// What this selector sleeps on; made at its first sleep.
    token: Option<Arc<Token>>,
}

/// What one pass over the queues found.
enum Scan<T> {
    Found(usize, T),
    /// Every queue is shut down and empty (or there is none).
    Finished,
    Empty,
}

impl<'a, T> Select<'a, T> {
    /// A select over no queues yet, fair order.
    ///
    /// ```
    /// let sel = synclab::Select::<u8>::new();
    /// assert!(sel.is_empty());
    /// ```
    pub fn new() -> Self {
        Select {
            queues: Vec::new(),
            biased: false,
            next: 0,
            token: None,
        }
    }

    /// Adds a queue to wait on; its index in the results is the number of queues added before.
    ///
    /// ```
    /// use synclab::{LifoQueue, Queue, Select};
    ///
    /// let (q, stack) = (Queue::new(), LifoQueue::new());
    /// stack.put('s').unwrap();
    /// let mut sel = Select::new().queue(&q).queue(&stack);
    /// assert_eq!(sel.len(), 2);
    /// assert_eq!(sel.try_get(), Ok((1, 's')));
    /// ```
    pub fn queue<Q: Selectable<T>>(mut self, queue: &'a Q) -> Self {
        self.queues.push(queue);
        self
    }

    /// Biased order: always look at the queues in the order they were added (see the type's
    /// docs).
    ///
    /// ```
    /// use synclab::{Queue, Select};
    ///
    /// let (a, b) = (Queue::new(), Queue::new());
    /// a.put(1).unwrap();
    /// a.put(2).unwrap();
    /// b.put(3).unwrap();
    /// let mut sel = Select::new().queue(&a).queue(&b).biased();
    /// assert_eq!(sel.get(), Ok((0, 1)));
    /// assert_eq!(sel.get(), Ok((0, 2)));
    /// assert_eq!(sel.get(), Ok((1, 3)));
    /// ```
    pub fn biased(mut self) -> Self {
        self.biased = true;
        self
    }

    /// How many queues the select waits on.
    ///
    /// ```
    /// let q = synclab::Queue::<u8>::new();
    /// assert_eq!(synclab::Select::new().queue(&q).queue(&q).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.queues.len()
    }

    /// `true` if no queue was added.
    ///
    /// ```
    /// assert!(synclab::Select::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Takes an item from whichever queue has one, blocking until one does.
    ///
    /// `Err(ShutDown)` once every queue is shut down and empty (at once if there is none).
    ///
    /// ```
    /// use synclab::{Queue, Select, ShutDown};
    ///
    /// let (a, b) = (Queue::new(), Queue::new());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         b.put(2).unwrap();
    ///         a.shutdown();
    ///         b.shutdown();
    ///     });
    ///     let mut sel = Select::new().queue(&a).queue(&b);
    ///     assert_eq!(sel.get(), Ok((1, 2)));
    ///     assert_eq!(sel.get(), Err(ShutDown(())));
    /// });
    /// ```
    pub fn get(&mut self) -> Result<(usize, T), ShutDown> {
        self.wait_until(None).map_err(|_| ShutDown(()))
    }

    /// Takes an item if some queue has one now.
    ///
    /// `Err(Empty)` if none has, `Err(ShutDown)` if every queue is shut down and empty.
    ///
    /// ```
    /// use synclab::{GetError, Queue, Select};
    ///
    /// let (a, b) = (Queue::<u8>::new(), Queue::new());
    /// let mut sel = Select::new().queue(&a).queue(&b);
    /// assert_eq!(sel.try_get(), Err(GetError::Empty));
    /// a.shutdown();
    /// b.shutdown();
    /// assert_eq!(sel.try_get(), Err(GetError::ShutDown));
    /// ```
    pub fn try_get(&mut self) -> Result<(usize, T), GetError> {
        match self.scan() {
            Scan::Found(at, item) => Ok((at, item)),
            Scan::Finished => Err(GetError::ShutDown),
            Scan::Empty => Err(GetError::Empty),
        }
    }

    /// Takes an item from whichever queue has one, waiting at most `timeout`.
    ///
    /// `Err(Timeout)` if every queue stayed empty, `Err(ShutDown)` as in [`get`](Select::get).
    /// `Duration::ZERO` tries once (and reports `Timeout`, not `Empty`); `Duration::MAX` waits
    /// forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// use synclab::{GetError, Queue, Select};
    ///
    /// let (a, b) = (Queue::<u8>::new(), Queue::new());
    /// let mut sel = Select::new().queue(&a).queue(&b);
    /// assert_eq!(sel.get_timeout(Duration::from_millis(5)), Err(GetError::Timeout));
    /// b.put(9).unwrap();
    /// assert_eq!(sel.get_timeout(Duration::ZERO), Ok((1, 9)));
    /// ```
    pub fn get_timeout(&mut self, timeout: Duration) -> Result<(usize, T), GetError> {
        self.wait_until(futex::deadline_after(timeout))
    }

    /// One pass over the queues, from the start the order asks for.
    fn scan(&mut self) -> Scan<T> {
        scan(&self.queues, self.biased, &mut self.next)
    }

    // ANCHOR: wait
    /// `get` and `get_timeout`: look, snooze, then register on every queue, look again, sleep.
    fn wait_until(&mut self, deadline: Option<Instant>) -> Result<(usize, T), GetError> {
        let mut backoff = Backoff::new();
        loop {
            match self.scan() {
                Scan::Found(at, item) => return Ok((at, item)),
                Scan::Finished => return Err(GetError::ShutDown),
                Scan::Empty => {}
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(GetError::Timeout);
            }
            if !backoff.is_completed() {
                backoff.snooze();
                continue;
            }
            let token = self
                .token
                .get_or_insert_with(|| Arc::new(Token::new()))
                .clone();
            // Armed before any queue can see it: every notifier of the last round is done
            // (each `unregister` took that queue's list lock).
            token.arm();
            let registered = Registered::new(&self.queues, &token);
            registered_fence();
            // The re-check: a put that missed our registration is seen here.
            let found = scan(&self.queues, self.biased, &mut self.next);
            if let Scan::Empty = found {
                token.sleep(deadline);
            }
            drop(registered); // unregisters from every queue
            match found {
                Scan::Found(at, item) => return Ok((at, item)),
                Scan::Finished => return Err(GetError::ShutDown),
                // Woken, timed out or spurious: the next pass looks again.
                Scan::Empty => {}
            }
        }
    }
    // ANCHOR_END: wait
}

/// One pass over `queues`, from `next` (fair) or from 0 (biased); `next` moves past the queue
/// that served.
fn scan<T>(queues: &[&dyn sealed::Source<T>], biased: bool, next: &mut usize) -> Scan<T> {
    let n = queues.len();
    let start = if biased { 0 } else { *next };
    let mut finished = 0;
    for k in 0..n {
        let at = (start + k) % n;
        match queues[at].try_take() {
            Ok(item) => {
                *next = (at + 1) % n;
                return Scan::Found(at, item);
            }
            Err(GetError::ShutDown) => finished += 1,
            Err(_) => {}
        }
    }
    if finished == n {
        Scan::Finished
    } else {
        Scan::Empty
    }
}

/// The token registered on every queue; dropping it unregisters, also if a `PriorityQueue`
/// item's `Ord` panics in a pop during the re-check, so that no queue keeps a stale token.
struct Registered<'s, T> {
    queues: &'s [&'s dyn sealed::Source<T>],
    token: &'s Arc<Token>,
}

impl<'s, T> Registered<'s, T> {
    fn new(queues: &'s [&'s dyn sealed::Source<T>], token: &'s Arc<Token>) -> Self {
        for queue in queues {
            queue.register(token);
        }
        Registered { queues, token }
    }
}

impl<T> Drop for Registered<'_, T> {
    fn drop(&mut self) {
        for queue in self.queues {
            queue.unregister(self.token);
        }
    }
}

impl<T> Default for Select<'_, T> {
    /// An empty select, as [`new`](Select::new).
    fn default() -> Self {
        Self::new()
    }
}

/// Shows the number of queues and the order, not the queues.
impl<T> fmt::Debug for Select<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("queues", &self.queues.len())
            .field("biased", &self.biased)
            .finish()
    }
}
