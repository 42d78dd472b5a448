//! The Alpaca connector against the Alpaca simulator on 127.0.0.1:0: every `Broker` call on
//! the success path, then each failure class the connection manager relies on (auth never
//! retried, 429 with its delay, 5xx, garbage, timeouts, a server that is down or gone), and
//! Alpaca's own refusals. No error may ever show the key or the secret. The failure classes
//! are in `broker_alpaca/failures.rs`; the simulator's data stream seen by a raw WebSocket
//! client in `broker_alpaca/stream.rs`; the connector's stream parser on recorded frames in
//! `broker_alpaca/frames.rs`, and the connector's stream and instrument search against the
//! simulator in `broker_alpaca/quotes.rs`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use crate::common;
mod failures;
mod frames;
mod quotes;
mod stream;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::alpaca::Alpaca;
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig, OrderSide, OrderStatus};
use brokerdesk_core::trading::OrderDraft;
use brokerdesk_core::Secret;
use brokerdesk_sim::alpaca::{router, SimState};
use brokerdesk_sim::{Faults, SimServer};
use rust_decimal_macros::dec;

const KEY: &str = "PKTESTKEY9876543210ZZ";
const SECRET: &str = "test-alpaca-secret-abcdefghijklmnopqrstuvwxyz";

async fn sim() -> (SimServer, SimState) {
    let faults = Faults::new();
    let state = SimState::new(faults.clone(), KEY, SECRET);
    let server = SimServer::start(router(state.clone()), faults, 0)
        .await
        .unwrap();
    (server, state)
}

fn config(server: &SimServer, key: &str, secret: &str) -> ConnectorConfig {
    let stream = format!("{}/v2/iex", server.ws_url());
    ConnectorConfig::new(
        BrokerKind::Alpaca,
        Environment::Practice,
        None,
        Some(&server.url()),
        Some(&stream),
    )
    .unwrap()
    .with_credentials(Some(Secret::new(key)), Some(Secret::new(secret)))
}

fn connector(server: &SimServer) -> Alpaca {
    Alpaca::new(config(server, KEY, SECRET)).unwrap()
}

/// Fails if the key or the secret shows in the error's `Display` or `Debug`.
fn assert_clean(e: &BrokerError) {
    common::assert_no_secret(e, &[KEY, SECRET]);
}

/// Returns the error, checked for leaks.
fn err<T: std::fmt::Debug>(r: Result<T, BrokerError>) -> BrokerError {
    let e = r.expect_err("expected an error");
    assert_clean(&e);
    e
}

use common::stock_order as order;

#[tokio::test]
async fn verify_and_list_accounts_read_the_one_account() {
    let (server, state) = sim().await;
    let alpaca = connector(&server);
    assert_eq!(alpaca.kind(), BrokerKind::Alpaca);
    let summary = alpaca.verify().await.unwrap();
    assert_eq!(summary.account_id, state.account_number());
    assert_eq!(summary.account_last4, "0042");
    assert_eq!(
        (summary.account_type.as_str(), summary.currency.as_str()),
        ("cash", "USD")
    );
    assert_eq!(
        (summary.balance, summary.equity, summary.buying_power),
        (dec!(100_000.0), dec!(100_000.0), dec!(100_000.0))
    );
    let accounts = alpaca.list_accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].account_id, state.account_number());
    assert_eq!(accounts[0].label.as_deref(), Some("Alpaca paper"));
    let rate = alpaca.rate_limit().expect("X-Ratelimit-* headers are read");
    assert_eq!(rate.limit, 200);
    assert!(rate.remaining < 200);
}

#[tokio::test]
async fn a_market_order_fills_at_the_quote_and_becomes_a_position() {
    let (server, state) = sim().await;
    let alpaca = connector(&server);
    state.set_price("AAPL", 200.0);
    let ask = common::sim_price(state.quote("AAPL").unwrap().ask);
    let placed = alpaca
        .place_order(&order("coid-1", OrderSide::Buy, dec!(10.0), None))
        .await
        .unwrap();
    assert_eq!(placed.status, OrderStatus::Filled);
    assert_eq!(
        (
            placed.quantity,
            placed.filled_quantity,
            placed.avg_fill_price
        ),
        (dec!(10.0), dec!(10.0), Some(ask))
    );
    assert_eq!(placed.client_order_id.as_deref(), Some("coid-1"));
    assert_eq!(placed.broker_status, "filled");

    let fetched = alpaca.get_order(&placed.broker_order_id).await.unwrap();
    assert_eq!(fetched, placed);
    let by_client = alpaca.get_order_by_client_id("coid-1").await.unwrap();
    assert_eq!(by_client.as_ref(), Some(&placed));
    assert_eq!(
        alpaca.get_order_by_client_id("never-sent").await.unwrap(),
        None
    );

    let positions = alpaca.positions().await.unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!(
        (positions[0].symbol.as_str(), positions[0].quantity),
        ("AAPL", dec!(10.0))
    );
    assert_eq!(positions[0].avg_price, Some(ask));
    let summary = alpaca.verify().await.unwrap();
    assert!((summary.balance - (dec!(100_000.0) - dec!(10.0) * ask)).abs() < dec!(0.000001));

    let sold = alpaca
        .place_order(&order("coid-2", OrderSide::Sell, dec!(4.0), None))
        .await
        .unwrap();
    assert_eq!(
        (sold.side, sold.status),
        (OrderSide::Sell, OrderStatus::Filled)
    );
    assert_eq!(alpaca.positions().await.unwrap()[0].quantity, dec!(6.0));
}

