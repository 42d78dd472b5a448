//! Orders on the wire: the `POST /v2/orders` body (quantities and prices as strings or
//! numbers, as Alpaca accepts both), the Order entity as Alpaca renders it, error bodies
//! ([`Reject`]), and order ids in paths (UUIDs with or without hyphens: the `apca` crate
//! sends them without).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::book::num;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Buy,
    Sell,
}

impl Side {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// A validated order request.
#[derive(Debug, Clone)]
pub(crate) struct NewOrder {
    pub symbol: String,
    pub qty: Option<f64>,
    pub notional: Option<f64>,
    pub side: Side,
    pub kind: String,
    pub tif: String,
    pub limit_price: Option<f64>,
    pub client_order_id: String,
    pub extended_hours: bool,
}

impl NewOrder {
    /// Parses and validates a body; the refusals are Alpaca's 422s.
    pub(crate) fn parse(body: &Value) -> Result<Self, Reject> {
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        let symbol = text("symbol").filter(|s| !s.is_empty());
        let symbol = symbol.ok_or_else(|| Reject::unprocessable("symbol is required"))?;
        let qty = decimal(body, "qty")?;
        let notional = decimal(body, "notional")?;
        if qty.is_some() && notional.is_some() {
            return Err(Reject::unprocessable(
                "only one of qty or notional may be specified",
            ));
        }
        if qty.or(notional).is_some_and(|q| q <= 0.0) {
            return Err(Reject::unprocessable("qty must be > 0"));
        }
        let side = match text("side").as_deref() {
            Some("buy") => Side::Buy,
            Some("sell") => Side::Sell,
            _ => return Err(Reject::unprocessable("invalid order side")),
        };
        let kind = text("type")
            .or_else(|| text("order_type"))
            .unwrap_or_default();
        match kind.as_str() {
            "market" | "limit" => {}
            "stop" | "stop_limit" | "trailing_stop" => {
                return Err(Reject::unprocessable(format!(
                    "order type {kind} is not supported by brokerdesk-sim"
                )))
            }
            _ => return Err(Reject::unprocessable("invalid order type")),
        }
        let tif = text("time_in_force").unwrap_or_default();
        if !matches!(tif.as_str(), "day" | "gtc" | "opg" | "cls" | "ioc" | "fok") {
            return Err(Reject::unprocessable("invalid time_in_force"));
        }
        let limit_price = match kind.as_str() {
            "limit" => Some(
                decimal(body, "limit_price")?
                    .filter(|p| *p > 0.0)
                    .ok_or_else(|| Reject::unprocessable("limit_price is required"))?,
            ),
            _ => None,
        };
        let client_order_id = text("client_order_id")
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let extended_hours = body
            .get("extended_hours")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(Self {
            symbol,
            qty,
            notional,
            side,
            kind,
            tif,
            limit_price,
            client_order_id,
            extended_hours,
        })
    }
}

/// A validated `PATCH /v2/orders/{id}` body: every field optional, the order's own value
/// where absent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Replacement {
    pub qty: Option<f64>,
    pub limit_price: Option<f64>,
    pub stop_price: Option<f64>,
    pub tif: Option<String>,
    pub client_order_id: Option<String>,
}

impl Replacement {
    /// Parses and validates a body; the refusals are Alpaca's 422s.
    pub(crate) fn parse(body: &Value) -> Result<Self, Reject> {
        if !body.is_object() {
            return Err(Reject::new(400, 40010000, "request body format is invalid"));
        }
        let qty = decimal(body, "qty")?;
        if qty.is_some_and(|q| q <= 0.0) {
            return Err(Reject::unprocessable("qty must be > 0"));
        }
        let limit_price = decimal(body, "limit_price")?;
        if limit_price.is_some_and(|p| p <= 0.0) {
            return Err(Reject::unprocessable("limit_price must be > 0"));
        }
        let stop_price = decimal(body, "stop_price")?;
        let tif = body
            .get("time_in_force")
            .and_then(Value::as_str)
            .map(str::to_string);
        if tif
            .as_deref()
            .is_some_and(|t| !matches!(t, "day" | "gtc" | "opg" | "cls" | "ioc" | "fok"))
        {
            return Err(Reject::unprocessable("invalid time_in_force"));
        }
        let client_order_id = body
            .get("client_order_id")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        Ok(Self {
            qty,
            limit_price,
            stop_price,
            tif,
            client_order_id,
        })
    }
}

/// A refusal: the HTTP status and Alpaca's error body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reject {
    pub status: u16,
    pub body: Value,
}

impl Reject {
    /// 403 for a buy that costs more than the buying power (placed or replaced).
    pub(crate) fn insufficient_buying_power(bp: f64, cost: f64) -> Self {
        Self {
            status: 403,
            body: json!({
                "buying_power": super::book::num(bp),
                "code": 40310000,
                "cost_basis": super::book::num(cost),
                "message": "insufficient buying power",
            }),
        }
    }

