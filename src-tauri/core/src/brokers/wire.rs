//! Wire helpers shared by the connectors: brokers send money as JSON strings (sometimes as
//! numbers, sometimes empty), and an error must never carry a credential back out.
//!
//! Decimals are read from the JSON **text** of the value, never through `f64`: serde_json
//! hands a number to a visitor as an `f64` (its digits already rounded to binary), so the
//! readers here take the value's raw text instead ([`RawValue`]) and parse that. A price of
//! `1.08235` on the wire, as a number or as a string, is exactly `1.08235`.
//! - [`decimal`] / [`opt_decimal`] (`deserialize_with`, REST answers): the value is copied
//!   into a `Box<RawValue>` (one small allocation), which works with every serde_json
//!   deserializer, `from_value` included (a `Value` has already lost a number's text; its
//!   shortest round-trip form is what is left).
//! - [`lenient_decimal`] / [`strict_decimal`] (the stream parsers, where every allocation
//!   counts): the text is borrowed from the frame (`&RawValue`), so they work only when the
//!   message is parsed from a `&str` / `&[u8]` in one piece, which is how every stream parser
//!   reads its frames.
//! - [`decimal_from_f64`]: binary formats (Alpaca's msgpack) carry IEEE floats; there the
//!   conversion is unavoidable and uses the shortest decimal that reads back as the same
//!   float (`1.08235`, not `1.0823499999999999`).

use std::fmt::Write as _;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use super::BrokerError;

/// The longest part of a refused value an error quotes.
const QUOTE: usize = 40;

/// Formats a decimal for a broker's order body: plain, trailing zeros dropped (`1`,
/// `150.25`); `Display` never uses exponent notation.
pub fn decimal_string(x: Decimal) -> String {
    x.normalize().to_string()
}

/// `serialize_with` for a decimal a broker wants as a JSON number: its digits written as they
/// are ([`decimal_string`]), never through `f64`. serde_json writes the [`RawValue`] verbatim;
/// serialize the body with serde_json directly (`to_raw_value`, `to_vec`), not through a
/// `Value`, which would read the number back as a float.
pub fn as_number<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    RawValue::from_string(decimal_string(*d))
        .map_err(serde::ser::Error::custom)?
        .serialize(s)
}

pub use crate::money::number;

/// Reads the JSON text of one value as a decimal: a number, a string holding one
/// (`" 1.5 "`), or `null` / `""` (absent). Anything else is an error.
pub fn decimal_from_json(raw: &str) -> Result<Option<Decimal>, String> {
    let raw = raw.trim();
    let refused = |s: &str| {
        let quoted: String = s.chars().take(QUOTE).collect();
        format!("not a number: {quoted}")
    };
    match raw.as_bytes().first() {
        Some(b'"') => {
            let unescaped;
            let inner = match raw.get(1..raw.len().saturating_sub(1)) {
                Some(inner) if raw.len() >= 2 && !inner.contains('\\') => inner,
                _ => {
                    unescaped = serde_json::from_str::<String>(raw).map_err(|_| refused(raw))?;
                    unescaped.as_str()
                }
            };
            let t = inner.trim();
            if t.is_empty() {
                Ok(None)
            } else {
                number(t).map(Some).ok_or_else(|| refused(raw))
            }
        }
        Some(b'-' | b'0'..=b'9') => number(raw).map(Some).ok_or_else(|| refused(raw)),
        _ if raw == "null" => Ok(None),
        _ => Err(refused(raw)),
    }
}

/// `deserialize_with` for an optional decimal (a number or a string; `null` and `""` are
/// absent).
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    decimal_from_json(raw.get()).map_err(serde::de::Error::custom)
}

/// `deserialize_with` for a required decimal.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    opt_decimal(d)?.ok_or_else(|| serde::de::Error::custom("a required number is null"))
}

/// Reads the JSON text of a stream value leniently: anything that is not a number (`"NaN"`,
/// `true`, an object) is absent rather than an error, but a JSON number a [`Decimal`] cannot
/// hold (`1e400`, `1e308`) is an error, as serde_json makes of a number out of `f64`'s range:
/// the message is malformed.
pub fn lenient_from_json(raw: &str) -> Result<Option<Decimal>, &'static str> {
    match raw.as_bytes().first() {
        Some(b'-' | b'0'..=b'9') => number(raw).map(Some).ok_or("a number out of range"),
        _ => Ok(decimal_from_json(raw).ok().flatten()),
    }
}

/// `deserialize_with` for a stream field: the text borrowed from the frame, read by
/// [`lenient_from_json`].
pub fn lenient_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let raw = <&'de RawValue>::deserialize(d)?;
    lenient_from_json(raw.get()).map_err(serde::de::Error::custom)
}

/// `deserialize_with` for a stream field: the text borrowed from the frame; a value that is
/// not a number is an error (the message is malformed).
pub fn strict_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let raw = <&'de RawValue>::deserialize(d)?;
    decimal_from_json(raw.get()).map_err(serde::de::Error::custom)
}

