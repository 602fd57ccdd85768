//! The byte ring behind a [`ByteQueue`](super::ByteQueue): variable-size messages as
//! length-prefixed records in a ring of 64-bit words, kill-safe by one commit store.
//!
//! The ring's fixed part ([`MessageRing`]) lives in the value of a
//! [`Shared`](super::Shared) region; its words are the region's tail, `cap` of them, chosen at
//! run time. A record is one length word and then the message's bytes, eight to a word
//! (little-endian, the last word zero-padded); a record may wrap from the last word to the
//! first, so no space is ever skipped.
//!
//! | word | values | meaning |
//! |---|---|---|
//! | `state` | `head << 32 \| used` (`head < cap`, `used ≤ cap`) | where the oldest record starts, and how many words the committed records take: **the commit word** |
//! | a record's first word | `!len << 32 \| len` | the message's length in bytes, with its complement as a check |
//! | `getters`, `putters` | `registered`, `claimed` | who may sleep on `not_empty` / `not_full` (table at `Sleepers`) |
//! | `shut` | `0` or `1` | shut down |
//! | `unfinished` | `0..` | messages put and not yet marked [`task_done`](super::ByteQueue::task_done) |
//! | `joiners` | `0..` | processes that may sleep on `all_done` |
//! | `not_empty`, `not_full`, `all_done` | wrap | bumped by put / get / the last `task_done` (and `shutdown`); the futex words |
//!
//! Everything but the futex words is read and written under the ring's process [`Lock`].
//!
//! **Killed in the middle.** A put writes the whole record into the free words and only then
//! stores `state` (Release, one 64-bit store); a get copies the record out and then stores
//! `state`. Before that store nothing anyone can see has changed: the half-written words are
//! outside `head..head+used` and the next put overwrites them; after it, the operation is whole.
//! So whoever takes the lock over from a dead holder ([`OwnerDied`]) goes on without repair:
//! no torn message, no lost word.
//!
//! **Garbage.** A misbehaving process can write anything into the region. Every word access is
//! `words[i % cap]` on a slice of atomics (no raw pointer, so no out-of-bounds access, no data
//! race); the commit word is checked (`head < cap`, `used ≤ cap`) and a record's length word
//! against its complement and against `used` before they are believed, and a check that fails is
//! [`GetMessageError::Corrupt`] / [`PutMessageError::Corrupt`], never a wrong-length copy.

use std::sync::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{Relaxed, Release},
};
use std::time::Instant;

use super::ring::{Patience, STALL_IN_PUT, Sleepers, snooze_while};
use super::{GetMessageError, Lock, LockGuard, OwnerDied, PutMessageError, Shareable, sys};
use crate::TaskDoneError;

/// The most words a ring may have: every length fits in the record's 32-bit length field, and
/// `head` and `used` in their halves of the commit word.
pub(super) const MAX_WORDS: usize = (u32::MAX as usize) / 8;

/// The words a message of `len` bytes takes: its length word and its bytes.
pub(super) fn record_words(len: usize) -> usize {
    1 + len.div_ceil(8)
}

/// The largest message a ring of `cap` words takes.
pub(super) fn max_message(cap: usize) -> usize {
    cap.saturating_sub(1) * 8
}

/// What is under the lock.
#[repr(C)]
pub(super) struct RingState {
    /// `head << 32 | used`, stored last by every put and get (the commit).
    state: AtomicU64,
    pub(super) getters: Sleepers,
    pub(super) putters: Sleepers,
    shut: u32,
    joiners: u32,
    unfinished: u64,
}

// SAFETY: integers and atomics only (every bit pattern valid), repr(C), no Drop.
unsafe impl Shareable for RingState {}

/// The fixed part of a message ring: the lock, the state under it, and the futex words.
#[repr(C)]
pub struct MessageRing {
    pub(super) ring: Lock<RingState>,
    not_empty: AtomicU32,
    not_full: AtomicU32,
    all_done: AtomicU32,
}

// SAFETY: a process lock over plain integers, and atomics: every bit pattern valid, no Drop.
unsafe impl Shareable for MessageRing {}

impl RingState {
    /// The commit word, checked against the ring's size.
    fn head_used(&self, cap: usize) -> Result<(usize, usize), u64> {
        // Relaxed: we hold the lock, whose Acquire ordered this load after the last commit.
        let s = self.state.load(Relaxed);
        let (head, used) = ((s >> 32) as usize, (s & 0xffff_ffff) as usize);
        if head < cap && used <= cap {
            Ok((head, used))
        } else {
            Err(s)
        }
    }

    fn commit(&self, head: usize, used: usize) {
        // Release: the word writes/reads before it cannot move after it, so a process that takes
        // the lock over from us after a SIGKILL sees either the whole record or none of it.
        self.state
            .store(((head as u64) << 32) | used as u64, Release);
    }
}

