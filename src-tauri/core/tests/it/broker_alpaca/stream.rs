//! The Alpaca simulator's market-data stream, seen by a plain WebSocket client: the
//! connect/auth/subscribe handshake, batched quotes, Alpaca's error codes, and the faults
//! (cut streams, half-open links).

use std::time::Duration;

use brokerdesk_sim::alpaca::StreamSettings;
use brokerdesk_sim::{Fault, SimServer};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::{sim_with as stream_sim, KEY, SECRET};
use crate::common::ws::{self, next_frame, next_json as next, send_json as send, Ws};

fn fast() -> StreamSettings {
    StreamSettings {
        batch: 3,
        interval: Duration::from_millis(20),
        ..StreamSettings::default()
    }
}

async fn connect(server: &SimServer, feed: &str) -> Ws {
    connect_with(server, feed, &[]).await
}

/// Connects to `feed` with these headers on the upgrade request.
async fn connect_with(server: &SimServer, feed: &str, headers: &[(&'static str, &str)]) -> Ws {
    let mut req = format!("{}/v2/{feed}", server.ws_url())
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        req.headers_mut().insert(*name, value.parse().unwrap());
    }
    connect_async(req).await.unwrap().0
}

/// Connects to `feed`, is greeted, sends the key with `secret`; returns the socket and the
/// answer.
async fn auth_with(server: &SimServer, feed: &str, secret: &str) -> (Ws, Option<Value>) {
    let mut ws = connect(server, feed).await;
    assert_eq!(
        next(&mut ws).await,
        Some(json!([{"T": "success", "msg": "connected"}]))
    );
    send(
        &mut ws,
        json!({"action": "auth", "key": KEY, "secret": secret}),
    )
    .await;
    let answer = next(&mut ws).await;
    (ws, answer)
}

async fn authenticated(server: &SimServer, feed: &str) -> Ws {
    let (ws, answer) = auth_with(server, feed, SECRET).await;
    assert_eq!(
        answer,
        Some(json!([{"T": "success", "msg": "authenticated"}]))
    );
    ws
}

/// An authenticated IEX socket subscribed to AAPL's quotes, past the subscription's ack.
async fn aapl_quotes(server: &SimServer) -> Ws {
    let mut ws = authenticated(server, "iex").await;
    send(&mut ws, json!({"action": "subscribe", "quotes": ["AAPL"]})).await;
    next(&mut ws).await.unwrap();
    ws
}

fn error(code: u16, msg: &str) -> Option<Value> {
    Some(json!([{"T": "error", "code": code, "msg": msg}]))
}

#[tokio::test]
async fn stream_authenticates_subscribes_and_sends_batched_quotes() {
    let (server, _state) = stream_sim(fast()).await;
    let mut ws = authenticated(&server, "iex").await;
    send(
        &mut ws,
        json!({"action": "subscribe", "quotes": ["AAPL", "AMD"], "trades": ["AAPL"]}),
    )
    .await;
    let sub = next(&mut ws).await.unwrap();
    assert_eq!(sub[0]["T"], "subscription");
    assert_eq!(
        (&sub[0]["quotes"], &sub[0]["trades"]),
        (&json!(["AAPL", "AMD"]), &json!(["AAPL"]))
    );
    assert_eq!(
        (&sub[0]["bars"], &sub[0]["corrections"]),
        (&json!([]), &json!(["AAPL"]))
    );

    let mut kinds = Vec::new();
    for _ in 0..4 {
        let frame = next(&mut ws).await.unwrap();
        let frame = frame.as_array().unwrap();
        assert_eq!(frame.len(), 3, "batched 3 per frame: {frame:?}");
        for m in frame {
            let (t, s) = (m["T"].as_str().unwrap(), m["S"].as_str().unwrap());
            assert!(["AAPL", "AMD"].contains(&s));
            match t {
                "q" => assert!(m["ap"].as_f64().unwrap() > m["bp"].as_f64().unwrap()),
                "t" => assert!(m["p"].as_f64().unwrap() > 0.0 && m["i"].is_u64()),
                other => panic!("unexpected message type {other}"),
            }
            assert!(m["t"].as_str().unwrap().ends_with('Z'));
            kinds.push(t.to_string());
        }
    }
    assert!(kinds.contains(&"q".to_string()) && kinds.contains(&"t".to_string()));

    // The reply always lists the full set.
    send(&mut ws, json!({"action": "unsubscribe", "quotes": ["AMD"]})).await;
    let sub = loop {
        let m = next(&mut ws).await.unwrap();
        if m[0]["T"] == "subscription" {
            break m;
        }
    };
    assert_eq!(
        (&sub[0]["quotes"], &sub[0]["trades"]),
        (&json!(["AAPL"]), &json!(["AAPL"]))
    );
}

#[tokio::test]
async fn stream_accepts_the_apca_headers_on_the_upgrade() {
    let (server, _state) = stream_sim(fast()).await;
    let headers = [("APCA-API-KEY-ID", KEY), ("APCA-API-SECRET-KEY", SECRET)];
    let mut ws = connect_with(&server, "test", &headers).await;
    assert_eq!(next(&mut ws).await.unwrap()[0]["msg"], "connected");
    assert_eq!(next(&mut ws).await.unwrap()[0]["msg"], "authenticated");
    send(&mut ws, json!({"action": "subscribe", "trades": ["*"]})).await;
    assert_eq!(next(&mut ws).await.unwrap()[0]["trades"], json!(["*"]));
    // The test feed streams only FAKEPACA.
    let frame = next(&mut ws).await.unwrap();
    assert!(frame
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["S"] == "FAKEPACA" && m["T"] == "t"));
}

