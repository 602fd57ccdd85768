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
//! | [`Lock`] | one: the holder's pid and a `CONTENDED` bit | `process/lock.rs`, `RawLock` |
//! | [`Event`] | one: `SET`, `WAITERS`, generation | `process/event.rs` |
//! | [`Semaphore`] | two: free permits, sleepers | `process/semaphore.rs` |
//! | [`Queue`] | a `Lock` over the ring (`head \| len` commit word), two sequence words | `process/queue.rs` |
//! | [`ByteQueue`] (and `MessageQueue`) | a `Lock` over the `head \| used` commit word, each record's length word, `unfinished`; three sequence words | `process/msg_ring.rs` |
//!
//! # A process that dies
//!
//! A process killed (SIGKILL) while it holds a [`Lock`] never unlocks it. The lock word holds
//! the holder's pid; a process that waits for the lock checks, every 50 ms and when `try_lock`
//! finds the lock held, whether that process still exists (`kill(pid, 0)`). If not, it takes the
//! lock and gets [`OwnerDied`], which holds the guard: the data may be half-updated, and the
//! new holder decides how to repair it. [`Queue`] is written so that it never needs repairing:
//! an item becomes visible (or its slot free) with one store, made last, so a process killed in
//! the middle of `put` or `get` leaves no torn item and loses no slot.
//!
//! Limits: the dead holder is recognized by its pid, so a holder whose pid was already reused by
//! a new process (after the whole pid range was used), or a zombie not yet reaped by its parent,
//! looks alive. A semaphore has no owner: a process killed holding a permit takes it along.
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
#[cfg(all(feature = "serde", not(loom)))]
mod pool;
mod queue;
mod ring;
mod semaphore;
mod shareable;
mod shared;
mod sys;

pub use byte_queue::ByteQueue;
pub use command::{Child, Command, role};
pub use error::{OwnerDied, ProcessError};
pub use event::Event;
pub use lock::{Lock, LockGuard, LockResult};
pub use message_error::{GetMessageError, PutMessageError};
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use message_queue::MessageQueue;
#[cfg(all(feature = "serde", not(loom)))]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use pool::{Pool, PoolBuilder, init};
pub use queue::Queue;
#[doc(hidden)]
pub use ring::__stall_puts_half_written;
pub use semaphore::Semaphore;
pub use shareable::Shareable;
pub use shared::Shared;
