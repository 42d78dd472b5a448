//! The Tastytrade connector against the Tastytrade simulator on 127.0.0.1:0: what is
//! Tastytrade's own (one 15-minute access token for every call, the open/close action
//! mapping, preflight refusals, account selection). The calls on the success path (verify,
//! a market order filled, a limit order cancelled) run for every broker in
//! `conformance/orders.rs`. The failure classes (auth, token refresh, User-Agent, 429, 5xx,
//! garbage, timeouts, down) are in `broker_tastytrade/failures.rs`; the quote token and the
//! DXLink socket (a raw WebSocket client against the simulator) in
//! `broker_tastytrade/dxlink.rs`; the DXLink parser on recorded frames in
//! `broker_tastytrade/dxlink_parse.rs`; the quote stream (`open_quote_stream`) in
//! `broker_tastytrade/stream.rs`; the account streamer (`open_order_events`) in
//! `broker_tastytrade/events.rs`; instrument search in `conformance/search.rs`. No error may ever show the refresh
//! token, the client secret or an access token.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use crate::common;
use common::stock_order as order;
mod dxlink;
mod dxlink_parse;
mod events;
mod failures;
mod stream;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::tastytrade::Tastytrade;
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig, OrderSide, OrderStatus};
use brokerdesk_core::Secret;
use brokerdesk_sim::tastytrade::{router, SimState};
use brokerdesk_sim::{Faults, SimServer};
use rust_decimal_macros::dec;

const REFRESH: &str = "tt-test-refresh-token-0123456789abcdef";
const CLIENT_SECRET: &str = "tt-test-client-secret-fedcba9876543210";
const ACCOUNT: &str = "5WT00042";

async fn sim_with(accounts: &[&str]) -> (SimServer, SimState) {
    let faults = Faults::new();
    let state = SimState::new(faults.clone(), REFRESH, CLIENT_SECRET, accounts);
    let server = SimServer::start(router(state.clone()), faults, 0)
        .await
        .unwrap();
    (server, state)
}

async fn sim() -> (SimServer, SimState) {
    sim_with(&[ACCOUNT]).await
}

fn config(server: &SimServer, refresh: &str, secret: &str) -> ConnectorConfig {
    ConnectorConfig::new(
        BrokerKind::Tastytrade,
        Environment::Practice,
        None,
        Some(&server.url()),
        Some(&server.ws_url()),
    )
    .unwrap()
    .with_credentials(Some(Secret::new(refresh)), Some(Secret::new(secret)))
}

fn connector(server: &SimServer) -> Tastytrade {
    Tastytrade::new(config(server, REFRESH, CLIENT_SECRET)).unwrap()
}

// No credential may show in an error, nor an access token (the simulator's start
// `tt-access-`).
leak_checks!([REFRESH, CLIENT_SECRET, "tt-access-"]);

#[tokio::test]
async fn one_access_token_lasting_15_minutes_serves_every_call() {
    let (server, state) = sim().await;
    let tt = connector(&server);
    assert!(tt.session_expires_at().is_none(), "no token yet");
    tt.verify().await.unwrap();
    // The access token lasts 15 minutes: the UI counts down to its expiry.
    let left = tt.session_expires_at().unwrap() - chrono::Utc::now();
    assert!(
        left > chrono::Duration::minutes(14) && left <= chrono::Duration::minutes(15),
        "{left}"
    );
    tt.list_accounts().await.unwrap();
    tt.positions().await.unwrap();
    assert_eq!(
        state.tokens_issued(),
        1,
        "one access token serves every call"
    );
}

#[tokio::test]
async fn preflight_failures_are_rejections_and_actions_follow_the_position() {
    let (server, state) = sim().await;
    let tt = connector(&server);
    state.set_price("AAPL", 200.0);
    // $200 × 1000 > $100,000.
    let e = err(tt
        .place_order(&order("big", OrderSide::Buy, dec!(1000.0), None))
        .await);
    match &e {
        BrokerError::Rejected {
            status: 422,
            code,
            message,
        } => {
            assert_eq!(code, "preflight_check_failure");
            assert!(message.contains("Insufficient buying power"), "{message}");
        }
        e => panic!("expected Rejected, got {e:?}"),
    }
    assert!(!e.retryable());

    // Flat, then sell: a short sale ("Sell to Open"); buying back closes it.
    let short = tt
        .place_order(&order("s1", OrderSide::Sell, dec!(5.0), None))
        .await
        .unwrap();
    assert_eq!(short.status, OrderStatus::Filled);
    assert_eq!(tt.positions().await.unwrap()[0].quantity, -dec!(5.0));
    // Buying 8 would close 5 and open 3: refused before sending.
    let cross = err(tt
        .place_order(&order("x", OrderSide::Buy, dec!(8.0), None))
        .await);
    assert!(
        matches!(&cross, BrokerError::Rejected { status: 0, message, .. } if message.contains("two orders")),
        "{cross:?}"
    );
    tt.place_order(&order("b1", OrderSide::Buy, dec!(5.0), None))
        .await
        .unwrap();
    assert!(tt.positions().await.unwrap().is_empty());
}

#[tokio::test]
async fn several_accounts_need_one_chosen() {
    let (server, _state) = sim_with(&["5WT00001", "5WT00002"]).await;
    let e = err(connector(&server).positions().await);
    assert!(
        matches!(&e, BrokerError::Config(m) if m.contains("5WT00001") && m.contains("5WT00002")),
        "{e:?}"
    );
    assert_eq!(connector(&server).list_accounts().await.unwrap().len(), 2);

    let mut cfg = config(&server, REFRESH, CLIENT_SECRET);
    cfg.account_id = Some("5WT00002".into());
    let chosen = Tastytrade::new(cfg).unwrap();
    assert_eq!(chosen.verify().await.unwrap().account_id, "5WT00002");
    assert!(chosen.positions().await.unwrap().is_empty());

    let mut cfg = config(&server, REFRESH, CLIENT_SECRET);
    cfg.account_id = Some("5WT09999".into());
    let other = Tastytrade::new(cfg).unwrap();
    assert!(matches!(
        err(other.verify().await),
        BrokerError::Config(m) if m.contains("9999")
    ));
    assert!(matches!(
        err(other.positions().await),
        BrokerError::NotFound(_)
    ));
}
