//! Tradier's market WebSocket (`wss://ws.tradier.com/v1/markets/events`, `PROTOCOLS.md` §3)
//! as a [`QuoteStream`].
//!
//! Opening takes a streaming session (`POST /v1/markets/events/session`, bearer auth; see
//! [`super::Tradier::stream_session`]), connects the WebSocket (no headers: the session id
//! carries the auth) and sends the payload `{"symbols":[…],"sessionid":…,"filter":["trade",
//! "quote"],"linebreak":true,…}`. Changing the subscription resends the payload with the full
//! symbol list; Tradier wants at least one symbol, so an empty list travels as the
//! placeholder [`EMPTY_PLACEHOLDER`] (QuantConnect's trick), whose "not a valid symbol" answer
//! is swallowed.
//!
//! Frames carry one or several JSON messages, separated by line breaks (`linebreak: true`) or
//! simply concatenated; [`parse_frame`] reads them all:
//! - `quote` → a [`Tick`] with bid/ask, their sizes and the later of `biddate`/`askdate`;
//! - `trade`, `tradex` → a tick with the last price and size;
//! - `timesale` → bid, ask and last (last left out for a cancel or a correction);
//! - `summary` (open/high/low/prevClose) and unknown types → [`StreamEvent::Heartbeat`];
//! - `{"error":"X is not a valid symbol"}` → a [`StreamEvent::Notice`] (`invalid_symbol`) naming
//!   the instrument as the user spelled it; any other error that is not about the session →
//!   a notice (`broker_error`);
//! - an error about the session (`session not found`, `invalid session`, expired): the
//!   session is gone and the stream ends with a retryable [`BrokerError::Network`], so the
//!   owner opens a new stream (and with it a new session). A brand-new sandbox session refused
//!   before anything else arrived is Tradier's sandbox having no market streaming: that is
//!   [`BrokerError::Rejected`] (`stream_unavailable`), not worth retrying.
//!
//! Malformed messages are logged (`warn`) and skipped; messages for symbols no longer
//! subscribed (in flight during a resubscription) are dropped. Tradier documents no heartbeat,
//! so [`WsConn`] pings after `ping_every` of silence and the pong is a heartbeat:
//! [`QuoteStream::silence_limit`] is two ping intervals.
//!
//! The session id never appears in an error, a log line, a notice or `Debug` output.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;

use super::StreamSession;
use crate::brokers::wire::lenient_decimal;
use crate::brokers::ws::{WsConn, WsFrame, WsOptions};
use crate::brokers::BrokerError;
use crate::money::Decimal;
use crate::stream::{time_from_millis, NoticeCode, QuoteStream, StreamEvent, Tick};

/// What an empty subscription is sent as (Tradier expects at least one symbol).
pub const EMPTY_PLACEHOLDER: &str = "$empty$";

/// The longest broker error text a [`StreamEvent::Notice`] carries.
const MAX_NOTICE: usize = 300;

/// Tradier's spelling of an instrument: trimmed and upper-case (`spy` → `SPY`).
pub fn tradier_symbol(instrument: &str) -> String {
    instrument.trim().to_ascii_uppercase()
}

/// The instruments a stream is subscribed to: each Tradier symbol and the spellings the user
/// subscribed with (usually one), so ticks carry exactly the user's instrument.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscriptions {
    /// Tradier symbols in subscription order (the payload's list).
    order: Vec<String>,
    by_symbol: HashMap<String, Vec<String>>,
}

impl Subscriptions {
    pub fn new(instruments: &[String]) -> Self {
        let mut s = Self::default();
        for i in instruments {
            s.add(i);
        }
        s
    }

    /// Adds an instrument; `true` when Tradier's symbol list changed.
    pub fn add(&mut self, instrument: &str) -> bool {
        let symbol = tradier_symbol(instrument);
        if symbol.is_empty() {
            return false;
        }
        match self.by_symbol.get_mut(&symbol) {
            Some(names) => {
                if !names.iter().any(|n| n == instrument) {
                    names.push(instrument.to_string());
                }
                false
            }
            None => {
                self.order.push(symbol.clone());
                self.by_symbol.insert(symbol, vec![instrument.to_string()]);
                true
            }
        }
    }

    /// Removes an instrument; `true` when Tradier's symbol list changed.
    pub fn remove(&mut self, instrument: &str) -> bool {
        let symbol = tradier_symbol(instrument);
        let Some(names) = self.by_symbol.get_mut(&symbol) else {
            return false;
        };
        names.retain(|n| n != instrument);
        if !names.is_empty() {
            return false;
        }
        self.by_symbol.remove(&symbol);
        self.order.retain(|s| *s != symbol);
        true
    }

    /// Tradier's symbols, in subscription order.
    pub fn symbols(&self) -> &[String] {
        &self.order
    }

