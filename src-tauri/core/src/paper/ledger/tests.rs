#![allow(clippy::unwrap_used)]

use super::*;
use crate::paper::{OrderRole, SimMarket};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn spec(symbol: &str) -> InstrumentSpec {
    SimMarket::new().spec(symbol).unwrap().clone()
}

fn fill(symbol: &str, side: Side, qty: &str, price: &str) -> Fill {
    Fill {
        id: "f".into(),
        order_id: "o".into(),
        symbol: symbol.into(),
        side,
        quantity: d(qty),
        price: d(price),
        time: t0(),
        remaining: Decimal::ZERO,
        role: OrderRole::Entry,
        parent_id: None,
    }
}

fn no_rates(_: &str) -> Option<Decimal> {
    None
}

/// Books a fill without fee or rates and returns what it realised in the account currency.
fn book(l: &mut Ledger, symbol: &str, side: Side, qty: &str, price: &str) -> Option<Decimal> {
    l.apply_fill(
        &fill(symbol, side, qty, price),
        &spec(symbol),
        Decimal::ZERO,
        &no_rates,
    )
    .unwrap()
    .realized
}

fn pos(l: &Ledger, symbol: &str) -> (Decimal, Decimal) {
    let p = l.position(symbol).unwrap();
    (p.quantity, p.average_price)
}

fn marks(q: &[(&str, &str, &str)]) -> impl Fn(&str) -> Option<Quote> {
    let q: Vec<Quote> = q
        .iter()
        .map(|(s, b, a)| Quote::new(*s, d(b), d(a), t0()))
        .collect();
    move |s| q.iter().find(|x| x.instrument == s).cloned()
}

#[test]
fn a_long_averages_up_then_realises_on_partial_and_full_close() {
    let mut l = Ledger::default();
    assert_eq!(
        book(&mut l, "AAPL", Side::Buy, "10", "200.00"),
        Some(d("0"))
    );
    book(&mut l, "AAPL", Side::Buy, "30", "204.00");
    assert_eq!(pos(&l, "AAPL"), (d("40"), d("203")));
    // Partial close: only the 10 closed realise, the average stays.
    assert_eq!(
        book(&mut l, "AAPL", Side::Sell, "10", "210.00"),
        Some(d("70.00"))
    );
    assert_eq!(pos(&l, "AAPL"), (d("30"), d("203")));
    assert_eq!(
        book(&mut l, "AAPL", Side::Sell, "30", "201.50"),
        Some(d("-45.00"))
    );
    assert_eq!(pos(&l, "AAPL"), (d("0"), d("0")));
    assert_eq!(l.balance(), d("100025.00"));
    assert_eq!(l.position("AAPL").unwrap().realized_pnl, d("25.00"));
    assert_eq!(l.open_positions().count(), 0);
}

#[test]
fn a_short_gains_when_the_price_falls_and_is_marked_at_the_ask() {
    let mut l = Ledger::default();
    book(&mut l, "TSLA", Side::Sell, "20", "430.00");
    book(&mut l, "TSLA", Side::Sell, "20", "440.00");
    assert_eq!(pos(&l, "TSLA"), (d("-40"), d("435")));
    let s = l.summary(&marks(&[("TSLA", "419.95", "420.05")]), &no_rates, None);
    let p = &s.positions[0];
    assert_eq!(p.mark_price, Some(d("420.05")));
    assert_eq!(p.unrealized_pnl, Some(d("598.00"))); // 40 × (435 − 420.05)
    assert_eq!(p.pnl_status, PnlStatus::Converted);
    assert_eq!(
        book(&mut l, "TSLA", Side::Buy, "15", "425.00"),
        Some(d("150.00"))
    );
    assert_eq!(pos(&l, "TSLA"), (d("-25"), d("435")));
}

