// A `SemaphorePermit` borrows its `Semaphore`: it cannot be returned past the semaphore's
// lifetime.
use synclab::{Semaphore, SemaphorePermit};

fn permit_of_local() -> SemaphorePermit<'static> {
    let sem = Semaphore::new(1);
    sem.permit()
}

fn main() {
    let _permit = permit_of_local();
}
