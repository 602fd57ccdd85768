//! The instrumented types: every operation on them is a scheduling point and a step of the
//! trace. Each one is a *handle*: clone it to give it to another thread (like an `Arc`).
//!
//! Outside [`run`](super::run) they still work, without scheduling or recording (a `Lock` is
//! then an ordinary lock), so a model's code can be tried on its own.

use std::fmt::{self, Debug};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::report::{Access, Step};
use super::sched::{Exec, Pending, current};

/// The scheduling point before an operation, when running under the explorer.
pub(super) fn point(op: Pending) -> Option<(Arc<Exec>, usize)> {
    let (exec, me) = current()?;
    exec.point(me, op);
    Some((exec, me))
}

pub(super) fn record(ctx: &Option<(Arc<Exec>, usize)>, text: String, access: Option<Access>) {
    if let Some((exec, me)) = ctx {
        exec.record(Step {
            thread: *me,
            text,
            access,
        });
    }
}

pub(super) fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Only one model thread runs at a time, so these mutexes are never contended; a panic in a
    // user's `update` closure may poison one, and the value is still the model's value.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A shared variable whose every [`load`](Shared::load), [`store`](Shared::store) and
/// [`update`](Shared::update) is one step: the notes' `balance`.
///
/// A `load` followed by a `store` is two steps, and another thread may run between them (the
/// lost update); an `update` is one step, a read-modify-write that nothing can split.
///
/// ```
/// use synclab::explore::{self, Shared};
///
/// let report = explore::run(|| {
///     let balance = Shared::new("balance", 0);
///     let b = balance.clone();
///     let t1 = explore::spawn("t1", move || b.store(b.load() + 5)); // two steps
///     let t2 = explore::spawn("t2", {
///         let b = balance.clone();
///         move || b.store(b.load() + 8)
///     });
///     t1.join();
///     t2.join();
///     balance.peek()
/// })
/// .unwrap();
/// assert_eq!(report.schedules(), 6); // C(4, 2)
/// assert!(report.count(|o| o.returned() == Some(&5)) > 0); // t2's deposit lost
/// ```
pub struct Shared<T> {
    name: Arc<str>,
    value: Arc<Mutex<T>>,
}

impl<T: Clone + Debug> Shared<T> {
    /// A shared variable called `name` (the name is the table's column) holding `value`.
    ///
    /// ```
    /// let balance = synclab::explore::Shared::new("balance", 0);
    /// assert_eq!(balance.load(), 0);
    /// ```
    pub fn new(name: &str, value: T) -> Self {
        Shared {
            name: name.into(),
            value: Arc::new(Mutex::new(value)),
        }
    }

    /// Reads the value: one step (the notes' `x = balance + n` reads `balance`).
    ///
    /// ```
    /// let x = synclab::explore::Shared::new("x", 7);
    /// assert_eq!(x.load(), 7);
    /// ```
    pub fn load(&self) -> T {
        let ctx = point(Pending::Op);
        let v = locked(&self.value).clone();
        let text = format!("reads {} = {v:?}", self.name);
        record(&ctx, text, Some(self.access(false, &v, &v)));
        v
    }

    /// Writes the value: one step (the notes' `balance = x`).
    ///
    /// ```
    /// let x = synclab::explore::Shared::new("x", 7);
    /// x.store(8);
    /// assert_eq!(x.load(), 8);
    /// ```
    pub fn store(&self, value: T) {
        let ctx = point(Pending::Op);
        let before = std::mem::replace(&mut *locked(&self.value), value.clone());
        let text = format!("{} = {value:?}", self.name);
        record(&ctx, text, Some(self.access(true, &before, &value)));
    }

    /// Replaces the value by `f(value)` in ONE step (an atomic read-modify-write, like
    /// `fetch_add`) and returns the old value. `f` must not use other explore objects.
    ///
    /// ```
    /// let x = synclab::explore::Shared::new("x", 7);
    /// assert_eq!(x.update(|v| v + 1), 7);
    /// assert_eq!(x.load(), 8);
    /// ```
    pub fn update(&self, f: impl FnOnce(T) -> T) -> T {
        let ctx = point(Pending::Op);
        let mut slot = locked(&self.value);
        let before = slot.clone();
        *slot = f(before.clone());
        let after = slot.clone();
        drop(slot);
        let text = format!("{} = {after:?} (was {before:?})", self.name);
        let mut access = self.access(true, &before, &after);
        access.read = true;
        record(&ctx, text, Some(access));
        before
    }

    /// Reads the value WITHOUT a scheduling point and without a step in the trace: for the
    /// check at the end, after every thread has been joined. Inside threads use [`load`](Shared::load).
    ///
    /// ```
    /// let x = synclab::explore::Shared::new("x", 7);
    /// assert_eq!(x.peek(), 7);
    /// ```
    pub fn peek(&self) -> T {
        locked(&self.value).clone()
    }