#[test]
fn a_fill_through_zero_realises_the_closed_part_and_opens_the_rest_at_the_fill() {
    let mut l = Ledger::default();
    book(&mut l, "EUR_USD", Side::Buy, "100000", "1.10000");
    assert_eq!(
        book(&mut l, "EUR_USD", Side::Sell, "150000", "1.10250"),
        Some(d("250.00"))
    );
    assert_eq!(pos(&l, "EUR_USD"), (d("-50000"), d("1.10250")));
    // And back through zero the other way.
    assert_eq!(
        book(&mut l, "EUR_USD", Side::Buy, "70000", "1.10050"),
        Some(d("100.00"))
    );
    assert_eq!(pos(&l, "EUR_USD"), (d("20000"), d("1.10050")));
    assert_eq!(l.balance(), d("100350.00"));
}

#[test]
fn jpy_pnl_is_divided_by_the_pairs_own_price_in_a_usd_account() {
    let mut l = Ledger::default();
    book(&mut l, "USD_JPY", Side::Buy, "10000", "150.000");
    // 10,000 × 1.000 = 10,000 JPY at 151.000 = 66.2251… USD.
    assert_eq!(
        book(&mut l, "USD_JPY", Side::Sell, "10000", "151.000"),
        Some(d("66.23"))
    );
    book(&mut l, "USD_JPY", Side::Sell, "20000", "151.000");
    let s = l.summary(
        &marks(&[("USD_JPY", "149.990", "150.000")]),
        &no_rates,
        None,
    );
    // Short 20,000 marked at the ask: 20,000 JPY gained, / 150 = 133.33 USD.
    assert_eq!(s.positions[0].unrealized_pnl_quote, Some(d("20000.000")));
    assert_eq!(s.positions[0].unrealized_pnl, Some(d("133.33")));
    // The notional of USD_JPY in USD is its quantity; margin at 50:1.
    assert_eq!(s.positions[0].notional, Some(d("20000.00")));
    assert_eq!(s.positions[0].margin, Some(d("400.00")));
    assert!(s.complete);
}

#[test]
fn cross_pnl_is_converted_with_the_callers_rate_either_way_round() {
    let mut l = Ledger::default();
    let rates = |p: &str| match p {
        "GBP_USD" => Some(d("1.30")),
        "USD_CHF" => Some(d("0.80")),
        _ => None,
    };
    let mut go = |symbol: &str, side, qty: &str, price: &str| {
        l.apply_fill(
            &fill(symbol, side, qty, price),
            &spec(symbol),
            Decimal::ZERO,
            &rates,
        )
        .unwrap()
    };
    go("EUR_GBP", Side::Buy, "10000", "0.87000");
    let out = go("EUR_GBP", Side::Sell, "10000", "0.87500");
    // 50 GBP × 1.30.
    assert_eq!(
        (out.realized_quote, out.realized),
        (d("50.00000"), Some(d("65.00")))
    );
    go("EUR_CHF", Side::Sell, "10000", "0.93000");
    let out = go("EUR_CHF", Side::Buy, "10000", "0.92000");
    // 100 CHF ÷ 0.80 (via USD_CHF, as no CHF_USD exists).
    assert_eq!(out.realized, Some(d("125.00")));
    assert_eq!(l.balance(), d("100190.00"));
}

