//! The Client Portal WebSocket's wire types: the market-data fields subscribed, one server
//! frame as read (borrowed where it can be), and the tolerant readers of its values.

use std::borrow::Cow;

use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::brokers::wire::number;
use crate::money::Decimal;

/// The market-data fields subscribed: last, bid, ask size, ask, bid size, last size.
pub const FIELDS: [&str; 6] = ["31", "84", "85", "86", "88", "7059"];
/// One server frame, as much of it as is read. Borrowed where it can be; `args`, `error`
/// and `message` are only on rare frames, so a `Value` there costs nothing on the hot path.
#[derive(Deserialize)]
pub(super) struct Frame<'a> {
    #[serde(borrow, default)]
    pub(super) topic: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub(super) conid: Option<u64>,
    #[serde(rename = "31", default, deserialize_with = "lenient")]
    pub(super) last: Option<Decimal>,
    #[serde(rename = "84", default, deserialize_with = "lenient")]
    pub(super) bid: Option<Decimal>,
    #[serde(rename = "86", default, deserialize_with = "lenient")]
    pub(super) ask: Option<Decimal>,
    #[serde(rename = "88", default, deserialize_with = "lenient")]
    pub(super) bid_size: Option<Decimal>,
    #[serde(rename = "85", default, deserialize_with = "lenient")]
    pub(super) ask_size: Option<Decimal>,
    #[serde(rename = "7059", default, deserialize_with = "lenient")]
    pub(super) last_size: Option<Decimal>,
    /// Epoch milliseconds.
    #[serde(rename = "_updated", default, deserialize_with = "lenient_i64")]
    pub(super) updated: Option<i64>,
    #[serde(default)]
    pub(super) args: Option<Value>,
    #[serde(default)]
    pub(super) error: Option<Value>,
    #[serde(default)]
    pub(super) message: Option<Value>,
}

/// Parses an IBKR market-data value: `190.25`, `C190.25` (prior close), `H190.25` (halted),
/// `1,200`, `1.2K`, `3.4M`. `None` for anything else (`""`, `N/A`, `-`). Exact: the digits
/// are read as a decimal, and the suffixes scale it by powers of ten.
pub fn parse_value(s: &str) -> Option<Decimal> {
    let s = s
        .trim()
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .trim();
    let (body, scale) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 1_000u32),
        Some(b'M') => (&s[..s.len() - 1], 1_000_000),
        Some(b'B') => (&s[..s.len() - 1], 1_000_000_000),
        _ => (s, 1),
    };
    // Only digits, sign, point and exponent reach the parser.
    let plain = |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E');
    let v = if body.contains(',') {
        // Thousands separators: copy the rest to a stack buffer (no allocation).
        let mut buf = [0u8; 40];
        let mut n = 0;
        for &b in body.as_bytes().iter().filter(|&&b| b != b',') {
            if n == buf.len() || !plain(b) {
                return None;
            }
            buf[n] = b;
            n += 1;
        }
        number(std::str::from_utf8(&buf[..n]).ok()?)?
    } else {
        if body.is_empty() || !body.bytes().all(plain) {
            return None;
        }
        number(body)?
    };
    v.checked_mul(Decimal::from(scale))
}

/// A value sent as a number or a string (see [`parse_value`]), read from its JSON text
/// (borrowed from the frame); `null` and other shapes are absent.
fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let raw = <&'de RawValue>::deserialize(d)?.get();
    Ok(match raw.as_bytes().first() {
        Some(b'"') if !raw.contains('\\') => raw.get(1..raw.len() - 1).and_then(parse_value),
        // Escapes in a number are odd but legal JSON: unescape, then read.
        Some(b'"') => serde_json::from_str::<String>(raw)
            .ok()
            .and_then(|s| parse_value(&s)),
        // A number no decimal holds is malformed, as serde_json makes of one out of f64's
        // range.
        Some(b'-' | b'0'..=b'9') => {
            Some(number(raw).ok_or_else(|| serde::de::Error::custom("a number out of range"))?)
        }
        _ => None,
    })
}

/// A conid: a whole non-negative number, sent as a number or a string.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(lenient(d)?
        .filter(|x| !x.is_sign_negative() && x.fract().is_zero())
        .and_then(|x| x.to_u64()))
}

/// Epoch milliseconds, sent as a number or a string.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(lenient(d)?.and_then(|x| x.trunc().to_i64()))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn values_are_read_tolerantly() {
        assert_eq!(parse_value("190.25"), Some(dec!(190.25)));
        assert_eq!(parse_value("C190.25"), Some(dec!(190.25)));
        assert_eq!(parse_value("H 190.25"), Some(dec!(190.25)));
        assert_eq!(parse_value("1,200"), Some(dec!(1200.0)));
        assert_eq!(parse_value("1.2K"), Some(dec!(1200.0)));
        assert_eq!(parse_value("3M"), Some(dec!(3_000_000.0)));
        assert_eq!(parse_value("-0.5"), Some(dec!(-0.5)));
        assert_eq!(
            parse_value("1.08235").map(|d| d.to_string()).as_deref(),
            Some("1.08235")
        );
        let long = "1,".repeat(45);
        for bad in ["", "N/A", "-", "inf", "NaN", "1e999", "1,2x", long.as_str()] {
            assert_eq!(parse_value(bad), None, "{bad:?}");
        }
    }
}
