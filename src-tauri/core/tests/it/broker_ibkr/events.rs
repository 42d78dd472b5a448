//! The live-order topic (`open_order_events`, `sor` on the gateway WebSocket) against the
//! simulator over real sockets: updates naming the order (`orderId` and the `cOID` sent as
//! `order_ref`) with its state, for a market order that fills and a limit order that rests
//! and is cancelled; partial updates without a state; a logged-out gateway refused with
//! `Auth` (a cut is in `conformance/events.rs`); heartbeats keeping a quiet stream alive while a half-open one goes silent;
//! garbage skipped. Never the session in an error.

use rust_decimal_macros::dec;
use std::time::Duration;

use brokerdesk_core::brokers::ibkr::events::sor_updates;
use brokerdesk_core::brokers::ibkr::{Ibkr, StreamOptions};
use brokerdesk_core::brokers::{Broker, BrokerError, OrderEventStream, OrderSide, OrderStatus};
use brokerdesk_sim::ibkr::Settings;
use brokerdesk_sim::SimServer;

use super::{assert_clean, config, err, order, sim_with, ACCOUNT};
use crate::common::events::{end_of, fill_and_cancel, quiet_then_silent, update_where};

const PROMPT: Duration = Duration::from_secs(1);

fn fast() -> Settings {
    Settings {
        heartbeat: Duration::from_millis(50),
        ..Settings::default()
    }
}

fn connector(server: &SimServer) -> Ibkr {
    Ibkr::new(config(server, Some(ACCOUNT)))
        .unwrap()
        .with_stream_options(StreamOptions {
            ping_every: Duration::from_millis(150),
            tic_every: Duration::from_millis(100),
            handshake_timeout: Duration::from_secs(2),
        })
}

async fn open(ibkr: &Ibkr) -> Box<dyn OrderEventStream> {
    ibkr.open_order_events()
        .await
        .expect("the order events open")
}

#[tokio::test]
async fn fills_and_cancels_arrive_promptly_naming_the_order() {
    let (server, state) = sim_with(fast()).await;
    state.set_questions(&[]);
    state.set_price("AAPL", 200.0);
    let ibkr = connector(&server);
    let mut events = open(&ibkr).await;
    assert_eq!(events.silence_limit(), Duration::from_millis(300));

    fill_and_cancel(&ibkr, &mut *events, "ib-ev", PROMPT).await;

    // A new subscription starts with the day's orders.
    let mut again = open(&ibkr).await;
    update_where(&mut *again, PROMPT, "the day's orders", |u| {
        u.client_order_id.as_deref() == Some("ib-ev-mkt")
    })
    .await;
    events.close().await;
    again.close().await;
}

#[tokio::test]
async fn a_logged_out_gateway_is_an_auth_error() {
    let (server, state) = sim_with(fast()).await;
    let ibkr = connector(&server);
    state.logout();
    let e = err(ibkr.order_events().await, &state);
    assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
    assert!(!e.retryable());

    // Logged out while streaming: the gateway says `sts` not authenticated and closes.
    state.login();
    let mut events = open(&ibkr).await;
    state.logout();
    if let Some(e) = end_of(&mut *events).await {
        assert_clean(&e, &state);
        assert!(matches!(e, BrokerError::Auth(_)), "{e:?}");
    }
}

#[tokio::test]
async fn a_quiet_stream_lives_on_heartbeats_and_a_silent_one_is_seen() {
    let (server, _state) = sim_with(fast()).await;
    let ibkr = connector(&server);
    let mut events = open(&ibkr).await;
    // 900 ms of heartbeats, then half-open.
    let reads = quiet_then_silent(&mut *events, server.faults(), 3).await;
    assert!(reads >= 5, "{reads} heartbeats");
}

#[tokio::test]
async fn garbage_is_skipped() {
    let (server, state) = sim_with(fast()).await;
    state.set_questions(&[]);
    let ibkr = connector(&server);
    let mut events = open(&ibkr).await;
    assert_eq!(state.push_stream_frame("<html>\u{0}not json"), 1);
    state.push_stream_frame(r#"{"topic":"sor","args":[{"status":"Filled"}]}"#);
    state.push_stream_frame(r#"{"topic":"sor","args":"nonsense"}"#);
    ibkr.place_order(&order("ib-ev-g", OrderSide::Buy, dec!(1.0), None))
        .await
        .unwrap();
    update_where(&mut *events, PROMPT, "the order past the garbage", |u| {
        u.client_order_id.as_deref() == Some("ib-ev-g")
    })
    .await;
}

#[test]
fn partial_updates_name_the_order_without_a_state() {
    let mut out = Vec::new();
    sor_updates(
        br#"{"topic":"sor","args":[{"acct":"DU1","orderId":42,"order_ref":"c-1","status":"Filled","filledQuantity":5,"remainingQuantity":0}]}"#,
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].broker_order_id, "42");
    assert_eq!(out[0].client_order_id.as_deref(), Some("c-1"));
    assert_eq!(out[0].state, None, "too little for a whole state");

    out.clear();
    sor_updates(
        br#"{"topic":"sor","args":[{"acct":"DU1","orderId":"43","order_ref":"c-2","status":"Submitted","filledQuantity":"1","remainingQuantity":"4","totalSize":"5","avgPrice":"10.5","ticker":"AAPL","side":"SELL","orderType":"Limit","price":"10.50"}]}"#,
        &mut out,
    );
    let s = out[0].state.as_ref().unwrap();
    assert_eq!(s.status, OrderStatus::PartiallyFilled);
    assert_eq!(
        (s.side, s.quantity, s.filled_quantity),
        (OrderSide::Sell, dec!(5), dec!(1))
    );
    assert_eq!(s.avg_fill_price, Some(dec!(10.5)));

    out.clear();
    sor_updates(br#"{"topic":"system","hb":1}"#, &mut out);
    sor_updates(br#"{"topic":"sor","args":[{"status":"Filled"}]}"#, &mut out);
    sor_updates(b"\xff\xfe", &mut out);
    assert!(out.is_empty());
}
