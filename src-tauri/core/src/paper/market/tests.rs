#![allow(clippy::unwrap_used)]

use super::*;
use chrono::TimeDelta;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ticks(spec: &InstrumentSpec, d: Decimal) -> i64 {
    (d / spec.tick_size).to_i64().unwrap()
}

#[test]
fn the_table_lists_the_majors_and_the_largest_us_stocks() {
    let m = SimMarket::new();
    let fx = [
        "EUR_USD", "GBP_USD", "USD_JPY", "USD_CHF", "AUD_USD", "USD_CAD", "NZD_USD", "EUR_GBP",
        "EUR_JPY", "GBP_JPY",
    ];
    let stocks = [
        "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "BRK.B", "JPM", "V",
    ];
    for s in fx {
        let spec = m.spec(s).unwrap();
        assert_eq!(spec.kind, InstrumentKind::Fx);
        let (b, q) = s.split_once('_').unwrap();
        assert_eq!(spec.base_currency.as_deref(), Some(b));
        assert_eq!(spec.quote_currency, q);
        let tick = if q == "JPY" {
            dec!(0.001)
        } else {
            dec!(0.00001)
        };
        assert_eq!(spec.tick_size, tick, "{s}");
        assert_eq!(spec.default_quantity, dec!(10000));
    }
    for s in stocks {
        let spec = m.spec(s).unwrap();
        assert_eq!(spec.kind, InstrumentKind::Stock);
        assert_eq!(spec.base_currency, None);
        assert_eq!(spec.quote_currency, "USD");
        assert_eq!(spec.tick_size, dec!(0.01));
        assert_eq!(spec.contract_size, Decimal::ONE);
    }
    // Volatility targets are in the documented ranges.
    for spec in m.instruments() {
        let p = m.params(&spec.symbol).unwrap();
        let (lo, hi) = match spec.kind {
            InstrumentKind::Fx => (0.06, 0.12),
            InstrumentKind::Stock => (0.20, 0.60),
        };
        assert!((lo..=hi).contains(&p.annual_vol), "{}", spec.symbol);
    }
    assert!(m.spec("eur_usd").is_none(), "symbols are exact");
    assert!(m.quote("XAU_USD", at("2026-01-05T10:00:00Z")).is_none());
}

#[test]
fn the_same_instant_gives_the_same_quote_in_two_markets() {
    let (a, b) = (SimMarket::new(), SimMarket::new());
    let start = at("2026-03-02T14:30:00.123Z");
    for spec in a.instruments() {
        for i in 0..50 {
            let t = start + TimeDelta::milliseconds(i * 7_919);
            assert_eq!(a.quote(&spec.symbol, t), b.quote(&spec.symbol, t));
        }
    }
    // Pinned values: a change to the model (hash, octaves, calibration, rounding) shows up
    // here, as it would make builds of different commits quote differently.
    let t = at("2026-01-05T10:00:00Z");
    let pinned = [
        ("EUR_USD", "1.16540", "1.16547", "2000000", "1000000"),
        ("USD_JPY", "151.858", "151.871", "1000000", "2000000"),
        ("BRK.B", "489.61", "489.67", "800", "400"),
    ];
    for (sym, bid, ask, bs, asz) in pinned {
        let q = a.quote(sym, t).unwrap();
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            (q.bid, q.ask, q.bid_size, q.ask_size, q.time),
            (d(bid), d(ask), Some(d(bs)), Some(d(asz)), t),
            "{sym}"
        );
        assert_eq!(q.bid.to_string(), bid, "printed at the tick's scale");
    }
}

