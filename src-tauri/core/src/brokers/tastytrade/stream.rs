//! Tastytrade market data over DXLink (`PROTOCOLS.md` §4): the WebSocket whose URL and
//! token come from `GET /api-quote-tokens`.
//!
//! # Handshake ([`DxLinkStream::connect`])
//!
//! `SETUP` (version, `keepaliveTimeout`, `acceptKeepaliveTimeout`) and `AUTH {token}` go out
//! back to back, as the official dxLink client does; the server answers with its own
//! `SETUP`, `AUTH_STATE UNAUTHORIZED` (the first auth state only says that a token is
//! needed) and then `AUTH_STATE AUTHORIZED`. A refusal (`ERROR UNAUTHORIZED`, or a second
//! `AUTH_STATE UNAUTHORIZED`) is [`BrokerError::Auth`]: the token was fetched a moment ago,
//! so the account's market-data access itself was refused. Then `CHANNEL_REQUEST` for the
//! `FEED` service (`contract: AUTO`) on channel 1, and after `CHANNEL_OPENED` the
//! `FEED_SETUP` (COMPACT data, the Quote and Trade fields below) and the first
//! `FEED_SUBSCRIPTION`. `FEED_CONFIG` is read along with the data.
//!
//! # Data
//!
//! Each instrument is subscribed as a `Quote` (bid/ask, sizes, `bidTime`/`askTime`) and,
//! unless [`DxLinkOptions::trades`] is off, a `Trade` (last price and size, `time`). A Quote
//! becomes a [`Tick`] with bid/ask, a Trade one with `last`. `FEED_DATA` is parsed in one
//! pass by [`parse_frame`] straight into ticks: COMPACT (`["Quote",[v1,v2,…]]`, events
//! concatenated in the order of the fields the server confirmed in `FEED_CONFIG`), the
//! legacy COMPACT header (`[["Quote",[fields]],[values]]`) and FULL (`[{…},{…}]`) are all
//! read. Values may be numbers, `"NaN"`/`"Infinity"` (→ `None`) or numeric strings; times
//! are epoch milliseconds (0 = none).
//!
//! # Liveness
//!
//! DXLink's heartbeat is `KEEPALIVE` in both directions: one goes out whenever nothing was
//! sent for half the server's `keepaliveTimeout` (from its `SETUP`; ours before that), and
//! each one received is a [`StreamEvent::Heartbeat`], as is a WebSocket pong.
//! [`QuoteStream::silence_limit`] is our `keepaliveTimeout` (two keepalive intervals).
//!
//! # Errors
//!
//! | What arrives                                     | Result                              |
//! |--------------------------------------------------|-------------------------------------|
//! | `ERROR UNAUTHORIZED` / refused `AUTH` (handshake) | `Err(Auth)`                         |
//! | `ERROR UNAUTHORIZED` / `AUTH_STATE UNAUTHORIZED` once streaming | `Err(Network)`: the 24 h token expired; reconnecting fetches a fresh one |
//! | `ERROR TIMEOUT` (our keepalives were missed)      | `Err(Network)`                      |
//! | `ERROR UNSUPPORTED_PROTOCOL`                      | `Err(Protocol)`                     |
//! | `ERROR INVALID_MESSAGE` / `BAD_ACTION` / `UNKNOWN` / other | `Notice` (the stream goes on) |
//! | `CHANNEL_CLOSED` for the feed channel             | `Err(Network)`                      |
//! | close frame 1009 (subscription too large)         | `Err(Rejected)`                     |
//! | any other close                                   | `Ok(false)`                         |
//! | a malformed or oversized frame                    | skipped with a (rate-limited) warning |
//!
//! DXLink says nothing about unknown symbols (it simply sends no data for them), so no
//! Notice can be raised for those; a symbol that cannot be one (empty, control characters,
//! over 128 bytes) gets a Notice without being sent. Leading/trailing spaces are trimmed
//! for DXLink and the tick still carries the symbol exactly as subscribed. No token appears
//! in any error, notice or log line.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::time::Instant;

use rust_decimal::prelude::ToPrimitive;

use crate::brokers::wire::lenient_from_json;
use crate::brokers::ws::{WsConn, WsFrame, WsOptions};
use crate::brokers::BrokerError;
use crate::money::Decimal;
use crate::secret::Secret;
use crate::stream::{time_from_millis, NoticeCode, QuoteStream, StreamEvent, Tick};

/// The protocol-client version sent in `SETUP` (the one `PROTOCOLS.md` records).
pub const DXLINK_VERSION: &str = "0.1-DXF-JS/0.3.0";
/// The feed channel's number (odd, as the official client numbers its channels).
pub const FEED_CHANNEL: u64 = 1;
/// The Quote fields asked for in `FEED_SETUP`.
pub const QUOTE_FIELDS: [&str; 8] = [
    "eventType",
    "eventSymbol",
    "bidPrice",
    "askPrice",
    "bidSize",
    "askSize",
    "bidTime",
    "askTime",
];
/// The Trade fields asked for in `FEED_SETUP`.
pub const TRADE_FIELDS: [&str; 5] = ["eventType", "eventSymbol", "price", "size", "time"];
/// Symbols per `FEED_SUBSCRIPTION` message (a message that is too large closes the socket
/// with 1009).
const SUBSCRIPTION_CHUNK: usize = 250;
/// The longest symbol sent.
const MAX_SYMBOL_LEN: usize = 128;
const KEEPALIVE: &str = r#"{"type":"KEEPALIVE","channel":0}"#;

