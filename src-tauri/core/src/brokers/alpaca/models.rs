//! Alpaca's JSON, as much of it as the connector reads, and its mapping to the normalised
//! types. Alpaca sends money and quantities as strings (`"100000"`); the readers here also
//! accept numbers and treat `null` as absent, so a format drift does not break parsing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(super) use crate::brokers::wire::decimal_string;
use crate::brokers::wire::{decimal, opt_decimal};
use crate::brokers::{BrokerError, OrderSide, OrderState, OrderStatus, OrderTerms, Position};
use crate::money::Decimal;
use crate::stream::InstrumentInfo;

/// `GET /v2/account`.
#[derive(Debug, Deserialize)]
pub(super) struct Account {
    pub account_number: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub currency: String,
    #[serde(deserialize_with = "decimal")]
    pub cash: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub equity: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub buying_power: Decimal,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub multiplier: Option<Decimal>,
    #[serde(default)]
    pub trading_blocked: bool,
    #[serde(default)]
    pub account_blocked: bool,
}

impl Account {
    /// `margin` or `cash`, with why the account cannot trade when it cannot:
    /// `margin`, `cash (trading blocked)`, `margin (ACCOUNT_CLOSED)`.
    pub(super) fn account_type(&self) -> String {
        let kind = if self.multiplier.unwrap_or(Decimal::ONE) > Decimal::ONE {
            "margin"
        } else {
            "cash"
        };
        let reason = if self.account_blocked {
            Some("account blocked".to_string())
        } else if self.trading_blocked {
            Some("trading blocked".to_string())
        } else if !self.status.is_empty() && self.status != "ACTIVE" {
            Some(self.status.clone())
        } else {
            None
        };
        match reason {
            Some(r) => format!("{kind} ({r})"),
            None => kind.to_string(),
        }
    }
}

/// The `POST /v2/orders` body. Decimals travel as strings, as Alpaca documents.
#[derive(Debug, Serialize)]
pub(super) struct NewOrder<'a> {
    pub symbol: &'a str,
    pub qty: String,
    pub side: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub time_in_force: &'static str,
    pub client_order_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_price: Option<String>,
    /// `bracket` (stop-loss and take-profit) or `oto` (one of them); absent for a simple
    /// order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_class: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub take_profit: Option<ExitPrice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_loss: Option<StopPrice>,
}

/// The body of `PATCH /v2/orders/{order_id}` (a replacement): the new terms, and the
/// replacement's client order id.
#[derive(Debug, Serialize)]
pub(super) struct ReplaceOrder<'a> {
    pub qty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_price: Option<String>,
    pub time_in_force: &'static str,
    pub client_order_id: &'a str,
}

/// A bracket's take-profit leg.
#[derive(Debug, Serialize)]
pub(super) struct ExitPrice {
    pub limit_price: String,
}

/// A bracket's stop-loss leg.
#[derive(Debug, Serialize)]
pub(super) struct StopPrice {
    pub stop_price: String,
}

/// An order as Alpaca returns it.
#[derive(Debug, Deserialize)]
pub(super) struct Order {
    pub id: String,
    #[serde(default)]
    pub client_order_id: Option<String>,
    pub symbol: String,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub qty: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub filled_qty: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub filled_avg_price: Option<Decimal>,
    pub side: String,
    pub status: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub limit_price: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub stop_price: Option<Decimal>,
}

impl Order {
    pub(super) fn into_state(self) -> Result<OrderState, BrokerError> {
        let side = match self.side.as_str() {
            "buy" => OrderSide::Buy,
            "sell" => OrderSide::Sell,
            other => {
                return Err(BrokerError::Protocol(format!(
                    "unknown order side {other:?}"
                )))
            }
        };
        let filled = self.filled_qty.unwrap_or(Decimal::ZERO);
        Ok(OrderState {
            broker_order_id: self.id,
            client_order_id: self.client_order_id.filter(|c| !c.is_empty()),
            symbol: self.symbol,
            side,
            // Notional orders have no qty until filled.
            quantity: self.qty.unwrap_or(filled),
            filled_quantity: filled,
            avg_fill_price: self.filled_avg_price,
            status: status(&self.status),
            broker_status: self.status,
            terms: self
                .kind
                .as_deref()
                .and_then(|k| OrderTerms::from_word(k, self.limit_price, self.stop_price)),
        })
    }
}

