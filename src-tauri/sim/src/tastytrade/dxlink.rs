//! The DXLink market-data socket at `/dxlink` (the `dxlink-url` of `/api-quote-tokens`).
//!
//! One task owns each socket ([`Session::run`]). The client's `SETUP` is answered with the
//! server's own and `AUTH_STATE UNAUTHORIZED`; `AUTH` with a quote token gives `AUTHORIZED`
//! (else `ERROR UNAUTHORIZED` and `UNAUTHORIZED` again). A `CHANNEL_REQUEST` for the `FEED`
//! service opens a channel; `FEED_SETUP` is answered with `FEED_CONFIG` (always `COMPACT`:
//! the only format the simulator speaks; unknown Quote fields are dropped from the accepted
//! list); `FEED_SUBSCRIPTION` adds/removes/resets `Quote` subscriptions (other event types
//! are accepted but produce nothing). Every `interval` each channel gets one `FEED_DATA`
//! with the subscribed symbols' quotes concatenated, values in the accepted field order.
//!
//! Keepalive: the server sends `KEEPALIVE` every `keepalive_interval` (or half the client's
//! `acceptKeepaliveTimeout`, if shorter) and, when the client sends nothing for
//! `keepalive_timeout` (announced in its SETUP), sends `ERROR TIMEOUT` and closes. More than
//! `max_symbols` subscriptions close the socket with code 1009, as DXLink does.
//!
//! Faults: [`Faults::stream_cut`] drops the socket without a close frame; while
//! [`Faults::half_open`] the session neither reads nor writes (the TCP link stays up).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{lock, SimState};
use crate::faults::{Faults, RefuseAuth};

/// The Quote fields the simulator can fill, in its default order.
const QUOTE_FIELDS: [&str; 13] = [
    "eventType",
    "eventSymbol",
    "eventTime",
    "sequence",
    "timeNanoPart",
    "bidTime",
    "bidExchangeCode",
    "bidPrice",
    "bidSize",
    "askTime",
    "askExchangeCode",
    "askPrice",
    "askSize",
];

/// How the DXLink socket behaves; change it with [`SimState::set_dxlink`](super::SimState::set_dxlink)
/// (read when a connection opens).
#[derive(Debug, Clone, PartialEq)]
pub struct DxLinkSettings {
    /// Time between FEED_DATA frames (the aggregation period).
    pub interval: Duration,
    /// Silence from the client after which the server gives up.
    pub keepalive_timeout: Duration,
    /// How often the server sends KEEPALIVE.
    pub keepalive_interval: Duration,
    /// Most subscriptions one socket may hold.
    pub max_symbols: usize,
}

impl Default for DxLinkSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(100),
            keepalive_timeout: Duration::from_secs(60),
            keepalive_interval: Duration::from_secs(30),
            max_symbols: 1000,
        }
    }
}

pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<SimState>,
    refuse: Option<Extension<RefuseAuth>>,
) -> Response {
    // Taken now, so a cut between the upgrade and the first poll still applies.
    let cut = state.faults().stream_cut();
    let settings = state.dxlink_settings();
    let session = Session {
        faults: state.faults().clone(),
        state,
        refuse_auth: refuse.is_some(),
        cut,
        keepalive_every: settings.keepalive_interval,
        settings,
        setup: false,
        authorized: false,
        channels: BTreeMap::new(),
        ticks: 0,
    };
    ws.on_upgrade(move |socket| session.run(socket))
}

#[derive(Debug, Default)]
struct Channel {
    fields: Vec<&'static str>,
    symbols: Vec<String>,
}

struct Session {
    state: SimState,
    faults: Arc<Faults>,
    refuse_auth: bool,
    cut: CancellationToken,
    settings: DxLinkSettings,
    keepalive_every: Duration,
    setup: bool,
    authorized: bool,
    channels: BTreeMap<u64, Channel>,
    ticks: u64,
}

/// Seconds as a JSON number: whole ones as integers (`60`), else fractional (`0.3`).
fn secs(d: Duration) -> Value {
    if d.subsec_nanos() == 0 {
        json!(d.as_secs())
    } else {
        json!(d.as_secs_f64())
    }
}

fn error(kind: &str, message: &str) -> Value {
    json!({"type": "ERROR", "channel": 0, "error": kind, "message": message})
}