/// How a DXLink stream is opened.
#[derive(Debug, Clone, PartialEq)]
pub struct DxLinkOptions {
    /// Our keepalive timeout, announced in `SETUP` (also as `acceptKeepaliveTimeout`): the
    /// server sends something at least this often, so it is also the silence limit.
    pub keepalive_timeout: Duration,
    /// Time allowed for TCP + TLS + upgrade, and again for the DXLink handshake.
    pub connect_timeout: Duration,
    /// `acceptAggregationPeriod`, in seconds.
    pub aggregation_period: f64,
    /// Also subscribe `Trade` events (the last price and size).
    pub trades: bool,
}

impl Default for DxLinkOptions {
    fn default() -> Self {
        Self {
            keepalive_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            aggregation_period: 0.1,
            trades: true,
        }
    }
}

/// A frame [`parse_frame`] could not read (not JSON, not an object, a broken event list).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed DXLink message: {0}")]
pub struct FrameError(String);

/// What one DXLink message was (besides the events [`parse_frame`] appended).
#[derive(Debug, Clone, PartialEq)]
pub enum DxMessage {
    /// The server's `SETUP`: its `keepaliveTimeout`, the longest it waits for our messages.
    Setup {
        keepalive_timeout: Option<Duration>,
    },
    AuthState {
        authorized: bool,
    },
    ChannelOpened {
        channel: u64,
    },
    ChannelClosed {
        channel: u64,
    },
    /// `FEED_CONFIG` (its `eventFields` are now the field order of the COMPACT data).
    FeedConfig {
        channel: u64,
    },
    /// `FEED_DATA` (its ticks were appended).
    FeedData {
        channel: u64,
    },
    /// `KEEPALIVE` (a [`StreamEvent::Heartbeat`] was appended).
    Keepalive,
    /// `ERROR`: `error` is the DXLink type (`UNAUTHORIZED`, `TIMEOUT`, `INVALID_MESSAGE`,
    /// `BAD_ACTION`, `UNSUPPORTED_PROTOCOL`, `UNKNOWN`).
    Error {
        channel: u64,
        error: String,
        message: String,
    },
    /// A type Brokerdesk does not use (or no type at all).
    Other,
}

/// What a field of an event means to a [`Tick`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Skip,
    Symbol,
    BidPrice,
    AskPrice,
    BidSize,
    AskSize,
    Price,
    Size,
    Time,
    BidTime,
    AskTime,
    EventTime,
}