    /// The user's spellings of a Tradier symbol (empty when not subscribed).
    pub fn instruments(&self, symbol: &str) -> &[String] {
        self.by_symbol.get(symbol).map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The payload's symbol list: the symbols, or the placeholder when there are none.
    fn payload_symbols(&self) -> Vec<&str> {
        if self.order.is_empty() {
            vec![EMPTY_PLACEHOLDER]
        } else {
            self.order.iter().map(String::as_str).collect()
        }
    }
}

/// What [`parse_frame`] read from one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameSummary {
    /// Tradier messages understood (ticks, summaries, errors…), skipped ones not counted.
    pub messages: usize,
    /// Of the events appended, how many are notices.
    pub notices: usize,
}

/// The error that ends a stream when Tradier says its session is gone.
pub fn session_ended() -> BrokerError {
    BrokerError::Network(
        "Tradier ended the streaming session (expired or unknown); a new one is needed".into(),
    )
}

/// Parses one WebSocket frame of Tradier's market stream and appends its events to `out`.
///
/// Pure and synchronous (no I/O, no clock: `received_at` stamps the ticks), so it can be
/// fuzzed directly. The frame holds one or several JSON messages separated by line breaks
/// (`\n` or `\r\n`) or concatenated. Ticks are emitted only for symbols in `subs`, once per
/// spelling the user subscribed with. A malformed message is logged and skipped (the rest of
/// its line too); it never ends the stream. Never panics.
///
/// # Errors
///
/// [`session_ended`] when Tradier reports the session expired or unknown; events parsed from
/// the frame before that message stay in `out`.
pub fn parse_frame(
    frame: &str,
    subs: &Subscriptions,
    received_at: DateTime<Utc>,
    out: &mut Vec<StreamEvent>,
) -> Result<FrameSummary, BrokerError> {
    let mut summary = FrameSummary::default();
    for line in frame.split('\n') {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let messages = serde_json::Deserializer::from_str(line).into_iter::<Message<'_>>();
        for message in messages {
            match message {
                Ok(m) => handle(m, subs, received_at, out, &mut summary)?,
                Err(e) => {
                    tracing::warn!(error = %e, len = line.len(), "skipping a malformed Tradier stream message");
                    break;
                }
            }
        }
    }
    Ok(summary)
}

fn handle(
    m: Message<'_>,
    subs: &Subscriptions,
    received_at: DateTime<Utc>,
    out: &mut Vec<StreamEvent>,
    summary: &mut FrameSummary,
) -> Result<(), BrokerError> {
    if let Some(error) = m.error {
        return error_message(&error.text(), subs, out, summary);
    }
    let Some(kind) = m.kind else {
        tracing::warn!("skipping a Tradier stream message with neither type nor error");
        return Ok(());
    };
    let base = match kind {
        Kind::Quote => Tick {
            bid: m.bid.0,
            ask: m.ask.0,
            bid_size: m.bidsz.0,
            ask_size: m.asksz.0,
            exchange_time: later(m.biddate.0, m.askdate.0),
            ..empty_tick(received_at)
        },
        Kind::Trade | Kind::Tradex => Tick {
            last: m.price.0.or(m.last.0),
            last_size: m.size.0,
            exchange_time: m.date.0,
            ..empty_tick(received_at)
        },
        Kind::Timesale => {
            let void = m.cancel.0 || m.correction.0;
            Tick {
                bid: m.bid.0,
                ask: m.ask.0,
                last: m.last.0.or(m.price.0).filter(|_| !void),
                last_size: m.size.0.filter(|_| !void),
                exchange_time: m.date.0,
                ..empty_tick(received_at)
            }
        }
        Kind::Summary | Kind::Other => {
            summary.messages += 1;
            out.push(StreamEvent::Heartbeat);
            return Ok(());
        }
    };
    let Some(symbol) = m.symbol else {
        tracing::warn!("skipping a Tradier stream message without a symbol");
        return Ok(());
    };
    summary.messages += 1;
    // In flight during a resubscription, or never asked for: dropped.
    let names = subs.instruments(&symbol);
    if let [rest @ .., last] = names {
        for name in rest {
            out.push(StreamEvent::Tick(Tick {
                instrument: name.clone(),
                ..base.clone()
            }));
        }
        out.push(StreamEvent::Tick(Tick {
            instrument: last.clone(),
            ..base
        }));
    }
    Ok(())
}

fn empty_tick(received_at: DateTime<Utc>) -> Tick {
    Tick::new(String::new(), received_at)
}

