//! Tastytrade's JSON, as much of it as the connector reads, and its mapping to the normalised
//! types. Keys are kebab-case; money and quantities usually come as strings (`"100000.0"`),
//! sometimes as numbers; order ids are integers. The readers accept both and treat `null`
//! as absent, so a format drift does not break parsing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(super) use crate::brokers::wire::decimal_string;
use crate::brokers::wire::{as_number, decimal, opt_decimal};
use crate::brokers::{BrokerError, OrderSide, OrderState, OrderStatus, OrderTerms, Position};
use crate::money::Decimal;
use crate::secret::Secret;

/// The success envelope `{"data": …, "context": …}`.
#[derive(Debug, Deserialize)]
pub(super) struct Envelope<T> {
    pub data: T,
}

/// `data.items`.
#[derive(Debug, Deserialize)]
pub(super) struct Items<T> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

/// `POST /oauth/token`. The token is a [`Secret`]: it never prints.
#[derive(Debug, Deserialize)]
pub(super) struct TokenResponse {
    pub access_token: Secret,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// `GET /customers/me/accounts` item.
#[derive(Debug, Deserialize)]
pub(super) struct AccountItem {
    pub account: Account,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct Account {
    pub account_number: String,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub account_type_name: Option<String>,
    #[serde(default)]
    pub margin_or_cash: Option<String>,
    #[serde(default)]
    pub is_closed: bool,
}

impl Account {
    /// e.g. `Individual margin`, `Roth IRA cash (closed)`.
    pub(super) fn kind(&self) -> String {
        let mut s = match (&self.account_type_name, &self.margin_or_cash) {
            (Some(t), Some(m)) => format!("{t} {}", m.to_lowercase()),
            (Some(t), None) => t.clone(),
            (None, Some(m)) => m.to_lowercase(),
            (None, None) => "account".into(),
        };
        if self.is_closed {
            s.push_str(" (closed)");
        }
        s
    }
}

/// `GET /accounts/{acct}/balances/USD`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct Balances {
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(deserialize_with = "decimal")]
    pub cash_balance: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub net_liquidating_value: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub equity_buying_power: Decimal,
}

/// The `POST /accounts/{acct}/orders` body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct NewOrder<'a> {
    pub time_in_force: &'static str,
    pub order_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_effect: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_trigger: Option<String>,
    pub legs: [NewLeg<'a>; 1],
    pub external_identifier: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct NewLeg<'a> {
    pub instrument_type: &'static str,
    pub symbol: &'a str,
    /// A JSON number, its digits exactly as validated.
    #[serde(serialize_with = "as_number")]
    pub quantity: Decimal,
    pub action: &'static str,
}

/// `data` of a placement: `{order, buying-power-effect, fee-calculation, warnings}`.
#[derive(Debug, Deserialize)]
pub(super) struct Placed {
    pub order: Order,
}

