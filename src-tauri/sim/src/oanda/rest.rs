//! REST handlers: accounts, summary, orders, positions, transactions.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde_json::json;

use super::book::Ctx;
use super::orders::{self, OrderRequest, Specifier};
use super::{wire, RequestId, SimState};
use crate::faults;

type St = State<Arc<SimState>>;

fn ctx(rid: RequestId) -> Ctx {
    Ctx {
        request_id: Some(rid.0),
        time: wire::now(),
    }
}

fn bad_specifier() -> Response {
    wire::error(
        StatusCode::BAD_REQUEST,
        None,
        "Invalid value specified for 'orderSpecifier'",
    )
}

/// `GET /v3/accounts`.
pub async fn accounts(State(st): St) -> Response {
    let accounts: Vec<_> = st.with_book(|b| {
        b.accounts
            .keys()
            .map(|id| json!({ "id": id, "tags": [] }))
            .collect()
    });
    wire::reply(StatusCode::OK, json!({ "accounts": accounts }))
}

/// `GET /v3/accounts/{id}/summary`.
pub async fn summary(State(st): St, Path(id): Path<String>) -> Response {
    st.with_account(&id, |acct, market| {
        wire::reply(StatusCode::OK, acct.summary(market))
    })
}

/// `GET /v3/accounts/{id}/instruments[?instruments=A,B]`: the tradeable instruments.
pub async fn instruments(
    State(st): St,
    Path(id): Path<String>,
    Query(q): Query<InstrumentsQuery>,
) -> Response {
    let wanted = wire::instrument_list(q.instruments.as_deref());
    st.with_account(&id, |_acct, market| {
        let list: Vec<serde_json::Value> = market
            .instruments
            .iter()
            .filter(|(name, _)| wanted.is_empty() || wanted.contains(&name.as_str()))
            .map(|(name, inst)| {
                let pip = if inst.precision >= 5 { -4 } else { -2 };
                json!({
                    "name": name,
                    "type": "CURRENCY",
                    "displayName": name.replace('_', "/"),
                    "pipLocation": pip,
                    "displayPrecision": inst.precision,
                    "tradeUnitsPrecision": 0,
                    "minimumTradeSize": "1",
                    "marginRate": "0.0333",
                })
            })
            .collect();
        wire::reply(
            StatusCode::OK,
            json!({ "instruments": list, "lastTransactionID": "1" }),
        )
    })
}

/// The query of `GET …/instruments`.
#[derive(Debug, serde::Deserialize)]
pub struct InstrumentsQuery {
    instruments: Option<String>,
}

/// An order body (a create's or a replacement's) and the client id it carries; `None` when
/// it is no order (answer [`not_an_order`]).
fn order_request(body: &[u8]) -> Option<(OrderRequest, Option<String>)> {
    let req = serde_json::from_slice::<OrderRequest>(body).ok()?;
    let client_id = req
        .order
        .client_extensions
        .as_ref()
        .and_then(|c| c.id.clone());
    Some((req, client_id))
}

/// OANDA's 400 for a body that is no order.
fn not_an_order() -> Response {
    wire::error(
        StatusCode::BAD_REQUEST,
        None,
        "Invalid value specified for 'order'",
    )
}

/// `POST /v3/accounts/{id}/orders`.
pub async fn create(
    State(st): St,
    Path(id): Path<String>,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    let ctx = ctx(rid);
    st.with_account(&id, |acct, market| {
        let Some((req, client_id)) = order_request(&body) else {
            return not_an_order();
        };
        let (status, body) = orders::place(acct, market, req.order, &ctx);
        let order_id = body["orderCreateTransaction"]["id"]
            .as_str()
            .map(str::to_string);
        let mut resp = wire::reply(status, body);
        let booked = status == StatusCode::CREATED;
        if let Some(oid) = order_id.filter(|_| booked) {
            let location = format!("/v3/accounts/{}/orders/{oid}", acct.id);
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert("location", v);
            }
        }
        faults::note_order(resp, client_id.as_deref(), booked)
    })
}

/// `GET /v3/accounts/{id}/orders/{orderSpecifier}`.
pub async fn order(State(st): St, Path((id, spec)): Path<(String, String)>) -> Response {
    let Some(spec) = Specifier::parse(&spec) else {
        return bad_specifier();
    };
    st.with_account(&id, |acct, _| match orders::find(acct, &spec) {
        Some(i) => wire::reply(
            StatusCode::OK,
            json!({ "order": acct.orders[i].render(), "lastTransactionID": acct.last_tx() }),
        ),
        None => wire::error(
            StatusCode::NOT_FOUND,
            Some("ORDER_DOESNT_EXIST"),
            wire::NO_SUCH_ORDER,
        ),
    })
}

/// `PUT /v3/accounts/{id}/orders/{orderSpecifier}`: replaces a pending order (see
/// [`orders::replace`]); faulted like a placement, the replacement's client id noted.
pub async fn replace(
    State(st): St,
    Path((id, spec)): Path<(String, String)>,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    let Some(target) = Specifier::parse(&spec) else {
        return bad_specifier();
    };
    let ctx = ctx(rid);
    st.with_account(&id, |acct, market| {
        let Some((req, client_id)) = order_request(&body) else {
            return not_an_order();
        };
        let (status, body) = orders::replace(acct, market, &target, req.order, &ctx);
        let booked = status == StatusCode::CREATED;
        faults::note_order(wire::reply(status, body), client_id.as_deref(), booked)
    })
}

/// `PUT /v3/accounts/{id}/orders/{orderSpecifier}/cancel`.
pub async fn cancel(
    State(st): St,
    Path((id, spec)): Path<(String, String)>,
    Extension(rid): Extension<RequestId>,
) -> Response {
    let Some(spec) = Specifier::parse(&spec) else {
        return bad_specifier();
    };
    let ctx = ctx(rid);
    st.with_account(&id, |acct, _| {
        let (status, body) = orders::cancel_request(acct, &spec, &ctx);
        wire::reply(status, body)
    })
}

/// `GET /v3/accounts/{id}/pendingOrders` (and `GET …/orders`, whose default is PENDING):
/// newest first, as OANDA lists them.
pub async fn pending(State(st): St, Path(id): Path<String>) -> Response {
    st.with_account(&id, |acct, _| {
        let orders: Vec<_> = acct
            .orders
            .iter()
            .rev()
            .filter(|o| o.is_pending())
            .map(|o| o.render())
            .collect();
        wire::reply(
            StatusCode::OK,
            json!({ "orders": orders, "lastTransactionID": acct.last_tx() }),
        )
    })
}

/// `GET /v3/accounts/{id}/openPositions`.
pub async fn positions(State(st): St, Path(id): Path<String>) -> Response {
    st.with_account(&id, |acct, market| {
        wire::reply(StatusCode::OK, acct.open_positions(market))
    })
}

/// `GET /v3/accounts/{id}/transactions/{transactionID}`.
pub async fn transaction(State(st): St, Path((id, tx)): Path<(String, String)>) -> Response {
    st.with_account(&id, |acct, _| {
        match tx.parse().ok().and_then(|t| acct.transaction(t)) {
            Some(t) => wire::reply(
                StatusCode::OK,
                json!({ "transaction": t, "lastTransactionID": acct.last_tx() }),
            ),
            None => wire::error(
                StatusCode::NOT_FOUND,
                Some("NO_SUCH_TRANSACTION"),
                "The transaction ID specified does not exist",
            ),
        }
    })
}

/// Any other path.
pub async fn not_found() -> Response {
    wire::error(
        StatusCode::NOT_FOUND,
        None,
        "The requested resource was not found",
    )
}
