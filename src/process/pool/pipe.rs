//! The pool's pipes: one pair per worker (tasks down, results up), and the supervisor's reader
//! that finds whole frames in what arrives, with a deadline.
//!
//! Pipes, not shared memory, because a pipe tells the supervisor that its worker died: when
//! the last write end closes, which the kernel does for a process however it ends, `read`
//! returns end-of-file. Nothing has to be polled or repaired.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

use super::wire::{self, Garbled};

/// A new pipe `(read end, write end)`, both close-on-exec, so that no other child inherits
/// them; [`Command::pass_fd`](crate::process::Command) hands a copy to the one worker meant
/// to have it.
pub(super) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1; 2];
    // SAFETY: `fds` is a valid array of two ints for the kernel to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `pipe2` succeeded, so both are open descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// What the next frame read brought.
#[derive(Debug)]
pub(super) enum Next {
    /// A whole frame's payload: [`FrameReader::payload`] holds it until the next read.
    Frame,
    /// End of file between frames or inside one: every write end is closed (the worker exited
    /// or was killed).
    Closed,
    /// The deadline passed first.
    TimedOut,
    /// The bytes are not frames.
    Garbled(Garbled),
}

/// Reads frames from a pipe, buffering what arrives so that many small records cost one
/// `read`.
#[derive(Debug)]
pub(super) struct FrameReader {
    file: File,
    /// `buf[start..end]` holds bytes read but not yet returned.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The last frame returned: `buf[frame.0..frame.1]` (its payload).
    frame: (usize, usize),
}

/// The buffer's first size; it grows (doubling) only for a frame larger than it.
const CHUNK: usize = 64 * 1024;

impl FrameReader {
    pub(super) fn new(fd: OwnedFd) -> FrameReader {
        FrameReader {
            file: File::from(fd),
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            frame: (0, 0),
        }
    }

    /// The payload of the frame the last [`next`](FrameReader::next) returned.
    pub(super) fn payload(&self) -> &[u8] {
        &self.buf[self.frame.0..self.frame.1]
    }

    /// Reads until a whole frame is buffered, end of file, or `deadline` (`None`: no limit).
    pub(super) fn next(&mut self, deadline: Option<Instant>) -> io::Result<Next> {
        loop {
            match wire::frame_len(&self.buf[self.start..self.end]) {
                Err(garbled) => return Ok(Next::Garbled(garbled)),
                Ok(Some(len)) => {
                    self.frame = (self.start + 4, self.start + len);
                    self.start += len;
                    return Ok(Next::Frame);
                }
                Ok(None) => {}
            }
            if !wait_readable(&self.file, deadline)? {
                return Ok(Next::TimedOut);
            }
            self.make_room();
            match self.file.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(Next::Closed),
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Moves the unread bytes to the front, and grows the buffer if the frame they start is
    /// larger than it (its length word was checked against `MAX_FRAME` already).
    fn make_room(&mut self) {
        let whole = wire::announced(&self.buf[self.start..self.end]).map_or(0, |len| len + 4);
        if self.end == self.buf.len()
            || self.start == self.end
            || self.start + whole > self.buf.len()
        {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if whole > self.buf.len() {
            self.buf.resize(whole.next_power_of_two(), 0);
        }
    }
}

/// Waits until `file` can be read without blocking (data or end of file): `false` if
/// `deadline` passed first. `None` returns `true` at once (the `read` itself then blocks).
fn wait_readable(file: &File, deadline: Option<Instant>) -> io::Result<bool> {
    let Some(deadline) = deadline else {
        return Ok(true);
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // Rounded up, so that a wait never ends before the deadline; capped at ~24 days per
        // `poll` (the loop waits again).
        let ms = left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
        let mut fd = libc::pollfd {
            fd: file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `fd` is one valid `pollfd`, and the count says one.
        let ready = unsafe { libc::poll(&mut fd, 1, ms) };
        match ready {
            -1 => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            0 if Instant::now() >= deadline => return Ok(false),
            0 => {}
            _ => return Ok(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    #[test]
    #[cfg_attr(miri, ignore)] // pipes and poll are system calls
    fn frames_across_reads_then_end_of_file() {
        let (r, w) = pipe().unwrap();
        let mut w = File::from(w);
        let mut reader = FrameReader::new(r);
        let soon = Some(Instant::now());
        assert!(matches!(reader.next(soon).unwrap(), Next::TimedOut));
        w.write_all(b"\x02\0\0\0ab\x01\0").unwrap();
        assert!(matches!(reader.next(None).unwrap(), Next::Frame));
        assert_eq!(reader.payload(), b"ab");
        let later = Some(Instant::now() + Duration::from_millis(20));
        assert!(matches!(reader.next(later).unwrap(), Next::TimedOut));
        w.write_all(b"\0\0c").unwrap();
        assert!(matches!(reader.next(None).unwrap(), Next::Frame));
        assert_eq!(reader.payload(), b"c");
        w.write_all(b"\x05\0").unwrap();
        drop(w);
        assert!(matches!(reader.next(None).unwrap(), Next::Closed));
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn a_garbage_length_is_refused() {
        let (r, w) = pipe().unwrap();
        File::from(w).write_all(&u32::MAX.to_le_bytes()).unwrap();
        let mut reader = FrameReader::new(r);
        assert!(matches!(
            reader.next(None).unwrap(),
            Next::Garbled(Garbled::TooLong(_))
        ));
    }
}
