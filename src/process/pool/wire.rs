//! The bytes on the pool's pipes: frames, the batch the supervisor sends, the records a worker
//! sends back. Pure functions over byte slices (no descriptors), so they run under Miri.
//!
//! Every message is a **frame**: a `u32` little-endian length, then that many payload bytes.
//! The first payload byte says what it is:
//!
//! | direction | payload | meaning |
//! |---|---|---|
//! | worker → supervisor | `H`, probe offset (`i64`) | hello: started, same executable |
//! | supervisor → worker | `B`, entry offset (`i64`), function offset (`i64`), count (`u32`), log batch number (`u32`), `count` items | a batch of tasks for one function; each item is a `u32` length and the encoded argument |
//! | worker → supervisor | `L`, records (`u32`) | the batch's first `records` records are in the result log (`log.rs`) |
//! | supervisor → worker | `A` | every record announced was taken: the log starts again at word 0 |
//! | worker → supervisor | `O`, encoded result | one task's value, in batch order |
//! | worker → supervisor | `P`, UTF-8 message | one task's panic with a string message |
//! | worker → supervisor | `Q` | one task's panic with another payload |
//! | worker → supervisor | `C`, UTF-8 message | one task's argument or result did not encode/decode |
//!
//! The `O`, `P`, `Q` and `C` payloads are a task's **record**. In a batch with a log batch
//! number (not 0) the worker appends each record to its shared-memory result log as soon as the
//! task returns, and writes one `L` frame when the batch is done, or when the log is full (it
//! then waits for the supervisor's `A`). A record larger than the whole log goes down the pipe,
//! and so does every record of a batch numbered 0, one `write` each: the pool's task timeout
//! counts records as they arrive. Either way, when the pipe reaches end-of-file the supervisor knows exactly which
//! tasks finished (the records in the pipe and the committed ones in the log): the next one in
//! the batch is the one the worker died in, and the rest never started.

/// The largest frame either side accepts: a length word above it is garbage, refused before
/// anything is allocated for it.
pub(super) const MAX_FRAME: usize = 1 << 30;

pub(super) const HELLO: u8 = b'H';
pub(super) const BATCH: u8 = b'B';
pub(super) const LOGGED: u8 = b'L';
pub(super) const ACK: u8 = b'A';
pub(super) const OK: u8 = b'O';
pub(super) const PANICKED: u8 = b'P';
pub(super) const PANICKED_OPAQUE: u8 = b'Q';
pub(super) const CODEC: u8 = b'C';

/// What a batch runs: the offsets, from the executable's anchor function (see `child.rs`), of
/// the type-erased entry for `fn(A) -> R` and of the user's `fn(A) -> R` itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Call {
    pub(super) entry: i64,
    pub(super) function: i64,
}

/// A byte sequence that is not a well-formed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Garbled {
    /// A length word above [`MAX_FRAME`].
    TooLong(usize),
    /// A payload shorter than its fields, or items that do not add up to it.
    Truncated,
    /// A first byte that names no message.
    UnknownKind(u8),
    /// A result-log record whose length word fails its check.
    BadLength,
}

/// If `buf` starts with a whole frame, its total size (length word included).
pub(super) fn frame_len(buf: &[u8]) -> Result<Option<usize>, Garbled> {
    let Some(word) = buf.first_chunk::<4>() else {
        return Ok(None);
    };
    let len = u32::from_le_bytes(*word) as usize;
    if len > MAX_FRAME {
        return Err(Garbled::TooLong(len));
    }
    Ok((buf.len() >= 4 + len).then_some(4 + len))
}

/// The payload length that the (possibly partial) frame at the start of `buf` announces.
pub(super) fn announced(buf: &[u8]) -> Option<usize> {
    buf.first_chunk::<4>()
        .map(|w| u32::from_le_bytes(*w) as usize)
}

/// Starts a frame in `out`: a length word to be patched by [`finish_frame`], then `kind`.
/// Returns where the frame starts.
pub(super) fn start_frame(out: &mut Vec<u8>, kind: u8) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    out.push(kind);
    at
}

/// Writes the length word of the frame started at `at`.
///
/// # Panics
///
/// If the payload is over [`MAX_FRAME`] (the other side would refuse it).
pub(super) fn finish_frame(out: &mut [u8], at: usize) {
    let len = out.len() - at - 4;
    assert!(
        len <= MAX_FRAME,
        "a process pool message of {len} bytes is over the 1 GiB limit"
    );
    out[at..at + 4].copy_from_slice(&(len as u32).to_le_bytes());
}

