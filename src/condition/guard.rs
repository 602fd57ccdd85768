//! The guards a [`Condition`](super::Condition) can wait with: [`LockGuard`] and
//! [`RLockGuard`](crate::RLockGuard), behind one sealed trait so that each `wait*` method has
//! one name for both.
//!
//! What a guard must do for a wait is three things, all in [`sealed::Sealed`]: give its lock up
//! entirely (`release`), take it back exactly as it was (`reacquire`), and show the predicate of
//! `wait_while` the data (`test`: `&mut T` for a `LockGuard`, `&T` for an `RLockGuard`). The
//! `LockGuard` side is the code `Condition` had before the trait: drop the guard, lock again.
//! The `RLockGuard` side is in `src/rlock/wait.rs`.

use crate::lock::{Lock, LockGuard};

/// A guard that a [`Condition`](crate::Condition) can wait with: a [`LockGuard`] or an
/// [`RLockGuard`](crate::RLockGuard). Sealed: no other type implements it.
///
/// With a `LockGuard`, `wait` unlocks the lock and locks it again, like `std::sync::Condvar`.
/// With an `RLockGuard`, it does what Python's `Condition()` does with its default `RLock`
/// (CPython's `_release_save` / `_acquire_restore`): it releases **every** recursion level the
/// thread holds, so that other threads can get in, and when it wakes it takes the lock again
/// and restores the recursion count exactly, so that the thread's other guards are valid again.
///
/// The predicate of [`wait_while`](crate::Condition::wait_while) and
/// [`wait_timeout_while`](crate::Condition::wait_timeout_while) gets what the guard gives:
/// `&mut T` from a `LockGuard`, `&T` from an `RLockGuard` ([`WaitGuardRef`] names the type).
///
/// ```
/// use std::cell::Cell;
/// use synclab::{Condition, RLock};
///
/// let ready = RLock::new(Cell::new(false));
/// let cond = Condition::new();
/// std::thread::scope(|s| {
///     let outer = ready.lock();
///     let inner = ready.lock(); // two levels: wait gives both back
///     s.spawn(|| {
///         ready.lock().set(true); // gets in although the waiter holds two guards
///         cond.notify_one();
///     });
///     let inner = cond.wait_while(inner, |r| !r.get());
///     assert_eq!(ready.recursion_count(), 2); // both levels are back
///     assert!(inner.get() && outer.get());
/// });
/// ```
///
/// # Outer guards while the lock is away, and why this is sound
///
/// `wait` takes one guard by value, but a thread that holds an `RLock` several times has
/// several guards, and the outer ones stay alive (borrowed from the lock, unusable by this
/// thread, which is blocked in `wait`) while another thread owns the lock and changes the data.
/// Python programs live with this: the `with` block of the outer level has not ended, yet the
/// lock is released. In Rust the question is whether it can be a data race, or break the
/// aliasing rules. It cannot, because an `RLockGuard` gives `&T` only, never `&mut T`:
///
/// - **Aliasing.** Shared references may coexist with other shared references to the same
///   data; what `&T` forbids is a change that does not go through an `UnsafeCell` (a `Cell`,
///   `RefCell`, atomic or lock inside `T`). No `RLockGuard` yields `&mut T`, and
///   [`get_mut`](crate::RLock::get_mut) / [`into_inner`](crate::RLock::into_inner) need the
///   `RLock` itself exclusively, which no live guard allows. So the other thread's changes go
///   through `T`'s own interior mutability, exactly as they could through a second guard of the
///   waiting thread.
/// - **`T: !Sync`** (a `RefCell`, a `Cell`): then the guard is `!Sync` and `!Send`, and `&T`
///   is `!Send`: no reference into the data is on any thread but the waiter's. The waiter's
///   accesses before `wait` happen before its release of the raw lock (Release), the new
///   owner's happen after its Acquire and before its own release, and the waiter's accesses
///   after `wait` come after its re-acquire (Acquire). Every access to the `RefCell`'s borrow
///   flag and contents is ordered: no data race. The turn-taking is the one `T: Send` (the
///   bound of `RLock<T>: Sync`) already allows, except that the waiter's borrows stay alive,
///   unused, across the other thread's turn; a sound `!Sync` type tolerates that, because one
///   thread with two guards can interleave the same calls with its own borrows alive. A
///   `RefCell` borrow that the waiter holds through an outer guard stays a borrow: the other
///   thread's `borrow_mut()` fails (`try_borrow_mut` reports it), it does not alias.
/// - **`T: Sync`** (atomics, a `Mutex` inside): then `RLockGuard` is `Sync`, and another
///   thread can read through `&outer_guard` while the lock is away. That is the objection of
///   [parking_lot#452](https://github.com/Amanieu/parking_lot/issues/452) (its
///   `ReentrantMutexGuard` is `Sync` in the same way): the thread reading through the outer
///   guard is not excluded by the lock during the wait. It is a lost *logical* exclusion, not
///   a memory-safety one: `T: Sync` means, by definition, that `&T` may be used from several
///   threads at once, so the reader and the new owner are two users of `&T`, which `T`
///   synchronises itself. What would make it unsound is code that takes a live guard as proof
///   that the lock is held *now* and does something `unsafe` on that proof; no synclab code
///   does (a guard only derefs), and user code cannot reach the lock's words.
///
/// So synclab handles the full count, as Python does, instead of insisting on a count of 1.
/// What the outer guards lose during a wait is mutual exclusion, for the duration of the wait:
/// treat `wait` as the end of the critical section for every level, re-check what you read
/// before it (which [`wait_while`](crate::Condition::wait_while) does), and do not hand
/// `&outer_guard` to another thread across a wait if that thread relies on the lock.
///
/// # Only the owner can wait
///
/// Python raises `RuntimeError` when a thread that does not hold the lock calls `wait`. Here
/// that program does not compile: waiting needs a guard by value, and guards are `!Send`, so
/// the only thread that can pass one is the thread that took it, the owner.
///
/// ```compile_fail
/// use synclab::{Condition, RLock};
///
/// let lock = RLock::new(());
/// let cond = Condition::new();
/// let guard = lock.lock();
/// std::thread::scope(|s| {
///     // error: `RLockGuard` cannot be sent between threads safely
///     s.spawn(move || drop(cond.wait(guard)));
/// });
/// ```
pub trait WaitGuard: sealed::Sealed + for<'g> WaitGuardRef<'g> {}

