//! Market streaming: `POST /v1/markets/events/session` (bearer auth) issues a session id, and
//! the WebSocket at `/v1/markets/events` (no headers; the session id carries the auth) takes
//! the payload `{"symbols":[…],"sessionid":…,"filter":[…],"linebreak":…}` and streams the
//! filtered message types (`quote`, `trade`, `timesale`, `tradex`; `summary` once per symbol
//! at subscription; every type when there is no `filter`) for the valid symbols. With
//! `linebreak: true` every message ends with `\n`; without, messages are concatenated.
//! Resending the payload replaces the subscription.
//!
//! Rate ([`StreamSettings`]): one frame every `interval` carrying `batch` messages, or, in
//! `burst` mode, frames back to back with no pause. With `burst` or `batch > 1` the frames are
//! pre-encoded (a ring of [`RING_FRAMES`] frames, rebuilt every second and at each payload)
//! so the simulator can push hundreds of thousands of messages per second.
//!
//! Errors, each a `{"error":…}` text frame: an unknown symbol gets `"XYZ is not a valid
//! symbol"` (the valid ones still stream); a payload that is not JSON `"invalid payload"`; an
//! unknown or expired session [`StreamSettings::session_error`] (`"session not found"`, as seen
//! in the wild, or `"invalid session"`), then the socket closes (or, with
//! `close_on_session_error` off, stays open and idle). A session expires when no socket has used
//! it for `session_ttl` (Tradier: 5 min), at [`crate::Faults::expire_sessions`], or at
//! [`SimState::end_stream_sessions`]; sockets streaming on it get the error within 25 ms. The
//! exact texts and the close are UNCONFIRMED.
//!
//! Faults: `stream_cut` (and `go_down_for`) drops the socket without a close frame;
//! `half_open` stops reading and writing (pings go unanswered) while TCP stays up; the REST
//! `Garbage` fault also sends a garbage text frame after every data frame;
//! [`SimState::inject_stream_frame`] sends any text (oversized, malformed, error messages) to
//! every open socket.

use std::time::{Duration, Instant};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::market::Kind;
use super::wire::json_response;
use super::{lock, SimState, StreamSettings};
use crate::faults::Fault;

/// Pre-encoded frames per socket in burst / batch mode.
pub const RING_FRAMES: usize = 64;
/// Frames written before each flush in burst mode.
const FLUSH_EVERY: usize = 16;
/// What the `Garbage` fault sends on the stream.
const GARBAGE: &str = "<html>\u{0}\u{1}not json at all";

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
    // Tradier names its HTTP stream host here; the simulator names itself.
    issue_session(&s, &headers, "http", "/v1/markets/events")
}

/// Issues a streaming session (market or account events: one table, one at a time is not
/// enforced) and answers `{"stream":{"url":"{scheme}://{this host}{path}","sessionid":…}}`.
pub(super) fn issue_session(
    s: &SimState,
    headers: &HeaderMap,
    scheme: &str,
    path: &str,
) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let session = StreamSession {
        epoch: s.inner.faults.session_epoch(),
        last_active: Instant::now(),
        sockets: 0,
    };
    lock(&s.inner.sessions).insert(id.clone(), session);
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let url = format!("{scheme}://{host}{path}");
    json_response(
        StatusCode::OK,
        &json!({"stream": {"url": url, "sessionid": id}}),
    )
}

pub(crate) async fn upgrade(ws: WebSocketUpgrade, State(s): State<SimState>) -> Response {
    // Taken now, so a cut between the upgrade and the first poll still applies.
    let cut = s.inner.faults.stream_cut();
    let injected = s.inner.inject.subscribe();
    ws.on_upgrade(move |socket| Socket::new(s, cut, injected).run(socket))
}

