//! Money: prices, quantities, sizes, balances and limits are exact decimals ([`Decimal`]) from
//! the wire parsers through the store to the UI, never binary floats (`0.1 + 0.2` must be
//! `0.3`, and a price of `1.08235` must stay `1.08235`).
//!
//! How a decimal crosses each surface:
//! - **the app's IPC** (and any JSON the core writes): a JSON **string** (`"1.08235"`), since
//!   JavaScript numbers are binary floats; the generated TypeScript says `string`. Fields use
//!   `#[serde(with = "crate::money::json")]` (`json_opt` for `Option<Decimal>`) and
//!   `#[ts(type = "string")]` (`"string | null"`).
//! - **the command line's JSON** (a stable external contract): a JSON **number** written with
//!   the decimal's own digits (`1.08235`, never a float's rounding): the CLI serializes inside
//!   [`with_json_numbers`], which switches these serializers for that one call on its thread.
//! - **the store**: TEXT columns holding [`Decimal`]'s `Display` form ([`from_stored`] reads
//!   them back, also the exponent forms that older profiles' REAL values migrated to).
//!
//! User input (IPC strings, CLI flags, order drafts) is read with [`parse`], which accepts
//! plain decimal notation only (`12`, `-0.5`, `1.08235`) and refuses what a number field
//! should never silently accept (`1e3`, `1_000`, `0x10`, `NaN`, more than 28 decimals).

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

pub use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// The most significant digits a [`Decimal`] holds (its 96-bit mantissa).
pub const MAX_DIGITS: usize = 28;

/// Why a text is not a decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not a number (use digits and one '.', e.g. 1.25)")]
    NotANumber(String),
    #[error("{0:?} has more than {MAX_DIGITS} digits")]
    TooManyDigits(String),
}

thread_local! {
    static JSON_NUMBERS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with decimals serialized as JSON numbers (their exact digits) instead of strings,
/// on this thread only; the previous mode is restored afterwards, even on a panic. For the
/// command line's JSON output, whose contract has numbers.
pub fn with_json_numbers<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            JSON_NUMBERS.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(JSON_NUMBERS.with(|c| c.replace(true)));
    f()
}

/// Parses user input in plain decimal notation: an optional sign, digits with at most one
/// `.`, surrounding whitespace ignored; at most [`MAX_DIGITS`] digits, never rounded.
pub fn parse(text: &str) -> Result<Decimal, MoneyError> {
    let t = text.trim();
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits_only(int) || !digits_only(frac) {
        return Err(MoneyError::NotANumber(text.to_string()));
    }
    let significant = format!("{int}{frac}");
    if significant.trim_start_matches('0').len() > MAX_DIGITS || frac.len() > MAX_DIGITS {
        return Err(MoneyError::TooManyDigits(text.to_string()));
    }
    Decimal::from_str_exact(t.strip_prefix('+').unwrap_or(t))
        .map_err(|_| MoneyError::TooManyDigits(text.to_string()))
}

/// Parses number text as brokers and older stores write it: plain (`1.08235`, `-2`) or with an exponent
/// (`1.5e-7`, what JSON allows and some encoders write). Digits beyond the 28 a [`Decimal`]
/// holds are rounded; `None` when it is not a number or out of range.
pub fn number(text: &str) -> Option<Decimal> {
    if let Some(d) = plain_number(text.as_bytes()) {
        return Some(d);
    }
    if text.bytes().any(|b| b == b'e' || b == b'E') {
        Decimal::from_scientific(text).ok()
    } else {
        Decimal::from_str(text).ok()
    }
}

/// Plain decimal text of at most 18 digits (`1.08235`, `-2`, `189.1200`), which is nearly
/// every price and size on the wire: read into one integer and a scale, without the general
/// parser's rounding and separator handling (the stream parsers' hot path). `None` for
/// anything else, which the general parser then reads.
pub(crate) fn plain_number(text: &[u8]) -> Option<Decimal> {
    let (negative, body) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, text),
    };
    if body.is_empty() || body.len() > 19 {
        return None;
    }
    let mut mantissa: i64 = 0;
    let mut digits = 0u32;
    let mut scale: Option<u32> = None;
    for &b in body {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits > 18 {
                    return None;
                }
                mantissa = mantissa * 10 + i64::from(b - b'0');
                if let Some(s) = scale.as_mut() {
                    *s += 1;
                }
            }
            b'.' if scale.is_none() => scale = Some(0),
            _ => return None,
        }
    }
    if digits == 0 {
        return None;
    }
    let signed = if negative { -mantissa } else { mantissa };
    Decimal::try_new(signed, scale.unwrap_or(0)).ok()
}

