//! # Exercise `lightswitch` — Part II, "Puzzles from the Little Book of Semaphores"
//!
//! Readers and writers share a room: any number of readers may be in it together, a writer
//! only alone. A semaphore `room_empty` (one permit) is the room's key. Writers take it to
//! enter and give it back to leave. Readers go through a *lightswitch*: the first reader in
//! takes the key (switching the light on, which locks writers out), and the last reader out
//! gives it back. The key is a semaphore and not a lock because the reader who gives it back is
//! usually not the one who took it.
//!
//! Check your work: `cargo xtask check lightswitch`

use synclab::{Lock, Semaphore};

/// The first thread in takes `room`'s permit; the last one out gives it back.
pub struct Lightswitch {
    /// Threads that went through `enter` and not yet through `leave`.
    inside: Lock<usize>,
}

impl Lightswitch {
    /// Nobody inside.
    pub const fn new() -> Self {
        Lightswitch {
            inside: Lock::new(0),
        }
    }

    /// Counts the caller in; the first one takes `room`'s permit.
    pub fn enter(&self, room: &Semaphore) {
        let mut inside = self.inside.lock();
        *inside += 1;
        // The first one in waits for the room *while holding the counter's lock*: readers that
        // come after it queue on the lock instead of walking into a room a writer still uses.
        if *inside == 1 {
            room.acquire();
        }
    }

    /// Counts the caller out; the last one gives `room`'s permit back.
    pub fn leave(&self, room: &Semaphore) {
        let mut inside = self.inside.lock();
        *inside -= 1;
        // The last one out lets writers in.
        if *inside == 0 {
            room.release().expect("the first reader took this permit");
        }
    }
}

impl Default for Lightswitch {
    fn default() -> Self {
        Lightswitch::new()
    }
}

/// A room for many readers or one writer.
pub struct ReadersWriters {
    /// One permit: the room is free of writers and readers.
    room_empty: Semaphore,
    readers: Lightswitch,
}

impl ReadersWriters {
    /// An empty room.
    pub const fn new() -> Self {
        ReadersWriters {
            room_empty: Semaphore::new(1),
            readers: Lightswitch::new(),
        }
    }

    /// Runs `f` as a reader: alongside other readers, never alongside a writer.
    pub fn read<R>(&self, f: impl FnOnce() -> R) -> R {
        // Through the lightswitch, in and out. (A panic in `f` would leave the light on; a
        // guard type would fix that, at the cost of a longer exercise.)
        self.readers.enter(&self.room_empty);
        let result = f();
        self.readers.leave(&self.room_empty);
        result
    }

    /// Runs `f` as a writer: alone in the room.
    pub fn write<R>(&self, f: impl FnOnce() -> R) -> R {
        // The room's key, held for the whole write; the permit gives it back on drop.
        let _key = self.room_empty.permit();
        f()
    }
}

impl Default for ReadersWriters {
    fn default() -> Self {
        ReadersWriters::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use synclab::Event;

    #[test]
    fn read_and_write_return_what_their_closure_returns() {
        let rw = ReadersWriters::new();
        assert_eq!(rw.read(|| 1), 1);
        assert_eq!(rw.write(|| 2), 2);
        assert_eq!(rw.read(|| 3), 3);
    }

    #[test]
    fn two_readers_can_be_inside_together() {
        common::guarded("lightswitch_readers_share", |status| {
            let rw = ReadersWriters::new();
            let inside = [Event::new(), Event::new()];
            std::thread::scope(|s| {
                for me in 0..2 {
                    let (rw, inside) = (&rw, &inside);
                    s.spawn(move || {
                        status.set(format!("reader {me}"), "entering");
                        rw.read(|| {
                            // Each reader stays inside until the other one is inside too.
                            status.set(format!("reader {me}"), "inside, waiting for the other");
                            inside[me].set();
                            inside[1 - me].wait();
                        });
                        status.set(format!("reader {me}"), "done");
                    });
                }
            });
        });
    }

    #[test]
    fn never_a_writer_with_anyone_else() {
        let rounds = common::scaled(1_000);
        common::guarded("lightswitch_exclusion", |status| {
            let rw = ReadersWriters::new();
            let (readers_in, writers_in) = (AtomicUsize::new(0), AtomicUsize::new(0));
            let writes = AtomicUsize::new(0);
            // Counted, not asserted on the spot: a reader that panicked inside would leave the
            // light on, and the writers would wait forever.
            let clashes = AtomicUsize::new(0);
            std::thread::scope(|s| {
                for r in 0..3 {
                    let (rw, readers_in, writers_in, clashes) =
                        (&rw, &readers_in, &writers_in, &clashes);
                    s.spawn(move || {
                        for i in 0..rounds {
                            status.set(format!("reader {r}"), format!("read #{i}"));
                            rw.read(|| {
                                readers_in.fetch_add(1, SeqCst);
                                if writers_in.load(SeqCst) != 0 {
                                    clashes.fetch_add(1, SeqCst);
                                }
                                std::thread::yield_now();
                                readers_in.fetch_sub(1, SeqCst);
                            });
                        }
                        status.set(format!("reader {r}"), "done");
                    });
                }
                for w in 0..2 {
                    let (rw, readers_in, writers_in, writes, clashes) =
                        (&rw, &readers_in, &writers_in, &writes, &clashes);
                    s.spawn(move || {
                        for i in 0..rounds {
                            status.set(format!("writer {w}"), format!("write #{i}"));
                            rw.write(|| {
                                let writers = writers_in.fetch_add(1, SeqCst) + 1;
                                if writers != 1 || readers_in.load(SeqCst) != 0 {
                                    clashes.fetch_add(1, SeqCst);
                                }
                                std::thread::yield_now();
                                writers_in.fetch_sub(1, SeqCst);
                                writes.fetch_add(1, SeqCst);
                            });
                        }
                        status.set(format!("writer {w}"), "done");
                    });
                }
            });
            assert_eq!(
                clashes.load(SeqCst),
                0,
                "times a writer was inside with a reader or another writer"
            );
            assert_eq!(writes.load(SeqCst), 2 * rounds);
        });
    }
}
