//! The REST handlers behind the bearer gate: accounts, balances, orders (place, dry run,
//! get, live, history, cancel), positions and the symbol search, each answering in the
//! `data` envelope.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::book::Book;
use super::orders::NewOrder;
use super::wire::{self, cents, dec, ApiError};
use super::{lock, SimState};
use crate::faults;

/// Runs `f` on the book when `acct` is one of the customer's accounts.
fn with_account(s: &SimState, acct: &str, f: impl FnOnce(&mut Book) -> Response) -> Response {
    let mut book = lock(&s.inner.book);
    if !book.accounts.contains_key(acct) {
        return ApiError::not_found("Account").into_response();
    }
    f(&mut book)
}

pub(crate) async fn accounts(State(s): State<SimState>) -> Response {
    let book = lock(&s.inner.book);
    let items = book.accounts.values().map(|a| a.to_json()).collect();
    wire::items("/customers/me/accounts", items)
}

pub(crate) async fn balances(
    State(s): State<SimState>,
    Path((acct, currency)): Path<(String, String)>,
) -> Response {
    if currency != "USD" {
        return ApiError::not_found("Balance").into_response();
    }
    with_account(&s, &acct, |b| {
        let body = b.accounts.get(&acct).map(|a| a.balances_json(b.prices()));
        let ctx = format!("/accounts/{acct}/balances/{currency}");
        wire::data(&ctx, body.unwrap_or_default())
    })
}

pub(crate) async fn positions(State(s): State<SimState>, Path(acct): Path<String>) -> Response {
    with_account(&s, &acct, |b| {
        let items = b
            .accounts
            .get(&acct)
            .map(|a| a.positions_json(b.prices()))
            .unwrap_or_default();
        wire::items(&format!("/accounts/{acct}/positions"), items)
    })
}

pub(crate) async fn place(
    State(s): State<SimState>,
    Path(acct): Path<String>,
    body: Bytes,
) -> Response {
    let client_id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["external-identifier"].as_str().map(str::to_string));
    let resp = submit(&s, &acct, &body, false);
    let booked = resp.status().is_success();
    faults::note_order(resp, client_id.as_deref(), booked)
}

pub(crate) async fn dry_run(
    State(s): State<SimState>,
    Path(acct): Path<String>,
    body: Bytes,
) -> Response {
    submit(&s, &acct, &body, true)
}

/// A placement's answer: `data{order, buying-power-effect, fee-calculation, warnings}`. A
/// dry run that fails preflight answers 200 with `errors` (the SDK's `PlacedOrderResponse`
/// has that field; the real behaviour is UNCONFIRMED); a real one answers 422.
fn submit(s: &SimState, acct: &str, body: &[u8], dry_run: bool) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return ApiError::invalid("invalid_json", "The request body is not valid JSON")
            .into_response();
    };
    let new = match NewOrder::parse(&body) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    let ctx = if dry_run {
        format!("/accounts/{acct}/orders/dry-run")
    } else {
        format!("/accounts/{acct}/orders")
    };
    with_account(s, acct, |b| match b.place(acct, new, dry_run) {
        Ok((order, bp)) => {
            let cost = order.price.unwrap_or_else(|| b.price(&order.symbol)) * order.quantity;
            let effect = if order.action.is_buy() {
                "Debit"
            } else {
                "Credit"
            };
            let data = json!({
                "order": order.to_json(),
                "buying-power-effect": {
                    "change-in-buying-power": dec(cents(cost)),
                    "change-in-buying-power-effect": effect,
                    "current-buying-power": dec(cents(bp)),
                    "new-buying-power": dec(cents((bp - cost).max(0.0))),
                    "is-spread": false,
                    "effect": effect,
                },
                "fee-calculation": {
                    "regulatory-fees": "0.0",
                    "clearing-fees": "0.0",
                    "commission": "0.0",
                    "total-fees": "0.0",
                    "total-fees-effect": "None",
                },
                "warnings": [],
            });
            wire::data(&ctx, data)
        }
        Err(e) if dry_run && e.code == "preflight_check_failure" => {
            let errors = e.body()["error"]["errors"].clone();
            wire::data(
                &ctx,
                json!({ "order": Value::Null, "errors": errors, "warnings": [] }),
            )
        }
        Err(e) => e.into_response(),
    })
}

/// Tastytrade's order ids are integers; anything else matches no order.
fn order_id(id: &str) -> Option<u64> {
    id.parse().ok()
}

pub(crate) async fn get_order(
    State(s): State<SimState>,
    Path((acct, id)): Path<(String, String)>,
) -> Response {
    let Some(id) = order_id(&id) else {
        return ApiError::not_found("Order").into_response();
    };
    with_account(&s, &acct, |b| {
        let found = b
            .accounts
            .get(&acct)
            .and_then(|a| a.orders.iter().find(|o| o.id == Some(id)));
        match found {
            Some(o) => wire::data(&format!("/accounts/{acct}/orders/{id}"), o.to_json()),
            None => ApiError::not_found("Order").into_response(),
        }
    })
}

/// `GET …/orders/live`: working orders and those that ended in the last 24 hours.
pub(crate) async fn live(State(s): State<SimState>, Path(acct): Path<String>) -> Response {
    let since = chrono::Utc::now() - chrono::Duration::hours(24);
    with_account(&s, &acct, |b| {
        let items = b
            .accounts
            .get(&acct)
            .map(|a| {
                a.orders
                    .iter()
                    .filter(|o| o.is_working() || o.updated_at >= since)
                    .map(|o| o.to_json())
                    .collect()
            })
            .unwrap_or_default();
        wire::items(&format!("/accounts/{acct}/orders/live"), items)
    })
}

