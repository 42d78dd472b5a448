//! The REST handlers. Bearer auth, rate-limit headers and XML are applied by the router's
//! layers; these speak the endpoints in JSON only.
//!
//! Tradier's answers for an account the token does not reach and for an unknown order id are
//! UNCONFIRMED; the simulator answers 400 `{"errors":…}` and 404 `{"errors":…}`.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde_json::{json, Value};

use super::book::{Account, Modify, NewOrder};
use super::wire::{errors, json_response, one_or_many};
use super::{lock, SimState};
use crate::faults;

fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

fn bad_request(message: String) -> Response {
    errors(StatusCode::BAD_REQUEST, vec![message], false)
}

/// Runs `f` on the account, or answers 400 when the token does not reach it.
fn with_account(s: &SimState, number: &str, f: impl FnOnce(&mut Account) -> Response) -> Response {
    let mut book = lock(&s.inner.book);
    match book.account(number) {
        Some(a) => f(a),
        None => bad_request(format!("Invalid account: {number}")),
    }
}

pub(crate) async fn profile(State(s): State<SimState>) -> Response {
    ok(&lock(&s.inner.book).profile_json())
}

pub(crate) async fn balances(State(s): State<SimState>, Path(number): Path<String>) -> Response {
    let mut book = lock(&s.inner.book);
    let book = &mut *book;
    match book.accounts.iter().find(|a| a.number == number) {
        Some(a) => ok(&a.balances_json(&book.market)),
        None => bad_request(format!("Invalid account: {number}")),
    }
}

pub(crate) async fn positions(State(s): State<SimState>, Path(number): Path<String>) -> Response {
    with_account(&s, &number, |a| ok(&a.positions_json()))
}

pub(crate) async fn list_orders(
    State(s): State<SimState>,
    Path(number): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let tags = q.get("includeTags").is_some_and(|v| v == "true");
    with_account(&s, &number, |a| ok(&a.orders_json(tags)))
}

fn order_id(id: &str) -> Option<u64> {
    id.parse().ok()
}

pub(crate) async fn get_order(
    State(s): State<SimState>,
    Path((number, id)): Path<(String, String)>,
) -> Response {
    with_account(&s, &number, |a| {
        match order_id(&id).and_then(|id| a.find(id)) {
            Some(o) => ok(&json!({"order": o.to_json(true)})),
            None => errors(StatusCode::NOT_FOUND, vec!["Order not found".into()], false),
        }
    })
}

pub(crate) async fn cancel_order(
    State(s): State<SimState>,
    Path((number, id)): Path<(String, String)>,
) -> Response {
    with_account(&s, &number, |a| {
        let Some(id) = order_id(&id) else {
            return errors(StatusCode::NOT_FOUND, vec!["Order not found".into()], false);
        };
        match a.cancel(id) {
            Ok(Some(())) => ok(&json!({"order": {"id": id, "status": "ok"}})),
            Ok(None) => errors(StatusCode::NOT_FOUND, vec!["Order not found".into()], false),
            // The single-string form of `error`.
            Err(msg) => errors(StatusCode::BAD_REQUEST, vec![msg], true),
        }
    })
}

/// `PUT …/orders/{id}`: changes an open order's type, duration, price or stop in place
/// (`quantity` is not among Tradier's fields and is ignored); faulted like a placement.
pub(crate) async fn modify_order(
    State(s): State<SimState>,
    Path((number, id)): Path<(String, String)>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return bad_request("Invalid request: expected application/x-www-form-urlencoded".into());
    };
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let change = match parse_modify(&fields) {
        Ok(c) => c,
        Err(msgs) => {
            return faults::note_order(errors(StatusCode::BAD_REQUEST, msgs, false), None, false)
        }
    };
    let mut book = lock(&s.inner.book);
    let book = &mut *book;
    let Some(account) = book.accounts.iter_mut().find(|a| a.number == number) else {
        return bad_request(format!("Invalid account: {number}"));
    };
    let Some(id) = order_id(&id) else {
        return errors(StatusCode::NOT_FOUND, vec!["Order not found".into()], false);
    };
    match account.modify(&book.market, id, change) {
        Ok(Some(())) => {
            let tag = account.find(id).and_then(|o| o.tag().map(str::to_string));
            let body = json!({"order": {"id": id, "status": "ok", "partner_id": "sim-partner"}});
            faults::note_order(ok(&body), tag.as_deref(), true)
        }
        Ok(None) => errors(StatusCode::NOT_FOUND, vec!["Order not found".into()], false),
        // One message, in the single-string form, as for a cancel.
        Err(msgs) => faults::note_order(errors(StatusCode::BAD_REQUEST, msgs, true), None, false),
    }
}

