//! What an order is, as stored and as the UI and the CLI see it, and the one state machine
//! every order moves through.
//!
//! ```text
//! pending ──► open ──► partially_filled ──► filled
//!    │  │       │            │
//!    │  │       └──► cancelled ◄──┘
//!    │  └──► rejected
//!    └──► unknown ──► (found) any of the above
//!              └──► needs_review ──► (resolved by the trader) open / filled / cancelled / rejected
//! ```
//!
//! `pending`: the intent is stored, nothing known from the broker yet. `unknown`: it was sent
//! and the answer never came (timeout, reset, a 5xx after sending, the app killed): it is
//! looked up by its client order id, never resent blindly. `needs_review`: the broker could not
//! say, or an operation ran out of retries; a person decides.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::accounts::model::{string_enum, Environment, TradingMode};

pub use super::intent::TimeInForce;
pub use crate::brokers::{OrderSide as Side, OrderType as OrderKind};

string_enum!(
    /// Who placed the order: Brokerdesk, or someone else at the broker (found by
    /// reconciliation).
    Origin { Brokerdesk => "brokerdesk", External => "external" }
);
string_enum!(
    /// Where an order is in its life (see the module docs).
    OrderStatus {
        Pending => "pending",
        Open => "open",
        PartiallyFilled => "partially_filled",
        Filled => "filled",
        Cancelled => "cancelled",
        Rejected => "rejected",
        Unknown => "unknown",
        NeedsReview => "needs_review",
    }
);

string_enum!(
    /// What an account's orders really do, in the three styles shown wherever the mode
    /// matters (account header and list, order ticket, window title, tray): `paper`
    /// (simulated in Brokerdesk), `broker_practice` (live mode on a broker's practice
    /// environment), `real_money` (live mode on a live environment).
    ModeLabel { Paper => "paper", BrokerPractice => "broker_practice", RealMoney => "real_money" }
);

impl ModeLabel {
    /// The label for an account's mode on its environment.
    pub fn of(mode: TradingMode, environment: Environment) -> Self {
        match (mode, environment) {
            (TradingMode::Paper, _) => ModeLabel::Paper,
            (TradingMode::Live, Environment::Practice) => ModeLabel::BrokerPractice,
            (TradingMode::Live, Environment::Live) => ModeLabel::RealMoney,
        }
    }

    /// The words shown (the UI's badge, the title, the tray, the CLI).
    pub fn text(self) -> &'static str {
        match self {
            ModeLabel::Paper => "PAPER",
            ModeLabel::BrokerPractice => "BROKER PRACTICE",
            ModeLabel::RealMoney => "LIVE — REAL MONEY",
        }
    }
}

impl OrderStatus {
    /// Returns true once nothing more can happen to the order.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled | OrderStatus::Cancelled | OrderStatus::Rejected
        )
    }

    /// Returns true while the order may still fill (or its fate is not known).
    pub fn is_working(self) -> bool {
        !self.is_final()
    }

    /// Returns whether an order in this state may move to `next`. Staying put is allowed
    /// (a partial fill that grows, a lookup that learns nothing new).
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        if self == next {
            return !self.is_final() || next == Filled;
        }
        match self {
            Pending => true,
            Open | PartiallyFilled => matches!(
                next,
                Open | PartiallyFilled | Filled | Cancelled | Unknown | NeedsReview
            ),
            Unknown => true,
            NeedsReview => matches!(next, Open | PartiallyFilled | Filled | Cancelled | Rejected),
            Filled | Cancelled | Rejected => false,
        }
    }
}

