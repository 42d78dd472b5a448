//! The WebSocket at `/v1/api/ws`. One task owns each socket ([`Conn::run`]).
//!
//! - Authentication, the two ways IBKR documents: the cookie `api={"session":"<from
//!   /tickle>"}` at the upgrade, or, after `{"message":"waiting for session"}`, the message
//!   `{"session":"<from /tickle>"}` (a wrong one is answered by an `sts` not
//!   authenticated). Until the session is good and the bridge open, the server repeats
//!   "waiting for session" at every heartbeat and drops commands (the gateway drops what
//!   comes before `sts`). Then it greets: `{"topic":"system","success":"<user>",…}`,
//!   `{"topic":"act","args":{…,"sessionId":…}}` (the account; that it carries the session
//!   is UNCONFIRMED) and `{"topic":"sts","args":{"authenticated":true,…}}`.
//! - Heartbeats `{"topic":"system","hb":<epoch ms>}` every `Settings::heartbeat`.
//! - `smd+CONID+{"fields":[…]}` (CONID may carry `@EXCHANGE`) subscribes: first every
//!   requested field, then only the fields that changed (bid/ask each update, last every
//!   second, sizes every third), `batch` updates per round (see [`super::Settings`]).
//!   `umd+CONID+{}` unsubscribes (no answer). An unknown conid gets
//!   `{"topic":"smd+CONID","error":"…"}` (shape UNCONFIRMED). `tic` refreshes the gateway's
//!   idle timer (answered only with `Settings::tic_reply`).
//! - `sor+{}` subscribes to live orders, `uor+{}` unsubscribes (see [`super::events`]).
//! - When the session ends (logout, expiry, idle, closed bridge), the server sends
//!   `{"topic":"sts","args":{"authenticated":false,…}}` and closes.
//!
//! Faults: a `RefuseAuth` upgrade is answered 401; [`Faults::stream_cut`] drops the socket
//! without a close frame; [`Faults::half_open`] stops reading and writing; `Fault::Garbage`
//! adds a frame that is not JSON to every round of updates. Tests push any other frame with
//! [`SimState::push_stream_frame`].
//!
//! [`Faults::stream_cut`]: crate::faults::Faults::stream_cut
//! [`Faults::half_open`]: crate::faults::Faults::half_open

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::book::now_ms;
use super::events::SorFeed;
use super::{cookie_session, lock, not_authenticated, Settings, SimState};
use crate::faults::{Fault, RefuseAuth};

/// Pre-encoded updates per subscription in fast mode (a multiple of the quote's 12-step
/// period, so the cycle repeats seamlessly).
pub(crate) const CYCLE: usize = 60;
/// A cycle older than this is re-encoded when it wraps (keeps `_updated` recent).
const REFRESH: Duration = Duration::from_millis(50);
/// What `Fault::Garbage` sends.
const GARBAGE: &str = "<html>\u{0}\u{1}not json at all";
const USER: &str = "simuser1";
const SERVER_INFO: (&str, &str) = ("JifN19053", "Build 10.30.1s, Jun 2 2026");

pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<SimState>,
    refuse: Option<Extension<RefuseAuth>>,
    headers: HeaderMap,
) -> Response {
    if refuse.is_some() {
        return not_authenticated();
    }
    let settings = state.settings();
    let conn = Conn {
        cut: state.faults().stream_cut(),
        cookie: cookie_session(&headers).filter(|_| settings.cookie_auth),
        pushed: state.inner.pushed.subscribe(),
        settings,
        state,
        authed: false,
        subs: Vec::new(),
        sor: SorFeed::default(),
    };
    ws.on_upgrade(move |socket| conn.run(socket))
}

