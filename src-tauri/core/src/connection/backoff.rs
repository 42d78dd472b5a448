//! Reconnect delays: exponential backoff with full jitter and a cap, first retry immediate
//! (a dropped link is usually back at once; hammering a broker that is really down is not).

use std::time::Duration;

/// Exponential backoff with full jitter: attempt 1 is immediate, attempt n ≥ 2 waits a
/// uniformly random time in `[0, min(cap, base · 2^(n−2))]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// Returns the upper bound of the delay before `attempt` (1-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        if attempt <= 1 {
            return Duration::ZERO;
        }
        let exp = attempt.saturating_sub(2).min(30);
        self.base.saturating_mul(1u32 << exp).min(self.cap)
    }

    /// Returns the jittered delay before `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        if ceiling.is_zero() {
            return ceiling;
        }
        let mut b = [0u8; 8];
        // A failed RNG only loses the jitter, never the bound.
        if getrandom::fill(&mut b).is_err() {
            return ceiling;
        }
        let frac = (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64;
        ceiling.mul_f64(frac)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_retry_is_immediate_then_grows_to_the_cap() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
        };
        assert_eq!(b.ceiling(1), Duration::ZERO);
        assert_eq!(b.delay(1), Duration::ZERO);
        assert_eq!(b.ceiling(2), Duration::from_millis(100));
        assert_eq!(b.ceiling(3), Duration::from_millis(200));
        assert_eq!(b.ceiling(6), Duration::from_millis(1600));
        assert_eq!(b.ceiling(7), Duration::from_secs(2));
        assert_eq!(b.ceiling(1000), Duration::from_secs(2));
    }

    #[test]
    fn jitter_stays_within_the_ceiling_and_varies() {
        let b = Backoff::default();
        let delays: Vec<Duration> = (0..200).map(|_| b.delay(5)).collect();
        assert!(delays.iter().all(|d| *d <= b.ceiling(5)));
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(distinct.len() > 100, "full jitter spreads the delays");
    }
}
