//! The result log: where a worker leaves its tasks' records without a system call, kill-safe by
//! one commit store per record, as the message ring is.
//!
//! Each worker has a [`Shared`](crate::process::Shared) region of its own: a commit word, then
//! [`LOG_WORDS`] 64-bit words. During a batch the worker appends each task's record (the
//! payload a pipe frame would carry: its kind byte, then the encoded result or the message) and
//! then stores the commit word; at the end of the batch it writes one `L` frame down its pipe
//! ("the first `n` records of this batch are in the log"). The pipe is still what says the
//! worker died, so the supervisor sleeps in `read` as before, once per batch instead of once per
//! task.
//!
//! | word | values | meaning |
//! |---|---|---|
//! | commit | `batch << 32 \| records` | records `0..records` of batch `batch` are whole; stored last (Release) after each record, and with `records` 0 as the worker starts the batch |
//! | a record's first word | `!len << 32 \| len` | the payload's length in bytes, with its complement as a check |
//! | the next `len.div_ceil(8)` words | bytes | the payload, eight to a word, little-endian, the last word zero-padded |
//!
//! Every batch starts writing at word 0: the supervisor sends a batch only after it has taken
//! every record of the previous one. **A full log** is announced early: the worker writes an
//! `L` frame for what it holds and waits; the supervisor takes those records and answers with
//! an `A` frame down the task pipe; both then go on from word 0, the count of records going on
//! too. A record larger than the whole log goes down the pipe as a frame of its own. The batch
//! number (never 0; a batch sent with number 0 does not use the log) tells a commit word left
//! over from the last batch from one of this batch: a worker killed before it read the batch
//! leaves the old number, and none of the batch's tasks is blamed (its end-of-file raced the
//! batch's `write`: killed between batches).
//!
//! **Killed in the middle.** Before its commit store, a record is outside `0..records`: nobody
//! reads it, and the next batch overwrites it. After the store it is whole (the Release store
//! follows its words; the supervisor's Acquire load precedes its reads). So a worker killed at
//! any instruction leaves exactly the records of the tasks it finished, and the supervisor
//! delivers those, blames the next task, and resends the rest.
//!
//! **Garbage.** A misbehaving worker can write anything here. Every access is to a slice of
//! atomics by a checked index, and a length is believed only if its complement matches and the
//! record fits in the log: anything else is [`Garbled`], never a wrong-length read.

use std::sync::atomic::{
    AtomicU64,
    Ordering::{Acquire, Relaxed, Release},
};

use super::wire::Garbled;

/// The log's words per worker: 256 KiB, of which a batch of small results touches a few pages.
/// A record that does not fit goes down the pipe instead (`child.rs`).
pub(super) const LOG_WORDS: usize = 32 * 1024;

// ANCHOR: append
/// The worker's side, for one batch.
pub(super) struct LogWriter<'a> {
    commit: &'a AtomicU64,
    words: &'a [AtomicU64],
    batch: u32,
    /// The next free word.
    at: usize,
    records: u32,
    /// Records the supervisor has been told of (by an `L` frame).
    announced: u32,
}

impl<'a> LogWriter<'a> {
    /// Starts batch `batch` (not 0) at word 0, and says so: the commit word names the batch
    /// with no record yet, before the worker runs any of its tasks.
    pub(super) fn new(commit: &'a AtomicU64, words: &'a [AtomicU64], batch: u32) -> Self {
        debug_assert_ne!(batch, 0, "batch 0 does not use the log");
        // Relaxed: the store publishes no other word; the supervisor reads it once the
        // worker's end-of-file says that it is dead.
        commit.store(u64::from(batch) << 32, Relaxed);
        LogWriter {
            commit,
            words,
            batch,
            at: 0,
            records: 0,
            announced: 0,
        }
    }

    /// Whether nothing was appended since the batch began or the log was last rotated.
    pub(super) fn is_empty(&self) -> bool {
        self.at == 0
    }

    /// Records committed and not yet announced.
    pub(super) fn unannounced(&self) -> u32 {
        self.records - self.announced
    }

    /// The count for the `L` frame that announces every record committed so far.
    pub(super) fn announce(&mut self) -> u32 {
        self.announced = self.records;
        self.records
    }

    /// Starts again at word 0, once the supervisor has said that it took every record (its
    /// `A` frame). The count goes on.
    pub(super) fn rotate(&mut self) {
        debug_assert_eq!(
            self.records, self.announced,
            "rotated over unannounced records"
        );
        self.at = 0;
    }