impl SimState {
    /// Attaches a socket to a live session; `false` when it is unknown or expired.
    pub(super) fn attach(&self, id: &str) -> bool {
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

    pub(super) fn detach(&self, id: &str) {
        if let Some(s) = lock(&self.inner.sessions).get_mut(id) {
            s.sockets = s.sockets.saturating_sub(1);
            s.last_active = Instant::now();
        }
    }

    /// Whether a session a socket is attached to is still valid.
    pub(super) fn alive(&self, id: &str) -> bool {
        let epoch = self.inner.faults.session_epoch();
        lock(&self.inner.sessions)
            .get(id)
            .is_some_and(|s| s.epoch >= epoch)
    }

    /// Ends every streaming session now: open sockets get the session error, and the ids
    /// cannot be used again (the REST token stays valid).
    pub fn end_stream_sessions(&self) {
        lock(&self.inner.sessions).clear();
    }

    /// Sends `text` as a text frame, verbatim, on every open market socket (garbage,
    /// oversized frames, error messages…).
    pub fn inject_stream_frame(&self, text: impl Into<String>) {
        let _ = self.inner.inject.send(Utf8Bytes::from(text.into()));
    }

    /// The ids of the sessions issued and not yet ended (for tests that check no client
    /// ever shows one).
    pub fn stream_session_ids(&self) -> Vec<String> {
        lock(&self.inner.sessions).keys().cloned().collect()
    }

    /// Market sockets open now.
    pub fn stream_sockets(&self) -> usize {
        self.inner.inject.receiver_count()
    }
}

struct Socket {
    state: SimState,
    cut: CancellationToken,
    injected: broadcast::Receiver<Utf8Bytes>,
    settings: StreamSettings,
    /// The session this socket streams on (detached when the socket ends).
    session: Option<String>,
    /// (symbol, type) pairs streamed round-robin.
    pairs: Vec<(String, Kind)>,
    cursor: usize,
    linebreak: bool,
    /// Pre-encoded frames (burst / batch mode) and when they were built.
    ring: Vec<Utf8Bytes>,
    ring_pos: usize,
    ring_built: Instant,
    /// The `Garbage` fault, as last polled.
    garbage: bool,
}

impl Drop for Socket {
    fn drop(&mut self) {
        if let Some(id) = self.session.take() {
            self.state.detach(&id);
        }
    }
}

/// What a received payload asks for.
enum Reply {
    /// Frames to send now; the socket goes on.
    Send(Vec<String>),
    /// Frames to send, then close the socket.
    SendAndClose(Vec<String>),
}

impl Socket {
    fn new(
        state: SimState,
        cut: CancellationToken,
        injected: broadcast::Receiver<Utf8Bytes>,
    ) -> Self {
        let settings = state.stream_settings();
        Self {
            state,
            cut,
            injected,
            settings,
            session: None,
            pairs: Vec::new(),
            cursor: 0,
            linebreak: false,
            ring: Vec::new(),
            ring_pos: 0,
            ring_built: Instant::now(),
            garbage: false,
        }
    }

    fn pre_encoded(&self) -> bool {
        self.settings.burst || self.settings.batch > 1
    }

    fn ticker(&self) -> tokio::time::Interval {
        let mut t = tokio::time::interval(self.settings.interval.max(Duration::from_micros(100)));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        t
    }

