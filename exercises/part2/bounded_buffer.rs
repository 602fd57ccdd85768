//! # Exercise `bounded_buffer` — Part II, "Puzzles from the Little Book of Semaphores"
//!
//! The producer–consumer problem with a buffer of fixed size, solved with semaphores instead
//! of conditions: `items` counts the items in the buffer (consumers take one before they
//! read), `spaces` counts the free places (producers take one before they write), and a lock
//! protects the buffer itself while an item goes in or comes out.
//!
//! Check your work: `cargo xtask check bounded_buffer`

use std::collections::VecDeque;

use synclab::{Lock, Semaphore};

/// A first-in, first-out buffer with room for a fixed number of items.
pub struct BoundedBuffer<T> {
    buffer: Lock<VecDeque<T>>,
    /// One permit per item in the buffer.
    items: Semaphore,
    /// One permit per free place.
    spaces: Semaphore,
}

impl<T> BoundedBuffer<T> {
    /// An empty buffer with room for `capacity` items (`capacity >= 1`).
    pub fn new(capacity: usize) -> Self {
        assert!(capacity >= 1, "a buffer needs room for one item");
        BoundedBuffer {
            buffer: Lock::new(VecDeque::with_capacity(capacity)),
            items: Semaphore::new(0),
            spaces: Semaphore::new(capacity),
        }
    }

    /// How many items are in the buffer now (a snapshot).
    pub fn len(&self) -> usize {
        self.buffer.lock().len()
    }

    /// `true` if the buffer holds no item now (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `item`, waiting while the buffer is full.
    pub fn put(&self, item: T) {
        // TODO: take a free place, push the item under the lock, then announce one more item.
        // Should you take the place before or after locking the buffer?
        todo!()
    }

    /// Removes and returns the oldest item, waiting while the buffer is empty.
    pub fn get(&self) -> T {
        // TODO: the mirror image of `put`: take an item permit, pop under the lock, give a
        // place back.
        todo!()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::time::Duration;

    #[test]
    fn items_come_out_in_order() {
        let buf = BoundedBuffer::new(3);
        buf.put(1);
        buf.put(2);
        buf.put(3);
        assert_eq!(buf.len(), 3);
        assert_eq!([buf.get(), buf.get(), buf.get()], [1, 2, 3]);
        assert!(buf.is_empty());
    }

    #[test]
    fn a_producer_waits_while_the_buffer_is_full() {
        common::guarded("bounded_buffer_full", |status| {
            let buf = BoundedBuffer::new(1);
            let put_done = AtomicBool::new(false);
            buf.put('a');
            std::thread::scope(|s| {
                s.spawn(|| {
                    status.set("producer", "put into a full buffer");
                    buf.put('b');
                    put_done.store(true, SeqCst);
                    status.set("producer", "done");
                });
                std::thread::sleep(Duration::from_millis(50));
                assert!(!put_done.load(SeqCst), "put went past a full buffer");
                assert_eq!(buf.get(), 'a');
            });
            assert_eq!(buf.get(), 'b');
        });
    }

    #[test]
    fn producers_and_consumers_pass_every_item_exactly_once() {
        let per_producer = common::scaled(3_000);
        let total = 2 * per_producer;
        common::guarded("bounded_buffer_mpmc", |status| {
            let buf = BoundedBuffer::new(2);
            let got = Lock::new(Vec::new());
            let most = AtomicUsize::new(0);
            std::thread::scope(|s| {
                for p in 0..2 {
                    let (buf, most) = (&buf, &most);
                    s.spawn(move || {
                        for i in 0..per_producer {
                            status.set(format!("producer {p}"), format!("put #{i}"));
                            buf.put(p * per_producer + i);
                            most.fetch_max(buf.len(), SeqCst);
                        }
                        status.set(format!("producer {p}"), "done");
                    });
                }
                for c in 0..2 {
                    let (buf, got) = (&buf, &got);
                    s.spawn(move || {
                        let mut mine = Vec::new();
                        for i in 0..total / 2 {
                            status.set(format!("consumer {c}"), format!("get #{i}"));
                            mine.push(buf.get());
                        }
                        got.lock().extend(mine);
                        status.set(format!("consumer {c}"), "done");
                    });
                }
            });
            let mut got = got.into_inner();
            got.sort_unstable();
            assert_eq!(got, (0..total).collect::<Vec<_>>());
            assert!(buf.is_empty());
            let most = most.load(SeqCst);
            assert!(most <= 2, "{most} items in a buffer of 2 places");
        });
    }
}
