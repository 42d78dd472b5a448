//! The built-in paper broker's simulated market: FX majors and crosses (OANDA's naming) and
//! the largest US stocks, quoted without any credentials or network.
//!
//! # The model
//!
//! The quote of an instrument at an instant is a pure function of `(instrument, instant)`:
//! the desktop app and a separate CLI process compute the same quote at the same instant
//! without talking to each other, and a replay of any past instant gives the price that was
//! shown then. Nothing is stored and nothing is random at run time.
//!
//! - **Steps.** Time is cut into 250 ms steps; every instant inside a step gets the quote of
//!   the step's start, stamped with that start ([`STEP_MS`], [`step_start`]).
//! - **Mid price.** `mid = reference × exp(x(t))`, where `x` is multi-octave value noise: for
//!   each octave `k` (period `2^k` seconds, 1 s … 36 h) a lattice value in `[-1, 1]` is hashed
//!   from the instrument's name, the octave and the lattice cell, and neighbouring values are
//!   joined with a smoothstep. An evaluation costs 18 octaves × 2 hashes, whatever the date.
//!   An octave's amplitude grows with the square root of its period, as a random walk's
//!   displacement does, so increments scale like Brownian motion between 1 s and a day; the
//!   whole sum is scaled once (by the exact expected variance of a 1-minute increment, see
//!   [`Calibration`]) so that 1-minute returns have the instrument's annualised volatility.
//!   Beyond a day the noise stops growing: prices wander around their reference within a
//!   band (the sum of the amplitudes bounds `|x|`) instead of drifting away over a year.
//! - **Spread and size.** The spread, in ticks, follows a separate 5-second noise within the
//!   instrument's range; the displayed size of each side (1–5 million units for FX, 100–900
//!   shares for stocks) is hashed per step, so orders larger than it fill partially.
//! - **Rounding.** The noise is `f64`; the mid is rounded to a whole number of ticks (half
//!   away from zero), the bid is the mid minus half the spread (rounded down to a tick) and
//!   the ask the bid plus the spread, all as exact [`Decimal`] multiples of the tick size.
//!
//! The market trades around the clock, weekends included: it is a practice venue, not a
//! replica of exchange hours. Instruments move independently, so a cross such as EUR_GBP is
//! not kept consistent with EUR_USD / GBP_USD. Both processes must run the same build: the
//! hash is fixed here, and `f64::exp` comes from the same platform library.

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Quote;

/// The length of one quote step in milliseconds: quotes change at most four times a second.
pub const STEP_MS: i64 = 250;

/// The number of noise octaves: periods of 1 s, 2 s, 4 s, … 2^17 s (about 36 hours).
const OCTAVES: usize = 18;

/// The period of the spread's noise, in steps (5 s).
const SPREAD_PERIOD_STEPS: i64 = 20;

/// Seconds in a year of 365.25 days: the market never closes, so volatility is annualised
/// over calendar time.
const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

/// The horizon the volatility is calibrated at, in seconds.
const CALIBRATION_HORIZON_S: f64 = 60.0;

/// Salts that give the price, spread and size noise independent hash streams.
const SALT_PRICE: u64 = 0x5052_4943_4500_0001;
const SALT_SPREAD: u64 = 0x5350_5245_4144_0002;
const SALT_SIZE: u64 = 0x5349_5a45_0000_0003;

/// What an instrument is: the ledger's conversion and margin rules depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperInstrumentKind")]
pub enum InstrumentKind {
    /// A currency pair: quantity in units of the base currency, price in the quote currency.
    Fx,
    /// A share: quantity in shares, price in the quote currency.
    Stock,
}

