#![allow(clippy::unwrap_used)]

//! Brackets, cancel and modify, validation, and the engine's persistence shape.

use super::tests::{accepted, cancels, d, f, feed, fills, quote, sized, status, t, SYM};
use super::*;

/// A market buy of 10,000 with a stop-loss at 1.09900 and a take-profit at 1.10200.
fn bracket_buy(e: &mut PaperEngine) {
    let order = NewOrder::market("p", SYM, Side::Buy, d("10000"), t(0.0))
        .bracket(Some(d("1.09900")), Some(d("1.10200")));
    let ev = e.submit(order);
    let ids: Vec<_> = ev
        .iter()
        .map(|x| match x {
            EngineEvent::Accepted { order } => (order.id.clone(), order.status),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("p".into(), OrderStatus::Working),
            ("p:sl".into(), OrderStatus::Pending),
            ("p:tp".into(), OrderStatus::Pending)
        ]
    );
}

fn activations(events: &[EngineEvent]) -> Vec<(String, Decimal)> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Activated {
                order_id, quantity, ..
            } => Some((order_id.clone(), *quantity)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_stop_loss_hit_closes_the_position_and_cancels_the_take_profit() {
    let mut e = PaperEngine::default();
    bracket_buy(&mut e);
    let ev = feed(
        &mut e,
        &[
            (1.0, "1.10000", "1.10008"), // parent fills; children go live
            (2.0, "1.09950", "1.09958"), // above the stop-loss
            (3.0, "1.09895", "1.09903"), // bid ≤ 1.09900: the stop-loss triggers and sells
        ],
    );
    assert_eq!(
        fills(&ev),
        vec![f("p", "10000", "1.10008"), f("p:sl", "10000", "1.09895")]
    );
    assert_eq!(
        activations(&ev),
        vec![("p:sl".into(), d("10000")), ("p:tp".into(), d("10000"))]
    );
    assert_eq!(
        cancels(&ev),
        vec![("p:tp".into(), CancelReason::OcoSibling)]
    );
    let EngineEvent::Filled { fill } = ev
        .iter()
        .rev()
        .find(|x| matches!(x, EngineEvent::Filled { .. }))
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (fill.side, fill.role, fill.parent_id.as_deref()),
        (Side::Sell, OrderRole::StopLoss, Some("p"))
    );
    assert!(e.open_orders().is_empty());
}

#[test]
fn a_take_profit_hit_closes_the_position_and_cancels_the_stop_loss() {
    let mut e = PaperEngine::default();
    bracket_buy(&mut e);
    let ev = feed(
        &mut e,
        &[(1.0, "1.10000", "1.10008"), (2.0, "1.10210", "1.10218")],
    );
    assert_eq!(
        fills(&ev),
        vec![f("p", "10000", "1.10008"), f("p:tp", "10000", "1.10210")]
    );
    assert_eq!(
        cancels(&ev),
        vec![("p:sl".into(), CancelReason::OcoSibling)]
    );
    assert_eq!(status(&e, "p:sl"), OrderStatus::Cancelled);
    assert_eq!(status(&e, "p:tp"), OrderStatus::Filled);
}

#[test]
fn cancelling_the_parent_before_it_fills_cancels_its_children() {
    let mut e = PaperEngine::default();
    let order = NewOrder::limit("p", SYM, Side::Sell, d("5"), d("1.20000"), t(0.0))
        .bracket(Some(d("1.21000")), Some(d("1.15000")));
    accepted(&mut e, order);
    let ev = e.cancel("p", t(1.0)).unwrap();
    assert_eq!(
        cancels(&ev),
        vec![
            ("p".into(), CancelReason::Requested),
            ("p:sl".into(), CancelReason::ParentCancelled),
            ("p:tp".into(), CancelReason::ParentCancelled)
        ]
    );
    // Nothing left to work: a quote through every price fills nothing.
    assert!(feed(
        &mut e,
        &[(2.0, "1.30000", "1.30008"), (3.0, "1.10000", "1.10008")]
    )
    .is_empty());
}