impl Field {
    fn of(name: &str) -> Self {
        match name {
            "eventSymbol" => Field::Symbol,
            "bidPrice" => Field::BidPrice,
            "askPrice" => Field::AskPrice,
            "bidSize" => Field::BidSize,
            "askSize" => Field::AskSize,
            "price" => Field::Price,
            "size" => Field::Size,
            "time" => Field::Time,
            "bidTime" => Field::BidTime,
            "askTime" => Field::AskTime,
            "eventTime" => Field::EventTime,
            _ => Field::Skip,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKind {
    Quote,
    Trade,
    Other,
}

impl EventKind {
    fn of(name: &str) -> Self {
        match name {
            "Quote" => EventKind::Quote,
            "Trade" => EventKind::Trade,
            _ => EventKind::Other,
        }
    }
}

/// What [`parse_frame`] keeps between frames: the field order of Quote and Trade events and
/// which subscribed instrument each DXLink symbol stands for. Plain data, no I/O.
#[derive(Debug, Clone)]
pub struct FeedState {
    /// DXLink symbol → the instrument as the user subscribed it.
    symbols: HashMap<String, String>,
    quote: Vec<Field>,
    trade: Vec<Field>,
    /// Holds a symbol that had to be unescaped (no allocation per event).
    sym_buf: String,
}

impl Default for FeedState {
    fn default() -> Self {
        Self::new()
    }
}

impl FeedState {
    /// Expects the fields Brokerdesk asks for ([`QUOTE_FIELDS`], [`TRADE_FIELDS`]) until a
    /// `FEED_CONFIG` says otherwise; no symbols yet.
    pub fn new() -> Self {
        Self {
            symbols: HashMap::new(),
            quote: QUOTE_FIELDS.iter().map(|f| Field::of(f)).collect(),
            trade: TRADE_FIELDS.iter().map(|f| Field::of(f)).collect(),
            sym_buf: String::new(),
        }
    }

    /// Routes events of `dx_symbol` to `instrument`; false if `dx_symbol` was routed already.
    pub fn add_symbol(&mut self, dx_symbol: &str, instrument: &str) -> bool {
        if self.symbols.contains_key(dx_symbol) {
            return false;
        }
        self.symbols
            .insert(dx_symbol.to_string(), instrument.to_string());
        true
    }

    /// Stops routing `instrument`; returns its DXLink symbol if it was routed.
    pub fn remove_instrument(&mut self, instrument: &str) -> Option<String> {
        let dx = self
            .symbols
            .iter()
            .find(|(_, user)| user.as_str() == instrument)
            .map(|(dx, _)| dx.clone())?;
        self.symbols.remove(&dx);
        Some(dx)
    }

    /// The instruments routed now.
    pub fn instruments(&self) -> impl Iterator<Item = &str> {
        self.symbols.values().map(String::as_str)
    }

    /// Sets the field order of `event_type`'s COMPACT events (what `FEED_CONFIG` does).
    pub fn set_fields<S: AsRef<str>>(&mut self, event_type: &str, fields: &[S]) {
        let layout = fields.iter().map(|f| Field::of(f.as_ref())).collect();
        match EventKind::of(event_type) {
            EventKind::Quote => self.quote = layout,
            EventKind::Trade => self.trade = layout,
            EventKind::Other => {}
        }
    }

    /// Parses one message; see [`parse_frame`].
    pub fn parse(
        &mut self,
        text: &str,
        received_at: DateTime<Utc>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<DxMessage, FrameError> {
        let before = out.len();
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = MsgSeed {
            st: self,
            at: received_at,
            out,
        }
        .deserialize(&mut de)
        .and_then(|m| de.end().map(|()| m));
        match parsed {
            Ok(msg) => {
                if msg == DxMessage::Keepalive {
                    out.push(StreamEvent::Heartbeat);
                }
                Ok(msg)
            }
            Err(e) => {
                out.truncate(before);
                Err(FrameError(e.to_string()))
            }
        }
    }
}

/// Parses one DXLink text message: appends its ticks (`FEED_DATA`) or a heartbeat
/// (`KEEPALIVE`) to `out` and says what the message was. `FEED_CONFIG` updates `state`'s
/// field order. Pure and synchronous (no I/O, no clock: `received_at` stamps the ticks), so
/// it can be fuzzed directly. On `Err` nothing was appended. Events of symbols `state`
/// does not route (unsubscribed, in flight) and events that carry no price are dropped.
pub fn parse_frame(
    text: &str,
    state: &mut FeedState,
    received_at: DateTime<Utc>,
    out: &mut Vec<StreamEvent>,
) -> Result<DxMessage, FrameError> {
    state.parse(text, received_at, out)
}

// ---- the one-pass deserializer -------------------------------------------------------

/// A symbol as read: borrowed from the frame, or (when it had escapes) in `sym_buf`.
#[derive(Debug, Default, Clone, Copy)]
enum Sym<'de> {
    #[default]
    None,
    Borrowed(&'de str),
    Buf,
}

/// One event's values, as far as a tick needs them.
#[derive(Debug, Default)]
struct Acc<'de> {
    sym: Sym<'de>,
    kind: Option<EventKind>,
    bid: Option<Decimal>,
    ask: Option<Decimal>,
    bid_size: Option<Decimal>,
    ask_size: Option<Decimal>,
    price: Option<Decimal>,
    size: Option<Decimal>,
    /// Epoch milliseconds.
    time: Option<i64>,
    bid_time: Option<i64>,
    ask_time: Option<i64>,
    event_time: Option<i64>,
}

impl Acc<'_> {
    fn set(&mut self, field: Field, v: Option<Decimal>) {
        let slot = match field {
            Field::BidPrice => &mut self.bid,
            Field::AskPrice => &mut self.ask,
            Field::BidSize => &mut self.bid_size,
            Field::AskSize => &mut self.ask_size,
            Field::Price => &mut self.price,
            Field::Size => &mut self.size,
            Field::Time | Field::BidTime | Field::AskTime | Field::EventTime => {
                // A time read as a decimal is cut to whole milliseconds; nonsense is absent.
                let ms = v.and_then(|d| d.trunc().to_i64());
                match field {
                    Field::Time => self.time = ms,
                    Field::BidTime => self.bid_time = ms,
                    Field::AskTime => self.ask_time = ms,
                    _ => self.event_time = ms,
                }
                return;
            }
            Field::Skip | Field::Symbol => return,
        };
        *slot = v;
    }

    /// Appends the tick of this event, if its symbol is routed and it carries a price.
    fn finish(
        &self,
        kind: EventKind,
        symbols: &HashMap<String, String>,
        sym_buf: &str,
        at: DateTime<Utc>,
        out: &mut Vec<StreamEvent>,
    ) {
        let sym = match self.sym {
            Sym::Borrowed(s) => s,
            Sym::Buf => sym_buf,
            Sym::None => return,
        };
        let Some(instrument) = symbols.get(sym) else {
            return;
        };
        let stamp = |x: Option<i64>| x.filter(|v| *v > 0);
        let (bid, ask, last, time) = match kind {
            EventKind::Quote => {
                let side = match (stamp(self.bid_time), stamp(self.ask_time)) {
                    (Some(b), Some(a)) => Some(b.max(a)),
                    (b, a) => b.or(a),
                };
                let time = stamp(self.time).or(side).or(stamp(self.event_time));
                (self.bid, self.ask, None, time)
            }
            EventKind::Trade => {
                let time = stamp(self.time).or(stamp(self.event_time));
                (None, None, self.price, time)
            }
            EventKind::Other => return,
        };
        if bid.is_none() && ask.is_none() && last.is_none() {
            return;
        }
        let mut tick = Tick::new(instrument.clone(), at);
        tick.bid = bid;
        tick.ask = ask;
        tick.last = last;
        if kind == EventKind::Quote {
            tick.bid_size = self.bid_size;
            tick.ask_size = self.ask_size;
        } else {
            tick.last_size = self.size;
        }
        tick.exchange_time = time.and_then(time_from_millis);
        out.push(StreamEvent::Tick(tick));
    }
}

/// An event's price, size or time: a number or a numeric string, read from its text (exact,
/// borrowed from the frame); `"NaN"`/`"Infinity"`, null and bools are absent.
struct Amount(Option<Decimal>);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?.get();
        // An array or object where a value belongs: the event's layout is not what
        // FEED_CONFIG said, and the frame is refused.
        if raw.starts_with(['[', '{']) {
            return Err(de::Error::custom(
                "expected a number, a numeric string or null",
            ));
        }
        lenient_from_json(raw)
            .map(Amount)
            .map_err(de::Error::custom)
    }
}

