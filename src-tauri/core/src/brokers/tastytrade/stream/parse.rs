//! The DXLink message parser: one text message into events in one pass (no
//! `serde_json::Value`), pure and synchronous so it can be fuzzed directly.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::messages::{
    Amount, DxMessage, EventKind, Field, Key, Kind, Num, Text, QUOTE_FIELDS, TRADE_FIELDS,
};
use crate::money::Decimal;
use crate::stream::{time_from_millis, StreamEvent, Tick};

/// A frame [`parse_frame`] could not read (not JSON, not an object, a broken event list).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed DXLink message: {0}")]
pub struct FrameError(pub(super) String);

/// What [`parse_frame`] keeps between frames: the field order of Quote and Trade events and
/// which subscribed instrument each DXLink symbol stands for. Plain data, no I/O.
#[derive(Debug, Clone)]
pub struct FeedState {
    /// DXLink symbol → the instrument as the user subscribed it.
    pub(super) symbols: HashMap<String, String>,
    quote: Vec<Field>,
    trade: Vec<Field>,
    /// Holds a symbol that had to be unescaped (no allocation per event).
    sym_buf: String,
}

impl Default for FeedState {
    fn default() -> Self {
        Self::new()
    }
}

impl FeedState {
    /// Expects the fields Brokerdesk asks for ([`QUOTE_FIELDS`], [`TRADE_FIELDS`]) until a
    /// `FEED_CONFIG` says otherwise; no symbols yet.
    pub fn new() -> Self {
        Self {
            symbols: HashMap::new(),
            quote: QUOTE_FIELDS.iter().map(|f| Field::of(f)).collect(),
            trade: TRADE_FIELDS.iter().map(|f| Field::of(f)).collect(),
            sym_buf: String::new(),
        }
    }

    /// Routes events of `dx_symbol` to `instrument`; false if `dx_symbol` was routed already.
    pub fn add_symbol(&mut self, dx_symbol: &str, instrument: &str) -> bool {
        if self.symbols.contains_key(dx_symbol) {
            return false;
        }
        self.symbols
            .insert(dx_symbol.to_string(), instrument.to_string());
        true
    }

    /// Stops routing `instrument`; returns its DXLink symbol if it was routed.
    pub fn remove_instrument(&mut self, instrument: &str) -> Option<String> {
        let dx = self
            .symbols
            .iter()
            .find(|(_, user)| user.as_str() == instrument)
            .map(|(dx, _)| dx.clone())?;
        self.symbols.remove(&dx);
        Some(dx)
    }

    /// The instruments routed now.
    pub fn instruments(&self) -> impl Iterator<Item = &str> {
        self.symbols.values().map(String::as_str)
    }

    /// Sets the field order of `event_type`'s COMPACT events (what `FEED_CONFIG` does).
    pub fn set_fields<S: AsRef<str>>(&mut self, event_type: &str, fields: &[S]) {
        let layout = fields.iter().map(|f| Field::of(f.as_ref())).collect();
        match EventKind::of(event_type) {
            EventKind::Quote => self.quote = layout,
            EventKind::Trade => self.trade = layout,
            EventKind::Other => {}
        }
    }

    /// Parses one message; see [`parse_frame`].
    pub fn parse(
        &mut self,
        text: &str,
        received_at: DateTime<Utc>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<DxMessage, FrameError> {
        let before = out.len();
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = MsgSeed {
            st: self,
            at: received_at,
            out,
        }
        .deserialize(&mut de)
        .and_then(|m| de.end().map(|()| m));
        match parsed {
            Ok(msg) => {
                if msg == DxMessage::Keepalive {
                    out.push(StreamEvent::Heartbeat);
                }
                Ok(msg)
            }
            Err(e) => {
                out.truncate(before);
                Err(FrameError(e.to_string()))
            }
        }
    }
}

/// Parses one DXLink text message: appends its ticks (`FEED_DATA`) or a heartbeat
/// (`KEEPALIVE`) to `out` and says what the message was. `FEED_CONFIG` updates `state`'s
/// field order. Pure and synchronous (no I/O, no clock: `received_at` stamps the ticks), so
/// it can be fuzzed directly. On `Err` nothing was appended. Events of symbols `state`
/// does not route (unsubscribed, in flight) and events that carry no price are dropped.
pub fn parse_frame(
    text: &str,
    state: &mut FeedState,
    received_at: DateTime<Utc>,
    out: &mut Vec<StreamEvent>,
) -> Result<DxMessage, FrameError> {
    state.parse(text, received_at, out)
}

// ---- the one-pass deserializer -------------------------------------------------------

/// A symbol as read: borrowed from the frame, or (when it had escapes) in `sym_buf`.
#[derive(Debug, Default, Clone, Copy)]
enum Sym<'de> {
    #[default]
    None,
    Borrowed(&'de str),
    Buf,
}

/// One event's values, as far as a tick needs them.
#[derive(Debug, Default)]
struct Acc<'de> {
    sym: Sym<'de>,
    kind: Option<EventKind>,
    bid: Option<Decimal>,
    ask: Option<Decimal>,
    bid_size: Option<Decimal>,
    ask_size: Option<Decimal>,
    price: Option<Decimal>,
    size: Option<Decimal>,
    /// Epoch milliseconds.
    time: Option<i64>,
    bid_time: Option<i64>,
    ask_time: Option<i64>,
    event_time: Option<i64>,
}