#[test]
fn pnl_without_a_rate_is_reported_unconverted_never_as_zero() {
    let mut l = Ledger::default();
    book(&mut l, "EUR_GBP", Side::Buy, "10000", "0.87000");
    let out = l
        .apply_fill(
            &fill("EUR_GBP", Side::Sell, "4000", "0.87500"),
            &spec("EUR_GBP"),
            d("1.50"),
            &no_rates,
        )
        .unwrap();
    assert_eq!(
        (out.realized_quote, out.realized, out.position),
        (d("20.00000"), None, d("6000"))
    );
    assert_eq!(
        l.balance(),
        d("99998.50"),
        "only the fee reached the balance"
    );
    let s = l.summary(
        &marks(&[("EUR_GBP", "0.86900", "0.86910")]),
        &no_rates,
        Some(d("100000")),
    );
    assert!(!s.complete);
    assert_eq!(
        s.unconverted_realized,
        vec![Money {
            currency: "GBP".into(),
            amount: d("20.00000")
        }]
    );
    // 6,000 × (0.869 − 0.870) = −6 GBP, unconverted.
    assert_eq!(
        s.unconverted_unrealized,
        vec![Money {
            currency: "GBP".into(),
            amount: d("-6.00000")
        }]
    );
    let p = &s.positions[0];
    assert_eq!(
        (p.pnl_status, p.unrealized_pnl, p.notional, p.margin),
        (PnlStatus::Unconverted, None, None, None)
    );
    assert_eq!(
        (s.unrealized_pnl, s.equity, s.day_pnl),
        (d("0"), d("99998.50"), Some(d("-1.50")))
    );
}

#[test]
fn a_position_without_a_quote_is_flagged_and_left_out() {
    let mut l = Ledger::default();
    book(&mut l, "NVDA", Side::Buy, "10", "180.00");
    book(&mut l, "AAPL", Side::Buy, "10", "230.00");
    let s = l.summary(&marks(&[("AAPL", "231.00", "231.02")]), &no_rates, None);
    let status: Vec<_> = s
        .positions
        .iter()
        .map(|p| (p.symbol.as_str(), p.pnl_status))
        .collect();
    assert_eq!(
        status,
        vec![("AAPL", PnlStatus::Converted), ("NVDA", PnlStatus::NoQuote)]
    );
    assert_eq!(s.unrealized_pnl, d("10.00"));
    assert_eq!(s.margin_used, d("1155.00")); // AAPL only: 2,310 / 2
    assert!(!s.complete);
}

#[test]
fn balance_equity_fees_and_day_pnl_add_up() {
    let mut l = Ledger::default();
    let aapl = spec("AAPL");
    l.apply_fill(
        &fill("AAPL", Side::Buy, "100", "230.00"),
        &aapl,
        d("1.00"),
        &no_rates,
    )
    .unwrap();
    l.apply_fill(
        &fill("AAPL", Side::Sell, "50", "232.00"),
        &aapl,
        d("1.00"),
        &no_rates,
    )
    .unwrap();
    let s = l.summary(
        &marks(&[("AAPL", "229.00", "229.02")]),
        &no_rates,
        Some(d("100050.00")),
    );
    assert_eq!((s.realized_pnl, s.fees), (d("100.00"), d("2.00")));
    assert_eq!(s.balance, d("100098.00")); // 100,000 + 100 − 2
    assert_eq!(s.unrealized_pnl, d("-50.00")); // 50 × (229 − 230), at the bid
    assert_eq!(s.equity, d("100048.00"));
    assert_eq!(s.day_pnl, Some(d("-2.00")));
    assert_eq!(s.margin_used, d("5725.00")); // 50 × 229 / 2
    assert_eq!(s.free_margin, d("94323.00"));
    assert!(s.complete);
    let err = l.apply_fill(
        &fill("AAPL", Side::Buy, "1", "1"),
        &aapl,
        d("-1"),
        &no_rates,
    );
    assert!(matches!(err, Err(PaperError::Invalid { field: "fee", .. })));
    let err = l.apply_fill(&fill("MSFT", Side::Buy, "1", "1"), &aapl, d("0"), &no_rates);
    assert!(matches!(
        err,
        Err(PaperError::Invalid {
            field: "symbol",
            ..
        })
    ));
}

