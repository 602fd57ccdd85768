//! The kill tests' common parts: children that put and get on a shared queue are SIGKILLed at
//! random moments, and a [`KillLog`] in shared memory says which puts were acknowledged and
//! which ids a getter took. (The pool's killer is in `pool_killer.rs`: it needs `serde`.)

use std::hash::{BuildHasher, RandomState};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use synclab::process::{Child, Command, Shareable};

/// At most this many items per round (the putter then waits to be killed).
pub const KILL_IDS: usize = 65_536;

/// What the children report: puts acknowledged, and which ids a getter took.
#[repr(C)]
pub struct KillLog {
    /// Puts that returned `Ok` (ids `0..acked`).
    pub acked: AtomicU64,
    /// Set by a getter that took an id twice.
    pub duplicate: AtomicU64,
    /// Bit `id`: a getter took item `id` (and said so).
    taken: [AtomicU64; KILL_IDS / 64],
}

// SAFETY: atomics only: every bit pattern valid, repr(C), no Drop, Sync.
unsafe impl Shareable for KillLog {}

impl KillLog {
    pub fn new() -> KillLog {
        KillLog {
            acked: AtomicU64::new(0),
            duplicate: AtomicU64::new(0),
            taken: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Marks `id` as taken: `true` if it already was.
    pub fn mark(&self, id: u64) -> bool {
        let bit = 1u64 << (id % 64);
        self.taken[id as usize / 64].fetch_or(bit, SeqCst) & bit != 0
    }

    /// The acknowledged ids that no getter took.
    pub fn missing(&self) -> Vec<usize> {
        (0..self.acked.load(SeqCst) as usize)
            .filter(|&id| self.taken[id / 64].load(SeqCst) & (1 << (id % 64)) == 0)
            .collect()
    }
}

/// Starts this test binary again as `role`, running only `test`, with `share`'s regions.
pub fn spawn_child(test: &str, role: &str, share: impl FnOnce(&mut Command)) -> Child {
    let mut cmd = Command::new(role);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    share(&mut cmd);
    cmd.stdout(Stdio::null());
    cmd.spawn().expect("spawn the child")
}

/// One round's kills: waits until items flow (starting a child takes milliseconds on a busy
/// machine), then SIGKILLs both children at random moments, the getter first in half the
/// rounds (while items still stream to it), and reaps them.
pub fn kill_both(round: u64, log: &KillLog, mut putter: Child, mut getter: Child) {
    // No time limit here: a putter that dies first fails at once, one that hangs is the
    // caller's watchdog's (`guarded`) to report.
    while log.acked.load(SeqCst) == 0 {
        let exited = putter
            .join_timeout(Duration::ZERO)
            .expect("poll the putter");
        assert!(
            exited.is_none(),
            "the putter exited ({exited:?}) before it put"
        );
        std::thread::yield_now();
    }
    let r = RandomState::new().hash_one(round);
    std::thread::sleep(Duration::from_micros(r % 3000));
    let (first, second) = if r >> 40 & 1 == 0 {
        (&mut putter, &mut getter)
    } else {
        (&mut getter, &mut putter)
    };
    first.kill().unwrap();
    std::thread::sleep(Duration::from_micros((r >> 16) % 1000));
    second.kill().unwrap();
    assert!(!putter.join().unwrap().success());
    assert!(!getter.join().unwrap().success());
}

/// The rounds' account, checked after the queue was drained into the log.
#[derive(Default)]
pub struct KillTally {
    rounds: u64,
    mid_stream: u64,
    getter_losses: usize,
}

impl KillTally {
    /// Checks round `round`: no id taken twice, and every acknowledged one taken except at
    /// most one, which the getter may have been killed with after its get took it and before
    /// it marked it (as with any queue).
    pub fn check(&mut self, round: u64, log: &KillLog) {
        assert_eq!(
            log.duplicate.load(SeqCst),
            0,
            "round {round}: a getter took an item twice"
        );
        let missing = log.missing();
        assert!(
            missing.len() <= 1,
            "round {round}: acknowledged items {missing:?} never arrived"
        );
        let acked = log.acked.load(SeqCst) as usize;
        self.rounds += 1;
        self.getter_losses += missing.len();
        self.mid_stream += u64::from(acked > 0 && acked < KILL_IDS);
    }

    /// Reports the rounds, and checks that most kills landed while items flowed.
    pub fn finish(self) {
        eprintln!(
            "{} rounds: {} killed mid-stream, {} in-flight gets lost",
            self.rounds, self.mid_stream, self.getter_losses
        );
        assert!(
            self.mid_stream > self.rounds / 2,
            "the kills did not land while items flowed"
        );
    }
}