// ANCHOR: record
/// Writes the record of `msg` at word `at` (mod `cap`): the length word, then the bytes.
fn write_record(words: &[AtomicU64], at: usize, msg: &[u8], stall: bool) {
    let cap = words.len();
    let len = msg.len() as u32;
    words[at % cap].store((u64::from(!len) << 32) | u64::from(len), Relaxed);
    let mut chunks = msg.chunks(8);
    let count = chunks.len();
    for (i, chunk) in chunks.by_ref().enumerate() {
        if stall && i >= count / 2 {
            hang(); // the tests' kill point: half a record written, not committed
        }
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        words[(at + 1 + i) % cap].store(u64::from_le_bytes(word), Relaxed);
    }
    if stall {
        hang();
    }
}

/// Checks the length word of the record at `head` (of `used` committed words) and copies the
/// message into `out`; returns the words the record takes.
fn read_record(
    words: &[AtomicU64],
    head: usize,
    used: usize,
    out: &mut Vec<u8>,
) -> Result<usize, GetMessageError> {
    let cap = words.len();
    let first = words[head].load(Relaxed);
    let len = first as u32;
    let need = record_words(len as usize);
    if (first >> 32) as u32 != !len || need > used {
        return Err(GetMessageError::Corrupt {
            what: "a record's length word",
            word: first,
        });
    }
    out.clear();
    out.reserve(len as usize);
    for i in 0..need - 1 {
        let word = words[(head + 1 + i) % cap].load(Relaxed).to_le_bytes();
        let take = (len as usize - 8 * i).min(8);
        out.extend_from_slice(&word[..take]);
    }
    Ok(need)
}
// ANCHOR_END: record

