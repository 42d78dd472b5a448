//! The OANDA connector against the OANDA simulator on 127.0.0.1:0: what is OANDA's own
//! (account selection, short positions) and its refusals (client-id reuse, unknown
//! instrument, a FOK order cancelled for margin or a halted market). The calls on the
//! success path (verify, a market order filled, a limit order cancelled) run for every
//! broker in `conformance/orders.rs`. The failure classes the connection manager relies on
//! are in `broker_oanda/failures.rs`; the pricing stream (the simulator's and a
//! hand-written chunked server) in `broker_oanda/stream.rs`; the transaction stream (order
//! events) in `broker_oanda/events.rs`. No error may ever show the token.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

mod events;
mod failures;
mod quotes;
mod stream;

use rust_decimal_macros::dec;
use std::sync::Arc;
use std::time::Duration;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::oanda::Oanda;
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig, OrderSide, OrderStatus};
use brokerdesk_core::trading::{OrderDraft, OrderIntent};
use brokerdesk_core::Decimal;
use brokerdesk_core::Secret;
use brokerdesk_sim::oanda::{router, SimState, DEMO_ACCOUNTS, DEMO_TOKEN};
use brokerdesk_sim::{Faults, SimServer};

const ACCOUNT: &str = DEMO_ACCOUNTS[0];
const WRONG_TOKEN: &str = "wrong-oanda-token-fedcba9876543210";

/// A running simulator with short stream intervals, and its state for flipping switches.
pub struct Sim {
    pub server: SimServer,
    pub state: Arc<SimState>,
}

pub async fn sim() -> Sim {
    let faults = Faults::new();
    let state = Arc::new(
        SimState::demo(faults.clone())
            .with_intervals(Duration::from_millis(50), Duration::from_millis(100)),
    );
    let server = SimServer::start(router(state.clone()), faults, 0)
        .await
        .unwrap();
    Sim { server, state }
}

pub fn config(sim: &Sim, account: Option<&str>, token: &str) -> ConnectorConfig {
    config_at(&sim.server.url(), account, token)
}

pub fn config_at(url: &str, account: Option<&str>, token: &str) -> ConnectorConfig {
    ConnectorConfig::new(
        BrokerKind::Oanda,
        Environment::Practice,
        account.map(str::to_string),
        Some(url),
        Some(url),
    )
    .unwrap()
    .with_credentials(Some(Secret::new(token)), None)
}

pub fn connector(sim: &Sim) -> Oanda {
    Oanda::new(config(sim, Some(ACCOUNT), DEMO_TOKEN)).unwrap()
}

/// Fails if a token shows in the error's `Display` or `Debug`.
pub fn assert_clean(e: &BrokerError) {
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(
            !text.contains(DEMO_TOKEN) && !text.contains(WRONG_TOKEN),
            "token leaked: {text}"
        );
    }
}

pub fn order(coid: &str, symbol: &str, side: OrderSide, qty: Decimal) -> OrderIntent {
    let draft = OrderDraft::market(symbol, side, &qty.to_string()).with_client_id(coid);
    OrderIntent::check(&draft).unwrap()
}

