//! The Alpaca stream's parser: frames (JSON text or msgpack binary) into events, pure and
//! synchronous so it can be fuzzed and benchmarked alone (see the module docs of
//! [`super`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::messages::{Msg, Text, Time};
use super::Encoding;
use crate::brokers::wire::{decimal_from_f32, decimal_from_f64};
use crate::brokers::BrokerError;
use crate::money::Decimal;
use crate::stream::{parse_time, NoticeCode, StreamEvent, Tick};

/// What a frame said about the session, besides its events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Control {
    /// `{"T":"success","msg":"connected"}` was seen.
    pub connected: bool,
    /// `{"T":"success","msg":"authenticated"}` was seen.
    pub authenticated: bool,
    /// A `{"T":"subscription",…}` ack was seen.
    pub subscribed: bool,
    /// The code of the last non-fatal error message (also reported as a Notice).
    pub error: Option<u16>,
}

/// Turns frames into events, mapping Alpaca's symbols back to the names the user subscribed
/// with (`aapl` is sent as `AAPL`; its ticks come back as `aapl`).
#[derive(Debug, Default, Clone)]
pub struct FrameParser {
    /// Wire symbol → the user's spelling, only for symbols spelled differently.
    aliases: HashMap<String, String>,
}

impl FrameParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers that ticks for `wire` must carry `user` as their instrument.
    pub fn alias(&mut self, wire: &str, user: &str) {
        if wire == user {
            self.aliases.remove(wire);
        } else {
            self.aliases.insert(wire.to_string(), user.to_string());
        }
    }

    /// Forgets the alias of `wire`.
    pub fn unalias(&mut self, wire: &str) {
        self.aliases.remove(wire);
    }

    /// Parses one frame (`encoding` says how it is encoded: a text frame is JSON, a binary
    /// frame msgpack) and appends its events to `out`, stamped `received_at`.
    ///
    /// A malformed frame appends nothing and returns `Ok` with a default [`Control`] (it is
    /// logged at `warn`). `Err` only for Alpaca's errors that end the stream (401, 402, 404 →
    /// [`BrokerError::Auth`]; 406, 409 → [`BrokerError::Rejected`]); events of the same frame
    /// before the error are kept. Never panics, whatever the input.
    pub fn parse(
        &self,
        encoding: Encoding,
        frame: &[u8],
        received_at: DateTime<Utc>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<Control, BrokerError> {
        let start = out.len();
        let mut sink = Sink {
            parser: self,
            received_at,
            out,
            control: Control::default(),
            fatal: None,
        };
        let parsed = match encoding {
            Encoding::Json => parse_json(frame, &mut sink),
            Encoding::Msgpack => parse_msgpack(frame, &mut sink),
        };
        match parsed {
            Ok(()) => match sink.fatal {
                Some(e) => Err(e),
                None => Ok(sink.control),
            },
            Err(why) => {
                if let Some(e) = sink.fatal {
                    return Err(e);
                }
                sink.out.truncate(start);
                tracing::warn!(len = frame.len(), error = %why, "skipping a malformed Alpaca stream frame");
                Ok(Control::default())
            }
        }
    }

    fn instrument(&self, wire: &str) -> String {
        if self.aliases.is_empty() {
            return wire.to_string();
        }
        match self.aliases.get(wire) {
            Some(user) => user.clone(),
            None => wire.to_string(),
        }
    }
}

/// Parses one frame without symbol aliases: the pure entry point for fuzzing and benches.
/// See [`FrameParser::parse`].
pub fn parse_frame(
    encoding: Encoding,
    frame: &[u8],
    received_at: DateTime<Utc>,
    out: &mut Vec<StreamEvent>,
) -> Result<Control, BrokerError> {
    FrameParser::default().parse(encoding, frame, received_at, out)
}

/// Where decoded messages go.
struct Sink<'p, 'o> {
    parser: &'p FrameParser,
    received_at: DateTime<Utc>,
    out: &'o mut Vec<StreamEvent>,
    control: Control,
    fatal: Option<BrokerError>,
}

