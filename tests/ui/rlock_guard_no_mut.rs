// An `RLockGuard` gives shared access only: the same thread may hold several guards of one
// `RLock` at once, so a `&mut T` through one of them would alias.
use synclab::RLock;

fn main() {
    let lock = RLock::new(0);
    let guard = lock.lock();
    *guard = 1;
}