/// One market-data subscription and its evolving quote.
struct Sub {
    conid: u64,
    symbol: &'static str,
    fields: Vec<String>,
    tick: u64,
    /// Field code → current value.
    values: Vec<(&'static str, String)>,
    last: f64,
    spread_mid: f64,
    /// Pre-encoded updates (fast mode) and the next one to send.
    cycle: Vec<Message>,
    cursor: usize,
    encoded_at: Instant,
}

impl Sub {
    fn new(conid: u64, symbol: &'static str, price: f64, fields: Vec<String>) -> Self {
        let mut s = Self {
            conid,
            symbol,
            fields,
            tick: 0,
            values: Vec::new(),
            last: price,
            spread_mid: price,
            cycle: Vec::new(),
            cursor: 0,
            encoded_at: Instant::now(),
        };
        s.values = s.render();
        s
    }

    fn render(&self) -> Vec<(&'static str, String)> {
        let sizes = 100 + (self.tick / 3 % 5) * 100;
        vec![
            ("31", format!("{:.2}", self.last)),
            ("84", format!("{:.2}", self.spread_mid - 0.01)),
            ("86", format!("{:.2}", self.spread_mid + 0.01)),
            ("85", (sizes + 200).to_string()),
            ("88", (sizes + 100).to_string()),
            ("7059", sizes.to_string()),
            ("55", self.symbol.to_string()),
            ("6509", "RpB".to_string()),
        ]
    }

