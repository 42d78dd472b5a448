use rust_decimal_macros::dec;

use super::*;

fn problems(r: Result<OrderIntent, Vec<FieldError>>) -> Vec<(String, String)> {
    r.err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.field, e.code.as_str().to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect()
}

fn ok(draft: &OrderDraft) -> OrderIntent {
    OrderIntent::check(draft).unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn a_market_order_is_valid_with_exact_decimals() {
    let i = ok(&OrderDraft::market(" EUR_USD ", OrderSide::Buy, " 1000.50 ").with_client_id("c-1"));
    assert_eq!(i.symbol(), "EUR_USD");
    assert_eq!(i.quantity(), dec!(1000.50));
    assert_eq!(i.quantity().to_string(), "1000.50");
    assert_eq!(i.signed_quantity(), dec!(1000.5));
    assert_eq!(i.order_type(), OrderType::Market);
    assert_eq!((i.limit_price(), i.stop_price()), (None, None));
    assert_eq!(i.time_in_force(), TimeInForce::Day);
    assert_eq!(i.client_order_id(), "c-1");
    assert!(!i.has_exits());
    let sell = ok(&OrderDraft::market("AAPL", OrderSide::Sell, "0.1"));
    assert_eq!(sell.signed_quantity(), dec!(-0.1));
}

#[test]
fn a_missing_client_id_is_generated_and_unique() {
    let d = OrderDraft::market("AAPL", OrderSide::Buy, "1");
    let (a, b) = (ok(&d), ok(&d));
    assert_eq!(a.client_order_id().len(), 36);
    assert_ne!(a.client_order_id(), b.client_order_id());
    let blank = ok(&d.clone().with_client_id("  "));
    assert_eq!(blank.client_order_id().len(), 36);
}

#[test]
fn limit_and_stop_orders_carry_their_price_in_its_own_slot() {
    let l = ok(&OrderDraft::limit(
        "EUR_USD",
        OrderSide::Buy,
        "1000",
        "1.08235",
    ));
    assert_eq!(
        (l.limit_price(), l.stop_price()),
        (Some(dec!(1.08235)), None)
    );
    let s = ok(&OrderDraft::stop(
        "EUR_USD",
        OrderSide::Sell,
        "1000",
        "1.07",
    ));
    assert_eq!((s.limit_price(), s.stop_price()), (None, Some(dec!(1.07))));
    assert_eq!(s.order_type(), OrderType::Stop);
}

#[test]
fn quantities_must_be_positive_numbers_of_at_most_28_digits() {
    for (q, code) in [
        ("", "required"),
        ("   ", "required"),
        ("0", "out_of_range"),
        ("0.000", "out_of_range"),
        ("-5", "out_of_range"),
        ("NaN", "invalid"),
        ("inf", "invalid"),
        ("1e3", "invalid"),
        ("ten", "invalid"),
        ("1,000", "invalid"),
        ("12345678901234567890123456789", "too_precise"),
        ("0.00000000000000000000000000001", "too_precise"),
    ] {
        let d = OrderDraft::market("AAPL", OrderSide::Buy, q);
        assert_eq!(
            problems(OrderIntent::check(&d)),
            pairs(&[("quantity", code)]),
            "{q:?}"
        );
    }
    let max = ok(&OrderDraft::market(
        "AAPL",
        OrderSide::Buy,
        "1234567890123456789012345678",
    ));
    assert_eq!(max.quantity().to_string(), "1234567890123456789012345678");
}

#[test]
fn limit_and_stop_orders_need_a_positive_price_and_market_orders_none() {
    let mut d = OrderDraft::limit("AAPL", OrderSide::Buy, "1", "");
    assert_eq!(
        problems(OrderIntent::check(&d)),
        pairs(&[("price", "required")])
    );
    d.price = None;
    assert_eq!(
        problems(OrderIntent::check(&d)),
        pairs(&[("price", "required")])
    );
    d.order_type = OrderType::Stop;
    assert_eq!(
        problems(OrderIntent::check(&d)),
        pairs(&[("price", "required")])
    );
    for (p, code) in [
        ("0", "out_of_range"),
        ("-1.5", "out_of_range"),
        ("abc", "invalid"),
    ] {
        let d = OrderDraft::limit("AAPL", OrderSide::Buy, "1", p);
        assert_eq!(
            problems(OrderIntent::check(&d)),
            pairs(&[("price", code)]),
            "{p}"
        );
    }
    let mut m = OrderDraft::market("AAPL", OrderSide::Buy, "1");
    m.price = Some("189.12".into());
    assert_eq!(
        problems(OrderIntent::check(&m)),
        pairs(&[("price", "not_allowed")])
    );
    // A blank price on a market order is no price.
    m.price = Some(" ".into());
    assert!(OrderIntent::check(&m).is_ok());
}

#[test]
fn a_buys_stop_loss_is_below_its_entry_and_its_take_profit_above() {
    let mut d = OrderDraft::limit("EUR_USD", OrderSide::Buy, "1000", "1.08000");
    d.stop_loss = Some("1.07500".into());
    d.take_profit = Some("1.09000".into());
    let i = ok(&d);
    assert_eq!(
        (i.stop_loss(), i.take_profit()),
        (Some(dec!(1.075)), Some(dec!(1.09)))
    );
    assert!(i.has_exits());

    d.stop_loss = Some("1.08500".into());
    d.take_profit = Some("1.07000".into());
    assert_eq!(
        problems(OrderIntent::check(&d)),
        pairs(&[("stopLoss", "wrong_side"), ("takeProfit", "wrong_side")])
    );
    // At the entry is not below it.
    d.stop_loss = Some("1.08".into());
    d.take_profit = None;
    assert_eq!(
        problems(OrderIntent::check(&d)),
        pairs(&[("stopLoss", "wrong_side")])
    );
}

#[test]
fn a_sells_exits_are_the_other_way_round() {
    let mut d = OrderDraft::stop("EUR_USD", OrderSide::Sell, "1000", "1.08");
    d.stop_loss = Some("1.09".into());
    d.take_profit = Some("1.07".into());
    assert!(OrderIntent::check(&d).is_ok());
    d.stop_loss = Some("1.07".into());
    d.take_profit = Some("1.09".into());
    let errs = OrderIntent::check(&d).err().unwrap_or_default();
    assert_eq!(errs.len(), 2);
    assert!(
        errs[0].message.contains("above the entry price (1.08)"),
        "{}",
        errs[0].message
    );
    assert!(
        errs[1].message.contains("below the entry price (1.08)"),
        "{}",
        errs[1].message
    );
}

#[test]
fn a_market_orders_exits_are_checked_against_the_reference_price_when_known() {
    let mut d = OrderDraft::market("AAPL", OrderSide::Buy, "10");
    d.stop_loss = Some("195".into());
    // Unknown market: nothing to compare a lone stop-loss with.
    assert!(OrderIntent::check(&d).is_ok());
    let ctx = OrderContext {
        reference_price: Some(dec!(189.12)),
        ..OrderContext::default()
    };
    assert_eq!(
        problems(OrderIntent::new(&d, &ctx)),
        pairs(&[("stopLoss", "wrong_side")])
    );
    d.stop_loss = Some("185".into());
    assert!(OrderIntent::new(&d, &ctx).is_ok());
    // Without a reference the two exits are still checked against each other.
    d.take_profit = Some("180".into());
    assert_eq!(
        problems(OrderIntent::check(&d)),
        pairs(&[("stopLoss", "wrong_side")])
    );
}

#[test]
fn exits_must_be_positive_numbers() {
    let mut d = OrderDraft::market("AAPL", OrderSide::Buy, "1");
    d.stop_loss = Some("-1".into());
    d.take_profit = Some("lots".into());
    assert_eq!(
        problems(OrderIntent::check(&d)),
        pairs(&[("stopLoss", "out_of_range"), ("takeProfit", "invalid")])
    );
}

#[test]
fn decimal_places_follow_the_instrument_when_known() {
    let ctx = OrderContext {
        instrument: InstrumentRules {
            price_decimals: Some(5),
            quantity_decimals: Some(0),
        },
        reference_price: None,
    };
    let mut d = OrderDraft::limit("EUR_USD", OrderSide::Buy, "1000", "1.082351");
    d.stop_loss = Some("1.0700001".into());
    assert_eq!(
        problems(OrderIntent::new(&d, &ctx)),
        pairs(&[("price", "too_precise"), ("stopLoss", "too_precise")])
    );
    // Trailing zeros are not extra precision.
    d.price = Some("1.0823500".into());
    d.stop_loss = Some("1.07".into());
    assert!(OrderIntent::new(&d, &ctx).is_ok());
    d.quantity = "1000.5".into();
    let errs = OrderIntent::new(&d, &ctx).err().unwrap_or_default();
    assert_eq!(errs.len(), 1);
    assert_eq!(
        (errs[0].field.as_str(), errs[0].code.as_str()),
        ("quantity", "too_precise")
    );
    assert!(
        errs[0].message.contains("whole number"),
        "{}",
        errs[0].message
    );
    // Unknown instrument: any precision a decimal holds.
    d.quantity = "0.123456789".into();
    d.price = Some("1.123456789".into());
    assert!(OrderIntent::check(&d).is_ok());
}

#[test]
fn symbols_are_required_and_plain() {
    for (s, code) in [
        ("", "required"),
        ("  ", "required"),
        ("EUR USD", "invalid"),
        ("AAPL\u{0}", "invalid"),
        ("AA\tPL", "invalid"),
    ] {
        let d = OrderDraft::market(s, OrderSide::Buy, "1");
        assert_eq!(
            problems(OrderIntent::check(&d)),
            pairs(&[("symbol", code)]),
            "{s:?}"
        );
    }
    let long = "X".repeat(MAX_SYMBOL_CHARS + 1);
    let d = OrderDraft::market(&long, OrderSide::Buy, "1");
    assert_eq!(
        problems(OrderIntent::check(&d)),
        pairs(&[("symbol", "too_long")])
    );
    assert!(OrderIntent::check(&OrderDraft::market("/ESZ6", OrderSide::Buy, "1")).is_ok());
}

#[test]
fn client_ids_are_printable_ascii_and_bounded() {
    let d = OrderDraft::market("AAPL", OrderSide::Buy, "1");
    for (id, code) in [("has space", "invalid"), ("é", "invalid")] {
        assert_eq!(
            problems(OrderIntent::check(&d.clone().with_client_id(id))),
            pairs(&[("clientOrderId", code)])
        );
    }
    let long = "c".repeat(MAX_CLIENT_ID_CHARS + 1);
    assert_eq!(
        problems(OrderIntent::check(&d.clone().with_client_id(&long))),
        pairs(&[("clientOrderId", "too_long")])
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut d = OrderDraft::limit("", OrderSide::Buy, "0", "x");
    d.take_profit = Some("-2".into());
    d.client_order_id = Some("a b".into());
    assert_eq!(
        problems(OrderIntent::check(&d)),
        pairs(&[
            ("symbol", "required"),
            ("quantity", "out_of_range"),
            ("price", "invalid"),
            ("takeProfit", "out_of_range"),
            ("clientOrderId", "invalid"),
        ])
    );
}

#[test]
fn drafts_come_from_the_ui_as_json_and_intents_go_back_with_string_decimals() {
    let d: OrderDraft = serde_json::from_str(
        r#"{"symbol":"EUR_USD","side":"buy","quantity":"1000","orderType":"limit",
            "price":"1.08235","timeInForce":"gtc","stopLoss":"1.07","clientOrderId":"c9"}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let i = ok(&d);
    let v = serde_json::to_value(&i).unwrap_or_default();
    assert_eq!(v["limitPrice"], "1.08235");
    assert_eq!(v["quantity"], "1000");
    assert_eq!(v["stopLoss"], "1.07");
    assert_eq!(v["takeProfit"], serde_json::Value::Null);
    assert_eq!(v["timeInForce"], "gtc");
    assert_eq!(v["orderType"], "limit");
    // Optional fields may be left out.
    let d: OrderDraft = serde_json::from_str(
        r#"{"symbol":"AAPL","side":"sell","quantity":"1","orderType":"market"}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.time_in_force, TimeInForce::Day);
    assert!(OrderIntent::check(&d).is_ok());
}

#[test]
fn the_trading_error_carries_the_fields() {
    use crate::error::ErrorCode;
    let errs = OrderIntent::check(&OrderDraft::market("", OrderSide::Buy, "1"))
        .err()
        .unwrap_or_default();
    let e = crate::trading::TradingError::from(errs);
    let api = e.to_api_error();
    assert_eq!(api.code, crate::error::Code::Validation);
    assert_eq!(api.fields.len(), 1);
    assert!(api.message.contains("symbol"), "{}", api.message);
}