#[test]
fn a_non_usd_account_converts_dollar_pnl_through_its_own_pair() {
    let mut l = Ledger::new(LedgerConfig {
        currency: "EUR".into(),
        ..LedgerConfig::default()
    });
    let rates = |p: &str| (p == "EUR_USD").then(|| d("1.25"));
    let msft = spec("MSFT");
    l.apply_fill(
        &fill("MSFT", Side::Buy, "10", "400.00"),
        &msft,
        d("0"),
        &rates,
    )
    .unwrap();
    let out = l
        .apply_fill(
            &fill("MSFT", Side::Sell, "10", "410.00"),
            &msft,
            d("0"),
            &rates,
        )
        .unwrap();
    assert_eq!(out.realized, Some(d("80.00"))); // 100 USD ÷ 1.25
                                                // EUR_USD in a EUR account: the base is the account currency, so its own price converts.
    let eurusd = spec("EUR_USD");
    l.apply_fill(
        &fill("EUR_USD", Side::Buy, "10000", "1.20000"),
        &eurusd,
        d("0"),
        &no_rates,
    )
    .unwrap();
    let out = l
        .apply_fill(
            &fill("EUR_USD", Side::Sell, "10000", "1.25000"),
            &eurusd,
            d("0"),
            &no_rates,
        )
        .unwrap();
    assert_eq!(out.realized, Some(d("400.00"))); // 500 USD ÷ 1.25
}

#[test]
fn estimates_give_notional_and_margin_in_the_account_currency() {
    let l = Ledger::default();
    let e = l
        .estimate(
            &spec("EUR_USD"),
            Side::Buy,
            d("10000"),
            d("1.10000"),
            &no_rates,
        )
        .unwrap();
    assert_eq!(
        (e.notional, e.margin, e.leverage),
        (Some(d("11000.00")), Some(d("220.00")), d("50"))
    );
    let e = l
        .estimate(&spec("AAPL"), Side::Sell, d("10"), d("230.00"), &no_rates)
        .unwrap();
    assert_eq!(
        (e.notional, e.margin),
        (Some(d("2300.00")), Some(d("1150.00")))
    );
    let e = l
        .estimate(
            &spec("USD_JPY"),
            Side::Buy,
            d("10000"),
            d("151.500"),
            &no_rates,
        )
        .unwrap();
    assert_eq!(
        (e.notional_quote, e.notional),
        (d("1515000.000"), Some(d("10000.00")))
    );
    let e = l
        .estimate(
            &spec("GBP_JPY"),
            Side::Buy,
            d("10000"),
            d("200.000"),
            &no_rates,
        )
        .unwrap();
    assert_eq!(
        (e.status, e.notional, e.margin),
        (PnlStatus::Unconverted, None, None)
    );
    let rates = |p: &str| (p == "USD_JPY").then(|| d("150"));
    let e = l
        .estimate(
            &spec("GBP_JPY"),
            Side::Buy,
            d("10000"),
            d("200.000"),
            &rates,
        )
        .unwrap();
    assert_eq!(
        (e.notional, e.margin),
        (Some(d("13333.33")), Some(d("266.67")))
    );
    // Leverage is per account and kind.
    let l = Ledger::new(LedgerConfig {
        fx_leverage: d("20"),
        ..LedgerConfig::default()
    });
    let e = l
        .estimate(
            &spec("EUR_USD"),
            Side::Buy,
            d("10000"),
            d("1.10000"),
            &no_rates,
        )
        .unwrap();
    assert_eq!(e.margin, Some(d("550.00")));
    assert!(matches!(
        l.estimate(&spec("EUR_USD"), Side::Buy, d("0"), d("1.1"), &no_rates),
        Err(PaperError::Invalid {
            field: "quantity",
            ..
        })
    ));
}

