//! The Alpaca stream's wire types: the server's messages as read (borrowed from the frame)
//! and the client's own messages (`auth`, `subscribe`/`unsubscribe`), in JSON or msgpack.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::brokers::wire::strict_decimal;
use crate::money::Decimal;

// ---- server messages ----------------------------------------------------------------------

/// A string field, borrowed from the frame unless JSON escapes forced a copy.
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

/// A message's `t`: RFC 3339 text (JSON) or an already decoded msgpack Timestamp.
pub(super) enum Time<'a> {
    Text(Text<'a>),
    At(DateTime<Utc>),
}

/// The fields of one stream message the connector reads; everything else is skipped.
#[derive(Default, Deserialize)]
pub(super) struct Msg<'a> {
    #[serde(rename = "T", borrow, default)]
    pub(super) kind: Option<Text<'a>>,
    #[serde(rename = "S", borrow, default)]
    pub(super) symbol: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) msg: Option<Text<'a>>,
    #[serde(default)]
    pub(super) code: Option<i64>,
    #[serde(default, deserialize_with = "strict_decimal")]
    pub(super) bp: Option<Decimal>,
    #[serde(default, deserialize_with = "strict_decimal")]
    pub(super) ap: Option<Decimal>,
    #[serde(default, deserialize_with = "strict_decimal")]
    pub(super) bs: Option<Decimal>,
    #[serde(rename = "as", default, deserialize_with = "strict_decimal")]
    pub(super) asz: Option<Decimal>,
    #[serde(default, deserialize_with = "strict_decimal")]
    pub(super) p: Option<Decimal>,
    #[serde(default, deserialize_with = "strict_decimal")]
    pub(super) s: Option<Decimal>,
    #[serde(rename = "t", borrow, default)]
    pub(super) time: Option<Time<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Time<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Text::deserialize(d).map(Time::Text)
    }
}

// ---- client messages ----------------------------------------------------------------------

#[derive(Serialize)]
pub(super) struct Auth<'a> {
    pub(super) action: &'static str,
    pub(super) key: &'a str,
    pub(super) secret: &'a str,
}

#[derive(Serialize)]
pub(super) struct Subscription<'a> {
    pub(super) action: &'static str,
    pub(super) quotes: &'a [String],
    pub(super) trades: &'a [String],
}

/// A small msgpack writer for the client's own messages (maps of strings and string lists).
pub(super) fn mp_str(out: &mut Vec<u8>, s: &str) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= usize::from(u8::MAX) {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(0xda);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

pub(super) fn mp_array_len(out: &mut Vec<u8>, len: usize) {
    if len < 16 {
        out.push(0x90 | len as u8);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(0xdc);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    }
}
