//! Throw-away copies of `synclab::FutexLock` (the three-state lock) that differ only in `spin`,
//! the wait before sleeping (tuning log entry 19), so that the candidates run interleaved in one `perf_scratch` binary:
//! `lockpol/contended{2,4,8}{,_long}`.
//!
//! `Policy<PAUSES, YIELDS>`: one round of `PAUSES` `spin_loop`s (0: none), then up to `YIELDS`
//! `yield_now`s, looking at the state after each; `PAUSES == u32::MAX` is the current policy
//! (`Backoff::snooze`: rounds of 1, 2, … 64 `PAUSE`s, then 4 yields).

use std::cell::UnsafeCell;
use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};

use super::{BenchLock, busy};

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
const CONTENDED: u32 = 2;

#[derive(Default)]
pub struct Policy<const PAUSES: u32, const YIELDS: u32> {
    state: AtomicU32,
    data: UnsafeCell<u64>,
}

// SAFETY: the `u64` is touched only under the lock.
unsafe impl<const P: u32, const Y: u32> Sync for Policy<P, Y> {}

impl<const PAUSES: u32, const YIELDS: u32> Policy<PAUSES, YIELDS> {
    #[inline]
    fn lock(&self) {
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    #[inline]
    fn unlock(&self) {
        if self.state.swap(UNLOCKED, Release) == CONTENDED {
            synclab::futex::wake_one(&self.state);
        }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut state = self.spin();
        if state == UNLOCKED {
            match self
                .state
                .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            {
                Ok(_) => return,
                Err(s) => state = s,
            }
        }
        loop {
            if state != CONTENDED && self.state.swap(CONTENDED, Acquire) == UNLOCKED {
                return;
            }
            synclab::futex::wait(&self.state, CONTENDED, None);
            state = self.spin();
        }
    }

    #[inline]
    fn spin(&self) -> u32 {
        let look = || self.state.load(Relaxed);
        if PAUSES == u32::MAX {
            // The current `Backoff::snooze` loop.
            let mut step = 0u32;
            loop {
                let s = look();
                if s != LOCKED || step > 10 {
                    return s;
                }
                if step <= 6 {
                    for _ in 0..1u32 << step {
                        std::hint::spin_loop();
                    }
                } else {
                    std::thread::yield_now();
                }
                step += 1;
            }
        }
        let mut s = look();
        if s != LOCKED {
            return s;
        }
        if PAUSES > 0 {
            for _ in 0..PAUSES {
                std::hint::spin_loop();
            }
            s = look();
        }
        for _ in 0..YIELDS {
            if s != LOCKED {
                return s;
            }
            std::thread::yield_now();
            s = look();
        }
        s
    }
}

impl<const P: u32, const Y: u32> BenchLock for Policy<P, Y> {
    #[inline]
    fn incr(&self, rounds: u32) {
        self.lock();
        // SAFETY: held; and this thread holds the lock it releases.
        unsafe {
            *self.data.get() += 1;
            busy(&mut *self.data.get(), rounds);
        }
        self.unlock();
    }
}
