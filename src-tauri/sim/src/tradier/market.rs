//! The simulated market: a few US equities, ETFs and an index whose prices take a small
//! random walk, the stream's messages built from it, and the security list that
//! `markets/lookup` and `markets/search` answer from.
//!
//! The walk uses a fixed-seed xorshift generator (reproducible, no `rand` dependency). Prices
//! move only when the stream asks for a message; REST reads the current quote without moving
//! it, so a test that sets a price knows exactly what a market order fills at.
//!
//! Messages are written by hand, field for field in Tradier's order
//! (`core/src/brokers/tradier/PROTOCOL.md`, and recorded frames): `quote` has numbers for
//! prices and sizes and epoch-ms strings for dates; `trade`, `tradex`, `summary` and
//! `timesale` send their values as strings (`timesale`'s `seq` is a number,
//! `cancel`/`correction` booleans).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The best bid and offer of a symbol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quote {
    pub bid: f64,
    pub ask: f64,
}

/// The stream's message types (`filter` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Quote,
    Trade,
    Summary,
    Timesale,
    Tradex,
}

impl Kind {
    pub(crate) const ALL: [Kind; 5] = [
        Kind::Quote,
        Kind::Trade,
        Kind::Summary,
        Kind::Timesale,
        Kind::Tradex,
    ];

    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "quote" => Kind::Quote,
            "trade" => Kind::Trade,
            "summary" => Kind::Summary,
            "timesale" => Kind::Timesale,
            "tradex" => Kind::Tradex,
            _ => return None,
        })
    }
}

/// One listed security.
#[derive(Debug, Clone)]
pub(crate) struct Security {
    pub symbol: &'static str,
    pub exchange: &'static str,
    /// `stock`, `etf`, `index`.
    pub kind: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Clone, Copy)]
struct Day {
    open: f64,
    high: f64,
    low: f64,
    prev_close: f64,
}

#[derive(Debug)]
pub(crate) struct Market {
    prices: BTreeMap<String, f64>,
    /// Cumulative volume per symbol (the trade message's `cvol`).
    volume: BTreeMap<String, u64>,
    days: BTreeMap<String, Day>,
    securities: Vec<Security>,
    /// The `timesale` sequence number.
    seq: u64,
    rng: u64,
}

const LISTED: [(Security, f64); 7] = [
    (sec("SPY", "P", "etf", "SPDR S&P 500 ETF Trust"), 545.60),
    (sec("AAPL", "Q", "stock", "Apple Inc"), 189.50),
    (sec("MSFT", "Q", "stock", "Microsoft Corp"), 415.20),
    (sec("TSLA", "Q", "stock", "Tesla Inc"), 244.10),
    (
        sec("IBM", "N", "stock", "International Business Machines Corp"),
        171.90,
    ),
    (sec("QQQ", "Q", "etf", "Invesco QQQ Trust Series 1"), 470.30),
    (sec("SPX", "I", "index", "S&P 500 Index"), 5456.00),
];

const fn sec(
    symbol: &'static str,
    exchange: &'static str,
    kind: &'static str,
    description: &'static str,
) -> Security {
    Security {
        symbol,
        exchange,
        kind,
        description,
    }
}