/// A control number of the protocol (a channel id, keepalive seconds), not money: a number,
/// a numeric string, `"NaN"`/`"Infinity"` (→ `None`) or null/bool (→ `None`).
struct Num(Option<f64>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumVisitor)
    }
}

struct NumVisitor;

impl<'de> Visitor<'de> for NumVisitor {
    type Value = Num;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a numeric string or null")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
        Ok(Num(Some(v).filter(|x| x.is_finite())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
        Ok(Num(Some(v as f64)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
        Ok(Num(Some(v as f64)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
        Ok(Num(v.trim().parse::<f64>().ok().filter(|x| x.is_finite())))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Num, E> {
        Ok(Num(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Num, E> {
        Ok(Num(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Num, E> {
        Ok(Num(None))
    }
}

/// Reads a symbol, borrowing it when it has no escapes.
struct SymSeed<'b> {
    buf: &'b mut String,
}

impl<'de> DeserializeSeed<'de> for SymSeed<'_> {
    type Value = Sym<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Sym<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SymSeed<'_> {
    type Value = Sym<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a symbol")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Sym<'de>, E> {
        Ok(Sym::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Sym<'de>, E> {
        self.buf.clear();
        self.buf.push_str(v);
        Ok(Sym::Buf)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }

    // A number where a symbol belongs: the event is dropped, the frame is not.
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }
}

/// A string, borrowed when possible (control messages only).
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed("")))
            }
        }
        d.deserialize_any(V)
    }
}

/// The top-level keys Brokerdesk reads.
enum Key {
    Type,
    Channel,
    Data,
    State,
    Error,
    Message,
    KeepaliveTimeout,
    EventFields,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "type" => Key::Type,
                    "channel" => Key::Channel,
                    "data" => Key::Data,
                    "state" => Key::State,
                    "error" => Key::Error,
                    "message" => Key::Message,
                    "keepaliveTimeout" => Key::KeepaliveTimeout,
                    "eventFields" => Key::EventFields,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Setup,
    AuthState,
    ChannelOpened,
    ChannelClosed,
    FeedConfig,
    FeedData,
    Keepalive,
    Error,
    Other,
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Kind;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a message type")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Kind, E> {
                Ok(match v {
                    "SETUP" => Kind::Setup,
                    "AUTH_STATE" => Kind::AuthState,
                    "CHANNEL_OPENED" => Kind::ChannelOpened,
                    "CHANNEL_CLOSED" => Kind::ChannelClosed,
                    "FEED_CONFIG" => Kind::FeedConfig,
                    "FEED_DATA" => Kind::FeedData,
                    "KEEPALIVE" => Kind::Keepalive,
                    "ERROR" => Kind::Error,
                    _ => Kind::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// The whole message.
struct MsgSeed<'a> {
    st: &'a mut FeedState,
    at: DateTime<Utc>,
    out: &'a mut Vec<StreamEvent>,
}

impl<'de> DeserializeSeed<'de> for MsgSeed<'_> {
    type Value = DxMessage;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<DxMessage, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MsgSeed<'_> {
    type Value = DxMessage;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a DXLink message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DxMessage, A::Error> {
        let mut kind = None;
        let mut channel = 0u64;
        let mut state: Option<Text<'de>> = None;
        let mut error: Option<Text<'de>> = None;
        let mut message: Option<Text<'de>> = None;
        let mut keepalive = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Type => kind = Some(map.next_value::<Kind>()?),
                Key::Channel => {
                    let n = map.next_value::<Num>()?.0.unwrap_or(0.0);
                    channel = if n >= 0.0 { n as u64 } else { 0 };
                }
                // Only FEED_DATA has `data`; read it even when `type` comes later.
                Key::Data if matches!(kind, None | Some(Kind::FeedData)) => {
                    map.next_value_seed(DataSeed {
                        st: &mut *self.st,
                        at: self.at,
                        out: &mut *self.out,
                    })?;
                }
                Key::EventFields if matches!(kind, None | Some(Kind::FeedConfig)) => {
                    map.next_value_seed(FieldsSeed { st: &mut *self.st })?;
                }
                Key::State => state = Some(map.next_value()?),
                Key::Error => error = Some(map.next_value()?),
                Key::Message => message = Some(map.next_value()?),
                Key::KeepaliveTimeout => keepalive = map.next_value::<Num>()?.0,
                Key::Data | Key::EventFields | Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let text = |t: Option<Text<'de>>| t.map(|t| t.0.into_owned()).unwrap_or_default();
        Ok(match kind.unwrap_or(Kind::Other) {
            Kind::Setup => DxMessage::Setup {
                keepalive_timeout: keepalive
                    .filter(|s| *s > 0.0)
                    .and_then(|s| Duration::try_from_secs_f64(s).ok()),
            },
            Kind::AuthState => DxMessage::AuthState {
                authorized: state.is_some_and(|s| s.0 == "AUTHORIZED"),
            },
            Kind::ChannelOpened => DxMessage::ChannelOpened { channel },
            Kind::ChannelClosed => DxMessage::ChannelClosed { channel },
            Kind::FeedConfig => DxMessage::FeedConfig { channel },
            Kind::FeedData => DxMessage::FeedData { channel },
            Kind::Keepalive => DxMessage::Keepalive,
            Kind::Error => DxMessage::Error {
                channel,
                error: {
                    let e = text(error);
                    if e.is_empty() {
                        "UNKNOWN".into()
                    } else {
                        e
                    }
                },
                message: text(message),
            },
            Kind::Other => DxMessage::Other,
        })
    }
}

/// `FEED_CONFIG.eventFields`: `{"Quote": [fields…], …}`.
struct FieldsSeed<'a> {
    st: &'a mut FeedState,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the event fields per event type")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(event_type) = map.next_key::<Text<'de>>()? {
            let fields: Vec<Text<'de>> = map.next_value()?;
            let fields: Vec<&str> = fields.iter().map(|f| f.0.as_ref()).collect();
            self.st.set_fields(&event_type.0, &fields);
        }
        Ok(())
    }
}

/// `FEED_DATA.data`: COMPACT `[type, [values…], type, [values…]…]` (a type may also be the
/// legacy header `[type, [fields…]]`), or FULL `[{event}, {event}…]`.
struct DataSeed<'a> {
    st: &'a mut FeedState,
    at: DateTime<Utc>,
    out: &'a mut Vec<StreamEvent>,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("FEED_DATA data")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let head = seq.next_element_seed(HeadSeed {
                st: &mut *self.st,
                at: self.at,
                out: &mut *self.out,
            })?;
            match head {
                None => return Ok(()),
                Some(Head::Event) => {}
                Some(Head::Type(kind)) => {
                    let values = seq.next_element_seed(ValuesSeed {
                        kind,
                        st: &mut *self.st,
                        at: self.at,
                        out: &mut *self.out,
                    })?;
                    if values.is_none() {
                        return Err(de::Error::custom("an event type without values"));
                    }
                }
            }
        }
    }
}

