//! The REST calls on the success path, against every broker of [`BROKERS`]: `verify` and
//! the account list, a market order filled and held as a position (then partly sold), and a
//! resting limit order cancelled, with the broker's refusals to cancel a final order and its
//! answer for ids it never issued. What differs between brokers (the account, the status
//! words, the refusals) is data in the row's [`Orders`](super::Orders).

use brokerdesk_core::accounts::model::BrokerKind;
use brokerdesk_core::brokers::{BrokerError, OrderSide, OrderState, OrderStatus};
use brokerdesk_core::trading::{OrderDraft, OrderIntent};
use brokerdesk_core::Decimal;
use rust_decimal_macros::dec;

use super::{start, Connector, Ids, BROKERS};

/// The price the tests set where the simulator lets them.
const PRICE: f64 = 200.0;

fn market(symbol: &str, client_id: &str, side: OrderSide, qty: Decimal) -> OrderIntent {
    let draft = OrderDraft::market(symbol, side, &qty.to_string()).with_client_id(client_id);
    OrderIntent::check(&draft).expect("a valid order")
}

fn limit(symbol: &str, client_id: &str, qty: Decimal, price: Decimal) -> OrderIntent {
    let draft = OrderDraft::limit(symbol, OrderSide::Buy, &qty.to_string(), &price.to_string())
        .with_client_id(client_id);
    OrderIntent::check(&draft).expect("a valid order")
}

/// Places `order`, failing with the broker's name if it is refused.
async fn place(b: BrokerKind, c: &dyn Connector, order: &OrderIntent) -> OrderState {
    c.place_order(order)
        .await
        .unwrap_or_else(|e| panic!("{b}: {e:?}"))
}

fn assert_id_shape(b: BrokerKind, ids: Ids, id: &str) {
    match ids {
        Ids::Uuid => {
            let simple = id.replace('-', "");
            assert!(
                simple.len() == 32 && simple.chars().all(|c| c.is_ascii_hexdigit()),
                "{b}: {id} is no UUID"
            );
        }
        Ids::Number => assert!(id.parse::<u64>().is_ok(), "{b}: {id} is no number"),
    }
}

#[tokio::test]
async fn verify_and_list_accounts_read_the_selected_account() {
    for entry in BROKERS {
        let (b, want) = (entry.kind, &entry.orders.account);
        let (_sim, c) = start(entry).await;
        assert_eq!(c.kind(), b);
        let s = c.verify().await.unwrap_or_else(|e| panic!("{b}: {e:?}"));
        assert_eq!(
            (s.account_id.as_str(), s.account_last4.as_str()),
            (want.id, want.last4),
            "{b}"
        );
        assert_eq!(
            (s.account_type.as_str(), s.currency.as_str()),
            (want.kind, want.currency),
            "{b}"
        );
        assert_eq!((s.balance, s.equity, s.buying_power), want.money, "{b}");
        let accounts: Vec<_> = c
            .list_accounts()
            .await
            .unwrap_or_else(|e| panic!("{b}: {e:?}"))
            .into_iter()
            .map(|a| (a.account_id, a.label))
            .collect();
        let expected: Vec<_> = entry
            .orders
            .accounts
            .iter()
            .map(|(id, label)| (id.to_string(), label.map(str::to_string)))
            .collect();
        assert_eq!(accounts, expected, "{b}");
    }
}