impl Market {
    pub(crate) fn demo() -> Self {
        let prices = LISTED
            .iter()
            .map(|(s, p)| (s.symbol.to_string(), *p))
            .collect();
        let days = LISTED
            .iter()
            .map(|(s, p)| {
                let day = Day {
                    open: cents(p * 0.998),
                    high: cents(p * 1.004),
                    low: cents(p * 0.995),
                    prev_close: cents(p * 0.997),
                };
                (s.symbol.to_string(), day)
            })
            .collect();
        Self {
            prices,
            volume: LISTED
                .iter()
                .map(|(s, _)| (s.symbol.to_string(), 0))
                .collect(),
            days,
            securities: LISTED.iter().map(|(s, _)| s.clone()).collect(),
            seq: 1000,
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

    /// `markets/lookup`: symbols starting with the query (case-insensitive).
    pub(crate) fn lookup(&self, q: &str) -> Vec<&Security> {
        let q = q.trim().to_ascii_uppercase();
        self.securities
            .iter()
            .filter(|s| !q.is_empty() && s.symbol.starts_with(q.as_str()))
            .collect()
    }

    /// `markets/search`: descriptions containing the query (case-insensitive); indexes only
    /// when asked for.
    pub(crate) fn search(&self, q: &str, indexes: bool) -> Vec<&Security> {
        let q = q.trim().to_lowercase();
        self.securities
            .iter()
            .filter(|s| indexes || s.kind != "index")
            .filter(|s| !q.is_empty() && s.description.to_lowercase().contains(q.as_str()))
            .collect()
    }

    fn next_unit(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        // The top 53 bits as a fraction in [0, 1); both casts are exact.
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Steps the walk; returns the new price.
    fn step(&mut self, symbol: &str) -> Option<f64> {
        let u = self.next_unit();
        let p = self.prices.get_mut(symbol)?;
        *p = (*p * (1.0 + (u - 0.5) * 0.001)).max(0.02);
        let price = cents(*p);
        if let Some(d) = self.days.get_mut(symbol) {
            d.high = d.high.max(price);
            d.low = d.low.min(price);
        }
        Some(price)
    }

    /// Steps the walk and appends one message of `kind` for `symbol` to `out`; `false` (and
    /// nothing written) for an unknown symbol.
    pub(crate) fn write_message(&mut self, kind: Kind, symbol: &str, out: &mut String) -> bool {
        match kind {
            Kind::Quote => self.write_quote(symbol, out),
            Kind::Trade => self.write_trade("trade", symbol, out),
            Kind::Tradex => self.write_trade("tradex", symbol, out),
            Kind::Summary => self.write_summary(symbol, out),
            Kind::Timesale => self.write_timesale(symbol, out),
        }
    }

    fn write_quote(&mut self, symbol: &str, out: &mut String) -> bool {
        if self.step(symbol).is_none() {
            return false;
        }
        let Some(q) = self.quote(symbol) else {
            return false;
        };
        let bidsz = 1 + (self.next_unit() * 100.0) as u32;
        let asksz = 1 + (self.next_unit() * 100.0) as u32;
        let now = now_ms();
        let _ = write!(
            out,
            r#"{{"type":"quote","symbol":"{symbol}","bid":{},"bidsz":{bidsz},"bidexch":"Q","biddate":"{now}","ask":{},"asksz":{asksz},"askexch":"Z","askdate":"{now}"}}"#,
            q.bid, q.ask
        );
        true
    }

    fn write_trade(&mut self, kind: &str, symbol: &str, out: &mut String) -> bool {
        let Some(price) = self.step(symbol) else {
            return false;
        };
        let size = 1 + (self.next_unit() * 300.0) as u64;
        let Some(cvol) = self.volume.get_mut(symbol) else {
            return false;
        };
        *cvol += size;
        let cvol = *cvol;
        let _ = write!(
            out,
            r#"{{"type":"{kind}","symbol":"{symbol}","exch":"Q","price":"{price}","size":"{size}","cvol":"{cvol}","date":"{}","last":"{price}"}}"#,
            now_ms()
        );
        true
    }

    fn write_summary(&mut self, symbol: &str, out: &mut String) -> bool {
        let Some(d) = self.days.get(symbol) else {
            return false;
        };
        let _ = write!(
            out,
            r#"{{"type":"summary","symbol":"{symbol}","open":"{}","high":"{}","low":"{}","prevClose":"{}"}}"#,
            d.open, d.high, d.low, d.prev_close
        );
        true
    }

    fn write_timesale(&mut self, symbol: &str, out: &mut String) -> bool {
        let Some(last) = self.step(symbol) else {
            return false;
        };
        let Some(q) = self.quote(symbol) else {
            return false;
        };
        let size = 100 * (1 + (self.next_unit() * 5.0) as u64);
        self.seq += 1;
        let _ = write!(
            out,
            r#"{{"type":"timesale","symbol":"{symbol}","exch":"Q","bid":"{}","ask":"{}","last":"{last}","size":"{size}","date":"{}","seq":{},"flag":"","cancel":false,"correction":false,"session":"normal"}}"#,
            q.bid,
            q.ask,
            now_ms(),
            self.seq
        );
        true
    }
}

/// Rounds to whole cents.
pub(crate) fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_json_in_tradiers_field_order() {
        let mut m = Market::demo();
        for kind in Kind::ALL {
            let mut out = String::new();
            assert!(m.write_message(kind, "SPY", &mut out));
            let v: serde_json::Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
            assert_eq!(v["symbol"], "SPY", "{out}");
        }
        let mut out = String::new();
        assert!(m.write_message(Kind::Quote, "SPY", &mut out));
        assert!(
            out.starts_with(r#"{"type":"quote","symbol":"SPY","bid":"#),
            "{out}"
        );
        assert!(!m.write_message(Kind::Trade, "NOPE", &mut String::new()));
    }

    #[test]
    fn lookup_matches_symbols_and_search_names() {
        let m = Market::demo();
        let syms = |v: Vec<&Security>| v.iter().map(|s| s.symbol).collect::<Vec<_>>();
        assert_eq!(syms(m.lookup("sp")), ["SPY", "SPX"]);
        assert_eq!(syms(m.search("apple", false)), ["AAPL"]);
        assert_eq!(syms(m.search("s&p", false)), ["SPY"]);
        assert_eq!(syms(m.search("s&p", true)), ["SPY", "SPX"]);
        assert!(m.lookup("").is_empty());
    }
}
