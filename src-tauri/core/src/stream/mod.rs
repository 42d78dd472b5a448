//! Live prices: one normalized [`Tick`] for every broker's stream, the [`QuoteStream`]
//! interface each connector's stream client implements, and (in [`book`] and [`feed`]) the
//! latest-quote book and the supervised, resubscribing feed that fans ticks out to the UI
//! and the CLI without unbounded queues.
//!
//! A stream client turns one wire frame into zero or more [`StreamEvent`]s appended to a
//! caller-owned buffer ([`QuoteStream::read`]), so a frame of 100 quotes costs one await
//! and no per-tick allocation besides the instrument name.

pub mod book;
pub mod feed;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::brokers::BrokerError;
use crate::money::Decimal;

/// The largest stream message accepted; bigger ones are logged and skipped.
pub const MAX_MESSAGE: usize = 1024 * 1024;

/// One price update, the same for every broker. Fields the broker did not send are `None`.
/// Prices and sizes are exact decimals as the broker wrote them (JSON strings over IPC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Tick {
    /// The instrument as the user subscribed to it (`EUR_USD`, `AAPL`, `/ESZ6`).
    pub instrument: String,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub bid: Option<Decimal>,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub ask: Option<Decimal>,
    /// The last trade price.
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub last: Option<Decimal>,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub bid_size: Option<Decimal>,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub ask_size: Option<Decimal>,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub last_size: Option<Decimal>,
    /// When the exchange / broker stamped it.
    #[ts(type = "string | null")]
    pub exchange_time: Option<DateTime<Utc>>,
    /// When Brokerdesk read it off the socket.
    #[ts(type = "string")]
    pub received_at: DateTime<Utc>,
}

impl Tick {
    /// A tick for `instrument` received now, with no prices yet.
    pub fn new(instrument: impl Into<String>, received_at: DateTime<Utc>) -> Self {
        Self {
            instrument: instrument.into(),
            bid: None,
            ask: None,
            last: None,
            bid_size: None,
            ask_size: None,
            last_size: None,
            exchange_time: None,
            received_at,
        }
    }
}

/// What one stream frame can carry.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Tick(Tick),
    /// A heartbeat, pong or other proof of life that carries no price.
    Heartbeat,
    /// The broker reported a problem that does not end the stream: an unknown instrument,
    /// a symbol limit, a subscription it refused. `instrument` names the one concerned.
    Notice {
        instrument: Option<String>,
        code: NoticeCode,
        /// The broker's own code (Alpaca's `405`, a DXLink error type, IBKR's topic), for
        /// support; callers key on `code`.
        broker_code: Option<String>,
        message: String,
    },
}

impl StreamEvent {
    /// A notice without a broker code of its own.
    pub fn notice(instrument: Option<String>, code: NoticeCode, message: String) -> Self {
        StreamEvent::Notice {
            instrument,
            code,
            broker_code: None,
            message,
        }
    }
}

/// What a stream notice is about: a closed set, so that the UI and the CLI key on a
/// generated type rather than on each broker's strings (which travel beside it as
/// `broker_code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum NoticeCode {
    /// The broker does not know the instrument (OANDA, IBKR); the others still stream.
    UnknownInstrument,
    /// The broker refused the symbol as not valid (Tradier, Tastytrade).
    InvalidSymbol,
    /// Subscribing would pass the broker's symbol limit (Alpaca 405); the subscription is
    /// left as it was.
    SymbolLimit,
    /// The broker refused a subscription for a reason of its own (IBKR market data).
    SubscriptionRefused,
    /// A notification or bulletin the broker sent on the stream (IBKR).
    Notification,
    /// Any other problem the broker reported that does not end the stream.
    Broker,
}

/// An open price stream of one account.
///
/// `read` is cancel-safe (the owner races it against a silence watchdog and a cancellation
/// token). Errors end the stream: the owner reconnects with backoff and re-subscribes, or,
/// for [`BrokerError::Auth`], stops and tells the user.
#[async_trait]
pub trait QuoteStream: Send {
    /// Waits for the next frame and appends its events to `out` (possibly none, for a
    /// frame that was skipped as malformed or oversized). `Ok(false)` when the server
    /// closed the stream; that always means "reconnect", brokers never close on purpose.
    /// WebSocket clients send their own pings while idle so that a live link always
    /// produces something (a pong → [`StreamEvent::Heartbeat`]) within
    /// [`QuoteStream::silence_limit`].
    async fn read(&mut self, out: &mut Vec<StreamEvent>) -> Result<bool, BrokerError>;

    /// Adds instruments to the open stream (re-opening it where the protocol needs that).
    async fn subscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError>;

    /// Removes instruments from the open stream.
    async fn unsubscribe(&mut self, instruments: &[String]) -> Result<(), BrokerError>;

    /// The longest silence after which the link counts as dead: two heartbeat (or ping)
    /// intervals.
    fn silence_limit(&self) -> Duration;

    /// Closes the stream politely (a WebSocket close frame); errors are ignored.
    async fn close(&mut self);
}

/// An instrument the broker can stream, for search / autocomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct InstrumentInfo {
    /// The symbol to subscribe with.
    pub symbol: String,
    /// A human name (`Euro/US Dollar`, `Apple Inc`), when the broker gives one.
    pub name: Option<String>,
    /// `currency`, `equity`, `option`, `future`, `cfd`…, when known.
    pub kind: Option<String>,
}

/// Parses an RFC 3339 timestamp, `None` if it is not one.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A timestamp from milliseconds since the Unix epoch.
pub fn time_from_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// Keeps the instruments matching `query` (symbol prefix first, then symbol or name
/// containing it, case-insensitive), at most `limit`.
pub fn filter_instruments(
    all: Vec<InstrumentInfo>,
    query: &str,
    limit: usize,
) -> Vec<InstrumentInfo> {
    let q = query.trim().to_ascii_lowercase();
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '/', '-', '.'], "");
    let qn = norm(&q);
    let mut prefix = Vec::new();
    let mut contains = Vec::new();
    for i in all {
        let sym = norm(&i.symbol);
        let name = i
            .name
            .as_deref()
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if q.is_empty() || sym.starts_with(&qn) {
            prefix.push(i);
        } else if sym.contains(&qn) || name.contains(&q) {
            contains.push(i);
        }
    }
    prefix.extend(contains);
    prefix.truncate(limit);
    prefix
}
