//! Orders: creation (MARKET fills or is cancelled at once, LIMIT rests until the market
//! reaches it), lookup by id or `@clientId`, cancellation, replacement (`PUT …/orders/{spec}`:
//! the pending order is cancelled and a new one created in the same batch, which then fills
//! or rests like any new order), and the JSON OANDA sends for each.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::book::{Account, Ctx};
use super::execution::{cancel, cancel_with, fill, marketable};
use super::market::Market;
use super::wire;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Market,
    Limit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Filled,
    Cancelled,
}

/// `clientExtensions`; `id` is the idempotency key.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ClientExt {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// The body of `POST /v3/accounts/{id}/orders`.
#[derive(Debug, Deserialize)]
pub struct OrderRequest {
    pub order: OrderSpec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSpec {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub instrument: Option<String>,
    pub units: Option<Value>,
    pub price: Option<Value>,
    pub time_in_force: Option<String>,
    pub position_fill: Option<String>,
    pub client_extensions: Option<ClientExt>,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: u64,
    pub(super) kind: Kind,
    pub(super) instrument: String,
    pub(super) units: f64,
    pub(super) price: Option<(f64, String)>,
    pub(super) tif: String,
    pub(super) position_fill: String,
    pub(super) client: Option<ClientExt>,
    pub(super) state: State,
    pub(super) create_time: String,
    pub(super) filled: Option<(u64, String)>,
    pub(super) trade_opened: Option<u64>,
    pub(super) cancelled: Option<(u64, String)>,
    /// The order this one replaced.
    pub(super) replaces: Option<u64>,
    /// The order that replaced this one.
    pub(super) replaced_by: Option<u64>,
}

impl Order {
    pub fn is_pending(&self) -> bool {
        self.state == State::Pending
    }

    pub(super) fn client_id(&self) -> Option<&str> {
        self.client.as_ref().and_then(|c| c.id.as_deref())
    }

    /// The Order object (`MarketOrder` / `LimitOrder`).
    pub fn render(&self) -> Value {
        let mut o = json!({
            "id": self.id.to_string(),
            "createTime": self.create_time,
            "type": match self.kind { Kind::Market => "MARKET", Kind::Limit => "LIMIT" },
            "instrument": self.instrument,
            "units": wire::units(self.units),
            "timeInForce": self.tif,
            "positionFill": self.position_fill,
            "state": match self.state {
                State::Pending => "PENDING",
                State::Filled => "FILLED",
                State::Cancelled => "CANCELLED",
            },
        });
        if let Some((_, p)) = &self.price {
            o["price"] = json!(p);
            o["triggerCondition"] = json!("DEFAULT");
            o["partialFill"] = json!("DEFAULT_FILL");
        }
        if let Some(c) = &self.client {
            o["clientExtensions"] = json!(c);
        }
        if let Some((tx, time)) = &self.filled {
            o["fillingTransactionID"] = json!(tx.to_string());
            o["filledTime"] = json!(time);
        }
        if let Some(t) = self.trade_opened {
            o["tradeOpenedID"] = json!(t.to_string());
        }
        if let Some((tx, time)) = &self.cancelled {
            o["cancellingTransactionID"] = json!(tx.to_string());
            o["cancelledTime"] = json!(time);
        }
        if let Some(id) = self.replaces {
            o["replacesOrderID"] = json!(id.to_string());
        }
        if let Some(id) = self.replaced_by {
            o["replacedByOrderID"] = json!(id.to_string());
        }
        o
    }
}

/// An `orderSpecifier`: the order id, or `@` and the client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Specifier {
    Id(u64),
    Client(String),
}

impl Specifier {
    pub fn parse(s: &str) -> Option<Self> {
        match s.strip_prefix('@') {
            Some(c) if !c.is_empty() => Some(Self::Client(c.to_string())),
            Some(_) => None,
            None => s.parse().ok().map(Self::Id),
        }
    }
}

/// Finds an order by specifier.
pub fn find(acct: &Account, spec: &Specifier) -> Option<usize> {
    acct.orders.iter().position(|o| match spec {
        Specifier::Id(id) => o.id == *id,
        Specifier::Client(c) => o.client_id() == Some(c.as_str()),
    })
}

