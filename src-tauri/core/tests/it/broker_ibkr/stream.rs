//! The gateway simulator's WebSocket, seen by a plain client with the connector's cookie:
//! the handshake ("waiting for session" without a session), heartbeats, an `smd`
//! subscription with partial updates and `umd`, `tic` keeping the session alive, and the
//! faults (refused login, cut stream, half-open silence).

use std::time::Duration;

use brokerdesk_sim::ibkr::Settings;
use brokerdesk_sim::{Fault, SimServer};
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use super::{connector, sim_with as stream_sim, ACCOUNT};
use crate::common::ws::{self, next_json as next, Ws};

fn fast() -> Settings {
    Settings {
        heartbeat: Duration::from_millis(60),
        data_interval: Duration::from_millis(20),
        ..Settings::default()
    }
}

/// Connects with the cookie the connector learnt from `/tickle` (or none).
async fn connect(server: &SimServer, cookie: Option<&str>) -> Ws {
    let mut req = format!("{}/v1/api/ws", server.ws_url())
        .into_client_request()
        .unwrap();
    if let Some(c) = cookie {
        req.headers_mut()
            .insert("cookie", HeaderValue::from_str(c).unwrap());
    }
    connect_async(req).await.unwrap().0
}

async fn session_cookie(server: &SimServer) -> String {
    let ibkr = connector(server);
    ibkr.tickle().await.unwrap();
    ibkr.ws_cookie().unwrap().expose().to_string()
}

/// The next frame that is not a heartbeat.
async fn next_data(ws: &mut Ws) -> Option<Value> {
    loop {
        let v = next(ws).await?;
        if v.get("hb").is_none() {
            return Some(v);
        }
    }
}

/// Reads the greeting: `system` success, `act` (the account), `sts` authenticated.
async fn greeted(ws: &mut Ws) {
    let hello = next(ws).await.unwrap();
    assert_eq!(
        (&hello["topic"], &hello["success"]),
        (&json!("system"), &json!("simuser1"))
    );
    let act = next(ws).await.unwrap();
    assert_eq!(act["topic"], "act");
    assert_eq!(act["args"]["selectedAccount"], ACCOUNT);
    let sts = next(ws).await.unwrap();
    assert_eq!(sts["topic"], "sts");
    assert_eq!(sts["args"]["authenticated"], true);
}

async fn authenticated(server: &SimServer) -> Ws {
    let cookie = session_cookie(server).await;
    let mut ws = connect(server, Some(&cookie)).await;
    greeted(&mut ws).await;
    ws
}

