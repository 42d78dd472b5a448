//! Reconciling a live account's orders with its broker.
//!
//! The order worker asks each connected live account's broker for its open orders when it
//! starts, as soon as the account's order session connects again after a drop, whenever its
//! order-event stream (re)opens, and every [`EVERY`] ([`Occasion`]). Each one is matched
//! to a local order by the broker's order id, or by the client order id it carries (an order
//! this desk is sending right now has no broker id yet):
//! - **known**: the broker's state is adopted when it differs (the broker wins);
//! - **unknown**: it was placed outside Brokerdesk (the broker's website, another app). It is
//!   recorded as an order of origin `external`, with the type, prices and quantities the
//!   broker reports, and from then on followed like any working order (read back every
//!   second until it is filled or cancelled, and cancellable from here).
//!
//! Positions need no reconciling: a live account's positions and money are always read from
//! its broker, never from local belief. Accounts in paper mode are not reconciled: their
//! orders are the paper engine's, and orders at the broker are not theirs to show.
//!
//! Two processes on one profile (the app and `brokerdesk watch`) may reconcile the same
//! account at once: each insert runs in a write transaction that looks again first, and the
//! store's unique index on (account, broker order id) stops a second copy.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::model::{Order, OrderKind, OrderStatus, Origin, TimeInForce};
use super::oms::{adopt, differs, write, OmsError};
use super::store;
use crate::accounts::model::TradingMode;
use crate::brokers::{self, Broker, OrderState};
use crate::store::{Store, StoreError};

/// How often a connected live account's open orders are read from its broker.
pub const EVERY: Duration = Duration::from_secs(5);

/// Reads the account's open orders from its broker and brings local state in line; returns
/// the orders that were recorded or changed.
/// Why an account is reconciled; said in the history of each order it changes or records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// At start, or the periodic look.
    Routine,
    /// The account's order session connected again after a drop.
    Reconnect,
    /// The account's order-event stream (re)opened: events may have been missed.
    EventStream,
    /// The order-event stream named an order this profile does not know.
    UnknownOrder,
}

impl Occasion {
    fn text(self) -> &'static str {
        match self {
            Occasion::Routine => "found at the broker",
            Occasion::Reconnect => "found at the broker when the account reconnected",
            Occasion::EventStream => "found at the broker when its order-event stream opened",
            Occasion::UnknownOrder => "named by the broker's order-event stream",
        }
    }
}

pub async fn open_orders(
    store: &Store,
    account_id: &str,
    broker: &Arc<dyn Broker>,
    now: DateTime<Utc>,
    occasion: Occasion,
) -> Result<Vec<Order>, OmsError> {
    let states = broker.open_orders().await.map_err(OmsError::Broker)?;
    let mut changed = Vec::new();
    for state in states {
        let mut conn = store.acquire().await?;
        let local = store::by_broker_ref(
            &mut conn,
            account_id,
            &state.broker_order_id,
            state.client_order_id.as_deref(),
        )
        .await?;
        drop(conn);
        match local {
            Some(order) => {
                // Orders in Needs review wait for a person; final ones are settled.
                if order.status.is_final() || order.status == OrderStatus::NeedsReview {
                    continue;
                }
                let next = adopt(&order, &state, now);
                if differs(&order, &next) {
                    let why = format!("reconciled with the broker ({})", occasion.text());
                    changed.push(write(store, &next, &why).await?);
                }
            }
            None => {
                if let Some(o) = record_external(store, account_id, &state, now, occasion).await? {
                    changed.push(o);
                }
            }
        }
    }
    Ok(changed)
}

