//! The Client Portal's JSON, as much of it as the connector reads, and its mapping to the
//! normalised types. IBKR mixes numbers and strings for the same field across endpoints
//! (`"order_id":"123"` vs `"orderId":123`, `"total_size":"10.0"` vs `"totalSize":10.0`), so
//! the readers here accept either and treat `null` as absent.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::brokers::wire::{as_number, grouped_decimal, id, id_text, opt_id};
use crate::brokers::{BrokerError, OrderSide, OrderState, OrderStatus, OrderTerms, Position};
use crate::money::Decimal;

/// `POST /tickle`.
#[derive(Debug, Deserialize)]
pub(super) struct Tickle {
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub iserver: Option<Iserver>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Iserver {
    #[serde(rename = "authStatus")]
    pub auth_status: Option<AuthStatus>,
}

/// `authStatus` of `/tickle`, and `POST /iserver/auth/status` itself.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct AuthStatus {
    #[serde(default)]
    pub authenticated: bool,
    #[serde(default)]
    pub competing: bool,
    #[serde(default)]
    pub connected: bool,
    #[serde(default)]
    pub message: Option<String>,
}

/// `GET /iserver/accounts`.
#[derive(Debug, Deserialize)]
pub(super) struct IserverAccounts {
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default, rename = "selectedAccount")]
    pub selected: Option<String>,
}

/// One element of `GET /portfolio/accounts`.
#[derive(Debug, Deserialize)]
pub(super) struct PortfolioAccount {
    pub id: String,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub desc: Option<String>,
    #[serde(default, rename = "accountTitle")]
    pub title: Option<String>,
}

/// One value of `GET /portfolio/{acct}/summary` (`{amount,currency,isNull,timestamp,…}`).
#[derive(Debug, Deserialize)]
pub(super) struct SummaryValue {
    #[serde(default, deserialize_with = "grouped_decimal")]
    pub amount: Option<Decimal>,
    #[serde(default, rename = "isNull")]
    pub is_null: bool,
}

pub(super) type Summary = HashMap<String, Value>;

/// Reads a money amount of the summary; `None` when missing or flagged `isNull`.
pub(super) fn summary_amount(s: &Summary, key: &str) -> Option<Decimal> {
    let v: SummaryValue = serde_json::from_value(s.get(key)?.clone()).ok()?;
    if v.is_null {
        return None;
    }
    v.amount
}

/// One element of the answer to placing an order or to a reply.
#[derive(Debug)]
pub(super) enum PlaceAnswer {
    Placed { order_id: String, status: String },
    Question { reply_id: String, text: String },
}

impl PlaceAnswer {
    /// Reads the first element of `[…]` (an `{"error"}` body was turned into an error
    /// before this).
    pub(super) fn parse(v: &Value) -> Result<Self, BrokerError> {
        let first = v.as_array().and_then(|a| a.first()).unwrap_or(v);
        if let Some(id) = first.get("order_id").and_then(id_text) {
            let status = first
                .get("order_status")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Ok(Self::Placed {
                order_id: id,
                status: status.to_string(),
            });
        }
        if let Some(id) = first.get("id").and_then(id_text) {
            let text = match first.get("message") {
                Some(Value::Array(m)) => m
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            return Ok(Self::Question { reply_id: id, text });
        }
        let msg = "the order answer has neither an order_id nor a question";
        Err(BrokerError::Protocol(msg.into()))
    }
}

/// `GET /iserver/account/order/status/{id}`.
#[derive(Debug, Deserialize)]
pub(super) struct OrderStatusAnswer {
    #[serde(deserialize_with = "id")]
    pub order_id: String,
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default)]
    pub side: String,
    #[serde(default, deserialize_with = "grouped_decimal")]
    pub total_size: Option<Decimal>,
    #[serde(default, deserialize_with = "grouped_decimal")]
    pub cum_fill: Option<Decimal>,
    #[serde(default, deserialize_with = "grouped_decimal")]
    pub average_price: Option<Decimal>,
    #[serde(default)]
    pub order_status: String,
    #[serde(default)]
    pub order_ref: Option<String>,
    #[serde(default)]
    pub order_type: Option<String>,
    #[serde(default, deserialize_with = "grouped_decimal")]
    pub limit_price: Option<Decimal>,
}

