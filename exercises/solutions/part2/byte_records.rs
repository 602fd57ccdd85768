//! # Exercise `byte_records` — Part II, "Messages across processes"
//!
//! A ring of 64-bit words that carries messages of any length: each message is a *record*, one
//! length word and then its bytes, eight to a word (little-endian, the last word zero-padded).
//! A record may wrap from the last word to the first. As in `ring_slots`, a process may die at
//! any instruction while it holds the lock, so write `put_with` and `get_with` so that a death
//! leaves **no torn message** and **no lost word**: write (or read) the whole record first, and
//! make it visible (or free) with **one** store of the commit word `state`, last.
//!
//! And another process may write garbage into the ring. A length word that claims more bytes
//! than the committed words hold is `Err(Corrupt(word))`, never a copy past the record.
//!
//! After each word written or read, `put_with` and `get_with` call `step()`: a point where the
//! process could die. The tests die there (with a panic) and check what the next user finds.
//!
//! Check your work: `cargo xtask check byte_records`

/// `Err(Full)`: no room for the record now.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

/// Why `get` took nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum GetError {
    /// No committed record.
    Empty,
    /// The record's length word (here) is garbage: it claims more than the committed words.
    Corrupt(u64),
}

/// The words a message of `len` bytes takes: its length word and its bytes.
pub fn record_words(len: usize) -> usize {
    1 + len.div_ceil(8)
}

/// A ring of `N` words. `state` is the commit word: `head << 32 | used`, where `head` is the
/// word where the oldest record starts and `used` how many words the committed records take.
#[repr(C)]
pub struct ByteRing<const N: usize> {
    state: u64,
    words: [u64; N],
}

impl<const N: usize> ByteRing<N> {
    /// An empty ring.
    pub const fn new() -> Self {
        ByteRing {
            state: 0,
            words: [0; N],
        }
    }

    /// `(head, used)`, from the commit word.
    fn head_used(&self) -> (usize, usize) {
        (
            (self.state >> 32) as usize,
            (self.state & 0xffff_ffff) as usize,
        )
    }

    /// The commit: one store.
    fn commit(&mut self, head: usize, used: usize) {
        self.state = ((head as u64) << 32) | used as u64;
    }

    /// The words the committed records take.
    pub fn used(&self) -> usize {
        self.head_used().1
    }

    /// Appends `msg` as one record, calling `step()` after each word written; `Err(Full)` when
    /// the free words cannot hold it.
    pub fn put_with(&mut self, msg: &[u8], mut step: impl FnMut()) -> Result<(), Full> {
        let (head, used) = self.head_used();
        let need = record_words(msg.len());
        if N - used < need {
            return Err(Full);
        }
        let at = head + used;
        self.words[at % N] = msg.len() as u64;
        step();
        for (i, chunk) in msg.chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.words[(at + 1 + i) % N] = u64::from_le_bytes(word);
            step();
        }
        self.commit(head, used + need);
        Ok(())
    }

    /// Takes the oldest record, calling `step()` after each word read.
    pub fn get_with(&mut self, mut step: impl FnMut()) -> Result<Vec<u8>, GetError> {
        let (head, used) = self.head_used();
        if used == 0 {
            return Err(GetError::Empty);
        }
        let first = self.words[head % N];
        if first > (used as u64 - 1) * 8 {
            return Err(GetError::Corrupt(first));
        }
        step();
        let len = first as usize;
        let need = record_words(len);
        let mut out = Vec::with_capacity(len);
        for i in 0..need - 1 {
            let word = self.words[(head + 1 + i) % N].to_le_bytes();
            out.extend_from_slice(&word[..(len - 8 * i).min(8)]);
            step();
        }
        self.commit((head + need) % N, used - need);
        Ok(out)
    }

    /// `put_with` without death points.
    pub fn put(&mut self, msg: &[u8]) -> Result<(), Full> {
        self.put_with(msg, || {})
    }

    /// `get_with` without death points.
    pub fn get(&mut self) -> Result<Vec<u8>, GetError> {
        self.get_with(|| {})
    }
}