fn invalid(field: &str) -> (StatusCode, Value) {
    let msg = if field == "instruments" {
        wire::BAD_INSTRUMENTS.to_string()
    } else {
        format!("Invalid value specified for '{field}'")
    };
    (StatusCode::BAD_REQUEST, json!({ "errorMessage": msg }))
}

/// `POST /v3/accounts/{id}/orders`: returns the status and body to answer.
pub fn place(
    acct: &mut Account,
    market: &Market,
    spec: OrderSpec,
    ctx: &Ctx,
) -> (StatusCode, Value) {
    submit(acct, market, spec, ctx, None)
}

/// `PUT /v3/accounts/{id}/orders/{specifier}`: cancels the pending order and creates `spec`
/// in its place, in one batch. An order that is not pending (unknown, filled, cancelled) is
/// refused like a cancel, with a 404 and an `orderCancelRejectTransaction`; a replacement
/// refused like a new order (400, `orderRejectTransaction`) leaves the old order working.
pub fn replace(
    acct: &mut Account,
    market: &Market,
    target: &Specifier,
    spec: OrderSpec,
    ctx: &Ctx,
) -> (StatusCode, Value) {
    match find(acct, target).filter(|&i| acct.orders[i].is_pending()) {
        Some(old) => submit(acct, market, spec, ctx, Some(old)),
        None => cancel_reject(acct, target, ctx),
    }
}

/// Validates and books a new order, replacing the pending order at index `replaces`.
fn submit(
    acct: &mut Account,
    market: &Market,
    spec: OrderSpec,
    ctx: &Ctx,
    replaces: Option<usize>,
) -> (StatusCode, Value) {
    let kind = match spec.kind.as_deref() {
        Some("MARKET") => Kind::Market,
        Some("LIMIT") => Kind::Limit,
        _ => return invalid("order.type"),
    };
    let Some((name, inst)) = spec
        .instrument
        .as_deref()
        .and_then(|n| Some((n, market.get(n)?)))
    else {
        return invalid("instruments");
    };
    let Some(units) = spec.units.as_ref().and_then(wire::decimal) else {
        return invalid("order.units");
    };
    let price = spec.price.as_ref().and_then(wire::decimal);
    let tif = spec
        .time_in_force
        .unwrap_or_else(|| if kind == Kind::Market { "FOK" } else { "GTC" }.into());
    let position_fill = spec.position_fill.unwrap_or_else(|| "DEFAULT".into());
    let client = spec.client_extensions;
    let tx_type = if kind == Kind::Market {
        "MARKET_ORDER"
    } else {
        "LIMIT_ORDER"
    };

    let mut fields = json!({
        "instrument": name,
        "units": wire::units(units),
        "timeInForce": tif,
        "positionFill": position_fill,
        "reason": "CLIENT_ORDER",
    });
    if let Some(p) = price {
        fields["price"] = json!(wire::price(p, inst.precision));
    }
    if let Some(c) = &client {
        fields["clientExtensions"] = json!(c);
    }
    let replaced_id = replaces.map(|i| acct.orders[i].id);
    if let Some(old) = replaced_id {
        fields["replacesOrderID"] = json!(old.to_string());
        fields["reason"] = json!("REPLACEMENT");
    }
    let client_id = client.as_ref().and_then(|c| c.id.as_deref());
    let reject = if client_id.is_some_and(|c| acct.orders.iter().any(|o| o.client_id() == Some(c)))
    {
        Some((
            "CLIENT_ORDER_ID_ALREADY_EXISTS",
            "The client Order ID specified is already in use",
        ))
    } else if units == 0.0 {
        Some(("UNITS_INVALID", "The Order units specified are invalid"))
    } else if kind == Kind::Limit && price.is_none_or(|p| p <= 0.0) {
        Some(("PRICE_MISSING", "The Order price is missing"))
    } else if kind == Kind::Market && !matches!(tif.as_str(), "FOK" | "IOC") {
        Some((
            "TIME_IN_FORCE_INVALID",
            "The Order time in force is invalid",
        ))
    } else {
        None
    };
    let batch = acct.next_tx_id();
    if let Some((reason, message)) = reject {
        fields["rejectReason"] = json!(reason);
        let tx = acct.record(ctx, batch, &format!("{tx_type}_REJECT"), fields);
        return (
            StatusCode::BAD_REQUEST,
            json!({
                "orderRejectTransaction": tx,
                "relatedTransactionIDs": acct.related_since(batch),
                "lastTransactionID": acct.last_tx(),
                "errorCode": reason,
                "errorMessage": message,
            }),
        );
    }
    if kind == Kind::Limit {
        fields["triggerCondition"] = json!("DEFAULT");
        fields["partialFill"] = json!("DEFAULT");
    }
    // The replacement's create comes right after the cancel, in the same batch.
    let replaced = replaces.map(|i| {
        let new_id = acct.next_tx_id() + 1;
        let reason = "CLIENT_REQUEST_REPLACED";
        cancel_with(acct, i, reason, ctx, batch, Some(new_id))
    });
    let create = acct.record(ctx, batch, tx_type, fields);
    let id = acct.last_tx_id();
    if let Some(i) = replaces {
        acct.orders[i].replaced_by = Some(id);
    }
    acct.orders.push(Order {
        id,
        kind,
        instrument: name.to_string(),
        units,
        price: price.map(|p| (p, wire::price(p, inst.precision))),
        tif,
        position_fill,
        client,
        state: State::Pending,
        create_time: ctx.time.clone(),
        filled: None,
        trade_opened: None,
        cancelled: None,
        replaces: replaced_id,
        replaced_by: None,
    });
    let idx = acct.orders.len() - 1;
    let mut body = json!({ "orderCreateTransaction": create });
    // A replacement cancelled at once is the `replacingOrderCancelTransaction`: the
    // `orderCancelTransaction` is the replaced order's.
    let instant_cancel = match replaced {
        Some(tx) => {
            body["orderCancelTransaction"] = tx;
            "replacingOrderCancelTransaction"
        }
        None => "orderCancelTransaction",
    };
    if kind == Kind::Market && inst.halted {
        body[instant_cancel] = cancel(acct, idx, "MARKET_HALTED", ctx, batch);
    } else if kind == Kind::Market || marketable(&acct.orders[idx], inst) {
        if acct.lacks_margin(market, name, units) {
            body[instant_cancel] = cancel(acct, idx, "INSUFFICIENT_MARGIN", ctx, batch);
        } else {
            body["orderFillTransaction"] = fill(acct, inst, idx, ctx, batch);
        }
    }
    body["relatedTransactionIDs"] = json!(acct.related_since(batch));
    body["lastTransactionID"] = json!(acct.last_tx());
    (StatusCode::CREATED, body)
}

