//! The wire types of Tradier's market stream: the symbol spelling, the empty-subscription
//! placeholder, and one message as read (every field Brokerdesk uses, leniently typed).

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;

use crate::brokers::wire::lenient_decimal;
use crate::money::Decimal;
use crate::stream::time_from_millis;

/// What an empty subscription is sent as (Tradier expects at least one symbol).
pub const EMPTY_PLACEHOLDER: &str = "$empty$";
/// Tradier's spelling of an instrument: trimmed and upper-case (`spy` → `SPY`).
pub fn tradier_symbol(instrument: &str) -> String {
    instrument.trim().to_ascii_uppercase()
}

/// One message, with every field Brokerdesk reads; the rest are skipped unparsed.
#[derive(Deserialize)]
pub(super) struct Message<'a> {
    #[serde(rename = "type", default)]
    pub(super) kind: Option<Kind>,
    #[serde(borrow, default)]
    pub(super) symbol: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) bid: Num,
    #[serde(default)]
    pub(super) ask: Num,
    #[serde(default)]
    pub(super) bidsz: Num,
    #[serde(default)]
    pub(super) asksz: Num,
    #[serde(default)]
    pub(super) biddate: Millis,
    #[serde(default)]
    pub(super) askdate: Millis,
    #[serde(default)]
    pub(super) price: Num,
    #[serde(default)]
    pub(super) last: Num,
    #[serde(default)]
    pub(super) size: Num,
    #[serde(default)]
    pub(super) date: Millis,
    #[serde(default)]
    pub(super) cancel: Flag,
    #[serde(default)]
    pub(super) correction: Flag,
    #[serde(borrow, default)]
    pub(super) error: Option<ErrorText<'a>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum Kind {
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
pub(super) enum ErrorText<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Other(IgnoredAny),
}

impl ErrorText<'_> {
    pub(super) fn text(&self) -> Cow<'_, str> {
        match self {
            ErrorText::Text(t) => Cow::Borrowed(t.as_ref()),
            ErrorText::Other(_) => Cow::Borrowed(""),
        }
    }
}

/// A price or size sent as a JSON number or a string (`"281.1"`), read from its text
/// (exact, borrowed from the frame); `null`, `""` and non-numbers are absent.
#[derive(Default, Clone, Copy)]
pub(super) struct Num(pub(super) Option<Decimal>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_decimal(d).map(Num)
    }
}

/// A time in epoch milliseconds, as a number or a string (`"1557757189000"`).
#[derive(Default, Clone, Copy)]
pub(super) struct Millis(pub(super) Option<DateTime<Utc>>);

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
pub(super) struct Flag(pub(super) bool);

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
