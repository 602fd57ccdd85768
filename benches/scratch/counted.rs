//! A prototype for issue 14, measured against `synclab::Lock` in `perf_scratch`: a lock word that
//! *counts* its sleepers instead of keeping a sticky `CONTENDED` flag.
//!
//! | bits | meaning |
//! |---|---|
//! | bit 0 | locked |
//! | bits 1.. | threads that registered to sleep and have not yet left (`2` per thread) |
//!
//! A waiter adds 2 while the lock is held, sleeps on the value it made, and takes its 2 back
//! once it returns (woken or not). `unlock` clears bit 0 and makes a system call only when the
//! count is not zero. So, unlike the three-state word, once the last sleeper has left, unlocks
//! are syscall-free again and newcomers spin rather than sleep (parking_lot's rule: spin only
//! while nobody is parked).

use std::sync::atomic::{
    AtomicU32,
    Ordering::{Acquire, Relaxed, Release},
};

const LOCKED: u32 = 1;
const SLEEPER: u32 = 2;

#[derive(Default)]
pub struct CountedLock {
    state: AtomicU32,
}

impl CountedLock {
    #[inline]
    pub fn lock(&self) {
        if self
            .state
            .compare_exchange_weak(0, LOCKED, Acquire, Relaxed)
            .is_err()
        {
            self.lock_slow();
        }
    }

    #[cold]
    fn lock_slow(&self) {
        let mut step = 0u32;
        let mut s = self.state.load(Relaxed);
        loop {
            if s & LOCKED == 0 {
                match self
                    .state
                    .compare_exchange_weak(s, s | LOCKED, Acquire, Relaxed)
                {
                    Ok(_) => return,
                    Err(now) => {
                        s = now;
                        continue;
                    }
                }
            }
            // Held. Spin (then yield) while nobody sleeps, as parking_lot does.
            if s < SLEEPER && step <= 10 {
                if step <= 3 {
                    for _ in 0..(2u32 << step) {
                        std::hint::spin_loop();
                    }
                } else {
                    std::thread::yield_now();
                }
                step += 1;
                s = self.state.load(Relaxed);
                continue;
            }
            // Register as a sleeper, only while it is still held.
            if let Err(now) = self
                .state
                .compare_exchange_weak(s, s + SLEEPER, Relaxed, Relaxed)
            {
                s = now;
                continue;
            }
            synclab::futex::wait(&self.state, s + SLEEPER, None);
            s = self.state.fetch_sub(SLEEPER, Relaxed) - SLEEPER;
            step = 0;
        }
    }

    /// # Safety
    /// Held by the caller.
    #[inline]
    pub unsafe fn unlock(&self) {
        if self.state.fetch_sub(LOCKED, Release) != LOCKED {
            synclab::futex::wake_one(&self.state);
        }
    }
}
