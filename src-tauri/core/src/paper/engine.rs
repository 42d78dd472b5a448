//! The fill model of one paper account: a pure state machine that holds the account's
//! resting orders, is fed orders, quotes and the time, and answers with events (accepted,
//! triggered, filled, cancelled, rejected…) that the caller persists and applies to the
//! [`super::Ledger`].
//!
//! # Rules
//!
//! - **Market** orders buy at the ask and sell at the bid, moved against the trader by the
//!   configured slippage ([`EngineConfig::slippage_bps`], default 0) and rounded to the
//!   quote's precision away from the trader.
//! - **Limit** orders fill when the opposite side crosses the limit (buy: ask ≤ limit; sell:
//!   bid ≥ limit), at the quote's price when that is better, never worse than the limit.
//! - **Stop** orders trigger on the opposite side (buy: ask ≥ stop; sell: bid ≤ stop) and
//!   then fill as market orders on the same quote, so a gap fills at the gapped price.
//! - **No look-back.** An order only fills on quotes stamped at or after its acceptance (or
//!   its last modification): a quote older than the order says nothing about what the order
//!   could have got.
//! - **Stale feed.** Nothing fills when the caller says the feed is stale
//!   ([`FeedStatus::Stale`]) or when the quote is older than
//!   [`EngineConfig::max_quote_age_ms`] relative to `now`; orders keep waiting.
//! - **Displayed size.** A fill takes at most the quote's displayed size on its side (all of
//!   it when the quote gives none); orders filling on the same quote share that size in
//!   acceptance order, and the remainder keeps working.
//! - **Time in force.** Day orders carry the end of their trading day ([`NewOrder::expires_at`])
//!   and are expired once `now` reaches it; they never fill on a quote stamped at or after it.
//! - **Brackets.** A stop-loss and/or take-profit on an order become two pending child orders
//!   (`{id}:sl`, a stop; `{id}:tp`, a limit; both good-till-cancelled, on the other side).
//!   Each fill of the parent makes them live for the parent's filled quantity, from the
//!   next quote on (quotes stamped strictly after the fill). They are one-cancels-other: the
//!   first fill of one cancels the other, and also cancels what is left of the parent (the
//!   position is being closed, so opening more of it would contradict the exit). Cancelling
//!   or expiring the parent before any fill cancels the children; after a partial fill the
//!   live children stay, protecting what was filled.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

use super::{PaperError, Quote, MAX_PRICE, MAX_QUANTITY};
use crate::error::{Code, ErrorCode, FieldCode};

mod order;
mod validate;

pub use order::{
    CancelReason, Fill, NewOrder, Order, OrderChanges, OrderRole, OrderStatus, OrderType, Side,
    TimeInForce,
};

/// How an engine fills: slippage and the staleness limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineConfig {
    /// Basis points by which market and stop fills are moved against the trader (limit fills
    /// too, but never beyond the limit). 0 by default.
    pub slippage_bps: Decimal,
    /// Quotes older than this, relative to `now`, do not fill anything. 5 s by default.
    pub max_quote_age_ms: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            slippage_bps: Decimal::ZERO,
            max_quote_age_ms: 5_000,
        }
    }
}

/// Whether the caller's price feed is healthy (its supervisor knows; the engine does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FeedStatus {
    Fresh,
    /// The feed is down or lagging: nothing fills, orders wait.
    Stale,
}

/// What happened to an order, for the caller to persist and show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum EngineEvent {
    /// The order was accepted (bracket children arrive as pending orders of their own).
    Accepted {
        order: Order,
    },
    /// The order was refused; nothing was stored.
    #[serde(rename_all = "camelCase")]
    Rejected {
        order_id: String,
        code: Code,
        message: String,
    },
    /// A stop order's trigger was reached; it now works as a market order.
    #[serde(rename_all = "camelCase")]
    Triggered {
        order_id: String,
        time: DateTime<Utc>,
    },
    /// A bracket child became live, or its quantity grew with a parent's fill.
    #[serde(rename_all = "camelCase")]
    Activated {
        order_id: String,
        quantity: Decimal,
        time: DateTime<Utc>,
    },
    Filled {
        fill: Fill,
    },
    #[serde(rename_all = "camelCase")]
    Cancelled {
        order_id: String,
        reason: CancelReason,
        time: DateTime<Utc>,
    },
    /// The order's price or quantity was changed.
    Modified {
        order: Order,
    },
}

/// One paper account's orders.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaperEngine {
    config: EngineConfig,
    /// Every order not yet dropped with [`PaperEngine::drop_settled`], by id.
    orders: HashMap<String, Order>,
    /// Per symbol, the ids of working (live or triggered) orders in acceptance order.
    working: HashMap<String, Vec<String>>,
    /// The acceptance counter, for a stable order of evaluation.
    seq: u64,
}

