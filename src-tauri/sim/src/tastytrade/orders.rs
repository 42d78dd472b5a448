//! Orders on the wire: the `POST /accounts/{acct}/orders` body (one Equity leg; `Limit` or
//! `Market`), and the Order entity as Tastytrade renders it (kebab-case, decimals as
//! strings, integer ids, `legs[].fills[]`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::wire::{dec, ApiError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    BuyToOpen,
    BuyToClose,
    SellToOpen,
    SellToClose,
}

impl Action {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Buy to Open" => Self::BuyToOpen,
            "Buy to Close" => Self::BuyToClose,
            "Sell to Open" => Self::SellToOpen,
            "Sell to Close" => Self::SellToClose,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::BuyToOpen => "Buy to Open",
            Self::BuyToClose => "Buy to Close",
            Self::SellToOpen => "Sell to Open",
            Self::SellToClose => "Sell to Close",
        }
    }

    pub(crate) fn is_buy(self) -> bool {
        matches!(self, Self::BuyToOpen | Self::BuyToClose)
    }

    pub(crate) fn is_opening(self) -> bool {
        matches!(self, Self::BuyToOpen | Self::SellToOpen)
    }
}

/// A validated order request.
#[derive(Debug, Clone)]
pub(crate) struct NewOrder {
    pub symbol: String,
    pub quantity: f64,
    pub action: Action,
    pub order_type: &'static str,
    pub time_in_force: String,
    pub price: Option<f64>,
    pub external_id: Option<String>,
}

/// A decimal sent as a string or a number.
fn decimal(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

impl NewOrder {
    pub(crate) fn parse(body: &Value) -> Result<Self, ApiError> {
        let text = |k: &str| body.get(k).and_then(Value::as_str);
        let order_type = match text("order-type") {
            Some("Limit") => "Limit",
            Some("Market") => "Market",
            Some(other) => {
                let msg = format!("order type {other} is not supported by brokerdesk-sim");
                return Err(ApiError::invalid("invalid_order_type", msg));
            }
            None => {
                return Err(ApiError::invalid(
                    "order_type_required",
                    "order-type is required",
                ))
            }
        };
        let time_in_force = text("time-in-force").unwrap_or_default().to_string();
        if !["Day", "GTC", "GTD", "Ext", "GTC Ext", "IOC"].contains(&time_in_force.as_str()) {
            return Err(ApiError::invalid(
                "invalid_time_in_force",
                "time-in-force is missing or invalid",
            ));
        }
        let legs = body.get("legs").and_then(Value::as_array);
        let [leg] = legs.map(Vec::as_slice).unwrap_or_default() else {
            let msg = "brokerdesk-sim takes exactly one leg";
            return Err(ApiError::invalid("invalid_legs", msg));
        };
        if leg.get("instrument-type").and_then(Value::as_str) != Some("Equity") {
            let msg = "brokerdesk-sim only trades Equity legs";
            return Err(ApiError::invalid("invalid_instrument_type", msg));
        }
        let symbol = leg
            .get("symbol")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::invalid("symbol_required", "legs[0].symbol is required"))?;
        let quantity = decimal(leg.get("quantity"))
            .filter(|q| q.is_finite() && *q > 0.0)
            .ok_or_else(|| ApiError::invalid("invalid_quantity", "quantity must be positive"))?;
        let action = leg
            .get("action")
            .and_then(Value::as_str)
            .and_then(Action::parse)
            .ok_or_else(|| ApiError::invalid("invalid_action", "action is missing or invalid"))?;
        let price = match order_type {
            "Limit" => Some(
                decimal(body.get("price"))
                    .filter(|p| p.is_finite() && *p > 0.0)
                    .ok_or_else(|| ApiError::invalid("price_required", "price is required"))?,
            ),
            _ => None,
        };
        if price.is_some() {
            let want = if action.is_buy() { "Debit" } else { "Credit" };
            if text("price-effect") != Some(want) {
                let msg = format!("price-effect must be {want} for {}", action.as_str());
                return Err(ApiError::invalid("invalid_price_effect", msg));
            }
        }
        Ok(Self {
            symbol: symbol.to_string(),
            quantity,
            action,
            order_type,
            time_in_force,
            price,
            external_id: text("external-identifier").map(str::to_string),
        })
    }
}

