//! The book's inline Rust code blocks, compiled and run as doctests by `cargo test`.
//!
//! Each chapter that has ```` ```rust ```` blocks is handed to rustdoc here (`cargo xtask book`
//! fails if one is missing). Blocks that include real source (`rust,ignore` around an
//! `{{#include}}`) are not doctests: that source is compiled where it lives.

#[doc = include_str!("../book/src/how-to-use.md")]
pub struct HowToUse;

#[doc = include_str!("../book/src/part2/atomics.md")]
pub struct Atomics;

#[doc = include_str!("../book/src/part2/futex.md")]
pub struct Futex;

#[doc = include_str!("../book/src/part2/lock.md")]
pub struct Lock;

#[doc = include_str!("../book/src/part2/event.md")]
pub struct Event;

#[doc = include_str!("../book/src/part2/semaphore.md")]
pub struct Semaphore;

#[doc = include_str!("../book/src/part2/condition.md")]
pub struct Condition;

#[doc = include_str!("../book/src/part2/queue.md")]
pub struct Queue;

#[doc = include_str!("../book/src/part2/select.md")]
pub struct Select;

#[doc = include_str!("../book/src/part2/rlock.md")]
pub struct RLock;

#[doc = include_str!("../book/src/part2/barrier.md")]
pub struct Barrier;

#[doc = include_str!("../book/src/part2/timer.md")]
pub struct Timer;

#[doc = include_str!("../book/src/part2/pool.md")]
pub struct Pool;

#[cfg(any(target_os = "linux", target_os = "android"))]
#[doc = include_str!("../book/src/part2/process.md")]
pub struct Process;

#[doc = include_str!("../book/src/part2/puzzles.md")]
pub struct Puzzles;

#[doc = include_str!("../book/src/part1/lost-update.md")]
pub struct LostUpdate;

#[doc = include_str!("../book/src/part1/primitives-at-work.md")]
pub struct PrimitivesAtWork;
