//! The links the connection manager supervises, each a [`Link`] run by its own task:
//!
//! - [`OrderLink`]: the REST session of an account. Connecting is a `verify` (which also
//!   warms the connector's pooled HTTP client); serving is a keepalive loop
//!   ([`Broker::keepalive`]: a `verify`, or IBKR's tickle) whose every call must answer
//!   within two keepalive intervals.
//! - The price stream of every broker is a [`crate::stream::feed::PriceLink`]: every
//!   frame (price or heartbeat) must arrive within two heartbeat intervals, so a half-open
//!   socket is found dead in at most that.
//!
//! Both record what the UI shows (last message, last heartbeat, latency) in a shared
//! [`LinkMetrics`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{within, Link};
use crate::brokers::{Broker, BrokerError};

/// The keepalive interval of order links unless configured otherwise.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(30);

/// A snapshot of a link's metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// The last round trip (order links) in milliseconds.
    pub latency_ms: Option<u64>,
    pub messages: u64,
    /// When the broker session / access token expires (refreshed before then).
    pub session_expires_at: Option<DateTime<Utc>>,
}

/// Metrics shared between a link's task and the manager. A std `Mutex` is right here: it
/// is held for a few field writes, never across an `.await`.
#[derive(Debug, Default)]
pub struct LinkMetrics(Mutex<Metrics>);

impl LinkMetrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Returns a copy of the current figures.
    pub fn get(&self) -> Metrics {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut Metrics)) {
        if let Ok(mut m) = self.0.lock() {
            f(&mut m);
        }
    }

    /// Records a keepalive answered after `latency`.
    pub fn round_trip(&self, latency: Duration) {
        let now = Utc::now();
        self.update(|m| {
            m.latency_ms = Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX));
            m.last_heartbeat_at = Some(now);
            m.last_message_at = Some(now);
            m.messages = m.messages.saturating_add(1);
        });
    }

    /// Records when the session expires.
    pub fn session_expiry(&self, at: Option<DateTime<Utc>>) {
        self.update(|m| m.session_expires_at = at);
    }

    /// Records a stream message (`heartbeat` when it was one).
    pub fn message(&self, heartbeat: bool) {
        let now = Utc::now();
        self.update(|m| {
            m.last_message_at = Some(now);
            if heartbeat {
                m.last_heartbeat_at = Some(now);
            }
            m.messages = m.messages.saturating_add(1);
        });
    }
}

/// An account's REST session, kept alive by periodic keepalives.
pub struct OrderLink {
    broker: Arc<dyn Broker>,
    keepalive: Duration,
    metrics: Arc<LinkMetrics>,
}

impl OrderLink {
    pub fn new(broker: Arc<dyn Broker>, keepalive: Duration, metrics: Arc<LinkMetrics>) -> Self {
        Self {
            broker,
            keepalive: keepalive.max(Duration::from_millis(1)),
            metrics,
        }
    }

    fn limit(&self) -> Duration {
        self.keepalive.saturating_mul(2)
    }
}

#[async_trait]
impl Link for OrderLink {
    async fn connect(&mut self) -> Result<(), BrokerError> {
        let started = Instant::now();
        within(self.limit(), self.broker.verify()).await??;
        self.metrics.round_trip(started.elapsed());
        self.metrics
            .session_expiry(self.broker.session_expires_at());
        Ok(())
    }

    async fn serve(&mut self, cancel: &CancellationToken) -> Result<(), BrokerError> {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                _ = tokio::time::sleep(self.keepalive) => {}
            }
            let started = Instant::now();
            within(self.limit(), self.broker.keepalive()).await??;
            self.metrics.round_trip(started.elapsed());
            self.metrics
                .session_expiry(self.broker.session_expires_at());
        }
    }
}
