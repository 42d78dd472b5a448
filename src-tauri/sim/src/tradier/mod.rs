//! Tradier simulator: the brokerage REST API under `/v1` and the market WebSocket at
//! `/v1/markets/events`, on one port, speaking Tradier's wire format
//! (`core/src/brokers/tradier/PROTOCOL.md`).
//!
//! - Every REST call needs `Authorization: Bearer <token>`; a bad token (or the shared
//!   `RefuseAuth` fault) gets Tradier's 401 Apigee fault, and after
//!   [`Faults::expire_sessions`] the token answers "Access Token expired" until
//!   [`SimState::renew_token`].
//! - Answers are XML unless the request says `Accept: application/json` (`wire` renders every
//!   JSON answer as XML in one layer, so every endpoint and every error has both forms).
//! - Every answer carries `X-Ratelimit-Allowed/Used/Available/Expiry` for its request class
//!   (standard, trading, market data), each a per-minute window.
//! - `rest`: profile, balances, orders, positions, `markets/lookup` and `markets/search`;
//!   `book`: the accounts and their orders; `market`: prices, securities and the stream's
//!   messages; `stream`: streaming sessions and the WebSocket (rate, batching, burst mode,
//!   session expiry and the stream's error messages: see [`StreamSettings`]); `events`: the
//!   account-events session and WebSocket, fed by every order change in `book`.
//!
//! State lives behind `std::sync::Mutex`es: every critical section is short and never awaits.
//!
//! Left out: options and multileg orders, the HTTP (chunked) market stream, OAuth, market
//! data REST calls other than lookup and search.

mod book;
mod events;
mod market;
#[cfg(test)]
mod modify_tests;
mod rest;
mod stream;
mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::lock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

pub use self::book::AccountType;
pub use self::market::Quote;
pub use self::stream::RING_FRAMES;
use crate::faults::{self, Faults, RefuseAuth};

/// The demo access token.
pub const DEMO_TOKEN: &str = "sim-tradier-token-0123456789abcdef";
/// The demo account (a margin account with $100,000).
pub const DEMO_ACCOUNT: &str = "VA00000042";
/// What `brokerdesk-sim tradier` prints.
pub const DEMO_HINT: &str = "access token sim-tradier-token-0123456789abcdef, account VA00000042; \
    REST base …/v1, stream session POST /v1/markets/events/session, WebSocket ws://…/v1/markets/events";

/// How the market stream behaves; change it with [`SimState::set_stream`] (sockets read it
/// when a payload arrives). [`StreamSettings::rate`] sets a messages-per-second rate.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSettings {
    /// Time between frames on a subscribed socket.
    pub interval: Duration,
    /// Messages per frame (each ended by `\n` when the payload asked for line breaks).
    pub batch: usize,
    /// Frames back to back with no pause: as fast as the socket takes them.
    pub burst: bool,
    /// How long a streaming session stays valid while no socket uses it (Tradier: 5 min).
    pub session_ttl: Duration,
    /// The error an unknown or expired session gets.
    pub session_error: SessionError,
    /// Whether the socket closes after the session error.
    pub close_on_session_error: bool,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(200),
            batch: 1,
            burst: false,
            session_ttl: Duration::from_secs(300),
            session_error: SessionError::NotFound,
            close_on_session_error: true,
        }
    }
}

/// The text of the stream's session error (UNCONFIRMED: both have been reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// `{"error":"session not found"}`.
    NotFound,
    /// `{"error":"invalid session"}`.
    Invalid,
}

impl SessionError {
    pub fn text(self) -> &'static str {
        match self {
            SessionError::NotFound => "session not found",
            SessionError::Invalid => "invalid session",
        }
    }
}

/// The simulator's state; cheap to clone (shared).
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Inner>,
}

struct Inner {
    token: String,
    /// The session epoch the token was issued in; a later epoch means it has expired.
    token_epoch: AtomicU64,
    faults: Arc<Faults>,
    book: Mutex<book::Book>,
    sessions: Mutex<HashMap<String, stream::StreamSession>>,
    stream: Mutex<StreamSettings>,
    rate: Mutex<RateLimits>,
    /// Frames injected into every open market socket.
    inject: tokio::sync::broadcast::Sender<axum::extract::ws::Utf8Bytes>,
    /// Authenticated requests still to be answered with a "Datastore Error" fault.
    datastore_errors: AtomicU32,
}

/// Per-class request windows (one minute each).
#[derive(Debug)]
struct RateLimits {
    enforce: bool,
    /// (allowed, window start in epoch ms, used) per class.
    windows: HashMap<&'static str, (u32, u64, u32)>,
}

