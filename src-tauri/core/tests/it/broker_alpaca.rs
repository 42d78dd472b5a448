//! The Alpaca connector against the Alpaca simulator on 127.0.0.1:0: what is Alpaca's own
//! (its rate-limit headers, UUID order ids with or without hyphens, its refusals with their
//! codes, a blocked account). The calls on the success path (verify, a market order filled,
//! a limit order cancelled) run for every broker in `conformance/orders.rs`, the failure
//! classes in `conformance/rest.rs`. No error may ever show the key or the secret. Alpaca's
//! own failure cases are in `broker_alpaca/failures.rs`; the simulator's data stream seen
//! by a raw WebSocket client in `broker_alpaca/stream.rs`; the connector's stream parser on
//! recorded frames in `broker_alpaca/frames.rs`, and the connector's stream against the
//! simulator in `broker_alpaca/quotes.rs`; the trade-updates stream (order events) in
//! `broker_alpaca/events.rs`; instrument search in `conformance/search.rs`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use crate::common;
use common::stock_order as order;
mod events;
mod failures;
mod frames;
mod quotes;
mod stream;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::alpaca::Alpaca;
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig, OrderSide};
use brokerdesk_core::Secret;
use brokerdesk_sim::alpaca::{router, SimState, StreamSettings};
use brokerdesk_sim::{Faults, SimServer};
use rust_decimal_macros::dec;

const KEY: &str = "PKTESTKEY9876543210ZZ";
const SECRET: &str = "test-alpaca-secret-abcdefghijklmnopqrstuvwxyz";

async fn sim() -> (SimServer, SimState) {
    sim_with(StreamSettings::default()).await
}

/// A simulator whose data stream runs with `settings`.
async fn sim_with(settings: StreamSettings) -> (SimServer, SimState) {
    let faults = Faults::new();
    let state = SimState::new(faults.clone(), KEY, SECRET);
    state.set_stream(settings);
    let server = SimServer::start(router(state.clone()), faults, 0)
        .await
        .unwrap();
    (server, state)
}

fn config(server: &SimServer, key: &str, secret: &str) -> ConnectorConfig {
    let stream = format!("{}/v2/iex", server.ws_url());
    config_at(
        Environment::Practice,
        Some(&server.url()),
        Some(&stream),
        (key, secret),
    )
}

/// A config for `env` with these endpoints (`None`: the catalog's default) and key pair.
fn config_at(
    env: Environment,
    rest: Option<&str>,
    stream: Option<&str>,
    (key, secret): (&str, &str),
) -> ConnectorConfig {
    ConnectorConfig::new(BrokerKind::Alpaca, env, None, rest, stream)
        .unwrap()
        .with_credentials(Some(Secret::new(key)), Some(Secret::new(secret)))
}

fn connector(server: &SimServer) -> Alpaca {
    Alpaca::new(config(server, KEY, SECRET)).unwrap()
}

// Neither the key nor the secret may show in an error.
leak_checks!([KEY, SECRET]);

#[tokio::test]
async fn the_rate_limit_headers_are_read() {
    let (server, _state) = sim().await;
    let alpaca = connector(&server);
    alpaca.verify().await.unwrap();
    let rate = alpaca.rate_limit().expect("X-Ratelimit-* headers are read");
    assert_eq!(rate.limit, 200);
    assert!(rate.remaining < 200);
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
    let rejected = |e: BrokerError| match e {
        BrokerError::Rejected {
            status: 403,
            code,
            message,
        } => (code, message),
        e => panic!("expected a 403 rejection, got {e:?}"),
    };
    let (code, message) = rejected(err(alpaca
        .place_order(&order("big", OrderSide::Buy, dec!(1000.0), None))
        .await));
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("40310000", "insufficient buying power")
    );
    let (code, message) = rejected(err(alpaca
        .place_order(&order("short", OrderSide::Sell, dec!(5.0), None))
        .await));
    assert_eq!(code, "40310000");
    assert!(
        message.starts_with("insufficient qty available"),
        "{message}"
    );
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