/// `deserialize_with` for a REST decimal some brokers write for people (IBKR: a number, or
/// a string like `"1,234.50"`): thousands separators are dropped, and `null`, `""` and junk
/// are absent rather than errors.
pub fn grouped_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    let raw = raw.get();
    Ok(match raw.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(raw)
            .ok()
            .and_then(|s| number(&s.trim().replace(',', ""))),
        Some(b'-' | b'0'..=b'9') => number(raw),
        _ => None,
    })
}

/// An id that brokers send as a number or as a string (`257459`, `"257459"`), as text;
/// `None` for an empty string and every other shape.
pub fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `deserialize_with` for a required id ([`id_text`]).
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    id_text(&v).ok_or_else(|| serde::de::Error::custom(format!("not an id: {v}")))
}

/// `deserialize_with` for an optional id ([`id_text`]; other shapes are absent).
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(id_text(&Value::deserialize(d)?))
}

/// Converts a binary float from the wire (msgpack) to the shortest decimal that reads back
/// as the same float: `1.08235` for the `f64` nearest 1.08235. `None` for NaN, infinities
/// and magnitudes a [`Decimal`] cannot hold.
pub fn decimal_from_f64(f: f64) -> Option<Decimal> {
    if !f.is_finite() {
        return None;
    }
    // Fast path, for up to 15 significant digits (every price in practice): the largest
    // scale s that keeps |f|·10^s below 10^15. There the product's rounding error is far
    // below 0.5, so m = round(f·10^s) is the shortest decimal's digits padded with zeros
    // whenever that decimal has at most 15 digits; both operands of m / 10^s are exact and
    // IEEE division rounds correctly, so `m / 10^s == f` means "m·10^-s reads back as f".
    // Dropping m's trailing zeros then gives the shortest form.
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let a = f.abs();
    if let Some(scale) = POW10.iter().rposition(|p| a * p < 1e15) {
        let pow = POW10[scale];
        let m = (f * pow).round();
        if m / pow == f {
            // At most 15 trailing zeros: dropped 8, 4, 2, 1 and 1 at a time (five steps,
            // where one at a time would take up to fifteen on this hot path).
            let (mut m, mut scale) = (m as i64, scale as u32);
            for (div, k) in [(100_000_000, 8), (10_000, 4), (100, 2), (10, 1), (10, 1)] {
                if scale >= k && m % div == 0 {
                    m /= div;
                    scale -= k;
                }
            }
            return Decimal::try_new(m, scale).ok();
        }
    }
    // Rust's `Display` for floats writes the shortest round-trip digits, never an exponent.
    let mut buf = StackText::<64>::default();
    write!(buf, "{f}").ok()?;
    Decimal::from_str(buf.as_str()).ok()
}

/// As [`decimal_from_f64`], for a 32-bit float (the shortest form that reads back as the
/// same `f32`: `1.5`, not the `f64` widening's `1.5000000596046448` for inexact values).
pub fn decimal_from_f32(f: f32) -> Option<Decimal> {
    if !f.is_finite() {
        return None;
    }
    let mut buf = StackText::<64>::default();
    write!(buf, "{f}").ok()?;
    Decimal::from_str(buf.as_str()).ok()
}