/// An order as Tastytrade returns it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct Order {
    pub id: Value,
    pub status: String,
    #[serde(default)]
    pub external_identifier: Option<String>,
    #[serde(default)]
    pub underlying_symbol: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub size: Option<Decimal>,
    #[serde(default)]
    pub legs: Vec<Leg>,
    #[serde(default)]
    pub order_type: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub stop_trigger: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct Leg {
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub remaining_quantity: Option<Decimal>,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub fills: Vec<Fill>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct Fill {
    #[serde(deserialize_with = "decimal")]
    pub quantity: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub fill_price: Decimal,
}

impl Order {
    /// The id as text (Tastytrade sends integers).
    pub(super) fn id(&self) -> String {
        match &self.id {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        }
    }

    /// Whether the order can still fill or be cancelled.
    pub(super) fn is_working(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Received"
                | "Routed"
                | "In Flight"
                | "Live"
                | "Cancel Requested"
                | "Replace Requested"
                | "Contingent"
        )
    }

    /// The normalised order; only single-leg orders are understood.
    pub(super) fn into_state(self) -> Result<OrderState, BrokerError> {
        let id = self.id();
        let [leg] = self.legs.as_slice() else {
            return Err(BrokerError::Protocol(format!(
                "order {id} has {} legs; only single-leg orders are supported",
                self.legs.len()
            )));
        };
        let side = if leg.action.starts_with("Buy") {
            OrderSide::Buy
        } else if leg.action.starts_with("Sell") {
            OrderSide::Sell
        } else {
            return Err(BrokerError::Protocol(format!(
                "order {id} has an unknown action {:?}",
                leg.action
            )));
        };
        let quantity = leg.quantity.or(self.size).unwrap_or(Decimal::ZERO);
        // Checked sums: a broker's figures never panic the desk, an absurd one just drops.
        let from_fills = leg
            .fills
            .iter()
            .try_fold(Decimal::ZERO, |acc, f| acc.checked_add(f.quantity));
        let filled = match (leg.fills.is_empty(), leg.remaining_quantity) {
            (false, _) => from_fills.unwrap_or(Decimal::ZERO),
            (true, _) if self.status == "Filled" => quantity,
            // Without fills, a live order's remaining quantity still tells what filled.
            (true, Some(left)) if self.is_working() => quantity
                .checked_sub(left)
                .unwrap_or(Decimal::ZERO)
                .max(Decimal::ZERO),
            (true, _) => Decimal::ZERO,
        };
        let avg_fill_price = from_fills.filter(|q| *q > Decimal::ZERO).and_then(|q| {
            leg.fills
                .iter()
                .try_fold(Decimal::ZERO, |acc, f| {
                    acc.checked_add(f.quantity.checked_mul(f.fill_price)?)
                })?
                .checked_div(q)
        });
        let mut normalised = status(&self.status);
        if normalised == OrderStatus::Open && filled > Decimal::ZERO {
            normalised = OrderStatus::PartiallyFilled;
        }
        Ok(OrderState {
            broker_order_id: id,
            client_order_id: self.external_identifier.filter(|x| !x.is_empty()),
            symbol: leg
                .symbol
                .clone()
                .or(self.underlying_symbol)
                .unwrap_or_default(),
            side,
            quantity,
            filled_quantity: filled,
            avg_fill_price,
            status: normalised,
            broker_status: self.status,
            terms: self
                .order_type
                .as_deref()
                .and_then(|k| OrderTerms::from_word(k, self.price, self.stop_trigger)),
        })
    }
}

/// Maps Tastytrade's order statuses. Not yet working (`Received`, `Routed`, `In Flight`,
/// `Contingent`) is `Pending`; `Live` and the pending edits are `Open`; `Expired`,
/// `Removed` and `Partially Removed` end the order like a cancel; an unknown status is
/// `Pending`, so callers keep polling rather than believe a final state.
pub(super) fn status(s: &str) -> OrderStatus {
    match s {
        "Live" | "Cancel Requested" | "Replace Requested" => OrderStatus::Open,
        "Filled" => OrderStatus::Filled,
        "Cancelled" | "Expired" | "Removed" | "Partially Removed" => OrderStatus::Cancelled,
        "Rejected" => OrderStatus::Rejected,
        _ => OrderStatus::Pending,
    }
}

/// `GET /accounts/{acct}/positions` item.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct TtPosition {
    pub symbol: String,
    #[serde(deserialize_with = "decimal")]
    pub quantity: Decimal,
    #[serde(default)]
    pub quantity_direction: String,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub average_open_price: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub mark: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub mark_price: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub close_price: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub multiplier: Option<Decimal>,
}

impl From<TtPosition> for Position {
    fn from(p: TtPosition) -> Self {
        let quantity = if p.quantity_direction == "Short" {
            -p.quantity.abs()
        } else {
            p.quantity.abs()
        };
        let mark = p.mark.or(p.mark_price).or(p.close_price);
        let unrealized_pl = match (mark, p.average_open_price) {
            (Some(m), Some(avg)) => m
                .checked_sub(avg)
                .and_then(|d| d.checked_mul(quantity))
                .and_then(|d| d.checked_mul(p.multiplier.unwrap_or(Decimal::ONE))),
            _ => None,
        };
        Position {
            symbol: p.symbol,
            quantity,
            avg_price: p.average_open_price,
            unrealized_pl,
        }
    }
}

