//! [`Shareable`]: the types whose bytes mean the same thing in every process.

use std::sync::atomic::{
    AtomicBool, AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicU8, AtomicU16,
    AtomicU32, AtomicU64, AtomicUsize,
};

/// A type that may live in memory shared between processes: every byte of it means the same in
/// every process that maps it.
///
/// Each process maps a shared region at its own address, has its own heap and its own file
/// descriptor table. So a value stored there must not contain anything that is only meaningful
/// inside one process:
///
/// | may be stored | may not be stored |
/// |---|---|
/// | integers, floats, `bool`, `char`, `()` | references, raw pointers, `Box`, `Vec`, `String`, `Rc`, `Arc` (they point into one process's memory) |
/// | std's atomic integers and `AtomicBool` | file descriptors, handles, `File` (numbers in one process's table) |
/// | arrays and tuples (up to 8) of shareable types | function pointers, trait objects (code addresses differ between executables) |
/// | synclab's process primitives ([`Lock`](super::Lock), [`Event`](super::Event), [`Semaphore`](super::Semaphore), [`Queue`](super::Queue)) | synclab's in-process primitives (`synclab::Lock`, ...): they sleep on private futexes, which another process cannot wake |
/// | your `#[repr(C)]` structs of the above, with `unsafe impl Shareable` | anything whose `Drop` must run: a shared value is never dropped |
///
/// Strings go in fixed-size byte arrays (`[u8; 64]` plus a length).
///
/// # Safety
///
/// Implement it only for types that (1) contain no pointers, references, heap data or
/// process-local handles, only plain data and process primitives, (2) have a layout that is the
/// same in every process that maps them (`#[repr(C)]` or a primitive; every process runs the same
/// executable, or one built from the same source with the same compiler), (3) need no `Drop`, and
/// (4) are `Sync`: several processes access the value at the same time, exactly like threads.
///
/// ```
/// use synclab::process::Shareable;
///
/// /// One sample, written by a child and read by the parent.
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// struct Sample {
///     pid: u32,
///     value: f64,
///     label: [u8; 16], // not a String: no heap in shared memory
/// }
///
/// // SAFETY: plain integers, a float and bytes; repr(C); no Drop; Sync.
/// unsafe impl Shareable for Sample {}
/// ```
pub unsafe trait Shareable: Sync {}

macro_rules! shareable {
    ($($t:ty),* $(,)?) => {
        // SAFETY: plain values with a fixed layout, no pointers, no Drop, Sync.
        $(unsafe impl Shareable for $t {})*
    };
}

shareable!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    ()
);
shareable!(
    AtomicBool,
    AtomicU8,
    AtomicU16,
    AtomicU32,
    AtomicU64,
    AtomicUsize,
    AtomicI8,
    AtomicI16,
    AtomicI32,
    AtomicI64,
    AtomicIsize
);

// SAFETY: an array of shareable values is laid out as N of them in a row.
unsafe impl<T: Shareable, const N: usize> Shareable for [T; N] {}

macro_rules! shareable_tuple {
    ($($t:ident),+) => {
        // SAFETY: every field is shareable. A tuple's layout is not specified, but it is the
        // same in every process running the same executable, which condition (2) asks for.
        unsafe impl<$($t: Shareable),+> Shareable for ($($t,)+) {}
    };
}

shareable_tuple!(A);
shareable_tuple!(A, B);
shareable_tuple!(A, B, C);
shareable_tuple!(A, B, C, D);
shareable_tuple!(A, B, C, D, E);
shareable_tuple!(A, B, C, D, E, F);
shareable_tuple!(A, B, C, D, E, F, G);
shareable_tuple!(A, B, C, D, E, F, G, H);

#[cfg(test)]
mod tests {
    use super::*;

    fn is_shareable<T: Shareable>() {}

    #[test]
    fn plain_data_and_primitives_are_shareable() {
        is_shareable::<(u64, [u8; 32], AtomicU32)>();
        is_shareable::<crate::process::Lock<[i64; 4]>>();
        is_shareable::<(crate::process::Event, crate::process::Semaphore)>();
        is_shareable::<crate::process::Queue<u64, 8>>();
    }
}
