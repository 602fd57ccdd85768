//! `multiprocessing` for Rust: Lock, Event, Semaphore and Queue shared between processes, and
//! child processes started the *spawn* way.
//!
//! A futex works between processes when its word lives in memory that both map, and the futex
//! is used without `FUTEX_PRIVATE_FLAG` ([`futex::shared`](crate::futex)): the kernel then keys
//! the sleepers by the physical page, not by one process's address. Everything here builds on
//! that.
//!
//! | Python (`multiprocessing`) | synclab::process | notes |
//! |---|---|---|
//! | `Process(target=f)` + `start()` | [`Command::new(role)`](Command)`.spawn()` | runs this executable again; [`role`] tells `main` what to do (the `spawn` start method, never a bare `fork`) |
//! | `p.join()`, `p.exitcode`, `p.kill()` | [`Child::join`] `-> ExitStatus`, [`Child::kill`] | |
//! | `multiprocessing.Lock()` | [`Lock<T>`]: `lock`, `try_lock`, `lock_timeout`, `is_locked` | returns `Err(`[`OwnerDied`]`)` when the holder died holding it |
//! | `multiprocessing.Event()` | [`Event`] | same methods as `synclab::Event` |
//! | `multiprocessing.Semaphore(n)` | [`Semaphore`] | same methods as `synclab::Semaphore` |
//! | `multiprocessing.Semaphore(n)` that survives a killed holder (`SEM_UNDO`'s idea) | [`RobustSemaphore<N>`](RobustSemaphore): `acquire`, `try_acquire`, `acquire_timeout`, `release`, `reclaim` | each permit records its holder's pid; a dead holder's permit is taken over with `Err(`[`HolderDied`]`)` |
//! | `multiprocessing.Queue(maxsize)` | [`Queue<T, N>`](Queue) | fixed-size plain-data items in a ring of `N` slots |
//! | `multiprocessing.Queue()` of any picklable object, `JoinableQueue` | `MessageQueue<T>` (`serde` feature) for any `Serialize + DeserializeOwned` `T`, over [`ByteQueue`] for bytes: `put`/`try_put`/`put_timeout`, `get`..., `task_done`, `join`, `shutdown` | length-prefixed records in a ring whose size is chosen at run time; postcard as the pickle; a message that does not fit comes back in [`PutMessageError`], garbage is [`GetMessageError`] |
//! | `multiprocessing.Pool(n)` | `Pool` (`serde` feature): `new(n)`, `apply_async(f, arg)`, `map`, `imap_unordered`, `close`, `join`, `terminate`; `process::init()`, one line at the top of `main`, for the workers | a task that panics, or whose worker dies (signal, exit), gets an `Err` saying how; the dead worker is replaced and the other tasks complete |
//! | `shared_memory.SharedMemory(name=...)`, `Value`, `Array` | [`Shared<T>`](Shared): [`new`](Shared::new), [`create_named`](Shared::create_named), [`open_named`](Shared::open_named), [`inherited`](Shared::inherited) | any [`Shareable`] `T` |
//!
//! # What may live in shared memory
//!
//! Only [`Shareable`] types: plain numbers, atomic integers, arrays and tuples of them,
//! `#[repr(C)]` structs of them, and the primitives of this module. **Every bit pattern must be
//! a valid value**: another process may be buggy or killed half-way through a write, and a
//! `bool` holding 2 or a `char` above `0x10FFFF` would be undefined behaviour in the process
//! that reads it, so `bool`, `char`, `AtomicBool` and enums are not shareable (store a `u8` or a
//! `u32` and check it). **No pointers, no references, no heap data** (`Box`, `Vec`, `String`,
//! `Arc`): each process maps the region at another address and has its own heap, so an address
//! written by one process means nothing to another. No file descriptors either, and no
//! `synclab::Lock` and friends: they sleep on *private* futexes, which a process cannot wake in
//! another. Values in a region are never dropped. [`Queue`] copies items byte for byte, which
//! is why it takes `T: Shareable + Copy`; to send a `String`, a `Vec` or any `serde` value, the
//! `MessageQueue` encodes it into bytes (Python pickles each object it sends) and sends those
//! through a [`ByteQueue`], which checks every length and index word it reads from the region.
//!
//! # The state words
//!
//! Each primitive documents its words where they are defined:
//!
//! | primitive | words | table |
//! |---|---|---|
//! | [`Lock`] | two: the holder's pid with `CONTENDED` and `DIED_HINT` bits; the holder's identity (pid, start time) | `process/raw_lock.rs`, `RawLock` |
//! | [`Event`] | one: `SET`, `WAITERS`, generation | `process/event.rs` |
//! | [`Semaphore`] | two: free permits, sleepers | `process/semaphore.rs` |
//! | [`RobustSemaphore`] | one per permit (its holder's pid), a release counter, sleepers | `process/robust_semaphore.rs` |
//! | [`Queue`] | a `Lock` over the ring (`head \| len` commit word), two sequence words | `process/queue.rs` |
//! | [`ByteQueue`] (and `MessageQueue`) | a `Lock` over the `head \| used` commit word, each record's length word, `unfinished`; three sequence words | `process/msg_ring.rs` |
//!
//! # A process that dies
//!
//! A process killed (SIGKILL) while it holds a [`Lock`] never unlocks it. The lock word holds
//! the holder's pid, and beside it the holder's start time, so that a holder whose pid went to
//! a new process is not mistaken for it. On Linux a process that sleeps on the lock has a death
//! watcher thread poll the holder's pidfd, which the kernel makes readable when the holder
//! exits (zombie or not), and is woken at once; `try_lock` judges the holder when it finds the
//! lock held. Where there are no pidfds (before Linux 5.3, or denied by a sandbox) sleepers
//! check every 50 ms with `kill(pid, 0)`. If the holder is dead, the waiter takes the
//! lock and gets [`OwnerDied`], which holds the guard: the data may be half-updated, and the
//! new holder decides how to repair it. [`Queue`] is written so that it never needs repairing:
//! an item becomes visible (or its slot free) with one store, made last, so a process killed in
//! the middle of `put` or `get` leaves no torn item and loses no slot.
//!
//! Limits: with `kill(pid, 0)` (no pidfds) a zombie not yet reaped by its parent looks alive; a
//! holder killed before it stored its start time is judged by its pid alone. A [`Semaphore`]
//! has no owner: a process killed holding a permit takes it along; a [`RobustSemaphore`]
//! records each permit's holder (by pid alone) and gives a dead one's permit back.
//!
//! # Platforms
//!
//! Linux only. On every other platform the module compiles, the primitives work between the
//! threads of one process, and every constructor of a [`Shared`] region (and
//! [`Command::spawn`]) returns [`ProcessError::Unsupported`].
//!
//! # Example
//!
//! A child puts its pid into a queue that the parent reads:
//!
//! ```no_run
//! use synclab::process::{self, Command, Queue, Shared};
//!
//! fn main() -> Result<(), synclab::process::ProcessError> {
//!     if process::role().as_deref() == Some("hello") {
//!         let q = Shared::<Queue<u32, 8>>::inherited(0)?;
//!         q.put(std::process::id()).unwrap();
//!         return Ok(());
//!     }
//!     let q = Shared::new(Queue::<u32, 8>::new())?;
//!     let child = Command::new("hello").share(&q).spawn()?;
//!     println!("the child says its pid is {}", q.get().unwrap());
//!     child.join()?;
//!     Ok(())
//! }
//! ```

