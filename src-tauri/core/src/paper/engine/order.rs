//! The order types of the paper engine: what a caller submits ([`NewOrder`]), what the engine
//! keeps ([`Order`]), and what a fill reports ([`Fill`]), with their validation.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperSide")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// Returns the other side (what closes a position this side opened).
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// Returns +1 for a buy, −1 for a sell: the sign of the position change.
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperOrderType")]
pub enum OrderType {
    Market,
    Limit,
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperTimeInForce")]
pub enum TimeInForce {
    /// Expires at the end of the trading day ([`NewOrder::expires_at`]).
    Day,
    /// Good till cancelled.
    Gtc,
}

/// Where an order sits in a bracket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperOrderRole")]
pub enum OrderRole {
    /// An order the trader placed (possibly the parent of a bracket).
    Entry,
    /// A bracket's stop-loss child (`{parent}:sl`).
    StopLoss,
    /// A bracket's take-profit child (`{parent}:tp`).
    TakeProfit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperOrderStatus")]
pub enum OrderStatus {
    /// A bracket child waiting for its parent to fill.
    Pending,
    /// Live: waiting for its price, or partly filled.
    Working,
    /// A stop whose trigger was reached, now working as a market order.
    Triggered,
    Filled,
    Cancelled,
    Expired,
}

impl OrderStatus {
    /// Returns true while the order can still fill, be cancelled or be modified.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::Pending | OrderStatus::Working | OrderStatus::Triggered
        )
    }

    /// Returns true while quotes are checked against the order.
    pub fn is_working(self) -> bool {
        matches!(self, OrderStatus::Working | OrderStatus::Triggered)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Working => "working",
            OrderStatus::Triggered => "triggered",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        })
    }
}

/// Why an order ended without filling completely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperCancelReason")]
pub enum CancelReason {
    /// The trader (or the caller) cancelled it.
    Requested,
    /// A day order reached the end of its day.
    Expired,
    /// Its bracket sibling filled (one-cancels-other).
    OcoSibling,
    /// Its parent was cancelled or expired before filling.
    ParentCancelled,
    /// A bracket exit filled, ending what was left of this parent.
    BracketExit,
}

/// An order as the caller submits it. Ids are the caller's and must be unique per engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrder {
    pub id: String,
    pub symbol: String,
    pub side: Side,
    /// Greater than zero.
    pub quantity: Decimal,
    pub order_type: OrderType,
    /// Required for limit orders, refused for the others.
    pub limit_price: Option<Decimal>,
    /// Required for stop orders, refused for the others.
    pub stop_price: Option<Decimal>,
    pub tif: TimeInForce,
    /// The end of the trading day: required for day orders, refused for GTC orders.
    pub expires_at: Option<DateTime<Utc>>,
    pub stop_loss: Option<Decimal>,
    pub take_profit: Option<Decimal>,
    /// When the order was accepted: it never fills on a quote stamped earlier.
    pub accepted_at: DateTime<Utc>,
}

impl NewOrder {
    /// Returns a GTC market order.
    pub fn market(
        id: impl Into<String>,
        symbol: impl Into<String>,
        side: Side,
        quantity: Decimal,
        accepted_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: id.into(),
            symbol: symbol.into(),
            side,
            quantity,
            order_type: OrderType::Market,
            limit_price: None,
            stop_price: None,
            tif: TimeInForce::Gtc,
            expires_at: None,
            stop_loss: None,
            take_profit: None,
            accepted_at,
        }
    }

    /// Returns a GTC limit order.
    pub fn limit(
        id: impl Into<String>,
        symbol: impl Into<String>,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        accepted_at: DateTime<Utc>,
    ) -> Self {
        Self {
            order_type: OrderType::Limit,
            limit_price: Some(price),
            ..Self::market(id, symbol, side, quantity, accepted_at)
        }
    }

    /// Returns a GTC stop order.
    pub fn stop(
        id: impl Into<String>,
        symbol: impl Into<String>,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        accepted_at: DateTime<Utc>,
    ) -> Self {
        Self {
            order_type: OrderType::Stop,
            stop_price: Some(price),
            ..Self::market(id, symbol, side, quantity, accepted_at)
        }
    }

    /// Makes it a day order expiring at `end_of_day`.
    pub fn day(mut self, end_of_day: DateTime<Utc>) -> Self {
        self.tif = TimeInForce::Day;
        self.expires_at = Some(end_of_day);
        self
    }

    /// Attaches a stop-loss and/or take-profit.
    pub fn bracket(mut self, stop_loss: Option<Decimal>, take_profit: Option<Decimal>) -> Self {
        self.stop_loss = stop_loss;
        self.take_profit = take_profit;
        self
    }
}

/// A change to a resting order; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderChanges {
    /// The new total quantity; must exceed what has already filled.
    pub quantity: Option<Decimal>,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
}

