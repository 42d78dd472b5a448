//! The IBKR connector against the Client Portal gateway simulator on 127.0.0.1:0: what is
//! IBKR's own (orders that need confirmation replies), the gateway's session rules (the
//! session cookie learnt at verify, idle timeout and `/tickle`, "no bridge" recovered with
//! `ssodh/init`, "query /accounts first", a new login), and IBKR's refusals. The calls on
//! the success path (verify, a market order filled, a limit order cancelled) run for every
//! broker in `conformance/orders.rs`. IBKR's failure cases are in
//! `broker_ibkr/failures.rs`; the simulator's WebSocket seen by a raw client in
//! `broker_ibkr/stream.rs`; the connector's price stream against it in
//! `broker_ibkr/quote_stream.rs`; its frame parser on recorded frames in
//! `broker_ibkr/stream_parse.rs`; the live-order topic (`open_order_events`) in
//! `broker_ibkr/events.rs`; the gateway's certificate pin over HTTPS in
//! `broker_ibkr/pinning.rs`. No error may ever show the session cookie.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use crate::common;
use common::stock_order as order;
mod events;
mod failures;
mod pinning;
mod quote_stream;
mod stream;
mod stream_parse;

use rust_decimal_macros::dec;
use std::time::Duration;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::ibkr::Ibkr;
use brokerdesk_core::brokers::{
    Broker, BrokerError, ConnectorConfig, OrderSide, OrderState, OrderStatus,
};
use brokerdesk_core::trading::{OrderDraft, OrderIntent};
use brokerdesk_sim::ibkr::{router, Settings, SimState};
use brokerdesk_sim::{Faults, SimServer};

const ACCOUNT: &str = "DU7654321";

async fn sim() -> (SimServer, SimState) {
    sim_with(Settings::default()).await
}

/// A gateway simulator running with `settings` (heartbeats, data pace, idle timeout).
async fn sim_with(settings: Settings) -> (SimServer, SimState) {
    let faults = Faults::new();
    let state = SimState::new(faults.clone(), ACCOUNT);
    state.set_settings(settings);
    let server = SimServer::start(router(state.clone()), faults, 0)
        .await
        .unwrap();
    (server, state)
}

fn config(server: &SimServer, account: Option<&str>) -> ConnectorConfig {
    let rest = format!("{}/v1/api", server.url());
    let ws = format!("{}/v1/api/ws", server.ws_url());
    ConnectorConfig::new(
        BrokerKind::Ibkr,
        Environment::Practice,
        account.map(str::to_string),
        Some(&rest),
        Some(&ws),
    )
    .unwrap()
}

fn connector(server: &SimServer) -> Ibkr {
    Ibkr::new(config(server, Some(ACCOUNT))).unwrap()
}

/// A simulator and a connector to it that has verified (the session is known).
async fn verified() -> (SimServer, SimState, Ibkr) {
    let (server, state) = sim().await;
    let ibkr = connector(&server);
    ibkr.verify().await.unwrap();
    (server, state, ibkr)
}

/// Fails if the session (the cookie's value) shows in the error's `Display` or `Debug`.
fn assert_clean(e: &BrokerError, state: &SimState) {
    if let Some(session) = state.session() {
        common::assert_no_secret(e, &[&session]);
    }
}

/// Returns the error, checked for leaks.
fn err<T: std::fmt::Debug>(r: Result<T, BrokerError>, state: &SimState) -> BrokerError {
    common::checked_err(r, |e| assert_clean(e, state))
}

/// Places `order`, checking that it took `requests` requests to the gateway.
async fn place_in(
    server: &SimServer,
    ibkr: &Ibkr,
    order: &OrderIntent,
    requests: u64,
) -> OrderState {
    let before = server.faults().requests();
    let placed = ibkr.place_order(order).await.unwrap();
    assert_eq!(server.faults().requests() - before, requests, "{order:?}");
    placed
}

#[tokio::test]
async fn confirmation_questions_are_answered_unless_suppressed() {
    let (server, state) = sim().await;
    let ibkr = connector(&server);
    state.set_questions(&[
        (
            "o163",
            "The following order exceeds the price percentage limit of 3%.",
        ),
        ("o354", "You are submitting an order without market data."),
    ]);
    state.set_price("AAPL", 200.0);
    // accounts, secdef search, place, reply, reply, status.
    let buy = order("coid-1", OrderSide::Buy, dec!(10.0), None);
    let placed = place_in(&server, &ibkr, &buy, 6).await;
    assert_eq!(
        (placed.status, placed.filled_quantity),
        (OrderStatus::Filled, dec!(10.0))
    );

    // Suppressed questions are not asked: accounts, place, status (the conid is known).
    ibkr.suppress_questions(&["o163", "o354"]).await.unwrap();
    let sell = order("coid-2", OrderSide::Sell, dec!(4.0), None);
    let sold = place_in(&server, &ibkr, &sell, 3).await;
    assert_eq!(
        (sold.side, sold.status),
        (OrderSide::Sell, OrderStatus::Filled)
    );
    assert_eq!(ibkr.positions().await.unwrap()[0].quantity, dec!(6.0));
}