mod byte_queue;
mod command;
mod error;
mod event;
mod lock;
mod message_error;
#[cfg(feature = "serde")]
mod message_queue;
mod msg_ring;
mod owner;
#[cfg(all(target_os = "linux", not(miri)))]
mod owner_watch;
#[cfg(all(feature = "serde", not(loom)))]
mod pool;
mod queue;
mod raw_lock;
mod ring;
mod robust_semaphore;
mod semaphore;
mod shareable;
mod shared;
pub(crate) mod sys;
mod wait_any;

pub use byte_queue::ByteQueue;
pub use command::{Child, Command, role};
pub use error::{OwnerDied, ProcessError};
pub use event::Event;
pub use lock::{Lock, LockGuard, LockResult};
pub use message_error::{GetMessageError, PutMessageError};
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use message_queue::MessageQueue;
#[doc(hidden)]
pub use owner::force_polling as __force_owner_polling;
#[cfg(all(feature = "serde", not(loom)))]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use pool::{Pool, PoolBuilder, init};
pub use queue::Queue;
#[doc(hidden)]
pub use ring::__stall_puts_half_written;
pub use robust_semaphore::{HolderDied, NotHolder, RobustSemaphore};
pub use semaphore::Semaphore;
pub use shareable::Shareable;
pub use shared::Shared;
pub use wait_any::{Waitable, wait_any, wait_any_timeout};
