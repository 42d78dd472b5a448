//! The msgpack encoding of the data stream, which Alpaca's official SDKs ask for
//! (`Content-Type: application/msgpack` on the upgrade): the same messages as the JSON ones,
//! in binary frames, except that the `t` timestamps are msgpack Timestamps (ext type −1).
//!
//! Only what the stream needs is written by hand here (no dependency): encoding of JSON
//! values (integers, float64, strings, arrays, maps) plus the Timestamp, and decoding of
//! what clients send (maps of strings and arrays).
//!
//! Both encodings write a message's keys in Alpaca's order (`T` first, then `S`, the
//! fields as the docs list them), not alphabetically ([`json`], [`encode`]).

use chrono::DateTime;
use serde_json::{Map, Number, Value};

use super::CHANNELS;

/// Encodes a stream message; string values under the key `t` that are RFC 3339 times become
/// msgpack Timestamps.
pub(crate) fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write(&mut out, v, false);
    out
}

/// Keys in the order Alpaca writes them: a message's fields, then the channel lists of a
/// `subscription` reply (in [`CHANNELS`] order), then [`LAST_KEYS`]; others follow
/// alphabetically.
const FIELD_ORDER: [&str; 17] = [
    "T", "S", "i", "x", "bx", "bp", "bs", "ax", "ap", "as", "p", "s", "t", "c", "z", "code", "msg",
];
const LAST_KEYS: [&str; 2] = ["corrections", "cancelErrors"];

/// A key's place in Alpaca's order.
fn rank(k: &str) -> usize {
    let groups: [&[&str]; 3] = [&FIELD_ORDER, &CHANNELS, &LAST_KEYS];
    let mut base = 0;
    for group in groups {
        if let Some(i) = group.iter().position(|o| *o == k) {
            return base + i;
        }
        base += group.len();
    }
    base
}

/// A map's entries in Alpaca's key order.
fn ordered(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    entries
}

/// A stream message as JSON text, keys in Alpaca's order.
pub(crate) fn json(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_json(&mut out, v);
    out
}

fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in ordered(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_json(out, item);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn write(out: &mut Vec<u8>, v: &Value, is_time: bool) {
    match v {
        Value::Null => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => write_uint(out, u),
            (None, Some(i), _) => write_int(out, i),
            (_, _, f) => {
                out.push(0xcb);
                out.extend_from_slice(&f.unwrap_or(0.0).to_be_bytes());
            }
        },
        Value::String(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) if is_time => write_timestamp(out, t.timestamp(), t.timestamp_subsec_nanos()),
            _ => write_str(out, s),
        },
        Value::Array(items) => {
            write_len(out, items.len(), 0x90, 16, 0xdc, 0xdd);
            for item in items {
                write(out, item, false);
            }
        }
        Value::Object(map) => {
            write_len(out, map.len(), 0x80, 16, 0xde, 0xdf);
            for (k, item) in ordered(map) {
                write_str(out, k);
                write(out, item, k == "t");
            }
        }
    }
}