#[tokio::test]
async fn a_market_order_fills_and_becomes_a_position() {
    for entry in BROKERS {
        let (b, o) = (entry.kind, &entry.orders);
        let (sim, c) = start(entry).await;
        // Nothing yet (Tradier's empty lists are the string "null").
        assert!(c.open_orders().await.unwrap().is_empty(), "{b}");
        assert!(c.positions().await.unwrap().is_empty(), "{b}");
        assert_eq!(
            c.get_order_by_client_id("coid-1").await.unwrap(),
            None,
            "{b}"
        );

        let quote = sim.set_price.as_ref().map(|set| set(o.symbol, PRICE));
        let placed = place(
            b,
            &*c,
            &market(o.symbol, "coid-1", OrderSide::Buy, dec!(10.0)),
        )
        .await;
        assert_eq!(
            (placed.status, placed.broker_status.as_str()),
            (OrderStatus::Filled, o.filled),
            "{b}"
        );
        assert_eq!(
            (placed.symbol.as_str(), placed.side),
            (o.symbol, OrderSide::Buy),
            "{b}"
        );
        assert_eq!(
            (placed.quantity, placed.filled_quantity),
            (dec!(10.0), dec!(10.0)),
            "{b}"
        );
        assert_eq!(placed.client_order_id.as_deref(), Some("coid-1"), "{b}");
        assert_id_shape(b, o.ids, &placed.broker_order_id);
        let price = placed
            .avg_fill_price
            .unwrap_or_else(|| panic!("{b}: no fill price"));
        match (quote, o.fills_within) {
            (Some((_, ask)), _) => assert_eq!(price, ask, "{b}: a buy fills at the ask"),
            (None, Some((low, high))) => assert!((low..high).contains(&price), "{b}: {price}"),
            (None, None) => panic!("{b}: neither a price set nor a range of fills"),
        }

        // Read back: by id (the fill price looked up where the order has none), by client id.
        let fetched = c.get_order(&placed.broker_order_id).await.unwrap();
        if o.get_order_has_client_id {
            assert_eq!(fetched, placed, "{b}");
        } else {
            assert_eq!(fetched.client_order_id, None, "{b}: no client id there");
            let without = OrderState {
                client_order_id: None,
                ..placed.clone()
            };
            assert_eq!(
                fetched, without,
                "{b}: the same order apart from its client id"
            );
        }
        let by_client = c.get_order_by_client_id("coid-1").await.unwrap();
        assert_eq!(by_client.as_ref(), Some(&placed), "{b}");
        let never = c.get_order_by_client_id("never-sent").await.unwrap();
        assert_eq!(never, None, "{b}");

        let positions = c.positions().await.unwrap();
        assert_eq!(positions.len(), 1, "{b}: {positions:?}");
        let p = &positions[0];
        assert_eq!(
            (p.symbol.as_str(), p.quantity),
            (o.symbol, dec!(10.0)),
            "{b}"
        );
        let avg = p
            .avg_price
            .unwrap_or_else(|| panic!("{b}: no average price"));
        match o.avg_price_within {
            None => assert_eq!(avg, price, "{b}: the fill price"),
            Some(within) => assert!(
                (avg - price).abs() < within,
                "{b}: {avg} for a fill at {price}"
            ),
        }
        if o.unrealized_pl {
            let pl = p.unrealized_pl.unwrap_or_else(|| panic!("{b}: no P/L"));
            if quote.is_some() {
                let want = (crate::common::sim_price(PRICE) - price) * dec!(10.0);
                assert!((pl - want).abs() < dec!(0.000001), "{b}: {pl}, not {want}");
            }
        }
        if o.pays_from_balance {
            let s = c.verify().await.unwrap();
            let want = dec!(100_000.0) - dec!(10.0) * price;
            assert!(
                (s.balance - want).abs() < dec!(0.000001),
                "{b}: {}, not {want}",
                s.balance
            );
        }

        // Part of it sold, at the bid.
        let sold = place(
            b,
            &*c,
            &market(o.symbol, "coid-2", OrderSide::Sell, dec!(4.0)),
        )
        .await;
        assert_eq!(
            (sold.side, sold.status),
            (OrderSide::Sell, OrderStatus::Filled),
            "{b}"
        );
        if let Some((bid, _)) = quote {
            assert_eq!(
                sold.avg_fill_price,
                Some(bid),
                "{b}: a sell fills at the bid"
            );
        }
        assert_eq!(c.positions().await.unwrap()[0].quantity, dec!(6.0), "{b}");
        // Filled orders are not open ones (though some brokers list them for the day).
        assert!(c.open_orders().await.unwrap().is_empty(), "{b}");
    }
}