impl Acc<'_> {
    fn set(&mut self, field: Field, v: Option<Decimal>) {
        let slot = match field {
            Field::BidPrice => &mut self.bid,
            Field::AskPrice => &mut self.ask,
            Field::BidSize => &mut self.bid_size,
            Field::AskSize => &mut self.ask_size,
            Field::Price => &mut self.price,
            Field::Size => &mut self.size,
            Field::Time | Field::BidTime | Field::AskTime | Field::EventTime => {
                // A time read as a decimal is cut to whole milliseconds; nonsense is absent.
                let ms = v.and_then(|d| d.trunc().to_i64());
                match field {
                    Field::Time => self.time = ms,
                    Field::BidTime => self.bid_time = ms,
                    Field::AskTime => self.ask_time = ms,
                    _ => self.event_time = ms,
                }
                return;
            }
            Field::Skip | Field::Symbol => return,
        };
        *slot = v;
    }

    /// Appends the tick of this event, if its symbol is routed and it carries a price.
    fn finish(
        &self,
        kind: EventKind,
        symbols: &HashMap<String, String>,
        sym_buf: &str,
        at: DateTime<Utc>,
        out: &mut Vec<StreamEvent>,
    ) {
        let sym = match self.sym {
            Sym::Borrowed(s) => s,
            Sym::Buf => sym_buf,
            Sym::None => return,
        };
        let Some(instrument) = symbols.get(sym) else {
            return;
        };
        let stamp = |x: Option<i64>| x.filter(|v| *v > 0);
        let (bid, ask, last, time) = match kind {
            EventKind::Quote => {
                let side = match (stamp(self.bid_time), stamp(self.ask_time)) {
                    (Some(b), Some(a)) => Some(b.max(a)),
                    (b, a) => b.or(a),
                };
                let time = stamp(self.time).or(side).or(stamp(self.event_time));
                (self.bid, self.ask, None, time)
            }
            EventKind::Trade => {
                let time = stamp(self.time).or(stamp(self.event_time));
                (None, None, self.price, time)
            }
            EventKind::Other => return,
        };
        if bid.is_none() && ask.is_none() && last.is_none() {
            return;
        }
        let mut tick = Tick::new(instrument.clone(), at);
        tick.bid = bid;
        tick.ask = ask;
        tick.last = last;
        if kind == EventKind::Quote {
            tick.bid_size = self.bid_size;
            tick.ask_size = self.ask_size;
        } else {
            tick.last_size = self.size;
        }
        tick.exchange_time = time.and_then(time_from_millis);
        out.push(StreamEvent::Tick(tick));
    }
}

/// Reads a symbol, borrowing it when it has no escapes.
struct SymSeed<'b> {
    buf: &'b mut String,
}

impl<'de> DeserializeSeed<'de> for SymSeed<'_> {
    type Value = Sym<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Sym<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SymSeed<'_> {
    type Value = Sym<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a symbol")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Sym<'de>, E> {
        Ok(Sym::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Sym<'de>, E> {
        self.buf.clear();
        self.buf.push_str(v);
        Ok(Sym::Buf)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }

    // A number where a symbol belongs: the event is dropped, the frame is not.
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Sym<'de>, E> {
        Ok(Sym::None)
    }
}

/// The whole message.
struct MsgSeed<'a> {
    st: &'a mut FeedState,
    at: DateTime<Utc>,
    out: &'a mut Vec<StreamEvent>,
}

