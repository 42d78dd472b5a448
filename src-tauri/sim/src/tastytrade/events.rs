//! The account streamer at `/account-streamer` (Tastytrade's `wss://streamer.tastyworks.com`,
//! a host of its own in reality; here a path beside REST and DXLink, where the connector
//! looks for it on an overriding host).
//!
//! One task owns each socket ([`Session::run`]). The client's
//! `{"action":"connect","value":[accounts],"auth-token":"Bearer <access>","request-id":N}`
//! is answered `{"status":"ok","action":"connect","web-socket-session-id":…,"request-id":N}`
//! when the access token is one the REST API would take and every account is the
//! customer's; else `{"status":"error","action":"connect","message":…}` (and the socket
//! stays open, as it does for any refused action). `heartbeat` (with a valid token) is
//! acknowledged the same way; with a token that expired since, it gets an error status.
//! Actions before `connect` get an error status too.
//!
//! Notifications: every change the book makes to an order of a connected account (placed,
//! routed, filled, cancelled) is sent as `{"type":"Order","data":{…the REST order…},
//! "timestamp":<epoch ms>}` ([`publish`] is called by the book).
//!
//! Faults: [`Faults::stream_cut`] drops the socket without a close frame; while
//! [`Faults::half_open`] the session neither reads nor writes; [`Fault::Garbage`] sends a
//! frame of garbage before every notification; [`Fault::RefuseAuth`] at the upgrade refuses
//! every `connect`. [`SimState::inject_account_stream`] sends any raw text frame to every
//! open session.
//!
//! [`Faults::stream_cut`]: crate::faults::Faults::stream_cut
//! [`Faults::half_open`]: crate::faults::Faults::half_open
//! [`Fault::RefuseAuth`]: crate::faults::Fault::RefuseAuth
//! [`SimState::inject_account_stream`]: super::SimState::inject_account_stream

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::orders::Order;
use super::{lock, SimState};
use crate::faults::{Fault, Faults, RefuseAuth};

/// What the garbage fault sends (the REST garbage body).
const GARBAGE: &str = "<html>\u{0}\u{1}not json at all";

/// One order change, for every open session (each keeps its own account's).
#[derive(Debug, Clone)]
pub(crate) struct OrderEvent {
    account: String,
    order: Arc<Value>,
}

/// The channel the book publishes order changes on.
pub(crate) fn channel() -> broadcast::Sender<OrderEvent> {
    broadcast::channel(1024).0
}

/// Publishes `order` as it is now (no session listening is fine).
pub(crate) fn publish(tx: &broadcast::Sender<OrderEvent>, account: &str, order: &Order) {
    let _ = tx.send(OrderEvent {
        account: account.to_string(),
        order: Arc::new(order.to_json()),
    });
}

pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<SimState>,
    refuse: Option<Extension<RefuseAuth>>,
) -> Response {
    // Taken now, so a cut between the upgrade and the first poll still applies.
    let cut = state.faults().stream_cut();
    let events = lock(&state.inner.book).events.subscribe();
    let session = Session {
        faults: state.faults().clone(),
        inject: state.inner.account_inject.subscribe(),
        refuse_auth: refuse.is_some(),
        cut,
        events,
        state,
        accounts: Vec::new(),
        id: uuid::Uuid::new_v4().simple().to_string(),
    };
    ws.on_upgrade(move |socket| session.run(socket))
}

struct Session {
    state: SimState,
    faults: Arc<Faults>,
    refuse_auth: bool,
    cut: CancellationToken,
    events: broadcast::Receiver<OrderEvent>,
    inject: broadcast::Receiver<Arc<str>>,
    /// The accounts of a connected session (empty before `connect`).
    accounts: Vec<String>,
    /// The `web-socket-session-id`.
    id: String,
}

