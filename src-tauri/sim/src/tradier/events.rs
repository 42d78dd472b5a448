//! Account events: `POST /v1/accounts/events/session` (bearer auth) issues a session id
//! (from the market stream's session table) and names the WebSocket,
//! `ws://{this host}/v1/accounts/events`, which takes the payload `{"events":["order"],
//! "sessionid":…,"excludeAccounts":[…]}` and then streams every change the book makes to an
//! order ([`Events::publish`]: placed `open`, `filled`, `canceled`) of the accounts not
//! excluded, as Tradier's flat order events (`{"id","event":"order","status","type","price",
//! "stop_price","avg_fill_price","exec_quantity","last_fill_quantity","last_fill_price",
//! "remaining_quantity","transaction_date","create_date","account","tag"?}`), plus
//! `{"event":"heartbeat","status":"active","timestamp":…}` every minute
//! ([`SimState::set_account_heartbeat`] shortens it). A payload that is not JSON gets
//! `{"error":"invalid payload"}`; an unknown or expired session the market stream's session
//! error (and, by default, the close).
//!
//! Faults, as on the market socket: `stream_cut` drops the socket without a close frame,
//! `half_open` stops reading and writing (pings go unanswered, events are lost to this
//! socket), and [`SimState::inject_account_frame`] sends any text to every subscribed socket.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::book::Order;
use super::wire::time;
use super::{lock, stream, SimState};

/// Events a slow socket may fall behind before it loses some.
const BACKLOG: usize = 1024;

/// One message for the account sockets: an order event of `account`, or injected text.
#[derive(Debug, Clone)]
enum Outgoing {
    Order { account: String, text: Arc<str> },
    Raw(Arc<str>),
}

/// The book's order changes, for the account-event sockets; cloned into every account.
#[derive(Debug, Clone)]
pub(crate) struct Events {
    tx: broadcast::Sender<Outgoing>,
    heartbeat: Arc<Mutex<Duration>>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(BACKLOG).0,
            heartbeat: Arc::new(Mutex::new(Duration::from_secs(60))),
        }
    }
}

impl Events {
    /// Sends `order` (as it is now) of `account` to the subscribed sockets.
    pub(crate) fn publish(&self, account: &str, order: &Order) {
        let o = order.to_json(true);
        let mut event = json!({"id": o["id"], "event": "order"});
        for key in [
            "status",
            "type",
            "price",
            "stop_price",
            "avg_fill_price",
            "exec_quantity",
            "last_fill_quantity",
            "last_fill_price",
            "remaining_quantity",
            "transaction_date",
            "create_date",
            "tag",
        ] {
            if let Some(v) = o.get(key) {
                event[key] = v.clone();
            }
        }
        event["account"] = json!(account);
        let _ = self.tx.send(Outgoing::Order {
            account: account.to_string(),
            text: Arc::from(event.to_string()),
        });
    }
}

impl SimState {
    /// Sends the account stream's heartbeat every `every` instead of every minute (read
    /// when a socket subscribes).
    pub fn set_account_heartbeat(&self, every: Duration) {
        let events = lock(&self.inner.book).events.clone();
        *lock(&events.heartbeat) = every.max(Duration::from_millis(1));
    }

    /// Sends `text` as a text frame, verbatim, on every subscribed account-event socket
    /// (garbage, oversized frames, error messages…); returns how many sockets are open.
    pub fn inject_account_frame(&self, text: impl Into<String>) -> usize {
        let events = lock(&self.inner.book).events.clone();
        events
            .tx
            .send(Outgoing::Raw(Arc::from(text.into())))
            .unwrap_or(0)
    }
}

pub(crate) async fn create_session(State(s): State<SimState>, headers: HeaderMap) -> Response {
    stream::issue_session(&s, &headers, "ws", "/v1/accounts/events")
}

pub(crate) async fn upgrade(ws: WebSocketUpgrade, State(s): State<SimState>) -> Response {
    // Taken now, so a cut between the upgrade and the first poll still applies.
    let cut = s.inner.faults.stream_cut();
    let events = lock(&s.inner.book).events.clone();
    let socket = Socket {
        rx: events.tx.subscribe(),
        heartbeat: *lock(&events.heartbeat),
        state: s,
        cut,
        session: None,
        excluded: Vec::new(),
    };
    ws.on_upgrade(move |ws| socket.run(ws))
}

struct Socket {
    state: SimState,
    cut: CancellationToken,
    rx: broadcast::Receiver<Outgoing>,
    heartbeat: Duration,
    /// The session this socket streams on (detached when the socket ends).
    session: Option<String>,
    excluded: Vec<String>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        if let Some(id) = self.session.take() {
            self.state.detach(&id);
        }
    }
}

