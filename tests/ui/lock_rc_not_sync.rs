// `Lock<T>` is `Sync` only for `T: Send`: an `Rc` inside must not be shared across threads.
use std::rc::Rc;
use synclab::Lock;

fn main() {
    let lock = Lock::new(Rc::new(0));
    std::thread::scope(|s| {
        s.spawn(|| {
            let _clone = Rc::clone(&lock.lock());
        });
    });
}