impl SimState {
    /// The demo: [`DEMO_TOKEN`] reaching the one margin account [`DEMO_ACCOUNT`].
    pub fn demo(faults: Arc<Faults>) -> Self {
        Self::new(faults, DEMO_TOKEN, &[(DEMO_ACCOUNT, AccountType::Margin)])
    }

    /// The demo, with stream settings from command-line flags (`brokerdesk-sim tradier
    /// --rate N | --interval-ms N --batch N [--burst]`).
    pub fn demo_from_args(faults: Arc<Faults>, args: &[String]) -> Result<Self, String> {
        let state = Self::demo(faults);
        state.set_stream(stream_settings_from_args(args)?);
        Ok(state)
    }

    /// A token reaching the given accounts, each with $100,000 cash and no positions.
    pub fn new(faults: Arc<Faults>, token: &str, accounts: &[(&str, AccountType)]) -> Self {
        let windows = [("standard", 120), ("trading", 60), ("market", 120)]
            .into_iter()
            .map(|(class, allowed)| (class, (allowed, 0, 0)))
            .collect();
        let inner = Inner {
            token: token.to_string(),
            token_epoch: AtomicU64::new(faults.session_epoch()),
            faults,
            book: Mutex::new(book::Book::new(accounts)),
            sessions: Mutex::new(HashMap::new()),
            stream: Mutex::new(StreamSettings::default()),
            rate: Mutex::new(RateLimits {
                enforce: false,
                windows,
            }),
            inject: tokio::sync::broadcast::channel(256).0,
            datastore_errors: AtomicU32::new(0),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn faults(&self) -> &Arc<Faults> {
        &self.inner.faults
    }

    /// Makes the token valid again after [`Faults::expire_sessions`] (a new day's token).
    pub fn renew_token(&self) {
        let epoch = self.inner.faults.session_epoch();
        self.inner.token_epoch.store(epoch, Ordering::SeqCst);
    }

    /// Moves a symbol's price (the quote is built around it).
    pub fn set_price(&self, symbol: &str, price: f64) {
        lock(&self.inner.book).market.set_price(symbol, price);
    }

    /// The symbol's current quote.
    pub fn quote(&self, symbol: &str) -> Option<Quote> {
        lock(&self.inner.book).market.quote(symbol)
    }

    /// Sets an account's cash.
    pub fn set_cash(&self, account: &str, cash: f64) {
        lock(&self.inner.book).set_cash(account, cash);
    }

    pub fn set_stream(&self, settings: StreamSettings) {
        *lock(&self.inner.stream) = settings;
    }

    pub fn stream_settings(&self) -> StreamSettings {
        lock(&self.inner.stream).clone()
    }

    /// Sets every class's per-minute limit; with `enforce`, requests beyond it get 429 (off
    /// by default, so benchmarks run).
    pub fn set_rate_limit(&self, allowed: u32, enforce: bool) {
        let mut r = lock(&self.inner.rate);
        r.enforce = enforce;
        for w in r.windows.values_mut() {
            w.0 = allowed;
        }
    }

    /// Answers the next `n` authenticated requests with Tradier's transient
    /// "Datastore Error" fault.
    pub fn fail_with_datastore_error(&self, n: u32) {
        self.inner.datastore_errors.store(n, Ordering::SeqCst);
    }

    /// Streaming sessions issued and not yet expired.
    pub fn stream_sessions(&self) -> usize {
        lock(&self.inner.sessions).len()
    }
}

/// Builds the router: the REST API behind bearer auth, the (session-authenticated)
/// WebSocket, rate-limit headers on everything, and XML unless JSON is asked for.
pub fn router(state: SimState) -> Router {
    let order_gate = from_fn_with_state(state.faults().clone(), faults::order_gate);
    let rest = Router::new()
        .route("/v1/user/profile", get(rest::profile))
        .route("/v1/accounts/{account}/balances", get(rest::balances))
        .route(
            "/v1/accounts/{account}/orders",
            get(rest::list_orders).post(rest::place_order.layer(order_gate.clone())),
        )
        .route(
            "/v1/accounts/{account}/orders/{id}",
            get(rest::get_order)
                .delete(rest::cancel_order)
                .put(rest::modify_order.layer(order_gate)),
        )
        .route("/v1/accounts/{account}/positions", get(rest::positions))
        .route("/v1/markets/events/session", post(stream::create_session))
        .route("/v1/accounts/events/session", post(events::create_session))
        .route("/v1/markets/lookup", get(rest::lookup))
        .route("/v1/markets/search", get(rest::search))
        .route_layer(from_fn_with_state(state.clone(), require_auth));
    Router::new()
        .route("/v1/markets/events", get(stream::upgrade))
        .route("/v1/accounts/events", get(events::upgrade))
        .merge(rest)
        .layer(from_fn_with_state(state.clone(), rate_limit))
        .layer(from_fn(wire::negotiate))
        .with_state(state)
}

/// Reads `--rate N` (messages per second), `--interval-ms N`, `--batch N` and `--burst`.
pub fn stream_settings_from_args(args: &[String]) -> Result<StreamSettings, String> {
    let value = |flag: &str| -> Result<Option<u64>, String> {
        match args.iter().position(|a| a == flag) {
            None => Ok(None),
            Some(i) => args
                .get(i + 1)
                .and_then(|v| v.parse().ok())
                .map(Some)
                .ok_or_else(|| format!("{flag} needs a whole number")),
        }
    };
    let mut settings = match value("--rate")? {
        Some(rate) => StreamSettings::rate(u32::try_from(rate).unwrap_or(u32::MAX)),
        None => StreamSettings::default(),
    };
    if let Some(ms) = value("--interval-ms")? {
        settings.interval = Duration::from_millis(ms.max(1));
    }
    if let Some(n) = value("--batch")? {
        settings.batch = usize::try_from(n.max(1)).unwrap_or(usize::MAX);
    }
    settings.burst = args.iter().any(|a| a == "--burst");
    Ok(settings)
}

/// Tradier's (Apigee's) fault body.
fn fault(faultstring: &str, errorcode: &str) -> serde_json::Value {
    json!({"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}})
}

async fn require_auth(State(s): State<SimState>, req: Request, next: Next) -> Response {
    let refused = req.extensions().get::<RefuseAuth>().is_some();
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let unauthorized = |faultstring, errorcode| {
        wire::json_response(StatusCode::UNAUTHORIZED, &fault(faultstring, errorcode))
    };
    if refused || bearer != Some(s.inner.token.as_str()) {
        return unauthorized(
            "Invalid Access Token",
            "keymanagement.service.invalid_access_token",
        );
    }
    if s.inner.faults.session_epoch() > s.inner.token_epoch.load(Ordering::SeqCst) {
        return unauthorized(
            "Access Token expired",
            "keymanagement.service.access_token_expired",
        );
    }
    let datastore =
        s.inner
            .datastore_errors
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    if datastore.is_ok() {
        // The status Tradier pairs with this fault is UNCONFIRMED; 401 is the worst case for
        // a client (it looks like an auth failure but must be retried).
        return unauthorized("Datastore Error", "keymanagement.service.datastore_error");
    }
    next.run(req).await
}

/// The request class whose budget a request spends (`core/src/brokers/tradier/PROTOCOL.md`,
/// "Errors and limits").
fn class(method: &Method, path: &str) -> &'static str {
    if path.starts_with("/v1/markets") {
        "market"
    } else if (method == Method::POST && path.ends_with("/orders"))
        || (method == Method::PUT && path.contains("/orders/"))
    {
        // Placing and changing an order.
        "trading"
    } else {
        "standard"
    }
}

async fn rate_limit(State(s): State<SimState>, req: Request, next: Next) -> Response {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let class = class(req.method(), req.uri().path());
    let (allowed, used, expiry, over) = {
        let mut r = lock(&s.inner.rate);
        let enforce = r.enforce;
        let w = r.windows.entry(class).or_insert((120, 0, 0));
        if now_ms >= w.1 + 60_000 {
            w.1 = now_ms;
            w.2 = 0;
        }
        w.2 = w.2.saturating_add(1);
        (w.0, w.2, w.1 + 60_000, enforce && w.2 > w.0)
    };
    let mut resp = if over {
        let body = fault(
            "Rate limit quota violation. Quota limit exceeded.",
            "policies.ratelimit.QuotaViolation",
        );
        wire::json_response(StatusCode::TOO_MANY_REQUESTS, &body)
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    h.insert("x-ratelimit-allowed", HeaderValue::from(allowed));
    h.insert("x-ratelimit-used", HeaderValue::from(used.min(allowed)));
    h.insert(
        "x-ratelimit-available",
        HeaderValue::from(allowed.saturating_sub(used)),
    );
    h.insert("x-ratelimit-expiry", HeaderValue::from(expiry));
    resp
}