/// A fixed-size text buffer, so formatting a float allocates nothing.
struct StackText<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Default for StackText<N> {
    fn default() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> StackText<N> {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl<const N: usize> std::fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl BrokerError {
    /// Returns the error with every occurrence of the given secrets replaced by `••••`,
    /// should a server or a proxy ever echo one back.
    pub fn scrubbed(self, secrets: &[&str]) -> Self {
        let clean = |mut s: String| {
            for secret in secrets.iter().filter(|s| !s.is_empty()) {
                if s.contains(secret) {
                    s = s.replace(secret, "••••");
                }
            }
            s
        };
        match self {
            BrokerError::Auth(m) => BrokerError::Auth(clean(m)),
            BrokerError::Unavailable { status, message } => BrokerError::Unavailable {
                status,
                message: clean(message),
            },
            BrokerError::Network(m) => BrokerError::Network(clean(m)),
            BrokerError::Protocol(m) => BrokerError::Protocol(clean(m)),
            BrokerError::Rejected {
                status,
                code,
                message,
            } => BrokerError::Rejected {
                status,
                code: clean(code),
                message: clean(message),
            },
            BrokerError::NotFound(m) => BrokerError::NotFound(clean(m)),
            BrokerError::Config(m) => BrokerError::Config(clean(m)),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn scrubbing_removes_every_secret_everywhere() {
        let e = BrokerError::Rejected {
            status: 400,
            code: "tok-A".into(),
            message: "bad tok-A and sec-B".into(),
        };
        let s = e.scrubbed(&["tok-A", "sec-B", ""]);
        assert_eq!(
            s.to_string(),
            "the broker rejected the request (••••): bad •••• and ••••"
        );
    }

    #[test]
    fn decimals_accept_strings_numbers_and_blanks() {
        assert_eq!(decimal_from_json("\" 1.5 \""), Ok(Some(dec!(1.5))));
        assert_eq!(decimal_from_json("2"), Ok(Some(dec!(2))));
        assert_eq!(decimal_from_json("\"\""), Ok(None));
        assert_eq!(decimal_from_json("null"), Ok(None));
        assert!(decimal_from_json("true").is_err());
        assert!(decimal_from_json("\"abc\"").is_err());
        assert!(decimal_from_json("{}").is_err());
        assert_eq!(decimal_string(dec!(150.25)), "150.25");
        assert_eq!(decimal_string(dec!(1.0)), "1");
    }

    #[test]
    fn json_numbers_and_strings_keep_every_digit() {
        #[derive(Deserialize)]
        struct Rest {
            #[serde(deserialize_with = "decimal")]
            a: Decimal,
            #[serde(default, deserialize_with = "opt_decimal")]
            b: Option<Decimal>,
        }
        let r: Rest = serde_json::from_str(r#"{"a": 1.08235, "b": "0.30000000000000000001"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.a, dec!(1.08235));
        assert_eq!(r.a.to_string(), "1.08235");
        assert_eq!(r.b, Some(dec!(0.30000000000000000001)));
        // Scale as sent: a price quoted to 5 places keeps its trailing zero.
        let r: Rest = serde_json::from_str(r#"{"a": 1.08230}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.a.to_string(), "1.08230");
        // From a Value too (its number text is gone; the shortest form is what is left).
        let r: Rest = serde_json::from_value(serde_json::json!({"a": "1.08235", "b": 2}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.a, r.b), (dec!(1.08235), Some(dec!(2))));
        // Exponents (JSON allows them) and escapes.
        assert_eq!(decimal_from_json("1.5e-7"), Ok(Some(dec!(0.00000015))));
        assert_eq!(decimal_from_json("\"\\u0031.5\""), Ok(Some(dec!(1.5))));
        // The hot path and the general parser agree.
        for t in [
            "1.08235",
            "-2",
            "189.1200",
            "0.000001",
            "123456789012345678",
            "1.",
        ] {
            assert_eq!(
                crate::money::plain_number(t.as_bytes()).map(|d| d.to_string()),
                Decimal::from_str(t).ok().map(|d| d.to_string()),
                "{t}"
            );
        }
        for t in [
            "",
            "-",
            ".",
            "1.2.3",
            "1e5",
            "+1",
            "1_0",
            "1234567890123456789",
            "0.0000000000000000001",
        ] {
            assert_eq!(crate::money::plain_number(t.as_bytes()), None, "{t}");
        }
        assert_eq!(
            number("1234567890123456789.5")
                .map(|d| d.to_string())
                .as_deref(),
            Some("1234567890123456789.5")
        );
        // 0.1 + 0.2 as text stays what it says.
        assert_eq!(decimal_from_json("0.3"), Ok(Some(dec!(0.1) + dec!(0.2))));
    }

    #[test]
    fn stream_fields_borrow_the_text() {
        #[derive(Deserialize)]
        struct Msg {
            #[serde(default, deserialize_with = "lenient_decimal")]
            p: Option<Decimal>,
            #[serde(default, deserialize_with = "strict_decimal")]
            s: Option<Decimal>,
        }
        let m: Msg = serde_json::from_str(r#"{"p": 189.123456, "s": "100"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.p, m.s), (Some(dec!(189.123456)), Some(dec!(100))));
        let m: Msg =
            serde_json::from_str(r#"{"p": "NaN", "s": null}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.p, m.s), (None, None));
        // A number no decimal holds is malformed, not absent (serde_json refuses 1e400 too).
        assert!(serde_json::from_str::<Msg>(r#"{"p": 1e400}"#).is_err());
        assert!(serde_json::from_str::<Msg>(r#"{"p": 1e30}"#).is_err());
        assert!(serde_json::from_str::<Msg>(r#"{"s": [1]}"#).is_err());
    }

    #[test]
    fn floats_become_their_shortest_round_trip_decimal() {
        for (f, want) in [
            (1.08235, "1.08235"),
            (189.12, "189.12"),
            (0.1 + 0.2, "0.30000000000000004"),
            (150.0, "150"),
            (-2.5, "-2.5"),
            (1e-7, "0.0000001"),
            (123_456_789.123_456_78, "123456789.12345678"),
            (1e20, "100000000000000000000"),
            (0.0001, "0.0001"),
            (999_999_999_999_999.0, "999999999999999"),
            (1e-20, "0.00000000000000000001"),
            (-0.0, "0"),
            (0.1, "0.1"),
        ] {
            let d = decimal_from_f64(f).unwrap_or_else(|| panic!("{f}"));
            assert_eq!(d.to_string(), want, "{f}");
            assert_eq!(
                d.to_string().parse::<f64>().ok(),
                Some(f),
                "{f} round-trips"
            );
        }
        assert_eq!(decimal_from_f64(f64::NAN), None);
        assert_eq!(decimal_from_f64(f64::INFINITY), None);
        assert_eq!(decimal_from_f64(1e300), None);
        assert_eq!(
            decimal_from_f32(1.1f32).map(|d| d.to_string()),
            Some("1.1".into())
        );
    }
}