#[test]
fn children_are_not_worked_on_the_quote_that_filled_their_parent() {
    let mut e = PaperEngine::default();
    // The stop-loss sits inside the spread of the fill quote.
    let order =
        NewOrder::market("p", SYM, Side::Buy, d("1"), t(0.0)).bracket(Some(d("1.10005")), None);
    accepted(&mut e, order);
    let q = quote(1.0, "1.10000", "1.10008");
    let ev = e.on_quote(&q, t(1.0), FeedStatus::Fresh);
    assert_eq!(fills(&ev), vec![f("p", "1", "1.10008")]);
    // The same quote again (a duplicate delivery) still cannot close it.
    assert!(fills(&e.on_quote(&q, t(1.1), FeedStatus::Fresh)).is_empty());
    let ev = feed(&mut e, &[(1.25, "1.10000", "1.10008")]);
    assert_eq!(fills(&ev), vec![f("p:sl", "1", "1.10000")]);
}

#[test]
fn children_follow_a_partly_filled_parent_and_an_exit_ends_its_remainder() {
    let mut e = PaperEngine::default();
    let order = NewOrder::market("p", SYM, Side::Buy, d("3000000"), t(0.0))
        .bracket(Some(d("1.09000")), Some(d("1.11000")));
    accepted(&mut e, order);
    let mut ev = Vec::new();
    for q in [
        sized(1.0, "1.10000", "1.10008", "9000000", "1000000"),
        sized(2.0, "1.10000", "1.10008", "9000000", "1000000"),
        // The take-profit is reached before the parent has filled completely.
        sized(3.0, "1.11000", "1.11008", "9000000", "0"),
    ] {
        ev.extend(e.on_quote(&q, q.time, FeedStatus::Fresh));
    }
    assert_eq!(
        activations(&ev),
        vec![
            ("p:sl".into(), d("1000000")),
            ("p:tp".into(), d("1000000")),
            ("p:sl".into(), d("2000000")),
            ("p:tp".into(), d("2000000"))
        ]
    );
    assert_eq!(
        fills(&ev),
        vec![
            f("p", "1000000", "1.10008"),
            f("p", "1000000", "1.10008"),
            f("p:tp", "2000000", "1.11000")
        ]
    );
    assert_eq!(
        cancels(&ev),
        vec![
            ("p:sl".into(), CancelReason::OcoSibling),
            ("p".into(), CancelReason::BracketExit)
        ]
    );
    let p = e.order("p").unwrap();
    assert_eq!(
        (p.status, p.filled_quantity),
        (OrderStatus::Cancelled, d("2000000"))
    );
}

#[test]
fn cancelling_a_partly_filled_parent_keeps_the_children_protecting_the_fill() {
    let mut e = PaperEngine::default();
    let order =
        NewOrder::market("p", SYM, Side::Sell, d("200"), t(0.0)).bracket(Some(d("105")), None);
    accepted(&mut e, order);
    let q = Quote::new(SYM, d("100.00"), d("100.02"), t(1.0)).with_sizes(Some(d("50")), None);
    e.on_quote(&q, t(1.0), FeedStatus::Fresh);
    let ev = e.cancel("p", t(2.0)).unwrap();
    assert_eq!(cancels(&ev), vec![("p".into(), CancelReason::Requested)]);
    let sl = e.order("p:sl").unwrap();
    assert_eq!(
        (sl.status, sl.quantity, sl.side),
        (OrderStatus::Working, d("50"), Side::Buy)
    );
    let ev = feed(&mut e, &[(3.0, "104.99", "105.01")]);
    assert_eq!(fills(&ev), vec![f("p:sl", "50", "105.01")]);
}

#[test]
fn a_day_parent_expiring_unfilled_cancels_its_children() {
    let mut e = PaperEngine::default();
    let order = NewOrder::limit("p", SYM, Side::Buy, d("1"), d("1.00000"), t(0.0))
        .day(t(5.0))
        .bracket(Some(d("0.99000")), None);
    accepted(&mut e, order);
    let ev = feed(&mut e, &[(5.0, "1.10000", "1.10008")]);
    assert_eq!(
        cancels(&ev),
        vec![
            ("p".into(), CancelReason::Expired),
            ("p:sl".into(), CancelReason::ParentCancelled)
        ]
    );
    assert_eq!(status(&e, "p:sl"), OrderStatus::Cancelled);
}

