//! The Market Data v2 stream at `/v2/{iex|sip|test}`: JSON text frames, or msgpack binary
//! frames when the upgrade carries `Content-Type: application/msgpack` (see `msgpack`).
//!
//! One task owns each socket ([`Session::run`]): it greets (`connected`), authenticates
//! (in-band `{"action":"auth"}` or the `APCA-*` headers of the upgrade), tracks the
//! subscription, and sends frames of `batch` quote/trade messages for the subscribed symbols:
//! one freshly generated frame every `interval` by default, or, with a `rate`, frames taken
//! from a ring pre-encoded at each subscription change, paced to `rate` messages per second
//! or sent as fast as the socket takes them (`rate` 0). Frames are written in chunks and
//! flushed once per chunk, so a burst reaches hundreds of thousands of messages per second. Errors follow Alpaca's table: 400 invalid syntax, 401 not
//! authenticated, 402 auth failed, 403 already authenticated, 404 auth timeout, 405 symbol
//! limit exceeded, 406 connection limit exceeded, 409 insufficient subscription. After 402,
//! 404, 406 and 409 the server closes the connection (the real service's behaviour after 402
//! is UNCONFIRMED; closing is what a client must survive anyway).
//!
//! Faults: [`Faults::stream_cut`] drops the socket without a close frame (a cut link);
//! [`Faults::half_open`] stops reading and writing, so pings go unanswered while TCP stays up;
//! [`SimState::inject`](super::SimState::inject) sends a raw frame (garbage, an oversized
//! message) or an error message of Alpaca's table to every open connection.

mod msgpack;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{header_credentials, lock, SimState, StreamInjection};
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
    inject: broadcast::Receiver<StreamInjection>,
    slot: Option<Slot>,
    /// Per channel, the subscribed symbols in subscription order (`*` = all).
    subs: Vec<(&'static str, Vec<String>)>,
    cursor: usize,
    /// Pre-encoded data frames (with a `rate`), sent round-robin.
    ring: Vec<Message>,
    ring_pos: usize,
    /// Messages per frame of the ring.
    ring_batch: usize,
}

/// The largest write chunk in burst mode: frames are queued up to about this many bytes,
/// then flushed together.
const CHUNK_BYTES: usize = 64 * 1024;

/// Messages pre-encoded in a ring (at least; whole frames).
const RING_MESSAGES: usize = 1024;

/// When the next data frames are due.
enum Pacer {
    /// One freshly generated frame per tick.
    Live(tokio::time::Interval),
    /// `rate` messages per second from the ring, counted from `start`.
    Rate {
        rate: u64,
        start: Instant,
        sent: u64,
    },
    /// As fast as the socket takes them.
    Burst,
}

impl Pacer {
    fn new(settings: &super::StreamSettings) -> Self {
        match settings.rate {
            None => {
                let mut ticks =
                    tokio::time::interval(settings.interval.max(Duration::from_millis(1)));
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                Pacer::Live(ticks)
            }
            Some(0) => Pacer::Burst,
            Some(rate) => Pacer::Rate {
                rate,
                start: Instant::now(),
                sent: 0,
            },
        }
    }

    /// Restarts the count (after a pause with nothing to send), so no backlog bursts out.
    fn restart(&mut self) {
        if let Pacer::Rate { start, sent, .. } = self {
            *start = Instant::now();
            *sent = 0;
        }
    }

    /// Waits until frames are due; returns how many to send now (at most `chunk`).
    /// Cancel-safe: nothing changes until [`Pacer::sent`].
    async fn ready(&mut self, batch: usize, chunk: usize) -> usize {
        match self {
            Pacer::Live(ticks) => {
                ticks.tick().await;
                1
            }
            Pacer::Burst => chunk,
            Pacer::Rate { rate, start, sent } => {
                let batch = batch.max(1) as u64;
                let due =
                    |now: Instant| (now.duration_since(*start).as_secs_f64() * *rate as f64) as u64;
                let mut now = Instant::now();
                let mut owed = due(now).saturating_sub(*sent);
                if owed > *rate {
                    // More than a second behind (a slow reader): drop the backlog.
                    *sent = due(now).saturating_sub(batch);
                    owed = batch;
                }
                if owed < batch {
                    let secs = (*sent + batch) as f64 / *rate as f64;
                    let at = *start + Duration::from_secs_f64(secs);
                    tokio::time::sleep_until(at).await;
                    now = Instant::now();
                    owed = due(now).saturating_sub(*sent).max(batch);
                }
                usize::try_from(owed / batch)
                    .unwrap_or(usize::MAX)
                    .clamp(1, chunk)
            }
        }
    }

