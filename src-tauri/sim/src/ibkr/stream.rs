//! The WebSocket at `/v1/api/ws`. The client connects with the cookie
//! `api={"session":"<from /tickle>"}`; one task owns each socket ([`Conn::run`]).
//!
//! - Until the cookie names the live session and the bridge is open, the server sends
//!   `{"message":"waiting for session"}` (at once, then at every heartbeat) and ignores
//!   commands; then `{"topic":"system","success":"<user>",…}` and
//!   `{"topic":"sts","args":{"authenticated":true}}`.
//! - Heartbeats `{"topic":"system","hb":<epoch ms>}` every `Settings::heartbeat`.
//! - `smd+CONID+{"fields":[…]}` subscribes: first every requested field, then at every
//!   `Settings::data_interval` only the fields that changed (bid/ask each tick, last every
//!   second tick, sizes every third). `umd+CONID+{}` unsubscribes. `tic` refreshes the
//!   gateway's idle timer (no answer; UNCONFIRMED). An unknown conid gets
//!   `{"topic":"smd+CONID","error":"…"}` (UNCONFIRMED).
//! - When the session ends (logout, expiry, idle), the server sends
//!   `{"topic":"sts","args":{"authenticated":false}}` and closes.
//!
//! Faults: a `RefuseAuth` upgrade is answered 401; [`Faults::stream_cut`] drops the socket
//! without a close frame; [`Faults::half_open`] stops reading and writing.
//!
//! [`Faults::stream_cut`]: crate::faults::Faults::stream_cut
//! [`Faults::half_open`]: crate::faults::Faults::half_open

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::book::now_ms;
use super::{cookie_session, lock, not_authenticated, SimState};
use crate::faults::RefuseAuth;

pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<SimState>,
    refuse: Option<Extension<RefuseAuth>>,
    headers: HeaderMap,
) -> Response {
    if refuse.is_some() {
        return not_authenticated();
    }
    let conn = Conn {
        cut: state.faults().stream_cut(),
        cookie: cookie_session(&headers),
        state,
        authed: false,
        subs: Vec::new(),
    };
    ws.on_upgrade(move |socket| conn.run(socket))
}

/// One market-data subscription and its evolving quote.
struct Sub {
    conid: u64,
    symbol: String,
    fields: Vec<String>,
    tick: u64,
    /// Field code → current value.
    values: Vec<(&'static str, String)>,
    last: f64,
    spread_mid: f64,
}

impl Sub {
    fn new(conid: u64, symbol: &str, price: f64, fields: Vec<String>) -> Self {
        let mut s = Self {
            conid,
            symbol: symbol.to_string(),
            fields,
            tick: 0,
            values: Vec::new(),
            last: price,
            spread_mid: price,
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
            ("55", self.symbol.clone()),
            ("6509", "RpB".to_string()),
        ]
    }

    fn message(&self, changed_only: Option<&[(&'static str, String)]>) -> Option<Value> {
        let mut m = Map::new();
        for (code, value) in &self.values {
            let requested = self.fields.iter().any(|f| f == code);
            let changed = changed_only.is_none_or(|old| !old.contains(&(*code, value.clone())));
            if requested && changed {
                m.insert((*code).to_string(), Value::String(value.clone()));
            }
        }
        if m.is_empty() && changed_only.is_some() {
            return None;
        }
        m.insert("topic".into(), json!(format!("smd+{}", self.conid)));
        m.insert("conid".into(), json!(self.conid));
        m.insert("conidEx".into(), json!(self.conid.to_string()));
        m.insert("server_id".into(), json!("q0"));
        m.insert("_updated".into(), json!(now_ms()));
        Some(Value::Object(m))
    }

    /// Moves the quote one step; returns the message with only the changed fields.
    fn step(&mut self) -> Option<Value> {
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
}

struct Conn {
    state: SimState,
    cookie: Option<String>,
    cut: CancellationToken,
    authed: bool,
    subs: Vec<Sub>,
}

impl Conn {
    /// Whether the cookie names the live session and the bridge is open.
    fn session_ok(&self) -> bool {
        self.state
            .gateway(|g| g.bridge && g.current().is_some() && g.current() == self.cookie.as_deref())
    }

    async fn run(mut self, mut socket: WebSocket) {
        let settings = self.state.settings();
        let faults = self.state.faults().clone();
        if !self.greet(&mut socket).await {
            return;
        }
        let mut hb = tokio::time::interval(settings.heartbeat.max(Duration::from_millis(5)));
        hb.set_missed_tick_behavior(MissedTickBehavior::Skip);
        hb.reset();
        let mut data = tokio::time::interval(settings.data_interval.max(Duration::from_millis(5)));
        data.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut poll = tokio::time::interval(Duration::from_millis(20));
        loop {
            if faults.half_open() {
                tokio::select! {
                    () = self.cut.cancelled() => return,
                    _ = poll.tick() => continue,
                }
            }
            tokio::select! {
                () = self.cut.cancelled() => return,
                _ = hb.tick() => {
                    let ok = if self.authed {
                        send(&mut socket, &json!({"topic": "system", "hb": now_ms()})).await
                    } else {
                        self.greet(&mut socket).await
                    };
                    if !ok {
                        return;
                    }
                }
                _ = data.tick(), if self.authed => {
                    let updates: Vec<Value> = self.subs.iter_mut().filter_map(Sub::step).collect();
                    for u in updates {
                        if !send(&mut socket, &u).await {
                            return;
                        }
                    }
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
                _ = poll.tick() => {
                    if self.authed && !self.session_ok() {
                        let sts = json!({"topic": "sts", "args": {"authenticated": false}});
                        let _ = send(&mut socket, &sts).await;
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                }
            }
        }
    }

    /// Sends the greeting when the session is good, else "waiting for session".
    async fn greet(&mut self, socket: &mut WebSocket) -> bool {
        if !self.session_ok() {
            return send(socket, &json!({"message": "waiting for session"})).await;
        }
        self.authed = true;
        let hello = json!({"topic": "system", "success": "simuser1", "isFT": false,
            "isPaper": true});
        let sts = json!({"topic": "sts", "args": {"authenticated": true}});
        send(socket, &hello).await && send(socket, &sts).await
    }

    /// Handles one client command; returns false when the socket failed.
    async fn command(&mut self, socket: &mut WebSocket, text: &str) -> bool {
        let text = text.trim();
        if text == "tic" {
            self.state.gateway(|g| g.touch());
            return true;
        }
        if !self.authed {
            return true;
        }
        let mut parts = text.splitn(3, '+');
        let (Some(verb), Some(conid)) = (parts.next(), parts.next()) else {
            return true;
        };
        let args = parts.next().unwrap_or("{}");
        match verb {
            "smd" => self.subscribe(socket, conid, args).await,
            "umd" => {
                self.subs.retain(|s| s.conid.to_string() != conid);
                true
            }
            _ => true,
        }
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
            return send(socket, &e).await;
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
            Some(m) => send(socket, &m).await,
            None => true,
        }
    }
}

async fn send(socket: &mut WebSocket, v: &Value) -> bool {
    socket
        .send(Message::Text(v.to_string().into()))
        .await
        .is_ok()
}