// ---- Cancel and modify -----------------------------------------------------------------

#[test]
fn filled_cancelled_and_unknown_orders_cannot_be_cancelled_or_modified() {
    let mut e = PaperEngine::default();
    accepted(
        &mut e,
        NewOrder::market("m", SYM, Side::Buy, d("1"), t(0.0)),
    );
    accepted(
        &mut e,
        NewOrder::limit("l", SYM, Side::Buy, d("1"), d("1.0"), t(0.0)),
    );
    feed(&mut e, &[(1.0, "1.10000", "1.10008")]);
    e.cancel("l", t(2.0)).unwrap();
    let price = OrderChanges {
        limit_price: Some(d("1.05")),
        ..OrderChanges::default()
    };
    let not_open = |id: &str, status| PaperError::OrderNotOpen {
        id: id.into(),
        status,
    };
    assert_eq!(
        e.cancel("m", t(3.0)),
        Err(not_open("m", OrderStatus::Filled))
    );
    assert_eq!(
        e.modify("m", price.clone(), t(3.0)),
        Err(not_open("m", OrderStatus::Filled))
    );
    assert_eq!(
        e.cancel("l", t(3.0)),
        Err(not_open("l", OrderStatus::Cancelled))
    );
    assert_eq!(
        e.modify("l", price.clone(), t(3.0)),
        Err(not_open("l", OrderStatus::Cancelled))
    );
    assert_eq!(
        e.cancel("zz", t(3.0)),
        Err(PaperError::OrderNotFound("zz".into()))
    );
    assert_eq!(
        e.cancel("m", t(3.0)).unwrap_err().code(),
        Code::OrderNotOpen
    );
    // Once dropped, settled orders are unknown.
    assert_eq!(e.drop_settled(), 2);
    assert_eq!(
        e.modify("m", price, t(3.0)),
        Err(PaperError::OrderNotFound("m".into()))
    );
}

#[test]
fn a_modified_limit_only_fills_on_quotes_from_after_the_change() {
    let mut e = PaperEngine::default();
    accepted(
        &mut e,
        NewOrder::limit("l", SYM, Side::Buy, d("2"), d("1.09000"), t(0.0)),
    );
    let changes = OrderChanges {
        limit_price: Some(d("1.10010")),
        quantity: Some(d("3")),
        ..OrderChanges::default()
    };
    let ev = e.modify("l", changes, t(10.0)).unwrap();
    let [EngineEvent::Modified { order }] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (order.limit_price, order.quantity, order.live_from),
        (Some(d("1.10010")), d("3"), t(10.0))
    );
    // A quote from before the change would cross the new limit: ignored.
    assert!(e
        .on_quote(
            &quote(9.75, "1.10000", "1.10008"),
            t(10.1),
            FeedStatus::Fresh
        )
        .is_empty());
    let ev = feed(&mut e, &[(10.0, "1.10000", "1.10008")]);
    assert_eq!(fills(&ev), vec![f("l", "3", "1.10008")]);
}

