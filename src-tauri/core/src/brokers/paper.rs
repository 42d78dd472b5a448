//! The built-in paper broker as a connector: no credentials, no network. Its price stream is
//! the simulated market ([`crate::paper::SimMarket`]: FX majors in OANDA's naming, the
//! largest US stocks), a quote per instrument every 250 ms — the same quote in every process
//! at the same instant — and its instrument search is the market's list. Orders never reach
//! a connector here: Brokerdesk's paper desk fills them ([`crate::trading::paper_desk`]).

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use super::{AccountSummary, Broker, BrokerAccountRef, BrokerError, OrderState, Position};
use crate::accounts::model::BrokerKind;
use crate::paper::{SimMarket, STEP_MS};

const STEP: Duration = Duration::from_millis(STEP_MS.unsigned_abs());
use crate::stream::{InstrumentInfo, NoticeCode, QuoteStream, StreamEvent, Tick};
use crate::trading::OrderIntent;

/// The instruments a new built-in paper account watches.
pub const DEFAULT_WATCHLIST: &[&str] = &["EUR_USD", "GBP_USD", "USD_JPY", "AAPL", "MSFT", "NVDA"];

/// The simulated market's connector.
#[derive(Default)]
pub struct PaperBroker {
    market: SimMarket,
}

impl PaperBroker {
    pub fn new() -> Self {
        Self::default()
    }
}

const NOT_HERE: &str = "orders of the built-in paper broker (Brokerdesk's paper desk fills them)";

#[async_trait]
impl Broker for PaperBroker {
    fn kind(&self) -> BrokerKind {
        BrokerKind::Paper
    }

    async fn verify(&self) -> Result<AccountSummary, BrokerError> {
        Err(BrokerError::Unsupported(
            "checking credentials of the built-in paper broker",
        ))
    }

    async fn keepalive(&self) -> Result<(), BrokerError> {
        Ok(())
    }

    async fn list_accounts(&self) -> Result<Vec<BrokerAccountRef>, BrokerError> {
        Ok(Vec::new())
    }

    async fn place_order(&self, _: &OrderIntent) -> Result<OrderState, BrokerError> {
        Err(BrokerError::Unsupported(NOT_HERE))
    }

    async fn cancel_order(&self, _: &str) -> Result<(), BrokerError> {
        Err(BrokerError::Unsupported(NOT_HERE))
    }

    async fn get_order(&self, _: &str) -> Result<OrderState, BrokerError> {
        Err(BrokerError::Unsupported(NOT_HERE))
    }

    async fn get_order_by_client_id(&self, _: &str) -> Result<Option<OrderState>, BrokerError> {
        Err(BrokerError::Unsupported(NOT_HERE))
    }

    async fn open_orders(&self) -> Result<Vec<OrderState>, BrokerError> {
        Err(BrokerError::Unsupported(NOT_HERE))
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        Err(BrokerError::Unsupported(NOT_HERE))
    }

    async fn open_quote_stream(
        &self,
        instruments: &[String],
    ) -> Result<Box<dyn QuoteStream>, BrokerError> {
        Ok(Box::new(SimStream {
            market: SimMarket::new(),
            instruments: instruments.to_vec(),
            interval: tokio::time::interval(STEP),
            announced: Vec::new(),
        }))
    }

    async fn search_instruments(&self, query: &str) -> Result<Vec<InstrumentInfo>, BrokerError> {
        Ok(self
            .market
            .search(query)
            .into_iter()
            .map(|s| InstrumentInfo {
                symbol: s.symbol.clone(),
                name: Some(s.name.clone()),
                kind: Some(
                    match s.kind {
                        crate::paper::InstrumentKind::Fx => "currency",
                        crate::paper::InstrumentKind::Stock => "equity",
                    }
                    .to_string(),
                ),
            })
            .collect())
    }
}

/// A quote per subscribed instrument at every market step.
struct SimStream {
    market: SimMarket,
    instruments: Vec<String>,
    interval: tokio::time::Interval,
    /// Unknown instruments already reported.
    announced: Vec<String>,
}

#[async_trait]
impl QuoteStream for SimStream {
    async fn read(&mut self, out: &mut Vec<StreamEvent>) -> Result<bool, BrokerError> {
        self.interval.tick().await;
        let now = Utc::now();
        for i in &self.instruments {
            match self.market.quote(i, now) {
                Some(q) => {
                    let mut t = Tick::new(i.clone(), now);
                    t.bid = Some(q.bid);
                    t.ask = Some(q.ask);
                    t.bid_size = q.bid_size;
                    t.ask_size = q.ask_size;
                    t.exchange_time = Some(q.time);
                    out.push(StreamEvent::Tick(t));
                }
                None if !self.announced.contains(i) => {
                    self.announced.push(i.clone());
                    out.push(unknown(i));
                }
                None => {}
            }
        }
        if out.is_empty() {
            out.push(StreamEvent::Heartbeat);
        }
        Ok(true)
    }

    async fn subscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        for i in instruments {
            if !self.instruments.contains(i) {
                self.instruments.push(i.clone());
            }
        }
        Ok(())
    }

    async fn unsubscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        self.instruments.retain(|i| !instruments.contains(i));
        Ok(())
    }

    fn silence_limit(&self) -> Duration {
        Duration::from_secs(2)
    }

    async fn close(&mut self) {}
}

fn unknown(instrument: &str) -> StreamEvent {
    StreamEvent::notice(
        Some(instrument.to_string()),
        NoticeCode::UnknownInstrument,
        format!("the simulated market has no {instrument}"),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_simulated_market_streams_every_subscribed_instrument() {
        let b = PaperBroker::new();
        let mut s = b
            .open_quote_stream(&["EUR_USD".into(), "NOPE".into()])
            .await
            .unwrap();
        let mut out = Vec::new();
        s.read(&mut out).await.unwrap();
        assert!(out.iter().any(|e| matches!(e, StreamEvent::Tick(t)
            if t.instrument == "EUR_USD" && t.bid < t.ask && t.bid.is_some())));
        assert!(out
            .iter()
            .any(|e| matches!(e, StreamEvent::Notice { instrument: Some(i), .. } if i == "NOPE")));
        s.subscribe(&["AAPL".into()]).await.unwrap();
        out.clear();
        s.read(&mut out).await.unwrap();
        assert!(out
            .iter()
            .any(|e| matches!(e, StreamEvent::Tick(t) if t.instrument == "AAPL")));
        assert!(
            !out.iter().any(|e| matches!(e, StreamEvent::Notice { .. })),
            "told once"
        );
        assert!(!b.search_instruments("eur").await.unwrap().is_empty());
    }
}