/// Maps Alpaca's order statuses. Live-but-not-working states (`accepted`, `pending_new`)
/// are `Pending`; `expired` and `replaced` end the order like a cancel; an unknown status is
/// `Pending`, so callers keep polling rather than believe a final state.
pub(super) fn status(s: &str) -> OrderStatus {
    match s {
        "new" | "held" | "done_for_day" | "pending_cancel" | "pending_replace" | "stopped"
        | "suspended" => OrderStatus::Open,
        "partially_filled" => OrderStatus::PartiallyFilled,
        "filled" | "calculated" => OrderStatus::Filled,
        "canceled" | "expired" | "replaced" => OrderStatus::Cancelled,
        "rejected" => OrderStatus::Rejected,
        _ => OrderStatus::Pending,
    }
}

/// A position as Alpaca returns it (`qty` is negative for shorts, `side` says so too).
#[derive(Debug, Deserialize)]
pub(super) struct AlpacaPosition {
    pub symbol: String,
    #[serde(deserialize_with = "decimal")]
    pub qty: Decimal,
    #[serde(default)]
    pub side: String,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub avg_entry_price: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub unrealized_pl: Option<Decimal>,
}

impl From<AlpacaPosition> for Position {
    fn from(p: AlpacaPosition) -> Self {
        let qty = p.qty.abs();
        Position {
            symbol: p.symbol,
            quantity: if p.side == "short" { -qty } else { qty },
            avg_price: p.avg_entry_price,
            unrealized_pl: p.unrealized_pl,
        }
    }
}

/// An asset of `GET /v2/assets`.
#[derive(Debug, Deserialize)]
pub(super) struct Asset {
    pub symbol: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

impl Asset {
    pub(super) fn into_info(self) -> InstrumentInfo {
        let kind = match self.class.as_deref() {
            Some("us_equity") | None => "equity".to_string(),
            Some("us_option") => "option".to_string(),
            Some(other) => other.to_string(),
        };
        InstrumentInfo {
            symbol: self.symbol,
            name: self.name.filter(|n| !n.trim().is_empty()),
            kind: Some(kind),
        }
    }
}

/// Alpaca's error body: `{"code": 40010001, "message": "..."}` (401s carry only `message`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ErrorBody {
    #[serde(default)]
    pub code: Option<Value>,
    #[serde(default)]
    pub message: Option<String>,
}

impl ErrorBody {
    /// The code as text (`""` when absent).
    pub(super) fn code(&self) -> String {
        match &self.code {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn statuses_map_to_normalised_ones() {
        assert_eq!(status("accepted"), OrderStatus::Pending);
        assert_eq!(status("new"), OrderStatus::Open);
        assert_eq!(status("partially_filled"), OrderStatus::PartiallyFilled);
        assert_eq!(status("filled"), OrderStatus::Filled);
        assert_eq!(status("expired"), OrderStatus::Cancelled);
        assert_eq!(status("rejected"), OrderStatus::Rejected);
        assert_eq!(status("something_new"), OrderStatus::Pending);
    }

    #[test]
    fn decimals_are_plain() {
        assert_eq!(decimal_string(dec!(1.0)), "1");
        assert_eq!(decimal_string(dec!(0.5)), "0.5");
        assert_eq!(decimal_string(dec!(0.000_000_1)), "0.0000001");
        assert_eq!(decimal_string(dec!(189.12)), "189.12");
    }

    #[test]
    fn money_may_be_a_string_or_a_number() {
        let a: Result<Account, _> = serde_json::from_str(
            r#"{"account_number":"PA1","cash":"10.5","equity":11,"buying_power":"0","multiplier":"4"}"#,
        );
        let a = a.map_err(|e| e.to_string());
        assert_eq!(
            a.as_ref().map(|a| (a.cash, a.equity)),
            Ok((dec!(10.5), dec!(11.0)))
        );
        assert_eq!(a.map(|a| a.account_type()), Ok("margin".to_string()));
    }
}