fn later(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// `{"error":…}`: a refused symbol, a dead session, or something else.
fn error_message(
    text: &str,
    subs: &Subscriptions,
    out: &mut Vec<StreamEvent>,
    summary: &mut FrameSummary,
) -> Result<(), BrokerError> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if lower.contains("session") {
        return Err(session_ended());
    }
    summary.messages += 1;
    let message: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NOTICE)
        .collect();
    if let Some(symbol) = lower
        .strip_suffix(" is not a valid symbol")
        .map(|s| &text[..s.len()])
    {
        let symbol = symbol.trim();
        if symbol == EMPTY_PLACEHOLDER {
            return Ok(());
        }
        let names = subs.instruments(&tradier_symbol(symbol));
        let named: Vec<Option<String>> = if names.is_empty() {
            vec![Some(symbol.chars().take(MAX_NOTICE).collect())]
        } else {
            names.iter().cloned().map(Some).collect()
        };
        for instrument in named {
            summary.notices += 1;
            out.push(StreamEvent::notice(
                instrument,
                NoticeCode::InvalidSymbol,
                message.clone(),
            ));
        }
        return Ok(());
    }
    summary.notices += 1;
    out.push(StreamEvent::Notice {
        instrument: None,
        code: NoticeCode::Broker,
        broker_code: None,
        message: if message.is_empty() {
            "Tradier reported an unspecified stream error".into()
        } else {
            message
        },
    });
    Ok(())
}

/// One message, with every field Brokerdesk reads; the rest are skipped unparsed.
#[derive(Deserialize)]
struct Message<'a> {
    #[serde(rename = "type", default)]
    kind: Option<Kind>,
    #[serde(borrow, default)]
    symbol: Option<Cow<'a, str>>,
    #[serde(default)]
    bid: Num,
    #[serde(default)]
    ask: Num,
    #[serde(default)]
    bidsz: Num,
    #[serde(default)]
    asksz: Num,
    #[serde(default)]
    biddate: Millis,
    #[serde(default)]
    askdate: Millis,
    #[serde(default)]
    price: Num,
    #[serde(default)]
    last: Num,
    #[serde(default)]
    size: Num,
    #[serde(default)]
    date: Millis,
    #[serde(default)]
    cancel: Flag,
    #[serde(default)]
    correction: Flag,
    #[serde(borrow, default)]
    error: Option<ErrorText<'a>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Quote,
    Trade,
    Tradex,
    Timesale,
    Summary,
    #[serde(other)]
    Other,
}

/// The `error` value: a string, or (unexpectedly) anything else.
#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorText<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Other(IgnoredAny),
}

impl ErrorText<'_> {
    fn text(&self) -> Cow<'_, str> {
        match self {
            ErrorText::Text(t) => Cow::Borrowed(t.as_ref()),
            ErrorText::Other(_) => Cow::Borrowed(""),
        }
    }
}

/// A price or size sent as a JSON number or a string (`"281.1"`), read from its text
/// (exact, borrowed from the frame); `null`, `""` and non-numbers are absent.
#[derive(Default, Clone, Copy)]
struct Num(Option<Decimal>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_decimal(d).map(Num)
    }
}

/// A time in epoch milliseconds, as a number or a string (`"1557757189000"`).
#[derive(Default, Clone, Copy)]
struct Millis(Option<DateTime<Utc>>);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Lenient(|v: Scalar<'_>| {
            let ms = match v {
                Scalar::I64(i) => i,
                Scalar::U64(u) => i64::try_from(u).ok()?,
                Scalar::F64(f) if f.is_finite() && f.abs() < 1e17 => f as i64,
                Scalar::Str(s) => s.trim().parse::<i64>().ok()?,
                _ => return None,
            };
            // 0 is "no time" in Tradier's data.
            if ms <= 0 {
                return None;
            }
            time_from_millis(ms)
        }))
        .map(Millis)
    }
}

/// A boolean, as `true`/`false` or `"true"`/`"false"`; anything else is false.
#[derive(Default, Clone, Copy)]
struct Flag(bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Lenient(|v: Scalar<'_>| match v {
            Scalar::Bool(b) => Some(b),
            Scalar::Str(s) => Some(s.trim().eq_ignore_ascii_case("true")),
            _ => None,
        }))
        .map(|v| Flag(v.unwrap_or(false)))
    }
}

/// A JSON scalar as seen by a lenient field (times and flags; prices are [`Num`]s, read
/// from their text).
enum Scalar<'s> {
    /// A float: only ever a time in milliseconds (`1.5577571890e12`), never a price.
    F64(f64),
    I64(i64),
    U64(u64),
    Str(&'s str),
    Bool(bool),
    None,
}

/// A visitor that maps any scalar through a function and ignores arrays and objects.
struct Lenient<F>(F);

