//! Test controls (`--test-controls` only): protocol simulators started in this process, their
//! fault switches, and what the app would have shown (notifications) or copied.
//!
//! - `POST /dev/sims` `{"broker": "oanda"}` → `{"id", "broker", "url"}` (a simulator on
//!   127.0.0.1 with that broker's demo credentials, see each simulator's `DEMO_HINT`);
//!   for OANDA, `"accounts": ["101-004-…", …]` chooses the accounts the demo token reaches
//!   (a token reaching one account, or three)
//! - `GET /dev/sims/{id}` → `{"url", "requests", "orderRequests", "submittedClientIds",
//!   "bookedClientIds", "orderFaults": {"cutAfterAccept", "errorAfterAccept",
//!   "errorBeforeAccept", "slowAccept"}}` (order submissions that reached the order handler,
//!   the client order id of each submission and of each order booked, in order: an id twice
//!   in `submittedClientIds` is an order sent twice)
//! - `POST /dev/sims/{id}/fault` `{"fault": "refuse_auth" | "rate_limit" | "server_error" |
//!   "garbage" | null, "retryAfterSecs"?, "status"?}`
//! - `POST /dev/sims/{id}/order_fault` `{"fault": "accept_then_cut" | "accept_then_500" |
//!   "slow_accept" | "refuse_500" | "random" | null, "ms"?, "seed"?, "weights"?}`: the order
//!   POST books the order and then the connection drops without an answer, or the answer is
//!   a 500, or it comes after `ms` (default 15000, past the core's 10 s timeout); or a 500
//!   and nothing booked; or, with `random`, each order request draws one of these (or none)
//!   from `seed` (default 1) with `weights` `[none, cut, 500 after, 500 before, slow]`
//!   (default all 1). Stays until set to null.
//! - `POST /dev/sims/{id}/delay` `{"ms"}`, `/down` `{"ms"}`, `/cut`, `/half_open` `{"on"}`,
//!   `/expire`, `/stop`
//! - `GET /dev/notifications` → every notification so far
//! - `POST /dev/notifications/refuse` `{"reason": "…" | null}` → the notification service
//!   refuses notifications with that reason (null: accepts them again)
//! - `POST /dev/clipboard` `{"text"}` → `{"holds": bool}` (whether the app copied exactly that),
//!   or `{"contains": [..]}` (whether what it copied contains each part)

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use brokerdesk_sim::{
    alpaca, ibkr, oanda, tastytrade, tradier, Fault, Faults, OrderFault, RandomOrderFaults,
    SimServer,
};
use serde::Deserialize;
use serde_json::json;

use crate::server::AppState;

/// The simulators this process runs, by id.
#[derive(Default)]
pub struct Sims {
    next: AtomicU32,
    running: Mutex<HashMap<String, SimServer>>,
}

impl Sims {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SimServer>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops every simulator.
    pub async fn stop_all(&self) {
        let all: Vec<SimServer> = self.lock().drain().map(|(_, s)| s).collect();
        for s in all {
            s.shutdown().await;
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sims", post(start))
        .route("/sims/{id}", get(show))
        .route("/sims/{id}/{action}", post(control))
        .route("/notifications", get(notifications))
        .route("/notifications/refuse", post(refuse_notifications))
        .route("/clipboard", post(clipboard))
}

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "message": message.into() })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct StartArgs {
    broker: String,
    #[serde(default)]
    port: u16,
    /// OANDA only: the accounts the demo token reaches (default: the two demo accounts).
    accounts: Option<Vec<String>>,
}

