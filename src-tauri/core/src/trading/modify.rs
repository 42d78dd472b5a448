//! Changing a working order's quantity or price.
//!
//! What a change is depends on where the order works:
//! - **paper**: the paper engine changes the order in place; it then fills only on quotes
//!   that arrive after the change;
//! - **a broker that edits orders in place** (Tradier, IBKR, [`ModifyStyle::InPlace`]): the
//!   change is noted in the order's history, then sent. Accepted: the broker's terms are
//!   adopted. Refused: nothing changes. No answer: the order keeps being read back every
//!   second, and shows whichever terms the broker has (`modify_unknown`);
//! - **a broker that replaces orders** (OANDA, Alpaca, Tastytrade, [`ModifyStyle::Replace`]):
//!   the broker cancels the order and creates a new one. So does Brokerdesk: the
//!   replacement is stored first as an order of its own (a fresh client order id, `replaces`
//!   naming the original), claimed and sent exactly like a new order ([`oms`]), and its
//!   outcome settled the same way: accepted → the original is marked cancelled ("replaced
//!   by"); refused → the replacement is rejected and the original still works; no answer →
//!   the replacement is `unknown` and looked up by its client order id, never resent. A
//!   replacement that never left the machine is never sent late ([`oms::recover`]).
//!
//! A market order cannot be changed, nor a final one, nor one whose fate is unknown.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::intent::{OrderContext, OrderDraft, OrderIntent};
use super::model::{new_client_order_id, Order, OrderKind, OrderStatus};
use super::oms::{self, adopt, OmsError, Placement};
use super::store;
use crate::brokers::{Broker, OrderChange};
use crate::store::{Store, StoreError};

/// What a trader changes on a working order: its quantity, its price (the limit price of a
/// limit order, the trigger of a stop), or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrderModify {
    /// The new total quantity (more than what has filled already).
    #[serde(default)]
    pub quantity: Option<String>,
    /// The new limit (limit orders) or trigger (stop orders) price.
    #[serde(default)]
    pub price: Option<String>,
}

/// Checks a change against the order and returns the order's whole new terms, with a fresh
/// client order id (the replacement's, where the broker replaces orders).
pub fn new_terms(order: &Order, change: &OrderModify) -> Result<OrderIntent, OmsError> {
    if !matches!(
        order.status,
        OrderStatus::Open | OrderStatus::PartiallyFilled
    ) {
        return Err(OmsError::NotOpen(format!(
            "order {} is {}: only an open order can be changed",
            order.id, order.status
        )));
    }
    if order.order_type == OrderKind::Market {
        return Err(OmsError::NotModifiable(
            "a market order cannot be changed".into(),
        ));
    }
    let quantity = change
        .quantity
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    let price = change
        .price
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if quantity.is_none() && price.is_none() {
        return Err(OmsError::Invalid(
            "nothing to change: give a new quantity or a new price".into(),
        ));
    }
    let current_price = order.limit_price.or(order.stop_price);
    let draft = OrderDraft {
        symbol: order.symbol.clone(),
        side: order.side,
        quantity: quantity.map_or_else(|| order.quantity.to_string(), str::to_string),
        order_type: order.order_type,
        price: price
            .map(str::to_string)
            .or_else(|| current_price.map(|p| p.to_string())),
        time_in_force: order.time_in_force,
        stop_loss: order.stop_loss.map(|p| p.to_string()),
        take_profit: order.take_profit.map(|p| p.to_string()),
        client_order_id: Some(new_client_order_id()),
    };
    let intent =
        OrderIntent::new(&draft, &OrderContext::default()).map_err(|f| oms::invalid(&f))?;
    if intent.quantity() <= order.filled_qty {
        return Err(OmsError::Invalid(format!(
            "quantity: {} has filled already; the new quantity must be more than that",
            order.filled_qty.normalize()
        )));
    }
    let same_price = intent.limit_price().or(intent.stop_price()) == current_price;
    if intent.quantity() == order.quantity && same_price {
        return Err(OmsError::Invalid(
            "nothing to change: the quantity and the price are the ones the order has".into(),
        ));
    }
    Ok(intent)
}

