//! A plain WebSocket client for the tests that read a simulator's stream without the
//! connector: one frame at a time, with a 3 s limit per frame.

use std::time::Duration;

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
