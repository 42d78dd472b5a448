//! Changing a working order ([`Broker::modify_order`]) against every broker of
//! [`BROKERS`]: a resting limit takes a new price (and quantity where the broker allows it)
//! and reads back with its new terms; a replacing broker answers with the replacement (a new
//! id, the new client id) and the old order is no longer open; a marketable change fills;
//! a filled, cancelled or unknown order is refused; faults on the modify request (a 500
//! before or after the change, refused credentials) are classified like a placement's. What
//! differs between brokers is data in [`MODIFY`].

use brokerdesk_core::accounts::model::BrokerKind;
use brokerdesk_core::brokers::{
    BrokerError, ModifyStyle, OrderChange, OrderSide, OrderState, OrderStatus, OrderTerms,
    OrderType,
};
use brokerdesk_core::trading::{OrderDraft, OrderIntent};
use brokerdesk_core::Decimal;
use brokerdesk_sim::{Fault, OrderFault};
use rust_decimal_macros::dec;

use super::{entry, start, Connector, Entry, BROKERS};

/// The price the tests set where the simulator lets them.
const PRICE: f64 = 200.0;

/// What a broker does on modify.
struct Modify {
    kind: BrokerKind,
    style: ModifyStyle,
    /// Whether the broker can change an order's quantity.
    changes_quantity: bool,
    /// `broker_status` of an order a replacement cancelled (Replace brokers).
    replaced: Option<&'static str>,
    /// Whether an error is the broker's refusal to change a final order (cancelled, or
    /// filled: the status given).
    final_refused: fn(&BrokerError, OrderStatus) -> bool,
    /// A buy limit price that is marketable on the simulator (above the ask).
    marketable: Decimal,
}

const MODIFY: &[Modify] = &[
    Modify {
        kind: BrokerKind::Oanda,
        style: ModifyStyle::Replace,
        changes_quantity: true,
        replaced: Some("CANCELLED"),
        // A final order is no pending one: the 404 of a cancel.
        final_refused: |e, _| matches!(e, BrokerError::NotFound(_)),
        marketable: dec!(2.0),
    },
    Modify {
        kind: BrokerKind::Alpaca,
        style: ModifyStyle::Replace,
        changes_quantity: true,
        replaced: Some("replaced"),
        final_refused: |e, status| {
            let word = match status {
                OrderStatus::Cancelled => "\"canceled\"",
                _ => "\"filled\"",
            };
            matches!(e, BrokerError::Rejected { status: 422, code, message }
                if code == "42210000" && message.contains(word))
        },
        marketable: dec!(250.0),
    },
    Modify {
        kind: BrokerKind::Tradier,
        style: ModifyStyle::InPlace,
        changes_quantity: false,
        replaced: None,
        final_refused: |e, status| {
            let state = match status {
                OrderStatus::Cancelled => "finalized state: canceled",
                _ => "finalized state: filled",
            };
            matches!(e, BrokerError::Rejected { code, message, .. }
                if code == "order_finalized" && message.contains(state))
        },
        marketable: dec!(250.0),
    },
    Modify {
        kind: BrokerKind::Tastytrade,
        style: ModifyStyle::Replace,
        changes_quantity: true,
        replaced: Some("Cancelled"),
        final_refused: |e, status| {
            let word = match status {
                OrderStatus::Cancelled => "Cancelled",
                _ => "Filled",
            };
            matches!(e, BrokerError::Rejected { status: 422, code, message }
                if code == "validation_error" && message.contains(word))
        },
        marketable: dec!(250.0),
    },
    Modify {
        kind: BrokerKind::Ibkr,
        style: ModifyStyle::InPlace,
        changes_quantity: true,
        replaced: None,
        final_refused: |e, status| {
            let word = match status {
                OrderStatus::Cancelled => "Cancelled",
                _ => "Filled",
            };
            matches!(e, BrokerError::Rejected { message, .. }
                if message.contains("cannot be modified") && message.contains(word))
        },
        marketable: dec!(250.0),
    },
];

fn row(kind: BrokerKind) -> &'static Modify {
    MODIFY
        .iter()
        .find(|m| m.kind == kind)
        .unwrap_or_else(|| panic!("{kind} has no modify row"))
}

fn limit(symbol: &str, client_id: &str, qty: Decimal, price: Decimal) -> OrderIntent {
    let draft = OrderDraft::limit(symbol, OrderSide::Buy, &qty.to_string(), &price.to_string())
        .with_client_id(client_id);
    OrderIntent::check(&draft).expect("a valid order")
}

