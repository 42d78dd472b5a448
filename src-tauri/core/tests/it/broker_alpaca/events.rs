//! The trade-updates stream (`Broker::open_order_events`) against the simulator: orders
//! placed, filled (at once, and later by the market) and cancelled arrive within a second
//! with their whole state, in the paper server's binary frames or in text ones; bad keys are
//! refused with `Auth`; a server that is down refuses it retryably; pings keep a quiet
//! stream alive while a half-open one goes silent past the silence limit; garbage frames are
//! skipped. (A refusal by `RefuseAuth` and a cut are in `conformance/events.rs`.)

use std::time::Duration;

use brokerdesk_core::brokers::alpaca::{Alpaca, AlpacaStreamOptions};
use brokerdesk_core::brokers::{Broker, BrokerError, OrderSide, OrderStatus, OrderUpdate};
use brokerdesk_core::stream::MAX_MESSAGE;
use brokerdesk_sim::alpaca::SimState;
use brokerdesk_sim::SimServer;
use rust_decimal_macros::dec;

use super::{assert_clean, config, order, sim, KEY, SECRET};
use crate::common::events::{assert_names, quiet_then_silent, read_until};

fn alpaca(server: &SimServer, key: &str, secret: &str) -> Alpaca {
    Alpaca::new(config(server, key, secret))
        .unwrap()
        .with_stream_options(AlpacaStreamOptions {
            connect_timeout: Duration::from_secs(3),
            ping_every: Duration::from_millis(150),
            ..AlpacaStreamOptions::default()
        })
}

/// The last status an update gave `broker_id`.
fn last_status(updates: &[OrderUpdate], broker_id: &str) -> Option<OrderStatus> {
    updates
        .iter()
        .rev()
        .find(|u| u.broker_order_id == broker_id)
        .and_then(|u| u.state.as_ref())
        .map(|s| s.status)
}

async fn fills_and_cancels_arrive(state: &SimState, server: &SimServer) {
    let alpaca = alpaca(server, KEY, SECRET);
    let mut events = alpaca.open_order_events().await.unwrap();
    let market = alpaca
        .place_order(&order("ev-mkt", OrderSide::Buy, dec!(1), None))
        .await
        .unwrap();
    let later = alpaca
        .place_order(&order("ev-later", OrderSide::Buy, dec!(1), Some(dec!(1))))
        .await
        .unwrap();
    let cancelled = alpaca
        .place_order(&order("ev-cxl", OrderSide::Buy, dec!(1), Some(dec!(2))))
        .await
        .unwrap();
    assert!(state.fill_open("ev-later"), "the market reaches the limit");
    alpaca
        .cancel_order(&cancelled.broker_order_id)
        .await
        .unwrap();
    let seen = read_until(
        &mut *events,
        Duration::from_secs(1),
        "the fills and the cancel",
        |u| {
            last_status(u, &market.broker_order_id) == Some(OrderStatus::Filled)
                && last_status(u, &later.broker_order_id) == Some(OrderStatus::Filled)
                && last_status(u, &cancelled.broker_order_id) == Some(OrderStatus::Cancelled)
        },
    )
    .await;
    assert_names(
        &seen,
        &[
            (&market.broker_order_id, "ev-mkt"),
            (&later.broker_order_id, "ev-later"),
            (&cancelled.broker_order_id, "ev-cxl"),
        ],
    );
    // Each order was announced `new` first, with its state.
    let first = seen
        .iter()
        .find(|u| u.broker_order_id == later.broker_order_id)
        .and_then(|u| u.state.clone())
        .unwrap();
    assert_eq!(
        (first.status, first.broker_status.as_str()),
        (OrderStatus::Open, "new")
    );
    let filled = seen
        .iter()
        .rev()
        .find(|u| u.broker_order_id == later.broker_order_id)
        .and_then(|u| u.state.clone())
        .unwrap();
    assert_eq!(
        (filled.filled_quantity, filled.avg_fill_price),
        (dec!(1), Some(dec!(1)))
    );
    events.close().await;
}

#[tokio::test]
async fn orders_placed_filled_and_cancelled_arrive_in_binary_frames() {
    let (server, state) = sim().await;
    fills_and_cancels_arrive(&state, &server).await;
}

#[tokio::test]
async fn orders_placed_filled_and_cancelled_arrive_in_text_frames() {
    let (server, state) = sim().await;
    state.set_trade_updates_text(true);
    fills_and_cancels_arrive(&state, &server).await;
}

#[tokio::test]
async fn bad_keys_are_refused_with_auth() {
    let (server, _state) = sim().await;
    for (key, secret) in [(KEY, "wrong-secret-0000"), ("PKWRONGKEY", SECRET)] {
        let e = alpaca(&server, key, secret)
            .open_order_events()
            .await
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
        assert!(!e.retryable());
        assert_clean(&e);
        assert!(!format!("{e:?}").contains("wrong-secret"), "{e:?}");
    }
}

#[tokio::test]
async fn a_server_that_is_down_refuses_the_stream_retryably() {
    let (server, _state) = sim().await;
    server.faults().go_down_for(Duration::from_secs(5));
    let e = alpaca(&server, KEY, SECRET)
        .open_order_events()
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(e.retryable(), "{e:?}");
}

#[tokio::test]
async fn pings_keep_a_quiet_stream_alive_and_a_half_open_one_goes_silent() {
    let (server, _state) = sim().await;
    let mut events = alpaca(&server, KEY, SECRET)
        .open_order_events()
        .await
        .unwrap();
    assert_eq!(events.silence_limit(), Duration::from_millis(300));
    quiet_then_silent(&mut *events, server.faults(), 4).await;
}

#[tokio::test]
async fn garbage_and_oversized_frames_are_skipped() {
    let (server, state) = sim().await;
    let alpaca = alpaca(&server, KEY, SECRET);
    let mut events = alpaca.open_order_events().await.unwrap();
    assert_eq!(state.inject_trade_update_frame("<html>\u{0}not json"), 1);
    state.inject_trade_update_frame(vec![0xc1, 0xff, 0x00]);
    state.inject_trade_update_frame(r#"{"stream":"trade_updates","data":{"event":"fill"}}"#);
    state.inject_trade_update_frame(format!(
        r#"{{"stream":"trade_updates","data":{{"pad":"{}"}}}}"#,
        "x".repeat(MAX_MESSAGE + 1)
    ));
    let placed = alpaca
        .place_order(&order("ev-after-junk", OrderSide::Buy, dec!(1), None))
        .await
        .unwrap();
    let seen = read_until(
        &mut *events,
        Duration::from_secs(3),
        "the order's fill",
        |u| last_status(u, &placed.broker_order_id) == Some(OrderStatus::Filled),
    )
    .await;
    assert!(
        seen.iter()
            .all(|u| u.broker_order_id == placed.broker_order_id),
        "{seen:?}"
    );
}