impl OrderStatusAnswer {
    pub(super) fn into_state(self) -> Result<OrderState, BrokerError> {
        let filled = self.cum_fill.unwrap_or(Decimal::ZERO);
        Ok(OrderState {
            broker_order_id: self.order_id,
            client_order_id: self.order_ref.filter(|r| !r.is_empty()),
            symbol: self.symbol.unwrap_or_default(),
            side: side(&self.side)?,
            quantity: self.total_size.unwrap_or(Decimal::ZERO),
            filled_quantity: filled,
            avg_fill_price: self.average_price.filter(|_| filled > Decimal::ZERO),
            status: status(&self.order_status, filled),
            broker_status: self.order_status,
            terms: self
                .order_type
                .as_deref()
                .and_then(|k| OrderTerms::from_word(k, self.limit_price, None)),
        })
    }
}

/// `GET /iserver/account/orders`.
#[derive(Debug, Deserialize)]
pub(super) struct LiveOrders {
    #[serde(default)]
    pub orders: Vec<LiveOrder>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LiveOrder {
    #[serde(rename = "orderId", deserialize_with = "id")]
    pub order_id: String,
    #[serde(default)]
    pub acct: Option<String>,
    #[serde(default)]
    pub ticker: Option<String>,
    #[serde(default)]
    pub description1: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub order_ref: Option<String>,
    #[serde(default)]
    pub side: String,
    #[serde(default, rename = "totalSize", deserialize_with = "grouped_decimal")]
    pub total_size: Option<Decimal>,
    #[serde(
        default,
        rename = "filledQuantity",
        deserialize_with = "grouped_decimal"
    )]
    pub filled: Option<Decimal>,
    #[serde(default, rename = "avgPrice", deserialize_with = "grouped_decimal")]
    pub avg_price: Option<Decimal>,
    #[serde(default, rename = "orderType")]
    pub order_type: Option<String>,
    #[serde(default, deserialize_with = "grouped_decimal")]
    pub price: Option<Decimal>,
}

impl LiveOrder {
    pub(super) fn into_state(self) -> Result<OrderState, BrokerError> {
        let filled = self.filled.unwrap_or(Decimal::ZERO);
        Ok(OrderState {
            broker_order_id: self.order_id,
            client_order_id: self.order_ref.filter(|r| !r.is_empty()),
            symbol: self.ticker.or(self.description1).unwrap_or_default(),
            side: side(&self.side)?,
            quantity: self.total_size.unwrap_or(Decimal::ZERO),
            filled_quantity: filled,
            avg_fill_price: self.avg_price.filter(|_| filled > Decimal::ZERO),
            status: status(&self.status, filled),
            broker_status: self.status,
            terms: self
                .order_type
                .as_deref()
                .and_then(|k| OrderTerms::from_word(k, self.price, None)),
        })
    }
}

/// One element of `GET /portfolio/{acct}/positions/{page}`.
#[derive(Debug, Deserialize)]
pub(super) struct IbkrPosition {
    #[serde(default, rename = "contractDesc")]
    pub contract_desc: Option<String>,
    #[serde(default)]
    pub ticker: Option<String>,
    #[serde(default, deserialize_with = "grouped_decimal")]
    pub position: Option<Decimal>,
    #[serde(default, rename = "avgPrice", deserialize_with = "grouped_decimal")]
    pub avg_price: Option<Decimal>,
    #[serde(
        default,
        rename = "unrealizedPnl",
        deserialize_with = "grouped_decimal"
    )]
    pub unrealized_pnl: Option<Decimal>,
}

impl From<IbkrPosition> for Position {
    fn from(p: IbkrPosition) -> Self {
        Position {
            symbol: p.ticker.or(p.contract_desc).unwrap_or_default(),
            quantity: p.position.unwrap_or(Decimal::ZERO),
            avg_price: p.avg_price,
            unrealized_pl: p.unrealized_pnl,
        }
    }
}

/// `BUY`/`B`/`SELL`/`S` (the order list and the status endpoint differ).
fn side(s: &str) -> Result<OrderSide, BrokerError> {
    match s.to_ascii_uppercase().as_str() {
        "BUY" | "B" | "BOT" => Ok(OrderSide::Buy),
        "SELL" | "S" | "SLD" => Ok(OrderSide::Sell),
        other => Err(BrokerError::Protocol(format!(
            "unknown order side {other:?}"
        ))),
    }
}

