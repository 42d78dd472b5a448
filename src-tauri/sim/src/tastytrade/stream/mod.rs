//! The DXLink market-data socket at `/dxlink` (the `dxlink-url` of `/api-quote-tokens`;
//! also served at `/`, so a stream URL override of the bare simulator address reaches it).
//!
//! One task owns each socket ([`Session::run`]). The client's `SETUP` is answered with the
//! server's own and `AUTH_STATE UNAUTHORIZED`; `AUTH` with a valid quote token gives
//! `AUTHORIZED` (else `ERROR UNAUTHORIZED` and `UNAUTHORIZED` again). A `CHANNEL_REQUEST`
//! for the `FEED` service opens a channel; `FEED_SETUP` is answered with `FEED_CONFIG`
//! (always `COMPACT`: the only format the simulator speaks; unknown fields are dropped
//! from the accepted lists); `FEED_SUBSCRIPTION` adds/removes/resets `Quote` and `Trade`
//! subscriptions (other event types are accepted but produce nothing, and so do the
//! [`DxLinkSettings::unknown_symbols`]: DXLink says nothing about symbols it does not
//! know). Messages before `SETUP` get `ERROR INVALID_MESSAGE`, feed messages before
//! `AUTH` get `ERROR UNAUTHORIZED`, bad channel actions `ERROR BAD_ACTION`, a `SETUP`
//! version whose protocol is not `0.1` `ERROR UNSUPPORTED_PROTOCOL` and the close.
//!
//! Data: every `interval` each channel gets one `FEED_DATA` per event type with the
//! subscribed symbols' events concatenated (`["Quote",[v1,v2,…]]`, values in the accepted
//! field order, fresh from the book). With [`DxLinkSettings::rate`] the frames are instead
//! pre-encoded (`batch` events each, cycling through the subscriptions) and paced to that
//! many events per second; with [`DxLinkSettings::burst`] they go out back to back with no
//! pacing at all (hundreds of thousands of events per second on a laptop).
//!
//! Keepalive: the server announces `keepaliveTimeout` = the smaller of its own
//! [`DxLinkSettings::keepalive_timeout`] and the client's `acceptKeepaliveTimeout`; when the
//! client sends nothing for that long it sends `ERROR TIMEOUT` and closes. It sends
//! `KEEPALIVE` every `keepalive_interval` (or half the client's `keepaliveTimeout`, if
//! shorter) when it has sent nothing else. More than `max_symbols` subscriptions close the
//! socket with code 1009, as DXLink does.
//!
//! Token life: a quote token lasts 24 h ([`SimState::set_quote_token_ttl`] shortens it);
//! when the token of an authorized session expires (or
//! [`SimState::expire_quote_tokens`] is called) the session gets `ERROR UNAUTHORIZED` and
//! `AUTH_STATE UNAUTHORIZED` and its data stops until a new `AUTH`.
//!
//! Faults: [`Faults::stream_cut`] drops the socket without a close frame; while
//! [`Faults::half_open`] the session neither reads nor writes (the TCP link stays up);
//! [`Fault::Garbage`] set while streaming adds a frame of garbage before every data round;
//! [`Fault::RefuseAuth`] at the upgrade (or [`DxLinkSettings::refuse_auth`]) refuses every
//! `AUTH`. [`SimState::inject_dxlink`] sends any raw text frame to every open session.
//!
//! [`SimState::set_quote_token_ttl`]: super::SimState::set_quote_token_ttl
//! [`SimState::expire_quote_tokens`]: super::SimState::expire_quote_tokens
//! [`SimState::inject_dxlink`]: super::SimState::inject_dxlink

mod messages;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::messages::{encode, error, secs, Ev, EvKind, QUOTE_FIELDS, TRADE_FIELDS};
use super::{lock, SimState};
use crate::faults::{Fault, Faults, RefuseAuth};