/// Reads a decimal from its stored text: what [`Decimal`]'s `Display` wrote, or the exponent
/// form (`1.0e-05`) SQLite gave REAL values of older profiles when they migrated to text.
pub fn from_stored(text: &str) -> Result<Decimal, MoneyError> {
    number(text.trim()).ok_or_else(|| MoneyError::NotANumber(text.to_string()))
}

fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    if JSON_NUMBERS.with(Cell::get) {
        // serde_json writes a RawValue verbatim, so the digits become a JSON number without
        // passing through f64. `Display` never uses an exponent, so the text is valid JSON.
        let raw = RawValue::from_string(d.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    } else {
        s.collect_str(d)
    }
}

/// Reads a decimal sent as a string (user input, in [`parse`]'s notation) or as a JSON
/// integer. A JSON float is refused: its digits are already lost to binary rounding.
struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal as a string, e.g. \"1.25\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }
}

/// `#[serde(with = "crate::money::json")]` for a [`Decimal`]: a string over IPC, a number
/// inside [`with_json_numbers`].
pub mod json {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        super::serialize(d, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

/// `#[serde(default, with = "crate::money::json_opt")]` for an `Option<Decimal>`: `null`
/// when absent.
pub mod json_opt {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        struct Opt;
        impl<'de> Visitor<'de> for Opt {
            type Value = Option<Decimal>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal as a string, or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(DecimalVisitor).map(Some)
            }
        }
        d.deserialize_option(Opt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Doc {
        #[serde(with = "json")]
        price: Decimal,
        #[serde(default, with = "json_opt")]
        limit: Option<Decimal>,
    }

    #[test]
    fn user_input_is_plain_decimal_notation_only() {
        assert_eq!(parse(" 1.08235 "), Ok(dec!(1.08235)));
        assert_eq!(parse("-0.5"), Ok(dec!(-0.5)));
        assert_eq!(parse("+12"), Ok(dec!(12)));
        assert_eq!(parse(".5"), Ok(dec!(0.5)));
        assert_eq!(parse("5."), Ok(dec!(5)));
        assert_eq!(parse("1.50").map(|d| d.to_string()), Ok("1.50".into()));
        for bad in [
            "", " ", ".", "-", "1e3", "1_000", "0x10", "NaN", "inf", "1.2.3", "1,5", "--1",
        ] {
            assert!(
                matches!(parse(bad), Err(MoneyError::NotANumber(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse("0.12345678901234567890123456789"),
            Err(MoneyError::TooManyDigits(_))
        ));
        assert!(matches!(
            parse("123456789012345678901234567890"),
            Err(MoneyError::TooManyDigits(_))
        ));
        assert_eq!(
            parse("0.1234567890123456789012345678"),
            Ok(dec!(0.1234567890123456789012345678))
        );
    }

    #[test]
    fn ipc_json_carries_strings_and_the_cli_numbers_with_the_same_digits() {
        let doc = Doc {
            price: dec!(1.08235),
            limit: Some(dec!(30.50)),
        };
        let ipc = serde_json::to_string(&doc).unwrap_or_default();
        assert_eq!(ipc, r#"{"price":"1.08235","limit":"30.50"}"#);
        let cli = with_json_numbers(|| serde_json::to_string(&doc)).unwrap_or_default();
        assert_eq!(cli, r#"{"price":1.08235,"limit":30.50}"#);
        let pretty = with_json_numbers(|| serde_json::to_string_pretty(&doc)).unwrap_or_default();
        assert!(pretty.contains("\"price\": 1.08235"), "{pretty}");
        // The mode ends with the call.
        assert_eq!(serde_json::to_string(&doc).unwrap_or_default(), ipc);
        let back: Doc = serde_json::from_str(&ipc).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, doc);
    }

    #[test]
    fn ipc_input_takes_strings_and_integers_not_floats() {
        let d: Doc = serde_json::from_str(r#"{"price":"0.1","limit":null}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.price, d.limit), (dec!(0.1), None));
        let d: Doc = serde_json::from_str(r#"{"price":3}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.price, d.limit), (dec!(3), None));
        assert!(serde_json::from_str::<Doc>(r#"{"price":0.1}"#).is_err());
        assert!(serde_json::from_str::<Doc>(r#"{"price":"1e3"}"#).is_err());
    }

    #[test]
    fn stored_text_reads_back_including_migrated_exponents() {
        assert_eq!(from_stored("4.8"), Ok(dec!(4.8)));
        assert_eq!(from_stored("1.0e-05"), Ok(dec!(0.00001)));
        assert_eq!(from_stored("2.5e-05"), Ok(dec!(0.000025)));
        assert!(from_stored("abc").is_err());
    }
}