#[tokio::test]
async fn stream_refuses_bad_credentials_with_402_and_closes() {
    let (server, _state) = stream_sim(fast()).await;
    let (mut ws, answer) = auth_with(&server, "iex", "wrong").await;
    assert_eq!(answer, error(402, "auth failed"));
    assert_eq!(next(&mut ws).await, None, "closed after the refusal");

    // The RefuseAuth fault refuses even good credentials.
    server.faults().set(Some(Fault::RefuseAuth));
    let (_ws, answer) = auth_with(&server, "iex", SECRET).await;
    assert_eq!(answer, error(402, "auth failed"));
}

#[tokio::test]
async fn a_second_connection_gets_406() {
    let (server, state) = stream_sim(fast()).await;
    let _first = authenticated(&server, "iex").await;
    assert_eq!(state.stream_connections("iex"), 1);
    let (mut second, answer) = auth_with(&server, "iex", SECRET).await;
    assert_eq!(answer, error(406, "connection limit exceeded"));
    assert_eq!(next(&mut second).await, None);
    // Another feed is another endpoint.
    let _test_feed = authenticated(&server, "test").await;
}

#[tokio::test]
async fn stream_errors_follow_alpacas_table() {
    let settings = StreamSettings {
        symbol_limit: 2,
        auth_timeout: Duration::from_millis(300),
        ..fast()
    };
    let (server, _state) = stream_sim(settings).await;

    let mut ws = connect(&server, "iex").await;
    next(&mut ws).await.unwrap();
    send(&mut ws, json!({"action": "subscribe", "quotes": ["AAPL"]})).await;
    assert_eq!(next(&mut ws).await, error(401, "not authenticated"));
    ws.send(Message::text("{not json")).await.unwrap();
    assert_eq!(next(&mut ws).await, error(400, "invalid syntax"));
    // No auth within the timeout: 404, then the server closes.
    assert_eq!(next(&mut ws).await, error(404, "auth timeout"));
    assert_eq!(next(&mut ws).await, None);

    let mut ws = authenticated(&server, "iex").await;
    send(
        &mut ws,
        json!({"action": "auth", "key": KEY, "secret": SECRET}),
    )
    .await;
    assert_eq!(next(&mut ws).await, error(403, "already authenticated"));
    send(
        &mut ws,
        json!({"action": "subscribe", "quotes": ["AAPL", "AMD", "MSFT"]}),
    )
    .await;
    assert_eq!(next(&mut ws).await, error(405, "symbol limit exceeded"));
    send(&mut ws, json!({"action": "subscribe", "bars": ["AAPL"]})).await;
    assert_eq!(
        next(&mut ws).await.unwrap()[0]["bars"],
        json!(["AAPL"]),
        "unchanged by the 405"
    );
    drop(ws);

    // The demo plan has no SIP.
    let (_ws, answer) = auth_with(&server, "sip", SECRET).await;
    assert_eq!(answer, error(409, "insufficient subscription"));
}

#[tokio::test]
async fn cut_streams_drops_the_socket() {
    let (server, state) = stream_sim(fast()).await;
    let mut ws = aapl_quotes(&server).await;
    next(&mut ws).await.unwrap();
    ws::cut(&mut ws, server.faults(), 10).await;
    // The slot is freed: a new connection may authenticate.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(state.stream_connections("iex"), 0);
    let _again = authenticated(&server, "iex").await;
}

