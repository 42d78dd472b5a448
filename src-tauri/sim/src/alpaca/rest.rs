//! The Trading API v2 handlers. Authentication and rate-limit headers are applied by the
//! router's layers; these only speak the endpoints.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::orders::{normalize_uuid, NewOrder, Reject, Replacement};
use super::{json_response, lock, SimState};
use crate::faults;

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        json_response(status, &self.body)
    }
}

fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

pub(crate) async fn account(State(s): State<SimState>) -> Response {
    let market = lock(&s.inner.market);
    let body = lock(&s.inner.book).account_json(&market);
    ok(&body)
}

pub(crate) async fn positions(State(s): State<SimState>) -> Response {
    let market = lock(&s.inner.market);
    let list = lock(&s.inner.book).positions_json(&market);
    ok(&Value::Array(list))
}

pub(crate) async fn place_order(State(s): State<SimState>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return Reject::new(400, 40010000, "request body format is invalid").into_response();
    };
    let client_id = body
        .get("client_order_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let new = match NewOrder::parse(&body) {
        Ok(n) => n,
        Err(r) => return faults::note_order(r.into_response(), client_id.as_deref(), false),
    };
    // Alpaca generates the id when the request has none.
    let client_id = Some(new.client_order_id.clone());
    let market = lock(&s.inner.market);
    let placed = lock(&s.inner.book).place(new, &market);
    drop(market);
    match placed {
        Ok(order) => faults::note_order(ok(&order), client_id.as_deref(), true),
        Err(r) => faults::note_order(r.into_response(), client_id.as_deref(), false),
    }
}

pub(crate) async fn get_order(State(s): State<SimState>, Path(id): Path<String>) -> Response {
    let Some(id) = normalize_uuid(&id) else {
        return Reject::unprocessable("order_id is missing").into_response();
    };
    match lock(&s.inner.book).find(&id) {
        Some(o) => ok(&o.to_json()),
        None => Reject::not_found().into_response(),
    }
}

pub(crate) async fn by_client_order_id(
    State(s): State<SimState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(cid) = q.get("client_order_id").filter(|c| !c.is_empty()) else {
        return Reject::unprocessable("client_order_id is missing").into_response();
    };
    match lock(&s.inner.book).find_by_client(cid) {
        Some(o) => ok(&o.to_json()),
        None => Reject::not_found().into_response(),
    }
}

pub(crate) async fn list_orders(
    State(s): State<SimState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let status = q.get("status").map_or("open", String::as_str);
    if !matches!(status, "open" | "closed" | "all") {
        return Reject::unprocessable("invalid status").into_response();
    }
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 50,
        Some(Ok(l)) if (1..=500).contains(&l) => l,
        Some(_) => return Reject::unprocessable("invalid limit").into_response(),
    };
    let ascending = q.get("direction").is_some_and(|d| d == "asc");
    ok(&Value::Array(
        lock(&s.inner.book).list(status, limit, ascending),
    ))
}

/// `PATCH /v2/orders/{order_id}`: replaces an open order (see `Book::replace`); faulted
/// like a placement, the replacement's client id noted.
pub(crate) async fn replace_order(
    State(s): State<SimState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return Reject::new(400, 40010000, "request body format is invalid").into_response();
    };
    let client_id = body
        .get("client_order_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let Some(id) = normalize_uuid(&id) else {
        return Reject::unprocessable("order_id is missing").into_response();
    };
    let change = match Replacement::parse(&body) {
        Ok(c) => c,
        Err(r) => return faults::note_order(r.into_response(), client_id.as_deref(), false),
    };
    let market = lock(&s.inner.market);
    let replaced = lock(&s.inner.book).replace(&id, change, &market);
    drop(market);
    match replaced {
        Ok(order) => {
            let client_id = order.get("client_order_id").and_then(Value::as_str);
            faults::note_order(ok(&order), client_id, true)
        }
        Err(r) => faults::note_order(r.into_response(), client_id.as_deref(), false),
    }
}

pub(crate) async fn cancel_order(State(s): State<SimState>, Path(id): Path<String>) -> Response {
    let Some(id) = normalize_uuid(&id) else {
        return Reject::unprocessable("order_id is missing").into_response();
    };
    let cancelled = lock(&s.inner.book).cancel(&id);
    match cancelled {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r.into_response(),
    }
}