impl Socket {
    async fn run(mut self, mut ws: WebSocket) {
        let faults = self.state.inner.faults.clone();
        let mut fault_poll = tokio::time::interval(Duration::from_millis(25));
        let mut beats =
            tokio::time::interval_at(tokio::time::Instant::now() + self.heartbeat, self.heartbeat);
        beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if !faults.hold_while_half_open(&self.cut).await {
                return;
            }
            let subscribed = self.session.is_some();
            let out = tokio::select! {
                biased;
                () = self.cut.cancelled() => return,
                msg = ws.recv() => {
                    let text = match msg {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                        Some(Ok(Message::Text(t))) => t.to_string(),
                        Some(Ok(_)) => continue,
                    };
                    match self.payload(&text) {
                        Ok(reply) => reply,
                        Err(refusal) => {
                            let _ = ws.send(Message::Text(refusal.into())).await;
                            if self.state.stream_settings().close_on_session_error {
                                let _ = ws.send(Message::Close(None)).await;
                                return;
                            }
                            continue;
                        }
                    }
                }
                got = self.rx.recv() => match got {
                    Ok(Outgoing::Order { account, text }) if subscribed
                        && !self.excluded.contains(&account) => Some(text.to_string()),
                    Ok(Outgoing::Raw(text)) if subscribed => Some(text.to_string()),
                    Ok(_) => None,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(lost = n, "a slow account-event socket lost events");
                        None
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = beats.tick(), if subscribed => Some(
                    json!({"event": "heartbeat", "status": "active", "timestamp": time(Utc::now())})
                        .to_string(),
                ),
                _ = fault_poll.tick() => {
                    match self.session.clone() {
                        Some(id) if !self.state.alive(&id) => {
                            self.session = None;
                            self.state.detach(&id);
                            let error = json!({"error": self.state.stream_settings().session_error.text()});
                            let _ = ws.send(Message::Text(error.to_string().into())).await;
                            if self.state.stream_settings().close_on_session_error {
                                let _ = ws.send(Message::Close(None)).await;
                                return;
                            }
                        }
                        _ => {}
                    }
                    None
                }
            };
            if let Some(text) = out {
                if ws.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
        }
    }

    /// Applies a payload: the reply to send (if any), or the session refusal.
    fn payload(&mut self, text: &str) -> Result<Option<String>, String> {
        let Ok(p) = serde_json::from_str::<Value>(text) else {
            return Ok(Some(json!({"error": "invalid payload"}).to_string()));
        };
        let id = p.get("sessionid").and_then(Value::as_str).unwrap_or("");
        if self.session.as_deref() != Some(id) {
            if !self.state.attach(id) {
                let error = self.state.stream_settings().session_error.text();
                return Err(json!({ "error": error }).to_string());
            }
            if let Some(old) = self.session.replace(id.to_string()) {
                self.state.detach(&old);
            }
        }
        self.excluded = p
            .get("excludeAccounts")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::book::{AccountType, Book, NewOrder};
    use super::*;

    fn new_order(kind: &str, price: Option<f64>, tag: &str) -> NewOrder {
        NewOrder {
            symbol: "SPY".into(),
            side: "buy".into(),
            qty: 1.0,
            kind: kind.into(),
            duration: "day".into(),
            price,
            stop: None,
            tag: Some(tag.into()),
        }
    }

    #[test]
    fn every_order_change_is_published_with_its_account() {
        let mut book = Book::new(&[("VA1", AccountType::Margin), ("VA2", AccountType::Cash)]);
        let mut rx = book.events.tx.subscribe();
        book.place("VA1", new_order("market", None, "m"), false)
            .unwrap_or_default();
        let resting = book
            .place("VA2", new_order("limit", Some(1.0), "l"), false)
            .unwrap_or_default();
        book.place("VA1", new_order("market", None, "p"), true)
            .unwrap_or_default();
        let id = resting["order"]["id"].as_u64().unwrap_or_default();
        let cancelled = book.account("VA2").map(|a| a.cancel(id));
        assert_eq!(cancelled, Some(Ok(Some(()))));
        let mut seen = Vec::new();
        while let Ok(Outgoing::Order { account, text }) = rx.try_recv() {
            let v: Value = serde_json::from_str(&text).unwrap_or_default();
            assert_eq!(v["event"], "order", "{v}");
            assert_eq!(v["account"], json!(account), "{v}");
            assert!(v["id"].is_u64() && v.get("exec_quantity").is_some(), "{v}");
            let field = |k: &str| v[k].as_str().unwrap_or("").to_string();
            seen.push((account, field("status"), field("tag")));
        }
        let want: Vec<(String, String, String)> = [
            ("VA1", "open", "m"),
            ("VA1", "filled", "m"),
            ("VA2", "open", "l"),
            ("VA2", "canceled", "l"),
        ]
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
        // A preview books nothing and publishes nothing.
        assert_eq!(seen, want);
    }
}
