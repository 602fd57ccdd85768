//! How one execution ended.

use std::fmt::{self, Debug, Display};

/// How one execution of the model ended.
///
/// ```
/// use synclab::explore::Outcome;
///
/// let ok: Outcome<i64> = Outcome::Returned(-8);
/// assert_eq!(ok.returned(), Some(&-8));
/// assert_eq!(ok.to_string(), "returned -8");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The main closure returned this value (and every thread ended).
    Returned(T),
    /// A model thread panicked; the execution stopped there.
    Panicked {
        /// The thread's name.
        thread: String,
        /// The panic message.
        message: String,
    },
    /// No thread could go on: one line per blocked thread, saying what it waits for.
    Deadlock(Vec<String>),
    /// The execution ran more steps than the limit (a loop that never ends in this schedule).
    StepLimit(usize),
}

impl<T> Outcome<T> {
    /// The returned value, if the execution returned.
    ///
    /// ```
    /// use synclab::explore::Outcome;
    /// assert_eq!(Outcome::<u8>::StepLimit(10).returned(), None);
    /// ```
    pub fn returned(&self) -> Option<&T> {
        match self {
            Outcome::Returned(v) => Some(v),
            _ => None,
        }
    }
}

impl<T: Debug> Display for Outcome<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(v) => write!(f, "returned {v:?}"),
            Outcome::Panicked { thread, message } => write!(f, "{thread} panicked: {message}"),
            Outcome::Deadlock(blocked) => write!(f, "deadlock: {}", blocked.join("; ")),
            Outcome::StepLimit(n) => write!(f, "more than {n} steps"),
        }
    }
}