#[tokio::test]
async fn verify_without_an_account_needs_one_when_the_token_reaches_several() {
    let sim = sim().await;
    let oanda = Oanda::new(config(&sim, None, DEMO_TOKEN)).unwrap();
    let accounts = oanda.list_accounts().await.unwrap();
    let ids: Vec<_> = accounts.iter().map(|a| a.account_id.as_str()).collect();
    assert_eq!(ids, DEMO_ACCOUNTS);
    match oanda.verify().await {
        Err(e @ BrokerError::Config(_)) => {
            assert!(
                e.to_string().contains(DEMO_ACCOUNTS[0])
                    && e.to_string().contains(DEMO_ACCOUNTS[1]),
                "{e}"
            );
            assert!(!e.retryable());
            assert_clean(&e);
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[tokio::test]
async fn verify_without_an_account_uses_the_tokens_only_account() {
    let faults = Faults::new();
    let state = SimState::new(
        faults.clone(),
        "single-account-token-0123456789",
        &["101-001-7654321-001"],
    );
    let server = SimServer::start(router(state), faults, 0).await.unwrap();
    let oanda = Oanda::new(config_at(
        &server.url(),
        None,
        "single-account-token-0123456789",
    ))
    .unwrap();
    assert_eq!(
        oanda.verify().await.unwrap().account_id,
        "101-001-7654321-001"
    );
    assert!(
        oanda.positions().await.unwrap().is_empty(),
        "later calls use the same account"
    );
}

#[tokio::test]
async fn a_sale_without_a_position_opens_a_short_one() {
    let sim = sim().await;
    let oanda = connector(&sim);
    oanda
        .place_order(&order("mkt-1", "EUR_USD", OrderSide::Buy, dec!(100.0)))
        .await
        .unwrap();
    oanda
        .place_order(&order("mkt-2", "EUR_USD", OrderSide::Sell, dec!(40.0)))
        .await
        .unwrap();
    let short = oanda
        .place_order(&order("mkt-3", "USD_JPY", OrderSide::Sell, dec!(50.0)))
        .await
        .unwrap();
    assert_eq!(
        (short.status, short.side, short.filled_quantity),
        (OrderStatus::Filled, OrderSide::Sell, dec!(50.0))
    );
    let mut positions = oanda.positions().await.unwrap();
    positions.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    let summary: Vec<_> = positions
        .iter()
        .map(|p| (p.symbol.as_str(), p.quantity))
        .collect();
    assert_eq!(summary, [("EUR_USD", dec!(60.0)), ("USD_JPY", -dec!(50.0))]);
    assert!(positions.iter().all(|p| p.unrealized_pl.is_some()));
}

#[tokio::test]
async fn a_retried_submission_is_refused_and_the_original_found_by_client_id() {
    let sim = sim().await;
    let oanda = connector(&sim);
    let first = oanda
        .place_order(&order("coid-retry", "GBP_USD", OrderSide::Buy, dec!(10.0)))
        .await
        .unwrap();
    // The caller did not see the answer and submits again with the same client order id.
    let retry = buy_refused(&oanda, "coid-retry", "GBP_USD", dec!(10.0)).await;
    match &retry {
        BrokerError::Rejected {
            status: 400, code, ..
        } => assert_eq!(code, "CLIENT_ORDER_ID_ALREADY_EXISTS"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert!(!retry.retryable());
    let found = oanda
        .get_order_by_client_id("coid-retry")
        .await
        .unwrap()
        .expect("the original");
    assert_eq!(
        (found.broker_order_id, found.status),
        (first.broker_order_id, OrderStatus::Filled)
    );
    assert_eq!(
        oanda.positions().await.unwrap()[0].quantity,
        dec!(10.0),
        "filled once"
    );
    assert_eq!(
        oanda.get_order_by_client_id("never-sent").await.unwrap(),
        None
    );
}

/// The refusal of a market buy.
async fn buy_refused(oanda: &Oanda, coid: &str, symbol: &str, qty: Decimal) -> BrokerError {
    let placed = oanda
        .place_order(&order(coid, symbol, OrderSide::Buy, qty))
        .await;
    placed.expect_err("refused")
}

#[tokio::test]
async fn oanda_refusals_are_rejections() {
    let sim = sim().await;
    let oanda = connector(&sim);
    let bad = buy_refused(&oanda, "bad-1", "XAU_XYZ", dec!(1.0)).await;
    assert!(
        matches!(&bad, BrokerError::Rejected { status: 400, message, .. } if message.contains("'instruments'")),
        "{bad:?}"
    );

    assert!(sim.state.set_halted("USD_JPY", true));
    let halted = buy_refused(&oanda, "halt-1", "USD_JPY", dec!(1.0)).await;
    assert!(
        matches!(&halted, BrokerError::Rejected { status: 201, code, .. } if code == "MARKET_HALTED"),
        "{halted:?}"
    );

    assert!(sim.state.set_balance(ACCOUNT, 10.0));
    let margin = buy_refused(&oanda, "big-1", "EUR_USD", dec!(100_000.0)).await;
    assert!(
        matches!(&margin, BrokerError::Rejected { code, .. } if code == "INSUFFICIENT_MARGIN"),
        "{margin:?}"
    );
    for e in [&bad, &halted, &margin] {
        assert!(!e.retryable());
        assert_clean(e);
    }
    let cancelled = oanda
        .get_order_by_client_id("big-1")
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert!(oanda.positions().await.unwrap().is_empty());
}