impl<'de, T, F: FnOnce(Scalar<'_>) -> Option<T>> Visitor<'de> for Lenient<F> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a string or null")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok((self.0)(Scalar::F64(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok((self.0)(Scalar::I64(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok((self.0)(Scalar::U64(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok((self.0)(Scalar::Str(v)))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok((self.0)(Scalar::Bool(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok((self.0)(Scalar::None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok((self.0)(Scalar::None))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// An open Tradier market stream. Built by [`super::Tradier::open_stream`].
pub struct TradierStream {
    conn: WsConn,
    session: StreamSession,
    subs: Subscriptions,
    silence: Duration,
    /// A sandbox account (whose sessions the market WebSocket refuses).
    sandbox: bool,
    /// Whether Tradier has sent anything on this session yet.
    heard: bool,
}

impl fmt::Debug for TradierStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TradierStream")
            .field("symbols", &self.subs.symbols())
            .field("silence", &self.silence)
            .finish_non_exhaustive()
    }
}

impl TradierStream {
    /// Connects the market WebSocket at `url` with a fresh `session` and subscribes to
    /// `instruments` (the placeholder when there are none, so the session is put to use).
    /// `opts.ping_every` sets the silence limit (two pings). `sandbox` marks a sandbox
    /// account, for the mapping of an immediately refused session.
    pub async fn connect(
        url: &str,
        session: StreamSession,
        instruments: &[String],
        opts: &WsOptions,
        sandbox: bool,
    ) -> Result<Self, BrokerError> {
        let conn = WsConn::connect(url, opts).await?;
        let mut stream = Self {
            conn,
            session,
            subs: Subscriptions::new(instruments),
            silence: opts
                .ping_every
                .max(Duration::from_millis(10))
                .saturating_mul(2),
            sandbox,
            heard: false,
        };
        stream.send_payload().await?;
        Ok(stream)
    }

    /// The current subscriptions.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.subs
    }

    async fn send_payload(&mut self) -> Result<(), BrokerError> {
        let payload = self.session.payload(&self.subs.payload_symbols());
        self.conn.send_text(payload).await
    }

    fn parse(&mut self, text: &str, out: &mut Vec<StreamEvent>) -> Result<(), BrokerError> {
        let start = out.len();
        let parsed = parse_frame(text, &self.subs, Utc::now(), out);
        let summary = match parsed {
            Ok(s) => s,
            Err(e) => {
                self.scrub(&mut out[start..]);
                if !self.heard && self.sandbox {
                    return Err(BrokerError::Rejected {
                        status: 0,
                        code: "stream_unavailable".into(),
                        message: "Tradier's market WebSocket refused the new streaming session; \
                                  the sandbox has no market streaming (use a production token)"
                            .into(),
                    });
                }
                return Err(e);
            }
        };
        if summary.messages > 0 {
            self.heard = true;
        }
        if summary.notices > 0 {
            self.scrub(&mut out[start..]);
        }
        Ok(())
    }

    /// Removes the session id from notices, should Tradier ever echo it.
    fn scrub(&self, events: &mut [StreamEvent]) {
        let secret = self.session.session_id.expose();
        if secret.is_empty() {
            return;
        }
        for e in events {
            if let StreamEvent::Notice {
                instrument,
                message,
                ..
            } = e
            {
                if message.contains(secret) {
                    *message = message.replace(secret, "[redacted]");
                }
                if let Some(i) = instrument.as_mut().filter(|i| i.contains(secret)) {
                    *i = i.replace(secret, "[redacted]");
                }
            }
        }
    }
}

#[async_trait]
impl QuoteStream for TradierStream {
    async fn read(&mut self, out: &mut Vec<StreamEvent>) -> Result<bool, BrokerError> {
        match self.conn.next().await? {
            None => Ok(false),
            Some(WsFrame::Pong) => {
                out.push(StreamEvent::Heartbeat);
                Ok(true)
            }
            Some(WsFrame::Text(text)) => {
                self.parse(text.as_str(), out)?;
                Ok(true)
            }
            Some(WsFrame::Binary(bytes)) => {
                match std::str::from_utf8(&bytes) {
                    Ok(text) => self.parse(text, out)?,
                    Err(_) => tracing::warn!(
                        len = bytes.len(),
                        "skipping a binary Tradier stream frame that is not text"
                    ),
                }
                Ok(true)
            }
        }
    }

    async fn subscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let mut changed = false;
        for i in instruments {
            changed |= self.subs.add(i);
        }
        if changed {
            self.send_payload().await?;
        }
        Ok(())
    }

    async fn unsubscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let mut changed = false;
        for i in instruments {
            changed |= self.subs.remove(i);
        }
        if changed {
            self.send_payload().await?;
        }
        Ok(())
    }

    fn silence_limit(&self) -> Duration {
        self.silence
    }

    async fn close(&mut self) {
        self.conn.close().await;
    }
}
