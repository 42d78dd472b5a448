//! The Tradier connector against the Tradier simulator on 127.0.0.1:0: what is Tradier's
//! own (its rate-limit headers, account selection, a retried placement, client ids as tags,
//! its refusals). The calls on the success path (verify, a market order filled, a limit
//! order cancelled, cancelling a final order) run for every broker in
//! `conformance/orders.rs`. The failure classes the connection manager relies on are in
//! `broker_tradier/failures.rs`; the wire details seen by a plain HTTP client (XML unless
//! JSON is asked for, form bodies, `"null"` lists) in `broker_tradier/wire.rs`; the
//! streaming session and market WebSocket as a plain WebSocket client sees them in
//! `broker_tradier/stream.rs`; the connector's `QuoteStream` in
//! `broker_tradier/quote_stream.rs` (instrument search in `conformance/search.rs`); the
//! stream's frame parser on recorded frames in `broker_tradier/parse.rs`; the account-event
//! stream (order events) in `broker_tradier/events.rs`. No error may ever show the token.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use crate::common;
pub use common::stock_order as order;
mod events;
mod failures;
mod parse;
mod quote_stream;
mod stream;
mod wire;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::tradier::Tradier;
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig, OrderSide};
use brokerdesk_core::trading::{OrderDraft, OrderIntent};
use brokerdesk_core::Secret;
use brokerdesk_sim::tradier::{router, AccountType, SimState};
use brokerdesk_sim::{Faults, SimServer};
use rust_decimal_macros::dec;

const TOKEN: &str = "test-tradier-token-0123456789abcdefXYZ";
const ACCOUNT: &str = "VA11112222";
const CASH_ACCOUNT: &str = "VA33334444";

pub struct Sim {
    pub server: SimServer,
    pub state: SimState,
}

/// A simulator whose token reaches the given accounts.
pub async fn sim_with(accounts: &[(&str, AccountType)]) -> Sim {
    let faults = Faults::new();
    let state = SimState::new(faults.clone(), TOKEN, accounts);
    let server = SimServer::start(router(state.clone()), faults, 0)
        .await
        .unwrap();
    Sim { server, state }
}

/// A simulator with one margin account.
pub async fn sim() -> Sim {
    sim_with(&[(ACCOUNT, AccountType::Margin)]).await
}

pub fn config(sim: &Sim, account: Option<&str>, token: &str) -> ConnectorConfig {
    let rest = format!("{}/v1", sim.server.url());
    let stream = format!("{}/v1/markets/events", sim.server.ws_url());
    ConnectorConfig::new(
        BrokerKind::Tradier,
        Environment::Practice,
        account.map(str::to_string),
        Some(&rest),
        Some(&stream),
    )
    .unwrap()
    .with_credentials(Some(Secret::new(token)), None)
}

pub fn connector(sim: &Sim) -> Tradier {
    Tradier::new(config(sim, Some(ACCOUNT), TOKEN)).unwrap()
}

// The token may never show in an error.
leak_checks!(pub [TOKEN]);

#[tokio::test]
async fn the_rate_limit_headers_are_read() {
    let sim = sim().await;
    let tradier = connector(&sim);
    tradier.verify().await.unwrap();
    let rate = tradier
        .rate_limit()
        .expect("X-Ratelimit-* headers are read");
    assert_eq!(rate.limit, 120);
    assert_eq!(rate.used.map(|used| used + rate.remaining), Some(120));
    assert!(rate.resets_at_ms > 1_600_000_000_000);
}