/// `GET …/orders?per-page=&page-offset=&sort=Desc|Asc`: the history, paginated.
pub(crate) async fn history(
    State(s): State<SimState>,
    Path(acct): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let per_page = q
        .get("per-page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 250);
    let page = q
        .get("page-offset")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(0);
    let ascending = q.get("sort").is_some_and(|s| s == "Asc");
    with_account(&s, &acct, |b| {
        let mut all: Vec<Value> = b
            .accounts
            .get(&acct)
            .map(|a| a.orders.iter().map(|o| o.to_json()).collect())
            .unwrap_or_default();
        if !ascending {
            all.reverse();
        }
        let total = all.len();
        let page_items: Vec<Value> = all
            .into_iter()
            .skip(page * per_page)
            .take(per_page)
            .collect();
        let body = json!({
            "data": { "items": page_items },
            "context": format!("/accounts/{acct}/orders"),
            "pagination": {
                "per-page": per_page,
                "page-offset": page,
                "item-offset": page * per_page,
                "total-items": total,
                "total-pages": total.div_ceil(per_page),
                "current-item-count": page_items.len(),
                "previous-link": Value::Null,
                "next-link": Value::Null,
                "paging-link-template": Value::Null,
            },
        });
        wire::reply(StatusCode::OK, &body)
    })
}

/// `PUT …/orders/{id}`: replaces a working order with the whole order in the body; answers
/// `data` = the replacement (a new id). Faulted like a placement.
pub(crate) async fn replace(
    State(s): State<SimState>,
    Path((acct, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body);
    let client_id = parsed
        .as_ref()
        .ok()
        .and_then(|v| v["external-identifier"].as_str().map(str::to_string));
    let Ok(body) = parsed else {
        return ApiError::invalid("invalid_json", "The request body is not valid JSON")
            .into_response();
    };
    let Some(id) = order_id(&id) else {
        return ApiError::not_found("Order").into_response();
    };
    let new = match NewOrder::parse(&body) {
        Ok(n) => n,
        Err(e) => return faults::note_order(e.into_response(), client_id.as_deref(), false),
    };
    let resp = with_account(&s, &acct, |b| match b.replace(&acct, id, new) {
        Ok(o) => wire::data(&format!("/accounts/{acct}/orders/{id}"), o.to_json()),
        Err(e) => e.into_response(),
    });
    let booked = resp.status().is_success();
    faults::note_order(resp, client_id.as_deref(), booked)
}

pub(crate) async fn cancel(
    State(s): State<SimState>,
    Path((acct, id)): Path<(String, String)>,
) -> Response {
    let Some(id) = order_id(&id) else {
        return ApiError::not_found("Order").into_response();
    };
    with_account(&s, &acct, |b| match b.cancel(&acct, id) {
        Ok(o) => wire::data(&format!("/accounts/{acct}/orders/{id}"), o.to_json()),
        Err(e) => e.into_response(),
    })
}

/// What `/symbols/search` knows: (symbol, description).
const SYMBOLS: [(&str, &str); 24] = [
    ("AAPL", "Apple Inc. - Common Stock"),
    ("AMD", "Advanced Micro Devices, Inc. - Common Stock"),
    ("AMZN", "Amazon.com, Inc. - Common Stock"),
    ("BAC", "Bank of America Corporation Common Stock"),
    ("DIA", "SPDR Dow Jones Industrial Average ETF Trust"),
    ("GOOG", "Alphabet Inc. - Class C Capital Stock"),
    ("GOOGL", "Alphabet Inc. - Class A Common Stock"),
    ("IWM", "iShares Russell 2000 ETF"),
    ("JPM", "JP Morgan Chase & Co. Common Stock"),
    ("META", "Meta Platforms, Inc. - Class A Common Stock"),
    ("MSFT", "Microsoft Corporation - Common Stock"),
    ("NFLX", "Netflix, Inc. - Common Stock"),
    ("NVDA", "NVIDIA Corporation - Common Stock"),
    ("QQQ", "Invesco QQQ Trust, Series 1"),
    ("SPX", "S&P 500 Index"),
    ("SPY", "SPDR S&P 500 ETF Trust"),
    ("TLT", "iShares 20+ Year Treasury Bond ETF"),
    ("TSLA", "Tesla, Inc. - Common Stock"),
    ("V", "Visa Inc."),
    ("VIX", "CBOE Volatility Index"),
    ("XLE", "Energy Select Sector SPDR Fund"),
    ("XLF", "Financial Select Sector SPDR Fund"),
    ("/ES", "E-Mini S&P 500"),
    ("/NQ", "E-Mini Nasdaq 100"),
];

/// `GET /symbols/search/{prefix}`: symbols starting with the phrase, then descriptions
/// containing it (case-insensitive), at most 20, as `{symbol, description}` items.
pub(crate) async fn search(Path(prefix): Path<String>) -> Response {
    let q = prefix.trim().to_uppercase();
    let by_symbol = SYMBOLS.iter().filter(|(s, _)| s.starts_with(&q));
    let by_name = SYMBOLS
        .iter()
        .filter(|(s, d)| !s.starts_with(&q) && d.to_uppercase().contains(&q));
    let items = by_symbol
        .chain(by_name)
        .take(20)
        .map(|(symbol, description)| json!({"symbol": symbol, "description": description}))
        .collect();
    wire::items(&format!("/symbols/search/{prefix}"), items)
}
