//! [`Shared<T>`]: a `T` in memory that several processes map at once.
//!
//! A region is a file that lives only in memory: `memfd_create` for an anonymous one (handed to
//! children by file-descriptor inheritance, see [`Command::share`](super::Command::share)), or
//! `shm_open` for a named one under `/dev/shm` that unrelated processes open by name. Each
//! process maps it with `mmap(MAP_SHARED)`: the same physical pages, at a different address in
//! each process, which is why only [`Shareable`] values may live there.
//!
//! The region starts with a header that says what it holds:
//!
//! | offset | field | meaning |
//! |---|---|---|
//! | 0 | `magic` | `MAGIC` once the value is in place (stored last, Release) |
//! | 8 | `size`, 16 `align` | `size_of::<T>()`, `align_of::<T>()` |
//! | 24 | `type_hash` | FNV-1a hash of `std::any::type_name::<T>()` |
//! | 32 | `tail` | how many 64-bit words follow the value (0 unless made by [`Shared::with_tail`]) |
//! | `align_up(40, align)` | the value | |
//! | `align_up(that + size, 8)` | the tail: `tail` × `AtomicU64` | |
//!
//! A process that opens the region as another type gets
//! [`ProcessError::LayoutMismatch`] instead of reading garbage.
//!
//! **A size chosen at run time.** `T` is `Sized`, so its size is fixed when the program is
//! built. A region that needs a size chosen when it is created (a byte ring of `n` bytes) keeps
//! its fixed part in `T` and the rest in the *tail*: `n / 8` atomic words after the value, made
//! by [`Shared::with_tail`] and seen through [`Shared::tail`]. The tail is atomics, so every bit
//! pattern is valid and a process that writes garbage there (or races on it) cannot make a
//! reader's access undefined behaviour; its length is in the header, checked against the file's
//! size when the region is opened.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

use super::{ProcessError, Shareable};

/// The header's first word once the region is initialized ("synclab1" in ASCII).
const MAGIC: u64 = u64::from_le_bytes(*b"synclab1");
/// The header's size; the value starts at the first multiple of its alignment from here.
const HEADER: usize = 40;

/// What the header of a region holding a `T` says.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Layout {
    size: u64,
    align: u64,
    type_hash: u64,
}

impl Layout {
    fn of<T>() -> Layout {
        // FNV-1a: a fixed hash, the same in every process (std's hashers are seeded).
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in std::any::type_name::<T>().bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Layout {
            size: size_of::<T>() as u64,
            align: align_of::<T>() as u64,
            type_hash: hash,
        }
    }

    fn describe<T>(&self) -> String {
        format!(
            "{} ({} bytes, align {}, type hash {:#x})",
            std::any::type_name::<T>(),
            self.size,
            self.align,
            self.type_hash
        )
    }
}

/// Where the value starts in a region holding a `T` and `tail` words, where the tail starts,
/// and the region's length; `None` if that does not fit in a `usize`.
fn offsets<T>(tail: usize) -> Option<(usize, usize, usize)> {
    let offset = HEADER.next_multiple_of(align_of::<T>());
    let tail_at = (offset + size_of::<T>()).next_multiple_of(align_of::<AtomicU64>());
    let len = tail
        .checked_mul(size_of::<AtomicU64>())?
        .checked_add(tail_at)?;
    Some((offset, tail_at, len))
}