#[test]
fn modify_refuses_changes_that_do_not_fit_the_order() {
    let mut e = PaperEngine::default();
    let order = NewOrder::stop("s", SYM, Side::Buy, d("300"), d("101"), t(0.0))
        .bracket(Some(d("99")), Some(d("110")));
    accepted(&mut e, order);
    let field = |r: Result<Vec<EngineEvent>, PaperError>| match r {
        Err(PaperError::Invalid { field, code, .. }) => (field, code),
        other => panic!("{other:?}"),
    };
    let ch = |q: Option<&str>, l: Option<&str>, s: Option<&str>| OrderChanges {
        quantity: q.map(d),
        limit_price: l.map(d),
        stop_price: s.map(d),
    };
    use FieldCode::*;
    assert_eq!(
        field(e.modify("s", ch(None, Some("100"), None), t(1.0))),
        ("limitPrice", NotApplicable)
    );
    assert_eq!(
        field(e.modify("s", ch(None, None, Some("98")), t(1.0))),
        ("stopLoss", Inconsistent)
    );
    assert_eq!(
        field(e.modify("s", ch(None, None, Some("-1")), t(1.0))),
        ("stopPrice", OutOfRange)
    );
    assert_eq!(
        field(e.modify("s", ch(None, None, None), t(1.0))),
        ("quantity", Required)
    );
    assert_eq!(
        field(e.modify("s:sl", ch(Some("5"), None, None), t(1.0))),
        ("quantity", NotApplicable)
    );
    assert_eq!(
        field(e.modify("s:sl", ch(None, None, Some("111")), t(1.0))),
        ("stopLoss", Inconsistent)
    );
    e.modify("s:tp", ch(None, Some("120"), None), t(1.0))
        .unwrap();
    assert_eq!(e.order("s:tp").unwrap().limit_price, Some(d("120")));
    // Triggered (partly filled), the stop price is fixed and the quantity cannot go below
    // what has filled.
    let q = Quote::new(SYM, d("101.00"), d("101.02"), t(2.0)).with_sizes(None, Some(d("100")));
    e.on_quote(&q, t(2.0), FeedStatus::Fresh);
    assert_eq!(status(&e, "s"), OrderStatus::Triggered);
    assert_eq!(
        field(e.modify("s", ch(None, None, Some("102")), t(3.0))),
        ("stopPrice", Immutable)
    );
    assert_eq!(
        field(e.modify("s", ch(Some("100"), None, None), t(3.0))),
        ("quantity", OutOfRange)
    );
    e.modify("s", ch(Some("150"), None, None), t(3.0)).unwrap();
    let ev = feed(&mut e, &[(4.0, "101.00", "101.03")]);
    assert_eq!(fills(&ev), vec![f("s", "50", "101.03")]);
}

// ---- Validation ------------------------------------------------------------------------

#[test]
fn invalid_orders_are_rejected_with_the_field_at_fault() {
    let base = || NewOrder::limit("x", SYM, Side::Buy, d("1"), d("1.1"), t(0.0));
    use FieldCode::*;
    let cases: Vec<(NewOrder, &str, FieldCode)> = vec![
        (
            NewOrder {
                id: " ".into(),
                ..base()
            },
            "id",
            Required,
        ),
        (
            NewOrder {
                symbol: "".into(),
                ..base()
            },
            "symbol",
            Required,
        ),
        (
            NewOrder {
                quantity: d("0"),
                ..base()
            },
            "quantity",
            OutOfRange,
        ),
        (
            NewOrder {
                quantity: d("-5"),
                ..base()
            },
            "quantity",
            OutOfRange,
        ),
        (
            NewOrder {
                quantity: d("10000000000000"),
                ..base()
            },
            "quantity",
            OutOfRange,
        ),
        (
            NewOrder {
                limit_price: None,
                ..base()
            },
            "limitPrice",
            Required,
        ),
        (
            NewOrder {
                limit_price: Some(d("0")),
                ..base()
            },
            "limitPrice",
            OutOfRange,
        ),
        (
            NewOrder {
                stop_price: Some(d("1")),
                ..base()
            },
            "stopPrice",
            NotApplicable,
        ),
        (
            NewOrder {
                order_type: OrderType::Stop,
                ..base()
            },
            "limitPrice",
            NotApplicable,
        ),
        (
            NewOrder {
                tif: TimeInForce::Day,
                ..base()
            },
            "expiresAt",
            Required,
        ),
        (base().day(t(0.0)), "expiresAt", OutOfRange),
        (
            NewOrder {
                expires_at: Some(t(9.0)),
                ..base()
            },
            "expiresAt",
            NotApplicable,
        ),
        (
            base().bracket(Some(d("1.2")), None),
            "stopLoss",
            Inconsistent,
        ),
        (
            base().bracket(None, Some(d("1.0"))),
            "takeProfit",
            Inconsistent,
        ),
        (base().bracket(Some(d("0")), None), "stopLoss", OutOfRange),
        (
            NewOrder::market("x", SYM, Side::Sell, d("1"), t(0.0))
                .bracket(Some(d("1.0")), Some(d("1.2"))),
            "stopLoss",
            Inconsistent,
        ),
    ];
    for (order, want_field, want_code) in cases {
        let mut e = PaperEngine::default();
        match &e.submit(order.clone())[..] {
            [EngineEvent::Rejected { order_id, code, .. }] => {
                assert_eq!(
                    (order_id.as_str(), *code),
                    (order.id.as_str(), Code::Validation)
                )
            }
            other => panic!("{order:?} → {other:?}"),
        }
        match e.validate(&order) {
            Err(PaperError::Invalid { field, code, .. }) => {
                assert_eq!((field, code), (want_field, want_code), "{order:?}")
            }
            other => panic!("{order:?} → {other:?}"),
        }
        assert!(e.is_empty(), "a rejected order is not stored");
    }
}