    async fn run(mut self, mut socket: WebSocket) {
        let faults = self.state.inner.faults.clone();
        let mut ticks = self.ticker();
        let mut fault_poll = tokio::time::interval(Duration::from_millis(25));
        loop {
            if faults.half_open() {
                tokio::select! {
                    () = self.cut.cancelled() => return,
                    _ = fault_poll.tick() => continue,
                }
            }
            let streaming = !self.pairs.is_empty();
            let burst = streaming && self.settings.burst;
            tokio::select! {
                biased;
                () = self.cut.cancelled() => return,
                msg = socket.recv() => {
                    let text = match msg {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                        Some(Ok(Message::Text(t))) => t.to_string(),
                        Some(Ok(_)) => continue,
                    };
                    let (frames, close) = match self.payload(&text) {
                        Reply::Send(f) => (f, false),
                        Reply::SendAndClose(f) => (f, true),
                    };
                    for f in frames {
                        if socket.send(Message::Text(f.into())).await.is_err() {
                            return;
                        }
                    }
                    if close {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    ticks = self.ticker();
                }
                r = self.injected.recv() => {
                    match r {
                        Ok(text) => {
                            if socket.send(Message::Text(text)).await.is_err() {
                                return;
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
                _ = fault_poll.tick() => {
                    self.garbage = matches!(faults.current(), Some(Fault::Garbage));
                    if !self.check_session(&mut socket).await {
                        return;
                    }
                }
                _ = ticks.tick(), if streaming && !burst => {
                    let frame = self.next_frame();
                    if !self.send_data(&mut socket, frame).await {
                        return;
                    }
                }
                () = std::future::ready(()), if burst => {
                    if !self.send_burst(&mut socket).await {
                        return;
                    }
                }
            }
        }
    }

    /// Applies a payload: the frames to send, and whether the socket ends.
    fn payload(&mut self, text: &str) -> Reply {
        let Ok(p) = serde_json::from_str::<Value>(text) else {
            return Reply::Send(vec![self.error("invalid payload")]);
        };
        self.linebreak = p.get("linebreak").and_then(Value::as_bool).unwrap_or(false);
        let id = p.get("sessionid").and_then(Value::as_str).unwrap_or("");
        if self.session.as_deref() != Some(id) {
            if !self.state.attach(id) {
                return self.session_refused();
            }
            if let Some(old) = self.session.replace(id.to_string()) {
                self.state.detach(&old);
            }
        }
        self.settings = self.state.stream_settings();
        let kinds: Vec<Kind> = match p.get("filter").and_then(Value::as_array) {
            Some(f) => f
                .iter()
                .filter_map(Value::as_str)
                .filter_map(Kind::parse)
                .collect(),
            None => Kind::ALL.to_vec(),
        };
        self.pairs.clear();
        self.cursor = 0;
        self.ring.clear();
        // The invalid symbols are reported first, then the summaries.
        let (mut invalid, mut summaries) = (Vec::new(), Vec::new());
        let state = self.state.clone();
        let mut book = lock(&state.inner.book);
        let symbols = p.get("symbols").and_then(Value::as_array);
        for sym in symbols.into_iter().flatten().filter_map(Value::as_str) {
            if !book.market.knows(sym) {
                invalid.push(self.error(&format!("{sym} is not a valid symbol")));
                continue;
            }
            for kind in &kinds {
                if *kind == Kind::Summary {
                    let mut msg = String::new();
                    book.market.write_message(Kind::Summary, sym, &mut msg);
                    summaries.push(self.terminated(msg));
                } else {
                    self.pairs.push((sym.to_string(), *kind));
                }
            }
        }
        invalid.extend(summaries);
        Reply::Send(invalid)
    }

    fn session_refused(&mut self) -> Reply {
        let frame = self.error(self.settings.session_error.text());
        if self.settings.close_on_session_error {
            Reply::SendAndClose(vec![frame])
        } else {
            Reply::Send(vec![frame])
        }
    }

    /// Sends the session error once the session this socket streams on has ended.
    async fn check_session(&mut self, socket: &mut WebSocket) -> bool {
        let Some(id) = self.session.clone() else {
            return true;
        };
        if self.state.alive(&id) {
            return true;
        }
        self.session = None;
        self.state.detach(&id);
        self.pairs.clear();
        self.ring.clear();
        let (frames, close) = match self.session_refused() {
            Reply::Send(f) => (f, false),
            Reply::SendAndClose(f) => (f, true),
        };
        for f in frames {
            if socket.send(Message::Text(f.into())).await.is_err() {
                return false;
            }
        }
        if close {
            let _ = socket.send(Message::Close(None)).await;
            return false;
        }
        true
    }

    /// `{"error":…}`, with the line break when the payload asked for them.
    fn error(&self, message: &str) -> String {
        self.terminated(json!({ "error": message }).to_string())
    }

    fn terminated(&self, mut msg: String) -> String {
        if self.linebreak {
            msg.push('\n');
        }
        msg
    }

    /// Encodes one frame of `batch` messages from the live market.
    fn encode_frame(&mut self, book: &mut super::book::Book) -> String {
        let batch = self.settings.batch.max(1);
        let mut out = String::with_capacity(batch * 200);
        for _ in 0..batch {
            let Some((symbol, kind)) = self.pairs.get(self.cursor % self.pairs.len().max(1)) else {
                break;
            };
            self.cursor = self.cursor.wrapping_add(1);
            if book.market.write_message(*kind, symbol, &mut out) && self.linebreak {
                out.push('\n');
            }
        }
        out
    }

    /// The next data frame: freshly encoded, or the ring's next one.
    fn next_frame(&mut self) -> Utf8Bytes {
        if !self.pre_encoded() {
            let state = self.state.clone();
            let mut book = lock(&state.inner.book);
            return Utf8Bytes::from(self.encode_frame(&mut book));
        }
        if self.ring.is_empty() || self.ring_built.elapsed() >= Duration::from_secs(1) {
            let state = self.state.clone();
            let mut book = lock(&state.inner.book);
            self.ring = (0..RING_FRAMES)
                .map(|_| Utf8Bytes::from(self.encode_frame(&mut book)))
                .collect();
            self.ring_pos = 0;
            self.ring_built = Instant::now();
        }
        let frame = self.ring[self.ring_pos % self.ring.len()].clone();
        self.ring_pos = self.ring_pos.wrapping_add(1);
        frame
    }

    /// Sends a data frame (and garbage after it under the `Garbage` fault).
    async fn send_data(&self, socket: &mut WebSocket, frame: Utf8Bytes) -> bool {
        if socket.send(Message::Text(frame)).await.is_err() {
            return false;
        }
        !self.garbage
            || socket
                .send(Message::Text(Utf8Bytes::from_static(GARBAGE)))
                .await
                .is_ok()
    }

    /// Writes [`FLUSH_EVERY`] frames back to back, then flushes.
    async fn send_burst(&mut self, socket: &mut WebSocket) -> bool {
        for _ in 0..FLUSH_EVERY {
            let frame = self.next_frame();
            if socket.feed(Message::Text(frame)).await.is_err() {
                return false;
            }
            if self.garbage
                && socket
                    .feed(Message::Text(Utf8Bytes::from_static(GARBAGE)))
                    .await
                    .is_err()
            {
                return false;
            }
        }
        socket.flush().await.is_ok()
    }
}

impl StreamSettings {
    /// About `per_second` messages per second: one message per frame up to 1,000/s, above
    /// that a frame every millisecond carrying as many as needed (pre-encoded).
    pub fn rate(per_second: u32) -> Self {
        let per_second = per_second.max(1);
        let (interval, batch) = if per_second <= 1000 {
            (Duration::from_secs(1) / per_second, 1)
        } else {
            (
                Duration::from_millis(1),
                usize::try_from(per_second.div_ceil(1000)).unwrap_or(usize::MAX),
            )
        };
        Self {
            interval,
            batch,
            ..Self::default()
        }
    }
}
