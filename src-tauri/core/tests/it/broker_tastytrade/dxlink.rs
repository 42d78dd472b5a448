//! The quote token and the simulator's DXLink socket, seen by a plain WebSocket client: the
//! SETUP/AUTH/CHANNEL/FEED handshake, compact Quote data in the accepted field order,
//! refusals, and the faults (a cut stream, a half-open link, a missed keepalive).

use std::time::Duration;

use brokerdesk_sim::tastytrade::{DxLinkSettings, SimState};
use brokerdesk_sim::SimServer;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

use super::{connector, sim};
use crate::common::ws::{self, next_json as next, send_json as send, Ws};

const FIELDS: [&str; 6] = [
    "eventSymbol",
    "eventTime",
    "bidPrice",
    "askPrice",
    "bidSize",
    "askSize",
];

async fn fast_sim(keepalive_timeout: Duration) -> (SimServer, SimState) {
    let (server, state) = sim().await;
    state.set_dxlink(DxLinkSettings {
        interval: Duration::from_millis(30),
        keepalive_timeout,
        keepalive_interval: Duration::from_millis(100),
        ..DxLinkSettings::default()
    });
    (server, state)
}

/// The next frame of `kind`, skipping keepalives and data.
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let v = next(ws).await.expect("the socket ended");
        if v["type"] == kind {
            return v;
        }
    }
}

/// Connects with a fresh quote token (through the connector) and completes SETUP + AUTH.
async fn authorized(server: &SimServer) -> Ws {
    let q = connector(server).quote_token().await.unwrap();
    assert_eq!(q.dxlink_url, format!("{}/dxlink", server.ws_url()));
    assert_eq!(q.level.as_deref(), Some("api"));
    let (mut ws, _) = connect_async(q.dxlink_url.as_str()).await.unwrap();
    send(
        &mut ws,
        json!({"type": "SETUP", "channel": 0, "version": "0.1-DXF-JS/0.3.0",
        "keepaliveTimeout": 60, "acceptKeepaliveTimeout": 60}),
    )
    .await;
    let setup = next(&mut ws).await.unwrap();
    assert_eq!(
        (&setup["type"], &setup["channel"]),
        (&json!("SETUP"), &json!(0))
    );
    assert!(setup["keepaliveTimeout"].is_number());
    assert_eq!(
        next(&mut ws).await.unwrap(),
        json!({"type": "AUTH_STATE", "channel": 0, "state": "UNAUTHORIZED"})
    );
    send(
        &mut ws,
        json!({"type": "AUTH", "channel": 0, "token": q.token.expose()}),
    )
    .await;
    let state = next_of(&mut ws, "AUTH_STATE").await;
    assert_eq!(state["state"], "AUTHORIZED");
    ws
}

/// Opens feed channel 1 with the six Quote fields and subscribes to `symbols`.
async fn subscribe(ws: &mut Ws, symbols: &[&str]) {
    send(
        ws,
        json!({"type": "CHANNEL_REQUEST", "channel": 1, "service": "FEED",
        "parameters": {"contract": "AUTO"}}),
    )
    .await;
    let opened = next_of(ws, "CHANNEL_OPENED").await;
    assert_eq!(
        (&opened["channel"], &opened["service"]),
        (&json!(1), &json!("FEED"))
    );
    send(
        ws,
        json!({"type": "FEED_SETUP", "channel": 1, "acceptAggregationPeriod": 0.1,
        "acceptDataFormat": "COMPACT", "acceptEventFields": {"Quote": FIELDS}}),
    )
    .await;
    let config = next_of(ws, "FEED_CONFIG").await;
    assert_eq!(config["dataFormat"], "COMPACT");
    assert_eq!(config["eventFields"]["Quote"], json!(FIELDS));
    let add: Vec<Value> = symbols
        .iter()
        .map(|s| json!({"type": "Quote", "symbol": s}))
        .collect();
    send(
        ws,
        json!({"type": "FEED_SUBSCRIPTION", "channel": 1, "add": add}),
    )
    .await;
}

/// A simulator (keepalives timing out after 60 s) and an authorized socket with SPY's
/// quotes flowing on channel 1.
async fn feeding_spy() -> (SimServer, SimState, Ws) {
    let (server, state) = fast_sim(Duration::from_secs(60)).await;
    let mut ws = authorized(&server).await;
    subscribe(&mut ws, &["SPY"]).await;
    next_of(&mut ws, "FEED_DATA").await;
    (server, state, ws)
}

