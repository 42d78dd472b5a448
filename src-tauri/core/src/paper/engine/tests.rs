#![allow(clippy::unwrap_used)]

//! The engine on recorded quote sequences: each table row is `(seconds after 10:00:00,
//! bid, ask)`, fed with `now` equal to the quote's time and a fresh feed unless a test
//! says otherwise.

use super::*;
use rust_decimal_macros::dec;

pub(super) const SYM: &str = "EUR_USD";

/// 10:00:00 plus `s` seconds on a fixed day.
pub(super) fn t(s: f64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + TimeDelta::milliseconds((s * 1000.0) as i64)
}

pub(super) fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub(super) fn quote(s: f64, bid: &str, ask: &str) -> Quote {
    Quote::new(SYM, d(bid), d(ask), t(s))
}

pub(super) fn sized(s: f64, bid: &str, ask: &str, bid_size: &str, ask_size: &str) -> Quote {
    quote(s, bid, ask).with_sizes(Some(d(bid_size)), Some(d(ask_size)))
}

/// Feeds every row with `now` = the quote's time.
pub(super) fn feed(e: &mut PaperEngine, rows: &[(f64, &str, &str)]) -> Vec<EngineEvent> {
    rows.iter()
        .flat_map(|(s, b, a)| e.on_quote(&quote(*s, b, a), t(*s), FeedStatus::Fresh))
        .collect()
}

/// The fills among `events`: `(order id, quantity, price)`.
pub(super) fn fills(events: &[EngineEvent]) -> Vec<(String, Decimal, Decimal)> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Filled { fill } => {
                Some((fill.order_id.clone(), fill.quantity, fill.price))
            }
            _ => None,
        })
        .collect()
}

pub(super) fn f(id: &str, qty: &str, price: &str) -> (String, Decimal, Decimal) {
    (id.to_string(), d(qty), d(price))
}

/// The cancellations among `events`: `(order id, reason)`.
pub(super) fn cancels(events: &[EngineEvent]) -> Vec<(String, CancelReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Cancelled {
                order_id, reason, ..
            } => Some((order_id.clone(), *reason)),
            _ => None,
        })
        .collect()
}

pub(super) fn accepted(e: &mut PaperEngine, order: NewOrder) {
    let ev = e.submit(order);
    assert!(matches!(ev[0], EngineEvent::Accepted { .. }), "{ev:?}");
}

pub(super) fn status(e: &PaperEngine, id: &str) -> OrderStatus {
    e.order(id).unwrap().status
}

fn buy(id: &str, qty: &str, at: f64) -> NewOrder {
    NewOrder::market(id, SYM, Side::Buy, d(qty), t(at))
}

fn sell(id: &str, qty: &str, at: f64) -> NewOrder {
    NewOrder::market(id, SYM, Side::Sell, d(qty), t(at))
}

// ---- Market orders ---------------------------------------------------------------------

#[test]
fn market_buys_fill_at_the_ask_and_sells_at_the_bid() {
    let mut e = PaperEngine::default();
    accepted(&mut e, buy("b", "10000", 0.0));
    accepted(&mut e, sell("s", "5000", 0.0));
    let ev = feed(&mut e, &[(0.0, "1.10000", "1.10008")]);
    assert_eq!(
        fills(&ev),
        vec![f("b", "10000", "1.10008"), f("s", "5000", "1.10000")]
    );
    assert_eq!(status(&e, "b"), OrderStatus::Filled);
    let EngineEvent::Filled { fill } = &ev[0] else {
        panic!()
    };
    assert_eq!(fill.id, "b#1");
    assert_eq!(fill.remaining, Decimal::ZERO);
    assert_eq!(fill.time, t(0.0));
    assert_eq!(e.order("b").unwrap().average_price, Some(d("1.10008")));
    assert!(e.open_orders().is_empty());
}

#[test]
fn a_quote_older_than_the_order_never_fills_it() {
    let mut e = PaperEngine::default();
    accepted(&mut e, buy("b", "1", 5.0));
    // Rows: a quote from before acceptance (even fed late), then the first at/after it.
    let ev = e.on_quote(
        &quote(4.75, "1.10000", "1.10008"),
        t(5.1),
        FeedStatus::Fresh,
    );
    assert!(fills(&ev).is_empty());
    let ev = feed(&mut e, &[(5.0, "1.10100", "1.10108")]);
    assert_eq!(fills(&ev), vec![f("b", "1", "1.10108")]);
}