/// `GET /api-quote-tokens`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct QuoteTokenWire {
    pub token: Secret,
    pub dxlink_url: String,
    #[serde(default)]
    pub level: Option<String>,
}

/// `GET /symbols/search/{prefix}` item.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct SymbolItem {
    pub symbol: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub instrument_type: Option<String>,
}

impl From<SymbolItem> for crate::stream::InstrumentInfo {
    fn from(s: SymbolItem) -> Self {
        let kind = s.instrument_type.map(|t| {
            match t.as_str() {
                "Equity" => "equity",
                "Equity Option" | "Future Option" => "option",
                "Future" => "future",
                "Cryptocurrency" => "crypto",
                "Index" => "index",
                other => return other.to_lowercase(),
            }
            .to_string()
        });
        Self {
            symbol: s.symbol,
            name: s.description.filter(|d| !d.trim().is_empty()),
            kind,
        }
    }
}

/// The API's error envelope, or the OAuth shape the token endpoint uses.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ErrorBody {
    #[serde(default)]
    pub error: Option<Value>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

impl ErrorBody {
    /// (code, message): the envelope's, with its inner errors' messages appended.
    pub(super) fn parts(&self) -> (String, Option<String>) {
        if let Some(e) = &self.error {
            if let Some(s) = e.as_str() {
                // RFC 6749's `{"error": "invalid_grant"}`.
                return (s.to_string(), self.error_description.clone());
            }
            let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            let code = text(e, "code").unwrap_or_default();
            let mut message = text(e, "message");
            let inner: Vec<String> = e
                .get("errors")
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(|x| text(x, "message")).collect())
                .unwrap_or_default();
            if !inner.is_empty() {
                let joined = inner.join("; ");
                message = Some(match message {
                    Some(m) => format!("{m}: {joined}"),
                    None => joined,
                });
            }
            return (code, message);
        }
        (
            self.error_code.clone().unwrap_or_default(),
            self.error_description.clone(),
        )
    }
}

/// Whether a 401's code says the access token expired or is no longer valid (the real codes
/// are UNCONFIRMED; these are the plausible ones and the simulator's `token_expired`).
pub(super) fn token_expired(code: &str) -> bool {
    matches!(
        code,
        "token_expired" | "token_invalid" | "invalid_token" | "expired_token"
    )
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn statuses_map_to_normalised_ones() {
        assert_eq!(status("Received"), OrderStatus::Pending);
        assert_eq!(status("In Flight"), OrderStatus::Pending);
        assert_eq!(status("Live"), OrderStatus::Open);
        assert_eq!(status("Filled"), OrderStatus::Filled);
        assert_eq!(status("Partially Removed"), OrderStatus::Cancelled);
        assert_eq!(status("Rejected"), OrderStatus::Rejected);
        assert_eq!(status("Something New"), OrderStatus::Pending);
    }

    #[test]
    fn error_bodies_of_both_shapes_are_read() {
        let api: ErrorBody = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/test_data/tastytrade/error_preflight.json"
        )))
        .unwrap_or_default();
        assert_eq!(
            api.parts(),
            (
                "preflight_check_failure".into(),
                Some("One or more preflight checks failed: Insufficient buying power".into())
            )
        );
        let oauth: ErrorBody = serde_json::from_str(
            r#"{"error_code":"invalid_grant","error_description":"Invalid JWT"}"#,
        )
        .unwrap_or_default();
        assert_eq!(
            oauth.parts(),
            ("invalid_grant".into(), Some("Invalid JWT".into()))
        );
    }

    #[test]
    fn a_live_order_with_fills_is_partially_filled() {
        let o: Result<Order, _> = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/test_data/tastytrade/order_live_partial_fill.json"
        )));
        let s = o
            .map_err(|e| e.to_string())
            .and_then(|o| o.into_state().map_err(|e| e.to_string()));
        let s = s.as_ref().map(|s| {
            (
                s.broker_order_id.as_str(),
                s.side,
                s.filled_quantity,
                s.avg_fill_price,
                s.status,
            )
        });
        assert_eq!(
            s,
            Ok((
                "7",
                OrderSide::Sell,
                dec!(4.0),
                Some(dec!(10.5)),
                OrderStatus::PartiallyFilled
            ))
        );
    }
}