fn write_len(out: &mut Vec<u8>, len: usize, fix: u8, fix_max: usize, m16: u8, m32: u8) {
    if len < fix_max {
        out.push(fix | len as u8);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(m16);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(m32);
        out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if let Ok(l) = u8::try_from(len) {
        out.extend_from_slice(&[0xd9, l]);
    } else {
        write_len(out, len, 0, 0, 0xda, 0xdb);
    }
    out.extend_from_slice(s.as_bytes());
}

fn write_uint(out: &mut Vec<u8>, u: u64) {
    if u < 128 {
        out.push(u as u8);
    } else if let Ok(v) = u8::try_from(u) {
        out.extend_from_slice(&[0xcc, v]);
    } else if let Ok(v) = u16::try_from(u) {
        out.push(0xcd);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(u) {
        out.push(0xce);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if i >= -32 {
        out.push(i as u8);
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

/// The Timestamp extension (type −1) in its 32-, 64- or 96-bit form.
fn write_timestamp(out: &mut Vec<u8>, secs: i64, nanos: u32) {
    match u64::try_from(secs) {
        Ok(s) if s >> 34 == 0 => {
            if nanos == 0 && s <= u64::from(u32::MAX) {
                out.extend_from_slice(&[0xd6, 0xff]);
                out.extend_from_slice(&(s as u32).to_be_bytes());
            } else {
                out.extend_from_slice(&[0xd7, 0xff]);
                out.extend_from_slice(&((u64::from(nanos) << 34) | s).to_be_bytes());
            }
        }
        _ => {
            out.extend_from_slice(&[0xc7, 12, 0xff]);
            out.extend_from_slice(&nanos.to_be_bytes());
            out.extend_from_slice(&secs.to_be_bytes());
        }
    }
}

/// Decodes a client message; `None` if it is not well-formed msgpack (or has trailing bytes).
pub(crate) fn decode(bytes: &[u8]) -> Option<Value> {
    let mut r = Reader { bytes, pos: 0 };
    let v = r.value(0)?;
    (r.pos == bytes.len()).then_some(v)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn be(&mut self, n: usize) -> Option<u64> {
        Some(
            self.take(n)?
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        )
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > 16 {
            return None;
        }
        let b = *self.take(1)?.first()?;
        let v = match b {
            0x00..=0x7f => Value::from(b),
            0x80..=0x8f => self.map(usize::from(b & 0x0f), depth)?,
            0x90..=0x9f => self.array(usize::from(b & 0x0f), depth)?,
            0xa0..=0xbf => self.string(usize::from(b & 0x1f))?,
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xca => Value::from(f64::from(f32::from_bits(self.be(4)? as u32))),
            0xcb => {
                Number::from_f64(f64::from_bits(self.be(8)?)).map_or(Value::Null, Value::Number)
            }
            0xcc => Value::from(self.be(1)?),
            0xcd => Value::from(self.be(2)?),
            0xce => Value::from(self.be(4)?),
            0xcf => Value::from(self.be(8)?),
            0xd0 => Value::from(i64::from(self.be(1)? as u8 as i8)),
            0xd1 => Value::from(i64::from(self.be(2)? as u16 as i16)),
            0xd2 => Value::from(i64::from(self.be(4)? as u32 as i32)),
            0xd3 => Value::from(self.be(8)? as i64),
            0xd9 => self.sized_string(1)?,
            0xda => self.sized_string(2)?,
            0xdb => self.sized_string(4)?,
            0xdc => self.sized(2, depth, true)?,
            0xdd => self.sized(4, depth, true)?,
            0xde => self.sized(2, depth, false)?,
            0xdf => self.sized(4, depth, false)?,
            0xe0..=0xff => Value::from(i64::from(b as i8)),
            _ => return None, // bin and ext: nothing a client sends
        };
        Some(v)
    }

    fn string(&mut self, len: usize) -> Option<Value> {
        Some(Value::String(
            std::str::from_utf8(self.take(len)?).ok()?.to_string(),
        ))
    }

    fn sized_string(&mut self, width: usize) -> Option<Value> {
        let len = usize::try_from(self.be(width)?).ok()?;
        self.string(len)
    }

    fn sized(&mut self, width: usize, depth: usize, array: bool) -> Option<Value> {
        let len = usize::try_from(self.be(width)?).ok()?;
        if array {
            self.array(len, depth)
        } else {
            self.map(len, depth)
        }
    }

    fn array(&mut self, len: usize, depth: usize) -> Option<Value> {
        // Every element takes at least one byte: refuse lengths the input cannot hold.
        if len > self.bytes.len() - self.pos {
            return None;
        }
        (0..len)
            .map(|_| self.value(depth + 1))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array)
    }

    fn map(&mut self, len: usize, depth: usize) -> Option<Value> {
        if len > self.bytes.len() - self.pos {
            return None;
        }
        let mut m = Map::new();
        for _ in 0..len {
            let Value::String(k) = self.value(depth + 1)? else {
                return None;
            };
            let v = self.value(depth + 1)?;
            m.insert(k, v);
        }
        Some(Value::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn client_messages_round_trip() {
        let msg = json!({"action": "subscribe", "quotes": ["AAPL", "AMD"], "n": 300, "neg": -40});
        assert_eq!(decode(&encode(&msg)), Some(msg));
        assert_eq!(decode(&[0x92, 0x01]), None, "truncated");
        assert_eq!(
            decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]),
            None,
            "absurd length"
        );
    }

    #[test]
    fn keys_come_in_alpacas_order() {
        let msg = json!([{"z": "C", "t": "x", "S": "AAPL", "T": "t", "p": 1.5, "i": 7, "zz": 0}]);
        assert_eq!(
            json(&msg),
            r#"[{"T":"t","S":"AAPL","i":7,"p":1.5,"t":"x","z":"C","zz":0}]"#
        );
        assert_eq!(
            &encode(&json!({"S": "A", "T": "q"}))[..3],
            &[0x82, 0xa1, b'T']
        );
    }

    #[test]
    fn times_under_t_become_timestamps() {
        let bytes = encode(&json!({"t": "2021-02-22T15:51:44.208Z"}));
        // fixmap(1), fixstr "t", fixext8 type -1, (nanos << 34 | secs).
        assert_eq!(&bytes[..5], &[0x81, 0xa1, b't', 0xd7, 0xff]);
        let packed = u64::from_be_bytes(bytes[5..13].try_into().unwrap_or_default());
        assert_eq!(
            (packed >> 34, packed & ((1 << 34) - 1)),
            (208_000_000, 1_614_009_104)
        );
        // Elsewhere a time-like string stays a string.
        assert_eq!(encode(&json!({"x": "2021-02-22T15:51:44Z"}))[3], 0xb4);
    }
}