/// Appends one item (a `u32` length and the bytes `encode` appends) to a batch's items.
/// `encode` may fail: the item is then taken back out and the error returned.
pub(super) fn push_item<E>(
    items: &mut Vec<u8>,
    encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let at = items.len();
    items.extend_from_slice(&[0; 4]);
    if let Err(e) = encode(items) {
        items.truncate(at);
        return Err(e);
    }
    let len = items.len() - at - 4;
    items[at..at + 4].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(())
}

/// A whole batch frame: header, then `count` items already laid out by [`push_item`]. `log` is
/// the batch's number in the result log, 0 for a batch whose records all go down the pipe.
pub(super) fn batch_frame(out: &mut Vec<u8>, call: Call, count: usize, log: u32, items: &[u8]) {
    out.clear();
    let at = start_frame(out, BATCH);
    out.extend_from_slice(&call.entry.to_le_bytes());
    out.extend_from_slice(&call.function.to_le_bytes());
    out.extend_from_slice(&(count as u32).to_le_bytes());
    out.extend_from_slice(&log.to_le_bytes());
    out.extend_from_slice(items);
    finish_frame(out, at);
}

/// Splits a batch payload (its `B` included) into the call, its log batch number and its items.
pub(super) fn parse_batch(payload: &[u8]) -> Result<(Call, u32, Items<'_>), Garbled> {
    let (&kind, rest) = payload.split_first().ok_or(Garbled::Truncated)?;
    if kind != BATCH {
        return Err(Garbled::UnknownKind(kind));
    }
    let (entry, rest) = rest.split_first_chunk::<8>().ok_or(Garbled::Truncated)?;
    let (function, rest) = rest.split_first_chunk::<8>().ok_or(Garbled::Truncated)?;
    let (count, rest) = rest.split_first_chunk::<4>().ok_or(Garbled::Truncated)?;
    let (log, rest) = rest.split_first_chunk::<4>().ok_or(Garbled::Truncated)?;
    let items = Items {
        rest,
        left: u32::from_le_bytes(*count) as usize,
    };
    let call = Call {
        entry: i64::from_le_bytes(*entry),
        function: i64::from_le_bytes(*function),
    };
    Ok((call, u32::from_le_bytes(*log), items))
}

/// The items of a batch, each checked against the bytes left before it is handed out.
#[derive(Debug)]
pub(super) struct Items<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Iterator for Items<'a> {
    type Item = Result<&'a [u8], Garbled>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return (!self.rest.is_empty()).then(|| {
                self.rest = &[];
                Err(Garbled::Truncated)
            });
        }
        self.left -= 1;
        let item = self.rest.split_first_chunk::<4>().and_then(|(len, rest)| {
            let len = u32::from_le_bytes(*len) as usize;
            (rest.len() >= len).then(|| rest.split_at(len))
        });
        match item {
            Some((item, rest)) => {
                self.rest = rest;
                Some(Ok(item))
            }
            None => {
                self.left = 0;
                self.rest = &[];
                Some(Err(Garbled::Truncated))
            }
        }
    }
}

/// What a worker said, read from one frame's payload.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Record<'a> {
    Hello(i64),
    /// The batch's first so many records are in the result log.
    Logged(u32),
    Ok(&'a [u8]),
    /// The panic message, `None` for a payload that is not a string.
    Panicked(Option<String>),
    Codec(String),
}