#[tokio::test]
async fn a_token_with_several_accounts_needs_one_chosen() {
    let sim = sim_with(&[
        (ACCOUNT, AccountType::Margin),
        (CASH_ACCOUNT, AccountType::Cash),
    ])
    .await;
    let unchosen = Tradier::new(config(&sim, None, TOKEN)).unwrap();
    // Several accounts: the profile's `account` is an array.
    let ids: Vec<String> = unchosen
        .list_accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.account_id)
        .collect();
    assert_eq!(ids, [ACCOUNT, CASH_ACCOUNT]);
    match err(unchosen.positions().await) {
        BrokerError::Config(m) => assert!(m.contains("2222") && m.contains("4444"), "{m}"),
        e => panic!("expected Config, got {e:?}"),
    }
    let cash = Tradier::new(config(&sim, Some(CASH_ACCOUNT), TOKEN)).unwrap();
    let s = cash.verify().await.unwrap();
    assert_eq!(
        (s.account_type.as_str(), s.buying_power),
        ("cash", dec!(100_000.0))
    );
    let other = Tradier::new(config(&sim, Some("VA99998888"), TOKEN)).unwrap();
    match err(other.verify().await) {
        BrokerError::Config(m) => assert!(m.contains("8888") && m.contains("2222"), "{m}"),
        e => panic!("expected Config, got {e:?}"),
    }

    // One account and none configured: that one is used.
    let single = sim_with(&[(ACCOUNT, AccountType::Cash)]).await;
    let t = Tradier::new(config(&single, None, TOKEN)).unwrap();
    assert_eq!(t.verify().await.unwrap().account_id, ACCOUNT);
    assert!(t.positions().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_retried_placement_returns_the_order_already_placed() {
    let sim = sim().await;
    let tradier = connector(&sim);
    let req = order("retry-1", OrderSide::Buy, dec!(2.0), Some(dec!(100.0)));
    let first = tradier.place_order(&req).await.unwrap();
    let again = tradier.place_order(&req).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(tradier.open_orders().await.unwrap().len(), 1, "placed once");
}

#[tokio::test]
async fn client_order_ids_travel_as_sanitised_tags() {
    let sim = sim().await;
    let tradier = connector(&sim);
    let placed = tradier
        .place_order(&order(
            "desk/order_1.a",
            OrderSide::Buy,
            dec!(1.0),
            Some(dec!(1.0)),
        ))
        .await
        .unwrap();
    assert_eq!(placed.client_order_id.as_deref(), Some("desk/order_1.a"));
    // Read back from Tradier, the id is the tag as sent.
    let fetched = tradier.get_order(&placed.broker_order_id).await.unwrap();
    assert_eq!(fetched.client_order_id.as_deref(), Some("desk-order-1-a"));
    let found = tradier
        .get_order_by_client_id("desk/order_1.a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.broker_order_id, placed.broker_order_id);
    assert_eq!(found.client_order_id.as_deref(), Some("desk/order_1.a"));
    // Tags are cut to 255 characters.
    let long = "L".repeat(300);
    let placed = tradier
        .place_order(&order(&long, OrderSide::Buy, dec!(1.0), Some(dec!(1.0))))
        .await
        .unwrap();
    let fetched = tradier.get_order(&placed.broker_order_id).await.unwrap();
    assert_eq!(fetched.client_order_id.map(|t| t.len()), Some(255));
}

/// The refusal of a market order for AAPL ([`refused_in`]: for `symbol`), checked for leaks.
async fn refused(tradier: &Tradier, id: &str, side: OrderSide, qty: &str) -> BrokerError {
    refused_in(tradier, "AAPL", id, side, qty).await
}

async fn refused_in(
    tradier: &Tradier,
    symbol: &str,
    id: &str,
    side: OrderSide,
    qty: &str,
) -> BrokerError {
    let draft = OrderDraft::market(symbol, side, qty).with_client_id(id);
    err(tradier
        .place_order(&OrderIntent::check(&draft).unwrap())
        .await)
}

#[tokio::test]
async fn tradier_refusals_are_rejections() {
    let sim = sim().await;
    let tradier = connector(&sim);
    sim.state.set_price("AAPL", 200.0);
    // $200 × 1,001 > $200,000 of buying power.
    let e = refused(&tradier, "big", OrderSide::Buy, "1001.0").await;
    assert!(
        matches!(&e, BrokerError::Rejected { status: 400, code, .. } if code == "validation"),
        "{e:?}"
    );
    assert!(e.to_string().contains("buying power"), "{e}");
    let e = refused(&tradier, "naked", OrderSide::Sell, "1.0").await;
    assert!(
        matches!(e, BrokerError::Rejected { status: 400, .. }),
        "{e:?}"
    );
    let e = refused_in(&tradier, "NOPE", "sym", OrderSide::Buy, "1").await;
    assert!(e.to_string().contains("NOPE"), "{e}");

    // Refused before sending: Tradier trades whole shares.
    let e = refused(&tradier, "frac", OrderSide::Buy, "1.5").await;
    assert!(
        matches!(e, BrokerError::Rejected { status: 0, .. }),
        "{e:?}"
    );
    assert!(tradier.open_orders().await.unwrap().is_empty());
}
