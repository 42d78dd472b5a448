//! The trade-updates stream at `/stream` (the trading host's WebSocket,
//! `core/src/brokers/alpaca/PROTOCOL.md`, "Trade updates").
//!
//! One task owns each socket. The client authenticates in-band (`{"action":"auth","key",
//! "secret"}`, or the older `{"action":"authenticate","data":{"key_id","secret_key"}}`) and is
//! answered `{"stream":"authorization","data":{"status":"authorized"|"unauthorized",
//! "action":"authenticate"}}`; an unauthorized client (bad keys, a request before auth, the
//! shared `RefuseAuth` fault) is closed after the answer. `{"action":"listen","data":
//! {"streams":[…]}}` is answered with the streams now listened to (`trade_updates` is the only
//! one), and from then on every change the book makes to an order ([`Updates::publish`]:
//! `new`, `fill`, `canceled`, …) arrives as `{"stream":"trade_updates","data":{"event",
//! "timestamp","order":{…REST shape…},…}}`. Frames are binary (JSON inside), as the paper
//! server sends them, or text after [`SimState::set_trade_updates_text`]. Alpaca sends no
//! heartbeat: the socket answers pings.
//!
//! Faults: [`Faults::stream_cut`] drops the socket without a close frame; [`Faults::half_open`]
//! stops reading and writing (pings go unanswered, updates are lost to this socket);
//! [`SimState::inject_trade_update_frame`] sends any frame (garbage, oversized) to every
//! listening socket.
//!
//! [`Faults::stream_cut`]: crate::faults::Faults::stream_cut
//! [`Faults::half_open`]: crate::faults::Faults::half_open

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use chrono::Utc;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::orders::{time, Order};
use super::{lock, SimState};
use crate::faults::RefuseAuth;

/// Updates a slow socket may fall behind before it loses some.
const BACKLOG: usize = 1024;

/// What goes out to the listening sockets.
#[derive(Debug, Clone)]
enum Outgoing {
    /// A message, in the sockets' frame type.
    Message(Arc<str>),
    /// An injected frame, exactly as given.
    Raw(Message),
}

/// The book's order changes, for the trade-updates sockets.
#[derive(Debug)]
pub(crate) struct Updates {
    tx: broadcast::Sender<Outgoing>,
    text: AtomicBool,
}

impl Default for Updates {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(BACKLOG).0,
            text: AtomicBool::new(false),
        }
    }
}

impl Updates {
    /// Sends `event` about `order` (as it is now) to the listening sockets.
    pub(crate) fn publish(&self, event: &str, order: &Order) {
        let now = time(Some(Utc::now()));
        let mut data = json!({
            "event": event,
            "execution_id": uuid::Uuid::new_v4().to_string(),
            "timestamp": now,
            "order": order.to_json(),
        });
        if matches!(event, "fill" | "partial_fill") {
            data["price"] = order.to_json()["filled_avg_price"].clone();
            data["qty"] = order.to_json()["filled_qty"].clone();
        }
        let msg = json!({"stream": "trade_updates", "data": data}).to_string();
        let _ = self.tx.send(Outgoing::Message(Arc::from(msg)));
    }
}

impl SimState {
    /// Sends trade-update messages as text frames (`true`) or binary ones (`false`, the
    /// paper server's way and the default).
    pub fn set_trade_updates_text(&self, text: bool) {
        lock(&self.inner.book)
            .updates
            .text
            .store(text, Ordering::SeqCst);
    }

    /// Sends `frame` (text: a `String`; binary: a `Vec<u8>`), verbatim, to every open
    /// trade-updates socket; returns how many will get it (those listening send it on).
    pub fn inject_trade_update_frame(&self, frame: impl Into<InjectedFrame>) -> usize {
        let msg = match frame.into() {
            InjectedFrame::Text(t) => Message::Text(t.into()),
            InjectedFrame::Binary(b) => Message::Binary(b.into()),
        };
        lock(&self.inner.book)
            .updates
            .tx
            .send(Outgoing::Raw(msg))
            .unwrap_or(0)
    }
}

/// A frame to inject ([`SimState::inject_trade_update_frame`]).
#[derive(Debug, Clone)]
pub enum InjectedFrame {
    Text(String),
    Binary(Vec<u8>),
}

impl From<String> for InjectedFrame {
    fn from(t: String) -> Self {
        InjectedFrame::Text(t)
    }
}

impl From<&str> for InjectedFrame {
    fn from(t: &str) -> Self {
        InjectedFrame::Text(t.to_string())
    }
}

impl From<Vec<u8>> for InjectedFrame {
    fn from(b: Vec<u8>) -> Self {
        InjectedFrame::Binary(b)
    }
}

pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<SimState>,
    refuse: Option<Extension<RefuseAuth>>,
) -> Response {
    // Taken now, so a cut between the upgrade and the first poll still applies.
    let cut = state.faults().stream_cut();
    let rx = lock(&state.inner.book).updates.tx.subscribe();
    let socket = Socket {
        state,
        cut,
        rx,
        refused: refuse.is_some(),
        authorized: false,
        listening: false,
    };
    ws.on_upgrade(move |ws| socket.run(ws))
}

struct Socket {
    state: SimState,
    cut: CancellationToken,
    rx: broadcast::Receiver<Outgoing>,
    /// The `RefuseAuth` fault was on at the upgrade.
    refused: bool,
    authorized: bool,
    listening: bool,
}

/// What a client message asks of the socket.
enum Step {
    Reply(Value),
    ReplyAndClose(Value),
    Nothing,
}

