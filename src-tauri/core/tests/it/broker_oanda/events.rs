//! The transaction stream (`Broker::open_order_events`) against the simulator: orders
//! placed, filled and cancelled are named (by id and client id) within a second, a bad token
//! is refused before the stream starts, heartbeats keep a quiet stream alive while a
//! half-open one goes silent past the silence limit, and junk lines are skipped. (A cut is
//! in `conformance/events.rs`.)

use std::time::Duration;

use brokerdesk_core::brokers::oanda::Oanda;
use brokerdesk_core::brokers::{Broker, BrokerError, OrderEventStream, OrderSide};
use brokerdesk_core::trading::{OrderDraft, OrderIntent};
use rust_decimal_macros::dec;

use super::{assert_clean, config, connector, order, sim, ACCOUNT, WRONG_TOKEN};
use crate::common::events::{
    assert_names, names_order, quiet_then_silent, read_n_each, read_until,
};

fn limit(coid: &str, side: OrderSide, price: &str) -> OrderIntent {
    let draft = OrderDraft::limit("EUR_USD", side, "1000", price).with_client_id(coid);
    OrderIntent::check(&draft).unwrap()
}

async fn open(oanda: &Oanda) -> Box<dyn OrderEventStream> {
    oanda.open_order_events().await.unwrap()
}

#[tokio::test]
async fn placed_filled_and_cancelled_orders_are_named_at_once() {
    let sim = sim().await;
    let oanda = connector(&sim);
    let mut events = open(&oanda).await;
    // A market order fills at once; a limit above the ask fills at once; one far below
    // rests until cancelled.
    let market = oanda
        .place_order(&order("ev-mkt", "EUR_USD", OrderSide::Buy, dec!(1000)))
        .await
        .unwrap();
    let marketable = oanda
        .place_order(&limit("ev-lmt-fill", OrderSide::Buy, "5"))
        .await
        .unwrap();
    let resting = oanda
        .place_order(&limit("ev-lmt-rest", OrderSide::Buy, "0.5"))
        .await
        .unwrap();
    oanda.cancel_order(&resting.broker_order_id).await.unwrap();
    // Two updates each: created, then filled or cancelled.
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
    assert!(seen.iter().all(|u| u.state.is_none()), "{seen:?}");
    // The fill and the cancel are what the runtime looks the orders up for: still named.
    let fills = seen
        .iter()
        .filter(|u| u.broker_order_id == market.broker_order_id)
        .count();
    assert_eq!(fills, 2, "{seen:?}");
}

#[tokio::test]
async fn a_bad_token_or_account_is_refused_before_the_stream_starts() {
    let sim = sim().await;
    let bad = Oanda::new(config(&sim, Some(ACCOUNT), WRONG_TOKEN)).unwrap();
    let e = bad.open_order_events().await.map(|_| ()).unwrap_err();
    assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
    assert_clean(&e);
    let elsewhere =
        Oanda::new(config(&sim, Some("101-004-9999999-001"), super::DEMO_TOKEN)).unwrap();
    let e = elsewhere.open_order_events().await.map(|_| ()).unwrap_err();
    assert!(!matches!(e, BrokerError::Auth(_)), "{e:?}");
    assert_clean(&e);
}

#[tokio::test]
async fn heartbeats_keep_a_quiet_stream_alive_and_a_half_open_one_goes_silent() {
    let sim = sim().await;
    let mut events = open(&connector(&sim)).await;
    // The simulator beats every 100 ms; the connector's default limit is two OANDA beats.
    let oanda = Oanda::new({
        let mut c = config(&sim, Some(ACCOUNT), super::DEMO_TOKEN);
        c.stream_heartbeat = Some(Duration::from_millis(100));
        c
    })
    .unwrap();
    assert_eq!(events.silence_limit(), Duration::from_secs(10));
    let mut events_fast = open(&oanda).await;
    assert_eq!(events_fast.silence_limit(), Duration::from_millis(200));
    quiet_then_silent(&mut *events_fast, sim.server.faults(), 4).await;
    events.close().await;
}

#[tokio::test]
async fn junk_and_over_long_lines_are_skipped() {
    let sim = sim().await;
    let oanda = connector(&sim);
    let mut events = open(&oanda).await;
    assert!(sim.state.inject_transaction_line("<html>\u{0}not json") >= 1);
    sim.state
        .inject_transaction_line(r#"{"type":"ORDER_FILL","orderID":"#);
    sim.state.inject_transaction_line(&"x".repeat(100 * 1024));
    let placed = oanda
        .place_order(&order(
            "ev-after-junk",
            "EUR_USD",
            OrderSide::Buy,
            dec!(1000),
        ))
        .await
        .unwrap();
    let seen = read_until(&mut *events, Duration::from_secs(2), "the order", |u| {
        names_order(u, &placed.broker_order_id, Some("ev-after-junk"))
    })
    .await;
    assert!(
        seen.iter()
            .all(|u| u.broker_order_id == placed.broker_order_id),
        "{seen:?}"
    );
}
