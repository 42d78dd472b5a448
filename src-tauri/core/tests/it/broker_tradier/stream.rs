//! The streaming session (through the connector) and the market WebSocket (a plain
//! tokio-tungstenite client): quotes and trades for the subscribed symbols, every message type
//! without a filter, batched and burst frames, the invalid-symbol error, resubscription,
//! session expiry (before and while streaming), and the faults (cut streams, half-open links).

use std::time::Duration;

use brokerdesk_core::brokers::tradier::{StreamSession, Tradier};
use brokerdesk_sim::tradier::{SessionError, StreamSettings};
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

use super::{connector, sim, Sim};
use crate::common::ws::{self, next_json as next, next_text, Ws};

async fn stream_sim() -> (Sim, Tradier) {
    let sim = sim().await;
    sim.state.set_stream(StreamSettings {
        interval: Duration::from_millis(20),
        ..StreamSettings::default()
    });
    let tradier = connector(&sim);
    (sim, tradier)
}

async fn connect(tradier: &Tradier) -> Ws {
    let (ws, _) = connect_async(tradier.stream_url()).await.unwrap();
    ws
}

async fn subscribe(ws: &mut Ws, session: &StreamSession, symbols: &[&str]) {
    ws.send(Message::text(session.payload(symbols)))
        .await
        .unwrap();
}

/// A simulator, its connector, a new session and a socket streaming SPY on it, past its
/// first message.
async fn streaming_spy() -> (Sim, Tradier, StreamSession, Ws) {
    let (sim, tradier) = stream_sim().await;
    let session = tradier.stream_session().await.unwrap();
    let mut ws = connect(&tradier).await;
    subscribe(&mut ws, &session, &["SPY"]).await;
    next(&mut ws).await.unwrap();
    (sim, tradier, session, ws)
}