impl Session {
    async fn run(mut self, mut socket: WebSocket) {
        let mut data = tokio::time::interval(self.settings.interval.max(Duration::from_millis(1)));
        data.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut fault_poll = tokio::time::interval(Duration::from_millis(25));
        let mut last_heard = Instant::now();
        let mut last_sent = Instant::now();
        loop {
            if self.faults.half_open() {
                tokio::select! {
                    () = self.cut.cancelled() => return,
                    _ = fault_poll.tick() => {}
                }
                // The link "recovers": the client is not blamed for the silence.
                last_heard = Instant::now();
                continue;
            }
            let deadline = last_heard + self.settings.keepalive_timeout;
            let keepalive_at = last_sent + self.keepalive_every;
            let mut out: Vec<Value> = Vec::new();
            tokio::select! {
                () = self.cut.cancelled() => return,
                () = tokio::time::sleep_until(deadline) => {
                    let _ = send(&mut socket, &error("TIMEOUT", "no keepalive received")).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                () = tokio::time::sleep_until(keepalive_at), if self.setup => {
                    out.push(json!({"type": "KEEPALIVE", "channel": 0}));
                }
                msg = socket.recv() => {
                    let text = match msg {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                        Some(Ok(Message::Text(t))) => t.to_string(),
                        Some(Ok(Message::Binary(_))) => String::new(),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    };
                    last_heard = Instant::now();
                    match self.handle(&text) {
                        Ok(replies) => out = replies,
                        Err(close) => {
                            let _ = socket.send(Message::Close(Some(close))).await;
                            return;
                        }
                    }
                }
                _ = data.tick(), if self.authorized => out = self.feed_data(),
                _ = fault_poll.tick() => {}
            }
            for msg in &out {
                if !send(&mut socket, msg).await {
                    return;
                }
                last_sent = Instant::now();
            }
        }
    }

    /// The replies to one client message, or the close frame ending the session.
    fn handle(&mut self, text: &str) -> Result<Vec<Value>, CloseFrame> {
        let Ok(msg) = serde_json::from_str::<Value>(text) else {
            return Ok(vec![error("INVALID_MESSAGE", "not a JSON object")]);
        };
        let kind = msg.get("type").and_then(Value::as_str).unwrap_or_default();
        let channel = msg.get("channel").and_then(Value::as_u64).unwrap_or(0);
        if !self.setup && kind != "SETUP" {
            return Ok(vec![error("INVALID_MESSAGE", "SETUP expected first")]);
        }
        Ok(match kind {
            "SETUP" => self.on_setup(&msg),
            "KEEPALIVE" => Vec::new(),
            "AUTH" => self.on_auth(&msg),
            _ if !self.authorized => vec![error("UNAUTHORIZED", "AUTH first")],
            "CHANNEL_REQUEST" => {
                let service = msg.get("service").and_then(Value::as_str);
                if channel == 0 || service != Some("FEED") {
                    vec![error("BAD_ACTION", "only FEED channels numbered from 1")]
                } else {
                    self.channels.entry(channel).or_insert_with(|| Channel {
                        fields: QUOTE_FIELDS.to_vec(),
                        symbols: Vec::new(),
                    });
                    let parameters = msg
                        .get("parameters")
                        .cloned()
                        .unwrap_or_else(|| json!({"contract": "AUTO"}));
                    vec![json!({"type": "CHANNEL_OPENED", "channel": channel,
                        "service": "FEED", "parameters": parameters})]
                }
            }
            "CHANNEL_CANCEL" => match self.channels.remove(&channel) {
                Some(_) => vec![json!({"type": "CHANNEL_CLOSED", "channel": channel})],
                None => vec![error("BAD_ACTION", "no such channel")],
            },
            "FEED_SETUP" => self.on_feed_setup(channel, &msg),
            "FEED_SUBSCRIPTION" => return self.on_subscription(channel, &msg),
            _ => vec![error("INVALID_MESSAGE", "unknown message type")],
        })
    }

    fn on_setup(&mut self, msg: &Value) -> Vec<Value> {
        self.setup = true;
        if let Some(accept) = msg.get("acceptKeepaliveTimeout").and_then(Value::as_f64) {
            if accept.is_finite() && accept > 0.0 {
                let half = Duration::from_secs_f64(accept / 2.0);
                self.keepalive_every = self.settings.keepalive_interval.min(half);
            }
        }
        let timeout = secs(self.settings.keepalive_timeout);
        vec![
            json!({"type": "SETUP", "channel": 0, "version": "1.0.2-brokerdesk-sim",
                "keepaliveTimeout": timeout, "acceptKeepaliveTimeout": timeout}),
            json!({"type": "AUTH_STATE", "channel": 0, "state":
                if self.authorized { "AUTHORIZED" } else { "UNAUTHORIZED" }}),
        ]
    }

    fn on_auth(&mut self, msg: &Value) -> Vec<Value> {
        let token = msg.get("token").and_then(Value::as_str).unwrap_or_default();
        if !self.refuse_auth && lock(&self.state.inner.tokens).quote_ok(token) {
            self.authorized = true;
            vec![
                json!({"type": "AUTH_STATE", "channel": 0, "state": "AUTHORIZED",
                "userId": "brokerdesk-sim"}),
            ]
        } else {
            self.authorized = false;
            vec![
                error("UNAUTHORIZED", "the quote token is invalid or expired"),
                json!({"type": "AUTH_STATE", "channel": 0, "state": "UNAUTHORIZED"}),
            ]
        }
    }

    fn on_feed_setup(&mut self, channel: u64, msg: &Value) -> Vec<Value> {
        let Some(ch) = self.channels.get_mut(&channel) else {
            return vec![error("BAD_ACTION", "the channel is not open")];
        };
        if let Some(asked) = msg
            .pointer("/acceptEventFields/Quote")
            .and_then(Value::as_array)
        {
            ch.fields = asked
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|f| QUOTE_FIELDS.iter().copied().find(|k| *k == f))
                .collect();
        }
        vec![json!({"type": "FEED_CONFIG", "channel": channel,
            "aggregationPeriod": secs(self.settings.interval), "dataFormat": "COMPACT",
            "eventFields": {"Quote": ch.fields}})]
    }