/// An order as the engine keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperOrder")]
pub struct Order {
    pub id: String,
    pub symbol: String,
    pub side: Side,
    /// The total quantity (for a bracket child: the parent's filled quantity).
    #[ts(type = "string")]
    pub quantity: Decimal,
    pub order_type: OrderType,
    #[ts(type = "string | null")]
    pub limit_price: Option<Decimal>,
    #[ts(type = "string | null")]
    pub stop_price: Option<Decimal>,
    pub tif: TimeInForce,
    #[ts(type = "string | null")]
    pub expires_at: Option<DateTime<Utc>>,
    #[ts(type = "string | null")]
    pub stop_loss: Option<Decimal>,
    #[ts(type = "string | null")]
    pub take_profit: Option<Decimal>,
    #[ts(type = "string")]
    pub accepted_at: DateTime<Utc>,
    pub status: OrderStatus,
    #[ts(type = "string")]
    pub filled_quantity: Decimal,
    /// The volume-weighted price of the fills so far (10 decimal places).
    #[ts(type = "string | null")]
    pub average_price: Option<Decimal>,
    pub role: OrderRole,
    /// The bracket parent of a child order.
    pub parent_id: Option<String>,
    /// The other child of the same bracket, cancelled when this one fills.
    pub sibling: Option<String>,
    /// Quotes stamped before this instant are ignored: acceptance, last modification, or
    /// just after the parent's fill for a bracket child.
    #[ts(type = "string")]
    pub live_from: DateTime<Utc>,
    /// How many fills so far (numbers the fill ids).
    pub fills: u32,
    /// The engine's acceptance sequence number.
    pub seq: u64,
}

/// One execution of (part of) an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperFill")]
pub struct Fill {
    /// `{orderId}#{n}`, n counting the order's fills from 1.
    pub id: String,
    pub order_id: String,
    pub symbol: String,
    pub side: Side,
    #[ts(type = "string")]
    pub quantity: Decimal,
    #[ts(type = "string")]
    pub price: Decimal,
    /// The time stamp of the quote it filled on.
    #[ts(type = "string")]
    pub time: DateTime<Utc>,
    /// What is left of the order after this fill.
    #[ts(type = "string")]
    pub remaining: Decimal,
    pub role: OrderRole,
    pub parent_id: Option<String>,
}

/// The id of a bracket child of `parent`.
pub(super) fn child_id(parent: &str, role: OrderRole) -> String {
    match role {
        OrderRole::StopLoss => format!("{parent}:sl"),
        OrderRole::TakeProfit => format!("{parent}:tp"),
        OrderRole::Entry => parent.to_string(),
    }
}

impl Order {
    pub(super) fn from_new(n: NewOrder, role: OrderRole, parent_id: Option<String>) -> Self {
        Self {
            live_from: n.accepted_at,
            id: n.id,
            symbol: n.symbol,
            side: n.side,
            quantity: n.quantity,
            order_type: n.order_type,
            limit_price: n.limit_price,
            stop_price: n.stop_price,
            tif: n.tif,
            expires_at: n.expires_at,
            stop_loss: n.stop_loss,
            take_profit: n.take_profit,
            accepted_at: n.accepted_at,
            status: OrderStatus::Working,
            filled_quantity: Decimal::ZERO,
            average_price: None,
            role,
            parent_id,
            sibling: None,
            fills: 0,
            seq: 0,
        }
    }

    /// Returns the pending `role` child of `parent`, if the parent asked for one.
    pub(super) fn child_of(parent: &Order, role: OrderRole) -> Option<Order> {
        let (price, other, other_role) = match role {
            OrderRole::StopLoss => (parent.stop_loss?, parent.take_profit, OrderRole::TakeProfit),
            OrderRole::TakeProfit => (parent.take_profit?, parent.stop_loss, OrderRole::StopLoss),
            OrderRole::Entry => return None,
        };
        let side = parent.side.opposite();
        let id = child_id(&parent.id, role);
        let new = if role == OrderRole::StopLoss {
            NewOrder::stop(
                id,
                &parent.symbol,
                side,
                parent.quantity,
                price,
                parent.accepted_at,
            )
        } else {
            NewOrder::limit(
                id,
                &parent.symbol,
                side,
                parent.quantity,
                price,
                parent.accepted_at,
            )
        };
        let mut child = Order::from_new(new, role, Some(parent.id.clone()));
        child.status = OrderStatus::Pending;
        child.sibling = other.map(|_| child_id(&parent.id, other_role));
        Some(child)
    }

    /// Returns the quantity still to fill.
    pub fn remaining(&self) -> Decimal {
        (self.quantity - self.filled_quantity).max(Decimal::ZERO)
    }

    /// Records a fill of `qty` at `price` and returns it.
    pub(super) fn fill(&mut self, qty: Decimal, price: Decimal, time: DateTime<Utc>) -> Fill {
        let before = self.filled_quantity;
        self.filled_quantity += qty;
        let value = self.average_price.unwrap_or(Decimal::ZERO) * before + price * qty;
        self.average_price = Some((value / self.filled_quantity).round_dp(10));
        self.fills += 1;
        if self.remaining().is_zero() {
            self.status = OrderStatus::Filled;
        }
        Fill {
            id: format!("{}#{}", self.id, self.fills),
            order_id: self.id.clone(),
            symbol: self.symbol.clone(),
            side: self.side,
            quantity: qty,
            price,
            time,
            remaining: self.remaining(),
            role: self.role,
            parent_id: self.parent_id.clone(),
        }
    }
}