    /// The market-data message with the requested fields (only those that changed from
    /// `old`, when given), in the gateway's layout; `None` when nothing changed.
    fn message(&self, old: Option<&[(&'static str, String)]>) -> Option<String> {
        let mut picked = self
            .values
            .iter()
            .filter(|(code, _)| self.fields.iter().any(|f| f == code))
            .filter(|(code, value)| {
                old.is_none_or(|old| !old.iter().any(|(c, v)| c == code && v == value))
            })
            .peekable();
        if picked.peek().is_none() && old.is_some() {
            return None;
        }
        let c = self.conid;
        let mut s = String::with_capacity(200);
        let _ = write!(
            s,
            r#"{{"server_id":"q0","conidEx":"{c}","conid":{c},"_updated":{},"6119":"q0""#,
            now_ms()
        );
        for (code, value) in picked {
            let _ = write!(s, r#","{code}":{}"#, Value::String(value.clone()));
        }
        let _ = write!(s, r#","topic":"smd+{c}"}}"#);
        Some(s)
    }

    /// Moves the quote one step; returns the message with only the changed fields.
    fn step(&mut self) -> Option<String> {
        self.tick += 1;
        let dir = if self.tick % 4 < 2 { 0.01 } else { -0.01 };
        self.spread_mid += dir;
        if self.tick.is_multiple_of(2) {
            self.last = self.spread_mid;
        }
        let fresh = self.render();
        let old = std::mem::replace(&mut self.values, fresh);
        self.message(Some(&old))
    }

    /// The next update: encoded now, or (fast mode) the next of the pre-encoded cycle.
    fn take(&mut self, fast: bool, binary: bool) -> Option<Message> {
        if !fast {
            return self.step().map(|t| frame(t, binary));
        }
        if self.cursor >= self.cycle.len() {
            if self.cycle.is_empty() || self.encoded_at.elapsed() >= REFRESH {
                let mut cycle = Vec::with_capacity(CYCLE);
                for _ in 0..CYCLE {
                    if let Some(t) = self.step() {
                        cycle.push(frame(t, binary));
                    }
                }
                self.cycle = cycle;
                self.encoded_at = Instant::now();
            }
            self.cursor = 0;
        }
        let m = self.cycle.get(self.cursor)?.clone();
        self.cursor += 1;
        Some(m)
    }
}

/// A server message as a text frame, or a binary one holding the same bytes.
fn frame(text: String, binary: bool) -> Message {
    if binary {
        Message::Binary(Bytes::from(text))
    } else {
        Message::Text(text.into())
    }
}

fn sts(authenticated: bool) -> Value {
    json!({"topic": "sts", "args": {"authenticated": authenticated, "competing": false,
        "message": "", "fail": "", "serverName": SERVER_INFO.0, "serverVersion": SERVER_INFO.1,
        "username": USER}})
}

struct Conn {
    state: SimState,
    settings: Settings,
    /// The session presented (cookie, or `{"session":…}` message).
    cookie: Option<String>,
    cut: CancellationToken,
    pushed: broadcast::Receiver<String>,
    authed: bool,
    subs: Vec<Sub>,
    /// The `sor` subscription.
    sor: SorFeed,
}

impl Conn {
    /// Whether the presented session is the live one and the bridge is open.
    fn session_ok(&self) -> bool {
        self.state
            .gateway(|g| g.bridge && g.current().is_some() && g.current() == self.cookie.as_deref())
    }

    async fn run(mut self, mut socket: WebSocket) {
        let faults = self.state.faults().clone();
        if !self.greet(&mut socket).await {
            return;
        }
        let mut hb = tokio::time::interval(self.settings.heartbeat.max(Duration::from_millis(5)));
        hb.set_missed_tick_behavior(MissedTickBehavior::Skip);
        hb.reset();
        let interval = self.settings.data_interval.max(Duration::from_millis(1));
        let mut data = tokio::time::interval(interval);
        data.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut poll = tokio::time::interval(Duration::from_millis(20));
        let burst = self.settings.burst;
        let fast = burst || self.settings.batch > 1 || interval < Duration::from_millis(5);
        loop {
            if faults.half_open() {
                tokio::select! {
                    () = self.cut.cancelled() => return,
                    _ = poll.tick() => continue,
                }
            }
            let bursting = burst && self.authed && !self.subs.is_empty();
            tokio::select! {
                () = self.cut.cancelled() => return,
                _ = hb.tick() => {
                    let ok = if self.authed {
                        self.send(&mut socket, &json!({"topic": "system", "hb": now_ms()})).await
                    } else {
                        self.greet(&mut socket).await
                    };
                    if !ok {
                        return;
                    }
                }
                _ = data.tick(), if self.authed && !burst => {
                    if !self.round(&mut socket, fast).await {
                        return;
                    }
                }
                () = std::future::ready(()), if bursting => {
                    if !self.round(&mut socket, fast).await {
                        return;
                    }
                    // A round never waits when the socket keeps up: let the others run.
                    tokio::task::yield_now().await;
                }
                msg = socket.recv() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        if !self.command(&mut socket, t.as_str()).await {
                            return;
                        }
                    }
                    Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => {}
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                },
                order = self.sor.next() => {
                    if self.send_text(&mut socket, order).await.is_err() {
                        return;
                    }
                }
                pushed = self.pushed.recv() => {
                    if let Ok(text) = pushed {
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            return;
                        }
                    }
                }
                _ = poll.tick() => {
                    if self.authed && !self.session_ok() {
                        let _ = self.send(&mut socket, &sts(false)).await;
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                }
            }
        }
    }

    /// Sends `batch` updates of every subscription (plus garbage under `Fault::Garbage`),
    /// flushing once; returns false when the socket failed.
    async fn round(&mut self, socket: &mut WebSocket, fast: bool) -> bool {
        let garbage = matches!(self.state.faults().current(), Some(Fault::Garbage));
        let binary = self.settings.binary_frames;
        let batch = self.settings.batch.max(1);
        for sub in &mut self.subs {
            for _ in 0..batch {
                let Some(m) = sub.take(fast, binary) else {
                    break;
                };
                if socket.feed(m).await.is_err() {
                    return false;
                }
            }
        }
        if garbage && socket.feed(Message::Text(GARBAGE.into())).await.is_err() {
            return false;
        }
        socket.flush().await.is_ok()
    }

    /// Sends the greeting when the session is good, else "waiting for session".
    async fn greet(&mut self, socket: &mut WebSocket) -> bool {
        if !self.session_ok() {
            return self
                .send(socket, &json!({"message": "waiting for session"}))
                .await;
        }
        self.authed = true;
        let acct = lock(&self.state.inner.book).account.clone();
        let paper = acct.starts_with('D');
        let hello = json!({"topic": "system", "success": USER, "isFT": false, "isPaper": paper});
        let act = json!({"topic": "act", "args": {
            "accounts": [acct],
            "acctProps": {acct.clone(): {"hasChildAccounts": false, "supportsCashQty": true,
                "supportsFractions": false, "allowCustomerTime": false}},
            "aliases": {acct.clone(): acct},
            "allowFeatures": {"showGFIS": true, "allowFXConv": true, "allowTypeAhead": true},
            "chartPeriods": {"STK": ["*"], "CASH": ["*"]},
            "groups": [],
            "profiles": [],
            "selectedAccount": acct,
            "serverInfo": {"serverName": SERVER_INFO.0, "serverVersion": SERVER_INFO.1},
            "sessionId": self.cookie.clone().unwrap_or_default(),
            "isFT": false,
            "isPaper": paper,
        }});
        self.send(socket, &hello).await
            && self.send(socket, &act).await
            && self.send(socket, &sts(true)).await
    }

    /// Handles one client message; returns false when the socket failed.
    async fn command(&mut self, socket: &mut WebSocket, text: &str) -> bool {
        let text = text.trim();
        if text == "tic" {
            self.state.gateway(|g| g.touch());
            if self.settings.tic_reply {
                let alive = json!({"topic": "tic", "alive": true, "lastAccessed": now_ms()});
                return self.send(socket, &alive).await;
            }
            return true;
        }
        if text.starts_with('{') {
            return self.session_message(socket, text).await;
        }
        if !self.authed {
            return true;
        }
        let mut parts = text.splitn(3, '+');
        let (Some(verb), Some(conid)) = (parts.next(), parts.next()) else {
            return true;
        };
        let conid = conid.split('@').next().unwrap_or(conid);
        let args = parts.next().unwrap_or("{}");
        match verb {
            "smd" => self.subscribe(socket, conid, args).await,
            "umd" => {
                self.subs.retain(|s| s.conid.to_string() != conid);
                true
            }
            "sor" => {
                let orders = self.sor.start(&self.state);
                self.send_text(socket, orders).await.is_ok()
            }
            "uor" => {
                self.sor.stop();
                true
            }
            _ => true,
        }
    }

    /// `{"session":"…"}`: authenticates a waiting socket, or answers `sts`.
    async fn session_message(&mut self, socket: &mut WebSocket, text: &str) -> bool {
        let session = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("session")?.as_str().map(str::to_string));
        let Some(session) = session else {
            return true;
        };
        self.cookie = Some(session);
        let ok = self.session_ok();
        if ok && !self.authed {
            return self.greet(socket).await;
        }
        self.send(socket, &sts(ok)).await
    }

    async fn subscribe(&mut self, socket: &mut WebSocket, conid: &str, args: &str) -> bool {
        let found = {
            let book = lock(&self.state.inner.book);
            book.contract(conid)
                .filter(|c| c.conid.to_string() == conid)
                .map(|c| (c.conid, c.symbol, c.price))
        };
        let Some((conid, symbol, price)) = found else {
            let e = json!({"topic": format!("smd+{conid}"), "error": "Invalid conid"});
            return self.send(socket, &e).await;
        };
        let fields: Vec<String> = serde_json::from_str::<Value>(args)
            .ok()
            .and_then(|v| v.get("fields").cloned())
            .and_then(|f| serde_json::from_value(f).ok())
            .unwrap_or_else(|| vec!["31".into(), "84".into(), "86".into()]);
        self.subs.retain(|s| s.conid != conid);
        let sub = Sub::new(conid, symbol, price, fields);
        let first = sub.message(None);
        self.subs.push(sub);
        match first {
            Some(m) => socket
                .send(frame(m, self.settings.binary_frames))
                .await
                .is_ok(),
            None => true,
        }
    }

    async fn send_text(&self, socket: &mut WebSocket, text: String) -> Result<(), axum::Error> {
        socket.send(frame(text, self.settings.binary_frames)).await
    }

    async fn send(&self, socket: &mut WebSocket, v: &Value) -> bool {
        socket
            .send(frame(v.to_string(), self.settings.binary_frames))
            .await
            .is_ok()
    }
}