/// One order (a row of `orders`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Order {
    pub id: String,
    pub account_id: String,
    /// The idempotency key sent to the broker (Alpaca `client_order_id`, OANDA
    /// `clientExtensions.id`, Tradier `tag`, Tastytrade `external-identifier`, IBKR `cOID`).
    pub client_order_id: String,
    pub broker_order_id: Option<String>,
    pub mode: TradingMode,
    pub origin: Origin,
    pub symbol: String,
    pub side: Side,
    pub order_type: OrderKind,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub quantity: Decimal,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub limit_price: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub stop_price: Option<Decimal>,
    pub time_in_force: TimeInForce,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub stop_loss: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub take_profit: Option<Decimal>,
    /// The order a stop-loss / take-profit child belongs to (the paper engine's brackets).
    pub parent_id: Option<String>,
    /// The order this one replaced (a change made at a broker that replaces orders: OANDA,
    /// Alpaca, Tastytrade).
    pub replaces: Option<String>,
    pub status: OrderStatus,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub filled_qty: Decimal,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub avg_fill_price: Option<Decimal>,
    /// Why it was rejected or cancelled, or why it needs review.
    pub reason: Option<String>,
    /// The broker's own status word, when it gave one.
    pub broker_status: Option<String>,
    /// When it left the machine (`None`: it never did).
    #[ts(type = "string | null")]
    pub sent_at: Option<DateTime<Utc>>,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    #[ts(type = "string")]
    pub updated_at: DateTime<Utc>,
    /// The compare-and-set version (every change increments it).
    #[serde(skip)]
    #[ts(skip)]
    pub version: i64,
}

impl Order {
    /// A new order as its intent is stored, before anything is sent: `pending`, nothing
    /// filled, a fresh id, the intent's client order id and terms.
    pub fn pending(
        account_id: &str,
        mode: TradingMode,
        intent: &super::intent::OrderIntent,
        now: DateTime<Utc>,
    ) -> Self {
        Order {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: account_id.to_string(),
            client_order_id: intent.client_order_id().to_string(),
            broker_order_id: None,
            mode,
            origin: Origin::Brokerdesk,
            symbol: intent.symbol().to_string(),
            side: intent.side(),
            order_type: intent.order_type(),
            quantity: intent.quantity(),
            limit_price: intent.limit_price(),
            stop_price: intent.stop_price(),
            time_in_force: intent.time_in_force(),
            stop_loss: intent.stop_loss(),
            take_profit: intent.take_profit(),
            parent_id: None,
            replaces: None,
            status: OrderStatus::Pending,
            filled_qty: Decimal::ZERO,
            avg_fill_price: None,
            reason: None,
            broker_status: None,
            sent_at: None,
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }
}

/// One status change of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrderEvent {
    #[ts(type = "string")]
    pub at: DateTime<Utc>,
    pub status: OrderStatus,
    pub detail: String,
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Fill {
    /// The broker's (or the paper engine's) id of this execution.
    pub fill_id: String,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub quantity: Decimal,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub price: Decimal,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub fee: Decimal,
    #[ts(type = "string")]
    pub at: DateTime<Utc>,
}

/// An order with its history and fills (`order show`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub order: Order,
    pub events: Vec<OrderEvent>,
    pub fills: Vec<Fill>,
}

/// Returns a new client order id: `bd-` and 32 hex digits (128 random bits). Short, plain
/// ASCII letters, digits and a hyphen, so every broker takes it (Tradier's tag allows only
/// those; Alpaca's limit is 128 characters).
pub fn new_client_order_id() -> String {
    format!("bd-{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_machine_has_no_way_out_of_a_final_state() {
        for s in OrderStatus::ALL {
            for n in OrderStatus::ALL {
                if s.is_final() && s != n {
                    assert!(!s.can_become(*n), "{s} → {n}");
                }
            }
        }
        assert!(OrderStatus::Pending.can_become(OrderStatus::Unknown));
        assert!(OrderStatus::Unknown.can_become(OrderStatus::NeedsReview));
        assert!(OrderStatus::NeedsReview.can_become(OrderStatus::Cancelled));
        assert!(!OrderStatus::NeedsReview.can_become(OrderStatus::Unknown));
        assert!(!OrderStatus::Open.can_become(OrderStatus::Pending));
        assert!(OrderStatus::PartiallyFilled.can_become(OrderStatus::PartiallyFilled));
    }

    #[test]
    fn client_order_ids_are_unique_and_plain() {
        let a = new_client_order_id();
        let b = new_client_order_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 35);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
