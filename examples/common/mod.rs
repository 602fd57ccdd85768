//! What the scenario programs share: reading their command-line options.

use std::fmt::Debug;
use std::str::FromStr;

/// The value that follows `name` on the command line (`--runs 5` gives 5), or `default` when
/// the option is absent. A value that does not parse stops the program with a clear message.
pub fn arg<T: FromStr>(name: &str, default: T) -> T
where
    T::Err: Debug,
{
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => default,
        Some(i) => {
            let value = args
                .get(i + 1)
                .unwrap_or_else(|| panic!("{name} needs a value"));
            value
                .parse()
                .unwrap_or_else(|e| panic!("{name} takes a number, got {value:?}: {e:?}"))
        }
    }
}
