//! The explore-aware semaphore: `acquire` is a scheduling point at which the thread waits
//! (is not chosen) until a permit is there.

use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex};

use super::sched::Pending;
use super::types::{locked, point, record};

/// The model state of an explore [`Semaphore`]: its permits.
pub(crate) struct SemCore {
    pub(crate) name: String,
    permits: Mutex<usize>,
}

impl SemCore {
    pub(crate) fn available(&self) -> usize {
        *locked(&self.permits)
    }
}

/// An explore-aware semaphore with synclab's [`Semaphore`](crate::Semaphore) methods: a thread
/// in [`acquire`](Semaphore::acquire) is not scheduled until a permit is there.
///
/// ```
/// use synclab::explore::{self, Semaphore, Shared};
///
/// // t1 writes, then signals; main waits for the signal, so it always reads 1.
/// let report = explore::run(|| {
///     let (data, ready) = (Shared::new("data", 0), Semaphore::new("ready", 0));
///     let (d, r) = (data.clone(), ready.clone());
///     explore::spawn("t1", move || {
///         d.store(1);
///         r.release();
///     });
///     ready.acquire();
///     data.load()
/// })
/// .unwrap();
/// assert_eq!(report.count(|o| o.returned() == Some(&1)), report.schedules());
/// ```
#[derive(Clone)]
pub struct Semaphore {
    core: Arc<SemCore>,
}

impl Semaphore {
    /// A semaphore called `name` with `permits` permits.
    ///
    /// ```
    /// let sem = synclab::explore::Semaphore::new("slots", 2);
    /// assert_eq!(sem.available(), 2);
    /// ```
    pub fn new(name: &str, permits: usize) -> Self {
        Semaphore {
            core: Arc::new(SemCore {
                name: name.into(),
                permits: Mutex::new(permits),
            }),
        }
    }

    /// Waits for a permit and takes it (one step). Outside [`run`](super::run) there is no
    /// other thread to wait for: it panics when no permit is left.
    ///
    /// ```
    /// let sem = synclab::explore::Semaphore::new("s", 1);
    /// sem.acquire();
    /// assert_eq!(sem.available(), 0);
    /// ```
    pub fn acquire(&self) {
        let ctx = point(Pending::Permit(Arc::clone(&self.core)));
        let mut permits = locked(&self.core.permits);
        assert!(
            *permits > 0,
            "explore::Semaphore::acquire would block forever"
        );
        *permits -= 1;
        drop(permits);
        record(&ctx, format!("acquire {}", self.core.name), None);
    }

    /// Takes a permit if one is left (one step either way).
    ///
    /// ```
    /// let sem = synclab::explore::Semaphore::new("s", 1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        let ctx = point(Pending::Op);
        let mut permits = locked(&self.core.permits);
        let got = *permits > 0;
        *permits -= usize::from(got);
        drop(permits);
        let what = if got { "got one" } else { "none left" };
        record(
            &ctx,
            format!("try_acquire {}: {what}", self.core.name),
            None,
        );
        got
    }

    /// Gives a permit back (one step); any thread may release.
    ///
    /// ```
    /// let sem = synclab::explore::Semaphore::new("s", 0);
    /// sem.release();
    /// assert_eq!(sem.available(), 1);
    /// ```
    pub fn release(&self) {
        let ctx = point(Pending::Op);
        *locked(&self.core.permits) += 1;
        record(&ctx, format!("release {}", self.core.name), None);
    }

    /// The permits left, read without a scheduling point (for checks after `join`).
    ///
    /// ```
    /// assert_eq!(synclab::explore::Semaphore::new("s", 3).available(), 3);
    /// ```
    pub fn available(&self) -> usize {
        self.core.available()
    }
}

impl Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Semaphore({}: {})", self.core.name, self.available())
    }
}
