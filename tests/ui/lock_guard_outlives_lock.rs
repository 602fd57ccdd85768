// A `LockGuard` borrows its `Lock`: it cannot be returned past the lock's lifetime.
use synclab::{Lock, LockGuard};

fn guard_of_local() -> LockGuard<'static, i32> {
    let lock = Lock::new(0);
    lock.lock()
}

fn main() {
    let _guard = guard_of_local();
}
