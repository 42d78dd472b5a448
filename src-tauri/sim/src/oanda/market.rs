//! The simulated market: a few USD pairs whose mid prices follow a seeded random walk, one
//! step per 250 ms window (OANDA conflates prices into 250 ms windows), advanced lazily from
//! the clock whenever someone looks, so prices move whether or not a stream is open.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::wire;

/// The conflation window: one random-walk step per window.
pub const STEP: Duration = Duration::from_millis(250);

/// One tradeable instrument.
#[derive(Debug, Clone)]
pub struct Instrument {
    pub mid: f64,
    pub half_spread: f64,
    /// Decimal places of prices (`displayPrecision`).
    pub precision: usize,
    /// A halted market cancels market orders with `MARKET_HALTED`.
    pub halted: bool,
    /// True for `XXX_USD` (P/L already in USD), false for `USD_XXX`.
    quote_is_usd: bool,
}

impl Instrument {
    fn new(mid: f64, spread: f64, precision: usize, quote_is_usd: bool) -> Self {
        Self {
            mid,
            half_spread: spread / 2.0,
            precision,
            halted: false,
            quote_is_usd,
        }
    }

    fn round(&self, v: f64) -> f64 {
        let f = 10f64.powi(i32::try_from(self.precision).unwrap_or(5));
        (v * f).round() / f
    }

    pub fn bid(&self) -> f64 {
        self.round(self.mid - self.half_spread)
    }

    pub fn ask(&self) -> f64 {
        self.round(self.mid + self.half_spread)
    }

    /// USD value of one unit of the base currency (the margin and notional basis).
    pub fn usd_per_unit(&self) -> f64 {
        if self.quote_is_usd {
            self.mid
        } else {
            1.0
        }
    }

    /// P/L in USD of `units` opened at `open` and valued at `mark`.
    pub fn pl_usd(&self, units: f64, open: f64, mark: f64) -> f64 {
        let quote_pl = units * (mark - open);
        if self.quote_is_usd || mark == 0.0 {
            quote_pl
        } else {
            quote_pl / mark
        }
    }

    /// The price a position of `units` is valued at (long at the bid, short at the ask).
    pub fn mark(&self, units: f64) -> f64 {
        if units >= 0.0 {
            self.bid()
        } else {
            self.ask()
        }
    }
}

/// The instruments and their random walk.
#[derive(Debug)]
pub struct Market {
    pub instruments: BTreeMap<String, Instrument>,
    rng: u64,
    stepped_at: Instant,
}

impl Market {
    pub fn new() -> Self {
        let mut instruments = BTreeMap::new();
        instruments.insert(
            "EUR_USD".to_string(),
            Instrument::new(1.085, 0.00014, 5, true),
        );
        instruments.insert(
            "GBP_USD".to_string(),
            Instrument::new(1.27, 0.00018, 5, true),
        );
        instruments.insert(
            "AUD_USD".to_string(),
            Instrument::new(0.655, 0.00016, 5, true),
        );
        instruments.insert(
            "USD_JPY".to_string(),
            Instrument::new(151.25, 0.014, 3, false),
        );
        instruments.insert(
            "USD_CHF".to_string(),
            Instrument::new(0.9, 0.00017, 5, false),
        );
        Self {
            instruments,
            rng: 0x9e37_79b9_7f4a_7c15,
            stepped_at: Instant::now(),
        }
    }

    /// Applies one step per elapsed window since the last call (at most a minute's worth).
    pub fn advance(&mut self) {
        let elapsed = self.stepped_at.elapsed();
        let steps = (elapsed.as_millis() / STEP.as_millis()).min(240);
        if steps == 0 {
            return;
        }
        self.stepped_at = Instant::now();
        for _ in 0..steps {
            self.step();
        }
    }

    /// One step: every mid moves by up to ±0.5 bp.
    pub fn step(&mut self) {
        for inst in self.instruments.values_mut() {
            // xorshift64: deterministic, no dependency, good enough for a price walk.
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            let r = (self.rng >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            inst.mid *= 1.0 + (r - 0.5) * 0.0001;
        }
    }

    pub fn get(&self, name: &str) -> Option<&Instrument> {
        self.instruments.get(name)
    }
}

/// One price level.
#[derive(Debug, Serialize)]
pub struct Bucket {
    pub price: String,
    pub liquidity: u64,
}

/// A price as OANDA sends it, fields in the documented order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceLine {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub instrument: String,
    pub time: String,
    pub status: &'static str,
    pub tradeable: bool,
    pub bids: Vec<Bucket>,
    pub asks: Vec<Bucket>,
    pub closeout_bid: String,
    pub closeout_ask: String,
}

impl PriceLine {
    /// Returns the current price of `name`; two levels a side (1M and 5M units).
    pub fn of(name: &str, inst: &Instrument, time: String) -> Self {
        let p = |v: f64| wire::price(v, inst.precision);
        let tick = 10f64.powi(-i32::try_from(inst.precision).unwrap_or(5));
        let (bid, ask) = (inst.bid(), inst.ask());
        Self {
            kind: "PRICE",
            instrument: name.to_string(),
            time,
            status: if inst.halted {
                "non-tradeable"
            } else {
                "tradeable"
            },
            tradeable: !inst.halted,
            bids: vec![
                Bucket {
                    price: p(bid),
                    liquidity: 1_000_000,
                },
                Bucket {
                    price: p(bid - 2.0 * tick),
                    liquidity: 5_000_000,
                },
            ],
            asks: vec![
                Bucket {
                    price: p(ask),
                    liquidity: 1_000_000,
                },
                Bucket {
                    price: p(ask + 2.0 * tick),
                    liquidity: 5_000_000,
                },
            ],
            closeout_bid: p(bid - 3.0 * tick),
            closeout_ask: p(ask + 3.0 * tick),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_move_prices_but_keep_the_spread() {
        let mut m = Market::new();
        let before = m.get("EUR_USD").map(|i| i.mid).unwrap_or_default();
        for _ in 0..50 {
            m.step();
        }
        let inst = m.get("EUR_USD").cloned().expect("EUR_USD");
        assert_ne!(inst.mid, before);
        assert!((inst.mid - before).abs() < 0.01, "a bounded walk");
        assert!(inst.ask() > inst.bid());
    }

    #[test]
    fn price_line_has_the_documented_field_order() {
        let m = Market::new();
        let inst = m.get("USD_JPY").expect("USD_JPY");
        let line =
            serde_json::to_string(&PriceLine::of("USD_JPY", inst, "T".into())).expect("serializes");
        assert!(
            line.starts_with(r#"{"type":"PRICE","instrument":"USD_JPY","time":"T","status":"tradeable","tradeable":true,"bids":[{"price":"151.243","liquidity":1000000}"#),
            "{line}"
        );
        assert!(
            line.contains(r#""closeoutBid":"151.240","closeoutAsk":"151.260"}"#),
            "{line}"
        );
    }
}
