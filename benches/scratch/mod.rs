//! `perf_scratch`'s lock, condition and event cases (the queue cases and the driver are in
//! `benches/perf_scratch.rs`).

use std::hint::black_box;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- locks

pub mod counted;
pub mod futex;
pub mod policy;
pub use futex::Futex;

pub trait BenchLock: Sync + Default {
    /// Lock, add one and run `rounds` of [`busy`] on the counter, unlock.
    fn incr(&self, rounds: u32);
}

/// `rounds` dependent multiply-adds (as `benches/common`'s `busy`): the "long" critical
/// section is 32 of them, as in `benches/lock.rs`.
#[inline]
pub fn busy(x: &mut u64, rounds: u32) {
    for _ in 0..rounds {
        *x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}
impl BenchLock for synclab::Lock<u64> {
    #[inline]
    fn incr(&self, rounds: u32) {
        let mut n = self.lock();
        *n += 1;
        busy(&mut n, rounds);
    }
}
impl BenchLock for std::sync::Mutex<u64> {
    #[inline]
    fn incr(&self, rounds: u32) {
        let mut n = self.lock().unwrap();
        *n += 1;
        busy(&mut n, rounds);
    }
}
/// A raw lock the scratch benchmarks wrap around a `u64` ([`Guarded`]).
pub trait RawBench: Sync + Default {
    fn lock(&self);
    /// # Safety
    ///
    /// The calling thread holds the lock.
    unsafe fn unlock(&self);
}

/// A `u64` behind a raw lock, as `synclab::Lock<u64>` is behind a `RawLock`.
#[derive(Default)]
pub struct Guarded<L>(L, std::cell::UnsafeCell<u64>);

// SAFETY: the `u64` is touched only by the thread that holds the lock.
unsafe impl<L: Sync> Sync for Guarded<L> {}

impl<L: RawBench> BenchLock for Guarded<L> {
    #[inline]
    fn incr(&self, rounds: u32) {
        self.0.lock();
        // SAFETY: the lock is held, so this is the only access to the `u64`; and this thread
        // holds the lock it releases.
        unsafe {
            *self.1.get() += 1;
            busy(&mut *self.1.get(), rounds);
            self.0.unlock();
        }
    }
}

impl RawBench for counted::CountedLock {
    #[inline]
    fn lock(&self) {
        counted::CountedLock::lock(self);
    }
    #[inline]
    unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock (the trait's contract).
        unsafe { counted::CountedLock::unlock(self) }
    }
}

/// The counted lock of tuning log entry 15.
pub type Counted = Guarded<counted::CountedLock>;
impl BenchLock for synclab::process::Lock<u64> {
    #[inline]
    fn incr(&self, rounds: u32) {
        let mut n = self.lock().unwrap();
        *n += 1;
        busy(&mut n, rounds);
    }
}
impl BenchLock for parking_lot::Mutex<u64> {
    #[inline]
    fn incr(&self, rounds: u32) {
        let mut n = self.lock();
        *n += 1;
        busy(&mut n, rounds);
    }
}

pub fn lock_uncontended<L: BenchLock>(iters: u64) -> Duration {
    let l = L::default();
    let start = Instant::now();
    for _ in 0..iters {
        black_box(&l).incr(0);
    }
    start.elapsed()
}

pub fn lock_contended<L: BenchLock>(threads: usize, rounds: u32, iters: u64) -> Duration {
    let l = L::default();
    let per = iters / threads as u64;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per {
                    l.incr(rounds);
                }
            });
        }
    });
    start.elapsed()
}

// ---------------------------------------------------------------- condition, event

pub fn cond_synclab(iters: u64) -> Duration {
    let c = synclab::Condition::new();
    let start = Instant::now();
    for _ in 0..iters {
        black_box(&c).notify_one();
    }
    start.elapsed()
}

pub fn cond_std(iters: u64) -> Duration {
    let c = std::sync::Condvar::new();
    let start = Instant::now();
    for _ in 0..iters {
        black_box(&c).notify_one();
    }
    start.elapsed()
}

/// Two threads hand a turn back and forth `iters` times through two events.
pub fn event_synclab(iters: u64) -> Duration {
    let ping = synclab::Event::new();
    let pong = synclab::Event::new();
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..iters {
                ping.wait();
                ping.clear();
                pong.set();
            }
        });
        for _ in 0..iters {
            ping.set();
            pong.wait();
            pong.clear();
        }
    });
    start.elapsed()
}

struct StdEvent(std::sync::Mutex<bool>, std::sync::Condvar);
impl StdEvent {
    fn new() -> Self {
        StdEvent(std::sync::Mutex::new(false), std::sync::Condvar::new())
    }
    fn set(&self) {
        *self.0.lock().unwrap() = true;
        self.1.notify_all();
    }
    fn wait_clear(&self) {
        let mut g = self.1.wait_while(self.0.lock().unwrap(), |s| !*s).unwrap();
        *g = false;
    }
}

pub fn event_std(iters: u64) -> Duration {
    let ping = StdEvent::new();
    let pong = StdEvent::new();
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..iters {
                ping.wait_clear();
                pong.set();
            }
        });
        for _ in 0..iters {
            ping.set();
            pong.wait_clear();
        }
    });
    start.elapsed()
}

// ---------------------------------------------------------------- process semaphores

/// `iters` uncontended acquire/release pairs on the plain process semaphore.
pub fn process_sem_plain(iters: u64) -> Duration {
    let sem = synclab::process::Semaphore::new(4);
    let start = Instant::now();
    for _ in 0..iters {
        black_box(&sem).acquire();
        black_box(&sem).release().unwrap();
    }
    start.elapsed()
}

/// The same on the robust one (each permit records its holder's pid).
pub fn process_sem_robust(iters: u64) -> Duration {
    let sem = synclab::process::RobustSemaphore::<4>::new();
    let start = Instant::now();
    for _ in 0..iters {
        let _ = black_box(&sem).acquire();
        black_box(&sem).release().unwrap();
    }
    start.elapsed()
}

/// `threads` threads sharing `iters` acquire/release pairs on 2 permits of the plain semaphore.
pub fn process_sem_plain_contended(threads: usize, iters: u64) -> Duration {
    let sem = synclab::process::Semaphore::new(2);
    let per = iters / threads as u64;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per {
                    sem.acquire();
                    sem.release().unwrap();
                }
            });
        }
    });
    start.elapsed()
}

/// The same on the robust one.
pub fn process_sem_robust_contended(threads: usize, iters: u64) -> Duration {
    let sem = synclab::process::RobustSemaphore::<2>::new();
    let per = iters / threads as u64;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per {
                    let _ = sem.acquire();
                    sem.release().unwrap();
                }
            });
        }
    });
    start.elapsed()
}