#[tokio::test]
async fn a_session_streams_quotes_and_trades_line_by_line() {
    let (_sim, tradier) = stream_sim().await;
    let session = tradier.stream_session().await.unwrap();
    assert!(
        session.url.ends_with("/v1/markets/events"),
        "{}",
        session.url
    );
    assert!(!session.session_id.is_empty());
    let mut ws = connect(&tradier).await;
    subscribe(&mut ws, &session, &["SPY", "AAPL"]).await;
    let (mut quotes, mut trades) = (0, 0);
    for _ in 0..8 {
        let text = next_text(&mut ws).await.unwrap();
        assert!(
            text.ends_with('\n'),
            "linebreak: true ends each message: {text:?}"
        );
        let m: Value = serde_json::from_str(&text).unwrap();
        assert!(
            ["SPY", "AAPL"].contains(&m["symbol"].as_str().unwrap()),
            "{m}"
        );
        match m["type"].as_str().unwrap() {
            "quote" => {
                quotes += 1;
                assert!(
                    m["ask"].as_f64().unwrap() > m["bid"].as_f64().unwrap(),
                    "{m}"
                );
                assert!(m["bidsz"].is_u64() && m["askexch"].is_string(), "{m}");
                assert!(m["biddate"].as_str().unwrap().parse::<u64>().is_ok(), "{m}");
            }
            "trade" => {
                trades += 1;
                // Every trade value is a string.
                for k in ["exch", "price", "size", "cvol", "date", "last"] {
                    assert!(m[k].is_string(), "{k} in {m}");
                }
                assert!(m["price"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
            }
            other => panic!("unexpected message type {other}"),
        }
    }
    assert!(quotes > 0 && trades > 0, "{quotes} quotes, {trades} trades");

    // Resending the payload replaces the subscription; a filter keeps only what it names.
    let quotes_only = json!({"symbols": ["IBM"], "sessionid": session.session_id.expose(),
        "filter": ["quote"], "linebreak": false});
    ws.send(Message::text(quotes_only.to_string()))
        .await
        .unwrap();
    let mut seen_ibm = 0;
    for _ in 0..20 {
        let text = next_text(&mut ws).await.unwrap();
        let m: Value = serde_json::from_str(&text).unwrap();
        if m["symbol"] == "IBM" {
            assert!(!text.ends_with('\n'));
            assert_eq!(m["type"], "quote");
            seen_ibm += 1;
            if seen_ibm == 3 {
                break;
            }
        }
    }
    assert_eq!(seen_ibm, 3);
}

#[tokio::test]
async fn an_invalid_symbol_is_reported_and_the_valid_ones_stream() {
    let (_sim, tradier) = stream_sim().await;
    let session = tradier.stream_session().await.unwrap();
    let mut ws = connect(&tradier).await;
    subscribe(&mut ws, &session, &["1234", "SPY"]).await;
    assert_eq!(
        next(&mut ws).await,
        Some(json!({"error": "1234 is not a valid symbol"}))
    );
    for _ in 0..3 {
        assert_eq!(next(&mut ws).await.unwrap()["symbol"], "SPY");
    }
}

#[tokio::test]
async fn unknown_unused_or_expired_sessions_are_refused() {
    let (sim, tradier) = stream_sim().await;
    let refused = json!({"error": "session not found"});
    let mut ws = connect(&tradier).await;
    let bogus = json!({"symbols": ["SPY"], "sessionid": "not-a-session"});
    ws.send(Message::text(bogus.to_string())).await.unwrap();
    assert_eq!(next(&mut ws).await, Some(refused.clone()));
    assert_eq!(next(&mut ws).await, None, "closed after the refusal");

    // Unused for longer than the session's life.
    sim.state.set_stream(StreamSettings {
        interval: Duration::from_millis(20),
        session_ttl: Duration::from_millis(150),
        ..StreamSettings::default()
    });
    let stale = tradier.stream_session().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut ws = connect(&tradier).await;
    subscribe(&mut ws, &stale, &["SPY"]).await;
    assert_eq!(next(&mut ws).await, Some(refused.clone()));

    // Expired by the fault switch.
    let fresh = tradier.stream_session().await.unwrap();
    sim.server.faults().expire_sessions();
    sim.state.renew_token();
    let mut ws = connect(&tradier).await;
    subscribe(&mut ws, &fresh, &["SPY"]).await;
    assert_eq!(next(&mut ws).await, Some(refused));
    assert_eq!(sim.state.stream_sessions(), 0);
}

#[tokio::test]
async fn a_cut_stream_drops_the_socket_and_the_session_can_reconnect() {
    let (sim, tradier, session, mut ws) = streaming_spy().await;
    ws::cut(&mut ws, sim.server.faults(), 10).await;
    // A session a socket has used stays valid for reconnecting.
    let mut again = connect(&tradier).await;
    subscribe(&mut again, &session, &["SPY"]).await;
    assert_eq!(next(&mut again).await.unwrap()["symbol"], "SPY");
}

#[tokio::test]
async fn a_half_open_stream_goes_silent_but_stays_connected() {
    let (sim, _tradier, _session, mut ws) = streaming_spy().await;
    ws::goes_silent(&mut ws, sim.server.faults()).await;
    let resumed = loop {
        match next(&mut ws).await {
            Some(m) if m.get("symbol").is_some() => break m,
            Some(_) => continue,
            None => panic!("stream ended"),
        }
    };
    assert_eq!(resumed["symbol"], "SPY");
}

#[tokio::test]
async fn the_other_session_error_can_leave_the_socket_open() {
    let (sim, tradier) = stream_sim().await;
    sim.state.set_stream(StreamSettings {
        interval: Duration::from_millis(20),
        session_error: SessionError::Invalid,
        close_on_session_error: false,
        ..StreamSettings::default()
    });
    let mut ws = connect(&tradier).await;
    let bogus = json!({"symbols": ["SPY"], "sessionid": "not-a-session", "linebreak": true});
    ws.send(Message::text(bogus.to_string())).await.unwrap();
    assert_eq!(
        next_text(&mut ws).await.as_deref(),
        Some("{\"error\":\"invalid session\"}\n")
    );
    // Still open: a valid session now streams.
    let session = tradier.stream_session().await.unwrap();
    subscribe(&mut ws, &session, &["SPY"]).await;
    assert_eq!(next(&mut ws).await.unwrap()["symbol"], "SPY");
}

#[tokio::test]
async fn a_session_ended_while_streaming_gets_the_error_then_the_close() {
    let (sim, tradier, session, mut ws) = streaming_spy().await;
    sim.state.end_stream_sessions();
    let mut frames = 0;
    loop {
        let text = next_text(&mut ws)
            .await
            .expect("the session error before the close");
        if text == "{\"error\":\"session not found\"}\n" {
            break;
        }
        frames += 1;
        assert!(frames < 10, "still streaming: {text}");
    }
    assert_eq!(next_text(&mut ws).await, None);
    // The id cannot be used again.
    let mut again = connect(&tradier).await;
    subscribe(&mut again, &session, &["SPY"]).await;
    assert_eq!(
        next(&mut again).await,
        Some(json!({"error": "session not found"}))
    );
}

#[tokio::test]
async fn without_a_filter_every_message_type_streams() {
    let (_sim, tradier) = stream_sim().await;
    let session = tradier.stream_session().await.unwrap();
    let mut ws = connect(&tradier).await;
    let all = json!({"symbols": ["SPY"], "sessionid": session.session_id.expose()});
    ws.send(Message::text(all.to_string())).await.unwrap();
    let first = next(&mut ws).await.unwrap();
    assert_eq!(first["type"], "summary", "{first}");
    for k in ["open", "high", "low", "prevClose"] {
        assert!(
            first[k].as_str().unwrap().parse::<f64>().is_ok(),
            "{k} in {first}"
        );
    }
    let mut types = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let text = next_text(&mut ws).await.unwrap();
        assert!(!text.ends_with('\n'), "no linebreak asked: {text:?}");
        let m: Value = serde_json::from_str(&text).unwrap();
        if m["type"] == "timesale" {
            assert!(m["seq"].is_u64() && m["cancel"] == false, "{m}");
            for k in ["bid", "ask", "last", "size", "date"] {
                assert!(m[k].is_string(), "{k} in {m}");
            }
        }
        types.insert(m["type"].as_str().unwrap().to_string());
    }
    let want: std::collections::BTreeSet<String> = ["quote", "trade", "timesale", "tradex"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(types, want);
}

#[tokio::test]
async fn batches_put_several_messages_in_a_frame_and_burst_mode_floods() {
    let (sim, tradier) = stream_sim().await;
    sim.state.set_stream(StreamSettings {
        interval: Duration::from_millis(5),
        batch: 10,
        ..StreamSettings::default()
    });
    let session = tradier.stream_session().await.unwrap();
    let mut ws = connect(&tradier).await;
    subscribe(&mut ws, &session, &["SPY", "AAPL"]).await;
    let text = next_text(&mut ws).await.unwrap();
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), 10, "{text:?}");
    for l in lines {
        serde_json::from_str::<Value>(l).unwrap();
    }
    // Without line breaks, the messages are concatenated.
    let bare = json!({"symbols": ["SPY"], "sessionid": session.session_id.expose(),
        "filter": ["quote"], "linebreak": false});
    ws.send(Message::text(bare.to_string())).await.unwrap();
    let concatenated = loop {
        let text = next_text(&mut ws).await.unwrap();
        if !text.contains('\n') {
            break text;
        }
    };
    let n = serde_json::Deserializer::from_str(&concatenated)
        .into_iter::<Value>()
        .collect::<Result<Vec<Value>, _>>()
        .unwrap()
        .len();
    assert_eq!(n, 10, "{concatenated}");

    // Burst: no pause between frames.
    sim.state.set_stream(StreamSettings {
        batch: 20,
        burst: true,
        ..StreamSettings::default()
    });
    subscribe(&mut ws, &session, &["SPY"]).await;
    let start = std::time::Instant::now();
    let mut messages = 0;
    while messages < 40_000 {
        messages += next_text(&mut ws).await.unwrap().matches('\n').count();
    }
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn rates_turn_into_intervals_and_batches() {
    let slow = StreamSettings::rate(50);
    assert_eq!((slow.interval, slow.batch), (Duration::from_millis(20), 1));
    let fast = StreamSettings::rate(250_000);
    assert_eq!((fast.interval, fast.batch), (Duration::from_millis(1), 250));
    let args: Vec<String> = ["--rate", "100000", "--burst"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let s = brokerdesk_sim::tradier::stream_settings_from_args(&args).unwrap();
    assert_eq!((s.batch, s.burst), (100, true));
    let bad: Vec<String> = ["--batch", "x"].iter().map(|s| s.to_string()).collect();
    assert!(brokerdesk_sim::tradier::stream_settings_from_args(&bad).is_err());
}