impl<'de> DeserializeSeed<'de> for MsgSeed<'_> {
    type Value = DxMessage;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<DxMessage, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MsgSeed<'_> {
    type Value = DxMessage;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a DXLink message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DxMessage, A::Error> {
        let mut kind = None;
        let mut channel = 0u64;
        let mut state: Option<Text<'de>> = None;
        let mut error: Option<Text<'de>> = None;
        let mut message: Option<Text<'de>> = None;
        let mut keepalive = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Type => kind = Some(map.next_value::<Kind>()?),
                Key::Channel => {
                    let n = map.next_value::<Num>()?.0.unwrap_or(0.0);
                    channel = if n >= 0.0 { n as u64 } else { 0 };
                }
                // Only FEED_DATA has `data`; read it even when `type` comes later.
                Key::Data if matches!(kind, None | Some(Kind::FeedData)) => {
                    map.next_value_seed(DataSeed {
                        st: &mut *self.st,
                        at: self.at,
                        out: &mut *self.out,
                    })?;
                }
                Key::EventFields if matches!(kind, None | Some(Kind::FeedConfig)) => {
                    map.next_value_seed(FieldsSeed { st: &mut *self.st })?;
                }
                Key::State => state = Some(map.next_value()?),
                Key::Error => error = Some(map.next_value()?),
                Key::Message => message = Some(map.next_value()?),
                Key::KeepaliveTimeout => keepalive = map.next_value::<Num>()?.0,
                Key::Data | Key::EventFields | Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let text = |t: Option<Text<'de>>| t.map(|t| t.0.into_owned()).unwrap_or_default();
        Ok(match kind.unwrap_or(Kind::Other) {
            Kind::Setup => DxMessage::Setup {
                keepalive_timeout: keepalive
                    .filter(|s| *s > 0.0)
                    .and_then(|s| Duration::try_from_secs_f64(s).ok()),
            },
            Kind::AuthState => DxMessage::AuthState {
                authorized: state.is_some_and(|s| s.0 == "AUTHORIZED"),
            },
            Kind::ChannelOpened => DxMessage::ChannelOpened { channel },
            Kind::ChannelClosed => DxMessage::ChannelClosed { channel },
            Kind::FeedConfig => DxMessage::FeedConfig { channel },
            Kind::FeedData => DxMessage::FeedData { channel },
            Kind::Keepalive => DxMessage::Keepalive,
            Kind::Error => DxMessage::Error {
                channel,
                error: {
                    let e = text(error);
                    if e.is_empty() {
                        "UNKNOWN".into()
                    } else {
                        e
                    }
                },
                message: text(message),
            },
            Kind::Other => DxMessage::Other,
        })
    }
}

/// `FEED_CONFIG.eventFields`: `{"Quote": [fields…], …}`.
struct FieldsSeed<'a> {
    st: &'a mut FeedState,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the event fields per event type")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(event_type) = map.next_key::<Text<'de>>()? {
            let fields: Vec<Text<'de>> = map.next_value()?;
            let fields: Vec<&str> = fields.iter().map(|f| f.0.as_ref()).collect();
            self.st.set_fields(&event_type.0, &fields);
        }
        Ok(())
    }
}

/// `FEED_DATA.data`: COMPACT `[type, [values…], type, [values…]…]` (a type may also be the
/// legacy header `[type, [fields…]]`), or FULL `[{event}, {event}…]`.
struct DataSeed<'a> {
    st: &'a mut FeedState,
    at: DateTime<Utc>,
    out: &'a mut Vec<StreamEvent>,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("FEED_DATA data")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let head = seq.next_element_seed(HeadSeed {
                st: &mut *self.st,
                at: self.at,
                out: &mut *self.out,
            })?;
            match head {
                None => return Ok(()),
                Some(Head::Event) => {}
                Some(Head::Type(kind)) => {
                    let values = seq.next_element_seed(ValuesSeed {
                        kind,
                        st: &mut *self.st,
                        at: self.at,
                        out: &mut *self.out,
                    })?;
                    if values.is_none() {
                        return Err(de::Error::custom("an event type without values"));
                    }
                }
            }
        }
    }
}

enum Head {
    /// COMPACT values of this type follow.
    Type(EventKind),
    /// A FULL event, already appended.
    Event,
}

struct HeadSeed<'a> {
    st: &'a mut FeedState,
    at: DateTime<Utc>,
    out: &'a mut Vec<StreamEvent>,
}

