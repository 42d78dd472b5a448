//! The Tastytrade connector against the Tastytrade simulator on 127.0.0.1:0: every `Broker`
//! call on the success path, the open/close action mapping, preflight refusals and account
//! selection. The failure classes (auth, token refresh, User-Agent, 429, 5xx, garbage,
//! timeouts, down) are in `broker_tastytrade/failures.rs`; the quote token and the DXLink
//! socket (a raw WebSocket client against the simulator) in `broker_tastytrade/dxlink.rs`;
//! the DXLink parser on recorded frames in `broker_tastytrade/dxlink_parse.rs`; the quote
//! stream (`open_quote_stream`) and instrument search in `broker_tastytrade/stream.rs`.
//! No error may ever show the refresh token, the client secret or an access token.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use crate::common;
mod dxlink;
mod dxlink_parse;
mod failures;
mod stream;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::tastytrade::Tastytrade;
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig, OrderSide, OrderStatus};
use brokerdesk_core::trading::OrderDraft;
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

/// Fails if a credential or an access token (the simulator's start `tt-access-`) shows in
/// the error's `Display` or `Debug`.
fn assert_clean(e: &BrokerError) {
    common::assert_no_secret(e, &[REFRESH, CLIENT_SECRET, "tt-access-"]);
}

/// Returns the error, checked for leaks.
fn err<T: std::fmt::Debug>(r: Result<T, BrokerError>) -> BrokerError {
    let e = r.expect_err("expected an error");
    assert_clean(&e);
    e
}

use common::stock_order as order;

#[tokio::test]
async fn verify_and_list_accounts_read_the_account_and_its_balances() {
    let (server, state) = sim().await;
    let tt = connector(&server);
    assert_eq!(tt.kind(), BrokerKind::Tastytrade);
    assert!(tt.session_expires_at().is_none(), "no token yet");
    let s = tt.verify().await.unwrap();
    // The access token lasts 15 minutes: the UI counts down to its expiry.
    let left = tt.session_expires_at().unwrap() - chrono::Utc::now();
    assert!(
        left > chrono::Duration::minutes(14) && left <= chrono::Duration::minutes(15),
        "{left}"
    );
    assert_eq!(
        (s.account_id.as_str(), s.account_last4.as_str()),
        (ACCOUNT, "0042")
    );
    assert_eq!(
        (s.account_type.as_str(), s.currency.as_str()),
        ("Individual margin", "USD")
    );
    assert_eq!(
        (s.balance, s.equity, s.buying_power),
        (dec!(100_000.0), dec!(100_000.0), dec!(100_000.0))
    );
    let accounts = tt.list_accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].account_id, ACCOUNT);
    assert_eq!(accounts[0].label.as_deref(), Some("Individual"));
    assert_eq!(
        state.tokens_issued(),
        1,
        "one access token serves every call"
    );
}

#[tokio::test]
async fn a_market_order_fills_at_the_quote_and_becomes_a_position() {
    let (server, state) = sim().await;
    let tt = connector(&server);
    state.set_price("AAPL", 200.0);
    let (bid, ask) = state.quote("AAPL");
    let (bid, ask) = (common::sim_price(bid), common::sim_price(ask));
    let placed = tt
        .place_order(&order("coid-1", OrderSide::Buy, dec!(10.0), None))
        .await
        .unwrap();
    assert_eq!(
        (placed.status, placed.broker_status.as_str()),
        (OrderStatus::Filled, "Filled")
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
    assert!(placed.broker_order_id.parse::<u64>().is_ok());

    assert_eq!(tt.get_order(&placed.broker_order_id).await.unwrap(), placed);
    assert_eq!(
        tt.get_order_by_client_id("coid-1").await.unwrap().as_ref(),
        Some(&placed)
    );
    assert_eq!(tt.get_order_by_client_id("never-sent").await.unwrap(), None);

    let positions = tt.positions().await.unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!(
        (
            positions[0].symbol.as_str(),
            positions[0].quantity,
            positions[0].avg_price
        ),
        ("AAPL", dec!(10.0), Some(ask))
    );
    let pl = positions[0].unrealized_pl.unwrap();
    assert!(
        (pl - (dec!(200.0) - ask) * dec!(10.0)).abs() < dec!(0.000001),
        "{pl}"
    );
    let s = tt.verify().await.unwrap();
    assert!((s.balance - (dec!(100_000.0) - dec!(10.0) * ask)).abs() < dec!(0.000001));

    // Selling part of a long closes it ("Sell to Close"), at the bid.
    let sold = tt
        .place_order(&order("coid-2", OrderSide::Sell, dec!(4.0), None))
        .await
        .unwrap();
    assert_eq!(
        (sold.side, sold.status, sold.avg_fill_price),
        (OrderSide::Sell, OrderStatus::Filled, Some(bid))
    );
    assert_eq!(tt.positions().await.unwrap()[0].quantity, dec!(6.0));
    // Filled orders are not open ones, though `/orders/live` lists them for the day.
    assert!(tt.open_orders().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_resting_limit_order_is_open_until_cancelled() {
    let (server, state) = sim().await;
    let tt = connector(&server);
    state.set_price("AAPL", 200.0);
    let placed = tt
        .place_order(&order(
            "lim-1",
            OrderSide::Buy,
            dec!(3.0),
            Some(dec!(150.0)),
        ))
        .await
        .unwrap();
    assert_eq!(
        (
            placed.status,
            placed.broker_status.as_str(),
            placed.filled_quantity
        ),
        (OrderStatus::Open, "Live", dec!(0.0))
    );
    let open = tt.open_orders().await.unwrap();
    assert_eq!(open, vec![placed.clone()]);
    // 3 × 150 is reserved from buying power.
    assert_eq!(
        tt.verify().await.unwrap().buying_power,
        dec!(100_000.0) - dec!(450.0)
    );

    tt.cancel_order(&placed.broker_order_id).await.unwrap();
    let after = tt.get_order(&placed.broker_order_id).await.unwrap();
    assert_eq!(
        (after.status, after.broker_status.as_str()),
        (OrderStatus::Cancelled, "Cancelled")
    );
    assert!(tt.open_orders().await.unwrap().is_empty());
    assert_eq!(
        tt.get_order_by_client_id("lim-1")
            .await
            .unwrap()
            .map(|o| o.status),
        Some(OrderStatus::Cancelled)
    );

    match err(tt.cancel_order(&placed.broker_order_id).await) {
        BrokerError::Rejected {
            status: 422, code, ..
        } => assert_eq!(code, "validation_error"),
        e => panic!("expected Rejected, got {e:?}"),
    }
    assert!(matches!(
        err(tt.get_order("999999").await),
        BrokerError::NotFound(_)
    ));
    assert!(matches!(
        err(tt.cancel_order("../positions").await),
        BrokerError::NotFound(_)
    ));
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
