//! Find, draw and replay the interleaving that breaks your code.
//!
//! `explore` runs a small *model* (a closure that spawns a few threads working on instrumented
//! state) once for **every** order in which their steps can interleave, and reports every
//! outcome: for the notes' bank, each final balance and how many schedules end there. Any
//! schedule can be printed as the notes' table (thread by thread, step by step, the lost update
//! marked), drawn as an SVG timeline ([`Schedule::svg`]) and run again from its short replay key.
//!
//! ```
//! use synclab::explore::{self, Shared};
//!
//! // The notes' change_it(n): `balance = balance + n; balance = balance - n`, each statement
//! // split into the notes' two steps (`x = balance + n` reads, `balance = x` writes).
//! fn change_it(balance: &Shared<i64>, n: i64) {
//!     let x = balance.load() + n;
//!     balance.store(x);
//!     let x = balance.load() - n;
//!     balance.store(x);
//! }
//!
//! let bank = || {
//!     let balance = Shared::new("balance", 0);
//!     let (b1, b2) = (balance.clone(), balance.clone());
//!     let t1 = explore::spawn("t1", move || change_it(&b1, 5));
//!     let t2 = explore::spawn("t2", move || change_it(&b2, 8));
//!     t1.join();
//!     t2.join();
//!     balance.peek() // the final balance, read after both threads
//! };
//! let report = explore::run(bank).unwrap();
//! assert_eq!(report.schedules(), 70); // C(8, 4): 4 steps each
//! let minus_eight = report.find(|o| o.returned() == Some(&-8)).unwrap();
//! println!("{report}\n{}", minus_eight.table());
//! // The same schedule again, step by step:
//! let (again, schedule) = explore::replay(minus_eight.key(), bank).unwrap();
//! assert_eq!(again.returned(), Some(&-8));
//! assert_eq!(schedule.table(), minus_eight.table());
//! ```
//!
//! ## How it works
//!
//! Every model thread is a real OS thread, but they run **one at a time**, passing a baton
//! (a mutex and a condition variable). Each operation on a [`Shared`], [`Lock`], [`Semaphore`]
//! or [`Condition`] is a *scheduling point*: before it, the explorer decides which thread takes
//! the next step. A thread waiting for a lock, a permit or a notify is not chosen until it could
//! go on; when no thread can, the schedule is a [`Outcome::Deadlock`]. A new thread does nothing until it is
//! first chosen, and `join` of a finished thread is not a choice, so two threads of `a` and `b`
//! steps have exactly `C(a + b, a)` schedules.
//!
//! [`run`] walks every schedule depth first, replaying a prefix of choices and branching at
//! the deepest choice not tried yet; [`Explorer::preemption_bound`] keeps only schedules with
//! few preemptions (as CHESS does), and [`Explorer::sample`] / [`Explorer::sample_pct`] draw
//! seeded random or PCT schedules when there are too many to enumerate.
//!
//! ## Honest limits
//!
//! - Only the instrumented operations are steps, and they happen in one global order: the
//!   explorer shows *sequentially consistent* interleavings. Weak-memory effects (a Relaxed
//!   store seen late) are loom's and Miri's job; see the testing chapter.
//! - The model must be deterministic: the same choices must lead to the same steps (no clock,
//!   no random numbers, no `HashMap` iteration order that changes between runs), or the walk
//!   reports [`ExploreError::Nondeterministic`].
//! - Code between scheduling points runs without interruption, so a loop with no instrumented
//!   operation in it never ends; a loop *with* one ends at [`Explorer::max_steps`].
//! - It is a teaching tool for a few threads and a few dozen steps (the number of schedules
//!   grows like a binomial coefficient), not a replacement for loom.

mod condition;
mod outcome;
mod plan;
mod report;
mod run;
mod sched;
mod semaphore;
mod svg;
mod types;

use std::fmt::{self, Debug, Display};

pub use condition::Condition;
pub use report::{Outcome, Report, Schedule};
pub use run::{Explorer, JoinHandle, spawn};
pub use semaphore::Semaphore;
pub use types::{Lock, LockGuard, Shared};

/// Why the explorer could not give a report.
///
/// ```
/// use synclab::explore::{self, ExploreError};
/// let err = explore::replay("?", || ()).unwrap_err();
/// assert!(matches!(err, ExploreError::BadKey { at: 0, .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExploreError {
    /// The model has more than `limit` schedules; `explored` were run. Bound the preemptions,
    /// make the model smaller, or sample.
    TooManySchedules {
        /// The limit ([`Explorer::max_schedules`]).
        limit: usize,
        /// How many schedules were run before stopping.
        explored: usize,
    },
    /// A replay key that does not fit the model.
    BadKey {
        /// The key.
        key: String,
        /// The position of the first choice that does not fit.
        at: usize,
        /// What is wrong there.
        reason: String,
    },
    /// Replaying the same choices led somewhere else: the model is not deterministic.
    Nondeterministic {
        /// The choice at which it went a different way.
        at: usize,
    },
}

impl Display for ExploreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExploreError::TooManySchedules { limit, explored } => write!(
                f,
                "more than {limit} schedules (ran {explored}): bound the preemptions, \
                 shrink the model, or sample"
            ),
            ExploreError::BadKey { key, at, reason } => {
                write!(f, "replay key {key:?} at choice {at}: {reason}")
            }
            ExploreError::Nondeterministic { at } => write!(
                f,
                "the model made a different choice available at choice {at} when replayed: \
                 it must not depend on time, randomness or anything but its own steps"
            ),
        }
    }
}

impl std::error::Error for ExploreError {}

/// Runs `model` once for every schedule and reports every outcome, with the default
/// [`Explorer`] settings.
///
/// ```
/// use synclab::explore::{self, Shared};
/// let report = explore::run(|| {
///     let hits = Shared::new("hits", 0);
///     let h = hits.clone();
///     let t1 = explore::spawn("t1", move || h.update(|v| v + 1)); // one atomic step
///     hits.update(|v| v + 1);
///     t1.join();
///     hits.peek()
/// })
/// .unwrap();
/// assert_eq!(report.count(|o| o.returned() == Some(&2)), report.schedules());
/// ```
pub fn run<T: Debug + PartialEq, F: Fn() -> T>(model: F) -> Result<Report<T>, ExploreError> {
    Explorer::new().run(model)
}

/// Runs `model` once more along the schedule of `key` ([`Schedule::key`]) and returns its
/// outcome and trace: the same steps, in the same order, every time.
///
/// ```
/// use synclab::explore::{self, Shared};
/// let model = || {
///     let x = Shared::new("x", 0);
///     let x1 = x.clone();
///     let t1 = explore::spawn("t1", move || x1.store(1));
///     x.store(2);
///     t1.join();
///     x.peek()
/// };
/// // one choice: whose store goes first, main's (`0`) or t1's (`1`)
/// assert_eq!(explore::replay("0", model).unwrap().0.returned(), Some(&1));
/// assert_eq!(explore::replay("1", model).unwrap().0.returned(), Some(&2));
/// ```
pub fn replay<T: Debug, F: Fn() -> T>(
    key: &str,
    model: F,
) -> Result<(Outcome<T>, Schedule), ExploreError> {
    Explorer::new().replay(key, model)
}
