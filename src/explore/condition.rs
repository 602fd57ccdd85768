//! The explore-aware condition variable: `wait` releases an explore [`Lock`] and sleeps in one
//! step; a notify with nobody waiting is lost, as in Python and in synclab.

use std::collections::VecDeque;
use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex};

use super::sched::Pending;
use super::types::{LockGuard, locked, point, record};

/// The model state of an explore [`Condition`]: the threads waiting in it, oldest first.
pub(crate) struct CondCore {
    pub(crate) name: String,
    waiters: Mutex<VecDeque<usize>>,
}

impl CondCore {
    /// Thread `t` waits in this condition and has not been notified yet.
    pub(crate) fn is_waiting(&self, t: usize) -> bool {
        locked(&self.waiters).contains(&t)
    }
}

/// An explore-aware condition variable with synclab's [`Condition`](crate::Condition) methods,
/// used with an explore [`Lock`](super::Lock): [`wait`](Condition::wait) releases the lock and
/// starts waiting in one step; the waiter is not scheduled until a notify picks it and the lock
/// is free again, and then it takes the lock back (a second step). A notify when nobody waits
/// does nothing, so a waiter that checks its predicate *outside* the lock can sleep through the
/// notify meant for it: the lost wakeup, which the explorer reports as a deadlock.
///
/// ```
/// use synclab::explore::{self, Condition, Lock};
///
/// // The predicate checked under the lock, in a loop: no schedule loses the wakeup.
/// let report = explore::run(|| {
///     let (ready, cond) = (Lock::new("lock", false), Condition::new("cond"));
///     let (r, c) = (ready.clone(), cond.clone());
///     let setter = explore::spawn("setter", move || {
///         *r.lock() = true;
///         c.notify_one();
///     });
///     let mut g = ready.lock();
///     while !*g {
///         g = cond.wait(g);
///     }
///     drop(g);
///     setter.join();
/// })
/// .unwrap();
/// assert!(report.schedules() > 1);
/// assert_eq!(report.count(|o| o.returned().is_none()), 0);
/// ```
#[derive(Clone)]
pub struct Condition {
    core: Arc<CondCore>,
}

impl Condition {
    /// A condition variable called `name`, nobody waiting.
    ///
    /// ```
    /// let cond = synclab::explore::Condition::new("not_empty");
    /// cond.notify_all(); // nobody waits: nothing happens
    /// ```
    pub fn new(name: &str) -> Self {
        Condition {
            core: Arc::new(CondCore {
                name: name.into(),
                waiters: Mutex::new(VecDeque::new()),
            }),
        }
    }

    /// Releases the lock of `guard` and waits until notified (one step), then waits for the
    /// lock and takes it back (another step) and returns the new guard. Outside
    /// [`run`](super::run) nobody could notify: it panics.
    ///
    /// ```
    /// use synclab::explore::{self, Condition, Lock, Outcome};
    ///
    /// // Nobody ever notifies: every schedule is a deadlock, and it says who waits where.
    /// let report = explore::run(|| {
    ///     let (lock, cond) = (Lock::new("lock", ()), Condition::new("cond"));
    ///     drop(cond.wait(lock.lock()));
    /// })
    /// .unwrap();
    /// let why = Outcome::Deadlock(vec!["main waits in cond.wait() for a notify".into()]);
    /// assert_eq!(report.count(|o| *o == why), 1);
    /// ```
    pub fn wait<'a, T>(&self, mut guard: LockGuard<'a, T>) -> LockGuard<'a, T> {
        let ctx = point(Pending::Op);
        let Some(me) = ctx.as_ref().map(|c| c.1) else {
            panic!("explore::Condition::wait outside explore::run would wait forever");
        };
        let lock = guard.lock;
        guard.data = None; // the data's mutex, then the model lock: released together
        lock.core.release();
        drop(guard); // no second unlock step: `data` is gone
        locked(&self.core.waiters).push_back(me);
        let name = &self.core.name;
        let text = format!("{name}.wait(): unlock {}, sleep", lock.core.name);
        record(&ctx, text, None);
        let ctx = point(Pending::Notified(
            Arc::clone(&self.core),
            Arc::clone(&lock.core),
        ));
        lock.take_saying(
            ctx,
            format!("woken in {name}.wait(): lock {}", lock.core.name),
        )
    }

    /// Wakes the longest-waiting thread, if any (one step); with nobody waiting it does
    /// nothing, and the notify is lost.
    ///
    /// ```
    /// use synclab::explore::{self, Condition, Lock};
    ///
    /// // t1 waits without checking anything first: when main's notify comes before t1's
    /// // wait, it is lost and t1 sleeps for ever.
    /// let report = explore::run(|| {
    ///     let (lock, cond) = (Lock::new("lock", ()), Condition::new("cond"));
    ///     let (l, c) = (lock.clone(), cond.clone());
    ///     let t1 = explore::spawn("t1", move || drop(c.wait(l.lock())));
    ///     cond.notify_one();
    ///     t1.join();
    /// })
    /// .unwrap();
    /// assert!(report.count(|o| o.returned().is_some()) > 0); // t1 waited first
    /// let lost = report.find(|o| o.returned().is_none()).unwrap();
    /// assert!(lost.table().contains("cond.notify_one(): nobody waits"));
    /// ```
    pub fn notify_one(&self) {
        let ctx = point(Pending::Op);
        let woken = locked(&self.core.waiters).pop_front();
        let whom = match (&ctx, woken) {
            (Some((exec, _)), Some(t)) => format!("wakes {}", exec.thread_name(t)),
            _ => "nobody waits".to_string(),
        };
        record(
            &ctx,
            format!("{}.notify_one(): {whom}", self.core.name),
            None,
        );
    }

    /// Wakes every waiting thread (one step).
    ///
    /// ```
    /// let cond = synclab::explore::Condition::new("c");
    /// cond.notify_all();
    /// ```
    pub fn notify_all(&self) {
        let ctx = point(Pending::Op);
        let n = locked(&self.core.waiters).drain(..).count();
        let text = format!("{}.notify_all(): wakes {n}", self.core.name);
        record(&ctx, text, None);
    }
}

impl Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = locked(&self.core.waiters).len();
        write!(f, "Condition({}: {n} waiting)", self.core.name)
    }
}
