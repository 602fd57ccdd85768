//! The supervisor's bookkeeping: a [`Job`] is a chunk of tasks for one function, its
//! arguments already encoded, and the [`Sink`] its results go to. No descriptors here, so it
//! runs under Miri.
//!
//! A job's items are delivered **in order, exactly once**: `next` counts the items delivered;
//! an item before `next` has its outcome, the item at `next` is the one a worker is running (or
//! will run first), and dropping a job delivers `Terminated` to every item from `next` on.
//! That one counter is the whole answer to "which task did the dead worker hold?".

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use serde::de::DeserializeOwned;

use super::wire::{self, Call};
use crate::pool::Slot;
use crate::{Event, Lock, Queue, TaskError};
use std::sync::Arc;

/// Where a job's outcomes go: one implementation per way of waiting for them.
pub(super) trait Sink: Send + Sync {
    /// Item `index`'s outcome: its encoded result, or why there is none. Called once per item.
    fn deliver(&self, index: usize, outcome: Result<&[u8], TaskError>);
}

/// A chunk of tasks: `call` names the function (see `child.rs`), `items` holds the encoded
/// arguments back to back (`wire::push_item`), `starts[i]` where item `i` begins and `ids[i]`
/// its index in the sink.
pub(super) struct Job {
    call: Call,
    items: Vec<u8>,
    starts: Vec<usize>,
    ids: Vec<usize>,
    /// Items delivered so far; the next one to run.
    next: usize,
    sink: Arc<dyn Sink>,
}

impl Job {
    pub(super) fn new(call: Call, sink: Arc<dyn Sink>) -> Job {
        Job {
            call,
            items: Vec::new(),
            starts: Vec::new(),
            ids: Vec::new(),
            next: 0,
            sink,
        }
    }

    /// Appends the item with sink index `id`, whose argument `encode` writes. An encoding
    /// error is delivered to that item at once: it never runs.
    pub(super) fn push(
        &mut self,
        id: usize,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
    ) {
        let at = self.items.len();
        match wire::push_item(&mut self.items, encode) {
            Ok(()) => {
                self.starts.push(at);
                self.ids.push(id);
            }
            Err(why) => self.sink.deliver(id, Err(TaskError::Codec(why))),
        }
    }

    /// Items not yet delivered.
    pub(super) fn pending(&self) -> usize {
        self.starts.len() - self.next
    }

    /// The batch frame for the next `count` pending items (at most [`pending`](Job::pending)),
    /// numbered `log` in the worker's result log (0: no log).
    pub(super) fn batch(&self, count: usize, log: u32, out: &mut Vec<u8>) {
        let from = self.starts[self.next];
        let to = self
            .starts
            .get(self.next + count)
            .copied()
            .unwrap_or(self.items.len());
        wire::batch_frame(out, self.call, count, log, &self.items[from..to]);
    }

    /// Delivers the outcome of the next pending item (the one a worker ran, or died in).
    pub(super) fn deliver_next(&mut self, outcome: Result<&[u8], TaskError>) {
        assert!(
            self.pending() > 0,
            "a job delivered more outcomes than items"
        );
        self.sink.deliver(self.ids[self.next], outcome);
        self.next += 1;
    }

    /// Delivers `error` to every item not yet delivered (a refused job: `Closed`; a job no
    /// worker could be started for: `Spawn`).
    pub(super) fn fail_all(mut self, error: &TaskError) {
        while self.pending() > 0 {
            self.deliver_next(Err(error.clone()));
        }
    }
}

impl Drop for Job {
    /// Items never run (`terminate`, or the pool dropped mid-job) report `Terminated`.
    fn drop(&mut self) {
        while self.pending() > 0 {
            self.deliver_next(Err(TaskError::Terminated));
        }
    }
}

/// Decodes a worker's encoded result.
pub(super) fn decode<R: DeserializeOwned>(
    outcome: Result<&[u8], TaskError>,
) -> Result<R, TaskError> {
    let bytes = outcome?;
    match postcard::take_from_bytes::<R>(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(TaskError::Codec(format!(
            "the task's result did not decode: {} bytes left over",
            rest.len()
        ))),
        Err(e) => Err(TaskError::Codec(format!(
            "the task's result did not decode: {e}"
        ))),
    }
}

/// `apply_async`: one result slot, the thread pool's.
pub(super) struct OneSink<R>(pub(super) Arc<Slot<R>>);

impl<R: DeserializeOwned + Send> Sink for OneSink<R> {
    fn deliver(&self, _: usize, outcome: Result<&[u8], TaskError>) {
        self.0.fill(decode(outcome));
    }
}

/// `map`: every item's outcome in a list, and an event set when the last one arrives.
pub(super) struct MapSink<R> {
    outcomes: Lock<Vec<Option<Result<R, TaskError>>>>,
    left: AtomicUsize,
    done: Event,
}

impl<R> MapSink<R> {
    pub(super) fn new(items: usize) -> MapSink<R> {
        let done = Event::new();
        if items == 0 {
            done.set();
        }
        MapSink {
            outcomes: Lock::new((0..items).map(|_| None).collect()),
            left: AtomicUsize::new(items),
            done,
        }
    }

