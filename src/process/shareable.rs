//! [`Shareable`]: the types whose bytes mean the same thing in every process.

use std::sync::atomic::{
    AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicU8, AtomicU16, AtomicU32,
    AtomicU64, AtomicUsize,
};

/// A type that may live in memory shared between processes: every byte of it means the same in
/// every process that maps it, and **every bit pattern is a valid value of it**.
///
/// Each process maps a shared region at its own address, has its own heap and its own file
/// descriptor table. So a value stored there must not contain anything that is only meaningful
/// inside one process. And the other processes are not under this process's control: one may
/// be buggy, killed half-way through a write, or hostile, and write any bytes at all into the
/// region. A type for which some bit patterns are not values (`bool` is only 0 or 1, `char`
/// only a Unicode scalar value, a reference never null) would then be undefined behaviour in the
/// *reader*, which did nothing wrong. So only types with no invalid bit pattern qualify:
///
/// | may be stored | may not be stored |
/// |---|---|
/// | integers, floats, `()` | `bool`, `char`, enums, `NonZero*` (some bit patterns are not values: store a `u8`/`u32` and check it when you read it) |
/// | std's atomic integers | `AtomicBool` (same values as `bool`) |
/// | arrays and tuples (up to 8) of shareable types | references, raw pointers, `Box`, `Vec`, `String`, `Rc`, `Arc` (they point into one process's memory) |
/// | synclab's process primitives ([`Lock`](super::Lock), [`Event`](super::Event), [`Semaphore`](super::Semaphore), [`Queue`](super::Queue)) | file descriptors, handles, `File` (numbers in one process's table); function pointers, trait objects (code addresses differ between executables) |
/// | your `#[repr(C)]` structs of the above, with `unsafe impl Shareable` | synclab's in-process primitives (`synclab::Lock`, ...): they sleep on private futexes, which another process cannot wake; anything whose `Drop` must run: a shared value is never dropped |
///
/// Strings go in fixed-size byte arrays (`[u8; 64]` plus a length), or as messages through a
/// [`ByteQueue`](super::ByteQueue) (and, with the `serde` feature, any value through a
/// `MessageQueue`).
///
/// **Why a hand-written trait, not `bytemuck` or `zerocopy`.** `bytemuck::AnyBitPattern`
/// states the bit-pattern contract but requires `Copy`, so no atomic and no lock could ever
/// qualify, and they are what shared memory is for. `zerocopy::FromBytes` does cover atomics
/// and `UnsafeCell`, but it would put a dependency (and, for users' structs, its derive
/// macros) into the default build, whose only dependency is `libc`; and it still says nothing
/// about the conditions that are about processes (no process-local handles, no `Drop`). So the
/// trait stays ours, with condition (1) below added to it. A `Sync` type that derives
/// `FromBytes` or `AnyBitPattern` meets (1) and (2); (3) to (5) are yours to check.
///
/// # Safety
///
/// Implement it only for types that (1) are valid for every bit pattern of their size (no
/// `bool`, `char`, enum, reference, `NonZero` inside; padding is fine), (2) contain no
/// pointers, references, heap data or process-local handles, only plain data and process
/// primitives, (3) have a layout that is the same in every process that maps them (`#[repr(C)]`
/// or a primitive; every process runs the same executable, or one built from the same source
/// with the same compiler), (4) need no `Drop`, and (5) are `Sync`: several processes access
/// the value at the same time, exactly like threads.
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
///     valid: u8,       // not a bool: another process may write 2 into it
/// }
///
/// // SAFETY: integers, a float and bytes, all valid for any bits; repr(C); no Drop; Sync.
/// unsafe impl Shareable for Sample {}
/// ```
///
/// A `bool` is refused, since a misbehaving process could store `2` in it:
///
/// ```compile_fail
/// let flag = synclab::process::Shared::new(true); // error: `bool` is not `Shareable`
/// ```
pub unsafe trait Shareable: Sync {}

macro_rules! shareable {
    ($($t:ty),* $(,)?) => {
        // SAFETY: plain values valid for every bit pattern, with a fixed layout, no pointers,
        // no Drop, Sync.
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
    ()
);
shareable!(
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