fn market(symbol: &str, client_id: &str) -> OrderIntent {
    let draft = OrderDraft::market(symbol, OrderSide::Buy, "1").with_client_id(client_id);
    OrderIntent::check(&draft).expect("a valid order")
}

/// Starts `entry`'s simulator with the test price set, and places its resting buy limit
/// with `client_id`.
async fn resting(
    entry: &Entry,
    client_id: &str,
) -> (super::Running, Box<dyn Connector>, OrderState) {
    let (sim, c) = start(entry).await;
    let o = &entry.orders;
    if let Some(set) = &sim.set_price {
        set(o.symbol, PRICE);
    }
    let (qty, price) = o.resting;
    let placed = c
        .place_order(&limit(o.symbol, client_id, qty, price))
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", entry.kind));
    assert_eq!(placed.status, OrderStatus::Open, "{}", entry.kind);
    (sim, c, placed)
}

/// The change of `placed` to `qty` at `price`, under the new client id `client_id`.
fn change(
    placed: &OrderState,
    symbol: &str,
    client_id: &str,
    qty: Decimal,
    price: Decimal,
) -> OrderChange {
    OrderChange {
        broker_order_id: placed.broker_order_id.clone(),
        order: limit(symbol, client_id, qty, price),
    }
}

fn limit_terms(price: Decimal) -> Option<OrderTerms> {
    Some(OrderTerms {
        order_type: OrderType::Limit,
        limit_price: Some(price),
        stop_price: None,
    })
}

#[tokio::test]
async fn a_resting_limit_takes_its_new_price_and_quantity() {
    for entry in BROKERS {
        let (b, o, m) = (entry.kind, &entry.orders, row(entry.kind));
        let (_sim, c, placed) = resting(entry, "mod-1").await;
        assert_eq!(c.modify_style(), m.style, "{b}");
        // What the app tells the trader (the catalog) is what the connector does.
        assert_eq!(
            brokerdesk_core::accounts::catalog::broker_info(b).modify_style,
            m.style,
            "{b}"
        );
        let (qty, price) = o.resting;
        let new_qty = if m.changes_quantity {
            qty * dec!(2)
        } else {
            qty
        };
        let new_price = price * dec!(0.9);
        let modified = c
            .modify_order(&change(&placed, o.symbol, "mod-2", new_qty, new_price))
            .await
            .unwrap_or_else(|e| panic!("{b}: {e:?}"));
        assert_eq!(modified.status, OrderStatus::Open, "{b}: {modified:?}");
        assert_eq!(
            (modified.quantity, modified.filled_quantity),
            (new_qty, dec!(0)),
            "{b}"
        );
        assert_eq!(modified.terms, limit_terms(new_price), "{b}");
        assert_eq!(
            (modified.symbol.as_str(), modified.side),
            (o.symbol, OrderSide::Buy),
            "{b}"
        );

        // Read back by id: the new terms.
        let read = c.get_order(&modified.broker_order_id).await.unwrap();
        assert_eq!(
            (read.quantity, read.terms.clone(), read.status),
            (new_qty, limit_terms(new_price), OrderStatus::Open),
            "{b}"
        );
        let open = c.open_orders().await.unwrap();
        assert_eq!(open.len(), 1, "{b}: {open:?}");
        assert_eq!(
            (&open[0].broker_order_id, open[0].quantity, &open[0].terms),
            (&modified.broker_order_id, new_qty, &limit_terms(new_price)),
            "{b}"
        );

        match m.style {
            ModifyStyle::Replace => {
                assert_ne!(modified.broker_order_id, placed.broker_order_id, "{b}");
                assert_eq!(modified.client_order_id.as_deref(), Some("mod-2"), "{b}");
                let old = c.get_order(&placed.broker_order_id).await.unwrap();
                assert_eq!(
                    (old.status, Some(old.broker_status.as_str())),
                    (OrderStatus::Cancelled, m.replaced),
                    "{b}: the replaced order"
                );
                let found = c.get_order_by_client_id("mod-2").await.unwrap();
                let found = found.unwrap_or_else(|| panic!("{b}: no order mod-2"));
                assert_eq!(found.broker_order_id, modified.broker_order_id, "{b}");
                assert_eq!(found.terms, limit_terms(new_price), "{b}");
            }
            ModifyStyle::InPlace => {
                assert_eq!(modified.broker_order_id, placed.broker_order_id, "{b}");
                assert_eq!(open[0].client_order_id.as_deref(), Some("mod-1"), "{b}");
            }
            ModifyStyle::Unsupported => panic!("{b}: every connector modifies"),
        }
    }
}