    /// Waits for every outcome; the values in item order, or the first error in item order.
    pub(super) fn wait(&self) -> Result<Vec<R>, TaskError> {
        // The event's Release/Acquire pair makes every stored outcome visible here.
        self.done.wait();
        let outcomes = std::mem::take(&mut *self.outcomes.lock());
        outcomes
            .into_iter()
            .map(|o| o.expect("every item was delivered before `done`"))
            .collect()
    }
}

impl<R: DeserializeOwned + Send> Sink for MapSink<R> {
    fn deliver(&self, index: usize, outcome: Result<&[u8], TaskError>) {
        let value = decode(outcome);
        let old = self.outcomes.lock()[index].replace(value);
        debug_assert!(old.is_none(), "a map item was delivered twice");
        // Relaxed: the count only decides who sets the event, and the lock above already
        // orders the stores; the last decrement's `set` is what `wait` synchronizes with.
        if self.left.fetch_sub(1, Relaxed) == 1 {
            self.done.set();
        }
    }
}

/// `imap_unordered`: outcomes into the thread pool's result queue, in completion order.
pub(super) struct QueueSink<R>(pub(super) Arc<Queue<Result<R, TaskError>>>);

impl<R: DeserializeOwned + Send> Sink for QueueSink<R> {
    fn deliver(&self, _: usize, outcome: Result<&[u8], TaskError>) {
        // An unbounded queue that is never shut down: `put` cannot fail.
        let _ = self.0.put(decode(outcome));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(v: u32) -> impl FnOnce(&mut Vec<u8>) -> Result<(), String> {
        move |out| {
            out.extend_from_slice(&postcard::to_allocvec(&v).unwrap());
            Ok(())
        }
    }

    const CALL: Call = Call {
        entry: 5,
        function: 6,
    };

    fn job_of(values: &[u32], sink: Arc<MapSink<u32>>) -> Job {
        let mut job = Job::new(CALL, sink);
        for (id, &v) in values.iter().enumerate() {
            job.push(id, encoded(v));
        }
        job
    }

    #[test]
    fn a_dead_worker_is_blamed_for_one_item_and_the_rest_is_resent() {
        let sink = Arc::new(MapSink::new(4));
        let mut job = job_of(&[10, 11, 12, 13], sink.clone());
        let mut frame = Vec::new();
        job.batch(4, 1, &mut frame);
        job.deliver_next(Ok(&postcard::to_allocvec(&100_u32).unwrap()));
        // The worker dies in item 1: item 1 is blamed, items 2 and 3 go to the next worker.
        job.deliver_next(Err(TaskError::TimedOut(std::time::Duration::ZERO)));
        assert_eq!(job.pending(), 2);
        job.batch(2, 2, &mut frame);
        let (call, log, items) = wire::parse_batch(&frame[4..]).unwrap();
        assert_eq!((call, log), (CALL, 2));
        let items: Vec<u32> = items
            .map(|i| postcard::from_bytes(i.unwrap()).unwrap())
            .collect();
        assert_eq!(items, [12, 13]);
        drop(job); // items 2 and 3 never ran
        let outcomes = std::mem::take(&mut *sink.outcomes.lock());
        assert_eq!(
            outcomes,
            [
                Some(Ok(100)),
                Some(Err(TaskError::TimedOut(std::time::Duration::ZERO))),
                Some(Err(TaskError::Terminated)),
                Some(Err(TaskError::Terminated)),
            ]
        );
    }

    #[test]
    fn map_sink_collects_in_item_order_whatever_the_delivery_order() {
        let sink = Arc::new(MapSink::new(3));
        let mut second = Job::new(CALL, sink.clone());
        second.push(2, encoded(0));
        let mut first = job_of(&[0, 0], sink.clone());
        second.deliver_next(Ok(&[3]));
        first.deliver_next(Ok(&[1]));
        assert!(!sink.done.is_set());
        first.deliver_next(Ok(&[2]));
        assert_eq!(sink.wait(), Ok(vec![1, 2, 3]));
    }

    #[test]
    fn an_item_that_does_not_encode_is_answered_at_once() {
        let sink = Arc::new(MapSink::<u32>::new(3));
        let mut job = Job::new(CALL, sink.clone());
        job.push(0, encoded(1));
        job.push(1, |_| Err("no".into()));
        job.push(2, encoded(3));
        assert_eq!(job.pending(), 2);
        job.deliver_next(Ok(&[1]));
        job.deliver_next(Ok(&[3]));
        // The refused item is item 1, and the items around it keep their indices.
        let outcomes = std::mem::take(&mut *sink.outcomes.lock());
        assert_eq!(
            outcomes,
            [
                Some(Ok(1)),
                Some(Err(TaskError::Codec("no".into()))),
                Some(Ok(3))
            ]
        );
    }

    #[test]
    fn results_that_do_not_decode_are_errors() {
        assert_eq!(decode::<u32>(Ok(&[7])), Ok(7));
        assert!(matches!(decode::<u32>(Ok(&[])), Err(TaskError::Codec(_))));
        assert!(matches!(
            decode::<u32>(Ok(&[0xff; 6])),
            Err(TaskError::Codec(_))
        ));
        assert!(
            matches!(decode::<u8>(Ok(&[1, 2])), Err(TaskError::Codec(m)) if m.contains("left over"))
        );
        assert!(matches!(decode::<bool>(Ok(&[2])), Err(TaskError::Codec(_))));
        assert_eq!(decode::<u8>(Err(TaskError::Closed)), Err(TaskError::Closed));
    }
}