    /// Appends one record and commits it; `false` (nothing written) if it does not fit.
    pub(super) fn append(&mut self, payload: &[u8]) -> bool {
        let len = payload.len();
        let words = 1 + len.div_ceil(8);
        if len > u32::MAX as usize || words > self.words.len() - self.at {
            return false;
        }
        // Relaxed: nobody reads these words until the commit store below publishes them.
        self.words[self.at].store(!(len as u64) << 32 | len as u64, Relaxed);
        for (word, chunk) in self.words[self.at + 1..].iter().zip(payload.chunks(8)) {
            let mut bytes = [0; 8];
            bytes[..chunk.len()].copy_from_slice(chunk);
            word.store(u64::from_le_bytes(bytes), Relaxed);
        }
        self.at += words;
        self.records += 1;
        // Release: the record's words above happen before any read that sees this count.
        self.commit.store(
            u64::from(self.batch) << 32 | u64::from(self.records),
            Release,
        );
        true
    }
}
// ANCHOR_END: append

// ANCHOR: take
/// The supervisor's side, for one batch.
pub(super) struct LogReader<'a> {
    commit: &'a AtomicU64,
    words: &'a [AtomicU64],
    batch: u32,
    /// Where the next record starts.
    at: usize,
    taken: u32,
}

impl<'a> LogReader<'a> {
    pub(super) fn new(commit: &'a AtomicU64, words: &'a [AtomicU64], batch: u32) -> Self {
        LogReader {
            commit,
            words,
            batch,
            at: 0,
            taken: 0,
        }
    }

    /// Records taken so far in this batch.
    pub(super) fn taken(&self) -> u32 {
        self.taken
    }

    /// Reads from word 0 again: the worker is told (an `A` frame) that every record was taken.
    pub(super) fn rotate(&mut self) {
        self.at = 0;
    }

    /// Whether the worker has started this batch (read it and named it in the commit word).
    /// A worker that died before that ran none of its tasks.
    pub(super) fn started(&self) -> bool {
        // Acquire: as in `committed`.
        (self.commit.load(Acquire) >> 32) as u32 == self.batch
    }

    /// How many records of this batch the worker has committed (0 while the commit word still
    /// names another batch).
    pub(super) fn committed(&self) -> u32 {
        // Acquire: pairs with `append`'s Release store; the counted records' words are whole.
        let word = self.commit.load(Acquire);
        if (word >> 32) as u32 == self.batch {
            word as u32
        } else {
            0
        }
    }

    /// Copies the next record's payload into `out` (replacing what was there). Call it only
    /// for a record below [`committed`](LogReader::committed).
    pub(super) fn take(&mut self, out: &mut Vec<u8>) -> Result<(), Garbled> {
        let head = self
            .words
            .get(self.at)
            .ok_or(Garbled::Truncated)?
            .load(Relaxed);
        let len = head as u32;
        if (head >> 32) as u32 != !len {
            return Err(Garbled::BadLength);
        }
        let len = len as usize;
        let body = self
            .words
            .get(self.at + 1..self.at + 1 + len.div_ceil(8))
            .ok_or(Garbled::Truncated)?;
        out.clear();
        for word in body {
            out.extend_from_slice(&word.load(Relaxed).to_le_bytes());
        }
        out.truncate(len);
        self.at += 1 + body.len();
        self.taken += 1;
        Ok(())
    }
}
// ANCHOR_END: take

#[cfg(test)]
mod tests {
    use super::*;

    fn log(words: usize) -> (AtomicU64, Vec<AtomicU64>) {
        (
            AtomicU64::new(0),
            (0..words).map(|_| AtomicU64::new(0)).collect(),
        )
    }

    #[test]
    fn records_round_trip_and_a_full_log_refuses_without_writing() {
        let (commit, words) = log(6);
        let mut w = LogWriter::new(&commit, &words, 7);
        assert!(w.append(b"Oabcdefghi")); // 1 + 2 words
        assert!(w.append(b"")); // 1 word
        assert!(!w.append(b"O123456789")); // needs 3, 2 left
        assert!(w.append(b"P1")); // 2 words: exactly full
        assert!(!w.append(b""));
        assert_eq!(w.unannounced(), 3);
        let mut r = LogReader::new(&commit, &words, 7);
        assert_eq!(r.committed(), 3);
        let mut out = vec![9; 40];
        let mut got = Vec::new();
        for _ in 0..3 {
            r.take(&mut out).unwrap();
            got.push(out.clone());
        }
        assert_eq!(got, [&b"Oabcdefghi"[..], b"", b"P1"]);
        assert_eq!(r.taken(), 3);
        assert_eq!(r.take(&mut out), Err(Garbled::Truncated));
    }