impl PaperEngine {
    /// Returns an empty engine.
    pub fn new(config: EngineConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Returns the order `id`, open or settled (until dropped).
    pub fn order(&self, id: &str) -> Option<&Order> {
        self.orders.get(id)
    }

    /// Returns the open orders (pending, working, triggered), in acceptance order.
    pub fn open_orders(&self) -> Vec<&Order> {
        let mut open: Vec<&Order> = self
            .orders
            .values()
            .filter(|o| o.status.is_open())
            .collect();
        open.sort_by_key(|o| o.seq);
        open
    }

    /// Returns how many orders the engine holds, settled ones included.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// Forgets the filled, cancelled and expired orders (the caller has persisted their
    /// events) and returns how many. Open orders are kept.
    pub fn drop_settled(&mut self) -> usize {
        let before = self.orders.len();
        self.orders.retain(|_, o| o.status.is_open());
        before - self.orders.len()
    }

    /// Forgets every order (an account reset).
    pub fn reset(&mut self) {
        self.orders.clear();
        self.working.clear();
    }

    /// Checks an order without accepting it (for an order ticket).
    pub fn validate(&self, order: &NewOrder) -> Result<(), PaperError> {
        order.validate(MAX_QUANTITY, MAX_PRICE)?;
        let taken = |id: &str| self.orders.contains_key(id);
        let bracket = order.stop_loss.is_some() || order.take_profit.is_some();
        let child_taken = bracket
            && [OrderRole::StopLoss, OrderRole::TakeProfit]
                .iter()
                .any(|r| taken(&order::child_id(&order.id, *r)));
        if taken(&order.id) || child_taken {
            return Err(PaperError::invalid(
                "id",
                FieldCode::Duplicate,
                format!(
                    "an order {} (or one of its bracket orders) already exists",
                    order.id
                ),
            ));
        }
        Ok(())
    }

    /// Accepts `order`, or rejects it: the events say which. A market order fills on the
    /// first fresh quote stamped at or after its acceptance.
    pub fn submit(&mut self, order: NewOrder) -> Vec<EngineEvent> {
        if let Err(e) = self.validate(&order) {
            return vec![EngineEvent::Rejected {
                order_id: order.id,
                code: e.code(),
                message: e.to_string(),
            }];
        }
        let mut events = Vec::with_capacity(1);
        let parent = self.accept(Order::from_new(order, OrderRole::Entry, None));
        for role in [OrderRole::StopLoss, OrderRole::TakeProfit] {
            if let Some(child) = Order::child_of(&parent, role) {
                self.accept(child.clone());
                events.push(EngineEvent::Accepted { order: child });
            }
        }
        events.insert(0, EngineEvent::Accepted { order: parent });
        events
    }

    /// Takes back an open order the caller stored earlier (a restart): it works on from
    /// where it was, with its status, fills and bracket links as they were.
    pub fn restore(&mut self, order: Order) {
        if order.status.is_open() && !self.orders.contains_key(&order.id) {
            self.accept(order);
        }
    }

    /// Stores a new order and returns a copy of it.
    fn accept(&mut self, mut order: Order) -> Order {
        self.seq += 1;
        order.seq = self.seq;
        if order.status == OrderStatus::Working {
            self.working
                .entry(order.symbol.clone())
                .or_default()
                .push(order.id.clone());
        }
        self.orders.insert(order.id.clone(), order.clone());
        order
    }

    /// Works the orders of `quote.instrument` against `quote` at `now`: expires the day
    /// orders that are due, then triggers and fills what the quote allows.
    pub fn on_quote(
        &mut self,
        quote: &Quote,
        now: DateTime<Utc>,
        feed: FeedStatus,
    ) -> Vec<EngineEvent> {
        let mut events = Vec::new();
        let Some(mut ids) = self.working.get_mut(&quote.instrument).map(std::mem::take) else {
            return events;
        };
        let age = now.signed_duration_since(quote.time);
        let usable = feed == FeedStatus::Fresh
            && age <= TimeDelta::milliseconds(self.config.max_quote_age_ms)
            && quote.is_sane();
        let mut sizes = Sizes {
            bid: quote.bid_size,
            ask: quote.ask_size,
        };
        let mut activated = Vec::new();
        for id in &ids {
            let Some(order) = self.orders.get(id) else {
                continue;
            };
            if !order.status.is_working() {
                continue; // Cancelled by a sibling's or a child's fill earlier in this pass.
            }
            if order.expires_at.is_some_and(|e| now >= e) {
                self.expire_one(id, now, &mut events);
                continue;
            }
            if usable {
                self.work_one(id, quote, &mut sizes, &mut events, &mut activated);
            }
        }
        ids.retain(|id| self.orders.get(id).is_some_and(|o| o.status.is_working()));
        ids.extend(activated);
        // Put the list back in its slot (taken above), keeping its allocation.
        if let Some(slot) = self.working.get_mut(&quote.instrument) {
            *slot = ids;
        }
        events
    }

    /// Expires every day order whose end has come, on every symbol.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Vec<EngineEvent> {
        let mut due: Vec<(u64, String)> = self
            .orders
            .values()
            .filter(|o| o.status.is_open() && o.expires_at.is_some_and(|e| now >= e))
            .map(|o| (o.seq, o.id.clone()))
            .collect();
        due.sort();
        let mut events = Vec::new();
        for (_, id) in due {
            if self.orders.get(&id).is_some_and(|o| o.status.is_open()) {
                self.expire_one(&id, now, &mut events);
            }
        }
        self.prune_working();
        events
    }

