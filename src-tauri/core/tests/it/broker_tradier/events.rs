//! The account-event stream (`Broker::open_order_events`) against the simulator: orders
//! placed, filled and cancelled are named (by id, and by tag as client id) within a second,
//! only the connector's own account's; a bad token is refused before the socket opens;
//! heartbeats keep a quiet stream alive while a half-open one goes silent past
//! the silence limit; garbage frames are skipped; an ended session ends the stream; neither
//! the token nor the session id shows anywhere.
//! (A cut is in `conformance/events.rs`.)

use std::time::Duration;

use brokerdesk_core::brokers::tradier::Tradier;
use brokerdesk_core::brokers::{Broker, BrokerError, OrderEventStream, OrderSide};
use brokerdesk_sim::tradier::AccountType;
use rust_decimal_macros::dec;

use super::{
    assert_clean, config, connector, order, sim, sim_with, Sim, ACCOUNT, CASH_ACCOUNT, TOKEN,
};
use crate::common::events::{
    answers_within, assert_names, end_of, names_order, quiet_then_silent, read_n_each, read_until,
};

fn tradier(sim: &Sim) -> Tradier {
    connector(sim).with_stream_ping(Duration::from_millis(150))
}

/// Opens the stream and gives the simulator a moment to read the subscription: Tradier
/// acknowledges none, so events of orders placed before it was read are not sent (the
/// runtime reconciles after opening for that reason).
async fn open(t: &Tradier) -> Box<dyn OrderEventStream> {
    let events = t.open_order_events().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    events
}

fn check_clean(sim: &Sim, e: &BrokerError) {
    assert_clean(e);
    let text = format!("{e} {e:?}");
    for id in sim.state.stream_session_ids() {
        assert!(!text.contains(&id), "session id leaked: {text}");
    }
}

#[tokio::test]
async fn placed_filled_and_cancelled_orders_of_the_account_are_named_at_once() {
    let sim = sim_with(&[
        (ACCOUNT, AccountType::Margin),
        (CASH_ACCOUNT, AccountType::Cash),
    ])
    .await;
    let t = tradier(&sim);
    let mut events = open(&t).await;
    let market = t
        .place_order(&order("ev-mkt", OrderSide::Buy, dec!(1), None))
        .await
        .unwrap();
    let marketable = t
        .place_order(&order(
            "ev-lmt-fill",
            OrderSide::Buy,
            dec!(1),
            Some(dec!(100000)),
        ))
        .await
        .unwrap();
    let resting = t
        .place_order(&order(
            "ev-lmt-rest",
            OrderSide::Buy,
            dec!(1),
            Some(dec!(1)),
        ))
        .await
        .unwrap();
    // An order of the token's other account is not this connector's.
    let other = Tradier::new(config(&sim, Some(CASH_ACCOUNT), TOKEN)).unwrap();
    let foreign = other
        .place_order(&order("ev-other", OrderSide::Buy, dec!(1), None))
        .await
        .unwrap();
    t.cancel_order(&resting.broker_order_id).await.unwrap();
    // Two updates each: placed, then filled or cancelled.
    let (m, f, r) = (
        market.broker_order_id.as_str(),
        marketable.broker_order_id.as_str(),
        resting.broker_order_id.as_str(),
    );
    let seen = read_n_each(&mut *events, &[m, f, r], 2).await;
    assert_names(
        &seen,
        &[(m, "ev-mkt"), (f, "ev-lmt-fill"), (r, "ev-lmt-rest")],
    );
    assert!(
        !names_order(&seen, &foreign.broker_order_id, None),
        "{seen:?}"
    );
    assert!(seen.iter().all(|u| u.state.is_none()), "{seen:?}");
}

#[tokio::test]
async fn a_bad_token_is_refused_before_the_socket_opens() {
    let sim = sim().await;
    let bad = Tradier::new(config(&sim, Some(ACCOUNT), "wrong-token-0000")).unwrap();
    let e = bad.open_order_events().await.map(|_| ()).unwrap_err();
    assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
    check_clean(&sim, &e);
    assert_eq!(sim.state.stream_sessions(), 0);
}

#[tokio::test]
async fn an_ended_session_ends_the_stream() {
    let sim = sim().await;
    let t = tradier(&sim);
    let mut events = open(&t).await;
    sim.state.end_stream_sessions();
    if let Some(e) = end_of(&mut *events).await {
        assert!(e.retryable(), "{e:?}");
        check_clean(&sim, &e);
    }
}

#[tokio::test]
async fn heartbeats_keep_a_quiet_stream_alive_and_a_half_open_one_goes_silent() {
    let sim = sim().await;
    sim.state.set_account_heartbeat(Duration::from_millis(100));
    // Pings every 5 s: only the heartbeats can keep this stream talking.
    let t = connector(&sim).with_stream_ping(Duration::from_secs(5));
    let mut events = open(&t).await;
    assert_eq!(events.silence_limit(), Duration::from_secs(10));
    let beats = answers_within(
        &mut *events,
        Duration::from_millis(300),
        Duration::from_millis(900),
    )
    .await;
    assert!(beats >= 6, "{beats} heartbeats");
    // With pings as well, the shared check (a half-open link goes silent).
    let mut events = open(&tradier(&sim)).await;
    quiet_then_silent(&mut *events, sim.server.faults(), 4).await;
}

#[tokio::test]
async fn garbage_and_oversized_frames_are_skipped() {
    let sim = sim().await;
    let t = tradier(&sim);
    let mut events = open(&t).await;
    sim.state
        .inject_account_frame("<html>\u{0}\u{1}not json at all");
    sim.state
        .inject_account_frame(r#"{"id":1,"event":"order","account": not-json"#);
    sim.state.inject_account_frame("[]");
    sim.state
        .inject_account_frame(r#"{"error":"too many requests"}"#);
    sim.state
        .inject_account_frame("x".repeat(brokerdesk_core::stream::MAX_MESSAGE + 1));
    let placed = t
        .place_order(&order("ev-after-junk", OrderSide::Buy, dec!(1), None))
        .await
        .unwrap();
    let seen = read_until(&mut *events, Duration::from_secs(3), "the order", |u| {
        names_order(u, &placed.broker_order_id, Some("ev-after-junk"))
    })
    .await;
    assert!(
        seen.iter()
            .all(|u| u.broker_order_id == placed.broker_order_id),
        "{seen:?}"
    );
}
