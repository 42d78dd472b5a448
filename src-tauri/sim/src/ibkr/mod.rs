//! Interactive Brokers Client Portal gateway simulator (`core/src/brokers/ibkr/PROTOCOL.md`),
//! gateway mode: everything under `/v1/api` on 127.0.0.1, plain HTTP ([`crate::SimServer::start`])
//! or, like the real gateway on `localhost:5000`, HTTPS with a self-signed certificate made
//! at start ([`crate::SimServer::start_tls`] with a [`crate::SimCert`]; a new certificate per
//! start, so restarting with another one plays a gateway whose certificate changed).
//! [`SimState::set_redirect`] answers every request with a redirect (clients must not follow).
//!
//! The gateway holds two sessions, and so does the simulator ([`session::Gateway`]):
//! - the **login** (SSO) session the user opens in a browser. Without it every call answers
//!   401 `{"error":"not authenticated","statusCode":401}`. It ends at `POST /logout`, at
//!   [`Faults::expire_sessions`], or after `idle_timeout` without `POST /tickle` (IBKR: about
//!   5 minutes; only `/tickle` and the WebSocket's `tic` refresh it here, which is what
//!   clients are told to rely on). [`SimState::login`] plays the user logging in again.
//! - the **brokerage** session ("bridge"), needed by `/iserver/*`: without it those answer
//!   400 `{"error":"Bad Request: no bridge","statusCode":400}` until `POST
//!   /iserver/auth/ssodh/init` (or `/iserver/reauthenticate`). After it opens,
//!   `GET /iserver/accounts` must be called before the order endpoints, which otherwise
//!   answer 500 `{"error":"Please query /accounts first"}`.
//!
//! REST calls need no cookie (the gateway itself is logged in), but a request carrying the
//! `api={"session":"…"}` cookie of an older session is refused with 401, so a client that
//! keeps the cookie learns when the user logged in again (UNCONFIRMED detail, chosen so that
//! stale cookies are visible in tests).
//!
//! - `session`: the two sessions and the session endpoints; `rest`: accounts, summary,
//!   orders (with confirmation questions), positions, contract search; `book`: the account,
//!   contracts, orders, positions; `stream`: the WebSocket at `/v1/api/ws`; `events`: its
//!   live-order topic `sor`, fed by every order change the book makes.
//!
//! Stream rate and frame variants: [`Settings`]; test frames: [`SimState::push_stream_frame`].
//!
//! Left out: OAuth mode, `/sso/validate`, ledger, market-data snapshots and history,
//! the `spl` subscription, unsolicited `blt`/`ntf` (tests push them with
//! [`SimState::push_stream_frame`]), per-endpoint rate limits (the shared 429 fault stands
//! in), order modification, the daily reset.
//!
//! State lives behind std `Mutex`es: every critical section is short and never awaits.

mod book;
mod events;
#[cfg(test)]
mod modify_tests;
mod orders;
mod rest;
mod session;
mod stream;

use std::sync::{Arc, Mutex};

use crate::lock;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::faults::{self, Faults, RefuseAuth};

/// The demo account id.
pub const DEMO_ACCOUNT: &str = "DU1234567";
/// What `brokerdesk-sim ibkr` prints.
pub const DEMO_HINT: &str = "gateway mode, already logged in; REST at /v1/api (account \
    DU1234567), WebSocket at ws://…/v1/api/ws with cookie api={\"session\":<from /tickle>}; \
    stream rate from BROKERDESK_SIM_IBKR_INTERVAL_US / _BATCH / _BURST=1";