    /// Cancels the open order `id` at `at` (and, for a parent without fills, its children).
    pub fn cancel(&mut self, id: &str, at: DateTime<Utc>) -> Result<Vec<EngineEvent>, PaperError> {
        self.open_order(id)?;
        let mut events = Vec::new();
        self.close(
            id,
            OrderStatus::Cancelled,
            CancelReason::Requested,
            at,
            &mut events,
        );
        self.prune_working();
        Ok(events)
    }

    /// Changes the price or quantity of the open order `id` at `at`. The order then only
    /// fills on quotes stamped at or after `at`.
    pub fn modify(
        &mut self,
        id: &str,
        changes: OrderChanges,
        at: DateTime<Utc>,
    ) -> Result<Vec<EngineEvent>, PaperError> {
        let order = self.open_order(id)?;
        let sibling = order
            .sibling
            .as_ref()
            .and_then(|s| self.orders.get(s))
            .filter(|s| s.status.is_open());
        let children: Vec<&Order> = [OrderRole::StopLoss, OrderRole::TakeProfit]
            .iter()
            .filter(|_| order.role == OrderRole::Entry)
            .filter_map(|r| self.orders.get(&order::child_id(id, *r)))
            .filter(|c| c.status.is_open())
            .collect();
        let mut updated = order.modified(&changes, sibling, &children, MAX_QUANTITY, MAX_PRICE)?;
        if at > updated.live_from {
            updated.live_from = at;
        }
        self.orders.insert(id.to_string(), updated.clone());
        Ok(vec![EngineEvent::Modified { order: updated }])
    }

    fn open_order(&self, id: &str) -> Result<&Order, PaperError> {
        let order = self
            .orders
            .get(id)
            .ok_or_else(|| PaperError::OrderNotFound(id.to_string()))?;
        if !order.status.is_open() {
            return Err(PaperError::OrderNotOpen {
                id: id.to_string(),
                status: order.status,
            });
        }
        Ok(order)
    }

    /// Triggers and fills one working order on a usable quote.
    fn work_one(
        &mut self,
        id: &str,
        quote: &Quote,
        sizes: &mut Sizes,
        events: &mut Vec<EngineEvent>,
        activated: &mut Vec<String>,
    ) {
        let slippage = self.config.slippage_bps;
        let Some(order) = self.orders.get_mut(id) else {
            return;
        };
        if quote.time < order.live_from {
            return; // The quote predates the order (or its last change): no look-back.
        }
        if order.expires_at.is_some_and(|e| quote.time >= e) {
            return;
        }
        if order.order_type == OrderType::Stop && order.status == OrderStatus::Working {
            let stop = order.stop_price.unwrap_or(Decimal::ZERO);
            let hit = match order.side {
                Side::Buy => quote.ask >= stop,
                Side::Sell => quote.bid <= stop,
            };
            if !hit {
                return;
            }
            order.status = OrderStatus::Triggered;
            events.push(EngineEvent::Triggered {
                order_id: order.id.clone(),
                time: quote.time,
            });
        }
        let market = market_price(order.side, quote, slippage);
        let price = match (order.order_type, order.limit_price) {
            (OrderType::Limit, Some(limit)) => match order.side {
                Side::Buy if quote.ask <= limit => market.min(limit),
                Side::Sell if quote.bid >= limit => market.max(limit),
                _ => return,
            },
            _ => market,
        };
        let available = sizes.take(order.side, order.remaining());
        if available <= Decimal::ZERO {
            return; // The displayed size went to orders accepted earlier.
        }
        let fill = order.fill(available, price, quote.time);
        let (role, parent, sibling, first) = (
            order.role,
            order.parent_id.clone(),
            order.sibling.clone(),
            order.fills == 1,
        );
        let filled = order.filled_quantity;
        events.push(EngineEvent::Filled { fill });
        match role {
            OrderRole::Entry => self.grow_children(id, filled, quote.time, events, activated),
            OrderRole::StopLoss | OrderRole::TakeProfit if first => {
                // One-cancels-other, and the exit ends what is left of the parent.
                let ends = [
                    (sibling, CancelReason::OcoSibling),
                    (parent, CancelReason::BracketExit),
                ];
                for (other, reason) in ends {
                    let Some(other) = other else { continue };
                    if self.orders.get(&other).is_some_and(|o| o.status.is_open()) {
                        self.close(&other, OrderStatus::Cancelled, reason, quote.time, events);
                    }
                }
            }
            _ => {}
        }
    }

