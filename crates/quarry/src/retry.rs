//! When to run a failed transaction again.

use std::time::Duration;

use quarry_core::Error;

/// How [`Engine::transaction_with`](crate::Engine::transaction_with) retries
/// a transaction that failed with a retryable error
/// ([`Error::is_retryable`]: serialization failure, deadlock, busy):
/// up to `max_attempts` runs in all, waiting an exponentially growing,
/// jittered delay between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs in all, the first included (1 means no retry).
    pub max_attempts: u32,
    /// The delay before the first retry.
    pub base_delay: Duration,
    /// The longest delay between runs.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Up to 5 runs, 10 ms doubling to at most 1 s.
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, base_delay: Duration::from_millis(10), max_delay: Duration::from_secs(1) }
    }
}

impl RetryPolicy {
    /// Run once, never retry.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// Up to `max_attempts` runs with the default delays.
    pub fn attempts(max_attempts: u32) -> Self {
        RetryPolicy { max_attempts: max_attempts.max(1), ..RetryPolicy::default() }
    }

    /// Whether run number `attempt` (1-based) failing with `error` should be
    /// followed by another.
    pub fn should_retry(&self, error: &Error, attempt: u32) -> bool {
        attempt < self.max_attempts && error.is_retryable() && !error.commit_outcome_unknown()
    }

    /// The delay after run number `attempt`: the base delay doubled per
    /// attempt, capped, with up to half of it taken off at random so that
    /// competing transactions spread out.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1_u32 << attempt.saturating_sub(1).min(16)).min(self.max_delay);
        let jitter = jitter_fraction();
        exp.mul_f64(1.0 - jitter / 2.0)
    }
}

/// A number in `[0, 1)` that differs between calls and threads, without a
/// random number crate.
fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    let bits = RandomState::new().hash_one(std::time::Instant::now());
    (bits >> 11) as f64 / (1_u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use quarry_core::ErrorKind;

    #[test]
    fn retries_only_retryable_errors_within_the_budget() {
        let p = RetryPolicy::attempts(3);
        let busy = Error::new(ErrorKind::Busy, "locked");
        assert!(p.should_retry(&busy, 1));
        assert!(p.should_retry(&busy, 2));
        assert!(!p.should_retry(&busy, 3));
        assert!(!p.should_retry(&Error::new(ErrorKind::UniqueViolation, "dup"), 1));
        assert!(!p.should_retry(&Error::new(ErrorKind::Deadlock, "x").with_outcome_unknown(), 1));
        assert!(!RetryPolicy::none().should_retry(&busy, 1));
    }

    #[test]
    fn delays_grow_and_stay_capped() {
        let p = RetryPolicy::default();
        for attempt in 1..20 {
            let d = p.delay(attempt);
            assert!(d <= p.max_delay, "{d:?}");
            assert!(d >= p.base_delay / 2, "{d:?}");
        }
        assert!(p.delay(6) > p.delay(1));
    }
}
