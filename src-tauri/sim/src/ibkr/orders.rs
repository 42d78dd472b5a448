//! Orders on the wire: the `POST /iserver/account/{acct}/orders` body, an order as
//! `/iserver/account/order/status/{id}` and `/iserver/account/orders` render it, and the
//! confirmation-question and placement answers.

use serde_json::{json, Value};

/// Listing facts of one contract.
#[derive(Debug, Clone)]
pub(crate) struct Contract {
    pub conid: u64,
    pub symbol: &'static str,
    pub name: &'static str,
    pub exchange: &'static str,
    pub price: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Buy,
    Sell,
}

/// A validated order request.
#[derive(Debug, Clone)]
pub(crate) struct NewOrder {
    pub conid: u64,
    pub side: Side,
    pub quantity: f64,
    /// `Some` for `LMT`, `None` for `MKT`.
    pub limit: Option<f64>,
    pub tif: String,
    pub coid: String,
}

impl NewOrder {
    /// Parses one element of `{"orders":[…]}`; the refusal is IBKR's `{"error":…}` text.
    pub(crate) fn parse(o: &Value) -> Result<Self, String> {
        let conid = match o.get("conid") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .ok_or("conid is required")?;
        let side = match o.get("side").and_then(Value::as_str) {
            Some("BUY") => Side::Buy,
            Some("SELL") => Side::Sell,
            _ => return Err("side must be BUY or SELL".into()),
        };
        let quantity = o
            .get("quantity")
            .and_then(Value::as_f64)
            .filter(|q| q.is_finite() && *q > 0.0)
            .ok_or("quantity must be a positive number")?;
        let limit = match o.get("orderType").and_then(Value::as_str) {
            Some("MKT") => None,
            Some("LMT") => Some(
                o.get("price")
                    .and_then(Value::as_f64)
                    .filter(|p| p.is_finite() && *p > 0.0)
                    .ok_or("a LMT order needs a price")?,
            ),
            Some(other) => return Err(format!("order type {other} is not supported")),
            None => return Err("orderType is required".into()),
        };
        let tif = o
            .get("tif")
            .and_then(Value::as_str)
            .unwrap_or("DAY")
            .to_string();
        let coid = o
            .get("cOID")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        Ok(Self {
            conid,
            side,
            quantity,
            limit,
            tif,
            coid,
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: u64,
    pub account: String,
    pub new: NewOrder,
    pub contract: Contract,
    /// IBKR's status: `Submitted`, `Filled`, `Cancelled`.
    pub status: &'static str,
    pub filled: f64,
    pub avg_price: Option<f64>,
    pub updated_ms: i64,
}

impl Order {
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.status, "PreSubmitted" | "Submitted")
    }

    fn description(&self) -> String {
        let side = match self.new.side {
            Side::Buy => "Buy",
            Side::Sell => "Sell",
        };
        let kind = match self.new.limit {
            Some(p) => format!("Limit {p:.2}"),
            None => "Market".into(),
        };
        format!(
            "{side} {} {kind}, {}",
            num(self.new.quantity),
            self.tif_desc()
        )
    }

    fn tif_desc(&self) -> &str {
        match self.new.tif.as_str() {
            "DAY" => "Day",
            "GTC" => "GTC",
            other => other,
        }
    }

    /// The `GET /iserver/account/order/status/{id}` answer.
    pub(crate) fn status_json(&self) -> Value {
        let c = &self.contract;
        json!({
            "sub_type": null,
            "request_id": "209",
            "server_id": "0",
            "order_id": self.id,
            "conidex": c.conid.to_string(),
            "conid": c.conid,
            "symbol": c.symbol,
            "side": if self.new.side == Side::Buy { "B" } else { "S" },
            "contract_description_1": c.symbol,
            "listing_exchange": c.exchange,
            "company_name": c.name,
            "size": num(self.new.quantity - self.filled),
            "total_size": num(self.new.quantity),
            "currency": "USD",
            "account": self.account,
            "order_type": if self.new.limit.is_some() { "LIMIT" } else { "MARKET" },
            "cum_fill": num(self.filled),
            "order_status": self.status,
            "order_status_description": match self.status {
                "Filled" => "Order Filled",
                "Cancelled" => "Order Cancelled",
                _ => "Order Submitted",
            },
            "tif": self.new.tif,
            "sec_type": "STK",
            "order_description": self.description(),
            "order_description_with_contract": format!("{} {}", c.symbol, self.description()),
            "size_and_fills": format!("{}/{}", num(self.filled), num(self.new.quantity)),
            "average_price": self.avg_price.map(|p| format!("{p:.2}")),
            "limit_price": self.new.limit.map(|p| format!("{p:.2}")),
            "cannot_cancel_order": !self.is_open(),
            "order_not_editable": !self.is_open(),
        })
    }

    /// One element of `GET /iserver/account/orders`; `order_ref` is the cOID.
    pub(crate) fn list_json(&self) -> Value {
        let c = &self.contract;
        json!({
            "acct": self.account,
            "account": self.account,
            "conidex": c.conid.to_string(),
            "conid": c.conid,
            "orderId": self.id,
            "cashCcy": "USD",
            "sizeAndFills": format!("{}/{}", num(self.filled), num(self.new.quantity)),
            "orderDesc": self.description(),
            "description1": c.symbol,
            "ticker": c.symbol,
            "secType": "STK",
            "listingExchange": c.exchange,
            "remainingQuantity": self.new.quantity - self.filled,
            "filledQuantity": self.filled,
            "totalSize": self.new.quantity,
            "companyName": c.name,
            "status": self.status,
            "order_ccp_status": self.status,
            "avgPrice": self.avg_price.map(|p| format!("{p:.2}")),
            "origOrderType": if self.new.limit.is_some() { "LIMIT" } else { "MARKET" },
            "orderType": if self.new.limit.is_some() { "Limit" } else { "Market" },
            "order_ref": self.new.coid,
            "timeInForce": if self.new.tif == "DAY" { "CLOSE" } else { self.new.tif.as_str() },
            "lastExecutionTime_r": self.updated_ms,
            "side": if self.new.side == Side::Buy { "BUY" } else { "SELL" },
            "price": self.new.limit.map(|p| format!("{p:.2}")),
        })
    }
}

/// `[{"order_id","order_status","encrypt_message":"1"}]`, the answer once an order is placed.
pub(crate) fn placed_json(o: &Order) -> Value {
    json!([{
        "order_id": o.id.to_string(),
        "order_status": o.status,
        "encrypt_message": "1",
    }])
}

/// A confirmation question to answer with `POST /iserver/reply/{id}`.
pub(crate) fn question_json(reply_id: &str, message_id: &str, text: &str) -> Value {
    json!([{
        "id": reply_id,
        "message": [text],
        "isSuppressed": false,
        "messageIds": [message_id],
    }])
}

/// A quantity as IBKR prints it in strings (`"10.0"`).
pub(crate) fn num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.1}")
    } else {
        x.to_string()
    }
}