impl<const N: usize> Default for ByteRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use synclab::Lock;

    /// Message `n`: `n % 30` bytes that depend on `n`, after `n` itself; a torn one shows.
    fn msg(n: u32) -> Vec<u8> {
        let mut m = n.to_le_bytes().to_vec();
        m.extend((0..n % 30).map(|i| (n as u8).wrapping_mul(7) ^ i as u8));
        m
    }

    fn whole(m: &[u8]) -> Option<u32> {
        let n = u32::from_le_bytes(m.get(..4)?.try_into().ok()?);
        (m == msg(n)).then_some(n)
    }

    /// Runs `f`, which dies (panics, our SIGKILL) at one of its steps.
    fn dies<R>(f: impl FnOnce() -> R) {
        let r = catch_unwind(AssertUnwindSafe(f));
        assert!(r.is_err(), "the operation should have died at its step");
    }

    /// A `step` that kills the operation at step `k` (0 = after the first word).
    fn killer(k: usize) -> impl FnMut() {
        let mut n = 0;
        move || {
            if n == k {
                panic!("killed");
            }
            n += 1;
        }
    }

    #[test]
    fn records_of_every_length_wrap_around() {
        let mut ring = ByteRing::<9>::new();
        for n in 0..200 {
            ring.put(&msg(n)).unwrap();
            if n % 4 == 0 {
                let _ = ring.put(&msg(n + 1000)); // a second one when it fits
            }
            assert_eq!(ring.get().map(|m| whole(&m)), Ok(Some(n)), "message {n}");
            while ring.get().is_ok() {}
            assert_eq!(ring.used(), 0, "every word free again after message {n}");
        }
        assert_eq!(ring.get(), Err(GetError::Empty));
        assert_eq!(ring.put(&[0; 65]), Err(Full)); // 1 + 9 words: never fits
        ring.put(&[7; 64]).unwrap(); // 1 + 8: the whole ring
        assert_eq!(ring.get(), Ok(vec![7; 64]));
    }

    #[test]
    fn a_writer_killed_mid_put_tears_nothing_and_loses_no_word() {
        let m = msg(29); // 33 bytes: a length word and 5 data words, 6 steps
        for k in 0..record_words(m.len()) {
            let mut ring = ByteRing::<16>::new();
            ring.put(&msg(1)).unwrap();
            dies(|| ring.put_with(&m, killer(k)));
            assert_eq!(
                ring.used(),
                2,
                "killed after word {k}: the half record counts"
            );
            ring.put(&msg(2)).unwrap();
            assert_eq!(ring.get().map(|m| whole(&m)), Ok(Some(1)));
            assert_eq!(ring.get().map(|m| whole(&m)), Ok(Some(2)), "after word {k}");
            ring.put(&[1; 120]).unwrap(); // all 16 words usable
            assert_eq!(ring.get(), Ok(vec![1; 120]));
        }
    }

    #[test]
    fn a_reader_killed_mid_get_loses_nothing() {
        let m = msg(29);
        for k in 0..record_words(m.len()) {
            let mut ring = ByteRing::<16>::new();
            ring.put(&m).unwrap();
            ring.put(&msg(3)).unwrap();
            dies(|| ring.get_with(killer(k)));
            assert_eq!(ring.get(), Ok(m.clone()), "killed after word {k}: lost");
            assert_eq!(ring.get().map(|m| whole(&m)), Ok(Some(3)));
        }
    }

    #[test]
    fn a_garbage_length_word_is_an_error_not_a_long_copy() {
        let mut ring = ByteRing::<8>::new();
        ring.put(b"hello").unwrap(); // 2 words
        for garbage in [9, 1000, u64::MAX] {
            ring.words[0] = garbage; // what a misbehaving process could write
            assert_eq!(ring.get(), Err(GetError::Corrupt(garbage)));
            assert_eq!(ring.used(), 2, "nothing taken");
        }
        ring.words[0] = 5;
        assert_eq!(ring.get(), Ok(b"hello".to_vec()));
    }

    #[test]
    fn dying_writers_under_a_lock() {
        // Threads share the ring under a Lock (released when a holder "dies"); some puts die
        // half-way. Every message that was put comes out once and whole.
        let per = common::scaled(2_000) as u32;
        common::guarded("byte_records_dying_writers", |_| {
            let ring = Lock::new(ByteRing::<32>::new());
            let mut seen = Vec::new();
            std::thread::scope(|s| {
                for w in 0..2u32 {
                    let ring = &ring;
                    s.spawn(move || {
                        for i in 0..per {
                            let n = w * per + i;
                            loop {
                                let mut r = ring.lock();
                                if i % 7 == 3 {
                                    // This put dies after its first data word: not committed.
                                    let _ = catch_unwind(AssertUnwindSafe(|| {
                                        r.put_with(&msg(u32::MAX - n), killer(1))
                                    }));
                                }
                                if r.put(&msg(n)).is_ok() {
                                    break;
                                }
                                drop(r);
                                std::thread::yield_now();
                            }
                        }
                    });
                }
                while seen.len() < 2 * per as usize {
                    let got = ring.lock().get();
                    match got {
                        Ok(m) => seen.push(whole(&m).expect("a torn message")),
                        Err(e) => {
                            assert_eq!(e, GetError::Empty);
                            std::thread::yield_now();
                        }
                    }
                }
            });
            seen.sort_unstable();
            assert_eq!(seen, (0..2 * per).collect::<Vec<_>>());
        });
    }
}