#[test]
fn reset_starts_the_account_over() {
    let mut l = Ledger::default();
    book(&mut l, "EUR_GBP", Side::Buy, "1000", "0.87000");
    book(&mut l, "EUR_GBP", Side::Sell, "500", "0.88000");
    book(&mut l, "AAPL", Side::Buy, "1", "230");
    l.reset(None).unwrap();
    let s = l.summary(&marks(&[]), &no_rates, None);
    assert_eq!(
        (s.balance, s.realized_pnl, s.equity),
        (d("100000"), d("0"), d("100000"))
    );
    assert!(s.positions.is_empty() && s.unconverted_realized.is_empty() && s.complete);
    l.reset(Some(d("25000"))).unwrap();
    assert_eq!(
        (l.balance(), l.config().starting_balance),
        (d("25000"), d("25000"))
    );
    assert!(matches!(
        l.reset(Some(d("0"))),
        Err(PaperError::Invalid {
            field: "startingBalance",
            ..
        })
    ));
    assert_eq!(l.balance(), d("25000"));
}

#[test]
fn money_rounds_half_to_even_in_the_currencys_minor_unit() {
    assert_eq!(round_money(d("1.005"), "USD"), d("1.00"));
    assert_eq!(round_money(d("1.015"), "USD"), d("1.02"));
    assert_eq!(round_money(d("1234.5"), "JPY"), d("1234"));
    let mut l = Ledger::new(LedgerConfig {
        currency: "JPY".into(),
        ..LedgerConfig::default()
    });
    let out = l
        .apply_fill(
            &fill("USD_JPY", Side::Buy, "1000", "150.0005"),
            &spec("USD_JPY"),
            d("0"),
            &no_rates,
        )
        .unwrap();
    assert_eq!(out.realized, Some(d("0")));
    let out = l
        .apply_fill(
            &fill("USD_JPY", Side::Sell, "1000", "150.0010"),
            &spec("USD_JPY"),
            d("0"),
            &no_rates,
        )
        .unwrap();
    assert_eq!(out.realized, Some(d("0")), "0.5 JPY rounds to even: 0");
}

#[test]
fn the_summary_serialises_camel_case_with_decimal_strings() {
    let mut l = Ledger::default();
    book(&mut l, "AAPL", Side::Buy, "10", "230.00");
    let s = l.summary(&marks(&[("AAPL", "231.00", "231.02")]), &no_rates, None);
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["balance"], "100000");
    assert_eq!(v["unrealizedPnl"], "10.00");
    assert_eq!(v["positions"][0]["pnlStatus"], "converted");
    assert_eq!(v["positions"][0]["averagePrice"], "230.00");
    assert_eq!(v["dayPnl"], serde_json::Value::Null);
    let back: Ledger = serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
    assert_eq!(back, l);
}

#[test]
fn broken_marks_rates_and_fills_are_refused_not_panicked_on() {
    let mut l = Ledger::default();
    book(&mut l, "EUR_GBP", Side::Buy, "1000", "0.87000");
    book(&mut l, "AAPL", Side::Buy, "1", "230.00");
    // A crossed AAPL quote marks nothing; an absurd GBP rate converts nothing.
    let rates = |p: &str| (p == "GBP_USD").then(|| d("79000000000000000000000000000"));
    let s = l.summary(
        &marks(&[("AAPL", "231", "230"), ("EUR_GBP", "0.88", "0.88010")]),
        &rates,
        None,
    );
    let status: Vec<_> = s.positions.iter().map(|p| p.pnl_status).collect();
    assert_eq!(status, vec![PnlStatus::NoQuote, PnlStatus::Unconverted]);
    assert!(!s.complete);
    let huge = fill("AAPL", Side::Buy, "10000000000000", "1");
    let err = l.apply_fill(&huge, &spec("AAPL"), d("0"), &no_rates);
    assert!(matches!(
        err,
        Err(PaperError::Invalid {
            field: "quantity",
            ..
        })
    ));
    let err = l.apply_fill(
        &fill("AAPL", Side::Buy, "1", "0"),
        &spec("AAPL"),
        d("0"),
        &no_rates,
    );
    assert!(matches!(
        err,
        Err(PaperError::Invalid { field: "price", .. })
    ));
}
