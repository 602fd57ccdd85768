//! The worker's side: [`init`], and how a function is found again in another process.
//!
//! A worker is this executable run again ([`Command`](crate::process::Command), the `spawn`
//! way), so every function sits at the same place *relative to the others* in both processes,
//! even though address-space layout randomisation loads the executable at another base address
//! each run. The parent sends, for each task, two offsets from [`anchor`]: the user's
//! `fn(A) -> R`, and [`entry::<A, R>`](entry), the generic function that decodes an `A`, calls
//! it and encodes the `R`. The worker adds them to its own `anchor` address, and has both
//! functions (procspawn does the same, from its `init`).
//!
//! That is sound only if both processes run the same executable image, which the hello record
//! checks: the worker's offset of [`probe`] must equal the parent's.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::FromRawFd;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::AtomicU64;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::log::LogWriter;
use super::wire::{self, Call, Record};
use crate::process::Shared;
use crate::process::command::inherited_fd;

/// The role a pool worker is started with.
pub(super) const WORKER_ROLE: &str = "synclab-pool-worker";

/// The type-erased form of [`entry::<A, R>`](entry): `(function address, encoded argument,
/// where the encoded result goes)`.
type Entry = fn(usize, &[u8], &mut Vec<u8>) -> Result<(), String>;

// ANCHOR: find_again
/// The point every offset is measured from. Never called; only its address matters.
#[inline(never)]
fn anchor() {}

/// A second fixed point: its offset from [`anchor`] identifies the executable image.
#[inline(never)]
fn probe() {}

fn address_of(offset: i64) -> usize {
    (anchor as fn() as usize).wrapping_add(offset as usize)
}

fn offset_of(address: usize) -> i64 {
    address.wrapping_sub(anchor as fn() as usize) as i64
}

/// This executable's probe offset (the parent compares the worker's with its own).
pub(super) fn probe_offset() -> i64 {
    offset_of(probe as fn() as usize)
}

/// What a batch frame names for tasks of `f`.
pub(super) fn call_of<A, R>(f: fn(A) -> R) -> Call
where
    A: DeserializeOwned,
    R: Serialize,
{
    Call {
        entry: offset_of(entry::<A, R> as Entry as usize),
        function: offset_of(f as usize),
    }
}
// ANCHOR_END: find_again

/// Decodes an `A`, runs the `fn(A) -> R` at `function`, encodes the `R` into `out`.
fn entry<A, R>(function: usize, arg: &[u8], out: &mut Vec<u8>) -> Result<(), String>
where
    A: DeserializeOwned,
    R: Serialize,
{
    let f = std::ptr::with_exposed_provenance::<()>(function);
    // SAFETY: the parent's `fn(A) -> R`, sent with this `entry::<A, R>` in one `Call` (types
    // match); the hello check showed the same executable image (the offset lands on it).
    let f: fn(A) -> R = unsafe { std::mem::transmute::<*const (), fn(A) -> R>(f) };
    let arg: A = match postcard::take_from_bytes(arg) {
        Ok((arg, [])) => arg,
        Ok((_, rest)) => {
            return Err(format!(
                "the task's argument did not decode in the worker: {} bytes left over",
                rest.len()
            ));
        }
        Err(e) => {
            return Err(format!(
                "the task's argument did not decode in the worker: {e}"
            ));
        }
    };
    let value = f(arg);
    let bytes = postcard::to_allocvec(&value)
        .map_err(|e| format!("the task's result did not encode in the worker: {e}"))?;
    out.extend_from_slice(&bytes);
    Ok(())
}