#[test]
fn quotes_step_every_250_ms_and_carry_the_steps_start() {
    let m = SimMarket::new();
    let t0 = at("2026-01-05T10:00:00.250Z");
    let a = m.quote("AAPL", t0).unwrap();
    let b = m.quote("AAPL", t0 + TimeDelta::milliseconds(249)).unwrap();
    assert_eq!(a, b, "one step, one quote");
    assert_eq!(a.time, t0);
    let c = m.quote("AAPL", t0 + TimeDelta::milliseconds(250)).unwrap();
    assert_eq!(c.time, t0 + TimeDelta::milliseconds(250));
    assert_eq!(
        step_start(at("2026-01-05T10:00:00.999Z")),
        at("2026-01-05T10:00:00.750Z")
    );
    // Before 1970 too (negative milliseconds floor, not truncate).
    assert_eq!(
        step_start(at("1969-12-31T23:59:59.900Z")),
        at("1969-12-31T23:59:59.750Z")
    );
    // Prices move across steps: over a minute at least some quotes differ.
    let distinct: std::collections::HashSet<_> = (0..240)
        .map(|i| {
            m.quote("EUR_USD", t0 + TimeDelta::milliseconds(250 * i))
                .unwrap()
                .bid
        })
        .collect();
    assert!(distinct.len() > 10, "{} distinct bids", distinct.len());
}

#[test]
fn bid_is_below_ask_and_the_spread_stays_in_range_on_the_tick_grid() {
    let m = SimMarket::new();
    let start = at("2026-01-05T00:00:00Z");
    for spec in m.instruments() {
        let p = m.params(&spec.symbol).unwrap();
        let (lo, hi) = p.spread_ticks;
        let mut seen = std::collections::HashSet::new();
        for i in 0..2_000 {
            let q = m
                .quote(&spec.symbol, start + TimeDelta::milliseconds(i * 3_250))
                .unwrap();
            assert!(q.bid < q.ask, "{} {q:?}", spec.symbol);
            let spread = ticks(spec, q.ask - q.bid);
            assert!(
                (lo..=hi).contains(&spread),
                "{}: {spread} ticks",
                spec.symbol
            );
            seen.insert(spread);
            // Exact multiples of the tick, at the tick's scale.
            assert_eq!(q.bid.scale(), spec.tick_size.scale());
            assert!((q.bid / spec.tick_size).fract().is_zero());
        }
        assert!(seen.len() > 1, "{}: the spread never varies", spec.symbol);
    }
    // The documented ranges in pips and cents.
    let pip = |s: &str| {
        let p = m.params(s).unwrap();
        (
            p.spread_ticks.0 as f64 / 10.0,
            p.spread_ticks.1 as f64 / 10.0,
        )
    };
    assert_eq!(pip("EUR_USD"), (0.6, 1.2));
    assert!(pip("EUR_GBP").1 > pip("EUR_USD").1 && pip("GBP_JPY").1 > pip("USD_JPY").1);
    let cents = |s: &str| m.params(s).unwrap().spread_ticks;
    assert!(cents("AAPL").1 <= 3 && cents("BRK.B").0 > cents("AAPL").1);
}

#[test]
fn displayed_sizes_are_round_lots() {
    let m = SimMarket::new();
    let start = at("2026-01-05T00:00:00Z");
    let mut fx = std::collections::HashSet::new();
    for i in 0..400 {
        let t = start + TimeDelta::milliseconds(i * 250);
        let q = m.quote("EUR_USD", t).unwrap();
        for s in [q.bid_size.unwrap(), q.ask_size.unwrap()] {
            assert!(s >= dec!(1000000) && s <= dec!(5000000) && (s % dec!(1000000)).is_zero());
            fx.insert(s);
        }
        let q = m.quote("TSLA", t).unwrap();
        for s in [q.bid_size.unwrap(), q.ask_size.unwrap()] {
            assert!(
                s >= dec!(100) && s <= dec!(900) && (s % dec!(100)).is_zero(),
                "{s}"
            );
        }
    }
    assert_eq!(fx.len(), 5, "every FX lot size appears");
}

