// A `LockGuard` must stay on the thread that locked: the futex lock may be released only by
// its owner, so moving the guard to another thread must not compile.
use synclab::Lock;

fn main() {
    let lock: &'static Lock<i32> = Box::leak(Box::new(Lock::new(0)));
    let guard = lock.lock();
    std::thread::spawn(move || {
        drop(guard);
    });
}