impl Sink<'_, '_> {
    fn message(&mut self, m: Msg<'_>) {
        if self.fatal.is_some() {
            return;
        }
        let Some(kind) = m.kind else { return };
        match kind.0.as_ref() {
            "q" | "t" => {
                let Some(symbol) = m.symbol else { return };
                let mut tick = Tick::new(self.parser.instrument(&symbol.0), self.received_at);
                if kind.0.as_ref() == "q" {
                    tick.bid = m.bp;
                    tick.ask = m.ap;
                    tick.bid_size = m.bs;
                    tick.ask_size = m.asz;
                } else {
                    tick.last = m.p;
                    tick.last_size = m.s;
                }
                tick.exchange_time = match m.time {
                    Some(Time::At(t)) => Some(t),
                    Some(Time::Text(t)) => fast_rfc3339(&t.0).or_else(|| parse_time(&t.0)),
                    None => None,
                };
                self.out.push(StreamEvent::Tick(tick));
            }
            "success" => {
                match m.msg.as_ref().map(|t| t.0.as_ref()) {
                    Some("connected") => self.control.connected = true,
                    Some("authenticated") => self.control.authenticated = true,
                    _ => {}
                }
                self.out.push(StreamEvent::Heartbeat);
            }
            "subscription" => {
                self.control.subscribed = true;
                self.out.push(StreamEvent::Heartbeat);
            }
            "error" => {
                let code = m.code.unwrap_or(0);
                let text = m.msg.map(|t| t.0.into_owned()).unwrap_or_default();
                self.error(code, text);
            }
            // Bars, statuses, LULDs, corrections, cancels: not subscribed to, not needed.
            _ => {}
        }
    }

    fn error(&mut self, code: i64, msg: String) {
        let msg: String = msg.chars().filter(|c| !c.is_control()).take(200).collect();
        let described = if msg.is_empty() {
            format!("Alpaca stream error {code}")
        } else {
            format!("Alpaca stream error {code}: {msg}")
        };
        match code {
            401 | 402 | 404 => self.fatal = Some(BrokerError::Auth(described)),
            406 | 409 => {
                self.fatal = Some(BrokerError::Rejected {
                    status: u16::try_from(code).unwrap_or(0),
                    code: code.to_string(),
                    message: described,
                })
            }
            _ => {
                self.control.error = Some(u16::try_from(code).unwrap_or(0));
                let kind = if code == 405 {
                    NoticeCode::SymbolLimit
                } else {
                    NoticeCode::Broker
                };
                self.out.push(StreamEvent::Notice {
                    instrument: None,
                    code: kind,
                    broker_code: Some(code.to_string()),
                    message: described,
                });
            }
        }
    }
}

// ---- JSON -------------------------------------------------------------------------------

fn parse_json(frame: &[u8], sink: &mut Sink<'_, '_>) -> Result<(), String> {
    // One UTF-8 check for the whole frame (a text frame always passes), then the `str`
    // reader: it need not check every string again, nor the raw text of every price
    // ([`strict_decimal`] borrows it), which the byte-slice reader would.
    let text = std::str::from_utf8(frame).map_err(|e| format!("a frame that is not UTF-8: {e}"))?;
    let mut de = serde_json::Deserializer::from_str(text);
    FrameSeed(sink)
        .deserialize(&mut de)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())
}

/// Visits a frame (an array of messages, or one bare message) handing each to the sink.
struct FrameSeed<'s, 'p, 'o>(&'s mut Sink<'p, 'o>);

impl<'de> DeserializeSeed<'de> for FrameSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FrameSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Alpaca stream messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(m) = seq.next_element::<Msg<'de>>()? {
            self.0.message(m);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let m = Msg::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.0.message(m);
        Ok(())
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the only shape Alpaca sends, without the
/// general RFC 3339 machinery; `None` for anything else (the caller falls back).
pub(crate) fn fast_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac = &b[19..b.len() - 1];
    let nanos = match frac.split_first() {
        None => 0,
        Some((b'.', digits)) if !digits.is_empty() && digits.len() <= 9 => {
            let mut n = 0u32;
            for &c in digits {
                if !c.is_ascii_digit() {
                    return None;
                }
                n = n * 10 + u32::from(c - b'0');
            }
            n * 10u32.pow(9 - digits.len() as u32)
        }
        Some(_) => return None,
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + min * 60 + sec);
    // Rejects days past the month's end (Feb 30th) by checking the round trip.
    let t = DateTime::from_timestamp(secs, nanos)?;
    use chrono::Datelike;
    (t.day() == day).then_some(t)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---- msgpack ----------------------------------------------------------------------------

fn parse_msgpack(frame: &[u8], sink: &mut Sink<'_, '_>) -> Result<(), String> {
    let mut r = MpReader { b: frame, pos: 0 };
    let first = r.peek().ok_or("an empty frame")?;
    if is_map(first) {
        let m = r.message()?;
        sink.message(m);
    } else {
        let n = r.array_len()?;
        for _ in 0..n {
            let m = r.message()?;
            sink.message(m);
        }
    }
    if r.pos != frame.len() {
        return Err("trailing bytes after the frame".into());
    }
    Ok(())
}