#[test]
fn slippage_moves_fills_against_the_trader_rounded_to_the_quote() {
    let mut e = PaperEngine::new(EngineConfig {
        slippage_bps: dec!(2),
        ..EngineConfig::default()
    });
    accepted(&mut e, buy("b", "1", 0.0));
    accepted(&mut e, sell("s", "1", 0.0));
    // Sell limit below the bid: slipped price 1.09968 is still above its 1.09900 limit.
    accepted(
        &mut e,
        NewOrder::limit("l", SYM, Side::Sell, d("1"), d("1.09900"), t(0.0)),
    );
    // Buy limit just above the ask: slippage would pass it, so it fills at the limit.
    accepted(
        &mut e,
        NewOrder::limit("m", SYM, Side::Buy, d("1"), d("1.10010"), t(0.0)),
    );
    let ev = feed(&mut e, &[(0.0, "1.09990", "1.10000")]);
    // 1.10000 × 1.0002 = 1.10022; 1.09990 × 0.9998 = 1.09968002 → 1.09968.
    assert_eq!(
        fills(&ev),
        vec![
            f("b", "1", "1.10022"),
            f("s", "1", "1.09968"),
            f("l", "1", "1.09968"),
            f("m", "1", "1.10010")
        ]
    );
}

// ---- Limit and stop orders -------------------------------------------------------------

#[test]
fn a_buy_limit_fills_when_the_ask_reaches_it_at_the_limit_or_better() {
    let mut e = PaperEngine::default();
    accepted(
        &mut e,
        NewOrder::limit("a", SYM, Side::Buy, d("1"), d("1.10000"), t(0.0)),
    );
    accepted(
        &mut e,
        NewOrder::limit("b", SYM, Side::Buy, d("1"), d("1.09950"), t(0.0)),
    );
    let ev = feed(
        &mut e,
        &[
            (1.0, "1.09995", "1.10003"), // ask above both limits
            (2.0, "1.09992", "1.10000"), // ask == a's limit: a fills at its limit
            (3.0, "1.09900", "1.09908"), // gap down through b's limit: b fills at the better ask
        ],
    );
    assert_eq!(
        fills(&ev),
        vec![f("a", "1", "1.10000"), f("b", "1", "1.09908")]
    );
}

#[test]
fn a_sell_limit_fills_when_the_bid_reaches_it_at_the_limit_or_better() {
    let mut e = PaperEngine::default();
    accepted(
        &mut e,
        NewOrder::limit("s", SYM, Side::Sell, d("2"), d("1.10100"), t(0.0)),
    );
    let ev = feed(
        &mut e,
        &[
            (1.0, "1.10090", "1.10102"), // only the ask reached it: no fill
            (2.0, "1.10150", "1.10158"), // bid gapped above: fills at the bid
        ],
    );
    assert_eq!(fills(&ev), vec![f("s", "2", "1.10150")]);
}

#[test]
fn a_buy_stop_triggers_on_the_ask_and_fills_at_market() {
    let mut e = PaperEngine::default();
    accepted(
        &mut e,
        NewOrder::stop("st", SYM, Side::Buy, d("1"), d("1.10050"), t(0.0)),
    );
    let ev = feed(
        &mut e,
        &[
            (1.0, "1.10040", "1.10048"), // below the stop
            (2.0, "1.10047", "1.10055"), // ask ≥ stop: triggers, fills at the ask
        ],
    );
    assert!(ev.iter().any(|e| matches!(e, EngineEvent::Triggered { order_id, time } if order_id == "st" && *time == t(2.0))));
    assert_eq!(fills(&ev), vec![f("st", "1", "1.10055")]);
}

#[test]
fn a_sell_stop_gapped_through_fills_at_the_gapped_bid() {
    let mut e = PaperEngine::default();
    accepted(
        &mut e,
        NewOrder::stop("st", SYM, Side::Sell, d("1"), d("1.10000"), t(0.0)),
    );
    // A gap in the feed: nothing between 10:00:01 and 10:00:31, then a quote far below.
    let ev = feed(
        &mut e,
        &[(1.0, "1.10010", "1.10018"), (31.0, "1.09800", "1.09808")],
    );
    assert_eq!(
        fills(&ev),
        vec![f("st", "1", "1.09800")],
        "worse than the stop: a gap"
    );
}

#[test]
fn a_triggered_stop_keeps_working_as_a_market_order() {
    let mut e = PaperEngine::default();
    accepted(
        &mut e,
        NewOrder::stop("st", SYM, Side::Buy, d("3000000"), d("1.10050"), t(0.0)),
    );
    let ev: Vec<_> = [
        sized(1.0, "1.10050", "1.10058", "1000000", "1000000"), // triggers, fills 1M
        sized(2.0, "1.10000", "1.10008", "1000000", "5000000"), // back below the stop: still fills
    ]
    .iter()
    .flat_map(|q| e.on_quote(q, q.time, FeedStatus::Fresh))
    .collect();
    assert_eq!(
        fills(&ev),
        vec![f("st", "1000000", "1.10058"), f("st", "2000000", "1.10008")]
    );
    let triggers = ev
        .iter()
        .filter(|e| matches!(e, EngineEvent::Triggered { .. }))
        .count();
    assert_eq!(triggers, 1);
    assert_eq!(
        e.order("st").unwrap().average_price,
        Some(d("1.1002466667"))
    );
}

