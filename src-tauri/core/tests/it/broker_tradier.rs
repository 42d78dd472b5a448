//! The Tradier connector against the Tradier simulator on 127.0.0.1:0: every `Broker` call on
//! the success path and Tradier's own refusals (validation errors, cancelling a final order,
//! tags). The failure classes the connection manager relies on are in
//! `broker_tradier/failures.rs`; the wire details seen by a plain HTTP client (XML unless
//! JSON is asked for, form bodies, `"null"` lists) in `broker_tradier/wire.rs`; the streaming
//! session and market WebSocket as a plain WebSocket client sees them in
//! `broker_tradier/stream.rs`; the connector's `QuoteStream` and instrument search in
//! `broker_tradier/quote_stream.rs`; the stream's frame parser on recorded frames in
//! `broker_tradier/parse.rs`. No error may ever show the token.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use crate::common;
mod failures;
mod parse;
mod quote_stream;
mod stream;
mod wire;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::tradier::Tradier;
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig, OrderSide, OrderStatus};
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

/// Fails if the token shows in the error's `Display` or `Debug`.
pub fn assert_clean(e: &BrokerError) {
    common::assert_no_secret(e, &[TOKEN]);
}

/// Returns the error, checked for leaks.
pub fn err<T: std::fmt::Debug>(r: Result<T, BrokerError>) -> BrokerError {
    let e = r.expect_err("expected an error");
    assert_clean(&e);
    e
}

pub use common::stock_order as order;

fn rejected_code(e: &BrokerError) -> &str {
    match e {
        BrokerError::Rejected { code, .. } => code,
        e => panic!("expected Rejected, got {e:?}"),
    }
}