/// An instrument the paper broker trades, for search, order tickets and the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperInstrument")]
pub struct InstrumentSpec {
    /// The symbol orders and quotes use (`EUR_USD`, `AAPL`, `BRK.B`).
    pub symbol: String,
    /// A human name (`Euro / US Dollar`, `Apple Inc.`).
    pub name: String,
    pub kind: InstrumentKind,
    /// The currency bought by a buy of an FX pair (`EUR` in `EUR_USD`); `None` for stocks.
    pub base_currency: Option<String>,
    /// The currency prices and P&L are in (`USD` in `EUR_USD`, `JPY` in `USD_JPY`).
    pub quote_currency: String,
    /// The smallest price increment.
    #[ts(type = "string")]
    pub tick_size: Decimal,
    /// What one unit of quantity is worth in units of the price (1 for FX units and shares).
    #[ts(type = "string")]
    pub contract_size: Decimal,
    /// A sensible quantity for a new order ticket.
    #[ts(type = "string")]
    pub default_quantity: Decimal,
}

/// The simulation's parameters of one instrument (not part of the public spec: a live
/// broker's instruments have no reference price or target volatility).
#[derive(Debug, Clone)]
struct SimParams {
    /// Hash seed derived from the symbol.
    seed: u64,
    /// The reference price in ticks, as `f64` for the noise math.
    reference_ticks: f64,
    /// Octave amplitudes of the log-price noise.
    amplitudes: [f64; OCTAVES],
    /// The spread's range in ticks, inclusive.
    spread_ticks: (i64, i64),
    /// The displayed size is `lot × (1 + h mod lots)`.
    display_lot: Decimal,
    display_lots: u64,
    /// The reference price and target volatility, kept for tests and documentation.
    #[cfg_attr(not(test), allow(dead_code))]
    reference: Decimal,
    #[cfg_attr(not(test), allow(dead_code))]
    annual_vol: f64,
}

/// One row of the built-in instrument table.
struct Row {
    symbol: &'static str,
    name: &'static str,
    reference: Decimal,
    /// Annualised volatility, e.g. 0.07 for 7 %.
    vol: f64,
    /// Spread range in ticks.
    spread: (i64, i64),
}

const fn row(
    symbol: &'static str,
    name: &'static str,
    reference: Decimal,
    vol: f64,
    spread: (i64, i64),
) -> Row {
    Row {
        symbol,
        name,
        reference,
        vol,
        spread,
    }
}

/// FX pairs: tick 0.00001 (0.001 for JPY pairs), so one pip is 10 ticks.
const FX: &[Row] = &[
    row("EUR_USD", "Euro / US Dollar", dec!(1.16500), 0.07, (6, 12)),
    row(
        "GBP_USD",
        "British Pound / US Dollar",
        dec!(1.33500),
        0.08,
        (9, 16),
    ),
    row(
        "USD_JPY",
        "US Dollar / Japanese Yen",
        dec!(151.500),
        0.10,
        (7, 14),
    ),
    row(
        "USD_CHF",
        "US Dollar / Swiss Franc",
        dec!(0.80000),
        0.07,
        (10, 18),
    ),
    row(
        "AUD_USD",
        "Australian Dollar / US Dollar",
        dec!(0.65500),
        0.10,
        (8, 15),
    ),
    row(
        "USD_CAD",
        "US Dollar / Canadian Dollar",
        dec!(1.40000),
        0.06,
        (10, 18),
    ),
    row(
        "NZD_USD",
        "New Zealand Dollar / US Dollar",
        dec!(0.57500),
        0.11,
        (12, 22),
    ),
    row(
        "EUR_GBP",
        "Euro / British Pound",
        dec!(0.87250),
        0.06,
        (10, 20),
    ),
    row(
        "EUR_JPY",
        "Euro / Japanese Yen",
        dec!(176.500),
        0.10,
        (14, 25),
    ),
    row(
        "GBP_JPY",
        "British Pound / Japanese Yen",
        dec!(202.250),
        0.12,
        (22, 40),
    ),
    row(
        "EUR_CHF",
        "Euro / Swiss Franc",
        dec!(0.93200),
        0.06,
        (12, 22),
    ),
    row(
        "AUD_JPY",
        "Australian Dollar / Japanese Yen",
        dec!(99.250),
        0.12,
        (16, 30),
    ),
];

