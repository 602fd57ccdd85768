//! Who goes next: the choice at each scheduling point, and the depth-first walk over them.
//!
//! A *choice* is a scheduling point where two or more threads are enabled; where only one is,
//! it simply runs (a forced step is not a choice and is not in the replay key). Each choice is
//! logged as a [`Decision`]; the replay key has one character per choice, the chosen thread's
//! number in base 36 (`0` is the main thread, `1` the first spawned thread, ...).
//!
//! The exhaustive walk replays a *prefix* of choices and then takes the default at every new
//! choice: the thread that was running goes on if it can, otherwise the lowest-numbered enabled
//! thread. After each execution, [`next_prefix`] backtracks to the deepest choice that still has
//! an untried alternative within the preemption bound (CHESS: Musuvathi and Qadeer, PLDI 2007).
//! A *preemption* is a switch away from a thread that could have gone on.

use super::ExploreError;

/// One logged choice.
pub(crate) struct Decision {
    /// The enabled threads, ascending.
    pub(crate) enabled: Vec<usize>,
    /// The deciding thread, when it could have gone on itself.
    pub(crate) current: Option<usize>,
    pub(crate) chosen: usize,
}

impl Decision {
    /// The alternatives in the order the walk tries them: the default first.
    fn alternatives(&self) -> Vec<usize> {
        let first = self.current.unwrap_or(self.enabled[0]);
        let mut alts = vec![first];
        alts.extend(self.enabled.iter().copied().filter(|&t| t != first));
        alts
    }

    fn preempts(&self, t: usize) -> bool {
        self.current.is_some_and(|c| c != t)
    }
}

/// splitmix64 (Steele, Lea and Flood, OOPSLA 2014): a tiny seeded generator, so that a seed
/// names the same schedules on every machine.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is irrelevant for a few threads.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// How the choices of one execution are made.
pub(crate) enum Strategy {
    /// Follow `choices`, then the default; with `strict` (a replay key) running out of choices
    /// or leaving some unused is an error.
    /// `expected[i]`, when there, is the enabled set the walk saw at choice `i` before: a
    /// different one means the model is not deterministic.
    Prefix {
        choices: Vec<usize>,
        expected: Vec<Vec<usize>>,
        strict: bool,
    },
    /// Uniformly random among the enabled threads.
    Random(SplitMix64),
    /// PCT (Burckhardt et al., ASPLOS 2010): random thread priorities, the highest enabled runs;
    /// at each change point the running thread drops below all others.
    Pct {
        rng: SplitMix64,
        priority: Vec<u64>,
        change_at: Vec<usize>,
    },
}

/// The plan of one execution and its log.
pub(crate) struct Plan {
    pub(crate) strategy: Strategy,
    pub(crate) decisions: Vec<Decision>,
    pub(crate) key: String,
    pub(crate) error: Option<ExploreError>,
}

/// The key character of thread `t`.
pub(crate) fn key_char(t: usize) -> char {
    char::from_digit(t as u32, 36).expect("at most 36 threads")
}

impl Plan {
    pub(crate) fn new(strategy: Strategy) -> Self {
        Plan {
            strategy,
            decisions: Vec::new(),
            key: String::new(),
            error: None,
        }
    }

    /// Chooses among `enabled` (two or more, ascending).
    pub(crate) fn choose(
        &mut self,
        enabled: &[usize],
        current: Option<usize>,
    ) -> Result<usize, ExploreError> {
        let at = self.decisions.len();
        let default = current.unwrap_or(enabled[0]);
        let chosen = match &mut self.strategy {
            Strategy::Prefix {
                expected, strict, ..
            } if !*strict && expected.get(at).is_some_and(|e| e != enabled) => {
                return Err(ExploreError::Nondeterministic { at });
            }
            Strategy::Prefix {
                choices, strict, ..
            } => match choices.get(at) {
                Some(&t) if enabled.contains(&t) => t,
                Some(&t) => {
                    let key: String = choices.iter().map(|&c| key_char(c)).collect();
                    return Err(if *strict {
                        ExploreError::BadKey {
                            key,
                            at,
                            reason: format!("thread {} cannot run there", key_char(t)),
                        }
                    } else {
                        ExploreError::Nondeterministic { at }
                    });
                }
                None if *strict => {
                    let key: String = choices.iter().map(|&c| key_char(c)).collect();
                    return Err(ExploreError::BadKey {
                        key,
                        at,
                        reason: "the key ends before the schedule does".into(),
                    });
                }
                None => default,
            },
            Strategy::Random(rng) => enabled[rng.below(enabled.len())],
            Strategy::Pct {
                rng,
                priority,
                change_at,
            } => {
                while priority.len() < 36 {
                    priority.push((rng.next_u64() >> 2) | (1 << 62));
                }
                let best = |p: &[u64]| *enabled.iter().max_by_key(|&&t| p[t]).expect("enabled");
                let mut t = best(priority);
                if let Some(k) = change_at.iter().position(|&c| c == at) {
                    priority[t] = k as u64; // below every initial priority
                    t = best(priority);
                }
                t
            }
        };
        self.decisions.push(Decision {
            enabled: enabled.to_vec(),
            current,
            chosen,
        });
        self.key.push(key_char(chosen));
        Ok(chosen)
    }

    /// For a replay key: every character must have been used.
    pub(crate) fn check_used_up(&self) -> Result<(), ExploreError> {
        match &self.strategy {
            Strategy::Prefix {
                choices,
                strict: true,
                ..
            } if choices.len() > self.decisions.len() => Err(ExploreError::BadKey {
                key: choices.iter().map(|&c| key_char(c)).collect(),
                at: self.decisions.len(),
                reason: "the schedule ended before the key did".into(),
            }),
            _ => Ok(()),
        }
    }
}

// ANCHOR: next_prefix
/// The choices of the next schedule in depth-first order, or `None` when every schedule
/// within `bound` preemptions has been run; with the enabled sets those choices were made in.
pub(crate) fn next_prefix(
    decisions: &[Decision],
    bound: Option<usize>,
) -> Option<(Vec<usize>, Vec<Vec<usize>>)> {
    let mut preemptions = Vec::with_capacity(decisions.len());
    let mut so_far = 0;
    for d in decisions {
        preemptions.push(so_far);
        so_far += usize::from(d.preempts(d.chosen));
    }
    for (i, d) in decisions.iter().enumerate().rev() {
        let alts = d.alternatives();
        let tried = alts.iter().position(|&t| t == d.chosen).expect("chosen");
        for &alt in &alts[tried + 1..] {
            let p = preemptions[i] + usize::from(d.preempts(alt));
            if bound.is_none_or(|b| p <= b) {
                let mut prefix: Vec<usize> = decisions[..i].iter().map(|d| d.chosen).collect();
                prefix.push(alt);
                let expected = decisions[..=i].iter().map(|d| d.enabled.clone()).collect();
                return Some((prefix, expected));
            }
        }
    }
    None
}
// ANCHOR_END: next_prefix

/// Parses a replay key into thread numbers.
pub(crate) fn parse_key(key: &str) -> Result<Vec<usize>, ExploreError> {
    key.chars()
        .enumerate()
        .map(|(at, c)| {
            c.to_digit(36)
                .map(|d| d as usize)
                .ok_or_else(|| ExploreError::BadKey {
                    key: key.into(),
                    at,
                    reason: format!("{c:?} is not a thread number (0-9, a-z)"),
                })
        })
        .collect()
}