#[tokio::test]
async fn a_resting_limit_order_is_open_until_cancelled() {
    for entry in BROKERS {
        let (b, o) = (entry.kind, &entry.orders);
        let (sim, c) = start(entry).await;
        if let Some(set) = &sim.set_price {
            set(o.symbol, PRICE);
        }
        let (qty, price) = o.resting;
        let placed = place(b, &*c, &limit(o.symbol, "lim-1", qty, price)).await;
        assert_eq!(
            (placed.status, placed.broker_status.as_str()),
            (OrderStatus::Open, o.open),
            "{b}"
        );
        assert_eq!(
            (
                placed.quantity,
                placed.filled_quantity,
                placed.avg_fill_price
            ),
            (qty, dec!(0.0), None),
            "{b}: no fill, no fill price"
        );
        assert_eq!(placed.client_order_id.as_deref(), Some("lim-1"), "{b}");
        assert_eq!(
            c.open_orders().await.unwrap(),
            std::slice::from_ref(&placed),
            "{b}"
        );
        let by_client = c.get_order_by_client_id("lim-1").await.unwrap();
        assert_eq!(by_client.as_ref(), Some(&placed), "{b}");
        assert_eq!(
            c.verify().await.unwrap().buying_power,
            o.account.money.2 - o.holds,
            "{b}: the buying power the resting buy holds"
        );

        c.cancel_order(&placed.broker_order_id)
            .await
            .unwrap_or_else(|e| panic!("{b}: {e:?}"));
        let after = c.get_order(&placed.broker_order_id).await.unwrap();
        assert_eq!(
            (after.status, after.broker_status.as_str()),
            (OrderStatus::Cancelled, o.cancelled),
            "{b}"
        );
        assert!(c.open_orders().await.unwrap().is_empty(), "{b}");
        let by_client = c.get_order_by_client_id("lim-1").await.unwrap();
        assert_eq!(
            by_client.map(|o| o.status),
            Some(OrderStatus::Cancelled),
            "{b}"
        );

        // A final order is not cancelled: neither this one again nor a filled one.
        let filled = place(b, &*c, &market(o.symbol, "mkt", OrderSide::Buy, dec!(1.0))).await;
        assert_eq!(filled.status, OrderStatus::Filled, "{b}");
        for (id, state) in [
            (&placed.broker_order_id, OrderStatus::Cancelled),
            (&filled.broker_order_id, OrderStatus::Filled),
        ] {
            let e = sim.err(b, c.cancel_order(id).await);
            assert!((o.cancel_final)(&e, state), "{b} {state:?}: {e:?}");
            assert!(!e.retryable(), "{b}");
        }
        // Ids the broker never issued, and ones that would change the request path.
        for id in std::iter::once(o.missing_id).chain(o.path_id) {
            for e in [
                sim.err(b, c.get_order(id).await),
                sim.err(b, c.cancel_order(id).await),
            ] {
                assert!(matches!(e, BrokerError::NotFound(_)), "{b} {id}: {e:?}");
            }
        }
    }
}

#[test]
fn orders_no_broker_can_take_are_refused_before_any_is_called() {
    // An `OrderIntent` cannot hold them, so no connector ever sees one.
    let refused = |draft: &OrderDraft| crate::common::refused(draft);
    assert_eq!(
        refused(&OrderDraft::market("AAPL", OrderSide::Buy, "NaN")),
        [("quantity".to_string(), "invalid".to_string())]
    );
    assert_eq!(
        refused(&OrderDraft::limit("AAPL", OrderSide::Buy, "1", "")),
        [("price".to_string(), "required".to_string())]
    );
}