#[test]
fn prices_stay_positive_and_near_the_reference_over_a_year() {
    let m = SimMarket::new();
    let start = at("2026-01-01T00:00:00Z");
    for spec in m.instruments() {
        let p = m.params(&spec.symbol).unwrap();
        // The noise is bounded by the sum of its amplitudes.
        let bound: f64 = p.amplitudes.iter().sum();
        assert!(bound < 0.5, "{}: |x| ≤ {bound}", spec.symbol);
        let (lo, hi) = (p.reference * dec!(0.6), p.reference * dec!(1.6));
        let (mut min, mut max) = (p.reference, p.reference);
        for h in 0..(365 * 24) {
            let q = m.quote(&spec.symbol, start + TimeDelta::hours(h)).unwrap();
            assert!(q.bid > Decimal::ZERO);
            assert!(q.mid() > lo && q.mid() < hi, "{}: {q:?}", spec.symbol);
            min = min.min(q.mid());
            max = max.max(q.mid());
        }
        // And it does move: the year's range is more than a few spreads.
        assert!(
            (max - min) / p.reference > dec!(0.01),
            "{} barely moved",
            spec.symbol
        );
    }
}

#[test]
fn one_minute_returns_have_the_target_volatility_over_a_month() {
    let m = SimMarket::new();
    let start = at("2026-02-02T00:00:00Z");
    let minutes = 30 * 24 * 60;
    for spec in m.instruments() {
        let p = m.params(&spec.symbol).unwrap();
        let mut prev = m
            .quote(&spec.symbol, start)
            .unwrap()
            .mid()
            .to_f64()
            .unwrap();
        let mut sum_sq = 0.0;
        for i in 1..=minutes {
            let mid = m
                .quote(&spec.symbol, start + TimeDelta::minutes(i))
                .unwrap()
                .mid()
                .to_f64()
                .unwrap();
            let r = (mid / prev).ln();
            sum_sq += r * r;
            prev = mid;
        }
        let realised = (sum_sq / minutes as f64 * SECONDS_PER_YEAR / 60.0).sqrt();
        let ratio = realised / p.annual_vol;
        assert!(
            (0.7..=1.3).contains(&ratio),
            "{}: realised {realised:.4} vs target {} ({ratio:.2})",
            spec.symbol,
            p.annual_vol
        );
    }
}

#[test]
fn calibration_matches_the_target_analytically() {
    // The expected 60 s increment variance of the unit noise is 60 (1 per second).
    let unit = Calibration::unit_amplitudes();
    let var: f64 = unit
        .iter()
        .enumerate()
        .map(|(k, a)| a * a / 3.0 * Calibration::g(60.0 / f64::from(1u32 << k)))
        .sum();
    assert!((var - 60.0).abs() < 1e-9, "{var}");
    // G is 0 for no shift and saturates at twice the kernel's energy for shifts ≥ 2 cells.
    assert!(Calibration::g(0.0).abs() < 1e-12);
    assert!((Calibration::g(2.0) - Calibration::g(7.0)).abs() < 1e-9);
    assert!(Calibration::g(0.1) < Calibration::g(0.5));
}

#[test]
fn search_finds_by_symbol_pieces_and_names() {
    let m = SimMarket::new();
    let syms = |q: &str| -> Vec<String> { m.search(q).iter().map(|s| s.symbol.clone()).collect() };
    assert_eq!(syms("eurusd")[0], "EUR_USD");
    assert_eq!(syms("EUR/USD")[0], "EUR_USD");
    assert_eq!(syms("brkb"), vec!["BRK.B"]);
    assert_eq!(syms("apple"), vec!["AAPL"]);
    assert_eq!(syms("  Tesla "), vec!["TSLA"]);
    let jpy = syms("jpy");
    assert!(
        jpy.iter().all(|s| s.contains("JPY")) && jpy.len() >= 4,
        "{jpy:?}"
    );
    // Exact symbol first, then prefixes, then the rest.
    let eur = syms("EUR");
    assert!(eur[..3].iter().all(|s| s.starts_with("EUR_")), "{eur:?}");
    assert!(eur.contains(&"EUR_JPY".to_string()));
    assert_eq!(syms("V")[0], "V");
    assert_eq!(m.search("").len(), m.instruments().len());
    assert!(m.search("zzzz").is_empty());
}