/// What the garbage fault sends (the REST garbage body).
const GARBAGE: &str = "<html>\u{0}\u{1}not json at all";
/// Pre-encoded frame variants per event type (prices and sizes differ between them).
const VARIANTS: usize = 16;
/// Frames per burst round before the socket is polled again.
const BURST_CHUNK: usize = 32;
/// The most frames one pacing tick sends (a slow reader makes the pace lag, not balloon).
const PACE_CAP: u64 = 4096;

/// How the DXLink socket behaves; change it with [`SimState::set_dxlink`](super::SimState::set_dxlink)
/// (read when a connection opens).
#[derive(Debug, Clone, PartialEq)]
pub struct DxLinkSettings {
    /// Time between FEED_DATA rounds (the aggregation period) when no `rate` is set.
    pub interval: Duration,
    /// The longest the server waits for a client message (capped by the client's
    /// `acceptKeepaliveTimeout`).
    pub keepalive_timeout: Duration,
    /// How often the server sends KEEPALIVE when idle.
    pub keepalive_interval: Duration,
    /// Most subscriptions (type + symbol) one socket may hold.
    pub max_symbols: usize,
    /// Events per second over pre-encoded frames of `batch` events, instead of fresh frames
    /// every `interval`.
    pub rate: Option<u64>,
    /// Events per FEED_DATA frame with `rate` or `burst`.
    pub batch: usize,
    /// Pre-encoded frames of `batch` events back to back, as fast as the socket takes them.
    pub burst: bool,
    /// Refuse every AUTH (ERROR UNAUTHORIZED) while REST still hands out quote tokens.
    pub refuse_auth: bool,
    /// Symbols DXLink does not know: subscriptions succeed and never produce data.
    pub unknown_symbols: Vec<String>,
}

impl Default for DxLinkSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(100),
            keepalive_timeout: Duration::from_secs(60),
            keepalive_interval: Duration::from_secs(30),
            max_symbols: 1000,
            rate: None,
            batch: 100,
            burst: false,
            refuse_auth: false,
            unknown_symbols: Vec::new(),
        }
    }
}

impl DxLinkSettings {
    /// The defaults, changed by the environment (for `brokerdesk-sim tastytrade`):
    /// `BROKERDESK_SIM_DXLINK_RATE` (events per second), `BROKERDESK_SIM_DXLINK_BATCH`
    /// (events per frame), `BROKERDESK_SIM_DXLINK_BURST=1` (no pacing) and
    /// `BROKERDESK_SIM_DXLINK_INTERVAL_MS`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let num = |k: &str| var(k).and_then(|v| v.trim().parse::<u64>().ok());
        let mut s = Self::default();
        if let Some(ms) = num("BROKERDESK_SIM_DXLINK_INTERVAL_MS") {
            s.interval = Duration::from_millis(ms.max(1));
        }
        s.rate = num("BROKERDESK_SIM_DXLINK_RATE").filter(|r| *r > 0);
        if let Some(b) = num("BROKERDESK_SIM_DXLINK_BATCH") {
            s.batch = usize::try_from(b).unwrap_or(usize::MAX).max(1);
        }
        s.burst = var("BROKERDESK_SIM_DXLINK_BURST").is_some_and(|v| v != "0");
        s
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
    let inject = state.inner.dxlink_inject.subscribe();
    let session = Session {
        faults: state.faults().clone(),
        refuse_auth: refuse.is_some() || settings.refuse_auth,
        cut,
        inject,
        keepalive_every: settings.keepalive_interval,
        server_timeout: settings.keepalive_timeout,
        state,
        settings,
        setup: false,
        unsupported: false,
        token: None,
        channels: BTreeMap::new(),
        ticks: 0,
        frames: Vec::new(),
        frames_dirty: true,
        next_frame: 0,
    };
    ws.on_upgrade(move |socket| session.run(socket))
}