/// A `T` in shared memory: every process that maps the region sees the same `T`.
///
/// Create it with [`Shared::new`] and hand it to children with
/// [`Command::share`](super::Command::share) (they get it with [`Shared::inherited`]), or
/// create it by name with [`Shared::create_named`] for processes that are not related. It
/// derefs to `&T`: put process primitives in it ([`Lock`](super::Lock),
/// [`Queue`](super::Queue), ...) or atomics, alone or in a tuple or a `#[repr(C)]` struct.
///
/// The value is never dropped (it may still be in use by another process); the mapping is
/// removed when this handle is dropped, the memory when the last process unmaps it.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
/// use synclab::process::{Lock, Shared};
///
/// # fn main() -> Result<(), synclab::process::ProcessError> {
/// # if cfg!(not(target_os = "linux")) { return Ok(()); }
/// let state = Shared::new((AtomicU64::new(0), Lock::new([0u8; 32])))?;
/// state.0.fetch_add(1, Relaxed);
/// state.1.lock().unwrap()[0] = 7;
/// assert_eq!(state.0.load(Relaxed), 1);
/// # Ok(()) }
/// ```
pub struct Shared<T: Shareable> {
    /// The start of the mapping (the header).
    base: NonNull<u8>,
    /// The region's file descriptor (memfd or shm), close-on-exec; `-1` if none.
    fd: i32,
    /// How many `AtomicU64` follow the value (the header's `tail`).
    tail: usize,
    _value: PhantomData<T>,
}

// SAFETY: the handle gives only `&T`, and `T: Shareable` is `Sync`; the mapping and the fd may
// be used and released from any thread.
unsafe impl<T: Shareable> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T: Shareable> Sync for Shared<T> {}

impl<T: Shareable> Shared<T> {
    /// Puts `value` in a new anonymous region (`memfd_create`), to hand to children.
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// let counter = synclab::process::Shared::new(std::sync::atomic::AtomicU32::new(5)).unwrap();
    /// assert_eq!(counter.load(std::sync::atomic::Ordering::Relaxed), 5);
    /// # }
    /// ```
    pub fn new(value: T) -> Result<Shared<T>, ProcessError> {
        Shared::with_tail(value, 0)
    }

    /// Like [`new`](Shared::new), with `words` atomic 64-bit words after the value, all zero:
    /// a region whose size is chosen at run time (the value holds what is fixed, the tail the
    /// rest; see the module docs). Every process that opens the region sees the same tail.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    /// # if cfg!(target_os = "linux") {
    /// let words = 1000; // chosen at run time
    /// let r = synclab::process::Shared::with_tail(AtomicU32::new(0), words).unwrap();
    /// assert_eq!(r.tail().len(), 1000);
    /// r.tail()[999].store(7, Relaxed);
    /// assert_eq!(r.tail()[999].load(Relaxed), 7);
    /// # }
    /// ```
    pub fn with_tail(value: T, words: usize) -> Result<Shared<T>, ProcessError> {
        sys::anonymous().and_then(|fd| Shared::init(fd, value, words))
    }

    /// The tail: the 64-bit words after the value ([`with_tail`](Shared::with_tail)); empty
    /// for a region made by [`new`](Shared::new) or [`create_named`](Shared::create_named).
    ///
    /// ```
    /// # if cfg!(target_os = "linux") {
    /// assert!(synclab::process::Shared::new(0u64).unwrap().tail().is_empty());
    /// # }
    /// ```
    pub fn tail(&self) -> &[AtomicU64] {
        let (_, tail_at, _) = offsets::<T>(self.tail).expect("checked when mapped");
        // SAFETY: the mapping holds `self.tail` words from `tail_at` (sized so by `init`, or
        // checked against the file's size by `open`), 8-aligned (page-aligned mapping, aligned
        // offset), zeroed or written only atomically; it lives as long as `self`.
        unsafe {
            std::slice::from_raw_parts(
                self.base.as_ptr().add(tail_at).cast::<AtomicU64>(),
                self.tail,
            )
        }
    }

    /// Puts `value` in a new region named `name` (`/dev/shm/<name>` on Linux) that unrelated
    /// processes can [`open_named`](Shared::open_named). Fails if the name exists; the region
    /// lives until [`unlink_named`](Shared::unlink_named) (or a reboot).
    ///
    /// ```
    /// use synclab::process::{Event, Shared};
    /// # if cfg!(target_os = "linux") {
    /// let name = format!("synclab-doc-{}", std::process::id());
    /// let a = Shared::create_named(&name, Event::new()).unwrap();
    /// let b = Shared::<Event>::open_named(&name).unwrap(); // e.g. in another program
    /// a.set();
    /// assert!(b.is_set());
    /// Shared::<Event>::unlink_named(&name).unwrap();
    /// # }
    /// ```
    pub fn create_named(name: &str, value: T) -> Result<Shared<T>, ProcessError> {
        sys::shm_open(name, true).and_then(|fd| Shared::init(fd, value, 0))
    }