    fn on_subscription(&mut self, channel: u64, msg: &Value) -> Result<Vec<Value>, CloseFrame> {
        let max = self.settings.max_symbols;
        let Some(ch) = self.channels.get_mut(&channel) else {
            return Ok(vec![error("BAD_ACTION", "the channel is not open")]);
        };
        if msg.get("reset").and_then(Value::as_bool) == Some(true) {
            ch.symbols.clear();
        }
        let quotes = |key: &str| -> Vec<String> {
            msg.get(key)
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter(|s| s.get("type").and_then(Value::as_str) == Some("Quote"))
                        .filter_map(|s| s.get("symbol").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let removed = quotes("remove");
        ch.symbols.retain(|s| !removed.contains(s));
        for sym in quotes("add") {
            if !ch.symbols.contains(&sym) {
                ch.symbols.push(sym);
            }
        }
        if ch.symbols.len() > max {
            return Err(CloseFrame {
                code: 1009,
                reason: "subscription too large".into(),
            });
        }
        Ok(Vec::new())
    }

    /// One FEED_DATA per channel with subscriptions.
    fn feed_data(&mut self) -> Vec<Value> {
        self.ticks = self.ticks.wrapping_add(1);
        let now = chrono::Utc::now().timestamp_millis();
        let size = 100 * (1 + self.ticks % 5);
        let book = lock(&self.state.inner.book);
        let mut out = Vec::new();
        for (channel, ch) in &self.channels {
            if ch.symbols.is_empty() {
                continue;
            }
            let mut values = Vec::with_capacity(ch.symbols.len() * ch.fields.len());
            for sym in &ch.symbols {
                let (bid, ask) = book.quote(sym);
                for f in &ch.fields {
                    values.push(match *f {
                        "eventType" => json!("Quote"),
                        "eventSymbol" => json!(sym),
                        "eventTime" | "bidTime" | "askTime" => json!(now),
                        "sequence" | "timeNanoPart" => json!(0),
                        "bidExchangeCode" | "askExchangeCode" => json!("Q"),
                        "bidPrice" => json!(bid),
                        "askPrice" => json!(ask),
                        _ => json!(size),
                    });
                }
            }
            out.push(json!({"type": "FEED_DATA", "channel": channel,
                "data": ["Quote", values]}));
        }
        out
    }
}

/// Sends one text frame; returns false when the socket is gone.
async fn send(socket: &mut WebSocket, msg: &Value) -> bool {
    socket
        .send(Message::Text(msg.to_string().into()))
        .await
        .is_ok()
}