// ---- Stale feeds and gaps --------------------------------------------------------------

#[test]
fn nothing_fills_on_a_stale_feed_and_the_order_waits() {
    let mut e = PaperEngine::default();
    accepted(&mut e, buy("b", "1", 0.0));
    let q = quote(1.0, "1.10000", "1.10008");
    assert!(e.on_quote(&q, t(1.0), FeedStatus::Stale).is_empty());
    assert_eq!(status(&e, "b"), OrderStatus::Working);
    let q2 = quote(2.0, "1.10010", "1.10018");
    assert_eq!(
        fills(&e.on_quote(&q2, t(2.0), FeedStatus::Fresh)),
        vec![f("b", "1", "1.10018")]
    );
}

#[test]
fn a_quote_older_than_the_age_limit_does_not_fill() {
    let mut e = PaperEngine::default(); // 5 s
    accepted(
        &mut e,
        NewOrder::limit("l", SYM, Side::Buy, d("1"), d("1.10000"), t(0.0)),
    );
    let q = quote(1.0, "1.09990", "1.09998");
    assert!(
        e.on_quote(&q, t(6.001), FeedStatus::Fresh).is_empty(),
        "6 s old"
    );
    assert_eq!(
        fills(&e.on_quote(&q, t(6.0), FeedStatus::Fresh)),
        vec![f("l", "1", "1.09998")]
    );
}

#[test]
fn crossed_or_empty_quotes_are_ignored() {
    let mut e = PaperEngine::default();
    accepted(&mut e, buy("b", "1", 0.0));
    let ev = feed(
        &mut e,
        &[
            (1.0, "1.10010", "1.10000"), // crossed
            (2.0, "0", "1.10000"),       // no bid
            (3.0, "1.1", "2000000000"),  // beyond MAX_PRICE
        ],
    );
    assert!(fills(&ev).is_empty());
    assert_eq!(status(&e, "b"), OrderStatus::Working);
}

#[test]
fn quotes_of_other_instruments_do_not_touch_the_order() {
    let mut e = PaperEngine::default();
    accepted(&mut e, buy("b", "1", 0.0));
    let q = Quote::new("GBP_USD", d("1.3"), d("1.30010"), t(1.0));
    assert!(e.on_quote(&q, t(1.0), FeedStatus::Fresh).is_empty());
    assert_eq!(status(&e, "b"), OrderStatus::Working);
}

// ---- Displayed size --------------------------------------------------------------------

#[test]
fn partial_fills_take_the_displayed_size_and_the_rest_keeps_working() {
    let mut e = PaperEngine::default();
    accepted(&mut e, buy("b", "2500000", 0.0));
    let rows = [
        sized(1.0, "1.10000", "1.10008", "3000000", "1000000"),
        sized(2.0, "1.10002", "1.10010", "3000000", "1000000"),
        sized(3.0, "1.10004", "1.10012", "3000000", "4000000"),
    ];
    let mut remaining = Vec::new();
    let mut all = Vec::new();
    for q in &rows {
        let ev = e.on_quote(q, q.time, FeedStatus::Fresh);
        for x in &ev {
            if let EngineEvent::Filled { fill } = x {
                remaining.push((fill.id.clone(), fill.remaining));
            }
        }
        all.extend(ev);
    }
    assert_eq!(
        fills(&all),
        vec![
            f("b", "1000000", "1.10008"),
            f("b", "1000000", "1.10010"),
            f("b", "500000", "1.10012")
        ]
    );
    assert_eq!(
        remaining,
        vec![
            ("b#1".into(), d("1500000")),
            ("b#2".into(), d("500000")),
            ("b#3".into(), d("0"))
        ]
    );
    let o = e.order("b").unwrap();
    assert_eq!(
        (o.status, o.filled_quantity),
        (OrderStatus::Filled, d("2500000"))
    );
    assert_eq!(o.average_price, Some(d("1.10009600")));
}