#[derive(Debug)]
struct Sub {
    kind: EvKind,
    symbol: String,
    /// The symbol as a JSON string, quotes included.
    json: String,
}

#[derive(Debug)]
struct Channel {
    quote_fields: Vec<&'static str>,
    trade_fields: Vec<&'static str>,
    subs: Vec<Sub>,
}

impl Channel {
    fn fields(&self, kind: EvKind) -> &[&'static str] {
        match kind {
            EvKind::Quote => &self.quote_fields,
            EvKind::Trade => &self.trade_fields,
        }
    }
}

struct Session {
    state: SimState,
    faults: Arc<Faults>,
    refuse_auth: bool,
    cut: CancellationToken,
    inject: broadcast::Receiver<Arc<str>>,
    settings: DxLinkSettings,
    keepalive_every: Duration,
    /// What the server announced as its keepaliveTimeout.
    server_timeout: Duration,
    setup: bool,
    /// The client's SETUP named a protocol version this server does not speak.
    unsupported: bool,
    /// The quote token of an authorized session.
    token: Option<String>,
    channels: BTreeMap<u64, Channel>,
    ticks: u64,
    /// Pre-encoded FEED_DATA frames (rate / burst modes).
    frames: Vec<Utf8Bytes>,
    frames_dirty: bool,
    next_frame: usize,
}

impl Session {
    fn authorized(&self) -> bool {
        self.token.is_some()
    }

    fn streaming(&self) -> bool {
        self.authorized() && self.channels.values().any(|c| !c.subs.is_empty())
    }

    fn bulk(&self) -> bool {
        self.settings.burst || self.settings.rate.is_some()
    }

