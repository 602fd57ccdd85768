//! Linux: the system calls behind [`Shared`](super::Shared).

use std::ffi::CString;
use std::io;
use std::ptr::{self, NonNull};

use super::ProcessError;

fn last_error() -> ProcessError {
    ProcessError::Io(io::Error::last_os_error())
}

// ANCHOR: map
/// A new anonymous in-memory file, close-on-exec (a child gets it only through
/// `Command::share`, which clears the flag in that child alone).
pub(super) fn anonymous() -> Result<i32, ProcessError> {
    // SAFETY: the name is a NUL-terminated C string literal; the flags are valid.
    let fd = unsafe { libc::memfd_create(c"synclab".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 { Err(last_error()) } else { Ok(fd) }
}

/// Maps `len` bytes of `fd`, readable and writable, shared with every other mapping of the
/// same file. `create`: first size the file to `len` (its new bytes read as zero).
pub(super) fn map(fd: i32, len: usize, create: bool) -> Result<NonNull<u8>, ProcessError> {
    if create {
        let size =
            libc::off_t::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: `fd` is an open file descriptor we own; ftruncate only sets its size.
        if unsafe { libc::ftruncate(fd, size) } != 0 {
            return Err(last_error());
        }
    }
    // SAFETY: a new mapping at an address the kernel chooses (null hint), so it overlaps
    // nothing of ours; `fd` is open and at least `len` bytes long (sized above, or checked by
    // the caller).
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(last_error());
    }
    NonNull::new(p.cast::<u8>()).ok_or_else(last_error)
}
// ANCHOR_END: map

pub(super) fn unmap(base: NonNull<u8>, len: usize) {
    // SAFETY: `base`/`len` describe a mapping made by `map` that nobody uses any more (its
    // `Shared` is being dropped, and references into it cannot outlive the `Shared`).
    let r = unsafe { libc::munmap(base.as_ptr().cast(), len) };
    debug_assert_eq!(r, 0);
}

pub(super) fn close(fd: i32) {
    if fd >= 0 {
        // SAFETY: `fd` is owned by the `Shared` being dropped (or by a failed constructor);
        // nobody else closes it.
        unsafe { libc::close(fd) };
    }
}

/// A close-on-exec copy of an inherited descriptor, owned by the new `Shared`.
pub(super) fn dup(fd: i32) -> Result<i32, ProcessError> {
    // SAFETY: F_DUPFD_CLOEXEC only creates a new descriptor; an invalid `fd` gives EBADF.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new < 0 { Err(last_error()) } else { Ok(new) }
}

/// The size of the file behind `fd`.
pub(super) fn size(fd: i32) -> Result<usize, ProcessError> {
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid, writable stat buffer; an invalid `fd` gives EBADF.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(last_error());
    }
    Ok(usize::try_from(st.st_size).unwrap_or(0))
}

/// `name` as a POSIX shared-memory object name: `/name`, checked.
fn shm_name(name: &str) -> Result<CString, ProcessError> {
    let invalid = || ProcessError::InvalidName { name: name.into() };
    if name.is_empty() || name.len() > 200 || name.contains('/') {
        return Err(invalid());
    }
    CString::new(format!("/{name}")).map_err(|_| invalid())
}

/// Opens (or, with `create`, exclusively creates) the named region, close-on-exec.
pub(super) fn shm_open(name: &str, create: bool) -> Result<i32, ProcessError> {
    let cname = shm_name(name)?;
    let flags = libc::O_RDWR
        | libc::O_CLOEXEC
        | if create {
            libc::O_CREAT | libc::O_EXCL
        } else {
            0
        };
    // SAFETY: `cname` is a valid C string; the mode is only used with O_CREAT.
    let fd = unsafe { libc::shm_open(cname.as_ptr(), flags, 0o600 as libc::mode_t) };
    if fd < 0 { Err(last_error()) } else { Ok(fd) }
}

pub(super) fn shm_unlink(name: &str) -> Result<(), ProcessError> {
    let cname = shm_name(name)?;
    // SAFETY: `cname` is a valid C string.
    if unsafe { libc::shm_unlink(cname.as_ptr()) } != 0 {
        return Err(last_error());
    }
    Ok(())
}