    #[test]
    fn a_batch_is_marked_started_before_any_record_and_an_old_number_is_not() {
        let (commit, words) = log(4);
        let mut w = LogWriter::new(&commit, &words, 5);
        assert!(w.append(b"O1"));
        let next = LogReader::new(&commit, &words, 6);
        assert!(
            !next.started(),
            "batch 5's commit word says nothing of batch 6"
        );
        assert_eq!(next.committed(), 0);
        let _w = LogWriter::new(&commit, &words, 6);
        assert!(next.started());
        assert_eq!(next.committed(), 0, "started, nothing committed yet");
    }

    #[test]
    fn a_rotated_log_is_reused_from_word_0_and_the_count_goes_on() {
        let (commit, words) = log(4);
        let mut w = LogWriter::new(&commit, &words, 1);
        let mut r = LogReader::new(&commit, &words, 1);
        let mut out = Vec::new();
        assert!(w.append(b"Oaaaaaaa") && w.append(b"Ob"));
        assert!(!w.append(b"Oc"));
        assert_eq!((w.announce(), w.unannounced()), (2, 0));
        r.take(&mut out).unwrap();
        r.take(&mut out).unwrap();
        assert_eq!(out, b"Ob");
        r.rotate();
        w.rotate();
        assert!(w.is_empty());
        assert!(w.append(b"Oc"));
        assert_eq!((r.committed(), w.unannounced()), (3, 1));
        r.take(&mut out).unwrap();
        assert_eq!((out.as_slice(), r.taken()), (&b"Oc"[..], 3));
    }

    #[test]
    fn a_commit_word_of_another_batch_counts_nothing() {
        let (commit, words) = log(8);
        let mut w = LogWriter::new(&commit, &words, 1);
        assert!(w.append(b"Oold"));
        // Batch 2 was sent; its worker died before committing a record.
        assert_eq!(LogReader::new(&commit, &words, 2).committed(), 0);
        let mut w = LogWriter::new(&commit, &words, 2);
        assert!(w.append(b"Onew"));
        let mut r = LogReader::new(&commit, &words, 2);
        assert_eq!(r.committed(), 1);
        let mut out = Vec::new();
        r.take(&mut out).unwrap();
        assert_eq!(out, b"Onew");
    }

    #[test]
    fn garbage_is_refused_not_followed() {
        let (commit, words) = log(4);
        let mut out = Vec::new();
        // A length whose complement does not match.
        words[0].store(5, Relaxed);
        assert_eq!(
            LogReader::new(&commit, &words, 1).take(&mut out),
            Err(Garbled::BadLength)
        );
        // A matching length longer than the log.
        words[0].store(!100_u64 << 32 | 100, Relaxed);
        assert_eq!(
            LogReader::new(&commit, &words, 1).take(&mut out),
            Err(Garbled::Truncated)
        );
        assert!(out.is_empty(), "nothing copied");
    }

    #[test]
    fn a_reader_and_a_writer_on_two_threads_see_whole_records() {
        // Under Miri, fewer records: the reader's wait is interpreted instruction by instruction.
        let records: u32 = if cfg!(miri) { 30 } else { 200 };
        let (commit, words) = log(if cfg!(miri) { 512 } else { LOG_WORDS });
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut w = LogWriter::new(&commit, &words, 3);
                for n in 0..records {
                    let payload: Vec<u8> = (0..n % 20).map(|b| (n + b) as u8).collect();
                    assert!(w.append(&payload));
                }
            });
            let mut r = LogReader::new(&commit, &words, 3);
            let mut out = Vec::new();
            while r.taken() < records {
                while r.taken() < r.committed() {
                    let n = r.taken();
                    r.take(&mut out).unwrap();
                    let want: Vec<u8> = (0..n % 20).map(|b| (n + b) as u8).collect();
                    assert_eq!(out, want, "record {n}");
                }
                std::thread::yield_now(); // lets the writer run (Miri switches threads here)
            }
        });
    }
}