#[test]
fn order_ids_are_unique_including_bracket_children() {
    let mut e = PaperEngine::default();
    accepted(
        &mut e,
        NewOrder::market("a", SYM, Side::Buy, d("1"), t(0.0)).bracket(Some(d("1")), None),
    );
    for id in ["a", "a:sl"] {
        let ev = e.submit(NewOrder::market(id, SYM, Side::Buy, d("1"), t(0.0)));
        assert!(
            matches!(&ev[..], [EngineEvent::Rejected { message, .. }] if message.contains("already exists")),
            "{ev:?}"
        );
    }
    // A new bracket whose children would collide is refused too; without a bracket the
    // id is free.
    accepted(
        &mut e,
        NewOrder::market("b:tp", SYM, Side::Buy, d("1"), t(0.0)),
    );
    let b = NewOrder::market("b", SYM, Side::Buy, d("1"), t(0.0));
    assert!(e.validate(&b).is_ok());
    let b = b.bracket(None, Some(d("2")));
    assert!(matches!(
        e.validate(&b),
        Err(PaperError::Invalid {
            field: "id",
            code: FieldCode::Duplicate,
            ..
        })
    ));
    assert_eq!(e.len(), 3);
}

// ---- Housekeeping and persistence ------------------------------------------------------

#[test]
fn drop_settled_forgets_finished_orders_and_keeps_open_ones() {
    let mut e = PaperEngine::default();
    for i in 0..100 {
        accepted(
            &mut e,
            NewOrder::market(format!("m{i}"), SYM, Side::Buy, d("1"), t(0.0)),
        );
    }
    accepted(
        &mut e,
        NewOrder::limit("rest", SYM, Side::Buy, d("1"), d("1.0"), t(0.0)),
    );
    feed(&mut e, &[(1.0, "1.10000", "1.10008")]);
    assert_eq!(e.len(), 101);
    assert_eq!(e.drop_settled(), 100);
    assert_eq!(e.len(), 1);
    assert_eq!(e.open_orders()[0].id, "rest");
    e.reset();
    assert!(e.is_empty() && feed(&mut e, &[(2.0, "0.9", "0.90008")]).is_empty());
}

#[test]
fn an_engine_restored_from_json_carries_on_where_it_stopped() {
    let mut e = PaperEngine::default();
    accepted(
        &mut e,
        NewOrder::market("p", SYM, Side::Buy, d("1"), t(0.0))
            .bracket(Some(d("1.09")), Some(d("1.11"))),
    );
    feed(&mut e, &[(1.0, "1.10000", "1.10008")]);
    let json = serde_json::to_string(&e).unwrap();
    let mut back: PaperEngine = serde_json::from_str(&json).unwrap();
    let ev = feed(&mut back, &[(2.0, "1.11000", "1.11008")]);
    assert_eq!(fills(&ev), vec![f("p:tp", "1", "1.11000")]);
    // Events serialise tagged and camelCase, decimals as strings.
    let v = serde_json::to_value(&ev[0]).unwrap();
    assert_eq!(v["event"], "filled");
    assert_eq!(v["fill"]["orderId"], "p:tp");
    assert_eq!(v["fill"]["price"], "1.11000");
    assert_eq!(v["fill"]["role"], "takeProfit");
    let v = serde_json::to_value(&ev[1]).unwrap();
    assert_eq!(
        (v["event"].as_str(), v["reason"].as_str()),
        (Some("cancelled"), Some("ocoSibling"))
    );
}
