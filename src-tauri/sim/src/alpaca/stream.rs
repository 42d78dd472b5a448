//! The Market Data v2 stream at `/v2/{iex|sip|test}`: JSON text frames, or msgpack binary
//! frames when the upgrade carries `Content-Type: application/msgpack` (see `msgpack`).
//!
//! One task owns each socket ([`Session::run`]): it greets (`connected`), authenticates
//! (in-band `{"action":"auth"}` or the `APCA-*` headers of the upgrade), tracks the
//! subscription, and every `interval` sends one frame of `batch` quote/trade messages for the
//! subscribed symbols. Errors follow Alpaca's table: 400 invalid syntax, 401 not
//! authenticated, 402 auth failed, 403 already authenticated, 404 auth timeout, 405 symbol
//! limit exceeded, 406 connection limit exceeded, 409 insufficient subscription. After 402,
//! 404, 406 and 409 the server closes the connection (the real service's behaviour after 402
//! is UNCONFIRMED; closing is what a client must survive anyway).
//!
//! Faults: [`Faults::stream_cut`] drops the socket without a close frame (a cut link);
//! [`Faults::half_open`] stops reading and writing, so pings go unanswered while TCP stays up.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::{header_credentials, lock, msgpack, SimState};
use crate::faults::{Faults, RefuseAuth};

/// The channels a client may subscribe to, in the order the `subscription` reply lists them.
const CHANNELS: [&str; 7] = [
    "trades",
    "quotes",
    "bars",
    "updatedBars",
    "dailyBars",
    "statuses",
    "lulds",
];

pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    Path(feed): Path<String>,
    State(state): State<SimState>,
    refuse: Option<Extension<RefuseAuth>>,
    headers: HeaderMap,
) -> Response {
    if !matches!(feed.as_str(), "iex" | "sip" | "test") {
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    }
    let msgpack = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("msgpack"));
    let header_auth = match header_credentials(&headers) {
        (None, None) => None,
        (key, secret) => Some(refuse.is_none() && state.credentials_match(key, secret)),
    };
    // Taken now, so a cut between the upgrade and the first poll still applies.
    let cut = state.faults().stream_cut();
    let session = Session::new(state, feed, refuse.is_some(), msgpack, cut);
    ws.on_upgrade(move |socket| session.run(socket, header_auth))
}

/// Counts an authenticated connection on a feed while alive.
struct Slot {
    state: SimState,
    feed: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(n) = lock(&self.state.inner.connections).get_mut(&self.feed) {
            *n = n.saturating_sub(1);
        }
    }
}

/// What to do after handling a client message.
enum Next {
    Continue,
    Close,
}

struct Session {
    state: SimState,
    faults: Arc<Faults>,
    feed: String,
    refuse_auth: bool,
    /// Binary msgpack frames instead of JSON text ones.
    msgpack: bool,
    cut: CancellationToken,
    slot: Option<Slot>,
    /// Per channel, the subscribed symbols in subscription order (`*` = all).
    subs: Vec<(&'static str, Vec<String>)>,
    cursor: usize,
}

impl Session {
    fn new(
        state: SimState,
        feed: String,
        refuse_auth: bool,
        msgpack: bool,
        cut: CancellationToken,
    ) -> Self {
        let faults = state.faults().clone();
        let subs = CHANNELS.iter().map(|c| (*c, Vec::new())).collect();
        Self {
            state,
            faults,
            feed,
            refuse_auth,
            msgpack,
            cut,
            slot: None,
            subs,
            cursor: 0,
        }
    }