#[tokio::test]
async fn a_marketable_change_fills_at_once() {
    for entry in BROKERS {
        let (b, o, m) = (entry.kind, &entry.orders, row(entry.kind));
        let (sim, c, placed) = resting(entry, "fill-1").await;
        let (qty, _) = o.resting;
        let filled = c
            .modify_order(&change(&placed, o.symbol, "fill-2", qty, m.marketable))
            .await
            .unwrap_or_else(|e| panic!("{b}: {e:?}"));
        assert_eq!(
            (filled.status, filled.filled_quantity),
            (OrderStatus::Filled, qty),
            "{b}: {filled:?}"
        );
        let at = filled
            .avg_fill_price
            .unwrap_or_else(|| panic!("{b}: no fill price"));
        assert!(at <= m.marketable, "{b}: a buy limit fills at or below it");
        if let Some(set) = &sim.set_price {
            let (_, ask) = set(o.symbol, PRICE);
            assert_eq!(at, ask, "{b}: at the ask");
        }
        assert!(c.open_orders().await.unwrap().is_empty(), "{b}");
        let positions = c.positions().await.unwrap();
        assert_eq!(positions.len(), 1, "{b}: {positions:?}");
        assert_eq!(positions[0].quantity, qty, "{b}");
    }
}

#[tokio::test]
async fn a_final_or_unknown_order_is_refused() {
    for entry in BROKERS {
        let (b, o, m) = (entry.kind, &entry.orders, row(entry.kind));
        let (sim, c, placed) = resting(entry, "fin-1").await;
        let (qty, price) = o.resting;
        c.cancel_order(&placed.broker_order_id)
            .await
            .unwrap_or_else(|e| panic!("{b}: {e:?}"));
        let filled = c
            .place_order(&market(o.symbol, "fin-mkt"))
            .await
            .unwrap_or_else(|e| panic!("{b}: {e:?}"));
        assert_eq!(filled.status, OrderStatus::Filled, "{b}");
        for (target, state, coid) in [
            (&placed, OrderStatus::Cancelled, "fin-2"),
            (&filled, OrderStatus::Filled, "fin-3"),
        ] {
            let requests = sim.server.faults().order_requests();
            let e = sim.err(
                b,
                c.modify_order(&change(target, o.symbol, coid, target.quantity, price))
                    .await,
            );
            assert!((m.final_refused)(&e, state), "{b} {state:?}: {e:?}");
            assert!(!e.retryable(), "{b}");
            assert_eq!(
                sim.server.faults().order_requests(),
                requests + 1,
                "{b}: the modify request went through the order gate"
            );
            assert_eq!(
                c.get_order_by_client_id(coid).await.unwrap(),
                None,
                "{b}: nothing booked"
            );
        }
        let missing = OrderState {
            broker_order_id: o.missing_id.to_string(),
            ..placed.clone()
        };
        let e = sim.err(
            b,
            c.modify_order(&change(&missing, o.symbol, "fin-4", qty, price))
                .await,
        );
        assert!(matches!(e, BrokerError::NotFound(_)), "{b}: {e:?}");
    }
}

#[tokio::test]
async fn a_500_on_the_modify_is_unavailable() {
    for entry in BROKERS {
        let (b, o) = (entry.kind, &entry.orders);
        let (sim, c, placed) = resting(entry, "err-1").await;
        let (qty, price) = o.resting;
        let new_price = price * dec!(0.9);

        // Refused with a 500 before the change: the order keeps its terms.
        sim.server
            .faults()
            .set_order_fault(Some(OrderFault::RefuseWith500));
        let e = sim.err(
            b,
            c.modify_order(&change(&placed, o.symbol, "err-2", qty, new_price))
                .await,
        );
        assert!(
            matches!(e, BrokerError::Unavailable { status: 500, .. }),
            "{b}: {e:?}"
        );
        assert!(e.retryable(), "{b}");
        sim.server.faults().set_order_fault(None);
        let still = c.get_order(&placed.broker_order_id).await.unwrap();
        assert_eq!(
            (still.status, still.terms),
            (OrderStatus::Open, limit_terms(price)),
            "{b}: unchanged"
        );

        // A 500 after the change: the change stands, though the answer failed.
        sim.server
            .faults()
            .set_order_fault(Some(OrderFault::AcceptThen500));
        let e = sim.err(
            b,
            c.modify_order(&change(&placed, o.symbol, "err-3", qty, new_price))
                .await,
        );
        assert!(
            matches!(e, BrokerError::Unavailable { status: 500, .. }),
            "{b}: {e:?}"
        );
        sim.server.faults().set_order_fault(None);
        assert_eq!(
            sim.server.faults().order_stats().error_after_accept,
            1,
            "{b}"
        );
        let open = c.open_orders().await.unwrap();
        assert_eq!(open.len(), 1, "{b}: {open:?}");
        assert_eq!(open[0].terms, limit_terms(new_price), "{b}: changed");
    }
}