#[cold]
fn hang() -> ! {
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

impl MessageRing {
    /// An empty ring's fixed part (its words are all zero, or unused until written).
    pub(super) const fn new() -> MessageRing {
        MessageRing {
            ring: Lock::new(RingState {
                state: AtomicU64::new(0),
                getters: Sleepers::new(),
                putters: Sleepers::new(),
                shut: 0,
                joiners: 0,
                unfinished: 0,
            }),
            not_empty: AtomicU32::new(0),
            not_full: AtomicU32::new(0),
            all_done: AtomicU32::new(0),
        }
    }

    /// Locks the ring. A holder that died left it consistent (module docs): no repair needed.
    pub(super) fn lock(&self) -> LockGuard<'_, RingState> {
        self.ring.lock().unwrap_or_else(OwnerDied::into_inner)
    }

    // ANCHOR: put
    pub(super) fn put_with<M: AsRef<[u8]>>(
        &self,
        words: &[AtomicU64],
        msg: M,
        patience: Patience,
    ) -> Result<(), PutMessageError<M>> {
        let cap = words.len();
        let need = record_words(msg.as_ref().len());
        if need > cap {
            let max = max_message(cap);
            return Err(PutMessageError::TooLarge { message: msg, max });
        }
        let (mut registered, mut snoozed) = (false, false);
        loop {
            let mut ring = self.lock();
            if std::mem::take(&mut registered) {
                ring.putters.leave();
            }
            if ring.shut != 0 {
                return Err(PutMessageError::ShutDown(msg));
            }
            let Ok((head, used)) = ring.head_used(cap) else {
                return Err(PutMessageError::Corrupt(msg));
            };
            if cap - used >= need {
                let stall = STALL_IN_PUT.load(Relaxed);
                write_record(words, head + used, msg.as_ref(), stall);
                ring.commit(head, used + need); // the message becomes visible here, all at once
                ring.unfinished += 1;
                self.not_empty.fetch_add(1, Relaxed); // Relaxed: getters read it under the lock
                let wake = ring.getters.claim();
                drop(ring);
                if wake {
                    sys::wake_one(&self.not_empty);
                }
                return Ok(());
            }
            if patience.expired() {
                return Err(match patience {
                    Patience::None => PutMessageError::Full(msg),
                    Patience::Until(_) => PutMessageError::Timeout(msg),
                });
            }
            let seen = self.not_full.load(Relaxed);
            if !std::mem::replace(&mut snoozed, true) {
                drop(ring);
                snooze_while(&self.not_full, seen); // then look again, under the lock
                continue;
            }
            ring.putters.register();
            registered = true;
            drop(ring);
            sys::wait(&self.not_full, seen, patience.next_wake());
        }
    }
    // ANCHOR_END: put

    // ANCHOR: get
    pub(super) fn get_with(
        &self,
        words: &[AtomicU64],
        out: &mut Vec<u8>,
        patience: Patience,
    ) -> Result<(), GetMessageError> {
        let cap = words.len();
        let (mut registered, mut snoozed) = (false, false);
        loop {
            let mut ring = self.lock();
            if std::mem::take(&mut registered) {
                ring.getters.leave();
            }
            let (head, used) = ring
                .head_used(cap)
                .map_err(|word| GetMessageError::Corrupt {
                    what: "the commit word",
                    word,
                })?;
            if used > 0 {
                let need = read_record(words, head, used, out)?;
                ring.commit((head + need) % cap, used - need); // the words are free from here
                self.not_full.fetch_add(1, Relaxed); // Relaxed: read under the lock
                let wake = ring.putters.claim();
                drop(ring);
                if wake {
                    sys::wake_one(&self.not_full);
                }
                return Ok(());
            }
            if ring.shut != 0 {
                return Err(GetMessageError::ShutDown);
            }
            if patience.expired() {
                return Err(match patience {
                    Patience::None => GetMessageError::Empty,
                    Patience::Until(_) => GetMessageError::Timeout,
                });
            }
            let seen = self.not_empty.load(Relaxed);
            if !std::mem::replace(&mut snoozed, true) {
                drop(ring);
                snooze_while(&self.not_empty, seen); // then look again, under the lock
                continue;
            }
            ring.getters.register();
            registered = true;
            drop(ring);
            sys::wait(&self.not_empty, seen, patience.next_wake());
        }
    }
    // ANCHOR_END: get

    /// For `wait_any`: `None` if a `get` would not block now (a message, shut down, or a
    /// corrupt commit word, which `get` reports at once); else registers as a getter and
    /// returns the word to sleep on (as `process::Queue::arm_get`).
    pub(super) fn arm_get(&self, cap: usize) -> Option<(&AtomicU32, u32)> {
        let mut ring = self.lock();
        if ring.head_used(cap).map_or(true, |(_, used)| used > 0) || ring.shut != 0 {
            return None;
        }
        let seen = self.not_empty.load(Relaxed); // Relaxed: bumped under the same lock
        ring.getters.register();
        Some((&self.not_empty, seen))
    }

    /// Undoes `arm_get`, passing a wake on if one may have come to us (as
    /// `process::Queue::disarm_get`).
    pub(super) fn disarm_get(&self, cap: usize) {
        let mut ring = self.lock();
        ring.getters.leave();
        let wake = ring.head_used(cap).is_ok_and(|(_, used)| used > 0) && ring.getters.claim();
        if wake {
            self.not_empty.fetch_add(1, Relaxed); // Relaxed: read under the lock
        }
        drop(ring);
        if wake {
            sys::wake_one(&self.not_empty);
        }
    }

    /// How many messages are queued: walks the records (under the lock), up to the first
    /// one whose length word is garbage.
    pub(super) fn len(&self, words: &[AtomicU64]) -> usize {
        let cap = words.len();
        let ring = self.lock();
        let Ok((mut head, mut used)) = ring.head_used(cap) else {
            return 0;
        };
        let mut n = 0;
        while used > 0 {
            let first = words[head].load(Relaxed);
            let need = record_words(first as u32 as usize);
            if (first >> 32) as u32 != !(first as u32) || need > used {
                break;
            }
            (head, used, n) = ((head + need) % cap, used - need, n + 1);
        }
        n
    }

    /// The words the committed records take (a snapshot; `None` if the commit word is garbage).
    pub(super) fn used(&self, cap: usize) -> Option<usize> {
        self.lock().head_used(cap).ok().map(|(_, used)| used)
    }

    pub(super) fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut ring = self.lock();
        if ring.unfinished == 0 {
            return Err(TaskDoneError);
        }
        ring.unfinished -= 1;
        let wake = ring.unfinished == 0 && ring.joiners > 0;
        if ring.unfinished == 0 {
            self.all_done.fetch_add(1, Relaxed); // Relaxed: joiners read it under the lock
        }
        drop(ring);
        if wake {
            sys::wake_all(&self.all_done);
        }
        Ok(())
    }

    /// Waits until every message put was marked done; `false` if `deadline` passed first.
    pub(super) fn join_until(&self, deadline: Option<Instant>) -> bool {
        let patience = Patience::Until(deadline);
        let mut registered = false;
        loop {
            let mut ring = self.lock();
            if std::mem::take(&mut registered) {
                ring.joiners = ring.joiners.saturating_sub(1);
            }
            if ring.unfinished == 0 {
                return true;
            }
            if patience.expired() {
                return false;
            }
            let seen = self.all_done.load(Relaxed);
            ring.joiners += 1;
            registered = true;
            drop(ring);
            sys::wait(&self.all_done, seen, patience.next_wake());
        }
    }

    pub(super) fn shutdown(&self) {
        let mut ring = self.lock();
        ring.shut = 1;
        self.not_empty.fetch_add(1, Relaxed);
        self.not_full.fetch_add(1, Relaxed);
        drop(ring);
        sys::wake_all(&self.not_empty);
        sys::wake_all(&self.not_full);
    }

    pub(super) fn is_shutdown(&self) -> bool {
        self.lock().shut != 0
    }
}

#[cfg(test)]
#[path = "msg_ring_tests.rs"]
mod tests;