#[tokio::test]
async fn the_handshake_needs_the_session_cookie_and_heartbeats_follow() {
    let (server, state) = stream_sim(fast()).await;
    let mut anon = connect(&server, None).await;
    assert_eq!(
        next(&mut anon).await,
        Some(json!({"message": "waiting for session"}))
    );
    assert_eq!(
        next(&mut anon).await,
        Some(json!({"message": "waiting for session"}))
    );
    // Commands before the session are ignored.
    anon.send(Message::text("smd+265598+{}")).await.unwrap();
    assert_eq!(
        next(&mut anon).await,
        Some(json!({"message": "waiting for session"}))
    );
    // A wrong session is refused; the right one, sent as a message, authenticates.
    anon.send(Message::text(r#"{"session":"0123abcd"}"#))
        .await
        .unwrap();
    loop {
        let v = next(&mut anon).await.unwrap();
        if v["topic"] == "sts" {
            assert_eq!(v["args"]["authenticated"], false);
            break;
        }
    }
    let session = state.session().unwrap();
    anon.send(Message::text(json!({ "session": session }).to_string()))
        .await
        .unwrap();
    loop {
        let v = next(&mut anon).await.unwrap();
        if v.get("message").is_none() {
            assert_eq!(v["success"], "simuser1");
            break;
        }
    }

    let mut ws = authenticated(&server).await;
    let started = std::time::Instant::now();
    let mut beats = Vec::new();
    while beats.len() < 3 {
        let v = next(&mut ws).await.unwrap();
        assert_eq!(v["topic"], "system");
        beats.push(v["hb"].as_i64().unwrap());
    }
    assert!(beats.windows(2).all(|w| w[0] < w[1]), "{beats:?}");
    assert!(started.elapsed() >= Duration::from_millis(100));

    // The session ends: sts false, then the server closes.
    state.logout();
    loop {
        match next(&mut ws).await {
            Some(v) if v.get("hb").is_some() => continue,
            Some(v) => assert_eq!(
                (&v["topic"], &v["args"]["authenticated"]),
                (&json!("sts"), &json!(false))
            ),
            None => break,
        }
    }
}

#[tokio::test]
async fn smd_sends_every_field_then_only_the_changed_ones_until_umd() {
    let (server, state) = stream_sim(fast()).await;
    state.set_price("AAPL", 190.0);
    let mut ws = authenticated(&server).await;
    ws.send(Message::text(
        r#"smd+265598+{"fields":["31","84","86","55"]}"#,
    ))
    .await
    .unwrap();
    let first = next_data(&mut ws).await.unwrap();
    assert_eq!(
        (&first["topic"], &first["conid"]),
        (&json!("smd+265598"), &json!(265598))
    );
    assert_eq!(
        (&first["31"], &first["84"], &first["86"], &first["55"]),
        (
            &json!("190.00"),
            &json!("189.99"),
            &json!("190.01"),
            &json!("AAPL")
        )
    );
    assert!(first["_updated"].is_i64() && first.get("85").is_none());

    let mut saw_partial = false;
    for _ in 0..6 {
        let u = next_data(&mut ws).await.unwrap();
        assert_eq!(u["topic"], "smd+265598");
        assert!(u.get("84").is_some() && u.get("86").is_some(), "{u}");
        assert!(
            u.get("55").is_none(),
            "an unchanged field was sent again: {u}"
        );
        saw_partial |= u.get("31").is_none();
    }
    assert!(saw_partial, "every update carried every field");

    ws.send(Message::text("smd+1+{}")).await.unwrap();
    loop {
        let v = next_data(&mut ws).await.unwrap();
        if v["topic"] == "smd+1" {
            assert!(v["error"].is_string());
            break;
        }
    }
    ws.send(Message::text("umd+265598+{}")).await.unwrap();
    // Drain what was in flight, then only heartbeats.
    tokio::time::sleep(Duration::from_millis(60)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(250);
    let mut quiet = 0;
    while tokio::time::Instant::now() < deadline {
        let v = next(&mut ws).await.unwrap();
        if v.get("hb").is_some() {
            quiet += 1;
        } else if quiet > 0 {
            panic!("data after umd: {v}");
        }
    }
    assert!(quiet >= 2);
}

#[tokio::test]
async fn tic_keeps_the_session_alive() {
    let (server, state) = stream_sim(Settings {
        idle_timeout: Duration::from_millis(300),
        ..fast()
    })
    .await;
    let mut ws = authenticated(&server).await;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ws.send(Message::text("tic")).await.unwrap();
    }
    assert!(state.logged_in(), "tic refreshes the idle timer");
    // Without tic (or /tickle) the session ends and the socket says so.
    let mut ended = false;
    while let Some(v) = next(&mut ws).await {
        if v["topic"] == "sts" {
            assert_eq!(v["args"]["authenticated"], false);
            ended = true;
        }
    }
    assert!(ended && !state.logged_in());
}

#[tokio::test]
async fn refused_cut_and_half_open_streams() {
    let (server, _state) = stream_sim(fast()).await;
    let cookie = session_cookie(&server).await;
    server.faults().set(Some(Fault::RefuseAuth));
    let req = format!("{}/v1/api/ws", server.ws_url());
    match connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("expected a 401, got {:?}", other.map(|_| ())),
    }
    server.faults().set(None);

    // Half-open: the socket stays up, nothing arrives, then traffic resumes.
    let mut ws = connect(&server, Some(&cookie)).await;
    assert_eq!(next(&mut ws).await.unwrap()["topic"], "system");
    ws::goes_silent(&mut ws, server.faults()).await;
    assert!(next(&mut ws).await.is_some());

    // Cut: the connection drops without a close frame.
    let closed = ws::cut(&mut ws, server.faults(), 10).await;
    assert!(!closed, "a close frame after the cut");
}