#[tokio::test]
async fn the_handshake_leads_to_compact_quotes_in_the_accepted_order() {
    let (server, state) = fast_sim(Duration::from_secs(60)).await;
    state.set_price("SPY", 450.0);
    state.set_price("AAPL", 190.0);
    let mut ws = authorized(&server).await;
    subscribe(&mut ws, &["SPY", "AAPL"]).await;
    for _ in 0..3 {
        let data = next_of(&mut ws, "FEED_DATA").await;
        assert_eq!(
            (&data["channel"], &data["data"][0]),
            (&json!(1), &json!("Quote"))
        );
        let values = data["data"][1].as_array().unwrap();
        assert_eq!(values.len(), 2 * FIELDS.len(), "two events concatenated");
        for (event, symbol) in values.chunks(FIELDS.len()).zip(["SPY", "AAPL"]) {
            let (bid, ask) = state.quote(symbol);
            assert_eq!(event[0], symbol);
            assert!(event[1].as_i64().unwrap() > 1_600_000_000_000, "epoch ms");
            assert_eq!(
                (event[2].as_f64(), event[3].as_f64()),
                (Some(bid), Some(ask))
            );
            assert!(event[4].as_f64().unwrap() > 0.0 && event[5].as_f64().unwrap() > 0.0);
        }
    }
    // Removing one symbol leaves one event per frame.
    send(
        &mut ws,
        json!({"type": "FEED_SUBSCRIPTION", "channel": 1,
        "remove": [{"type": "Quote", "symbol": "SPY"}]}),
    )
    .await;
    let mut last = Value::Null;
    for _ in 0..3 {
        last = next_of(&mut ws, "FEED_DATA").await;
    }
    assert_eq!(last["data"][1].as_array().unwrap().len(), FIELDS.len());
}

#[tokio::test]
async fn a_bad_token_or_skipped_steps_get_dxlink_errors() {
    let (server, _state) = fast_sim(Duration::from_secs(60)).await;
    let (mut ws, _) = connect_async(format!("{}/dxlink", server.ws_url()))
        .await
        .unwrap();
    send(&mut ws, json!({"type": "AUTH", "channel": 0, "token": "x"})).await;
    assert_eq!(next(&mut ws).await.unwrap()["error"], "INVALID_MESSAGE");
    send(
        &mut ws,
        json!({"type": "SETUP", "channel": 0, "keepaliveTimeout": 60,
        "acceptKeepaliveTimeout": 60}),
    )
    .await;
    next_of(&mut ws, "AUTH_STATE").await;
    send(
        &mut ws,
        json!({"type": "AUTH", "channel": 0, "token": "not-a-quote-token"}),
    )
    .await;
    let e = next_of(&mut ws, "ERROR").await;
    assert_eq!(e["error"], "UNAUTHORIZED");
    assert_eq!(
        next_of(&mut ws, "AUTH_STATE").await["state"],
        "UNAUTHORIZED"
    );
    send(
        &mut ws,
        json!({"type": "CHANNEL_REQUEST", "channel": 1, "service": "FEED"}),
    )
    .await;
    assert_eq!(next_of(&mut ws, "ERROR").await["error"], "UNAUTHORIZED");
}

#[tokio::test]
async fn a_cut_stream_ends_the_socket_and_a_half_open_one_goes_quiet() {
    let (server, _state, mut ws) = feeding_spy().await;

    // Nothing arrives, not even keepalives.
    ws::goes_silent(&mut ws, server.faults()).await;
    next_of(&mut ws, "FEED_DATA").await;

    ws::cut(&mut ws, server.faults(), 20).await;
}

#[tokio::test]
async fn a_missed_keepalive_times_the_client_out() {
    let (server, _state) = fast_sim(Duration::from_millis(400)).await;
    // A client that keeps sending KEEPALIVE outlives several timeouts.
    let mut alive = authorized(&server).await;
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        send(&mut alive, json!({"type": "KEEPALIVE", "channel": 0})).await;
    }
    // The server keeps alive on its side too.
    assert_eq!(next_of(&mut alive, "KEEPALIVE").await["channel"], 0);

    // A silent one gets ERROR TIMEOUT, then the close.
    let mut silent = authorized(&server).await;
    let e = next_of(&mut silent, "ERROR").await;
    assert_eq!(e["error"], "TIMEOUT");
    // The server closes after the timeout.
    ws::read_to_the_end(&mut silent, 20).await;
}