fn is_map(b: u8) -> bool {
    matches!(b, 0x80..=0x8f | 0xde | 0xdf)
}

/// A zero-copy msgpack reader for the shapes the stream sends.
struct MpReader<'a> {
    b: &'a [u8],
    pos: usize,
}

type MpResult<T> = Result<T, String>;

impl<'a> MpReader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn byte(&mut self) -> MpResult<u8> {
        let v = self.peek().ok_or("truncated msgpack")?;
        self.pos += 1;
        Ok(v)
    }

    fn take(&mut self, n: usize) -> MpResult<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or("msgpack length overflow")?;
        let s = self.b.get(self.pos..end).ok_or("truncated msgpack")?;
        self.pos = end;
        Ok(s)
    }

    fn be(&mut self, n: usize) -> MpResult<u64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn len_of(&mut self, n: usize) -> MpResult<usize> {
        usize::try_from(self.be(n)?).map_err(|_| "msgpack length overflow".to_string())
    }

    fn array_len(&mut self) -> MpResult<usize> {
        match self.byte()? {
            b @ 0x90..=0x9f => Ok(usize::from(b & 0x0f)),
            0xdc => self.len_of(2),
            0xdd => self.len_of(4),
            b => Err(format!("expected a msgpack array, found 0x{b:02x}")),
        }
    }

    fn map_len(&mut self) -> MpResult<usize> {
        match self.byte()? {
            b @ 0x80..=0x8f => Ok(usize::from(b & 0x0f)),
            0xde => self.len_of(2),
            0xdf => self.len_of(4),
            b => Err(format!("expected a msgpack map, found 0x{b:02x}")),
        }
    }

    fn str(&mut self) -> MpResult<&'a str> {
        let len = match self.byte()? {
            b @ 0xa0..=0xbf => usize::from(b & 0x1f),
            0xd9 => self.len_of(1)?,
            0xda => self.len_of(2)?,
            0xdb => self.len_of(4)?,
            b => return Err(format!("expected a msgpack string, found 0x{b:02x}")),
        };
        std::str::from_utf8(self.take(len)?).map_err(|_| "a msgpack string is not UTF-8".into())
    }

    /// Any number as a decimal; `nil` as `None`. Integers are exact; floats (what Alpaca
    /// sends for prices) become their shortest round-trip decimal ([`decimal_from_f64`]):
    /// the binary encoding has no decimal text to keep, so this is the one unavoidable
    /// conversion from a float. A NaN or infinity is absent.
    fn number(&mut self) -> MpResult<Option<Decimal>> {
        let b = self.byte()?;
        let v = match b {
            0x00..=0x7f => Decimal::from(b),
            0xe0..=0xff => Decimal::from(b as i8),
            0xc0 => return Ok(None),
            0xca => return Ok(decimal_from_f32(f32::from_bits(self.be(4)? as u32))),
            0xcb => return Ok(decimal_from_f64(f64::from_bits(self.be(8)?))),
            0xcc => Decimal::from(self.be(1)?),
            0xcd => Decimal::from(self.be(2)?),
            0xce => Decimal::from(self.be(4)?),
            0xcf => Decimal::from(self.be(8)?),
            0xd0 => Decimal::from(self.be(1)? as u8 as i8),
            0xd1 => Decimal::from(self.be(2)? as u16 as i16),
            0xd2 => Decimal::from(self.be(4)? as u32 as i32),
            0xd3 => Decimal::from(self.be(8)? as i64),
            b => return Err(format!("expected a msgpack number, found 0x{b:02x}")),
        };
        Ok(Some(v))
    }

    /// A Timestamp (ext −1, 32/64/96-bit), or an RFC 3339 string; `nil` as `None`.
    fn time(&mut self) -> MpResult<Option<Time<'a>>> {
        let (len, ty) = match self.peek().ok_or("truncated msgpack")? {
            0xc0 => {
                self.pos += 1;
                return Ok(None);
            }
            0xa0..=0xbf | 0xd9..=0xdb => {
                return Ok(Some(Time::Text(Text(Cow::Borrowed(self.str()?)))));
            }
            0xd6 => {
                self.pos += 1;
                (4, self.byte()?)
            }
            0xd7 => {
                self.pos += 1;
                (8, self.byte()?)
            }
            0xc7 => {
                self.pos += 1;
                let len = self.len_of(1)?;
                (len, self.byte()?)
            }
            b => return Err(format!("expected a msgpack Timestamp, found 0x{b:02x}")),
        };
        if ty != 0xff {
            self.take(len)?;
            return Ok(None);
        }
        let (secs, nanos) = match len {
            4 => (self.be(4)? as i64, 0u32),
            8 => {
                let v = self.be(8)?;
                ((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
            }
            12 => {
                let nanos = self.be(4)? as u32;
                (self.be(8)? as i64, nanos)
            }
            _ => return Err("a msgpack Timestamp of an unknown size".into()),
        };
        Ok(DateTime::from_timestamp(secs, nanos).map(Time::At))
    }

    fn int(&mut self) -> MpResult<Option<i64>> {
        use rust_decimal::prelude::ToPrimitive;
        Ok(self.number()?.and_then(|d| d.trunc().to_i64()))
    }

    /// Skips one value of any type.
    fn skip(&mut self, depth: usize) -> MpResult<()> {
        if depth > 32 {
            return Err("msgpack nested too deeply".into());
        }
        let b = self.byte()?;
        let (skip_bytes, items) = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, usize::from(b & 0x0f) * 2),
            0x90..=0x9f => (0, usize::from(b & 0x0f)),
            0xa0..=0xbf => (usize::from(b & 0x1f), 0),
            0xc4 | 0xd9 => (self.len_of(1)?, 0),
            0xc5 | 0xda => (self.len_of(2)?, 0),
            0xc6 | 0xdb => (self.len_of(4)?, 0),
            0xc7 => (self.len_of(1)?.saturating_add(1), 0),
            0xc8 => (self.len_of(2)?.saturating_add(1), 0),
            0xc9 => (self.len_of(4)?.saturating_add(1), 0),
            0xca => (4, 0),
            0xcb => (8, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xce | 0xd2 => (4, 0),
            0xcf | 0xd3 => (8, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xdc => (0, self.len_of(2)?),
            0xdd => (0, self.len_of(4)?),
            0xde => (0, self.len_of(2)?.saturating_mul(2)),
            0xdf => (0, self.len_of(4)?.saturating_mul(2)),
            _ => return Err(format!("invalid msgpack byte 0x{b:02x}")),
        };
        self.take(skip_bytes)?;
        // Every item takes at least a byte: refuse counts the input cannot hold.
        if items > self.b.len() - self.pos {
            return Err("truncated msgpack".into());
        }
        for _ in 0..items {
            self.skip(depth + 1)?;
        }
        Ok(())
    }

    /// One message: a map of string keys, the fields the connector reads kept.
    fn message(&mut self) -> MpResult<Msg<'a>> {
        let n = self.map_len()?;
        if n > self.b.len() - self.pos {
            return Err("truncated msgpack".into());
        }
        let mut m = Msg::default();
        let text = |s: &'a str| Some(Text(Cow::Borrowed(s)));
        for _ in 0..n {
            match self.str()? {
                "T" => m.kind = text(self.str()?),
                "S" => m.symbol = text(self.str()?),
                "msg" => m.msg = text(self.str()?),
                "code" => m.code = self.int()?,
                "bp" => m.bp = self.number()?,
                "ap" => m.ap = self.number()?,
                "bs" => m.bs = self.number()?,
                "as" => m.asz = self.number()?,
                "p" => m.p = self.number()?,
                "s" => m.s = self.number()?,
                "t" => m.time = self.time()?,
                _ => self.skip(0)?,
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_time_parsing_agrees_with_chrono() {
        for s in [
            "2021-02-22T15:51:44.208Z",
            "2021-02-22T15:51:44.208123456Z",
            "2024-02-29T23:59:59Z",
            "1999-12-31T00:00:00.1Z",
            "2100-03-01T12:00:00.000000001Z",
        ] {
            assert_eq!(fast_rfc3339(s), parse_time(s), "{s}");
            assert!(fast_rfc3339(s).is_some(), "{s}");
        }
        for s in [
            "2021-02-30T15:51:44Z",
            "2021-02-22T15:51:44+01:00",
            "2021-02-22 15:51:44Z",
            "2021-13-22T15:51:44Z",
            "2021-02-22T15:51:44.Z",
            "2021-02-22T15:51:44.1234567890Z",
            "",
        ] {
            assert_eq!(fast_rfc3339(s), None, "{s}");
        }
    }
}