/// What the predicate of a `wait_while` gets from a guard `G`, borrowed for `'g`:
/// `&'g mut T` for a [`LockGuard`], `&'g T` for an [`RLockGuard`](crate::RLockGuard). Sealed.
///
/// The second parameter is never written: its default, `&'g Self`, tells the compiler that
/// `Self` outlives `'g` inside the `for<'g>` bound of the `wait_while` methods (without it, a
/// higher-ranked bound over a borrow of `Self` would demand `Self: 'static`).
///
/// ```
/// use synclab::{LockGuard, RLockGuard, WaitGuardRef};
///
/// fn same<A, B: Into<A>>() {}
/// same::<<LockGuard<'static, u8> as WaitGuardRef<'static>>::Ref, &'static mut u8>();
/// same::<<RLockGuard<'static, u8> as WaitGuardRef<'static>>::Ref, &'static u8>();
/// ```
pub trait WaitGuardRef<'g, Implied = &'g Self>: sealed::Sealed {
    /// `&'g mut T` or `&'g T`.
    type Ref;
}

pub(crate) mod sealed {
    use super::WaitGuardRef;

    /// The waiting half of a guard; in a private module, so that no other crate can implement
    /// [`WaitGuard`](super::WaitGuard) or call these.
    pub trait Sealed: Sized {
        /// What is left of the guard while its lock is given up: enough to take it back.
        type Released;

        /// Gives the lock up entirely, as if every guard of this thread were dropped, without
        /// running those guards' drops. The caller `reacquire`s the result on this same thread
        /// (the guard was `!Send`, so this is the owner).
        fn release(self) -> Self::Released;

        /// Takes the lock back (sleeping as long as needed) and restores it exactly as
        /// `release` found it.
        fn reacquire(released: Self::Released) -> Self;

        /// Calls a `wait_while` predicate with the guard's data.
        fn test<F>(&mut self, condition: &mut F) -> bool
        where
            Self: for<'g> WaitGuardRef<'g>,
            F: for<'g> FnMut(<Self as WaitGuardRef<'g>>::Ref) -> bool;
    }
}

impl<T: ?Sized> WaitGuard for LockGuard<'_, T> {}

impl<'g, T: ?Sized> WaitGuardRef<'g> for LockGuard<'_, T> {
    type Ref = &'g mut T;
}

// ANCHOR: lock_guard
impl<'a, T: ?Sized> sealed::Sealed for LockGuard<'a, T> {
    type Released = &'a Lock<T>;

    #[inline]
    fn release(self) -> &'a Lock<T> {
        let lock = self.lock_ref();
        drop(self);
        lock
    }

    #[inline]
    fn reacquire(lock: &'a Lock<T>) -> Self {
        lock.lock()
    }

    #[inline]
    fn test<F>(&mut self, condition: &mut F) -> bool
    where
        F: for<'g> FnMut(<Self as WaitGuardRef<'g>>::Ref) -> bool,
    {
        condition(&mut **self)
    }
}
// ANCHOR_END: lock_guard