#[tokio::test]
async fn a_half_open_stream_goes_silent_but_stays_connected() {
    let (server, _state) = stream_sim(fast()).await;
    let mut ws = aapl_quotes(&server).await;
    ws::goes_silent(&mut ws, server.faults()).await;
    let resumed = loop {
        match tokio::time::timeout(Duration::from_secs(3), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Text(t))) => break serde_json::from_str::<Value>(&t).unwrap(),
            Some(Ok(_)) => continue,
            other => panic!("stream ended: {other:?}"),
        }
    };
    assert_eq!(resumed[0]["T"], "q");
}

/// Reads the next binary frame as msgpack, with an independent decoder (rmpv).
async fn next_msgpack(ws: &mut Ws) -> rmpv::Value {
    match next_frame(ws).await {
        Some(Message::Binary(b)) => rmpv::decode::read_value(&mut &b[..]).unwrap(),
        other => panic!("expected a binary frame, got {other:?}"),
    }
}

async fn send_msgpack(ws: &mut Ws, v: rmpv::Value) {
    let mut buf = Vec::new();
    rmpv::encode::write_value(&mut buf, &v).unwrap();
    ws.send(Message::binary(buf)).await.unwrap();
}

fn field<'a>(v: &'a rmpv::Value, key: &str) -> Option<&'a rmpv::Value> {
    v.as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

fn map(pairs: &[(&str, rmpv::Value)]) -> rmpv::Value {
    rmpv::Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (rmpv::Value::from(*k), v.clone()))
            .collect(),
    )
}

#[tokio::test]
async fn stream_speaks_msgpack_when_asked_like_alpacas_sdks() {
    let (server, _state) = stream_sim(fast()).await;
    let msgpack = [("Content-Type", "application/msgpack")];
    let mut ws = connect_with(&server, "iex", &msgpack).await;
    let hello = next_msgpack(&mut ws).await;
    assert_eq!(
        field(&hello[0], "msg").and_then(|m| m.as_str()),
        Some("connected")
    );

    let auth = [
        ("action", "auth".into()),
        ("key", KEY.into()),
        ("secret", SECRET.into()),
    ];
    send_msgpack(&mut ws, map(&auth)).await;
    let reply = next_msgpack(&mut ws).await;
    assert_eq!(
        field(&reply[0], "msg").and_then(|m| m.as_str()),
        Some("authenticated")
    );

    let quotes = rmpv::Value::Array(vec!["AAPL".into()]);
    send_msgpack(
        &mut ws,
        map(&[("action", "subscribe".into()), ("quotes", quotes.clone())]),
    )
    .await;
    let sub = next_msgpack(&mut ws).await;
    assert_eq!(field(&sub[0], "quotes"), Some(&quotes));

    let frame = next_msgpack(&mut ws).await;
    let q = &frame[0];
    assert_eq!(field(q, "T").and_then(|t| t.as_str()), Some("q"));
    assert!(field(q, "bp").and_then(|p| p.as_f64()).unwrap() > 0.0);
    // `t` is a msgpack Timestamp: ext type -1, 4/8/12 bytes.
    match field(q, "t") {
        Some(rmpv::Value::Ext(-1, data)) => assert!([4, 8, 12].contains(&data.len())),
        other => panic!("expected a Timestamp, got {other:?}"),
    }
}

#[tokio::test]
async fn a_burst_to_a_client_that_stops_reading_still_ends_at_a_cut() {
    let (server, state) = stream_sim(StreamSettings::burst(100)).await;
    let mut ws = authenticated(&server, "iex").await;
    send(&mut ws, json!({"action": "subscribe", "quotes": ["AAPL"]})).await;
    assert_eq!(next(&mut ws).await.unwrap()[0]["T"], "subscription");
    let frame = next(&mut ws).await.unwrap();
    assert_eq!(frame.as_array().map(Vec::len), Some(100));
    // Stop reading: the simulator's writes fill the socket buffers and block.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(state.stream_connections("iex"), 1);
    server.faults().cut_streams();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while state.stream_connections("iex") > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the blocked session lives on"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_stream_settings_come_from_command_line_flags() {
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let s = StreamSettings::from_args(&args("alpaca --port 9 --rate 0 --batch 100")).unwrap();
    assert_eq!(s, StreamSettings::burst(100));
    let s = StreamSettings::from_args(&args("alpaca --rate 250000 --batch 1")).unwrap();
    assert_eq!((s.rate, s.batch), (Some(250_000), 1));
    let s = StreamSettings::from_args(&args("alpaca")).unwrap();
    assert_eq!(s, StreamSettings::default());
    assert!(StreamSettings::from_args(&args("alpaca --rate fast")).is_err());
    assert!(StreamSettings::from_args(&args("alpaca --batch")).is_err());
}