    /// Makes a parent's children live for its filled quantity.
    fn grow_children(
        &mut self,
        parent: &str,
        filled: Decimal,
        time: DateTime<Utc>,
        events: &mut Vec<EngineEvent>,
        activated: &mut Vec<String>,
    ) {
        for role in [OrderRole::StopLoss, OrderRole::TakeProfit] {
            let cid = order::child_id(parent, role);
            let Some(child) = self.orders.get_mut(&cid) else {
                continue;
            };
            if !child.status.is_open() {
                continue;
            }
            child.quantity = filled;
            if child.status == OrderStatus::Pending {
                child.status = OrderStatus::Working;
                // Live strictly after the fill: the fill's own quote cannot close it again.
                child.live_from = time + TimeDelta::nanoseconds(1);
                activated.push(cid.clone());
            }
            events.push(EngineEvent::Activated {
                order_id: cid,
                quantity: filled,
                time,
            });
        }
    }

    fn expire_one(&mut self, id: &str, now: DateTime<Utc>, events: &mut Vec<EngineEvent>) {
        self.close(id, OrderStatus::Expired, CancelReason::Expired, now, events);
    }

    /// Ends an open order and, for a parent without fills, its pending children.
    fn close(
        &mut self,
        id: &str,
        status: OrderStatus,
        reason: CancelReason,
        at: DateTime<Utc>,
        events: &mut Vec<EngineEvent>,
    ) {
        let Some(order) = self.orders.get_mut(id) else {
            return;
        };
        order.status = status;
        events.push(EngineEvent::Cancelled {
            order_id: id.to_string(),
            reason,
            time: at,
        });
        if order.role != OrderRole::Entry {
            return;
        }
        for role in [OrderRole::StopLoss, OrderRole::TakeProfit] {
            let cid = order::child_id(id, role);
            if let Some(child) = self.orders.get_mut(&cid) {
                if child.status == OrderStatus::Pending {
                    child.status = OrderStatus::Cancelled;
                    events.push(EngineEvent::Cancelled {
                        order_id: cid,
                        reason: CancelReason::ParentCancelled,
                        time: at,
                    });
                }
            }
        }
    }

    /// Drops ids of orders that stopped working from the per-symbol lists.
    fn prune_working(&mut self) {
        let orders = &self.orders;
        for ids in self.working.values_mut() {
            ids.retain(|id| orders.get(id).is_some_and(|o| o.status.is_working()));
        }
        self.working.retain(|_, ids| !ids.is_empty());
    }
}

/// The displayed size left on each side of the quote being worked.
struct Sizes {
    bid: Option<Decimal>,
    ask: Option<Decimal>,
}

impl Sizes {
    /// Takes up to `wanted` from the side a `side` order fills against; no size means all.
    fn take(&mut self, side: Side, wanted: Decimal) -> Decimal {
        let slot = match side {
            Side::Buy => &mut self.ask,
            Side::Sell => &mut self.bid,
        };
        match slot {
            None => wanted,
            Some(left) => {
                let got = wanted.min(*left).max(Decimal::ZERO);
                *left -= got;
                got
            }
        }
    }
}

/// The price a market order of `side` gets on `quote`: the opposite side, moved against
/// the trader by `bps`, rounded to the quote's precision away from the trader.
fn market_price(side: Side, quote: &Quote, bps: Decimal) -> Decimal {
    if bps <= Decimal::ZERO {
        return match side {
            Side::Buy => quote.ask,
            Side::Sell => quote.bid,
        };
    }
    let dp = quote.bid.scale().max(quote.ask.scale());
    // At most 100 %: a misconfigured slippage cannot overflow or price below zero.
    let factor = bps.min(dec!(10000)) / dec!(10000);
    match side {
        Side::Buy => (quote.ask * (Decimal::ONE + factor))
            .round_dp_with_strategy(dp, RoundingStrategy::ToPositiveInfinity),
        Side::Sell => (quote.bid * (Decimal::ONE - factor))
            .round_dp_with_strategy(dp, RoundingStrategy::ToNegativeInfinity),
    }
}

#[cfg(test)]
mod bracket_tests;
#[cfg(test)]
mod tests;