/// `PUT /v3/accounts/{id}/orders/{specifier}/cancel`.
pub fn cancel_request(acct: &mut Account, spec: &Specifier, ctx: &Ctx) -> (StatusCode, Value) {
    let batch = acct.next_tx_id();
    if let Some(idx) = find(acct, spec).filter(|&i| acct.orders[i].is_pending()) {
        let tx = cancel(acct, idx, "CLIENT_REQUEST", ctx, batch);
        let body = json!({
            "orderCancelTransaction": tx,
            "relatedTransactionIDs": acct.related_since(batch),
            "lastTransactionID": acct.last_tx(),
        });
        return (StatusCode::OK, body);
    }
    cancel_reject(acct, spec, ctx)
}

/// The 404 for an order that is not pending: an `ORDER_CANCEL_REJECT` transaction.
fn cancel_reject(acct: &mut Account, spec: &Specifier, ctx: &Ctx) -> (StatusCode, Value) {
    let batch = acct.next_tx_id();
    let mut fields = json!({ "rejectReason": "ORDER_DOESNT_EXIST" });
    match spec {
        Specifier::Id(id) => fields["orderID"] = json!(id.to_string()),
        Specifier::Client(c) => fields["clientOrderID"] = json!(c),
    }
    let tx = acct.record(ctx, batch, "ORDER_CANCEL_REJECT", fields);
    let body = json!({
        "orderCancelRejectTransaction": tx,
        "relatedTransactionIDs": acct.related_since(batch),
        "lastTransactionID": acct.last_tx(),
        "errorCode": "ORDER_DOESNT_EXIST",
        "errorMessage": wire::NO_SUCH_ORDER,
    });
    (StatusCode::NOT_FOUND, body)
}
