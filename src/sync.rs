//! The loom facade: every atomic, cell, hint, `Arc` and thread the primitives use comes from
//! here.
//!
//! Normally these are std's types. Under `RUSTFLAGS="--cfg loom"` they are loom's, so the
//! model checker sees every atomic access, every yield and every thread (tokio's `loom/` module
//! and crossbeam's `primitive` module follow the same pattern). No other file of the crate
//! imports `std::sync::atomic`, `std::sync::Arc`, `std::thread`'s spawning types or
//! `std::cell::UnsafeCell` directly.
//!
//! std's `UnsafeCell` is wrapped so that it offers loom's closure API (`with`, `with_mut`):
//! the same code then compiles both ways.

// ANCHOR: facade
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering, fence,
};
// ANCHOR_END: facade

/// `Arc`: loom's under loom, so that the model tracks the reference counts' synchronization
/// (the last drop must see every other owner's writes) and reports an `Arc` still alive when an
/// execution ends.
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

#[cfg(loom)]
pub(crate) use loom::sync::Arc;

/// The threads the crate starts itself (the timer thread, the pool's workers).
///
/// loom's `thread` module mirrors the parts of std's used here (`Builder` with `name`, a
/// `JoinHandle` whose `thread().id()` compares with `current().id()`), so the call sites are
/// the same both ways. Under loom the spawned thread is a model thread: loom interleaves it with
/// the others, and a thread left asleep when the model ends is reported as a deadlock.
pub(crate) mod thread {
    #[cfg(not(loom))]
    pub(crate) use std::thread::{Builder, JoinHandle, current};

    #[cfg(loom)]
    pub(crate) use loom::thread::{Builder, JoinHandle, current};
}

/// Raw allocation for the queue's blocks: std's, or loom's, which tracks every allocation and
/// fails an execution that ends with one not freed (so the loom models catch a leaked block).
pub(crate) mod alloc {
    #[cfg(not(loom))]
    pub(crate) use std::alloc::{alloc, dealloc};

    #[cfg(loom)]
    pub(crate) use loom::alloc::{alloc, dealloc};

    pub(crate) use std::alloc::{Layout, handle_alloc_error};
}

/// A hint to the CPU that we are in a spin loop (`PAUSE` on x86).
#[inline]
pub(crate) fn spin_loop() {
    #[cfg(not(loom))]
    std::hint::spin_loop();
    // Under loom a spin is a point where another thread should get to run.
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// Give the rest of this time slice to another thread.
#[inline]
pub(crate) fn yield_now() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// `UnsafeCell` with loom's API: access goes through closures over raw pointers.
#[cfg(not(loom))]
#[derive(Debug, Default)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    #[inline]
    pub(crate) const fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    #[inline]
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(not(loom))]
impl<T: ?Sized> UnsafeCell<T> {
    /// Calls `f` with a shared raw pointer to the contents.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a mutable raw pointer to the contents.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }

    /// Exclusive access through `&mut self`: no synchronisation needed.
    #[inline]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}

#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T: ?Sized>(loom::cell::UnsafeCell<T>);

#[cfg(loom)]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(loom::cell::UnsafeCell::new(value))
    }

    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(loom)]
impl<T: ?Sized> UnsafeCell<T> {
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        self.0.with(f)
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        self.0.with_mut(f)
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves that no other reference to the contents exists.
        self.0.with_mut(|p| unsafe { &mut *p })
    }
}

/// Declares a constructor that is a `const fn` normally and a plain `fn` under loom (whose
/// atomics cannot be built in a const context).
macro_rules! loom_const_fn {
    ($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$attr])*
        #[cfg(not(loom))]
        $vis const fn $name($($arg: $ty),*) -> $ret $body

        $(#[$attr])*
        #[cfg(loom)]
        $vis fn $name($($arg: $ty),*) -> $ret $body
    };
}
pub(crate) use loom_const_fn;