    async fn run(mut self, mut socket: WebSocket, header_auth: Option<bool>) {
        if !self
            .send(&mut socket, &json!([{"T": "success", "msg": "connected"}]))
            .await
        {
            return;
        }
        if let Some(ok) = header_auth {
            let reply = if ok {
                self.authenticate()
            } else {
                Err(error(402))
            };
            if !self.answer_auth(&mut socket, reply).await {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
        let settings = self.state.stream_settings();
        let auth_deadline = tokio::time::sleep(settings.auth_timeout);
        tokio::pin!(auth_deadline);
        let mut ticks = tokio::time::interval(settings.interval.max(Duration::from_millis(1)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut fault_poll = tokio::time::interval(Duration::from_millis(25));
        loop {
            if self.faults.half_open() {
                // Neither read nor write: queued pings stay unanswered, the TCP link stays up.
                tokio::select! {
                    () = self.cut.cancelled() => return,
                    _ = fault_poll.tick() => continue,
                }
            }
            tokio::select! {
                () = self.cut.cancelled() => return,
                () = &mut auth_deadline, if self.slot.is_none() => {
                    let _ = self.send(&mut socket, &error(404)).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                msg = socket.recv() => {
                    // Either encoding is understood whatever the connection's own is.
                    let parsed = match msg {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                        Some(Ok(Message::Text(t))) => serde_json::from_str::<Value>(&t).ok(),
                        Some(Ok(Message::Binary(b))) => msgpack::decode(&b),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    };
                    if let Next::Close = self.handle(&mut socket, parsed).await {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                }
                _ = ticks.tick(), if self.slot.is_some() => {
                    let frame = self.next_batch();
                    if !frame.is_empty() && !self.send(&mut socket, &Value::Array(frame)).await {
                        return;
                    }
                }
                _ = fault_poll.tick() => {}
            }
        }
    }

    async fn handle(&mut self, socket: &mut WebSocket, msg: Option<Value>) -> Next {
        let Some(msg) = msg else {
            return self.reply(socket, error(400)).await;
        };
        match msg.get("action").and_then(Value::as_str) {
            Some("auth") => {
                if self.slot.is_some() {
                    return self.reply(socket, error(403)).await;
                }
                let key = msg.get("key").and_then(Value::as_str);
                let secret = msg.get("secret").and_then(Value::as_str);
                let reply = if !self.refuse_auth && self.state.credentials_match(key, secret) {
                    self.authenticate()
                } else {
                    Err(error(402))
                };
                if self.answer_auth(socket, reply).await {
                    Next::Continue
                } else {
                    Next::Close
                }
            }
            Some("subscribe" | "unsubscribe") if self.slot.is_none() => {
                self.reply(socket, error(401)).await
            }
            Some("subscribe") => {
                let reply = self.change(&msg, true);
                self.reply(socket, reply).await
            }
            Some("unsubscribe") => {
                let reply = self.change(&msg, false);
                self.reply(socket, reply).await
            }
            _ => self.reply(socket, error(400)).await,
        }
    }

    /// Sends one frame in the connection's encoding; returns false when the socket is gone.
    async fn send(&self, socket: &mut WebSocket, msg: &Value) -> bool {
        let frame = if self.msgpack {
            Message::Binary(msgpack::encode(msg).into())
        } else {
            Message::Text(msg.to_string().into())
        };
        socket.send(frame).await.is_ok()
    }

    async fn reply(&mut self, socket: &mut WebSocket, msg: Value) -> Next {
        if self.send(socket, &msg).await {
            Next::Continue
        } else {
            Next::Close
        }
    }

    /// Sends the auth outcome; returns false when the connection must close.
    async fn answer_auth(&mut self, socket: &mut WebSocket, reply: Result<Value, Value>) -> bool {
        match reply {
            Ok(msg) => self.send(socket, &msg).await,
            Err(msg) => {
                let _ = self.send(socket, &msg).await;
                false
            }
        }
    }

    /// Takes a connection slot on the feed: `authenticated`, or 409/406.
    fn authenticate(&mut self) -> Result<Value, Value> {
        let settings = self.state.stream_settings();
        if self.feed == "sip" && !settings.sip {
            return Err(error(409));
        }
        {
            let mut conns = lock(&self.state.inner.connections);
            let n = conns.entry(self.feed.clone()).or_insert(0);
            if *n >= settings.connection_limit {
                return Err(error(406));
            }
            *n += 1;
        }
        self.slot = Some(Slot {
            state: self.state.clone(),
            feed: self.feed.clone(),
        });
        Ok(json!([{"T": "success", "msg": "authenticated"}]))
    }

    /// Applies a subscribe/unsubscribe; returns the full subscription or an error.
    fn change(&mut self, msg: &Value, add: bool) -> Value {
        let mut next = self.subs.clone();
        for (channel, list) in &mut next {
            let Some(given) = msg.get(*channel) else {
                continue;
            };
            let Some(given) = given.as_array() else {
                return error(400);
            };
            for sym in given {
                let Some(sym) = sym.as_str() else {
                    return error(400);
                };
                let present = list.iter().any(|s| s == sym);
                if add && !present {
                    list.push(sym.to_string());
                } else if !add && present {
                    list.retain(|s| s != sym);
                }
            }
        }
        let mut distinct: Vec<&str> = next
            .iter()
            .flat_map(|(_, l)| l.iter().map(String::as_str))
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > self.state.stream_settings().symbol_limit {
            return error(405);
        }
        self.subs = next;
        let mut reply = serde_json::Map::new();
        reply.insert("T".into(), json!("subscription"));
        for (channel, list) in &self.subs {
            reply.insert((*channel).into(), json!(list));
        }
        // Corrections and cancel errors follow the trade subscription.
        let trades = json!(self
            .subs
            .first()
            .map(|(_, l)| l.clone())
            .unwrap_or_default());
        reply.insert("corrections".into(), trades.clone());
        reply.insert("cancelErrors".into(), trades);
        json!([Value::Object(reply)])
    }

    /// The next frame's messages, round-robin over the subscribed (channel, symbol) pairs.
    fn next_batch(&mut self) -> Vec<Value> {
        let batch = self.state.stream_settings().batch;
        let mut market = lock(&self.state.inner.market);
        let feed_symbols = market.feed_symbols(&self.feed);
        let mut pairs: Vec<(bool, String)> = Vec::new();
        for (channel, list) in &self.subs {
            let quote = match *channel {
                "quotes" => true,
                "trades" => false,
                _ => continue,
            };
            for sym in &feed_symbols {
                if list.iter().any(|s| s == "*" || s == sym) {
                    pairs.push((quote, sym.clone()));
                }
            }
        }
        if pairs.is_empty() {
            return Vec::new();
        }
        // IEX prints every message on exchange V; the SIP's mix is not modelled.
        let exchange = "V";
        let mut out = Vec::with_capacity(batch);
        for _ in 0..batch {
            let (quote, sym) = &pairs[self.cursor % pairs.len()];
            self.cursor = self.cursor.wrapping_add(1);
            let msg = if *quote {
                market.tick_quote(sym, exchange)
            } else {
                market.tick_trade(sym, exchange)
            };
            out.extend(msg);
        }
        out
    }
}

/// The error frame for a code of Alpaca's table.
fn error(code: u16) -> Value {
    let msg = match code {
        400 => "invalid syntax",
        401 => "not authenticated",
        402 => "auth failed",
        403 => "already authenticated",
        404 => "auth timeout",
        405 => "symbol limit exceeded",
        406 => "connection limit exceeded",
        407 => "slow client",
        409 => "insufficient subscription",
        _ => "internal error",
    };
    json!([{"T": "error", "code": code, "msg": msg}])
}