    fn sent(&mut self, messages: usize) {
        if let Pacer::Rate { sent, .. } = self {
            *sent += messages as u64;
        }
    }
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
        let inject = state.inner.inject.subscribe();
        Self {
            state,
            faults,
            feed,
            refuse_auth,
            msgpack,
            cut,
            inject,
            slot: None,
            subs,
            cursor: 0,
            ring: Vec::new(),
            ring_pos: 0,
            ring_batch: 1,
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
        let fast = settings.rate.is_some();
        let mut pacer = Pacer::new(&settings);
        let mut fault_poll = tokio::time::interval(Duration::from_millis(25));
        let mut paused = true;
        // A client that stops reading blocks our writes: a cut must still end them.
        let cut = self.cut.clone();
        loop {
            if self.faults.half_open() {
                // Neither read nor write: queued pings stay unanswered, the TCP link stays up.
                tokio::select! {
                    () = self.cut.cancelled() => return,
                    _ = fault_poll.tick() => continue,
                }
            }
            let streaming = self.slot.is_some() && (!fast || !self.ring.is_empty());
            if streaming && paused {
                pacer.restart();
            }
            paused = !streaming;
            let chunk = self.chunk();
            tokio::select! {
                biased;
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
                    if fast {
                        self.build_ring();
                    }
                }
                injected = self.inject.recv() => {
                    let frame = match injected {
                        Ok(StreamInjection::Text(t)) => Message::Text(t.into()),
                        Ok(StreamInjection::Binary(b)) => Message::Binary(b.into()),
                        Ok(StreamInjection::Error(code)) => self.encode(&error(code)),
                        Err(_) => continue,
                    };
                    if socket.send(frame).await.is_err() {
                        return;
                    }
                }
                frames = pacer.ready(self.ring_batch, chunk), if streaming => {
                    let send = async {
                        if fast {
                            return self.send_ring(&mut socket, frames).await;
                        }
                        let frame = self.next_batch(self.state.stream_settings().batch);
                        if frame.is_empty() {
                            Some(0)
                        } else {
                            self.send(&mut socket, &Value::Array(frame)).await.then_some(1)
                        }
                    };
                    let sent = tokio::select! {
                        biased;
                        () = cut.cancelled() => return,
                        sent = send => sent,
                    };
                    let Some(messages) = sent else { return };
                    pacer.sent(messages);
                }
                _ = fault_poll.tick() => {}
            }
        }
    }

    /// Frames to write per flush: about [`CHUNK_BYTES`] worth of the ring's frames.
    fn chunk(&self) -> usize {
        let Some(first) = self.ring.first() else {
            return 1;
        };
        let len = match first {
            Message::Text(t) => t.len(),
            Message::Binary(b) => b.len(),
            _ => 1,
        };
        (CHUNK_BYTES / len.max(1)).clamp(1, 256)
    }

    /// Writes `frames` frames of the ring and flushes once; returns the messages sent, or
    /// `None` when the socket is gone.
    async fn send_ring(&mut self, socket: &mut WebSocket, frames: usize) -> Option<usize> {
        if self.ring.is_empty() {
            return Some(0);
        }
        for _ in 0..frames {
            let frame = self.ring[self.ring_pos].clone();
            self.ring_pos = (self.ring_pos + 1) % self.ring.len();
            socket.feed(frame).await.ok()?;
        }
        socket.flush().await.ok()?;
        Some(frames * self.ring_batch)
    }

    /// Pre-encodes the ring of data frames for the current subscription (empty when it
    /// streams nothing).
    fn build_ring(&mut self) {
        let batch = self.state.stream_settings().batch.max(1);
        let frames = RING_MESSAGES.div_ceil(batch).max(4);
        let mut ring = Vec::with_capacity(frames);
        for _ in 0..frames {
            let frame = self.next_batch(batch);
            if frame.is_empty() {
                break;
            }
            ring.push(self.encode(&Value::Array(frame)));
        }
        self.ring = ring;
        self.ring_pos = 0;
        self.ring_batch = batch;
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

    /// A frame in the connection's encoding.
    fn encode(&self, msg: &Value) -> Message {
        if self.msgpack {
            Message::Binary(msgpack::encode(msg).into())
        } else {
            Message::Text(msgpack::json(msg).into())
        }
    }

    /// Sends one frame in the connection's encoding; returns false when the socket is gone.
    async fn send(&self, socket: &mut WebSocket, msg: &Value) -> bool {
        socket.send(self.encode(msg)).await.is_ok()
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
    fn next_batch(&mut self, batch: usize) -> Vec<Value> {
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
