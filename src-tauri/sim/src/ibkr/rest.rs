//! The account, portfolio and order endpoints. Login and bridge checks are router layers;
//! the "call `/iserver/accounts` first" rule is checked here, on the order endpoints.
//!
//! Status codes of IBKR's `{"error":…}` answers (UNCONFIRMED where IBKR documents none):
//! an order refused at submission (duplicate cOID, unknown contract) or a cancel of a closed
//! order → 200; a malformed body, another account, an unknown reply id → 400; an unknown
//! order id → 404; accounts not queried → 500 "Please query /accounts first".

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::{error, json_response, lock, SimState};
use crate::faults;
use crate::ibkr::orders::NewOrder;

fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

/// The refusal of an order endpoint called before `GET /iserver/accounts`.
fn accounts_first(s: &SimState) -> Option<Response> {
    if s.gateway(|g| g.accounts_queried) {
        return None;
    }
    Some(error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Please query /accounts first",
    ))
}

/// Checks the path's account; returns the refusal when it is not this gateway's.
fn own_account(s: &SimState, acct: &str) -> Option<Response> {
    let mine = lock(&s.inner.book).account.clone();
    (acct != mine).then(|| {
        error(
            StatusCode::BAD_REQUEST,
            format!("Account {acct} is not found"),
        )
    })
}

pub(crate) async fn iserver_accounts(State(s): State<SimState>) -> Response {
    s.gateway(|g| g.accounts_queried = true);
    let acct = lock(&s.inner.book).account.clone();
    ok(&json!({
        "accounts": [acct],
        "acctProps": {acct.clone(): {"hasChildAccounts": false, "supportsCashQty": true,
            "supportsFractions": false, "allowCustomerTime": false}},
        "aliases": {acct.clone(): acct},
        "allowFeatures": {"showGFIS": true, "allowFXConv": true, "allowTypeAhead": true},
        "groups": [],
        "profiles": [],
        "selectedAccount": acct,
        "isPaper": acct.starts_with('D'),
        "isFT": false,
    }))
}

pub(crate) async fn secdef_search(
    State(s): State<SimState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let symbol = q.get("symbol").map_or("", String::as_str);
    let by_name = q.get("name").is_some_and(|v| v == "true");
    match lock(&s.inner.book).search_json(symbol, by_name) {
        Some(list) => ok(&list),
        None => error(StatusCode::OK, "No symbol found"),
    }
}

pub(crate) async fn place_orders(
    State(s): State<SimState>,
    Path(acct): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(r) = accounts_first(&s).or_else(|| own_account(&s, &acct)) {
        return r;
    }
    let body = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let Some(first) = body
        .get("orders")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    else {
        return error(StatusCode::BAD_REQUEST, "Bad Request: orders is required");
    };
    let client_id = first.get("cOID").and_then(Value::as_str);
    let new = match NewOrder::parse(first) {
        Ok(n) => n,
        Err(m) => return faults::note_order(error(StatusCode::BAD_REQUEST, m), client_id, false),
    };
    let client_id = Some(new.coid.clone());
    let submitted = lock(&s.inner.book).submit(new);
    match submitted {
        Ok(v) => faults::note_order(ok(&v), client_id.as_deref(), is_placed(&v)),
        Err(m) => faults::note_order(error(StatusCode::OK, m), client_id.as_deref(), false),
    }
}

/// `POST /iserver/account/{acct}/order/{orderId}`: changes an open order (one order object
/// as the body, like an element of a placement's `orders`). Faulted like a placement; the
/// confirmation replies go through the same `reply`.
pub(crate) async fn modify_order(
    State(s): State<SimState>,
    Path((acct, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Some(r) = accounts_first(&s).or_else(|| own_account(&s, &acct)) {
        return r;
    }
    let Ok(n) = id.parse::<u64>() else {
        return error(StatusCode::NOT_FOUND, format!("OrderID {id} doesn't exist"));
    };
    let body = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    if !body.is_object() {
        return error(StatusCode::BAD_REQUEST, "Bad Request: an order is required");
    }
    let new = match NewOrder::parse(&body) {
        Ok(n) => n,
        Err(m) => return faults::note_order(error(StatusCode::BAD_REQUEST, m), None, false),
    };
    let (client_id, changed) = {
        let mut book = lock(&s.inner.book);
        let coid = book.order(n).map(|o| o.new.coid.clone());
        (coid, book.modify(n, new))
    };
    let client_id = client_id.as_deref();
    match changed {
        Ok(v) => faults::note_order(ok(&v), client_id, is_placed(&v)),
        Err((true, m)) => error(StatusCode::NOT_FOUND, m),
        Err((false, m)) => faults::note_order(error(StatusCode::OK, m), client_id, false),
    }
}

/// Whether an order answer says the order was placed (not a question, not an error).
fn is_placed(v: &Value) -> bool {
    v.as_array()
        .and_then(|a| a.first())
        .is_some_and(|o| o.get("order_id").is_some())
}

pub(crate) async fn reply(
    State(s): State<SimState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let Some(confirmed) = body.get("confirmed").and_then(Value::as_bool) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Bad Request: confirmed is required",
        );
    };
    let (client_id, answered) = {
        let mut book = lock(&s.inner.book);
        (book.pending_coid(&id), book.reply(&id, confirmed))
    };
    let client_id = client_id.as_deref();
    match answered {
        Some(Ok(v)) => faults::note_order(ok(&v), client_id, is_placed(&v)),
        Some(Err(m)) => faults::note_order(error(StatusCode::OK, m), client_id, false),
        None => error(
            StatusCode::BAD_REQUEST,
            format!("Reply ID {id} is not found"),
        ),
    }
}