impl<'de> DeserializeSeed<'de> for HeadSeed<'_> {
    type Value = Head;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Head, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HeadSeed<'_> {
    type Value = Head;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event type, a [type, fields] header or an event object")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Head, E> {
        Ok(Head::Type(EventKind::of(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Head, A::Error> {
        let event_type: Text<'de> = seq
            .next_element()?
            .ok_or_else(|| de::Error::custom("an empty event header"))?;
        let fields: Vec<Text<'de>> = seq.next_element()?.unwrap_or_default();
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        if !fields.is_empty() {
            let fields: Vec<&str> = fields.iter().map(|f| f.0.as_ref()).collect();
            self.st.set_fields(&event_type.0, &fields);
        }
        Ok(Head::Type(EventKind::of(&event_type.0)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
        let FeedState {
            symbols, sym_buf, ..
        } = self.st;
        let mut acc = Acc::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.0.as_ref() {
                "eventType" => {
                    let t: Text<'de> = map.next_value()?;
                    acc.kind = Some(EventKind::of(&t.0));
                }
                name => match Field::of(name) {
                    Field::Symbol => {
                        acc.sym = map.next_value_seed(SymSeed { buf: &mut *sym_buf })?;
                    }
                    Field::Skip => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    f => acc.set(f, map.next_value::<Amount>()?.0),
                },
            }
        }
        if let Some(kind) = acc.kind {
            acc.finish(kind, symbols, sym_buf, self.at, self.out);
        }
        Ok(Head::Event)
    }
}

/// The flat COMPACT values of one event type, split into events by the field order.
struct ValuesSeed<'a> {
    kind: EventKind,
    st: &'a mut FeedState,
    at: DateTime<Utc>,
    out: &'a mut Vec<StreamEvent>,
}

impl<'de> DeserializeSeed<'de> for ValuesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ValuesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of event values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let FeedState {
            symbols,
            quote,
            trade,
            sym_buf,
        } = self.st;
        let layout: &[Field] = match self.kind {
            EventKind::Quote => quote,
            EventKind::Trade => trade,
            EventKind::Other => &[],
        };
        if layout.is_empty() || !layout.contains(&Field::Symbol) {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let mut acc = Acc::default();
        let mut i = 0;
        loop {
            let more = match layout[i] {
                Field::Symbol => match seq.next_element_seed(SymSeed { buf: &mut *sym_buf })? {
                    Some(s) => {
                        acc.sym = s;
                        true
                    }
                    None => false,
                },
                Field::Skip => seq.next_element::<IgnoredAny>()?.is_some(),
                f => match seq.next_element::<Amount>()? {
                    Some(Amount(v)) => {
                        acc.set(f, v);
                        true
                    }
                    None => false,
                },
            };
            if !more {
                if i != 0 {
                    return Err(de::Error::custom(
                        "the values do not fill whole events of the configured fields",
                    ));
                }
                return Ok(());
            }
            i += 1;
            if i == layout.len() {
                acc.finish(self.kind, symbols, sym_buf, self.at, self.out);
                acc = Acc::default();
                i = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    fn state(symbols: &[&str]) -> FeedState {
        let mut st = FeedState::new();
        for s in symbols {
            st.add_symbol(s, s);
        }
        st
    }

    fn ticks(out: &[StreamEvent]) -> Vec<&Tick> {
        out.iter()
            .filter_map(|e| match e {
                StreamEvent::Tick(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn compact_quotes_split_by_the_requested_fields() {
        let mut st = state(&["AAPL", "MSFT"]);
        let mut out = Vec::new();
        let frame = r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",189.5,189.52,300,"NaN",1700000000123,1700000000456,"Quote","MSFT","410.1","410.3",100.0,200.0,0,0]]}"#;
        let msg = parse_frame(frame, &mut st, at(), &mut out);
        assert_eq!(msg, Ok(DxMessage::FeedData { channel: 1 }));
        let t = ticks(&out);
        assert_eq!(t.len(), 2);
        assert_eq!(
            (
                t[0].instrument.as_str(),
                t[0].bid,
                t[0].ask,
                t[0].bid_size,
                t[0].ask_size
            ),
            (
                "AAPL",
                Some(dec!(189.5)),
                Some(dec!(189.52)),
                Some(dec!(300.0)),
                None
            )
        );
        assert_eq!(
            t[0].exchange_time.map(|t| t.timestamp_millis()),
            Some(1_700_000_000_456)
        );
        assert_eq!(
            (t[1].bid, t[1].ask, t[1].exchange_time),
            (Some(dec!(410.1)), Some(dec!(410.3)), None)
        );
        assert_eq!(t[1].received_at, at());
    }

    #[test]
    fn a_cut_short_event_list_drops_the_whole_frame() {
        let mut st = state(&["AAPL"]);
        let mut out = vec![StreamEvent::Heartbeat];
        let frame = r#"{"type":"FEED_DATA","channel":1,"data":["Quote",["Quote","AAPL",1,2,3,4,5,6,"Quote","AAPL",1]]}"#;
        assert!(parse_frame(frame, &mut st, at(), &mut out).is_err());
        assert_eq!(out, vec![StreamEvent::Heartbeat], "nothing appended");
    }
}