/// US stocks: tick 0.01; pricier names quote wider.
const STOCKS: &[Row] = &[
    row("AAPL", "Apple Inc.", dec!(230.00), 0.25, (1, 2)),
    row("MSFT", "Microsoft Corporation", dec!(420.00), 0.22, (1, 3)),
    row("NVDA", "NVIDIA Corporation", dec!(180.00), 0.45, (1, 2)),
    row("AMZN", "Amazon.com, Inc.", dec!(220.00), 0.30, (1, 2)),
    row("GOOGL", "Alphabet Inc. Class A", dec!(250.00), 0.28, (1, 3)),
    row("META", "Meta Platforms, Inc.", dec!(700.00), 0.35, (2, 6)),
    row("TSLA", "Tesla, Inc.", dec!(430.00), 0.60, (2, 5)),
    row(
        "BRK.B",
        "Berkshire Hathaway Inc. Class B",
        dec!(490.00),
        0.20,
        (3, 8),
    ),
    row("JPM", "JPMorgan Chase & Co.", dec!(300.00), 0.22, (1, 3)),
    row("V", "Visa Inc. Class A", dec!(340.00), 0.20, (1, 3)),
    row("AVGO", "Broadcom Inc.", dec!(340.00), 0.45, (2, 5)),
    row("WMT", "Walmart Inc.", dec!(100.00), 0.20, (1, 2)),
];

/// The built-in simulated market: a fixed instrument table and the quote function.
#[derive(Debug, Clone)]
pub struct SimMarket {
    specs: Vec<InstrumentSpec>,
    params: Vec<SimParams>,
}

impl Default for SimMarket {
    fn default() -> Self {
        Self::new()
    }
}

impl SimMarket {
    /// Builds the market: every instrument's spec and calibrated noise amplitudes.
    pub fn new() -> Self {
        let unit = Calibration::unit_amplitudes();
        let mut specs = Vec::with_capacity(FX.len() + STOCKS.len());
        let mut params = Vec::with_capacity(FX.len() + STOCKS.len());
        for (kind, rows) in [(InstrumentKind::Fx, FX), (InstrumentKind::Stock, STOCKS)] {
            for r in rows {
                let (spec, p) = build(kind, r, &unit);
                specs.push(spec);
                params.push(p);
            }
        }
        Self { specs, params }
    }

    /// Returns every instrument, FX first, in a stable order.
    pub fn instruments(&self) -> &[InstrumentSpec] {
        &self.specs
    }

    /// Returns the spec of `symbol` (exact, case-sensitive), if the market lists it.
    pub fn spec(&self, symbol: &str) -> Option<&InstrumentSpec> {
        self.index(symbol).map(|i| &self.specs[i])
    }

    /// Returns the quote of `symbol` at `at`: the quote of the 250 ms step containing `at`,
    /// stamped with the step's start. `None` for an unknown symbol.
    pub fn quote(&self, symbol: &str, at: DateTime<Utc>) -> Option<Quote> {
        let i = self.index(symbol)?;
        let spec = &self.specs[i];
        let p = &self.params[i];
        let step = at.timestamp_millis().div_euclid(STEP_MS);

        let x = log_noise(p, step);
        // Explicit rounding: a whole number of ticks, half away from zero.
        let mid_ticks = (p.reference_ticks * x.exp()).round() as i64;
        let spread = spread_ticks(p, step);
        let bid_ticks = mid_ticks - spread.div_euclid(2) - spread.rem_euclid(2);
        // The noise band keeps prices far from zero; the floor only guards the invariant.
        let bid_ticks = bid_ticks.max(1);
        let ask_ticks = bid_ticks + spread;

        let h = hash3(p.seed ^ SALT_SIZE, 0, step as u64);
        let lots = |h: u64| p.display_lot * Decimal::from(1 + h % p.display_lots);
        Some(Quote {
            instrument: spec.symbol.clone(),
            bid: spec.tick_size * Decimal::from(bid_ticks),
            ask: spec.tick_size * Decimal::from(ask_ticks),
            bid_size: Some(lots(h)),
            ask_size: Some(lots(h >> 32)),
            time: step_start(at),
        })
    }