#[tokio::test]
async fn refused_credentials_on_the_modify_are_auth_errors() {
    for entry in BROKERS {
        let (b, o) = (entry.kind, &entry.orders);
        let (sim, c, placed) = resting(entry, "auth-1").await;
        let (qty, price) = o.resting;
        sim.server.faults().set(Some(Fault::RefuseAuth));
        let e = sim.err(
            b,
            c.modify_order(&change(&placed, o.symbol, "auth-2", qty, price * dec!(0.9)))
                .await,
        );
        super::assert_final_auth(b, &e);
    }
}

#[tokio::test]
async fn tradier_refuses_a_quantity_change_without_asking() {
    let entry = entry(BrokerKind::Tradier);
    let o = &entry.orders;
    let (sim, c, placed) = resting(entry, "qty-1").await;
    let (qty, price) = o.resting;
    let (requests, orders) = (
        sim.server.faults().requests(),
        sim.server.faults().order_requests(),
    );
    let e = c
        .modify_order(&change(&placed, o.symbol, "qty-2", qty + dec!(1), price))
        .await;
    assert_eq!(e, Err(BrokerError::Unsupported("changing the quantity")));
    assert_eq!(
        (
            sim.server.faults().requests(),
            sim.server.faults().order_requests()
        ),
        (requests, orders),
        "nothing was sent"
    );
    let still = c.get_order(&placed.broker_order_id).await.unwrap();
    assert_eq!((still.quantity, still.terms), (qty, limit_terms(price)));
}

#[tokio::test]
async fn alpaca_fills_a_replacement_at_its_new_limit() {
    let entry = entry(BrokerKind::Alpaca);
    let o = &entry.orders;
    let (sim, c, placed) = resting(entry, "alp-1").await;
    let (qty, price) = o.resting;
    let new_price = price * dec!(0.9);
    let replacement = c
        .modify_order(&change(&placed, o.symbol, "alp-2", qty, new_price))
        .await
        .unwrap();
    let fill = sim
        .fill_open
        .as_ref()
        .expect("Alpaca's sim fills open orders");
    assert!(!fill("alp-1"), "the replaced order is not open");
    assert!(fill("alp-2"));
    let filled = c.get_order(&replacement.broker_order_id).await.unwrap();
    assert_eq!(
        (filled.status, filled.avg_fill_price),
        (OrderStatus::Filled, Some(new_price))
    );
}

#[tokio::test]
async fn ibkr_fills_a_changed_limit_when_the_price_reaches_it() {
    let entry = entry(BrokerKind::Ibkr);
    let o = &entry.orders;
    let (sim, c, placed) = resting(entry, "ib-1").await;
    let (qty, price) = o.resting;
    let new_price = dec!(180.0);
    c.modify_order(&change(&placed, o.symbol, "ib-2", qty, new_price))
        .await
        .unwrap();
    let set = sim.set_price.as_ref().expect("IBKR's sim sets prices");
    // Above the new limit: still resting.
    set(o.symbol, 185.0);
    assert_eq!(
        c.get_order(&placed.broker_order_id).await.unwrap().status,
        OrderStatus::Open
    );
    // Below it (and still above the old one): filled, at the price.
    assert!(price < dec!(179.0));
    set(o.symbol, 179.0);
    let filled = c.get_order(&placed.broker_order_id).await.unwrap();
    assert_eq!(
        (filled.status, filled.avg_fill_price),
        (OrderStatus::Filled, Some(dec!(179.0)))
    );
}

/// Every broker of the suite has its modify row.
#[test]
fn every_broker_has_a_modify_row() {
    for entry in BROKERS {
        let _ = row(entry.kind);
    }
    assert_eq!(MODIFY.len(), BROKERS.len());
}