/// How the gateway's clocks and stream behave; change with [`SimState::set_settings`].
///
/// Stream rate: every `data_interval` (or back to back with `burst`), each subscription
/// sends `batch` market-data updates, so one subscription carries `batch / data_interval`
/// messages a second; `burst` with a `batch` of a few hundred reaches hundreds of thousands
/// a second on loopback. Above one update per round the updates are pre-encoded (a cycle of
/// 60 frames per subscription, re-encoded when it wraps after 50 ms, so
/// `_updated` stays recent) and sent without a flush between them.
///
/// `brokerdesk-sim ibkr` reads these from the environment (see [`Settings::from_env`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The login session ends after this long without `/tickle` (read at every request).
    pub idle_timeout: Duration,
    /// Time between WebSocket `{"topic":"system","hb":…}` heartbeats (read at connect).
    pub heartbeat: Duration,
    /// Time between rounds of market-data updates on the WebSocket (read at connect;
    /// at least 1 ms).
    pub data_interval: Duration,
    /// Market-data updates per subscription per round (at least 1).
    pub batch: usize,
    /// Rounds back to back, with no wait between them (`data_interval` is ignored).
    pub burst: bool,
    /// Every server message as a binary frame holding the JSON, instead of a text frame
    /// (which of the two the gateway uses is UNCONFIRMED; clients must read both).
    pub binary_frames: bool,
    /// Answers `tic` with `{"topic":"tic","alive":true,"lastAccessed":…}` (UNCONFIRMED;
    /// by default `tic` gets no answer).
    pub tic_reply: bool,
    /// The upgrade's `api` cookie authenticates the socket (default). When false only the
    /// `{"session":…}` message does, as with a client that sends no cookie.
    pub cookie_auth: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(300),
            heartbeat: Duration::from_secs(10),
            data_interval: Duration::from_millis(250),
            batch: 1,
            burst: false,
            binary_frames: false,
            tic_reply: false,
            cookie_auth: true,
        }
    }
}

impl Settings {
    /// The defaults, overridden by the environment: `BROKERDESK_SIM_IBKR_INTERVAL_US`
    /// (µs between rounds), `BROKERDESK_SIM_IBKR_BATCH` (updates per subscription per
    /// round), `BROKERDESK_SIM_IBKR_BURST=1`, `BROKERDESK_SIM_IBKR_HEARTBEAT_MS`,
    /// `BROKERDESK_SIM_IBKR_BINARY=1`, `BROKERDESK_SIM_IBKR_TIC_REPLY=1`. Values that do not
    /// parse are ignored.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(format!("BROKERDESK_SIM_IBKR_{name}")).ok();
        let num = |name: &str| var(name).and_then(|v| v.trim().parse::<u64>().ok());
        let flag = |name: &str| var(name).map(|v| matches!(v.trim(), "1" | "true" | "yes"));
        let mut s = Self::default();
        if let Some(us) = num("INTERVAL_US") {
            s.data_interval = Duration::from_micros(us);
        }
        if let Some(n) = num("BATCH") {
            s.batch = usize::try_from(n).unwrap_or(usize::MAX).max(1);
        }
        if let Some(ms) = num("HEARTBEAT_MS") {
            s.heartbeat = Duration::from_millis(ms);
        }
        s.burst = flag("BURST").unwrap_or(s.burst);
        s.binary_frames = flag("BINARY").unwrap_or(s.binary_frames);
        s.tic_reply = flag("TIC_REPLY").unwrap_or(s.tic_reply);
        s
    }
}

/// The simulator's state; cheap to clone (shared).
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Inner>,
}

struct Inner {
    faults: Arc<Faults>,
    gateway: Mutex<session::Gateway>,
    book: Mutex<book::Book>,
    settings: Mutex<Settings>,
    /// Frames pushed by tests to every open WebSocket.
    pushed: tokio::sync::broadcast::Sender<String>,
    /// Every request is answered `307` to this URL (tests of clients that must not follow).
    redirect: Mutex<Option<String>>,
}

impl SimState {
    /// The demo gateway: logged in, brokerage session open, account [`DEMO_ACCOUNT`] with
    /// 100 000 USD, one confirmation question (`o163`) asked for every order, and the
    /// stream settings of [`Settings::from_env`].
    pub fn demo(faults: Arc<Faults>) -> Self {
        let s = Self::new(faults, DEMO_ACCOUNT);
        s.set_settings(Settings::from_env());
        s
    }