enum Head {
    /// COMPACT values of this type follow.
    Type(EventKind),
    /// A FULL event, already appended.
    Event,
}

struct HeadSeed<'a> {
    st: &'a mut FeedState,
    at: DateTime<Utc>,
    out: &'a mut Vec<StreamEvent>,
}

impl<'de> DeserializeSeed<'de> for HeadSeed<'_> {
    type Value = Head;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Head, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HeadSeed<'_> {
    type Value = Head;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event type, a [type, fields] header or an event object")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Head, E> {
        Ok(Head::Type(EventKind::of(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Head, A::Error> {
        let event_type: Text<'de> = seq
            .next_element()?
            .ok_or_else(|| de::Error::custom("an empty event header"))?;
        let fields: Vec<Text<'de>> = seq.next_element()?.unwrap_or_default();
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        if !fields.is_empty() {
            let fields: Vec<&str> = fields.iter().map(|f| f.0.as_ref()).collect();
            self.st.set_fields(&event_type.0, &fields);
        }
        Ok(Head::Type(EventKind::of(&event_type.0)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
        let FeedState {
            symbols, sym_buf, ..
        } = self.st;
        let mut acc = Acc::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.0.as_ref() {
                "eventType" => {
                    let t: Text<'de> = map.next_value()?;
                    acc.kind = Some(EventKind::of(&t.0));
                }
                name => match Field::of(name) {
                    Field::Symbol => {
                        acc.sym = map.next_value_seed(SymSeed { buf: &mut *sym_buf })?;
                    }
                    Field::Skip => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    f => acc.set(f, map.next_value::<Amount>()?.0),
                },
            }
        }
        if let Some(kind) = acc.kind {
            acc.finish(kind, symbols, sym_buf, self.at, self.out);
        }
        Ok(Head::Event)
    }
}

/// The flat COMPACT values of one event type, split into events by the field order.
struct ValuesSeed<'a> {
    kind: EventKind,
    st: &'a mut FeedState,
    at: DateTime<Utc>,
    out: &'a mut Vec<StreamEvent>,
}

impl<'de> DeserializeSeed<'de> for ValuesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ValuesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of event values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let FeedState {
            symbols,
            quote,
            trade,
            sym_buf,
        } = self.st;
        let layout: &[Field] = match self.kind {
            EventKind::Quote => quote,
            EventKind::Trade => trade,
            EventKind::Other => &[],
        };
        if layout.is_empty() || !layout.contains(&Field::Symbol) {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let mut acc = Acc::default();
        let mut i = 0;
        loop {
            let more = match layout[i] {
                Field::Symbol => match seq.next_element_seed(SymSeed { buf: &mut *sym_buf })? {
                    Some(s) => {
                        acc.sym = s;
                        true
                    }
                    None => false,
                },
                Field::Skip => seq.next_element::<IgnoredAny>()?.is_some(),
                f => match seq.next_element::<Amount>()? {
                    Some(Amount(v)) => {
                        acc.set(f, v);
                        true
                    }
                    None => false,
                },
            };
            if !more {
                if i != 0 {
                    return Err(de::Error::custom(
                        "the values do not fill whole events of the configured fields",
                    ));
                }
                return Ok(());
            }
            i += 1;
            if i == layout.len() {
                acc.finish(self.kind, symbols, sym_buf, self.at, self.out);
                acc = Acc::default();
                i = 0;
            }
        }
    }
}

// ---- the stream ----------------------------------------------------------------------

/// Why `symbol` cannot be a DXLink symbol, if it cannot.
fn invalid_symbol(symbol: &str) -> Option<&'static str> {
    let s = symbol.trim();
    if s.is_empty() {
        Some("the symbol is empty")
    } else if s.len() > MAX_SYMBOL_LEN {
        Some("the symbol is too long to be a DXLink symbol")
    } else if s.chars().any(char::is_control) {
        Some("the symbol contains control characters")
    } else {
        None
    }
}