// ANCHOR: init
/// Serves as a process-pool worker if this process was started as one, and never returns
/// then; in any other process returns at once. **Call it first thing in `main`** of every
/// program that makes a [`Pool`](super::Pool) (the worker side of procspawn's `init()`):
///
/// ```no_run
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// fn main() {
///     synclab::process::init(); // a worker stops here: it serves tasks, then exits
///     let pool = synclab::process::Pool::new(2).unwrap();
///     assert_eq!(pool.map(1..=3, square), Ok(vec![1, 4, 9]));
/// }
/// ```
///
/// A worker is this executable started again, so **everything before `init` runs in every
/// worker too**: the Rust runtime's start-up (nothing of yours), statics' initialisers when
/// first used, and whatever `main` does before the call. Keep it the first line, or at least
/// before anything with effects (files written, sockets opened, threads started, a second
/// `Pool`). In a test binary the harness runs first: a test's worker is started with the name
/// of a test that calls `init` ([`PoolBuilder::worker_args`](super::PoolBuilder::worker_args)).
///
/// A worker reads tasks from its pipe until the pool closes it, runs each under
/// `catch_unwind`, and exits with status 0 (status 3 if its pipes broke).
pub fn init() {
    if crate::process::role().as_deref() != Some(WORKER_ROLE) {
        return;
    }
    let status = match serve() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("synclab process pool worker {}: {e}", std::process::id());
            3
        }
    };
    std::process::exit(status);
}
// ANCHOR_END: init

/// The worker's loop: hello, then batches until end of file.
fn serve() -> io::Result<()> {
    let open = |index| {
        let fd = inherited_fd(index).map_err(io::Error::other)?;
        // SAFETY: the parent passed this descriptor to this process only (`Command::pass_fd`)
        // and this is the one place that takes ownership of it.
        Ok::<File, io::Error>(unsafe { File::from_raw_fd(fd) })
    };
    let (mut tasks, mut results) = (open(0)?, open(1)?);
    let log = Shared::<AtomicU64>::inherited(2).map_err(io::Error::other)?;
    let mut record = Vec::new();
    let at = wire::start_frame(&mut record, wire::HELLO);
    record.extend_from_slice(&probe_offset().to_le_bytes());
    wire::finish_frame(&mut record, at);
    results.write_all(&record)?;
    let mut batch = Vec::new();
    while read_frame(&mut tasks, &mut batch)? {
        let (call, log_batch, items) = wire::parse_batch(&batch).map_err(garbled)?;
        let entry = std::ptr::with_exposed_provenance::<()>(address_of(call.entry));
        // SAFETY: `call.entry` is the offset of an `entry::<A, R>` (see `call_of`), an `Entry`
        // once its types are erased; same executable image, as for `entry`'s own transmute.
        let entry: Entry = unsafe { std::mem::transmute::<*const (), Entry>(entry) };
        let function = address_of(call.function);
        // ANCHOR: batch
        let mut logging = (log_batch != 0).then(|| LogWriter::new(&log, log.tail(), log_batch));
        for item in items {
            let arg = item.map_err(garbled)?;
            run_one(entry, function, arg, &mut record);
            // Each record is committed as soon as its task returns, so the supervisor can tell
            // exactly which task a worker died in.
            match &mut logging {
                Some(writer) => commit(writer, &record, &mut tasks, &mut results)?,
                None => results.write_all(&record)?, // batch 0: one write per task
            }
        }
        if let Some(writer) = &mut logging
            && writer.unannounced() > 0
        {
            results.write_all(&logged_frame(writer.announce()))?; // one write per batch
        }
        // ANCHOR_END: batch
    }
    Ok(())
}

// ANCHOR: commit
/// Commits one record frame's payload to the log, without a system call unless the log is full.
fn commit(
    writer: &mut LogWriter<'_>,
    record: &[u8],
    tasks: &mut File,
    results: &mut File,
) -> io::Result<()> {
    if writer.append(&record[4..]) {
        return Ok(());
    }
    if !writer.is_empty() {
        // Full: the supervisor takes what the log holds, says so, and it starts again.
        results.write_all(&logged_frame(writer.announce()))?;
        let mut ack = Vec::new();
        if !read_frame(tasks, &mut ack)? || ack != [wire::ACK] {
            return Err(io::Error::other(
                "the pool did not answer a full result log",
            ));
        }
        writer.rotate();
        if writer.append(&record[4..]) {
            return Ok(());
        }
    }
    // Larger than the whole log: down the pipe, after every record announced.
    results.write_all(record)
}
// ANCHOR_END: commit