    /// A logged-in gateway for `account` (e.g. `DU1234567`).
    pub fn new(faults: Arc<Faults>, account: &str) -> Self {
        let epoch = faults.session_epoch();
        let settings = Settings::default();
        let gateway = session::Gateway::logged_in(epoch, settings.idle_timeout);
        Self {
            inner: Arc::new(Inner {
                faults,
                gateway: Mutex::new(gateway),
                book: Mutex::new(book::Book::new(account, 100_000.0)),
                settings: Mutex::new(settings),
                pushed: tokio::sync::broadcast::channel(256).0,
                redirect: Mutex::new(None),
            }),
        }
    }

    pub fn faults(&self) -> &Arc<Faults> {
        &self.inner.faults
    }

    pub fn set_settings(&self, s: Settings) {
        lock(&self.inner.gateway).idle_timeout = s.idle_timeout;
        *lock(&self.inner.settings) = s;
    }

    pub fn settings(&self) -> Settings {
        lock(&self.inner.settings).clone()
    }

    /// The user logs in at the gateway (again): a new session, the bridge open.
    pub fn login(&self) {
        let epoch = self.inner.faults.session_epoch();
        lock(&self.inner.gateway).login(epoch);
    }

    /// The user logs out at the gateway.
    pub fn logout(&self) {
        lock(&self.inner.gateway).logout();
    }

    /// Closes the brokerage session (the bridge) but keeps the login.
    pub fn close_bridge(&self) {
        lock(&self.inner.gateway).close_bridge();
    }

    /// The current session id (what `/tickle` reports), when logged in.
    pub fn session(&self) -> Option<String> {
        self.gateway(|g| g.current().map(str::to_string))
    }

    /// Whether the login session is alive (checks the idle timeout and the fault epoch).
    pub fn logged_in(&self) -> bool {
        self.gateway(|g| g.current().is_some())
    }

    /// Sets the confirmation questions asked, in order, for every new order:
    /// `(messageId, text)` pairs, e.g. `("o163", "…price exceeds…")`.
    pub fn set_questions(&self, questions: &[(&str, &str)]) {
        lock(&self.inner.book).set_questions(questions);
    }

    /// Sets the price of a symbol (`AAPL`, `MSFT`, `AMD`, `SPY` are listed).
    pub fn set_price(&self, symbol: &str, price: f64) {
        lock(&self.inner.book).set_price(symbol, price);
    }

    /// Sends `frame`, as is, in a text frame on every open WebSocket (authenticated or
    /// not): any message the gateway can send (`ntf`, `blt`, errors of every shape), or a
    /// malformed or oversized one. Returns the number of sockets it went to.
    pub fn push_stream_frame(&self, frame: impl Into<String>) -> usize {
        self.inner.pushed.send(frame.into()).unwrap_or(0)
    }

    /// Answers every request with `307 Temporary Redirect` to `location` (the path asked for
    /// appended), or stops (`None`).
    pub fn set_redirect(&self, location: Option<&str>) {
        *lock(&self.inner.redirect) = location.map(str::to_string);
    }

    /// The number of WebSocket connections open now.
    pub fn open_streams(&self) -> usize {
        self.inner.pushed.receiver_count()
    }

    /// The conid of a listed symbol.
    pub fn conid(&self, symbol: &str) -> Option<u64> {
        lock(&self.inner.book).contract(symbol).map(|c| c.conid)
    }

    /// Runs `f` on the gateway session after expiring it if its time or epoch has passed.
    fn gateway<T>(&self, f: impl FnOnce(&mut session::Gateway) -> T) -> T {
        let epoch = self.inner.faults.session_epoch();
        let mut g = lock(&self.inner.gateway);
        g.expire_if_due(epoch);
        f(&mut g)
    }
}