    pub(crate) fn new(status: u16, code: u64, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "code": code, "message": message.into() }),
        }
    }

    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(422, 40010001, message)
    }

    pub(crate) fn not_found() -> Self {
        Self::new(404, 40410000, "order not found")
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: String,
    pub client_order_id: String,
    pub symbol: String,
    pub asset_id: String,
    pub qty: f64,
    pub side: Side,
    pub kind: String,
    pub tif: String,
    pub limit_price: Option<f64>,
    pub extended_hours: bool,
    pub status: &'static str,
    pub filled_qty: f64,
    pub filled_avg_price: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub filled_at: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
    /// The order this one replaced (`replaces`).
    pub replaces: Option<String>,
    /// The order that replaced this one, and when (`replaced_by`, `replaced_at`).
    pub replaced: Option<(String, DateTime<Utc>)>,
}

impl Order {
    pub(crate) fn is_open(&self) -> bool {
        matches!(
            self.status,
            "new" | "accepted" | "pending_new" | "partially_filled" | "held"
        )
    }

    pub(crate) fn remaining(&self) -> f64 {
        self.qty - self.filled_qty
    }

    pub(crate) fn to_json(&self) -> Value {
        let side = self.side.as_str();
        json!({
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": time(Some(self.created_at)),
            "updated_at": time(Some(self.updated_at)),
            "submitted_at": time(Some(self.created_at)),
            "filled_at": time(self.filled_at),
            "expired_at": null,
            "canceled_at": time(self.canceled_at),
            "failed_at": null,
            "replaced_at": time(self.replaced.as_ref().map(|r| r.1)),
            "replaced_by": self.replaced.as_ref().map(|r| r.0.clone()),
            "replaces": self.replaces,
            "asset_id": self.asset_id,
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": null,
            "qty": num(self.qty),
            "filled_qty": num(self.filled_qty),
            "filled_avg_price": self.filled_avg_price.map(num),
            "order_class": "",
            "order_type": self.kind,
            "type": self.kind,
            "side": side,
            "position_intent": if side == "buy" { "buy_to_open" } else { "sell_to_close" },
            "time_in_force": self.tif,
            "limit_price": self.limit_price.map(num),
            "stop_price": null,
            "status": self.status,
            "extended_hours": self.extended_hours,
            "legs": null,
            "trail_percent": null,
            "trail_price": null,
            "hwm": null,
            "subtag": null,
            "source": null,
            "expires_at": null,
        })
    }
}

/// Reads a decimal sent as a JSON string (`"1.5"`, Alpaca's form) or number.
fn decimal(body: &Value, key: &str) -> Result<Option<f64>, Reject> {
    let parsed = match body.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(Value::Number(n)) => n.as_f64(),
        Some(_) => None,
    };
    match parsed {
        Some(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(Reject::unprocessable(format!("invalid {key}"))),
    }
}

/// Returns the hyphenated lowercase form of a UUID given with or without hyphens.
pub(crate) fn normalize_uuid(id: &str) -> Option<String> {
    let hex: String = match id.len() {
        32 => id.to_string(),
        36 => {
            let b = id.as_bytes();
            if [8, 13, 18, 23].iter().any(|&i| b.get(i) != Some(&b'-')) {
                return None;
            }
            id.replace('-', "")
        }
        _ => return None,
    };
    if hex.len() != 32 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// RFC 3339 with microseconds, as the trading API sends (`2021-03-16T18:38:01.942282Z`).
pub(crate) fn time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        Value::String(t.to_rfc3339_opts(SecondsFormat::Micros, true))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_accepted_with_and_without_hyphens() {
        let hyphenated = "904837e3-3b76-47ec-b432-046db621571b";
        assert_eq!(normalize_uuid(hyphenated).as_deref(), Some(hyphenated));
        let simple = "904837E33B7647ECB432046DB621571B";
        assert_eq!(normalize_uuid(simple).as_deref(), Some(hyphenated));
        assert_eq!(normalize_uuid("not-a-uuid"), None);
        assert_eq!(normalize_uuid("904837e3-3b76-47ec-b432_046db621571b"), None);
        assert_eq!(normalize_uuid("zz4837e33b7647ecb432046db621571b"), None);
    }

    #[test]
    fn quantities_may_be_strings_or_numbers() {
        let body = serde_json::json!({"symbol":"AAPL","qty":"1.5","side":"buy","type":"limit",
            "time_in_force":"day","limit_price":190,"client_order_id":"c1"});
        let o = NewOrder::parse(&body)
            .map_err(|r| r.body)
            .unwrap_or_else(|b| panic!("{b}"));
        assert_eq!(
            (o.qty, o.limit_price, o.side),
            (Some(1.5), Some(190.0), Side::Buy)
        );
        let bad = serde_json::json!({"symbol":"AAPL","qty":"abc","side":"buy","type":"market",
            "time_in_force":"day"});
        assert_eq!(
            NewOrder::parse(&bad).map(|_| ()).map_err(|r| r.status),
            Err(422)
        );
    }
}