#[test]
fn orders_share_the_displayed_size_in_acceptance_order() {
    let mut e = PaperEngine::default();
    accepted(&mut e, sell("first", "600", 0.0));
    accepted(&mut e, sell("second", "600", 0.0));
    accepted(&mut e, buy("buyer", "600", 0.0)); // the other side has its own size
    let q = Quote::new(SYM, d("100.00"), d("100.02"), t(1.0)).with_sizes(Some(d("1000")), None);
    let ev = e.on_quote(&q, t(1.0), FeedStatus::Fresh);
    assert_eq!(
        fills(&ev),
        vec![
            f("first", "600", "100.00"),
            f("second", "400", "100.00"),
            f("buyer", "600", "100.02")
        ]
    );
    assert_eq!(e.order("second").unwrap().remaining(), d("200"));
    // An exhausted side fills nothing more on the same quote; the next quote resumes.
    let q = Quote::new(SYM, d("99.98"), d("100.00"), t(2.0)).with_sizes(Some(d("0")), None);
    assert!(fills(&e.on_quote(&q, t(2.0), FeedStatus::Fresh)).is_empty());
    let q = Quote::new(SYM, d("99.99"), d("100.01"), t(3.0));
    assert_eq!(
        fills(&e.on_quote(&q, t(3.0), FeedStatus::Fresh)),
        vec![f("second", "200", "99.99")]
    );
}

// ---- Time in force ---------------------------------------------------------------------

#[test]
fn a_day_order_expires_at_the_end_of_its_day() {
    let mut e = PaperEngine::default();
    let close = t(60.0);
    accepted(
        &mut e,
        NewOrder::limit("day", SYM, Side::Buy, d("1"), d("1.09000"), t(0.0)).day(close),
    );
    accepted(
        &mut e,
        NewOrder::limit("gtc", SYM, Side::Buy, d("1"), d("1.09000"), t(0.0)),
    );
    let ev = feed(&mut e, &[(30.0, "1.10000", "1.10008")]);
    assert!(ev.is_empty());
    // At the close, the quote would fill both; the day order expired first.
    let ev = feed(&mut e, &[(60.0, "1.08990", "1.08998")]);
    assert_eq!(cancels(&ev), vec![("day".into(), CancelReason::Expired)]);
    assert_eq!(fills(&ev), vec![f("gtc", "1", "1.08998")]);
    assert_eq!(status(&e, "day"), OrderStatus::Expired);
}

#[test]
fn expire_ends_due_day_orders_on_every_symbol_without_quotes() {
    let mut e = PaperEngine::default();
    let close = t(3600.0);
    accepted(
        &mut e,
        NewOrder::limit("a", SYM, Side::Buy, d("1"), d("1"), t(0.0)).day(close),
    );
    let other = NewOrder::limit("b", "AAPL", Side::Sell, d("5"), d("300"), t(0.0)).day(close);
    accepted(&mut e, other.bracket(Some(d("310")), None));
    accepted(
        &mut e,
        NewOrder::limit("c", SYM, Side::Buy, d("1"), d("1"), t(0.0)),
    );
    assert!(e.expire(t(3599.0)).is_empty());
    let ev = e.expire(close);
    assert_eq!(
        cancels(&ev),
        vec![
            ("a".into(), CancelReason::Expired),
            ("b".into(), CancelReason::Expired),
            ("b:sl".into(), CancelReason::ParentCancelled)
        ]
    );
    assert_eq!(
        e.open_orders()
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        vec!["c"]
    );
}

#[test]
fn a_partly_filled_day_order_expires_with_its_fills_kept() {
    let mut e = PaperEngine::default();
    accepted(&mut e, buy("b", "300", 0.0).day(t(10.0)));
    let q = Quote::new(SYM, d("50.00"), d("50.01"), t(1.0)).with_sizes(None, Some(d("100")));
    assert_eq!(
        fills(&e.on_quote(&q, t(1.0), FeedStatus::Fresh)),
        vec![f("b", "100", "50.01")]
    );
    let ev = e.expire(t(10.0));
    assert_eq!(cancels(&ev), vec![("b".into(), CancelReason::Expired)]);
    let o = e.order("b").unwrap();
    assert_eq!(
        (o.status, o.filled_quantity),
        (OrderStatus::Expired, d("100"))
    );
}

#[test]
fn a_day_order_ignores_quotes_stamped_at_its_end_and_expires_even_on_a_stale_feed() {
    let mut e = PaperEngine::default();
    accepted(&mut e, buy("b", "1", 0.0).day(t(60.0)));
    // A quote stamped at the close, seen while the caller's clock is just before it.
    let q = quote(60.0, "1.10000", "1.10008");
    assert!(e.on_quote(&q, t(59.9), FeedStatus::Fresh).is_empty());
    assert_eq!(status(&e, "b"), OrderStatus::Working);
    // The feed is down at the close: the order still expires.
    let ev = e.on_quote(&quote(59.0, "1.1", "1.10008"), t(60.0), FeedStatus::Stale);
    assert_eq!(cancels(&ev), vec![("b".into(), CancelReason::Expired)]);
}