/// Validates the modify form: every field optional, each checked like a new order's.
fn parse_modify(f: &HashMap<String, String>) -> Result<Modify, Vec<String>> {
    let mut problems = Vec::new();
    let field = |name: &str| f.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut one_of = |name: &str, allowed: &[&str]| match field(name) {
        Some(v) if allowed.contains(&v) => Some(v.to_string()),
        Some(v) => {
            problems.push(format!("Invalid Parameter: {name} {v}"));
            None
        }
        None => None,
    };
    let kind = one_of("type", &["market", "limit", "stop", "stop_limit"]);
    let duration = one_of("duration", &["day", "gtc", "pre", "post"]);
    let mut number = |name: &str| match field(name).map(|v| v.parse::<f64>()) {
        None => None,
        Some(Ok(p)) if p > 0.0 => Some(p),
        Some(_) => {
            problems.push(format!(
                "Invalid Parameter: {name} must be a positive number"
            ));
            None
        }
    };
    let price = number("price");
    let stop = number("stop");
    if problems.is_empty() {
        Ok(Modify {
            kind,
            duration,
            price,
            stop,
        })
    } else {
        Err(problems)
    }
}

pub(crate) async fn place_order(
    State(s): State<SimState>,
    Path(number): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        // A JSON body, or none: Tradier reads only form fields.
        return bad_request("Invalid request: expected application/x-www-form-urlencoded".into());
    };
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let preview = fields.get("preview").is_some_and(|v| v == "true");
    let tag = fields.get("tag").map(String::as_str);
    let new = match parse(&fields) {
        Ok(n) => n,
        Err(msgs) => {
            return faults::note_order(errors(StatusCode::BAD_REQUEST, msgs, false), tag, false)
        }
    };
    let placed = lock(&s.inner.book).place(&number, new, preview);
    match placed {
        Ok(body) => faults::note_order(ok(&body), tag, !preview),
        Err(msgs) => faults::note_order(errors(StatusCode::BAD_REQUEST, msgs, false), tag, false),
    }
}

/// Validates the order form; returns every problem at once, as Tradier does.
fn parse(f: &HashMap<String, String>) -> Result<NewOrder, Vec<String>> {
    let mut problems = Vec::new();
    let field = |name: &str| f.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut one_of = |name: &str, allowed: &[&str]| match field(name) {
        Some(v) if allowed.contains(&v) => v.to_string(),
        Some(v) => {
            problems.push(format!("Invalid Parameter: {name} {v}"));
            String::new()
        }
        None => {
            problems.push(format!("Missing Parameter: {name}"));
            String::new()
        }
    };
    one_of("class", &["equity"]);
    let side = one_of("side", &["buy", "buy_to_cover", "sell", "sell_short"]);
    let kind = one_of("type", &["market", "limit", "stop", "stop_limit"]);
    let duration = one_of("duration", &["day", "gtc", "pre", "post"]);
    let symbol = field("symbol").map(str::to_uppercase);
    if symbol.is_none() {
        problems.push("Missing Parameter: symbol".into());
    }
    let number = |name: &str| field(name).and_then(|v| v.parse::<f64>().ok());
    let qty = number("quantity").filter(|q| *q > 0.0 && q.fract() == 0.0);
    if qty.is_none() {
        problems.push("Invalid Parameter: quantity must be a positive whole number".into());
    }
    let price = number("price").filter(|p| *p > 0.0);
    let stop = number("stop").filter(|p| *p > 0.0);
    if matches!(kind.as_str(), "limit" | "stop_limit") && price.is_none() {
        problems.push("Invalid Parameter: price is required for limit orders".into());
    }
    if matches!(kind.as_str(), "stop" | "stop_limit") && stop.is_none() {
        problems.push("Invalid Parameter: stop is required for stop orders".into());
    }
    let tag = field("tag").map(str::to_string);
    if let Some(t) = &tag {
        if t.len() > 255 || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            problems
                .push("Invalid Parameter: tag must be at most 255 letters, numbers or '-'".into());
        }
    }
    match (symbol, qty) {
        (Some(symbol), Some(qty)) if problems.is_empty() => Ok(NewOrder {
            symbol,
            side,
            qty,
            kind,
            duration,
            price,
            stop,
            tag,
        }),
        _ => Err(problems),
    }
}

/// `[{…}]` → `{"securities":{"security":…}}`: the element itself for one, `null` for none.
fn securities(found: Vec<&super::market::Security>) -> Response {
    let items: Vec<Value> = found
        .into_iter()
        .map(|s| {
            json!({"symbol": s.symbol, "exchange": s.exchange, "type": s.kind,
                "description": s.description})
        })
        .collect();
    if items.is_empty() {
        return ok(&json!({"securities": null}));
    }
    ok(&json!({"securities": {"security": one_or_many(items)}}))
}

/// `GET /v1/markets/lookup?q=…[&types=stock,etf,index]`: symbols starting with `q`.
pub(crate) async fn lookup(
    State(s): State<SimState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let types: Option<Vec<&str>> = q
        .get("types")
        .map(|t| t.split(',').map(str::trim).collect());
    let book = lock(&s.inner.book);
    let found = book
        .market
        .lookup(q.get("q").map_or("", String::as_str))
        .into_iter()
        .filter(|s| types.as_ref().is_none_or(|t| t.contains(&s.kind)))
        .collect();
    securities(found)
}

/// `GET /v1/markets/search?q=…[&indexes=true]`: company names containing `q`.
pub(crate) async fn search(
    State(s): State<SimState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let indexes = q.get("indexes").is_some_and(|v| v == "true");
    let book = lock(&s.inner.book);
    let found = book
        .market
        .search(q.get("q").map_or("", String::as_str), indexes);
    securities(found)
}