/// Seconds as a JSON number: whole ones as integers (`60`), else fractional (`0.5`).
fn secs(d: Duration) -> Value {
    if d.subsec_nanos() == 0 {
        json!(d.as_secs())
    } else {
        json!(d.as_secs_f64())
    }
}

/// An open DXLink feed: one WebSocket, one FEED channel with Quote (and Trade)
/// subscriptions. Built by [`DxLinkStream::connect`] (or
/// [`Broker::open_quote_stream`](crate::brokers::Broker::open_quote_stream), which fetches
/// the token first).
pub struct DxLinkStream {
    ws: WsConn,
    feed: FeedState,
    opts: DxLinkOptions,
    /// Send a KEEPALIVE after this much silence on our side.
    keepalive_every: Duration,
    last_sent: Instant,
    /// Events to hand out before reading more (notices about refused symbols).
    pending: Vec<StreamEvent>,
    /// The quote token, to scrub from anything the server echoes.
    token: Secret,
    /// Malformed frames so far (warnings are rate-limited).
    malformed: u64,
}

impl fmt::Debug for DxLinkStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DxLinkStream")
            .field("instruments", &self.feed.symbols.len())
            .field("keepalive_every", &self.keepalive_every)
            .finish_non_exhaustive()
    }
}

impl DxLinkStream {
    /// Connects to the DXLink WebSocket at `url`, authorizes with the quote `token`, opens
    /// the feed channel and subscribes `instruments` (may be empty). Fails with
    /// [`BrokerError::Auth`] when DXLink refuses the token, [`BrokerError::Timeout`] when
    /// the handshake takes longer than [`DxLinkOptions::connect_timeout`].
    pub async fn connect(
        url: &str,
        token: Secret,
        instruments: &[String],
        opts: DxLinkOptions,
    ) -> Result<Self, BrokerError> {
        let secret = [token.expose()];
        let ws_opts = WsOptions {
            headers: Vec::new(),
            connect_timeout: opts.connect_timeout,
            ping_every: (opts.keepalive_timeout / 2).max(Duration::from_millis(10)),
        };
        let ws = WsConn::connect(url, &ws_opts)
            .await
            .map_err(|e| e.scrubbed(&secret))?;
        let mut stream = Self {
            ws,
            feed: FeedState::new(),
            keepalive_every: (opts.keepalive_timeout / 2).max(Duration::from_millis(10)),
            last_sent: Instant::now(),
            pending: Vec::new(),
            token: token.clone(),
            malformed: 0,
            opts,
        };
        let limit = stream.opts.connect_timeout;
        match tokio::time::timeout(limit, stream.handshake(instruments)).await {
            Ok(Ok(())) => Ok(stream),
            Ok(Err(e)) => {
                stream.ws.close().await;
                Err(e.scrubbed(&[token.expose()]))
            }
            Err(_) => {
                stream.ws.close().await;
                Err(BrokerError::Timeout(limit))
            }
        }
    }

    async fn handshake(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let k = secs(self.opts.keepalive_timeout);
        let setup = json!({"type": "SETUP", "channel": 0, "version": DXLINK_VERSION,
            "keepaliveTimeout": k, "acceptKeepaliveTimeout": k});
        self.send(setup.to_string()).await?;
        let auth = json!({"type": "AUTH", "channel": 0, "token": self.token.expose()});
        self.send(auth.to_string()).await?;
        let mut unauthorized = 0;
        loop {
            match self.handshake_message().await? {
                DxMessage::AuthState { authorized: true } => break,
                // The first says a token is needed (it may come before ours is checked).
                DxMessage::AuthState { authorized: false } => {
                    unauthorized += 1;
                    if unauthorized > 1 {
                        return Err(BrokerError::Auth(
                            "DXLink refused the market-data (quote) token".into(),
                        ));
                    }
                }
                DxMessage::Error { error, message, .. } => {
                    return Err(handshake_error(&error, &message))
                }
                _ => {}
            }
        }
        let request = json!({"type": "CHANNEL_REQUEST", "channel": FEED_CHANNEL,
            "service": "FEED", "parameters": {"contract": "AUTO"}});
        self.send(request.to_string()).await?;
        loop {
            match self.handshake_message().await? {
                DxMessage::ChannelOpened { channel } if channel == FEED_CHANNEL => break,
                DxMessage::ChannelClosed { channel } if channel == FEED_CHANNEL => {
                    return Err(BrokerError::Rejected {
                        status: 0,
                        code: "channel_closed".into(),
                        message: "DXLink refused to open the FEED channel".into(),
                    })
                }
                DxMessage::Error { error, message, .. } => {
                    return Err(handshake_error(&error, &message))
                }
                DxMessage::AuthState { authorized: false } => {
                    return Err(BrokerError::Auth(
                        "DXLink withdrew the market-data authorization".into(),
                    ))
                }
                _ => {}
            }
        }
        let mut fields = serde_json::Map::new();
        fields.insert("Quote".into(), json!(QUOTE_FIELDS));
        if self.opts.trades {
            fields.insert("Trade".into(), json!(TRADE_FIELDS));
        }
        let setup = json!({"type": "FEED_SETUP", "channel": FEED_CHANNEL,
            "acceptAggregationPeriod": self.opts.aggregation_period,
            "acceptDataFormat": "COMPACT", "acceptEventFields": fields});
        self.send(setup.to_string()).await?;
        self.add(instruments).await
    }