    /// Returns the instruments matching `query`, best first: the exact symbol, then symbols
    /// starting with it, then symbols containing it, then names containing it. Case, `_`,
    /// `/`, `.`, `-` and spaces are ignored in symbols (`eurusd`, `EUR/USD`, `brkb` match).
    /// An empty query returns everything.
    pub fn search(&self, query: &str) -> Vec<&InstrumentSpec> {
        let q = squash(query);
        let words = query.trim().to_lowercase();
        let mut ranked: Vec<(u8, usize)> = self
            .specs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let sym = squash(&s.symbol);
                let rank = if q.is_empty() || sym == q {
                    0
                } else if sym.starts_with(&q) {
                    1
                } else if sym.contains(&q) {
                    2
                } else if s.name.to_lowercase().contains(&words) {
                    3
                } else {
                    return None;
                };
                Some((rank, i))
            })
            .collect();
        ranked.sort_unstable();
        ranked.into_iter().map(|(_, i)| &self.specs[i]).collect()
    }

    fn index(&self, symbol: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.symbol == symbol)
    }

    #[cfg(test)]
    fn params(&self, symbol: &str) -> Option<&SimParams> {
        self.index(symbol).map(|i| &self.params[i])
    }
}

/// Returns the start of the 250 ms step containing `at`: the time stamp of its quote.
pub fn step_start(at: DateTime<Utc>) -> DateTime<Utc> {
    let ms = at.timestamp_millis().div_euclid(STEP_MS) * STEP_MS;
    Utc.timestamp_millis_opt(ms).single().unwrap_or(at)
}

fn build(kind: InstrumentKind, r: &Row, unit: &[f64; OCTAVES]) -> (InstrumentSpec, SimParams) {
    let (base, quote, tick, default_quantity, lot, lots) = match kind {
        InstrumentKind::Fx => {
            let (b, q) = r.symbol.split_once('_').unwrap_or((r.symbol, "USD"));
            let tick = if q == "JPY" {
                dec!(0.001)
            } else {
                dec!(0.00001)
            };
            (
                Some(b.to_string()),
                q.to_string(),
                tick,
                dec!(10000),
                dec!(1000000),
                5,
            )
        }
        InstrumentKind::Stock => (None, "USD".to_string(), dec!(0.01), dec!(10), dec!(100), 9),
    };
    // Per-second volatility: the unit amplitudes are calibrated for 1 per √second.
    let sigma = r.vol / SECONDS_PER_YEAR.sqrt();
    let mut amplitudes = [0.0; OCTAVES];
    for (a, u) in amplitudes.iter_mut().zip(unit) {
        *a = u * sigma;
    }
    let reference_ticks = (r.reference / tick).to_f64().unwrap_or(0.0);
    let spec = InstrumentSpec {
        symbol: r.symbol.to_string(),
        name: r.name.to_string(),
        kind,
        base_currency: base,
        quote_currency: quote,
        tick_size: tick,
        contract_size: Decimal::ONE,
        default_quantity,
    };
    let params = SimParams {
        seed: mix(fnv1a(r.symbol.as_bytes())),
        reference_ticks,
        amplitudes,
        spread_ticks: r.spread,
        display_lot: lot,
        display_lots: lots,
        reference: r.reference,
        annual_vol: r.vol,
    };
    (spec, params)
}

/// The log-price offset `x` at `step`: the sum of the octaves' interpolated lattice values.
fn log_noise(p: &SimParams, step: i64) -> f64 {
    let mut x = 0.0;
    for (k, amp) in p.amplitudes.iter().enumerate() {
        // Octave k has a period of 2^k seconds = 4·2^k steps.
        let period = (1000 / STEP_MS) << k;
        x += amp * value_noise(p.seed ^ SALT_PRICE, k as u64, step, period);
    }
    x
}