    fn access(&self, write: bool, before: &T, after: &T) -> Access {
        Access {
            cell: self.name.to_string(),
            read: !write,
            write,
            before: format!("{before:?}"),
            after: format!("{after:?}"),
        }
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared {
            name: Arc::clone(&self.name),
            value: Arc::clone(&self.value),
        }
    }
}

impl<T: Debug> Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Shared({} = {:?})", self.name, *locked(&self.value))
    }
}

/// The model state of an explore [`Lock`]: who holds it.
pub(crate) struct LockCore {
    pub(crate) name: String,
    owner: Mutex<Option<usize>>,
}

impl LockCore {
    pub(crate) fn owner(&self) -> Option<usize> {
        *locked(&self.owner)
    }

    pub(crate) fn release(&self) {
        *locked(&self.owner) = None;
    }
}

/// An explore-aware lock with synclab's [`Lock`](crate::Lock) methods: a thread that calls
/// [`lock`](Lock::lock) while another holds it is not scheduled until it is released; two
/// threads waiting for each other's locks are reported as a deadlock.
///
/// ```
/// use synclab::explore::{self, Lock};
///
/// let report = explore::run(|| {
///     let balance = Lock::new("lock", 0);
///     let b = balance.clone();
///     let t1 = explore::spawn("t1", move || *b.lock() += 5);
///     *balance.lock() += 8;
///     t1.join();
///     *balance.lock()
/// })
/// .unwrap();
/// assert_eq!(report.count(|o| o.returned() == Some(&13)), report.schedules());
/// ```
pub struct Lock<T> {
    pub(super) core: Arc<LockCore>,
    data: Arc<Mutex<T>>,
}

impl<T> Lock<T> {
    /// A lock called `name` around `value`.
    ///
    /// ```
    /// let lock = synclab::explore::Lock::new("lock", vec![1]);
    /// lock.lock().push(2);
    /// assert_eq!(*lock.lock(), [1, 2]);
    /// ```
    pub fn new(name: &str, value: T) -> Self {
        Lock {
            core: Arc::new(LockCore {
                name: name.into(),
                owner: Mutex::new(None),
            }),
            data: Arc::new(Mutex::new(value)),
        }
    }

    /// Waits until the lock is free and takes it (one step); the guard releases it on drop
    /// (another step).
    ///
    /// ```
    /// let lock = synclab::explore::Lock::new("lock", 0);
    /// *lock.lock() += 1;
    /// assert_eq!(*lock.lock(), 1);
    /// ```
    pub fn lock(&self) -> LockGuard<'_, T> {
        let ctx = point(Pending::Acquire(Arc::clone(&self.core)));
        self.take(ctx)
    }

    /// Takes the lock if it is free (one step either way).
    ///
    /// ```
    /// let lock = synclab::explore::Lock::new("lock", 0);
    /// let held = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(held);
    /// assert!(lock.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        let ctx = point(Pending::Op);
        if self.core.owner().is_some() {
            record(&ctx, format!("try_lock {}: busy", self.core.name), None);
            return None;
        }
        Some(self.take(ctx))
    }

    pub(super) fn take(&self, ctx: Option<(Arc<Exec>, usize)>) -> LockGuard<'_, T> {
        self.take_saying(ctx, format!("lock {}", self.core.name))
    }

    /// Takes the lock (free now) and records `text` as the step.
    pub(super) fn take_saying(
        &self,
        ctx: Option<(Arc<Exec>, usize)>,
        text: String,
    ) -> LockGuard<'_, T> {
        *locked(&self.core.owner) = Some(ctx.as_ref().map_or(0, |c| c.1));
        let data = locked(&self.data);
        record(&ctx, text, None);
        LockGuard {
            lock: self,
            data: Some(data),
        }
    }
}

impl<T> Clone for Lock<T> {
    fn clone(&self) -> Self {
        Lock {
            core: Arc::clone(&self.core),
            data: Arc::clone(&self.data),
        }
    }
}

impl<T> Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Lock({})", self.core.name)
    }
}

/// Proof that the [`Lock`] is held; gives `&mut T`, releases the lock when dropped.
///
/// ```
/// let lock = synclab::explore::Lock::new("lock", 1);
/// let mut guard = lock.lock();
/// *guard *= 10;
/// drop(guard); // unlock
/// assert_eq!(*lock.lock(), 10);
/// ```
pub struct LockGuard<'a, T> {
    pub(super) lock: &'a Lock<T>,
    /// `None` only after `Condition::wait` has released the lock through this guard.
    pub(super) data: Option<MutexGuard<'a, T>>,
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.data.as_ref().expect("held until drop")
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.data.as_mut().expect("held until drop")
    }
}

impl<T> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        if self.data.is_none() {
            return; // released by `Condition::wait`, which hands out a new guard
        }
        let ctx = point(Pending::Op);
        self.data = None;
        *locked(&self.lock.core.owner) = None;
        record(&ctx, format!("unlock {}", self.lock.core.name), None);
    }
}