/// Builds the router: the session endpoints behind the login check, `/iserver/*` also
/// behind the bridge check, and the WebSocket (which answers "waiting for session" itself).
pub fn router(state: SimState) -> Router {
    let order_gate = from_fn_with_state(state.faults().clone(), faults::order_gate);
    let confirm_gate = from_fn_with_state(state.faults().clone(), faults::confirm_gate);
    let bridged = Router::new()
        .route("/iserver/accounts", get(rest::iserver_accounts))
        .route("/iserver/secdef/search", get(rest::secdef_search))
        .route(
            "/iserver/account/{acct}/orders",
            post(rest::place_orders.layer(order_gate.clone())),
        )
        .route("/iserver/reply/{id}", post(rest::reply.layer(confirm_gate)))
        .route("/iserver/questions/suppress", post(rest::suppress))
        .route(
            "/iserver/account/order/status/{id}",
            get(rest::order_status),
        )
        .route("/iserver/account/orders", get(rest::live_orders))
        .route(
            "/iserver/account/{acct}/order/{id}",
            delete(rest::cancel_order).post(rest::modify_order.layer(order_gate)),
        )
        .route_layer(from_fn_with_state(state.clone(), require_bridge));
    let logged_in = Router::new()
        .route("/tickle", post(session::tickle))
        .route("/logout", post(session::logout))
        .route("/iserver/auth/status", post(session::auth_status))
        .route("/iserver/auth/ssodh/init", post(session::ssodh_init))
        .route("/iserver/reauthenticate", post(session::reauthenticate))
        .route("/portfolio/accounts", get(rest::portfolio_accounts))
        .route("/portfolio/{acct}/summary", get(rest::summary))
        .route("/portfolio/{acct}/positions/{page}", get(rest::positions))
        .merge(bridged)
        .route_layer(from_fn_with_state(state.clone(), require_login));
    let api = Router::new()
        .route("/ws", get(stream::upgrade))
        .merge(logged_in)
        .layer(from_fn_with_state(state.clone(), redirect))
        .with_state(state);
    Router::new().nest("/v1/api", api)
}

/// Redirects every request while [`SimState::set_redirect`] says so.
async fn redirect(State(s): State<SimState>, req: Request, next: Next) -> Response {
    let to = lock(&s.inner.redirect).clone();
    match to {
        Some(base) => {
            let location = format!("{}{}", base.trim_end_matches('/'), req.uri().path());
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, location)],
                "",
            )
                .into_response()
        }
        None => next.run(req).await,
    }
}

/// Returns the session named by an `api={"session":"…"}` cookie (or `api=<session>`).
fn cookie_session(headers: &HeaderMap) -> Option<String> {
    let raw = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("api="))?
        .trim()
        .to_string();
    match serde_json::from_str::<Value>(&raw) {
        Ok(v) => v.get("session").and_then(Value::as_str).map(str::to_string),
        Err(_) => Some(raw),
    }
}

async fn require_login(State(s): State<SimState>, req: Request, next: Next) -> Response {
    let refused = req.extensions().get::<RefuseAuth>().is_some();
    let cookie = cookie_session(req.headers());
    let ok = s.gateway(|g| match g.current() {
        Some(current) => cookie.as_deref().is_none_or(|c| c == current),
        None => false,
    });
    if refused || !ok {
        return not_authenticated();
    }
    next.run(req).await
}

async fn require_bridge(State(s): State<SimState>, req: Request, next: Next) -> Response {
    if !s.gateway(|g| g.bridge) {
        let body = json!({"error": "Bad Request: no bridge", "statusCode": 400});
        return json_response(StatusCode::BAD_REQUEST, &body);
    }
    next.run(req).await
}

fn not_authenticated() -> Response {
    let body = json!({"error": "not authenticated", "statusCode": 401});
    json_response(StatusCode::UNAUTHORIZED, &body)
}

/// A JSON answer with `Content-Type: application/json`.
fn json_response(status: StatusCode, body: &Value) -> Response {
    let headers = [(header::CONTENT_TYPE, "application/json")];
    (status, headers, body.to_string()).into_response()
}

/// IBKR's `{"error":"…"}` body with the given status.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(status, &json!({ "error": message.into() }))
}