impl Socket {
    async fn run(mut self, mut ws: WebSocket) {
        let faults = self.state.faults().clone();
        let mut fault_poll = tokio::time::interval(Duration::from_millis(25));
        loop {
            if !faults.hold_while_half_open(&self.cut).await {
                return;
            }
            tokio::select! {
                biased;
                () = self.cut.cancelled() => return,
                msg = ws.recv() => {
                    let bytes = match msg {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                        Some(Ok(Message::Text(t))) => t.as_bytes().to_vec(),
                        Some(Ok(Message::Binary(b))) => b.to_vec(),
                        Some(Ok(_)) => continue,
                    };
                    let (reply, close) = match self.request(&bytes) {
                        Step::Reply(v) => (v, false),
                        Step::ReplyAndClose(v) => (v, true),
                        Step::Nothing => continue,
                    };
                    if ws.send(self.frame(reply.to_string().into())).await.is_err() {
                        return;
                    }
                    if close {
                        let _ = ws.send(Message::Close(None)).await;
                        return;
                    }
                }
                got = self.rx.recv() => match got {
                    Ok(out) if self.listening && !faults.half_open() => {
                        let frame = match out {
                            Outgoing::Message(m) => self.frame(m),
                            Outgoing::Raw(m) => m,
                        };
                        if ws.send(frame).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(lost = n, "a slow trade-updates socket lost updates");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = fault_poll.tick() => {}
            }
        }
    }

    /// A message in the configured frame type.
    fn frame(&self, msg: Arc<str>) -> Message {
        let text = lock(&self.state.inner.book)
            .updates
            .text
            .load(Ordering::SeqCst);
        if text {
            Message::Text(msg.to_string().into())
        } else {
            Message::Binary(msg.as_bytes().to_vec().into())
        }
    }

    fn request(&mut self, bytes: &[u8]) -> Step {
        let unauthorized = |action: &str| {
            Step::ReplyAndClose(json!({
                "stream": "authorization",
                "data": {"status": "unauthorized", "action": action},
            }))
        };
        let Ok(req) = serde_json::from_slice::<Value>(bytes) else {
            return Step::Reply(
                json!({"stream": "listening", "data": {"error": "invalid syntax"}}),
            );
        };
        let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match req.get("action").and_then(Value::as_str) {
            Some("auth") => self.authenticate(field(&req, "key"), field(&req, "secret")),
            Some("authenticate") => {
                let data = req.get("data").cloned().unwrap_or(Value::Null);
                self.authenticate(field(&data, "key_id"), field(&data, "secret_key"))
            }
            Some("listen") if self.authorized => {
                let asked: Vec<String> = req
                    .pointer("/data/streams")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                self.listening = asked.iter().any(|s| s == "trade_updates");
                let streams: Vec<&str> = if self.listening {
                    vec!["trade_updates"]
                } else {
                    Vec::new()
                };
                Step::Reply(json!({"stream": "listening", "data": {"streams": streams}}))
            }
            Some("listen") => unauthorized("listen"),
            _ => Step::Nothing,
        }
    }

    fn authenticate(&mut self, key: Option<String>, secret: Option<String>) -> Step {
        if self.refused
            || !self
                .state
                .credentials_match(key.as_deref(), secret.as_deref())
        {
            return Step::ReplyAndClose(json!({
                "stream": "authorization",
                "data": {"status": "unauthorized", "action": "authenticate"},
            }));
        }
        self.authorized = true;
        Step::Reply(json!({
            "stream": "authorization",
            "data": {"status": "authorized", "action": "authenticate"},
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::book::Book;
    use super::super::market::Market;
    use super::super::orders::NewOrder;
    use super::*;

    fn new_order(body: Value) -> NewOrder {
        NewOrder::parse(&body).unwrap_or_else(|_| panic!("a valid order: {body}"))
    }

    /// The (event, order status, client id) of every message sent so far.
    fn drain(rx: &mut broadcast::Receiver<Outgoing>) -> Vec<(String, String, String)> {
        let mut seen = Vec::new();
        while let Ok(Outgoing::Message(m)) = rx.try_recv() {
            let v: Value = serde_json::from_str(&m).unwrap_or_default();
            assert_eq!(v["stream"], "trade_updates", "{v}");
            let field = |p: &str| {
                v.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            seen.push((
                field("/data/event"),
                field("/data/order/status"),
                field("/data/order/client_order_id"),
            ));
        }
        seen
    }

    #[test]
    fn every_order_change_is_published() {
        let market = Market::demo();
        let mut book = Book::new("PA3SIM000042", 100_000.0);
        let mut rx = book.updates.tx.subscribe();
        let buy = |coid: &str, limit: Option<&str>| {
            let mut body = json!({"symbol": "AAPL", "qty": "1", "side": "buy",
                "type": "market", "time_in_force": "day", "client_order_id": coid});
            if let Some(l) = limit {
                body["type"] = json!("limit");
                body["limit_price"] = json!(l);
            }
            new_order(body)
        };
        book.place(buy("m", None), &market).unwrap_or_default();
        let resting = book.place(buy("l", Some("1")), &market).unwrap_or_default();
        book.place(buy("f", Some("2")), &market).unwrap_or_default();
        let id = resting["id"].as_str().unwrap_or_default().to_string();
        assert!(book.cancel(&id).is_ok());
        assert!(book.fill_open("f"));
        let seen = drain(&mut rx);
        let want = [
            ("new", "new", "m"),
            ("fill", "filled", "m"),
            ("new", "new", "l"),
            ("new", "new", "f"),
            ("canceled", "canceled", "l"),
            ("fill", "filled", "f"),
        ];
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(seen, want);
    }
}