#[derive(Debug, Clone)]
struct Fill {
    id: String,
    quantity: f64,
    price: f64,
    at: DateTime<Utc>,
}

/// An order as the simulator keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    /// `None` for a dry run.
    pub id: Option<u64>,
    account: String,
    pub symbol: String,
    pub action: Action,
    pub quantity: f64,
    order_type: &'static str,
    time_in_force: String,
    pub price: Option<f64>,
    pub status: &'static str,
    pub external_id: Option<String>,
    fills: Vec<Fill>,
    received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The order this one replaced (`replaces-order-id`).
    pub replaces: Option<u64>,
    /// The order that replaced this one (`replacing-order-id`).
    pub replaced_by: Option<u64>,
}

impl Order {
    pub(crate) fn new(id: Option<u64>, account: &str, new: NewOrder) -> Self {
        let now = Utc::now();
        Self {
            id,
            account: account.to_string(),
            symbol: new.symbol,
            action: new.action,
            quantity: new.quantity,
            order_type: new.order_type,
            time_in_force: new.time_in_force,
            price: new.price,
            status: "Received",
            external_id: new.external_id,
            fills: Vec::new(),
            received_at: now,
            updated_at: now,
            replaces: None,
            replaced_by: None,
        }
    }

    /// Working: the order can still fill or be cancelled.
    pub(crate) fn is_working(&self) -> bool {
        matches!(
            self.status,
            "Received" | "Routed" | "In Flight" | "Live" | "Cancel Requested" | "Contingent"
        )
    }

    pub(crate) fn fill(&mut self, price: f64) {
        self.fills.push(Fill {
            id: uuid::Uuid::new_v4().simple().to_string(),
            quantity: self.quantity,
            price,
            at: Utc::now(),
        });
        self.status = "Filled";
        self.touch();
    }

    pub(crate) fn touch(&mut self) {
        self.updated_at = Utc::now();
    }

    pub(crate) fn to_json(&self) -> Value {
        let filled: f64 = self.fills.iter().map(|f| f.quantity).sum();
        let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        let fills: Vec<Value> = self
            .fills
            .iter()
            .map(|f| {
                json!({
                    "ext-group-fill-id": f.id,
                    "ext-exec-id": f.id,
                    "fill-id": f.id,
                    "quantity": dec(f.quantity),
                    "fill-price": dec(f.price),
                    "filled-at": time(&f.at),
                    "destination-venue": "SIM",
                })
            })
            .collect();
        let terminal = !self.is_working();
        let mut o = json!({
            "account-number": self.account,
            "time-in-force": self.time_in_force,
            "order-type": self.order_type,
            "size": dec(self.quantity),
            "underlying-symbol": self.symbol,
            "underlying-instrument-type": "Equity",
            "status": self.status,
            "cancellable": !terminal,
            "editable": !terminal,
            "edited": false,
            "received-at": time(&self.received_at),
            "updated-at": self.updated_at.timestamp_millis(),
            "legs": [{
                "instrument-type": "Equity",
                "symbol": self.symbol,
                "quantity": dec(self.quantity),
                "remaining-quantity": dec(if terminal { 0.0 } else { self.quantity - filled }),
                "action": self.action.as_str(),
                "fills": fills,
            }],
        });
        if let Some(id) = self.id {
            o["id"] = json!(id);
        }
        if let Some(p) = self.price {
            o["price"] = json!(dec(p));
            o["price-effect"] = json!(if self.action.is_buy() {
                "Debit"
            } else {
                "Credit"
            });
        }
        if let Some(x) = &self.external_id {
            o["external-identifier"] = json!(x);
        }
        if let Some(r) = self.replaces {
            o["replaces-order-id"] = json!(r.to_string());
        }
        if let Some(r) = self.replaced_by {
            o["replacing-order-id"] = json!(r.to_string());
        }
        if self.status == "Filled" {
            o["terminal-at"] = json!(time(&self.updated_at));
        }
        o
    }
}