#[tokio::test]
async fn verify_and_list_accounts_read_the_profile_and_balances() {
    let sim = sim().await;
    let tradier = connector(&sim);
    assert_eq!(tradier.kind(), BrokerKind::Tradier);
    let s = tradier.verify().await.unwrap();
    assert_eq!(
        (s.account_id.as_str(), s.account_last4.as_str()),
        (ACCOUNT, "2222")
    );
    assert_eq!(
        (s.account_type.as_str(), s.currency.as_str()),
        ("margin", "USD")
    );
    assert_eq!(
        (s.balance, s.equity, s.buying_power),
        (dec!(100_000.0), dec!(100_000.0), dec!(200_000.0))
    );
    // One account: the profile's `account` is an object.
    let accounts = tradier.list_accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].account_id, ACCOUNT);
    assert_eq!(accounts[0].label.as_deref(), Some("Tradier margin"));
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
async fn a_market_order_fills_at_the_quote_and_becomes_a_position() {
    let sim = sim().await;
    let tradier = connector(&sim);
    // Nothing yet: both lists are the string "null".
    assert!(tradier.open_orders().await.unwrap().is_empty());
    assert!(tradier.positions().await.unwrap().is_empty());
    assert_eq!(
        tradier.get_order_by_client_id("coid-1").await.unwrap(),
        None
    );

    sim.state.set_price("AAPL", 200.0);
    let ask = common::sim_price(sim.state.quote("AAPL").unwrap().ask);
    let placed = tradier
        .place_order(&order("coid-1", OrderSide::Buy, dec!(10.0), None))
        .await
        .unwrap();
    assert_eq!(
        (placed.status, placed.broker_status.as_str()),
        (OrderStatus::Filled, "filled")
    );
    assert_eq!(
        (
            placed.quantity,
            placed.filled_quantity,
            placed.avg_fill_price
        ),
        (dec!(10.0), dec!(10.0), Some(ask))
    );
    assert_eq!(placed.client_order_id.as_deref(), Some("coid-1"));

    let fetched = tradier.get_order(&placed.broker_order_id).await.unwrap();
    assert_eq!(fetched, placed);
    let by_client = tradier.get_order_by_client_id("coid-1").await.unwrap();
    assert_eq!(by_client.as_ref(), Some(&placed));
    assert_eq!(
        tradier.get_order_by_client_id("never-sent").await.unwrap(),
        None
    );

    let positions = tradier.positions().await.unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!(
        (positions[0].symbol.as_str(), positions[0].quantity),
        ("AAPL", dec!(10.0))
    );
    assert!((positions[0].avg_price.unwrap() - ask).abs() < dec!(0.000000001));
    let s = tradier.verify().await.unwrap();
    assert!((s.balance - (dec!(100_000.0) - dec!(10.0) * ask)).abs() < dec!(0.000001));

    let sold = tradier
        .place_order(&order("coid-2", OrderSide::Sell, dec!(4.0), None))
        .await
        .unwrap();
    assert_eq!(
        (sold.side, sold.status),
        (OrderSide::Sell, OrderStatus::Filled)
    );
    assert_eq!(tradier.positions().await.unwrap()[0].quantity, dec!(6.0));
    // Filled orders are not open ones.
    assert!(tradier.open_orders().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_resting_limit_order_is_open_until_cancelled() {
    let sim = sim().await;
    let tradier = connector(&sim);
    sim.state.set_price("AAPL", 200.0);
    let placed = tradier
        .place_order(&order(
            "lim-1",
            OrderSide::Buy,
            dec!(3.0),
            Some(dec!(150.0)),
        ))
        .await
        .unwrap();
    assert_eq!(
        (placed.status, placed.filled_quantity),
        (OrderStatus::Open, dec!(0.0))
    );
    assert_eq!(
        placed.avg_fill_price, None,
        "Tradier's 0 before a fill is no price"
    );
    let open = tradier.open_orders().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].broker_order_id, placed.broker_order_id);
    assert_eq!(open[0].client_order_id.as_deref(), Some("lim-1"));

    tradier.cancel_order(&placed.broker_order_id).await.unwrap();
    let after = tradier.get_order(&placed.broker_order_id).await.unwrap();
    assert_eq!(
        (after.status, after.broker_status.as_str()),
        (OrderStatus::Cancelled, "canceled")
    );
    assert!(tradier.open_orders().await.unwrap().is_empty());

    // Cancelling again: "order already in finalized state: canceled".
    let e = err(tradier.cancel_order(&placed.broker_order_id).await);
    assert_eq!(rejected_code(&e), "order_finalized");
    assert!(e.to_string().contains("finalized state: canceled"), "{e}");
    assert!(!e.retryable());
    let filled = tradier
        .place_order(&order("mkt", OrderSide::Buy, dec!(1.0), None))
        .await
        .unwrap();
    let e = err(tradier.cancel_order(&filled.broker_order_id).await);
    assert_eq!(rejected_code(&e), "order_finalized");

    assert!(matches!(
        err(tradier.get_order("999999999").await),
        BrokerError::NotFound(_)
    ));
    assert!(matches!(
        err(tradier.cancel_order("999999999").await),
        BrokerError::NotFound(_)
    ));
    assert!(matches!(
        err(tradier.get_order("../balances").await),
        BrokerError::NotFound(_)
    ));
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

#[tokio::test]
async fn tradier_refusals_are_rejections() {
    let sim = sim().await;
    let tradier = connector(&sim);
    sim.state.set_price("AAPL", 200.0);
    // $200 × 1,001 > $200,000 of buying power.
    let e = err(tradier
        .place_order(&order("big", OrderSide::Buy, dec!(1001.0), None))
        .await);
    assert!(
        matches!(&e, BrokerError::Rejected { status: 400, code, .. } if code == "validation"),
        "{e:?}"
    );
    assert!(e.to_string().contains("buying power"), "{e}");
    let e = err(tradier
        .place_order(&order("naked", OrderSide::Sell, dec!(1.0), None))
        .await);
    assert!(
        matches!(e, BrokerError::Rejected { status: 400, .. }),
        "{e:?}"
    );
    let unknown =
        OrderIntent::check(&OrderDraft::market("NOPE", OrderSide::Buy, "1").with_client_id("sym"))
            .unwrap();
    let e = err(tradier.place_order(&unknown).await);
    assert!(e.to_string().contains("NOPE"), "{e}");

    // Refused before sending: Tradier trades whole shares.
    let e = err(tradier
        .place_order(&order("frac", OrderSide::Buy, dec!(1.5), None))
        .await);
    assert!(
        matches!(e, BrokerError::Rejected { status: 0, .. }),
        "{e:?}"
    );
    // Refused before any broker is called: an `OrderIntent` cannot hold them.
    assert_eq!(
        common::refused(&OrderDraft::market("AAPL", OrderSide::Buy, "NaN")),
        [("quantity".to_string(), "invalid".to_string())]
    );
    assert_eq!(
        common::refused(&OrderDraft::limit("AAPL", OrderSide::Buy, "1", "")),
        [("price".to_string(), "required".to_string())]
    );
    assert!(tradier.open_orders().await.unwrap().is_empty());
}