    async fn run(mut self, mut socket: WebSocket) {
        let mut data = tokio::time::interval(self.settings.interval.max(Duration::from_millis(1)));
        data.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut pace = tokio::time::interval(Duration::from_millis(1));
        pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut fault_poll = tokio::time::interval(Duration::from_millis(25));
        let mut last_heard = Instant::now();
        let mut last_sent = Instant::now();
        // Pacing: frames sent since `pace_start`.
        let mut pace_start = Instant::now();
        let mut paced: u64 = 0;
        loop {
            if self.faults.half_open() {
                tokio::select! {
                    () = self.cut.cancelled() => return,
                    _ = fault_poll.tick() => {}
                }
                // The link "recovers": the client is not blamed for the silence.
                last_heard = Instant::now();
                pace_start = Instant::now();
                paced = 0;
                continue;
            }
            let deadline = last_heard + self.server_timeout;
            let keepalive_at = last_sent + self.keepalive_every;
            let streaming = self.streaming();
            let live = streaming && !self.bulk();
            let paced_mode = streaming && self.settings.rate.is_some() && !self.settings.burst;
            let burst = streaming && self.settings.burst;
            let mut out: Vec<Value> = Vec::new();
            tokio::select! {
                biased;
                () = self.cut.cancelled() => return,
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
                    if self.frames_dirty {
                        pace_start = Instant::now();
                        paced = 0;
                    }
                }
                raw = self.inject.recv() => {
                    if let Ok(raw) = raw {
                        if socket.send(Message::Text(raw.as_ref().into())).await.is_err() {
                            return;
                        }
                        last_sent = Instant::now();
                    }
                    continue;
                }
                () = tokio::time::sleep_until(deadline) => {
                    let _ = send(&mut socket, &error("TIMEOUT", "no keepalive received")).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                () = tokio::time::sleep_until(keepalive_at), if self.setup => {
                    out.push(json!({"type": "KEEPALIVE", "channel": 0}));
                }
                _ = data.tick(), if live => {
                    if !self.garbage(&mut socket).await {
                        return;
                    }
                    for frame in self.feed_data() {
                        if socket.send(Message::Text(frame.into())).await.is_err() {
                            return;
                        }
                    }
                    last_sent = Instant::now();
                    continue;
                }
                _ = pace.tick(), if paced_mode => {
                    let rate = self.settings.rate.unwrap_or(1) as f64;
                    let fps = rate / self.settings.batch.max(1) as f64;
                    let due = (pace_start.elapsed().as_secs_f64() * fps) as u64;
                    let n = due.saturating_sub(paced).min(PACE_CAP);
                    if n > 0 {
                        if !self.garbage(&mut socket).await || !self.send_frames(&mut socket, n).await {
                            return;
                        }
                        paced += n;
                        last_sent = Instant::now();
                    }
                    continue;
                }
                _ = fault_poll.tick() => {
                    out = self.check_token();
                }
                () = std::future::ready(()), if burst => {
                    if !self.garbage(&mut socket).await
                        || !self.send_frames(&mut socket, BURST_CHUNK as u64).await
                    {
                        return;
                    }
                    last_sent = Instant::now();
                    continue;
                }
            }
            for msg in &out {
                if !send(&mut socket, msg).await {
                    return;
                }
                last_sent = Instant::now();
            }
            if self.unsupported {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
    }

    /// Sends a garbage frame while the garbage fault is on; false when the socket is gone.
    async fn garbage(&self, socket: &mut WebSocket) -> bool {
        if self.faults.current() != Some(Fault::Garbage) {
            return true;
        }
        socket
            .send(Message::Text(Utf8Bytes::from_static(GARBAGE)))
            .await
            .is_ok()
    }

    /// Sends `n` pre-encoded frames (re-encoded first if the subscriptions changed) with one
    /// flush; false when the socket is gone.
    async fn send_frames(&mut self, socket: &mut WebSocket, n: u64) -> bool {
        if self.frames_dirty {
            self.frames = self.encode_frames();
            self.frames_dirty = false;
            self.next_frame = 0;
        }
        if self.frames.is_empty() {
            return true;
        }
        for _ in 0..n {
            let frame = self.frames[self.next_frame % self.frames.len()].clone();
            self.next_frame = self.next_frame.wrapping_add(1);
            if socket.feed(Message::Text(frame)).await.is_err() {
                return false;
            }
        }
        socket.flush().await.is_ok()
    }

    /// De-authorizes the session once its quote token expired.
    fn check_token(&mut self) -> Vec<Value> {
        let Some(token) = &self.token else {
            return Vec::new();
        };
        if lock(&self.state.inner.tokens).quote_ok(token) {
            return Vec::new();
        }
        self.token = None;
        vec![
            error("UNAUTHORIZED", "the quote token has expired"),
            json!({"type": "AUTH_STATE", "channel": 0, "state": "UNAUTHORIZED"}),
        ]
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
            "SETUP" => return self.on_setup(&msg),
            "KEEPALIVE" => Vec::new(),
            "AUTH" => self.on_auth(&msg),
            _ if !self.authorized() => vec![error("UNAUTHORIZED", "AUTH first")],
            "CHANNEL_REQUEST" => {
                let service = msg.get("service").and_then(Value::as_str);
                if channel == 0 || service != Some("FEED") {
                    vec![error("BAD_ACTION", "only FEED channels numbered from 1")]
                } else {
                    self.channels.entry(channel).or_insert_with(|| Channel {
                        quote_fields: QUOTE_FIELDS.to_vec(),
                        trade_fields: TRADE_FIELDS.to_vec(),
                        subs: Vec::new(),
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
                Some(_) => {
                    self.frames_dirty = true;
                    vec![json!({"type": "CHANNEL_CLOSED", "channel": channel})]
                }
                None => vec![error("BAD_ACTION", "no such channel")],
            },
            "FEED_SETUP" => self.on_feed_setup(channel, &msg),
            "FEED_SUBSCRIPTION" => return self.on_subscription(channel, &msg),
            _ => vec![error("INVALID_MESSAGE", "unknown message type")],
        })
    }

    fn on_setup(&mut self, msg: &Value) -> Result<Vec<Value>, CloseFrame> {
        // `<protocol>-<client>`: this server speaks protocol 0.1 only.
        let version = msg.get("version").and_then(Value::as_str);
        if version.is_some_and(|v| v.split('-').next() != Some("0.1")) {
            self.unsupported = true;
            return Ok(vec![error(
                "UNSUPPORTED_PROTOCOL",
                "only protocol version 0.1 is supported",
            )]);
        }
        self.setup = true;
        let positive = |k: &str| {
            msg.get(k)
                .and_then(Value::as_f64)
                .filter(|s| s.is_finite() && *s > 0.0)
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
        };
        // The client waits this long for us: keep alive at half of it.
        if let Some(client) = positive("keepaliveTimeout").or(positive("acceptKeepaliveTimeout")) {
            self.keepalive_every = self.settings.keepalive_interval.min(client / 2);
        }
        // We wait at most what the client accepts.
        self.server_timeout = match positive("acceptKeepaliveTimeout") {
            Some(accept) => self.settings.keepalive_timeout.min(accept),
            None => self.settings.keepalive_timeout,
        };
        let timeout = secs(self.server_timeout);
        Ok(vec![
            json!({"type": "SETUP", "channel": 0, "version": "1.0.2-brokerdesk-sim",
                "keepaliveTimeout": timeout, "acceptKeepaliveTimeout": timeout}),
            json!({"type": "AUTH_STATE", "channel": 0, "state":
                if self.authorized() { "AUTHORIZED" } else { "UNAUTHORIZED" }}),
        ])
    }

    fn on_auth(&mut self, msg: &Value) -> Vec<Value> {
        let token = msg.get("token").and_then(Value::as_str).unwrap_or_default();
        if !self.refuse_auth && lock(&self.state.inner.tokens).quote_ok(token) {
            self.token = Some(token.to_string());
            vec![
                json!({"type": "AUTH_STATE", "channel": 0, "state": "AUTHORIZED",
                "userId": "brokerdesk-sim"}),
            ]
        } else {
            self.token = None;
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
        let accepted = |kind: &str, known: &[&'static str]| -> Option<Vec<&'static str>> {
            let asked = msg.get("acceptEventFields")?.get(kind)?.as_array()?;
            Some(
                asked
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(|f| known.iter().copied().find(|k| *k == f))
                    .collect(),
            )
        };
        if let Some(f) = accepted("Quote", &QUOTE_FIELDS) {
            ch.quote_fields = f;
        }
        if let Some(f) = accepted("Trade", &TRADE_FIELDS) {
            ch.trade_fields = f;
        }
        self.frames_dirty = true;
        vec![json!({"type": "FEED_CONFIG", "channel": channel,
            "aggregationPeriod": secs(self.settings.interval), "dataFormat": "COMPACT",
            "eventFields": {"Quote": ch.quote_fields, "Trade": ch.trade_fields}})]
    }

    fn on_subscription(&mut self, channel: u64, msg: &Value) -> Result<Vec<Value>, CloseFrame> {
        let max = self.settings.max_symbols;
        let Some(ch) = self.channels.get_mut(&channel) else {
            return Ok(vec![error("BAD_ACTION", "the channel is not open")]);
        };
        if msg.get("reset").and_then(Value::as_bool) == Some(true) {
            ch.subs.clear();
        }
        let entries = |key: &str| -> Vec<(EvKind, String)> {
            msg.get(key)
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|s| {
                            let kind = EvKind::of(s.get("type")?.as_str()?)?;
                            Some((kind, s.get("symbol")?.as_str()?.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let removed = entries("remove");
        ch.subs.retain(|s| {
            !removed
                .iter()
                .any(|(k, sym)| *k == s.kind && *sym == s.symbol)
        });
        for (kind, symbol) in entries("add") {
            if !ch.subs.iter().any(|s| s.kind == kind && s.symbol == symbol) {
                let json = Value::String(symbol.clone()).to_string();
                ch.subs.push(Sub { kind, symbol, json });
            }
        }
        self.frames_dirty = true;
        if ch.subs.len() > max {
            return Err(CloseFrame {
                code: 1009,
                reason: "subscription too large".into(),
            });
        }
        Ok(Vec::new())
    }

    /// The subscriptions of `ch` of `kind` that produce data.
    fn known<'a>(&'a self, ch: &'a Channel, kind: EvKind) -> impl Iterator<Item = &'a Sub> + 'a {
        ch.subs
            .iter()
            .filter(move |s| s.kind == kind && !self.settings.unknown_symbols.contains(&s.symbol))
    }

    /// One live FEED_DATA per channel and event type with subscriptions, fresh from the book.
    fn feed_data(&mut self) -> Vec<String> {
        self.ticks = self.ticks.wrapping_add(1);
        let now = chrono::Utc::now().timestamp_millis();
        let quote_size = (100 * (1 + self.ticks % 5)) as f64;
        let trade_size = (10 * (1 + self.ticks % 7)) as f64;
        let book = lock(&self.state.inner.book);
        let mut out = Vec::new();
        for (channel, ch) in &self.channels {
            for kind in [EvKind::Quote, EvKind::Trade] {
                let events: Vec<Ev<'_>> = self
                    .known(ch, kind)
                    .map(|s| {
                        let (bid, ask) = book.quote(&s.symbol);
                        Ev {
                            symbol_json: &s.json,
                            bid,
                            ask,
                            bid_size: quote_size,
                            ask_size: quote_size,
                            price: book.price(&s.symbol),
                            size: trade_size,
                            time: now,
                            volume: (1000 + self.ticks) as f64,
                        }
                    })
                    .collect();
                if !events.is_empty() {
                    out.push(encode(*channel, kind, ch.fields(kind), &events));
                }
            }
        }
        out
    }

    /// The pre-encoded frames: per channel and event type, [`VARIANTS`] frames of `batch`
    /// events cycling through the subscriptions.
    fn encode_frames(&self) -> Vec<Utf8Bytes> {
        let now = chrono::Utc::now().timestamp_millis();
        let batch = self.settings.batch.max(1);
        let book = lock(&self.state.inner.book);
        let mut frames = Vec::new();
        for (channel, ch) in &self.channels {
            for kind in [EvKind::Quote, EvKind::Trade] {
                let subs: Vec<&Sub> = self.known(ch, kind).collect();
                if subs.is_empty() {
                    continue;
                }
                let base: Vec<(f64, f64, f64)> = subs
                    .iter()
                    .map(|s| {
                        let (bid, ask) = book.quote(&s.symbol);
                        (bid, ask, book.price(&s.symbol))
                    })
                    .collect();
                for v in 0..VARIANTS {
                    let step = v as f64 * 0.01;
                    let events: Vec<Ev<'_>> = (0..batch)
                        .map(|i| {
                            let k = (v * batch + i) % subs.len();
                            let (bid, ask, price) = base[k];
                            Ev {
                                symbol_json: &subs[k].json,
                                bid: bid + step,
                                ask: ask + step,
                                bid_size: (100 * (1 + v % 5)) as f64,
                                ask_size: (100 * (1 + (v + 2) % 5)) as f64,
                                price: price + step,
                                size: (10 * (1 + v % 7)) as f64,
                                time: now + v as i64,
                                volume: (1000 + v) as f64,
                            }
                        })
                        .collect();
                    frames.push(encode(*channel, kind, ch.fields(kind), &events).into());
                }
            }
        }
        frames
    }
}

/// Sends one text frame; returns false when the socket is gone.
async fn send(socket: &mut WebSocket, msg: &Value) -> bool {
    socket
        .send(Message::Text(msg.to_string().into()))
        .await
        .is_ok()
}