/// Maps IBKR's order status (TWS names) to the normalised one.
pub(super) fn status(s: &str, filled: Decimal) -> OrderStatus {
    match s {
        "Filled" => OrderStatus::Filled,
        "Cancelled" | "ApiCancelled" => OrderStatus::Cancelled,
        "Inactive" | "Rejected" => OrderStatus::Rejected,
        "PreSubmitted" | "Submitted" | "PendingCancel" if filled > Decimal::ZERO => {
            OrderStatus::PartiallyFilled
        }
        "PreSubmitted" | "Submitted" | "PendingCancel" => OrderStatus::Open,
        _ => OrderStatus::Pending,
    }
}

/// One order of `POST /iserver/account/{acct}/orders`, and the body of a change
/// (`POST /iserver/account/{acct}/order/{orderId}`). Quantities and prices are JSON
/// numbers, written with their exact digits.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NewOrder<'a> {
    pub acct_id: &'a str,
    pub conid: u64,
    pub order_type: &'static str,
    pub side: &'static str,
    #[serde(serialize_with = "as_number")]
    pub quantity: Decimal,
    /// The limit price (`LMT`) or the trigger price (`STP`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_number")]
    pub price: Option<Decimal>,
    pub tif: &'static str,
    /// The client order id; `None` when changing an order, which keeps its own.
    #[serde(rename = "cOID", skip_serializing_if = "Option::is_none")]
    pub c_oid: Option<&'a str>,
    #[serde(rename = "outsideRTH")]
    pub outside_rth: bool,
}

fn opt_number<S: serde::Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => as_number(d, s),
        None => s.serialize_none(),
    }
}

/// The body of a placement: `{"orders":[…]}`.
#[derive(Debug, Serialize)]
pub(super) struct NewOrders<'a> {
    pub orders: [NewOrder<'a>; 1],
}

/// Whether an order in this IBKR status can still fill.
pub(super) fn is_open(s: &str) -> bool {
    matches!(
        s,
        "PendingSubmit" | "ApiPending" | "PreSubmitted" | "Submitted" | "PendingCancel"
    )
}

/// Refuses order ids that are not IBKR's (digits), so an id can never change the path.
pub(super) fn order_id(id: &str) -> Result<&str, BrokerError> {
    let id = id.trim();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(BrokerError::NotFound("malformed IBKR order id".into()));
    }
    Ok(id)
}

/// One element of `GET /iserver/secdef/search` (`conid` is sent as a string or a number;
/// `sections` lists the security types the symbol trades as, the first being the contract
/// itself).
#[derive(Debug, Deserialize)]
pub(super) struct SecdefEntry {
    #[serde(default, deserialize_with = "opt_id")]
    pub conid: Option<String>,
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default, rename = "companyName")]
    pub company_name: Option<String>,
    #[serde(default)]
    pub sections: Vec<SecdefSection>,
}

#[derive(Debug, Deserialize)]
pub(super) struct SecdefSection {
    #[serde(default, rename = "secType")]
    pub sec_type: Option<String>,
}

impl SecdefEntry {
    /// The entries of a search answer; anything that is not an array reads as none, and an
    /// entry of another shape is skipped.
    pub(super) fn list(v: Value) -> Vec<Self> {
        match v {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|e| serde_json::from_value(e).ok())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The conid, when it is one (digits).
    pub(super) fn conid(&self) -> Option<u64> {
        self.conid.as_deref()?.trim().parse().ok()
    }

    /// The normalised kind of the contract's first security type.
    pub(super) fn kind(&self) -> Option<String> {
        let t = self.sections.first()?.sec_type.as_deref()?;
        Some(sec_type_kind(t))
    }
}

/// Maps IBKR's `secType` to the kinds [`crate::stream::InstrumentInfo`] uses.
pub(super) fn sec_type_kind(sec_type: &str) -> String {
    match sec_type.trim().to_ascii_uppercase().as_str() {
        "STK" => "equity".into(),
        "OPT" => "option".into(),
        "FUT" => "future".into(),
        "FOP" => "future_option".into(),
        "CASH" => "currency".into(),
        "CFD" => "cfd".into(),
        "IND" => "index".into(),
        "BOND" => "bond".into(),
        "WAR" => "warrant".into(),
        "FUND" => "fund".into(),
        "CRYPTO" => "crypto".into(),
        other => other.to_ascii_lowercase(),
    }
}