impl Session {
    async fn run(mut self, mut socket: WebSocket) {
        let mut fault_poll = tokio::time::interval(Duration::from_millis(25));
        loop {
            if self.faults.half_open() {
                tokio::select! {
                    () = self.cut.cancelled() => return,
                    _ = fault_poll.tick() => {}
                }
                continue;
            }
            let connected = !self.accounts.is_empty();
            let reply = tokio::select! {
                biased;
                () = self.cut.cancelled() => return,
                msg = socket.recv() => match msg {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(Message::Text(t))) => self.handle(t.as_str()),
                    Some(Ok(Message::Binary(_))) => self.handle(""),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                },
                ev = self.events.recv(), if connected => match ev {
                    Ok(ev) if self.accounts.contains(&ev.account) => {
                        if self.faults.current() == Some(Fault::Garbage)
                            && socket.send(Message::Text(GARBAGE.into())).await.is_err()
                        {
                            return;
                        }
                        json!({"type": "Order", "data": *ev.order,
                            "timestamp": chrono::Utc::now().timestamp_millis()})
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                raw = self.inject.recv() => {
                    if let Ok(raw) = raw {
                        if socket.send(Message::Text(raw.as_ref().into())).await.is_err() {
                            return;
                        }
                    }
                    continue;
                }
                _ = fault_poll.tick() => continue,
            };
            if socket
                .send(Message::Text(reply.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }

    /// The answer to one client message.
    fn handle(&mut self, text: &str) -> Value {
        let Ok(msg) = serde_json::from_str::<Value>(text) else {
            return json!({"status": "error", "message": "the message is not JSON"});
        };
        let action = msg
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let request_id = msg.get("request-id").cloned().unwrap_or(Value::Null);
        let refusal = |message: &str| {
            json!({"status": "error", "action": action, "message": message,
                "request-id": request_id})
        };
        if !matches!(action, "connect" | "heartbeat") {
            return refusal("unknown action");
        }
        if !self.token_ok(&msg) {
            return refusal("invalid or expired auth-token");
        }
        if action == "connect" {
            let wanted: Vec<String> = msg
                .get("value")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let book = lock(&self.state.inner.book);
            if wanted.is_empty() || !wanted.iter().all(|a| book.accounts.contains_key(a)) {
                return refusal("not authorized for the account");
            }
            self.accounts = wanted;
        } else if self.accounts.is_empty() {
            return refusal("connect first");
        }
        json!({"status": "ok", "action": action, "web-socket-session-id": self.id,
            "request-id": request_id})
    }

    /// Whether the message's `auth-token` (with or without `Bearer `) is a live access token.
    fn token_ok(&self, msg: &Value) -> bool {
        if self.refuse_auth {
            return false;
        }
        let token = msg
            .get("auth-token")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim();
        let token = token
            .strip_prefix("Bearer ")
            .or_else(|| token.strip_prefix("bearer "))
            .unwrap_or(token);
        let epoch = self.faults.session_epoch();
        lock(&self.state.inner.tokens).check(token, epoch).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::tastytrade::{router, DEMO_ACCOUNT, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN};
    use crate::{raw_json_request, SimServer};

    /// A demo simulator and an access token it issued.
    async fn with_token() -> (SimServer, SimState, String) {
        let faults = Faults::new();
        let state = SimState::demo(faults.clone());
        let server = SimServer::start(router(state.clone()), faults, 0)
            .await
            .unwrap();
        let body = json!({"grant_type": "refresh_token", "refresh_token": DEMO_REFRESH_TOKEN,
            "client_secret": DEMO_CLIENT_SECRET})
        .to_string();
        let (_, answer) = raw_json_request(
            server.addr(),
            "POST",
            "/oauth/token",
            "User-Agent: test/1\r\n",
            &body,
        )
        .await;
        let v: Value = serde_json::from_str(&answer).unwrap();
        let token = v["access_token"].as_str().unwrap().to_string();
        (server, state, token)
    }

    fn session(state: &SimState) -> Session {
        Session {
            faults: state.faults().clone(),
            inject: state.inner.account_inject.subscribe(),
            refuse_auth: false,
            cut: CancellationToken::new(),
            events: lock(&state.inner.book).events.subscribe(),
            state: state.clone(),
            accounts: Vec::new(),
            id: "s1".into(),
        }
    }

    #[tokio::test]
    async fn connect_and_heartbeat_need_a_live_token_and_an_own_account() {
        let (server, state, token) = with_token().await;
        let mut s = session(&state);
        let bearer = format!("Bearer {token}");
        let beat = json!({"action": "heartbeat", "auth-token": bearer, "request-id": 2});
        assert_eq!(
            s.handle(&beat.to_string())["status"],
            "error",
            "connect first"
        );
        let bad = json!({"action": "connect", "value": [DEMO_ACCOUNT],
            "auth-token": "Bearer nope", "request-id": 1});
        assert_eq!(s.handle(&bad.to_string())["status"], "error");
        let other = json!({"action": "connect", "value": ["5WT99999"],
            "auth-token": bearer, "request-id": 1});
        assert_eq!(s.handle(&other.to_string())["status"], "error");
        let connect = json!({"action": "connect", "value": [DEMO_ACCOUNT],
            "auth-token": bearer, "request-id": 1});
        let ok = s.handle(&connect.to_string());
        assert_eq!(
            ok,
            json!({"status": "ok", "action": "connect",
            "web-socket-session-id": "s1", "request-id": 1})
        );
        // Without "Bearer " too.
        let beat = json!({"action": "heartbeat", "auth-token": token, "request-id": 2});
        assert_eq!(s.handle(&beat.to_string())["status"], "ok");
        assert_eq!(s.handle("<html>")["status"], "error");
        // An expired token: heartbeats are refused.
        server.faults().expire_sessions();
        assert_eq!(s.handle(&beat.to_string())["status"], "error");
    }

    #[tokio::test]
    async fn every_order_change_is_published() {
        let state = SimState::demo(Faults::new());
        let mut rx = lock(&state.inner.book).events.subscribe();
        let new = |body: Value| super::super::orders::NewOrder::parse(&body).unwrap();
        let order = |kind: &str, price: Option<&str>, id: &str| {
            let mut o = json!({"time-in-force": "Day", "order-type": kind,
                "legs": [{"instrument-type": "Equity", "symbol": "AAPL", "quantity": "1",
                    "action": "Buy to Open"}], "external-identifier": id});
            if let Some(p) = price {
                o["price"] = json!(p);
                o["price-effect"] = json!("Debit");
            }
            new(o)
        };
        let mut book = lock(&state.inner.book);
        book.place(DEMO_ACCOUNT, order("Market", None, "m"), false)
            .unwrap();
        let (resting, _) = book
            .place(DEMO_ACCOUNT, order("Limit", Some("1.00"), "l"), false)
            .unwrap();
        book.cancel(DEMO_ACCOUNT, resting.id.unwrap()).unwrap();
        book.place(DEMO_ACCOUNT, order("Market", None, "dry"), true)
            .unwrap();
        drop(book);
        let mut seen = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            assert_eq!(ev.account, DEMO_ACCOUNT);
            seen.push((
                ev.order["external-identifier"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                ev.order["status"].as_str().unwrap().to_string(),
            ));
        }
        let want = [
            ("m", "Routed"),
            ("m", "Filled"),
            ("l", "Live"),
            ("l", "Cancelled"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(seen, want, "a dry run publishes nothing");
    }
}