    /// The next message during the handshake (data and keepalives are dropped).
    async fn handshake_message(&mut self) -> Result<DxMessage, BrokerError> {
        let mut sink = Vec::new();
        loop {
            let frame = self.ws.next().await?;
            let Some(frame) = frame else {
                return Err(self.closed_error().unwrap_or_else(|| {
                    BrokerError::Network(
                        "the DXLink server closed the connection during the handshake".into(),
                    )
                }));
            };
            let text = match &frame {
                WsFrame::Text(t) => t.as_str(),
                WsFrame::Binary(b) => match std::str::from_utf8(b) {
                    Ok(t) => t,
                    Err(_) => continue,
                },
                WsFrame::Pong => continue,
            };
            sink.clear();
            match self.feed.parse(text, Utc::now(), &mut sink) {
                Ok(msg) => {
                    if let DxMessage::Setup {
                        keepalive_timeout: Some(t),
                    } = msg
                    {
                        self.server_timeout(t);
                    }
                    return Ok(msg);
                }
                Err(e) => self.warn_malformed(&e),
            }
        }
    }

    /// The error a server close means, if it means one (1009: the subscription was too
    /// large, which a reconnect with the same symbols would repeat).
    fn closed_error(&self) -> Option<BrokerError> {
        match self.ws.close_code() {
            Some(1009) => Some(BrokerError::Rejected {
                status: 0,
                code: "subscription_too_large".into(),
                message: "DXLink closed the stream because the subscription is too large \
                          (close code 1009); subscribe to fewer symbols"
                    .into(),
            }),
            _ => None,
        }
    }

    async fn send(&mut self, text: String) -> Result<(), BrokerError> {
        self.ws.send_text(text).await?;
        self.last_sent = Instant::now();
        Ok(())
    }

    /// `FEED_SUBSCRIPTION` with `key` (`add`/`remove`) for `symbols`, in chunks.
    async fn send_subscription(
        &mut self,
        key: &str,
        symbols: &[String],
    ) -> Result<(), BrokerError> {
        for chunk in symbols.chunks(SUBSCRIPTION_CHUNK) {
            let mut entries = Vec::with_capacity(chunk.len() * 2);
            for s in chunk {
                entries.push(json!({"type": "Quote", "symbol": s}));
                if self.opts.trades {
                    entries.push(json!({"type": "Trade", "symbol": s}));
                }
            }
            let mut msg = serde_json::Map::new();
            msg.insert("type".into(), json!("FEED_SUBSCRIPTION"));
            msg.insert("channel".into(), json!(FEED_CHANNEL));
            msg.insert(key.into(), Value::Array(entries));
            self.send(Value::Object(msg).to_string()).await?;
        }
        Ok(())
    }

    /// Routes and subscribes the instruments not subscribed yet; impossible symbols get a
    /// Notice instead.
    async fn add(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let mut fresh = Vec::new();
        for instrument in instruments {
            if let Some(reason) = invalid_symbol(instrument) {
                self.pending.push(StreamEvent::notice(
                    Some(instrument.clone()),
                    NoticeCode::InvalidSymbol,
                    format!("{reason}; it was not subscribed"),
                ));
                continue;
            }
            let dx = instrument.trim();
            if self.feed.add_symbol(dx, instrument) {
                fresh.push(dx.to_string());
            }
        }
        self.send_subscription("add", &fresh).await
    }

    fn warn_malformed(&mut self, e: &FrameError) {
        self.malformed += 1;
        // 1st, 2nd, 4th, 8th…: a flood of garbage cannot flood the log.
        if self.malformed.is_power_of_two() {
            let text = e.to_string().replace(self.token.expose(), "••••");
            tracing::warn!(count = self.malformed, error = %text, "skipping a malformed DXLink message");
        }
    }

    fn scrub(&self, s: &str) -> String {
        let s: String = s.chars().take(300).collect();
        if self.token.is_empty() {
            s
        } else {
            s.replace(self.token.expose(), "••••")
        }
    }

    /// Acts on a control message received while streaming.
    fn on_message(
        &mut self,
        msg: DxMessage,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), BrokerError> {
        match msg {
            DxMessage::Setup {
                keepalive_timeout: Some(t),
            } => {
                self.server_timeout(t);
                Ok(())
            }
            DxMessage::AuthState { authorized: false } => Err(expired("")),
            DxMessage::ChannelClosed { channel } if channel == FEED_CHANNEL => Err(
                BrokerError::Network("the DXLink server closed the feed channel".into()),
            ),
            DxMessage::Error {
                channel,
                error,
                message,
            } => {
                let message = self.scrub(&message);
                match error.as_str() {
                    "UNAUTHORIZED" => Err(expired(&message)),
                    "TIMEOUT" => Err(BrokerError::Network(format!(
                        "the DXLink server timed the connection out: {message}"
                    ))),
                    "UNSUPPORTED_PROTOCOL" => Err(BrokerError::Protocol(format!(
                        "DXLink does not support this protocol version: {message}"
                    ))),
                    _ => {
                        let code = self.scrub(&error);
                        out.push(StreamEvent::Notice {
                            instrument: None,
                            message: format!("DXLink {code} on channel {channel}: {message}"),
                            code: NoticeCode::Broker,
                            broker_code: Some(code),
                        });
                        Ok(())
                    }
                }
            }
            _ => Ok(()),
        }
    }