/// Records an order found at the broker that no local order matches; `None` when another
/// process recorded it first.
async fn record_external(
    store: &Store,
    account_id: &str,
    state: &OrderState,
    now: DateTime<Utc>,
    occasion: Occasion,
) -> Result<Option<Order>, OmsError> {
    let mut tx = store.begin_write().await?;
    if store::by_broker_ref(
        &mut tx,
        account_id,
        &state.broker_order_id,
        state.client_order_id.as_deref(),
    )
    .await?
    .is_some()
    {
        return Ok(None);
    }
    // The broker's client id when it has one no other order uses (ids are unique across the
    // profile); else one made from the account and the broker's id.
    let own = format!(
        "external-{}-{}",
        account_id.chars().take(8).collect::<String>(),
        state.broker_order_id
    );
    let client_order_id = match &state.client_order_id {
        Some(c) if !store::client_id_taken(&mut tx, c).await? => c.clone(),
        _ => own,
    };
    let terms = state.terms.clone();
    let order = Order {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: account_id.to_string(),
        client_order_id,
        broker_order_id: Some(state.broker_order_id.clone()),
        mode: TradingMode::Live,
        origin: Origin::External,
        symbol: state.symbol.clone(),
        side: state.side,
        order_type: terms.as_ref().map_or(OrderKind::Market, |t| t.order_type),
        quantity: state.quantity.normalize(),
        limit_price: terms.as_ref().and_then(|t| t.limit_price),
        stop_price: terms.as_ref().and_then(|t| t.stop_price),
        // Not reported by every broker's order list: working orders found at the broker are
        // shown as good till cancelled, which is what a working order is until it ends.
        time_in_force: TimeInForce::Gtc,
        stop_loss: None,
        take_profit: None,
        parent_id: None,
        replaces: None,
        status: status_of(state),
        filled_qty: state.filled_quantity.normalize(),
        avg_fill_price: state.avg_fill_price.map(|p| p.normalize()),
        reason: Some(if terms.is_some() {
            "placed outside Brokerdesk; found at the broker".to_string()
        } else {
            "placed outside Brokerdesk; found at the broker, which did not report its type or prices".to_string()
        }),
        broker_status: Some(state.broker_status.clone()),
        sent_at: None,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    store::insert(
        &mut tx,
        &order,
        &format!("{}: placed outside Brokerdesk", occasion.text()),
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(Some(order))
}

fn status_of(state: &OrderState) -> OrderStatus {
    match state.status {
        brokers::OrderStatus::Pending | brokers::OrderStatus::Open => OrderStatus::Open,
        brokers::OrderStatus::PartiallyFilled => OrderStatus::PartiallyFilled,
        brokers::OrderStatus::Filled => OrderStatus::Filled,
        brokers::OrderStatus::Cancelled => OrderStatus::Cancelled,
        brokers::OrderStatus::Rejected => OrderStatus::Rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brokers::OrderTerms;
    use rust_decimal_macros::dec;

    #[test]
    fn every_brokers_type_words_are_read() {
        for (word, kind) in [
            ("MARKET", OrderKind::Market),
            ("market", OrderKind::Market),
            ("MKT", OrderKind::Market),
            ("LIMIT", OrderKind::Limit),
            ("Limit", OrderKind::Limit),
            ("LMT", OrderKind::Limit),
            ("stop", OrderKind::Stop),
            ("STP", OrderKind::Stop),
            ("MARKET_IF_TOUCHED", OrderKind::Stop),
        ] {
            let t = OrderTerms::from_word(word, Some(dec!(1.5)), None).expect(word);
            assert_eq!(t.order_type, kind, "{word}");
        }
        let limit = OrderTerms::from_word("limit", Some(dec!(1.5)), None).expect("limit");
        assert_eq!(
            (limit.limit_price, limit.stop_price),
            (Some(dec!(1.5)), None)
        );
        let stop = OrderTerms::from_word("stop", Some(dec!(2)), None).expect("stop");
        assert_eq!((stop.limit_price, stop.stop_price), (None, Some(dec!(2))));
        let stop_limit = OrderTerms::from_word("stop_limit", Some(dec!(2)), Some(dec!(2.1)))
            .expect("stop limit");
        assert_eq!(
            (stop_limit.limit_price, stop_limit.stop_price),
            (Some(dec!(2)), Some(dec!(2.1)))
        );
        assert_eq!(OrderTerms::from_word("trailing_stop", None, None), None);
    }
}