/// The spread in ticks at `step`, within the instrument's range.
fn spread_ticks(p: &SimParams, step: i64) -> i64 {
    let (lo, hi) = p.spread_ticks;
    let n = value_noise(p.seed ^ SALT_SPREAD, 0, step, SPREAD_PERIOD_STEPS);
    let width = (hi - lo + 1) as f64;
    let extra = (((n + 1.0) / 2.0) * width).floor() as i64;
    (lo + extra).clamp(lo, hi)
}

/// Value noise in `[-1, 1]` with lattice cells of `period` steps, smoothstep-interpolated.
fn value_noise(seed: u64, octave: u64, step: i64, period: i64) -> f64 {
    let cell = step.div_euclid(period);
    let f = step.rem_euclid(period) as f64 / period as f64;
    let v0 = lattice(seed, octave, cell);
    let v1 = lattice(seed, octave, cell + 1);
    v0 + (v1 - v0) * smoothstep(f)
}

fn smoothstep(f: f64) -> f64 {
    f * f * (3.0 - 2.0 * f)
}

/// A lattice value, uniform in `[-1, 1]`.
fn lattice(seed: u64, octave: u64, cell: i64) -> f64 {
    let h = hash3(seed, octave, cell as u64);
    // The top 53 bits as a fraction in [0, 1).
    let unit = (h >> 11) as f64 / (1u64 << 53) as f64;
    unit * 2.0 - 1.0
}

fn hash3(seed: u64, a: u64, b: u64) -> u64 {
    mix(mix(seed ^ a.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ b)
}

/// SplitMix64's finaliser: a fixed, well-mixing 64-bit permutation.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a: a fixed string hash (std's hasher is randomised per process).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Removes separators and upper-cases, so `eur/usd` and `EUR_USD` compare equal.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '/' | '.' | '-' | ' '))
        .flat_map(char::to_uppercase)
        .collect()
}

/// The amplitudes that give the noise a volatility of 1 per √second at the calibration
/// horizon.
///
/// With octave amplitudes `a_k = c·√P_k` and lattice values of variance 1/3, the expected
/// variance of an increment over `Δ` is `Σ_k a_k² / 3 · G(Δ / P_k)`, where `G(d)` is the
/// phase-averaged squared difference of the interpolation kernel shifted by `d` cells
/// (computed numerically below). Solving for `c` makes that variance `Δ` at `Δ = 60 s`.
struct Calibration;

impl Calibration {
    fn unit_amplitudes() -> [f64; OCTAVES] {
        let mut sum = 0.0;
        for k in 0..OCTAVES {
            let period = f64::from(1u32 << k);
            sum += period / 3.0 * Self::g(CALIBRATION_HORIZON_S / period);
        }
        let c = (CALIBRATION_HORIZON_S / sum).sqrt();
        let mut out = [0.0; OCTAVES];
        for (k, a) in out.iter_mut().enumerate() {
            *a = c * f64::from(1u32 << k).sqrt();
        }
        out
    }

    /// `G(d) = E_u Σ_j (φ(u + d − j) − φ(u − j))²` for a phase `u` uniform in `[0, 1)`,
    /// where `φ(x) = 1 − smoothstep(|x|)` on `|x| < 1` is the interpolation kernel.
    fn g(d: f64) -> f64 {
        const N: usize = 512;
        let kernel = |x: f64| {
            let a = x.abs();
            if a < 1.0 {
                1.0 - smoothstep(a)
            } else {
                0.0
            }
        };
        let mut total = 0.0;
        for i in 0..N {
            let u = (i as f64 + 0.5) / N as f64;
            let lo = -1;
            let hi = (u + d).floor() as i64 + 1;
            for j in lo..=hi {
                let j = j as f64;
                let diff = kernel(u + d - j) - kernel(u - j);
                total += diff * diff;
            }
        }
        total / N as f64
    }
}

#[cfg(test)]
mod tests;
