//! DXLink's wire vocabulary: the protocol constants, the message types and keys Brokerdesk
//! reads, the event fields and types, and the lenient readers of their values.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::brokers::wire::lenient_from_json;
use crate::money::Decimal;

/// The protocol-client version sent in `SETUP` (the one `brokers/tastytrade/PROTOCOL.md` records).
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
pub(super) const KEEPALIVE: &str = r#"{"type":"KEEPALIVE","channel":0}"#;

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
pub(super) enum Field {
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
    pub(super) fn of(name: &str) -> Self {
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
pub(super) enum EventKind {
    Quote,
    Trade,
    Other,
}

impl EventKind {
    pub(super) fn of(name: &str) -> Self {
        match name {
            "Quote" => EventKind::Quote,
            "Trade" => EventKind::Trade,
            _ => EventKind::Other,
        }
    }
}

/// An event's price, size or time: a number or a numeric string, read from its text (exact,
/// borrowed from the frame); `"NaN"`/`"Infinity"`, null and bools are absent.
pub(super) struct Amount(pub(super) Option<Decimal>);

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
pub(super) struct Num(pub(super) Option<f64>);

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

/// A string, borrowed when possible (control messages only).
pub(super) struct Text<'de>(pub(super) Cow<'de, str>);

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
pub(super) enum Key {
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
pub(super) enum Kind {
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