    /// Opens the region `name` that another process created as a `Shared<T>`.
    /// [`ProcessError::LayoutMismatch`] if it holds another type (or is not initialized yet).
    ///
    /// ```
    /// use synclab::process::{ProcessError, Shared};
    /// # if cfg!(target_os = "linux") {
    /// let r = Shared::<u64>::open_named("synclab-no-such-region");
    /// assert!(matches!(r, Err(ProcessError::Io(_))));
    /// # }
    /// ```
    pub fn open_named(name: &str) -> Result<Shared<T>, ProcessError> {
        sys::shm_open(name, false).and_then(Shared::open)
    }

    /// Removes the name (`shm_unlink`); processes that have it mapped keep their mapping.
    ///
    /// ```
    /// use synclab::process::Shared;
    /// # if cfg!(target_os = "linux") {
    /// assert!(Shared::<u8>::unlink_named("synclab-no-such-region").is_err());
    /// # }
    /// ```
    pub fn unlink_named(name: &str) -> Result<(), ProcessError> {
        sys::shm_unlink(name)
    }

    /// In a child started by [`Command`](super::Command), the `index`-th region the parent
    /// [`share`](super::Command::share)d (0 for the first).
    ///
    /// ```
    /// use synclab::process::{ProcessError, Shared};
    /// // Not started by process::Command: nothing to inherit.
    /// assert!(matches!(
    ///     Shared::<u64>::inherited(0),
    ///     Err(ProcessError::NotInherited { .. } | ProcessError::Unsupported)
    /// ));
    /// ```
    pub fn inherited(index: usize) -> Result<Shared<T>, ProcessError> {
        let fd = super::command::inherited_fd(index)?;
        sys::dup(fd).and_then(Shared::open)
    }

    /// The region's file descriptor (for [`Command::share`](super::Command::share)).
    pub(super) fn fd(&self) -> i32 {
        self.fd
    }

    /// Sizes the new region, maps it, moves `value` in and writes the header.
    fn init(fd: i32, value: T, tail: usize) -> Result<Shared<T>, ProcessError> {
        let Some((offset, _, len)) = offsets::<T>(tail) else {
            sys::close(fd);
            return Err(ProcessError::Io(std::io::ErrorKind::OutOfMemory.into()));
        };
        let base = sys::map(fd, len, true).inspect_err(|_| sys::close(fd))?;
        let shared = Shared::<T> {
            base,
            fd,
            tail,
            _value: PhantomData,
        };
        let layout = Layout::of::<T>();
        let header = shared.header();
        // SAFETY: a fresh, page-aligned mapping of `len` bytes (trusted by nobody before `magic`
        // is set): `T`'s offset and the u64 header words are aligned; the tail stays zero.
        unsafe {
            base.as_ptr().add(offset).cast::<T>().write(value);
            header.add(1).write(layout.size);
            header.add(2).write(layout.align);
            header.add(3).write(layout.type_hash);
            header.add(4).write(tail as u64);
        }
        // Release: the value and the header are in place before anyone sees the magic.
        shared
            .magic()
            .store(MAGIC, std::sync::atomic::Ordering::Release);
        Ok(shared)
    }