#[tokio::test]
async fn trades_come_in_their_own_frames_and_unknown_symbols_stay_silent() {
    let (server, state) = fast_sim(Duration::from_secs(60)).await;
    state.set_dxlink(DxLinkSettings {
        interval: Duration::from_millis(30),
        unknown_symbols: vec!["NOSUCH".into()],
        ..DxLinkSettings::default()
    });
    state.set_price("SPY", 450.0);
    let mut ws = authorized(&server).await;
    send(
        &mut ws,
        json!({"type": "CHANNEL_REQUEST", "channel": 3, "service": "FEED",
        "parameters": {"contract": "AUTO"}}),
    )
    .await;
    next_of(&mut ws, "CHANNEL_OPENED").await;
    send(
        &mut ws,
        json!({"type": "FEED_SETUP", "channel": 3, "acceptDataFormat": "COMPACT",
        "acceptEventFields": {"Trade": ["eventType", "eventSymbol", "price", "size", "time", "bogus"]}}),
    )
    .await;
    let config = next_of(&mut ws, "FEED_CONFIG").await;
    assert_eq!(
        config["eventFields"]["Trade"],
        json!(["eventType", "eventSymbol", "price", "size", "time"]),
        "unknown fields are dropped"
    );
    send(
        &mut ws,
        json!({"type": "FEED_SUBSCRIPTION", "channel": 3, "add": [
            {"type": "Trade", "symbol": "SPY"}, {"type": "Trade", "symbol": "NOSUCH"},
            {"type": "Summary", "symbol": "SPY"}]}),
    )
    .await;
    for _ in 0..3 {
        let data = next_of(&mut ws, "FEED_DATA").await;
        assert_eq!(data["channel"], 3);
        assert_eq!(data["data"][0], "Trade");
        let v = data["data"][1].as_array().unwrap();
        assert_eq!(v.len(), 5, "one event: NOSUCH and Summary produce nothing");
        assert_eq!(
            (&v[0], &v[1], &v[2]),
            (&json!("Trade"), &json!("SPY"), &json!(450.0))
        );
        assert!(v[3].as_f64().unwrap() > 0.0 && v[4].as_i64().unwrap() > 1_600_000_000_000);
    }
}

#[tokio::test]
async fn token_expiry_injection_and_protocol_errors_on_the_wire() {
    let (server, state, mut ws) = feeding_spy().await;

    // Anything injected arrives verbatim.
    assert_eq!(state.inject_dxlink("<<garbage>>"), 1);
    loop {
        match tokio::time::timeout(Duration::from_secs(3), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.as_str() == "<<garbage>>" => break,
            Ok(Some(Ok(_))) => continue,
            other => panic!("{other:?}"),
        }
    }

    // An expired quote token de-authorizes the session: ERROR, then AUTH_STATE, no data.
    state.expire_quote_tokens();
    let e = next_of(&mut ws, "ERROR").await;
    assert_eq!(e["error"], "UNAUTHORIZED");
    assert_eq!(
        next(&mut ws).await.unwrap(),
        json!({"type": "AUTH_STATE", "channel": 0, "state": "UNAUTHORIZED"})
    );
    let quiet =
        tokio::time::timeout(Duration::from_millis(200), next_of(&mut ws, "FEED_DATA")).await;
    assert!(quiet.is_err(), "data after the token expired");

    // At the root path too; a protocol other than 0.1 is refused and closed.
    let (mut raw, _) = connect_async(server.ws_url()).await.unwrap();
    send(
        &mut raw,
        json!({"type": "SETUP", "channel": 0, "version": "2.0-future/1.0",
        "keepaliveTimeout": 60, "acceptKeepaliveTimeout": 60}),
    )
    .await;
    assert_eq!(
        next(&mut raw).await.unwrap()["error"],
        "UNSUPPORTED_PROTOCOL"
    );
    assert!(next(&mut raw).await.is_none(), "closed after the error");
}
