//! A circuit breaker for REST calls: after `threshold` consecutive retryable failures the
//! circuit opens for `cooldown`, during which calls fail fast instead of piling onto a broker
//! that is down; the first call after the cooldown is a trial (half-open) whose success
//! closes the circuit again.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::brokers::BrokerError;

#[derive(Debug)]
struct Inner {
    failures: u32,
    open_until: Option<Instant>,
}

/// The breaker. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner {
                failures: 0,
                open_until: None,
            }),
        }
    }

    /// Returns an error without calling when the circuit is open.
    pub fn check(&self) -> Result<(), BrokerError> {
        let g = self
            .inner
            .lock()
            .map_err(|_| BrokerError::Protocol("breaker poisoned".into()))?;
        match g.open_until {
            Some(t) if Instant::now() < t => Err(BrokerError::CircuitOpen(format!(
                "circuit open after {} failures in a row; next try in {} ms",
                g.failures,
                t.saturating_duration_since(Instant::now()).as_millis()
            ))),
            _ => Ok(()),
        }
    }

    /// Records a call's outcome.
    pub fn record<T>(&self, result: &Result<T, BrokerError>) {
        let Ok(mut g) = self.inner.lock() else { return };
        match result {
            Ok(_) => {
                g.failures = 0;
                g.open_until = None;
            }
            Err(e) if e.retryable() => {
                g.failures += 1;
                if g.failures >= self.threshold {
                    g.open_until = Some(Instant::now() + self.cooldown);
                }
            }
            // A rejected order or bad credentials say nothing about the link's health.
            Err(_) => {}
        }
    }

    /// Runs `call` through the breaker.
    pub async fn call<T, F>(&self, call: F) -> Result<T, BrokerError>
    where
        F: std::future::Future<Output = Result<T, BrokerError>>,
    {
        self.check()?;
        let r = call.await;
        self.record(&r);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> Result<(), BrokerError> {
        Err(BrokerError::Unavailable {
            status: 500,
            message: "boom".into(),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_fails_fast_then_recovers() {
        let b = CircuitBreaker::new(3, Duration::from_secs(10));
        for _ in 0..3 {
            assert!(b.call(async { down() }).await.is_err());
        }
        let mut called = false;
        let r = b
            .call(async {
                called = true;
                Ok::<_, BrokerError>(())
            })
            .await;
        assert!(r.is_err() && !called, "open circuit fails fast");
        tokio::time::advance(Duration::from_secs(11)).await;
        b.call(async { Ok::<_, BrokerError>(()) })
            .await
            .expect("trial call closes it");
        assert!(b.check().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_errors_do_not_trip_it() {
        let b = CircuitBreaker::new(2, Duration::from_secs(10));
        for _ in 0..5 {
            let _ = b
                .call(async { Err::<(), _>(BrokerError::Auth("no".into())) })
                .await;
        }
        assert!(b.check().is_ok());
    }
}
