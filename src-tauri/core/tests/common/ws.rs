//! A plain WebSocket client for the tests that read a simulator's stream without the
//! connector: one frame at a time, with a 3 s limit per frame; and the two link faults every
//! broker's simulator shares (a cut stream, a half-open link) as that client sees them.

use std::time::Duration;

use brokerdesk_sim::Faults;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The next frame that is not a ping or a pong; `None` when the connection ends (closed,
/// cut, or an error). Fails the test after 3 s without one.
pub async fn next_frame(ws: &mut Ws) -> Option<Message> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(3), ws.next())
            .await
            .expect("no frame in 3 s");
        match msg {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
            Some(Ok(m)) => return Some(m),
        }
    }
}

/// The next text frame (raw), binary frames passed over; `None` when the connection ends.
pub async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match next_frame(ws).await? {
            Message::Text(t) => return Some(t.to_string()),
            _ => continue,
        }
    }
}

/// The next text frame as JSON; `None` when the connection ends.
pub async fn next_json(ws: &mut Ws) -> Option<Value> {
    next_text(ws)
        .await
        .map(|t| serde_json::from_str(&t).expect("a JSON text frame"))
}

/// Sends `v` as a text frame.
pub async fn send_json(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// Cuts the simulator's streams and reads `ws` to its end ([`read_to_the_end`]); whether
/// the server sent a close frame (a cut sends none).
pub async fn cut(ws: &mut Ws, faults: &Faults, at_most: usize) -> bool {
    faults.cut_streams();
    read_to_the_end(ws, at_most).await
}

/// Reads `ws` to its end: fewer than `at_most` frames (pings and pongs aside) may still
/// arrive, 3 s apart at most. Returns whether the server ended it with a close frame.
pub async fn read_to_the_end(ws: &mut Ws, at_most: usize) -> bool {
    let mut frames = 0;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(3), ws.next())
            .await
            .expect("the cut stream did not end in 3 s");
        match msg {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) => return true,
            Some(Err(_)) | None => return false,
            Some(Ok(_)) => {
                frames += 1;
                assert!(frames < at_most, "still streaming after {frames} frames");
            }
        }
    }
}

/// Makes the simulator's links half-open and checks that `ws` goes silent but stays
/// connected: what was in flight drains, then for 300 ms nothing arrives, no frame, no
/// close, not even the answer to a ping. Heals the link before it returns; the caller
/// checks that traffic resumes.
pub async fn goes_silent(ws: &mut Ws, faults: &Faults) {
    faults.set_half_open(true);
    tokio::time::sleep(Duration::from_millis(100)).await;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(10), ws.next()).await {}
    ws.send(Message::Ping(b"hb".to_vec().into())).await.unwrap();
    let silent = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
    assert!(silent.is_err(), "expected silence, got {silent:?}");
    faults.set_half_open(false);
}