#[tokio::test]
async fn ibkr_refusals_are_rejections() {
    let (server, state) = sim().await;
    let ibkr = connector(&server);
    ibkr.place_order(&order("dup", OrderSide::Buy, dec!(1.0), None))
        .await
        .unwrap();
    // IBKR answers 200 with an {"error"} body.
    let dup = err(
        ibkr.place_order(&order("dup", OrderSide::Buy, dec!(1.0), None))
            .await,
        &state,
    );
    assert_eq!(
        dup,
        BrokerError::Rejected {
            status: 200,
            code: "ibkr".into(),
            message: "Order couldn't be submitted: Local order ID=dup is already registered."
                .into()
        }
    );
    assert!(!dup.retryable());
    let unknown =
        OrderIntent::check(&OrderDraft::market("NOPE", OrderSide::Buy, "1").with_client_id("u"))
            .unwrap();
    assert!(matches!(
        err(ibkr.place_order(&unknown).await, &state),
        BrokerError::Rejected { .. }
    ));
}

#[tokio::test]
async fn six_confirmation_questions_are_too_many() {
    let (server, state) = sim().await;
    let ibkr = connector(&server);
    let q: Vec<(String, String)> = (0..6)
        .map(|i| (format!("o{i}"), format!("question {i}")))
        .collect();
    let q: Vec<(&str, &str)> = q.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    state.set_questions(&q);
    match err(
        ibkr.place_order(&order("q6", OrderSide::Buy, dec!(1.0), None))
            .await,
        &state,
    ) {
        BrokerError::Rejected { code, message, .. } => {
            assert_eq!(code, "too_many_questions");
            assert!(message.contains("question 4"), "{message}");
        }
        e => panic!("expected Rejected, got {e:?}"),
    }
    assert_eq!(ibkr.get_order_by_client_id("q6").await.unwrap(), None);
}

#[tokio::test]
async fn the_idle_timeout_logs_out_unless_tickled() {
    let (server, state) = sim().await;
    state.set_settings(Settings {
        idle_timeout: Duration::from_millis(400),
        ..Settings::default()
    });
    let ibkr = connector(&server);
    ibkr.verify().await.unwrap();
    // verify tickled: the cookie is the gateway's session.
    let cookie = ibkr.ws_cookie().expect("a session after verify");
    let session = state.session().unwrap();
    assert_eq!(
        cookie.expose(),
        format!("api={{\"session\":\"{session}\"}}")
    );
    assert!(!format!("{ibkr:?}").contains(&session));
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let s = ibkr.tickle().await.unwrap();
        assert!(s.authenticated && s.connected && !s.competing);
    }
    ibkr.positions().await.unwrap();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let e = err(ibkr.positions().await, &state);
    assert!(
        matches!(&e, BrokerError::Auth(m) if m.contains("log in")),
        "{e:?}"
    );
    assert!(!e.retryable());
    assert!(matches!(
        err(ibkr.tickle().await, &state),
        BrokerError::Auth(_)
    ));
    assert!(ibkr.ws_cookie().is_none(), "a 401 forgets the session");

    // The user logs in again: a new session, learnt at the next tickle.
    state.login();
    let s = ibkr.tickle().await.unwrap();
    assert!(s.authenticated);
    assert!(ibkr
        .ws_cookie()
        .unwrap()
        .expose()
        .contains(&state.session().unwrap()));
    ibkr.verify().await.unwrap();
}

#[tokio::test]
async fn a_stale_session_cookie_is_refused_until_the_next_tickle() {
    let (server, state, ibkr) = verified().await;
    server.faults().expire_sessions();
    assert!(matches!(
        err(ibkr.open_orders().await, &state),
        BrokerError::Auth(_)
    ));
    state.login();
    ibkr.tickle().await.unwrap();
    ibkr.open_orders().await.unwrap();
    // A login in between, unseen: the old cookie is refused once, then forgotten.
    state.login();
    assert!(matches!(
        err(ibkr.positions().await, &state),
        BrokerError::Auth(_)
    ));
    ibkr.positions().await.unwrap();
}

#[tokio::test]
async fn no_bridge_is_recovered_with_ssodh_init() {
    let (_server, state, ibkr) = verified().await;
    state.close_bridge();
    assert!(!ibkr.tickle().await.unwrap().authenticated);
    // /iserver/account/orders answers "no bridge": ssodh/init, /iserver/accounts, retry.
    assert!(ibkr.open_orders().await.unwrap().is_empty());
    assert!(ibkr.tickle().await.unwrap().authenticated);

    // verify opens it too (its auth status says not authenticated).
    state.close_bridge();
    ibkr.verify().await.unwrap();
    state.close_bridge();
    let placed = ibkr
        .place_order(&order("nb-1", OrderSide::Buy, dec!(1.0), None))
        .await
        .unwrap();
    assert_eq!(placed.status, OrderStatus::Filled);
}

#[tokio::test]
async fn order_endpoints_before_iserver_accounts_are_recovered() {
    let (server, _state) = sim().await;
    let ibkr = connector(&server);
    // A fresh bridge: /iserver/account/orders answers 500 "Please query /accounts first".
    assert!(ibkr.open_orders().await.unwrap().is_empty());
    assert_eq!(ibkr.get_order_by_client_id("x").await.unwrap(), None);
}

#[tokio::test]
async fn another_account_is_a_config_error_and_none_uses_the_selected_one() {
    let (server, state) = sim().await;
    let other = Ibkr::new(config(&server, Some("DU9999999"))).unwrap();
    let e = err(other.verify().await, &state);
    assert!(
        matches!(&e, BrokerError::Config(m) if m.contains("4321") && m.contains("9999")),
        "{e:?}"
    );
    let unset = Ibkr::new(config(&server, None)).unwrap();
    assert_eq!(unset.verify().await.unwrap().account_id, ACCOUNT);
    assert!(unset.positions().await.unwrap().is_empty());
}