async fn start(State(state): State<AppState>, Json(args): Json<StartArgs>) -> Response {
    let faults = Faults::new();
    let router = match args.broker.as_str() {
        "oanda" => match &args.accounts {
            Some(ids) if !ids.is_empty() => {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                oanda::router(oanda::SimState::new(
                    faults.clone(),
                    oanda::DEMO_TOKEN,
                    &ids,
                ))
            }
            _ => oanda::router(oanda::SimState::demo(faults.clone())),
        },
        "alpaca" => alpaca::router(alpaca::SimState::demo(faults.clone())),
        "tradier" => tradier::router(tradier::SimState::demo(faults.clone())),
        "tastytrade" => tastytrade::router(tastytrade::SimState::demo(faults.clone())),
        "ibkr" => ibkr::router(ibkr::SimState::demo(faults.clone())),
        other => return bad(format!("no simulator for {other:?}")),
    };
    match SimServer::start(router, faults, args.port).await {
        Ok(server) => {
            let id = format!(
                "{}-{}",
                args.broker,
                state.sims.next.fetch_add(1, Ordering::SeqCst) + 1
            );
            let url = server.url();
            state.sims.lock().insert(id.clone(), server);
            Json(json!({ "id": id, "broker": args.broker, "url": url })).into_response()
        }
        Err(e) => bad(format!("cannot start the simulator: {e}")),
    }
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.sims.lock().get(&id) {
        Some(s) => {
            let f = s.faults();
            let stats = f.order_stats();
            Json(json!({
                "url": s.url(),
                "requests": f.requests(),
                "orderRequests": stats.requests,
                "submittedClientIds": f.submitted_client_ids(),
                "bookedClientIds": f.booked_client_ids(),
                "orderFaults": {
                    "cutAfterAccept": stats.cut_after_accept,
                    "errorAfterAccept": stats.error_after_accept,
                    "errorBeforeAccept": stats.error_before_accept,
                    "slowAccept": stats.slow_accept,
                },
            }))
            .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such simulator").into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ControlArgs {
    fault: Option<String>,
    retry_after_secs: Option<u64>,
    status: Option<u16>,
    ms: Option<u64>,
    on: Option<bool>,
    seed: Option<u64>,
    weights: Option<[u32; 5]>,
}

async fn control(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    body: Option<Json<ControlArgs>>,
) -> Response {
    let args = body.map(|Json(a)| a).unwrap_or_default();
    if action == "stop" {
        let server = state.sims.lock().remove(&id);
        return match server {
            Some(s) => {
                s.shutdown().await;
                Json(json!({ "stopped": id })).into_response()
            }
            None => (StatusCode::NOT_FOUND, "no such simulator").into_response(),
        };
    }
    let faults = match state.sims.lock().get(&id) {
        Some(s) => s.faults().clone(),
        None => return (StatusCode::NOT_FOUND, "no such simulator").into_response(),
    };
    match action.as_str() {
        "fault" => {
            let fault = match args.fault.as_deref() {
                None => None,
                Some("refuse_auth") => Some(Fault::RefuseAuth),
                Some("rate_limit") => Some(Fault::RateLimit {
                    retry_after_secs: args.retry_after_secs.unwrap_or(1),
                }),
                Some("server_error") => Some(Fault::ServerError(args.status.unwrap_or(500))),
                Some("garbage") => Some(Fault::Garbage),
                Some(other) => return bad(format!("no fault named {other:?}")),
            };
            faults.set(fault);
        }
        "order_fault" => {
            let slow = Duration::from_millis(args.ms.unwrap_or(15_000));
            let fault = match args.fault.as_deref() {
                None => None,
                Some("accept_then_cut") => Some(OrderFault::AcceptThenCut),
                Some("accept_then_500") => Some(OrderFault::AcceptThen500),
                Some("slow_accept") => Some(OrderFault::SlowAccept(slow)),
                Some("refuse_500") => Some(OrderFault::RefuseWith500),
                Some("random") => {
                    let mut r = RandomOrderFaults::new(args.seed.unwrap_or(1), slow);
                    if let Some(w) = args.weights {
                        r.weights = w;
                    }
                    Some(OrderFault::Random(r))
                }
                Some(other) => return bad(format!("no order fault named {other:?}")),
            };
            faults.set_order_fault(fault);
        }
        "delay" => faults.set_delay(Duration::from_millis(args.ms.unwrap_or(0))),
        "down" => faults.go_down_for(Duration::from_millis(args.ms.unwrap_or(1000))),
        "cut" => faults.cut_streams(),
        "half_open" => faults.set_half_open(args.on.unwrap_or(true)),
        "expire" => faults.expire_sessions(),
        other => return bad(format!("no action named {other:?}")),
    }
    Json(json!({ "ok": true })).into_response()
}

async fn notifications(State(state): State<AppState>) -> Response {
    let list: Vec<serde_json::Value> = state
        .host
        .notices()
        .into_iter()
        .map(|n| json!({ "title": n.title, "body": n.body }))
        .collect();
    Json(list).into_response()
}

#[derive(Deserialize)]
struct RefuseArgs {
    reason: Option<String>,
}

async fn refuse_notifications(
    State(state): State<AppState>,
    Json(args): Json<RefuseArgs>,
) -> Response {
    state.host.refuse_notifications(args.reason);
    Json(json!({ "ok": true })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClipboardArgs {
    /// The clipboard holds exactly this.
    text: Option<String>,
    /// The clipboard holds each of these somewhere.
    contains: Option<Vec<String>>,
}

async fn clipboard(State(state): State<AppState>, Json(args): Json<ClipboardArgs>) -> Response {
    let holds = match (args.text, args.contains) {
        (Some(text), None) => state.host.clipboard_holds(|held| held == text),
        (None, Some(parts)) => state
            .host
            .clipboard_holds(|held| parts.iter().all(|p| held.contains(p.as_str()))),
        _ => return (StatusCode::BAD_REQUEST, "give text or contains").into_response(),
    };
    Json(json!({ "holds": holds })).into_response()
}