pub(crate) async fn suppress(State(s): State<SimState>, body: Bytes) -> Response {
    let body = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let Some(ids) = body.get("messageIds").and_then(Value::as_array) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Bad Request: messageIds is required",
        );
    };
    let ids = ids.iter().filter_map(Value::as_str).map(str::to_string);
    lock(&s.inner.book).suppress(ids);
    ok(&json!({"status": "submitted"}))
}

pub(crate) async fn order_status(State(s): State<SimState>, Path(id): Path<String>) -> Response {
    if let Some(r) = accounts_first(&s) {
        return r;
    }
    let found = id
        .parse::<u64>()
        .ok()
        .and_then(|n| lock(&s.inner.book).order(n).map(|o| o.status_json()));
    match found {
        Some(v) => ok(&v),
        None => error(StatusCode::NOT_FOUND, format!("OrderID {id} is not found")),
    }
}

/// `?force=true` is accepted and changes nothing: the simulator has no cache to clear.
pub(crate) async fn live_orders(State(s): State<SimState>) -> Response {
    if let Some(r) = accounts_first(&s) {
        return r;
    }
    ok(&lock(&s.inner.book).orders_json())
}

pub(crate) async fn cancel_order(
    State(s): State<SimState>,
    Path((acct, id)): Path<(String, String)>,
) -> Response {
    if let Some(r) = accounts_first(&s).or_else(|| own_account(&s, &acct)) {
        return r;
    }
    let Ok(n) = id.parse::<u64>() else {
        return error(StatusCode::NOT_FOUND, format!("OrderID {id} is not found"));
    };
    let cancelled = lock(&s.inner.book).cancel(n);
    match cancelled {
        Ok(v) => ok(&v),
        Err(m) if m.ends_with("doesn't exist") => error(StatusCode::NOT_FOUND, m),
        Err(m) => error(StatusCode::OK, m),
    }
}

pub(crate) async fn portfolio_accounts(State(s): State<SimState>) -> Response {
    let acct = lock(&s.inner.book).account.clone();
    ok(&json!([{
        "id": acct,
        "accountId": acct,
        "accountVan": acct,
        "accountTitle": "Brokerdesk Sim",
        "displayName": acct,
        "accountAlias": null,
        "accountStatus": 1_644_814_800_000_i64,
        "currency": "USD",
        "type": if acct.starts_with('D') { "DEMO" } else { "INDIVIDUAL" },
        "tradingType": "PMRGN",
        "businessType": "IB_PROSERVE",
        "ibEntity": "IBLLC-US",
        "faclient": false,
        "clearingStatus": "O",
        "covestor": false,
        "noClientTrading": false,
        "trackVirtualFXPortfolio": true,
        "parent": {"mmc": [], "accountId": "", "isMParent": false, "isMChild": false,
            "isMultiplex": false},
        "desc": acct,
    }]))
}

pub(crate) async fn summary(State(s): State<SimState>, Path(acct): Path<String>) -> Response {
    if let Some(r) = own_account(&s, &acct) {
        return r;
    }
    ok(&lock(&s.inner.book).summary_json())
}

pub(crate) async fn positions(
    State(s): State<SimState>,
    Path((acct, page)): Path<(String, u32)>,
) -> Response {
    if let Some(r) = own_account(&s, &acct) {
        return r;
    }
    if page > 0 {
        return ok(&json!([]));
    }
    ok(&lock(&s.inner.book).positions_json())
}