    /// Maps an existing region and checks its header.
    fn open(fd: i32) -> Result<Shared<T>, ProcessError> {
        let (_, _, len) = offsets::<T>(0).expect("a Sized value fits");
        let expected = Layout::of::<T>();
        let mismatch = |found: String| ProcessError::LayoutMismatch {
            expected: expected.describe::<T>(),
            found,
        };
        let size = sys::size(fd)?;
        if size < len {
            sys::close(fd);
            return Err(mismatch(format!("a region of {size} bytes")));
        }
        let mut shared = Shared::<T> {
            base: sys::map(fd, len, false).inspect_err(|_| sys::close(fd))?,
            fd,
            tail: 0,
            _value: PhantomData,
        };
        // Acquire: pairs with the Release store of the magic in `init`.
        if shared.magic().load(std::sync::atomic::Ordering::Acquire) != MAGIC {
            return Err(mismatch("a region not initialized (yet)".into()));
        }
        let header = shared.header();
        // SAFETY: the region is at least `len` > 40 bytes, its header is initialized (magic)
        // and aligned (page-aligned mapping), and nobody writes it after `init`.
        let (found, tail) = unsafe {
            let found = Layout {
                size: header.add(1).read(),
                align: header.add(2).read(),
                type_hash: header.add(3).read(),
            };
            (found, header.add(4).read())
        };
        if found != expected {
            return Err(mismatch(found.describe::<T>().replacen(
                std::any::type_name::<T>(),
                "a type",
                1,
            )));
        }
        // The tail's length comes from the file: a garbage header cannot make us map (or read)
        // past its end.
        let full = usize::try_from(tail)
            .ok()
            .and_then(|t| Some((t, offsets::<T>(t)?.2)));
        match full {
            Some((0, _)) => {}
            Some((tail, full_len)) if full_len <= size => {
                let base = sys::map(fd, full_len, false)?; // dropping `shared` closes fd
                sys::unmap(std::mem::replace(&mut shared.base, base), len);
                shared.tail = tail;
            }
            _ => {
                return Err(mismatch(format!(
                    "a region of {size} bytes whose header claims {tail} more words"
                )));
            }
        }
        Ok(shared)
    }

    fn header(&self) -> *mut u64 {
        self.base.as_ptr().cast::<u64>()
    }

    fn magic(&self) -> &std::sync::atomic::AtomicU64 {
        // SAFETY: the first 8 bytes of the mapping are the magic word, aligned, accessed only
        // atomically (after `init`'s plain writes of the other fields), for as long as `self`.
        unsafe { std::sync::atomic::AtomicU64::from_ptr(self.header()) }
    }
}

impl<T: Shareable> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        let (offset, _, _) = offsets::<T>(0).expect("a Sized value fits");
        // SAFETY: `init` wrote a `T` at `offset` (or `open` checked that the creator did, for
        // this very type); it is only ever accessed through `&T` (T: Sync); the mapping lives
        // as long as `self`.
        unsafe { &*self.base.as_ptr().add(offset).cast::<T>() }
    }
}

impl<T: Shareable> Drop for Shared<T> {
    fn drop(&mut self) {
        let (_, _, len) = offsets::<T>(self.tail).expect("checked when mapped");
        sys::unmap(self.base, len);
        sys::close(self.fd);
    }
}

impl<T: Shareable + fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Shared").field(&**self).finish()
    }
}

#[cfg(target_os = "linux")]
#[path = "shared_linux.rs"]
mod sys;

#[cfg(not(target_os = "linux"))]
mod sys {
    //! Everywhere but Linux: no shared regions.
    use super::ProcessError;
    use std::ptr::NonNull;

    pub(super) fn anonymous() -> Result<i32, ProcessError> {
        Err(ProcessError::Unsupported)
    }
    pub(super) fn shm_open(_: &str, _: bool) -> Result<i32, ProcessError> {
        Err(ProcessError::Unsupported)
    }
    pub(super) fn shm_unlink(_: &str) -> Result<(), ProcessError> {
        Err(ProcessError::Unsupported)
    }
    pub(super) fn dup(_: i32) -> Result<i32, ProcessError> {
        Err(ProcessError::Unsupported)
    }
    pub(super) fn size(_: i32) -> Result<usize, ProcessError> {
        Err(ProcessError::Unsupported)
    }
    pub(super) fn map(_: i32, _: usize, _: bool) -> Result<NonNull<u8>, ProcessError> {
        Err(ProcessError::Unsupported)
    }
    pub(super) fn unmap(_: NonNull<u8>, _: usize) {}
    pub(super) fn close(_: i32) {}
}