    /// The server waits `t` for our messages: keep alive at half of it (and of ours).
    fn server_timeout(&mut self, t: Duration) {
        self.keepalive_every =
            (t.min(self.opts.keepalive_timeout) / 2).max(Duration::from_millis(10));
    }

    /// Sends a KEEPALIVE if nothing went out for `keepalive_every`.
    async fn keepalive_if_due(&mut self) -> Result<(), BrokerError> {
        if self.last_sent.elapsed() >= self.keepalive_every {
            self.send(KEEPALIVE.to_string()).await?;
        }
        Ok(())
    }
}

/// A handshake `ERROR`.
fn handshake_error(error: &str, message: &str) -> BrokerError {
    let message: String = message.chars().take(300).collect();
    match error {
        "UNAUTHORIZED" => BrokerError::Auth(format!(
            "DXLink refused the market-data (quote) token: {message}"
        )),
        "TIMEOUT" => BrokerError::Network(format!("the DXLink handshake timed out: {message}")),
        other => {
            BrokerError::Protocol(format!("DXLink refused the handshake ({other}): {message}"))
        }
    }
}

/// The authorization lapsed while streaming: the 24-hour token expired or was revoked. A
/// reconnect fetches a fresh token (a refusal then is `Auth`), so this is retryable.
fn expired(message: &str) -> BrokerError {
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    };
    BrokerError::Network(format!(
        "DXLink withdrew the market-data authorization{detail}; the quote token has \
         expired and a reconnect fetches a new one"
    ))
}

#[async_trait]
impl QuoteStream for DxLinkStream {
    async fn read(&mut self, out: &mut Vec<StreamEvent>) -> Result<bool, BrokerError> {
        if !self.pending.is_empty() {
            out.append(&mut self.pending);
            return Ok(true);
        }
        loop {
            // Checked first too: under a steady flow of data the timer below never wins.
            self.keepalive_if_due().await?;
            let due = self.last_sent + self.keepalive_every;
            let frame = tokio::select! {
                biased;
                f = self.ws.next() => f,
                () = tokio::time::sleep_until(due) => continue,
            };
            let frame = frame.map_err(|e| e.scrubbed(&[self.token.expose()]))?;
            let Some(frame) = frame else {
                return match self.closed_error() {
                    Some(e) => Err(e),
                    None => Ok(false),
                };
            };
            let text = match &frame {
                WsFrame::Text(t) => t.as_str(),
                WsFrame::Pong => {
                    out.push(StreamEvent::Heartbeat);
                    return Ok(true);
                }
                WsFrame::Binary(b) => match std::str::from_utf8(b) {
                    Ok(t) => t,
                    Err(_) => {
                        self.warn_malformed(&FrameError("a binary frame".into()));
                        return Ok(true);
                    }
                },
            };
            match self.feed.parse(text, Utc::now(), out) {
                Ok(msg) => self.on_message(msg, out)?,
                Err(e) => self.warn_malformed(&e),
            }
            return Ok(true);
        }
    }

    async fn subscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        self.add(instruments).await
    }

    async fn unsubscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError> {
        let gone: Vec<String> = instruments
            .iter()
            .filter_map(|i| self.feed.remove_instrument(i))
            .collect();
        self.send_subscription("remove", &gone).await
    }

    fn silence_limit(&self) -> Duration {
        self.opts.keepalive_timeout
    }

    async fn close(&mut self) {
        self.ws.close().await;
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    fn state(symbols: &[&str]) -> FeedState {
        let mut st = FeedState::new();
        for s in symbols {
            st.add_symbol(s, s);
        }
        st
    }

    fn ticks(out: &[StreamEvent]) -> Vec<&Tick> {
        out.iter()
            .filter_map(|e| match e {
                StreamEvent::Tick(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn compact_quotes_split_by_the_requested_fields() {
        let mut st = state(&["AAPL", "MSFT"]);
        let mut out = Vec::new();
        let frame = r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",189.5,189.52,300,"NaN",1700000000123,1700000000456,"Quote","MSFT","410.1","410.3",100.0,200.0,0,0]]}"#;
        let msg = parse_frame(frame, &mut st, at(), &mut out);
        assert_eq!(msg, Ok(DxMessage::FeedData { channel: 1 }));
        let t = ticks(&out);
        assert_eq!(t.len(), 2);
        assert_eq!(
            (
                t[0].instrument.as_str(),
                t[0].bid,
                t[0].ask,
                t[0].bid_size,
                t[0].ask_size
            ),
            (
                "AAPL",
                Some(dec!(189.5)),
                Some(dec!(189.52)),
                Some(dec!(300.0)),
                None
            )
        );
        assert_eq!(
            t[0].exchange_time.map(|t| t.timestamp_millis()),
            Some(1_700_000_000_456)
        );
        assert_eq!(
            (t[1].bid, t[1].ask, t[1].exchange_time),
            (Some(dec!(410.1)), Some(dec!(410.3)), None)
        );
        assert_eq!(t[1].received_at, at());
    }

    #[test]
    fn a_cut_short_event_list_drops_the_whole_frame() {
        let mut st = state(&["AAPL"]);
        let mut out = vec![StreamEvent::Heartbeat];
        let frame = r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",1,2,3,4,5,6,"Quote","AAPL",1]]}"#;
        assert!(parse_frame(frame, &mut st, at(), &mut out).is_err());
        assert_eq!(out, vec![StreamEvent::Heartbeat], "nothing appended");
    }
}
