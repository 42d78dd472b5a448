//! DXLink on the wire as the simulator writes it: the Quote and Trade fields it can fill,
//! control messages, and `FEED_DATA` in the COMPACT format.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Value};

/// The Quote fields the simulator can fill, in its default order.
pub(super) const QUOTE_FIELDS: [&str; 13] = [
    "eventType",
    "eventSymbol",
    "eventTime",
    "sequence",
    "timeNanoPart",
    "bidTime",
    "bidExchangeCode",
    "bidPrice",
    "bidSize",
    "askTime",
    "askExchangeCode",
    "askPrice",
    "askSize",
];

/// The Trade fields the simulator can fill, in its default order.
pub(super) const TRADE_FIELDS: [&str; 11] = [
    "eventType",
    "eventSymbol",
    "eventTime",
    "time",
    "timeNanoPart",
    "sequence",
    "exchangeCode",
    "price",
    "change",
    "size",
    "dayVolume",
];
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EvKind {
    Quote,
    Trade,
}

impl EvKind {
    pub(super) fn name(self) -> &'static str {
        match self {
            EvKind::Quote => "Quote",
            EvKind::Trade => "Trade",
        }
    }

    pub(super) fn of(name: &str) -> Option<Self> {
        match name {
            "Quote" => Some(EvKind::Quote),
            "Trade" => Some(EvKind::Trade),
            _ => None,
        }
    }
}

/// One event's values.
pub(super) struct Ev<'a> {
    pub(super) symbol_json: &'a str,
    pub(super) bid: f64,
    pub(super) ask: f64,
    pub(super) bid_size: f64,
    pub(super) ask_size: f64,
    pub(super) price: f64,
    pub(super) size: f64,
    pub(super) time: i64,
    pub(super) volume: f64,
}

/// Seconds as a JSON number: whole ones as integers (`60`), else fractional (`0.3`).
pub(super) fn secs(d: Duration) -> Value {
    if d.subsec_nanos() == 0 {
        json!(d.as_secs())
    } else {
        json!(d.as_secs_f64())
    }
}

pub(super) fn error(kind: &str, message: &str) -> Value {
    json!({"type": "ERROR", "channel": 0, "error": kind, "message": message})
}

/// A JSON number as DXLink writes one; NaN and infinities as the strings it uses.
fn num(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("\"NaN\"");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else {
        let _ = write!(out, "{x:?}");
    }
}

/// Writes `{"type":"FEED_DATA","channel":N,"data":["Quote",[…]]}`.
pub(super) fn encode(channel: u64, kind: EvKind, fields: &[&str], events: &[Ev<'_>]) -> String {
    let mut s = String::with_capacity(64 + events.len() * fields.len() * 12);
    let _ = write!(
        s,
        r#"{{"type":"FEED_DATA","channel":{channel},"data":["{}",["#,
        kind.name()
    );
    let mut first = true;
    for e in events {
        for f in fields {
            if !first {
                s.push(',');
            }
            first = false;
            match *f {
                "eventType" => {
                    s.push('"');
                    s.push_str(kind.name());
                    s.push('"');
                }
                "eventSymbol" => s.push_str(e.symbol_json),
                "eventTime" | "bidTime" | "askTime" | "time" => {
                    let _ = write!(s, "{}", e.time);
                }
                "sequence" | "timeNanoPart" => s.push('0'),
                "bidExchangeCode" | "askExchangeCode" | "exchangeCode" => s.push_str("\"Q\""),
                "bidPrice" => num(&mut s, e.bid),
                "askPrice" => num(&mut s, e.ask),
                "bidSize" => num(&mut s, e.bid_size),
                "askSize" => num(&mut s, e.ask_size),
                "price" => num(&mut s, e.price),
                "size" => num(&mut s, e.size),
                "change" => num(&mut s, 0.0),
                "dayVolume" => num(&mut s, e.volume),
                _ => s.push_str("\"NaN\""),
            }
        }
    }
    s.push_str("]]}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_json_with_the_fields_in_order() {
        let events = [Ev {
            symbol_json: "\"AAPL\"",
            bid: 189.5,
            ask: 189.52,
            bid_size: 100.0,
            ask_size: f64::NAN,
            price: 189.51,
            size: 5.0,
            time: 1_700_000_000_000,
            volume: 1.0,
        }];
        let f = encode(
            3,
            EvKind::Quote,
            &["eventType", "eventSymbol", "bidPrice", "askSize", "bidTime"],
            &events,
        );
        assert_eq!(
            f,
            r#"{"type":"FEED_DATA","channel":3,"data":["Quote",["Quote","AAPL",189.5,"NaN",1700000000000]]}"#
        );
        let v: Value = serde_json::from_str(&f).unwrap();
        assert_eq!(v["data"][1][1], "AAPL");
    }
}