/// Reads a worker's frame payload.
pub(super) fn parse_record(payload: &[u8]) -> Result<Record<'_>, Garbled> {
    let (&kind, rest) = payload.split_first().ok_or(Garbled::Truncated)?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    Ok(match kind {
        HELLO => Record::Hello(i64::from_le_bytes(
            *rest.first_chunk::<8>().ok_or(Garbled::Truncated)?,
        )),
        LOGGED => Record::Logged(u32::from_le_bytes(
            *rest.first_chunk::<4>().ok_or(Garbled::Truncated)?,
        )),
        OK => Record::Ok(rest),
        PANICKED => Record::Panicked(Some(text())),
        PANICKED_OPAQUE => Record::Panicked(None),
        CODEC => Record::Codec(text()),
        other => return Err(Garbled::UnknownKind(other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_items(items: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for item in items {
            push_item::<()>(&mut out, |v| {
                v.extend_from_slice(item);
                Ok(())
            })
            .unwrap();
        }
        out
    }

    #[test]
    fn batch_round_trip() {
        let items = encode_items(&[b"ab", b"", b"xyz"]);
        let mut frame = Vec::new();
        let call = Call {
            entry: -42,
            function: 7,
        };
        batch_frame(&mut frame, call, 3, 9, &items);
        assert_eq!(frame_len(&frame), Ok(Some(frame.len())));
        assert_eq!(frame_len(&frame[..frame.len() - 1]), Ok(None));
        assert_eq!(frame_len(&frame[..3]), Ok(None));
        let (got_call, log, items) = parse_batch(&frame[4..]).unwrap();
        assert_eq!((got_call, log), (call, 9));
        let got: Vec<_> = items.collect::<Result<_, _>>().unwrap();
        assert_eq!(got, [&b"ab"[..], b"", b"xyz"]);
    }

    #[test]
    fn a_failed_encode_leaves_no_trace() {
        let mut items = encode_items(&[b"keep"]);
        let before = items.clone();
        let err = push_item(&mut items, |v| {
            v.extend_from_slice(b"half");
            Err("refused")
        });
        assert_eq!(err, Err("refused"));
        assert_eq!(items, before);
    }

    const CALL0: Call = Call {
        entry: 0,
        function: 0,
    };

    #[test]
    fn garbage_is_refused_not_followed() {
        let huge = (MAX_FRAME as u32 + 1).to_le_bytes();
        assert_eq!(frame_len(&huge), Err(Garbled::TooLong(MAX_FRAME + 1)));
        // A count larger than the items present, an item longer than the bytes left, and
        // bytes after the last item are all `Truncated`, never a read past the end.
        let items = encode_items(&[b"one"]);
        let mut frame = Vec::new();
        batch_frame(&mut frame, CALL0, 2, 0, &items);
        let (_, _, it) = parse_batch(&frame[4..]).unwrap();
        assert_eq!(
            it.collect::<Vec<_>>(),
            [Ok(&b"one"[..]), Err(Garbled::Truncated)]
        );
        let mut long = items.clone();
        long[0] = 200;
        batch_frame(&mut frame, CALL0, 1, 0, &long);
        let (_, _, it) = parse_batch(&frame[4..]).unwrap();
        assert_eq!(it.collect::<Vec<_>>(), [Err(Garbled::Truncated)]);
        batch_frame(&mut frame, CALL0, 0, 0, &items);
        let (_, _, it) = parse_batch(&frame[4..]).unwrap();
        assert_eq!(it.collect::<Vec<_>>(), [Err(Garbled::Truncated)]);
        assert_eq!(parse_batch(b"B1234").err(), Some(Garbled::Truncated));
        assert_eq!(parse_batch(b"B12345678").err(), Some(Garbled::Truncated));
        let mut no_log_word = frame.clone();
        no_log_word.truncate(4 + 1 + 8 + 8 + 4 + 2);
        assert_eq!(
            parse_batch(&no_log_word[4..]).err(),
            Some(Garbled::Truncated)
        );
        assert_eq!(parse_batch(b"Z").err(), Some(Garbled::UnknownKind(b'Z')));
    }

    #[test]
    fn records() {
        let mut hello = vec![HELLO];
        hello.extend_from_slice(&7_i64.to_le_bytes());
        assert_eq!(parse_record(&hello), Ok(Record::Hello(7)));
        assert_eq!(parse_record(b"Q"), Ok(Record::Panicked(None)));
        assert_eq!(parse_record(b"L\x05\0\0\0"), Ok(Record::Logged(5)));
        assert_eq!(parse_record(b"L\x05\0"), Err(Garbled::Truncated));
        assert_eq!(parse_record(b"O\x01\x02"), Ok(Record::Ok(&[1, 2])));
        assert_eq!(
            parse_record(b"Pboom"),
            Ok(Record::Panicked(Some("boom".into())))
        );
        assert_eq!(parse_record(b"Cbad"), Ok(Record::Codec("bad".into())));
        assert_eq!(parse_record(b"H12"), Err(Garbled::Truncated));
        assert_eq!(parse_record(b""), Err(Garbled::Truncated));
        assert_eq!(parse_record(b"?"), Err(Garbled::UnknownKind(b'?')));
        let mut out = Vec::new();
        let at = start_frame(&mut out, OK);
        out.extend_from_slice(b"xy");
        finish_frame(&mut out, at);
        assert_eq!(out, b"\x03\0\0\0Oxy");
        assert_eq!(announced(&out), Some(3));
    }
}
