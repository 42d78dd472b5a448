//! The circuit breaker around a connector's REST calls. After [`FAILURES`] retryable
//! failures in a row (network, timeout, 5xx, 429) the circuit opens: order, position and
//! search calls fail at once with a clear `broker_unavailable` for [`COOLDOWN`] instead of
//! piling onto a broker that is down. The connection manager's probes (`verify`,
//! `keepalive`) always go through: they are how the link finds out the broker is back,
//! and one success closes the circuit, so the breaker never delays a reconnect.
//! Streams have their own supervisor and pass straight through.

use std::time::Duration;

use async_trait::async_trait;

use super::{
    AccountSummary, Broker, BrokerAccountRef, BrokerError, ModifyStyle, OrderChange,
    OrderEventStream, OrderState, Position,
};
use crate::accounts::model::BrokerKind;
use crate::connection::CircuitBreaker;
use crate::stream::{InstrumentInfo, QuoteStream};
use crate::trading::OrderIntent;

/// Retryable failures in a row that open the circuit.
pub const FAILURES: u32 = 5;
/// How long an open circuit fails calls fast.
pub const COOLDOWN: Duration = Duration::from_secs(10);

/// A connector behind a circuit breaker.
pub struct Guarded {
    inner: Box<dyn Broker>,
    breaker: CircuitBreaker,
}

impl Guarded {
    pub fn new(inner: Box<dyn Broker>) -> Self {
        Self::with(inner, CircuitBreaker::new(FAILURES, COOLDOWN))
    }

    pub fn with(inner: Box<dyn Broker>, breaker: CircuitBreaker) -> Self {
        Self { inner, breaker }
    }

    async fn probe<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, BrokerError>>,
    ) -> Result<T, BrokerError> {
        let r = fut.await;
        self.breaker.record(&r);
        r
    }
}

#[async_trait]
impl Broker for Guarded {
    fn kind(&self) -> BrokerKind {
        self.inner.kind()
    }

    async fn verify(&self) -> Result<AccountSummary, BrokerError> {
        self.probe(self.inner.verify()).await
    }

    async fn list_accounts(&self) -> Result<Vec<BrokerAccountRef>, BrokerError> {
        self.probe(self.inner.list_accounts()).await
    }

    async fn place_order(&self, order: &OrderIntent) -> Result<OrderState, BrokerError> {
        self.breaker.call(self.inner.place_order(order)).await
    }

    async fn cancel_order(&self, broker_order_id: &str) -> Result<(), BrokerError> {
        self.breaker
            .call(self.inner.cancel_order(broker_order_id))
            .await
    }

    async fn get_order(&self, broker_order_id: &str) -> Result<OrderState, BrokerError> {
        self.breaker
            .call(self.inner.get_order(broker_order_id))
            .await
    }

    async fn get_order_by_client_id(
        &self,
        client_order_id: &str,
    ) -> Result<Option<OrderState>, BrokerError> {
        self.breaker
            .call(self.inner.get_order_by_client_id(client_order_id))
            .await
    }

    async fn open_orders(&self) -> Result<Vec<OrderState>, BrokerError> {
        self.breaker.call(self.inner.open_orders()).await
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        self.breaker.call(self.inner.positions()).await
    }

    fn modify_style(&self) -> ModifyStyle {
        self.inner.modify_style()
    }

    async fn modify_order(&self, change: &OrderChange) -> Result<OrderState, BrokerError> {
        self.breaker.call(self.inner.modify_order(change)).await
    }

    async fn open_order_events(&self) -> Result<Box<dyn OrderEventStream>, BrokerError> {
        self.inner.open_order_events().await
    }

    async fn keepalive(&self) -> Result<(), BrokerError> {
        self.probe(self.inner.keepalive()).await
    }

    fn session_expires_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inner.session_expires_at()
    }

    async fn open_quote_stream(
        &self,
        instruments: &[String],
    ) -> Result<Box<dyn QuoteStream>, BrokerError> {
        self.inner.open_quote_stream(instruments).await
    }

    async fn search_instruments(&self, query: &str) -> Result<Vec<InstrumentInfo>, BrokerError> {
        self.breaker
            .call(self.inner.search_instruments(query))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brokers::OrderSide;
    use crate::trading::OrderDraft;

    /// A broker that is down, counting the calls that reach it.
    struct Down(std::sync::Arc<std::sync::atomic::AtomicU32>);

    #[async_trait]
    impl Broker for Down {
        fn kind(&self) -> BrokerKind {
            BrokerKind::Alpaca
        }
        async fn verify(&self) -> Result<AccountSummary, BrokerError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(BrokerError::Network("refused".into()))
        }
        async fn list_accounts(&self) -> Result<Vec<BrokerAccountRef>, BrokerError> {
            Ok(Vec::new())
        }
        async fn place_order(&self, _: &OrderIntent) -> Result<OrderState, BrokerError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err(BrokerError::Unavailable {
                status: 502,
                message: "bad gateway".into(),
            })
        }
        async fn cancel_order(&self, _: &str) -> Result<(), BrokerError> {
            Ok(())
        }
        async fn get_order(&self, _: &str) -> Result<OrderState, BrokerError> {
            Err(BrokerError::NotFound("x".into()))
        }
        async fn get_order_by_client_id(&self, _: &str) -> Result<Option<OrderState>, BrokerError> {
            Ok(None)
        }
        async fn open_orders(&self) -> Result<Vec<OrderState>, BrokerError> {
            Ok(Vec::new())
        }
        async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
            Ok(Vec::new())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn orders_fail_fast_while_open_but_probes_always_reach_the_broker() {
        let count = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let g = Guarded::new(Box::new(Down(count.clone())));
        let order = OrderIntent::check(
            &OrderDraft::market("AAPL", OrderSide::Buy, "1").with_client_id("c1"),
        )
        .unwrap();
        for _ in 0..FAILURES {
            assert!(g.place_order(&order).await.is_err());
        }
        let calls = |_: &Guarded| count.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(calls(&g), FAILURES);
        let e = g.place_order(&order).await.unwrap_err();
        assert!(e.to_string().contains("circuit open"), "{e}");
        assert_eq!(
            calls(&g),
            FAILURES,
            "an open circuit must not call the broker"
        );
        // The probe still goes out.
        assert!(g.verify().await.is_err());
        assert_eq!(calls(&g), FAILURES + 1);
        tokio::time::advance(COOLDOWN).await;
        assert!(g.place_order(&order).await.is_err());
        assert_eq!(
            calls(&g),
            FAILURES + 2,
            "after the cooldown one call tries again"
        );
    }
}