/// The frame that says "the batch's first `records` records are in the log".
fn logged_frame(records: u32) -> Vec<u8> {
    let mut frame = Vec::with_capacity(9);
    let at = wire::start_frame(&mut frame, wire::LOGGED);
    frame.extend_from_slice(&records.to_le_bytes());
    wire::finish_frame(&mut frame, at);
    frame
}

/// Runs one task and leaves its record frame in `record`.
fn run_one(entry: Entry, function: usize, arg: &[u8], record: &mut Vec<u8>) {
    record.clear();
    let at = wire::start_frame(record, wire::OK);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| entry(function, arg, record)));
    let failure = match outcome {
        Ok(Ok(())) if record.len() - at - 4 <= wire::MAX_FRAME => None,
        Ok(Ok(())) => Some((
            wire::CODEC,
            "the task's result is over the 1 GiB limit".into(),
        )),
        Ok(Err(why)) => Some((wire::CODEC, why)),
        Err(payload) => {
            let message = match payload.downcast_ref::<&str>() {
                Some(s) => Some((*s).to_owned()),
                None => payload.downcast_ref::<String>().cloned(),
            };
            Some(match message {
                Some(m) => (wire::PANICKED, m),
                None => (wire::PANICKED_OPAQUE, String::new()),
            })
        }
    };
    if let Some((kind, text)) = failure {
        record.clear();
        let at = wire::start_frame(record, kind);
        record.extend_from_slice(text.as_bytes());
        wire::finish_frame(record, at);
    } else {
        wire::finish_frame(record, at);
    }
}

/// Reads one frame's payload into `out`: `false` at end of file before it.
fn read_frame(from: &mut File, out: &mut Vec<u8>) -> io::Result<bool> {
    let mut word = [0; 4];
    let mut got = 0;
    while got < 4 {
        match from.read(&mut word[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_le_bytes(word) as usize;
    if len > wire::MAX_FRAME {
        return Err(io::Error::other(
            "a batch frame's length word is over the limit",
        ));
    }
    out.resize(len, 0);
    from.read_exact(out)?;
    Ok(true)
}

fn garbled(g: wire::Garbled) -> io::Error {
    io::Error::other(format!("the pool sent a garbled batch: {g:?}"))
}

/// Reads the hello record a fresh worker sends: its probe offset.
pub(super) fn hello(payload: &[u8]) -> Option<i64> {
    match wire::parse_record(payload) {
        Ok(Record::Hello(offset)) => Some(offset),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triple(n: u32) -> u32 {
        n * 3
    }

    #[test]
    #[cfg_attr(miri, ignore)] // integer-to-function-pointer casts
    fn a_function_is_found_again_from_its_offsets() {
        let call = call_of(triple as fn(u32) -> u32);
        let entry = std::ptr::with_exposed_provenance::<()>(address_of(call.entry));
        // SAFETY: the offsets were taken in this process from a real `entry::<u32, u32>`.
        let entry: Entry = unsafe { std::mem::transmute::<*const (), Entry>(entry) };
        let mut record = Vec::new();
        run_one(entry, address_of(call.function), &[14], &mut record);
        assert_eq!(wire::parse_record(&record[4..]), Ok(Record::Ok(&[42])));
        run_one(entry, address_of(call.function), &[], &mut record);
        assert!(
            matches!(wire::parse_record(&record[4..]), Ok(Record::Codec(m)) if m.contains("argument"))
        );
        assert_eq!(hello(b"H\x07\0\0\0\0\0\0\0"), Some(7));
        assert_eq!(hello(b"O"), None);
    }
}
