//! Market streaming: `POST /v1/markets/events/session` (bearer auth) issues a session id, and
//! the WebSocket at `/v1/markets/events` (no headers; the session id carries the auth) takes
//! the payload `{"symbols":[…],"sessionid":…,"filter":[…],"linebreak":…}` and streams
//! `quote`/`trade` messages for the valid symbols, one per text frame (with a trailing `\n`
//! when `linebreak` is true). Resending the payload replaces the subscription.
//!
//! An unknown symbol gets `{"error":"XYZ is not a valid symbol"}`. A session expires when no
//! socket has used it for `session_ttl` (5 min), or at [`crate::Faults::expire_sessions`];
//! the answer to an unknown or expired session (`{"error":"invalid session"}`, then close)
//! is UNCONFIRMED, as is everything about `summary`/`timesale`/`tradex`, which are not sent.
//!
//! One task owns each socket. Faults: `stream_cut` drops the socket without a close frame;
//! `half_open` stops reading and writing while TCP stays up.

use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::wire::json_response;
use super::{lock, SimState};

/// A streaming session as issued.
#[derive(Debug)]
pub(crate) struct StreamSession {
    epoch: u64,
    /// When a socket last used the session (issued, payload accepted, socket closed).
    last_active: Instant,
    /// Sockets streaming on it now.
    sockets: usize,
}

pub(crate) async fn create_session(State(s): State<SimState>, headers: HeaderMap) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let session = StreamSession {
        epoch: s.inner.faults.session_epoch(),
        last_active: Instant::now(),
        sockets: 0,
    };
    lock(&s.inner.sessions).insert(id.clone(), session);
    // Tradier names its HTTP stream host here; the simulator names itself.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let url = format!("http://{host}/v1/markets/events");
    json_response(
        StatusCode::OK,
        &json!({"stream": {"url": url, "sessionid": id}}),
    )
}

pub(crate) async fn upgrade(ws: WebSocketUpgrade, State(s): State<SimState>) -> Response {
    // Taken now, so a cut between the upgrade and the first poll still applies.
    let cut = s.inner.faults.stream_cut();
    ws.on_upgrade(move |socket| Socket::new(s, cut).run(socket))
}

impl SimState {
    /// Attaches a socket to a live session; `false` when it is unknown or expired.
    fn attach(&self, id: &str) -> bool {
        let ttl = self.stream_settings().session_ttl;
        let epoch = self.inner.faults.session_epoch();
        let mut sessions = lock(&self.inner.sessions);
        sessions
            .retain(|_, s| s.epoch >= epoch && (s.sockets > 0 || s.last_active.elapsed() < ttl));
        match sessions.get_mut(id) {
            Some(s) => {
                s.sockets += 1;
                s.last_active = Instant::now();
                true
            }
            None => false,
        }
    }

    fn detach(&self, id: &str) {
        if let Some(s) = lock(&self.inner.sessions).get_mut(id) {
            s.sockets = s.sockets.saturating_sub(1);
            s.last_active = Instant::now();
        }
    }
}

struct Socket {
    state: SimState,
    cut: CancellationToken,
    /// The session this socket streams on (detached when the socket ends).
    session: Option<String>,
    /// (symbol, is_quote) pairs streamed round-robin.
    pairs: Vec<(String, bool)>,
    cursor: usize,
    linebreak: bool,
}

impl Drop for Socket {
    fn drop(&mut self) {
        if let Some(id) = self.session.take() {
            self.state.detach(&id);
        }
    }
}

impl Socket {
    fn new(state: SimState, cut: CancellationToken) -> Self {
        Self {
            state,
            cut,
            session: None,
            pairs: Vec::new(),
            cursor: 0,
            linebreak: false,
        }
    }

    async fn run(mut self, mut socket: WebSocket) {
        let faults = self.state.inner.faults.clone();
        let mut ticks = tokio::time::interval(self.interval());
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut fault_poll = tokio::time::interval(Duration::from_millis(25));
        loop {
            if faults.half_open() {
                tokio::select! {
                    () = self.cut.cancelled() => return,
                    _ = fault_poll.tick() => continue,
                }
            }
            tokio::select! {
                () = self.cut.cancelled() => return,
                msg = socket.recv() => {
                    let text = match msg {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                        Some(Ok(Message::Text(t))) => t.to_string(),
                        Some(Ok(_)) => continue,
                    };
                    match self.payload(&text) {
                        Ok(replies) => {
                            for r in replies {
                                if !self.send(&mut socket, &r).await {
                                    return;
                                }
                            }
                            ticks = tokio::time::interval(self.interval());
                        }
                        Err(reply) => {
                            let _ = self.send(&mut socket, &reply).await;
                            let _ = socket.send(Message::Close(None)).await;
                            return;
                        }
                    }
                }
                _ = ticks.tick(), if !self.pairs.is_empty() => {
                    if let Some(msg) = self.next_message() {
                        if !self.send(&mut socket, &msg).await {
                            return;
                        }
                    }
                }
                _ = fault_poll.tick() => {}
            }
        }
    }

    fn interval(&self) -> Duration {
        self.state
            .stream_settings()
            .interval
            .max(Duration::from_millis(1))
    }

    /// Applies a payload: returns the messages to send now, or the error that ends the socket.
    fn payload(&mut self, text: &str) -> Result<Vec<Value>, Value> {
        let Ok(p) = serde_json::from_str::<Value>(text) else {
            return Ok(vec![json!({"error": "invalid payload"})]);
        };
        let id = p.get("sessionid").and_then(Value::as_str).unwrap_or("");
        if self.session.as_deref() != Some(id) {
            if !self.state.attach(id) {
                return Err(json!({"error": "invalid session"}));
            }
            if let Some(old) = self.session.replace(id.to_string()) {
                self.state.detach(&old);
            }
        }
        let filter: Vec<&str> = p
            .get("filter")
            .and_then(Value::as_array)
            .map(|f| f.iter().filter_map(Value::as_str).collect())
            .unwrap_or_else(|| vec!["quote", "trade"]);
        self.linebreak = p.get("linebreak").and_then(Value::as_bool).unwrap_or(false);
        let book = lock(&self.state.inner.book);
        let mut replies = Vec::new();
        self.pairs.clear();
        let symbols = p.get("symbols").and_then(Value::as_array);
        for sym in symbols.into_iter().flatten().filter_map(Value::as_str) {
            if !book.market.knows(sym) {
                replies.push(json!({"error": format!("{sym} is not a valid symbol")}));
                continue;
            }
            for (kind, quote) in [("quote", true), ("trade", false)] {
                if filter.contains(&kind) {
                    self.pairs.push((sym.to_string(), quote));
                }
            }
        }
        Ok(replies)
    }

    fn next_message(&mut self) -> Option<Value> {
        let (symbol, quote) = self.pairs.get(self.cursor % self.pairs.len())?.clone();
        self.cursor = self.cursor.wrapping_add(1);
        let mut book = lock(&self.state.inner.book);
        if quote {
            book.market.tick_quote(&symbol)
        } else {
            book.market.tick_trade(&symbol)
        }
    }

    /// Sends one message as a text frame; returns false when the socket is gone.
    async fn send(&self, socket: &mut WebSocket, msg: &Value) -> bool {
        let mut text = msg.to_string();
        if self.linebreak {
            text.push('\n');
        }
        socket.send(Message::Text(text.into())).await.is_ok()
    }
}