#[tokio::test]
async fn a_resting_limit_order_is_open_until_cancelled() {
    let (server, state) = sim().await;
    let alpaca = connector(&server);
    state.set_price("AAPL", 200.0);
    let placed = alpaca
        .place_order(&order(
            "lim-1",
            OrderSide::Buy,
            dec!(2.5),
            Some(dec!(150.0)),
        ))
        .await
        .unwrap();
    assert_eq!(
        (placed.status, placed.filled_quantity),
        (OrderStatus::Open, dec!(0.0))
    );
    assert_eq!(placed.quantity, dec!(2.5));
    let open = alpaca.open_orders().await.unwrap();
    assert_eq!(
        open.iter()
            .map(|o| o.broker_order_id.as_str())
            .collect::<Vec<_>>(),
        [placed.broker_order_id.as_str()]
    );

    alpaca.cancel_order(&placed.broker_order_id).await.unwrap();
    let after = alpaca.get_order(&placed.broker_order_id).await.unwrap();
    assert_eq!(
        (after.status, after.broker_status.as_str()),
        (OrderStatus::Cancelled, "canceled")
    );
    assert!(alpaca.open_orders().await.unwrap().is_empty());

    // Cancelling again: Alpaca's 422 "not cancelable".
    match err(alpaca.cancel_order(&placed.broker_order_id).await) {
        BrokerError::Rejected {
            status: 422, code, ..
        } => assert_eq!(code, "42210000"),
        e => panic!("expected Rejected, got {e:?}"),
    }
    let missing = "00000000-0000-4000-8000-000000000000";
    assert!(matches!(
        err(alpaca.cancel_order(missing).await),
        BrokerError::NotFound(_)
    ));
    assert!(matches!(
        err(alpaca.get_order(missing).await),
        BrokerError::NotFound(_)
    ));
}

#[tokio::test]
async fn order_ids_work_without_hyphens_and_malformed_ones_are_refused() {
    let (server, _state) = sim().await;
    let alpaca = connector(&server);
    let placed = alpaca
        .place_order(&order("hy-1", OrderSide::Buy, dec!(1.0), Some(dec!(1.0))))
        .await
        .unwrap();
    let simple = placed.broker_order_id.replace('-', "");
    assert_eq!(simple.len(), 32);
    let fetched = alpaca.get_order(&simple).await.unwrap();
    assert_eq!(fetched.broker_order_id, placed.broker_order_id);
    alpaca.cancel_order(&simple.to_uppercase()).await.unwrap();

    // Malformed: the simulator's 422 (Alpaca-API issue #135), and a local refusal for ids
    // that could change the path.
    match err(alpaca.get_order("not-a-uuid").await) {
        BrokerError::Rejected {
            status: 422, code, ..
        } => assert_eq!(code, "40010001"),
        e => panic!("expected Rejected, got {e:?}"),
    }
    assert!(matches!(
        err(alpaca.get_order("../account").await),
        BrokerError::NotFound(_)
    ));
}

#[tokio::test]
async fn alpaca_refusals_are_rejections_with_their_codes() {
    let (server, state) = sim().await;
    let alpaca = connector(&server);
    state.set_price("AAPL", 200.0);
    alpaca
        .place_order(&order("dup", OrderSide::Buy, dec!(1.0), None))
        .await
        .unwrap();
    let dup = err(alpaca
        .place_order(&order("dup", OrderSide::Buy, dec!(1.0), None))
        .await);
    assert_eq!(
        dup,
        BrokerError::Rejected {
            status: 422,
            code: "40010001".into(),
            message: "client_order_id must be unique".into()
        }
    );
    assert!(!dup.retryable());

    // $200 × 1000 > $100,000: a 403 with a code is a rejection, not an auth failure.
    match err(alpaca
        .place_order(&order("big", OrderSide::Buy, dec!(1000.0), None))
        .await)
    {
        BrokerError::Rejected {
            status: 403,
            code,
            message,
        } => {
            assert_eq!(
                (code.as_str(), message.as_str()),
                ("40310000", "insufficient buying power")
            );
        }
        e => panic!("expected Rejected, got {e:?}"),
    }
    match err(alpaca
        .place_order(&order("short", OrderSide::Sell, dec!(5.0), None))
        .await)
    {
        BrokerError::Rejected {
            status: 403,
            code,
            message,
        } => {
            assert_eq!(code, "40310000");
            assert!(
                message.starts_with("insufficient qty available"),
                "{message}"
            );
        }
        e => panic!("expected Rejected, got {e:?}"),
    }
    let long_id = "x".repeat(129);
    match err(alpaca
        .place_order(&order(&long_id, OrderSide::Buy, dec!(1.0), None))
        .await)
    {
        BrokerError::Rejected {
            status: 422,
            message,
            ..
        } => assert!(message.contains("128"), "{message}"),
        e => panic!("expected Rejected, got {e:?}"),
    }
    // Refused before any broker is called: an `OrderIntent` cannot hold them.
    assert_eq!(
        common::refused(&OrderDraft::market("AAPL", OrderSide::Buy, "NaN")),
        [("quantity".to_string(), "invalid".to_string())]
    );
    assert_eq!(
        common::refused(&OrderDraft::limit("AAPL", OrderSide::Buy, "1", "")),
        [("price".to_string(), "required".to_string())]
    );
}

#[tokio::test]
async fn a_blocked_account_verifies_but_cannot_trade() {
    let (server, state) = sim().await;
    let alpaca = connector(&server);
    state.set_blocked(true, false);
    assert_eq!(
        alpaca.verify().await.unwrap().account_type,
        "cash (trading blocked)"
    );
    match err(alpaca
        .place_order(&order("blocked", OrderSide::Buy, dec!(1.0), None))
        .await)
    {
        BrokerError::Rejected {
            status: 403, code, ..
        } => assert_eq!(code, "40310000"),
        e => panic!("expected Rejected, got {e:?}"),
    }
}
