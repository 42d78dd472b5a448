//! The pricing stream's wire types: a PRICE or HEARTBEAT line as read, its price levels
//! decimal as sent.

use serde::{Deserialize, Deserializer};

use crate::brokers::wire;
use crate::money::Decimal;

/// A decimal of a stream line (OANDA sends strings, `"1.08235"`; a number is accepted too),
/// read from the line's text: exactly as sent, never through `f64`.
fn exact<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    wire::strict_decimal(d)?.ok_or_else(|| serde::de::Error::custom("a price is null"))
}

/// One price level.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PriceBucket {
    #[serde(deserialize_with = "exact")]
    pub price: Decimal,
    #[serde(deserialize_with = "exact")]
    pub liquidity: Decimal,
}

/// A PRICE line.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub instrument: String,
    /// RFC 3339 with nanoseconds, as sent.
    pub time: String,
    pub status: Option<String>,
    pub tradeable: bool,
    pub bids: Vec<PriceBucket>,
    pub asks: Vec<PriceBucket>,
}

impl Price {
    /// The best bid.
    pub fn bid(&self) -> Option<Decimal> {
        self.bids.first().map(|b| b.price)
    }

    /// The best ask.
    pub fn ask(&self) -> Option<Decimal> {
        self.asks.first().map(|b| b.price)
    }
}

/// A line as read in one pass straight from its text (the decimals borrow it): the fields
/// of PRICE and HEARTBEAT lines; every other field is skipped unparsed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Line {
    #[serde(rename = "type", default)]
    pub(super) kind: Option<String>,
    #[serde(default)]
    pub(super) instrument: Option<String>,
    #[serde(default)]
    pub(super) time: Option<String>,
    #[serde(default)]
    pub(super) status: Option<String>,
    #[serde(default)]
    pub(super) tradeable: bool,
    #[serde(default)]
    pub(super) bids: Vec<PriceBucket>,
    #[serde(default)]
    pub(super) asks: Vec<PriceBucket>,
}

/// One useful line of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamLine {
    Price(Price),
    Heartbeat { time: String },
}
