//! The simulated market: a few symbols whose prices take a small random walk, and the
//! stream's quote (`"T":"q"`) and trade (`"T":"t"`) messages built from it.
//!
//! The walk uses a fixed-seed xorshift generator, so a run is reproducible without a
//! `rand` dependency. Prices move only when the stream asks for a message ([`Market::tick`]);
//! the REST side reads the current quote ([`Market::quote`]) without moving it, so a test
//! that sets a price knows exactly what a market order fills at.

use std::collections::BTreeMap;

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

/// The only symbol of the always-on `test` feed.
pub const TEST_SYMBOL: &str = "FAKEPACA";

/// The best bid and offer of a symbol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quote {
    pub bid: f64,
    pub ask: f64,
    pub bid_size: u32,
    pub ask_size: u32,
}

#[derive(Debug)]
struct Symbol {
    price: f64,
    /// SIP tape: A = NYSE, B = Arca/other, C = Nasdaq.
    tape: &'static str,
    asset_id: String,
}

#[derive(Debug)]
pub(crate) struct Market {
    symbols: BTreeMap<String, Symbol>,
    rng: u64,
    trade_id: u64,
}

impl Market {
    pub(crate) fn demo() -> Self {
        let list: [(&str, f64, &str); 8] = [
            ("AAPL", 189.50, "C"),
            ("AMD", 162.30, "C"),
            ("MSFT", 415.20, "C"),
            ("TSLA", 244.10, "C"),
            ("NVDA", 121.40, "C"),
            ("SPY", 545.60, "B"),
            ("IBM", 171.90, "A"),
            (TEST_SYMBOL, 100.00, "C"),
        ];
        let symbols = list
            .iter()
            .map(|(s, p, tape)| {
                let sym = Symbol {
                    price: *p,
                    tape,
                    asset_id: uuid::Uuid::new_v4().to_string(),
                };
                ((*s).to_string(), sym)
            })
            .collect();
        Self {
            symbols,
            rng: 0x9E37_79B9_7F4A_7C15,
            trade_id: 1,
        }
    }

    pub(crate) fn asset_id(&self, symbol: &str) -> Option<String> {
        self.symbols.get(symbol).map(|s| s.asset_id.clone())
    }

    /// The symbols a feed streams: `test` has only [`TEST_SYMBOL`], the others the rest.
    pub(crate) fn feed_symbols(&self, feed: &str) -> Vec<String> {
        self.symbols
            .keys()
            .filter(|s| (feed == "test") == (s.as_str() == TEST_SYMBOL))
            .cloned()
            .collect()
    }

    pub(crate) fn set_price(&mut self, symbol: &str, price: f64) {
        if let Some(s) = self.symbols.get_mut(symbol) {
            s.price = price;
        }
    }

    /// Returns the current quote without moving the price.
    pub(crate) fn quote(&self, symbol: &str) -> Option<Quote> {
        let s = self.symbols.get(symbol)?;
        let spread = cents((s.price * 0.0002).max(0.01));
        let bid = cents(s.price - spread / 2.0);
        Some(Quote {
            bid,
            ask: cents(bid + spread),
            bid_size: 2,
            ask_size: 3,
        })
    }

    /// Moves the symbol's price one step of the walk (±0.05 % at most).
    fn step(&mut self, symbol: &str) {
        let u = self.next_unit();
        if let Some(s) = self.symbols.get_mut(symbol) {
            s.price = (s.price * (1.0 + (u - 0.5) * 0.001)).max(0.01);
        }
    }

    fn next_unit(&mut self) -> f64 {
        // xorshift64: small, fast, good enough for a price walk.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        // The top 53 bits as a fraction in [0, 1); both casts are exact.
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Steps the walk and returns a quote message for `symbol`.
    pub(crate) fn tick_quote(&mut self, symbol: &str, exchange: &str) -> Option<Value> {
        self.step(symbol);
        let q = self.quote(symbol)?;
        let tape = self.symbols.get(symbol)?.tape;
        Some(json!({
            "T": "q", "S": symbol,
            "bx": exchange, "bp": q.bid, "bs": q.bid_size,
            "ax": exchange, "ap": q.ask, "as": q.ask_size,
            "t": now_nanos(), "c": ["R"], "z": tape,
        }))
    }

    /// Steps the walk and returns a trade message for `symbol` (at a price inside the quote).
    pub(crate) fn tick_trade(&mut self, symbol: &str, exchange: &str) -> Option<Value> {
        self.step(symbol);
        let price = cents(self.symbols.get(symbol)?.price);
        let tape = self.symbols.get(symbol)?.tape;
        let id = self.trade_id;
        self.trade_id += 1;
        let size = 1 + (self.next_unit() * 200.0) as u32;
        Some(json!({
            "T": "t", "S": symbol, "i": id, "x": exchange, "p": price, "s": size,
            "t": now_nanos(), "c": ["@", "I"], "z": tape,
        }))
    }
}

/// Rounds to whole cents.
pub(crate) fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// RFC 3339 with nanoseconds, as the data stream sends (`2021-02-22T15:51:44.208123456Z`).
fn now_nanos() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true)
}
