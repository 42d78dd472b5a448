//! The simulated market: a few US equities whose prices take a small random walk, and the
//! stream's `quote` and `trade` messages built from it.
//!
//! The walk uses a fixed-seed xorshift generator (reproducible, no `rand` dependency). Prices
//! move only when the stream asks for a message; REST reads the current quote without moving
//! it, so a test that sets a price knows exactly what a market order fills at.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The best bid and offer of a symbol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quote {
    pub bid: f64,
    pub ask: f64,
}

#[derive(Debug)]
pub(crate) struct Market {
    prices: BTreeMap<String, f64>,
    /// Cumulative volume per symbol (the trade message's `cvol`).
    volume: BTreeMap<String, u64>,
    rng: u64,
}

impl Market {
    pub(crate) fn demo() -> Self {
        let list = [
            ("SPY", 545.60),
            ("AAPL", 189.50),
            ("MSFT", 415.20),
            ("TSLA", 244.10),
            ("IBM", 171.90),
        ];
        Self {
            prices: list.iter().map(|(s, p)| ((*s).to_string(), *p)).collect(),
            volume: list.iter().map(|(s, _)| ((*s).to_string(), 0)).collect(),
            rng: 0x2545_F491_4F6C_DD1D,
        }
    }

    pub(crate) fn knows(&self, symbol: &str) -> bool {
        self.prices.contains_key(symbol)
    }

    pub(crate) fn set_price(&mut self, symbol: &str, price: f64) {
        if let Some(p) = self.prices.get_mut(symbol) {
            *p = price;
        }
    }

    /// The current quote: one cent either side of the price.
    pub(crate) fn quote(&self, symbol: &str) -> Option<Quote> {
        let p = *self.prices.get(symbol)?;
        Some(Quote {
            bid: cents(p - 0.01),
            ask: cents(p + 0.01),
        })
    }

    /// The mid price, which positions are valued at.
    pub(crate) fn mid(&self, symbol: &str) -> Option<f64> {
        self.prices.get(symbol).map(|p| cents(*p))
    }

    fn next_unit(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        // The top 53 bits as a fraction in [0, 1); both casts are exact.
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn step(&mut self, symbol: &str) {
        let u = self.next_unit();
        if let Some(p) = self.prices.get_mut(symbol) {
            *p = (*p * (1.0 + (u - 0.5) * 0.001)).max(0.02);
        }
    }

    /// Steps the walk and returns a quote message (numbers, dates as epoch-ms strings).
    pub(crate) fn tick_quote(&mut self, symbol: &str) -> Option<Value> {
        self.step(symbol);
        let q = self.quote(symbol)?;
        let now = now_ms();
        let bidsz = 1 + (self.next_unit() * 100.0) as u32;
        let asksz = 1 + (self.next_unit() * 100.0) as u32;
        Some(json!({
            "type": "quote", "symbol": symbol,
            "bid": q.bid, "bidsz": bidsz, "bidexch": "Q", "biddate": now,
            "ask": q.ask, "asksz": asksz, "askexch": "Z", "askdate": now,
        }))
    }

    /// Steps the walk and returns a trade message (every value a string, as Tradier sends).
    pub(crate) fn tick_trade(&mut self, symbol: &str) -> Option<Value> {
        self.step(symbol);
        let price = cents(*self.prices.get(symbol)?);
        let size = 1 + (self.next_unit() * 300.0) as u64;
        let cvol = self.volume.get_mut(symbol)?;
        *cvol += size;
        Some(json!({
            "type": "trade", "symbol": symbol, "exch": "Q",
            "price": price.to_string(), "size": size.to_string(), "cvol": cvol.to_string(),
            "date": now_ms(), "last": price.to_string(),
        }))
    }
}

/// Rounds to whole cents.
pub(crate) fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn now_ms() -> String {
    chrono::Utc::now().timestamp_millis().to_string()
}