/// Changes a live order at a broker that edits orders in place; returns the order as the
/// broker then reports it.
pub async fn in_place(
    store: &Store,
    broker: &Arc<dyn Broker>,
    order: Order,
    intent: OrderIntent,
) -> Result<Order, OmsError> {
    let broker_order_id = broker_id(&order)?;
    note(
        store,
        &order,
        &format!("change sent: {}", describe(&order, &intent)),
    )
    .await?;
    let change = OrderChange {
        broker_order_id,
        order: intent.clone(),
    };
    let result = broker.modify_order(&change).await;
    match result {
        Ok(state) => {
            let mut next = adopt(&order, &state, Utc::now());
            if state.terms.is_none() {
                next.limit_price = intent.limit_price().or(next.limit_price);
                next.stop_price = intent.stop_price().or(next.stop_price);
            }
            oms::write(store, &next, "changed at the broker").await
        }
        Err(e) => match oms::classify(Err(e.clone())) {
            Placement::Unknown(why) => {
                note(store, &order, &format!("change unanswered: {why}")).await?;
                Err(OmsError::ChangeUnknown(format!(
                    "the broker did not answer the change of order {} ({why}): Brokerdesk reads the order back every second, and it shows whichever terms the broker has",
                    order.id
                )))
            }
            _ => {
                note(store, &order, &format!("change refused: {}", e.text())).await?;
                Err(OmsError::Broker(e))
            }
        },
    }
}

/// Changes a live order at a broker that replaces orders: stores the replacement, sends it
/// as the change, and settles both (see the module docs). Returns the replacement as it then
/// stands; a refusal is an error and leaves the original working.
pub async fn replace(
    store: &Store,
    broker: &Arc<dyn Broker>,
    order: Order,
    intent: OrderIntent,
    schedule: &[Duration],
) -> Result<Order, OmsError> {
    let broker_order_id = broker_id(&order)?;
    let now = Utc::now();
    let mut replacement = Order::pending(&order.account_id, order.mode, &intent, now);
    replacement.replaces = Some(order.id.clone());
    {
        let mut tx = store.begin_write().await?;
        store::insert(
            &mut tx,
            &replacement,
            &format!("change stored: replaces order {}", order.id),
        )
        .await?;
        store::event(
            &mut tx,
            &order.id,
            order.status,
            &format!(
                "change requested: {}; the broker replaces the order with order {}",
                describe(&order, &intent),
                replacement.id
            ),
            now,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
    }
    // Claimed (committed) before the request leaves, like every order.
    let mut claimed = replacement.clone();
    claimed.sent_at = Some(Utc::now());
    claimed.updated_at = Utc::now();
    let (stored, claimed_it) = oms::write_cas(store, &claimed, "sending the change").await?;
    if !claimed_it {
        return Ok(stored);
    }
    let result = broker
        .modify_order(&OrderChange {
            broker_order_id,
            order: intent,
        })
        .await;
    let refusal = result.as_ref().err().cloned();
    let outcome = oms::classify(result);
    let placed = matches!(outcome, Placement::Placed(_));
    let settled = oms::settle(store, stored, outcome, schedule).await?;
    if placed {
        mark_replaced(store, &order.id, &settled).await?;
    }
    match refusal {
        Some(e) if settled.status == OrderStatus::Rejected => Err(OmsError::Broker(e)),
        _ => Ok(settled),
    }
}

/// Marks the original of an accepted replacement cancelled ("replaced by"), unless it has
/// moved on (filled meanwhile: the broker's read-back says so).
async fn mark_replaced(
    store: &Store,
    original_id: &str,
    replacement: &Order,
) -> Result<(), OmsError> {
    let mut conn = store.acquire().await?;
    let Some(original) = store::get(&mut conn, original_id).await? else {
        return Ok(());
    };
    drop(conn);
    if !original.status.can_become(OrderStatus::Cancelled) || original.status.is_final() {
        return Ok(());
    }
    let mut next = original.clone();
    next.status = OrderStatus::Cancelled;
    next.reason = Some(format!(
        "replaced by order {} (the broker replaces an order to change it)",
        replacement.id
    ));
    next.updated_at = Utc::now();
    oms::write(store, &next, "replaced").await?;
    Ok(())
}

fn broker_id(order: &Order) -> Result<String, OmsError> {
    order.broker_order_id.clone().ok_or_else(|| {
        OmsError::NotOpen(format!(
            "order {} has no broker order id yet: it cannot be changed until the broker has it",
            order.id
        ))
    })
}

/// Records a note in the order's history (its status unchanged).
async fn note(store: &Store, order: &Order, detail: &str) -> Result<(), OmsError> {
    let mut conn = store.acquire().await?;
    store::event(&mut conn, &order.id, order.status, detail, Utc::now()).await?;
    Ok(())
}

/// `quantity 10 → 5, price 1.1 → 1.2`: what the change does.
pub fn describe(order: &Order, intent: &OrderIntent) -> String {
    let mut parts = Vec::new();
    if intent.quantity() != order.quantity {
        parts.push(format!(
            "quantity {} → {}",
            order.quantity.normalize(),
            intent.quantity().normalize()
        ));
    }
    let old = order.limit_price.or(order.stop_price);
    let new = intent.limit_price().or(intent.stop_price());
    if old != new {
        let show = |p: Option<Decimal>| p.map_or("none".to_string(), |p| p.normalize().to_string());
        parts.push(format!("price {} → {}", show(old), show(new)));
    }
    parts.join(", ")
}
