//! Alpaca simulator: the Trading API v2 (REST) and the Market Data v2 stream (WebSocket) on
//! one server, speaking Alpaca's wire format (`core/src/brokers/alpaca/PROTOCOL.md`).
//!
//! - `rest`: `/v2/account`, `/v2/orders` (+ `/v2/orders/{id}`, with or without hyphens,
//!   whose `PATCH` replaces an open order, and `/v2/orders:by_client_order_id`), `/v2/positions`. Every call needs the
//!   `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY` headers (else 401 `{"message":"unauthorized."}`)
//!   and every answer carries `X-Ratelimit-Limit/Remaining/Reset`.
//! - `stream`: `/v2/{iex|sip|test}`, JSON text frames, or msgpack binary frames (`stream::msgpack`)
//!   when the upgrade asks for them as Alpaca's SDKs do.
//! - `events`: the trade-updates stream (`/stream`), fed by every order change in `book`.
//! - `book` holds the account, orders and positions; `orders` their wire form; `market` the
//!   evolving quotes.
//!
//! Left out for now: bars, statuses and LULDs can be subscribed to but are not generated;
//! order types other than market and limit.
//!
//! State lives behind `std::sync::Mutex`es: every critical section is short and synchronous
//! (no `.await` while held), which is cheaper and simpler than an async mutex.

mod assets;
mod book;
mod events;
mod market;
#[cfg(test)]
mod modify_tests;
mod orders;
mod rest;
mod stream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::lock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use crate::faults::{self, Faults, RefuseAuth};
use crate::SimServer;
pub use events::InjectedFrame;
pub use market::{Quote, TEST_SYMBOL};

/// What `brokerdesk-sim alpaca` prints for the user.
pub const DEMO_HINT: &str =
    "key id PKSIMKEY0123456789AB, secret sim-alpaca-secret-0123456789abcdefghijkl, \
    account PA3SIM000042; trading at /v2/..., data stream at ws://…/v2/iex (or sip, test)";

/// The demo key ID ([`SimState::demo`]).
pub const DEMO_KEY: &str = "PKSIMKEY0123456789AB";
/// The demo secret key ([`SimState::demo`]).
pub const DEMO_SECRET: &str = "sim-alpaca-secret-0123456789abcdefghijkl";
const DEMO_ACCOUNT: &str = "PA3SIM000042";

/// How the data stream behaves; change it with [`SimState::set_stream`].
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSettings {
    /// Data messages per frame (read at every frame; with a `rate`, at every subscription
    /// change).
    pub batch: usize,
    /// Time between data frames when `rate` is `None` (read when a connection opens).
    pub interval: Duration,
    /// Data messages per second (read when a connection opens). `None`: one freshly
    /// generated frame every `interval`. `Some(n)`: frames from a ring pre-encoded at each
    /// subscription change (in the connection's encoding), paced to `n` messages per second,
    /// or, for `Some(0)`, sent as fast as the client reads them (burst). The ring's
    /// timestamps are those of its creation.
    pub rate: Option<u64>,
    /// Time a client has to authenticate before error 404 (read when a connection opens).
    pub auth_timeout: Duration,
    /// Most symbols one connection may subscribe to (error 405 beyond).
    pub symbol_limit: usize,
    /// Authenticated connections per feed (error 406 beyond).
    pub connection_limit: usize,
    /// Whether the key's plan includes the `sip` feed (error 409 if not).
    pub sip: bool,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            batch: 5,
            interval: Duration::from_millis(200),
            rate: None,
            auth_timeout: Duration::from_secs(10),
            symbol_limit: 30,
            connection_limit: 1,
            sip: false,
        }
    }
}

impl StreamSettings {
    /// Pre-encoded frames of `batch` messages, sent as fast as the client reads them.
    pub fn burst(batch: usize) -> Self {
        Self::paced(0, batch)
    }

    /// Pre-encoded frames of `batch` messages, `rate` messages per second (0 = burst).
    pub fn paced(rate: u64, batch: usize) -> Self {
        Self {
            batch: batch.max(1),
            rate: Some(rate),
            ..Self::default()
        }
    }

    /// Reads `--rate N` (messages per second, 0 = burst), `--batch N` (messages per frame)
    /// and `--interval-ms N` from command-line arguments; other arguments are ignored.
    pub fn from_args(args: &[String]) -> Result<Self, String> {
        let mut s = Self::default();
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
        if let Some(rate) = value("--rate")? {
            s.rate = Some(rate);
        }
        if let Some(batch) = value("--batch")? {
            s.batch = usize::try_from(batch.max(1)).unwrap_or(usize::MAX);
        }
        if let Some(ms) = value("--interval-ms")? {
            s.interval = Duration::from_millis(ms.max(1));
        }
        Ok(s)
    }
}

/// Something to send to every open data-stream connection ([`SimState::inject`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamInjection {
    /// A text frame with exactly this content (garbage, an oversized message…).
    Text(String),
    /// A binary frame with exactly these bytes.
    Binary(Vec<u8>),
    /// `[{"T":"error","code":N,"msg":…}]` in the connection's encoding (the connection is
    /// left open).
    Error(u16),
}

/// Starts an Alpaca simulator on 127.0.0.1:`port` (0 = any) with the demo credentials
/// ([`DEMO_KEY`], [`DEMO_SECRET`]) and these stream settings.
pub async fn start(settings: StreamSettings, port: u16) -> std::io::Result<(SimServer, SimState)> {
    let faults = Faults::new();
    let state = SimState::demo(faults.clone());
    state.set_stream(settings);
    let server = SimServer::start(router(state.clone()), faults, port).await?;
    Ok((server, state))
}

/// The simulator's state; cheap to clone (shared).
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Inner>,
}

struct Inner {
    key: String,
    secret: String,
    faults: Arc<Faults>,
    book: Mutex<book::Book>,
    market: Mutex<market::Market>,
    stream: Mutex<StreamSettings>,
    /// Authenticated stream connections per feed.
    connections: Mutex<HashMap<String, usize>>,
    rate: Mutex<RateWindow>,
    inject: tokio::sync::broadcast::Sender<StreamInjection>,
}

/// The trading API's per-minute request window, reported in `X-Ratelimit-*` headers.
#[derive(Debug)]
struct RateWindow {
    limit: u32,
    enforce: bool,
    window_start: u64,
    used: u32,
}

impl SimState {
    /// The demo account: the documented test key, $100,000 cash, no positions.
    pub fn demo(faults: Arc<Faults>) -> Self {
        Self::new(faults, DEMO_KEY, DEMO_SECRET)
    }

    /// An account reachable with the given key id and secret.
    pub fn new(faults: Arc<Faults>, key: &str, secret: &str) -> Self {
        let inner = Inner {
            key: key.to_string(),
            secret: secret.to_string(),
            faults,
            book: Mutex::new(book::Book::new(DEMO_ACCOUNT, 100_000.0)),
            market: Mutex::new(market::Market::demo()),
            stream: Mutex::new(StreamSettings::default()),
            connections: Mutex::new(HashMap::new()),
            rate: Mutex::new(RateWindow {
                limit: 200,
                enforce: false,
                window_start: 0,
                used: 0,
            }),
            inject: tokio::sync::broadcast::channel(64).0,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn faults(&self) -> &Arc<Faults> {
        &self.inner.faults
    }

    /// The account number (`PA…`) the key belongs to.
    pub fn account_number(&self) -> String {
        lock(&self.inner.book).account_number.clone()
    }

    /// Sets the account's cash.
    pub fn set_cash(&self, cash: f64) {
        lock(&self.inner.book).cash = cash;
    }

    /// Sets the account's `trading_blocked` and `account_blocked` flags.
    pub fn set_blocked(&self, trading_blocked: bool, account_blocked: bool) {
        let mut b = lock(&self.inner.book);
        b.trading_blocked = trading_blocked;
        b.account_blocked = account_blocked;
    }

    /// Fills the open order with `client_order_id` at its limit (the market reached it):
    /// a fill that races a cancel. False when there is no such open order.
    pub fn fill_open(&self, client_order_id: &str) -> bool {
        lock(&self.inner.book).fill_open(client_order_id)
    }

    /// Moves a symbol's price (the quote is built around it).
    pub fn set_price(&self, symbol: &str, price: f64) {
        lock(&self.inner.market).set_price(symbol, price);
    }

    /// The symbol's current quote.
    pub fn quote(&self, symbol: &str) -> Option<Quote> {
        lock(&self.inner.market).quote(symbol)
    }

    pub fn set_stream(&self, settings: StreamSettings) {
        *lock(&self.inner.stream) = settings;
    }

    pub fn stream_settings(&self) -> StreamSettings {
        lock(&self.inner.stream).clone()
    }

    /// Sets the per-minute request limit reported in `X-Ratelimit-Limit`; with `enforce`,
    /// requests beyond it get 429 until the window resets (off by default, so benchmarks run).
    pub fn set_rate_limit(&self, limit: u32, enforce: bool) {
        let mut r = lock(&self.inner.rate);
        r.limit = limit;
        r.enforce = enforce;
    }

    /// Sends `what` to every open data-stream connection (not while half-open); returns how
    /// many connections will get it.
    pub fn inject(&self, what: StreamInjection) -> usize {
        self.inner.inject.send(what).unwrap_or(0)
    }

    /// Authenticated data-stream connections open on `feed`.
    pub fn stream_connections(&self, feed: &str) -> usize {
        lock(&self.inner.connections)
            .get(feed)
            .copied()
            .unwrap_or(0)
    }

    fn credentials_match(&self, key: Option<&str>, secret: Option<&str>) -> bool {
        key == Some(self.inner.key.as_str()) && secret == Some(self.inner.secret.as_str())
    }
}

/// Builds the router: the trading API behind header auth and rate-limit headers, and the
/// data stream (which authenticates in-band or by the same headers).
pub fn router(state: SimState) -> Router {
    let order_gate = from_fn_with_state(state.faults().clone(), faults::order_gate);
    let trading = Router::new()
        .route("/v2/account", get(rest::account))
        .route(
            "/v2/orders",
            get(rest::list_orders).post(rest::place_order.layer(order_gate.clone())),
        )
        .route(
            "/v2/orders:by_client_order_id",
            get(rest::by_client_order_id),
        )
        .route(
            "/v2/orders/{id}",
            get(rest::get_order)
                .delete(rest::cancel_order)
                .patch(rest::replace_order.layer(order_gate)),
        )
        .route("/v2/positions", get(rest::positions))
        .route("/v2/assets", get(assets::list))
        .route("/v2/assets/{symbol}", get(assets::one))
        .route_layer(from_fn_with_state(state.clone(), require_auth))
        .route_layer(from_fn_with_state(state.clone(), rate_limit));
    Router::new()
        .route("/v2/{feed}", get(stream::upgrade))
        .route("/stream", get(events::upgrade))
        .merge(trading)
        .with_state(state)
}

/// Returns the `APCA-*` headers, when both are present and readable.
fn header_credentials(headers: &HeaderMap) -> (Option<&str>, Option<&str>) {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    (get("apca-api-key-id"), get("apca-api-secret-key"))
}

async fn require_auth(State(s): State<SimState>, req: Request, next: Next) -> Response {
    let refused = req.extensions().get::<RefuseAuth>().is_some();
    let (key, secret) = header_credentials(req.headers());
    if refused || !s.credentials_match(key, secret) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({"message": "unauthorized."}),
        );
    }
    next.run(req).await
}

async fn rate_limit(State(s): State<SimState>, req: Request, next: Next) -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (limit, remaining, reset, over) = {
        let mut r = lock(&s.inner.rate);
        if now >= r.window_start + 60 {
            r.window_start = now;
            r.used = 0;
        }
        r.used = r.used.saturating_add(1);
        (
            r.limit,
            r.limit.saturating_sub(r.used),
            r.window_start + 60,
            r.enforce && r.used > r.limit,
        )
    };
    let mut resp = if over {
        let body = serde_json::json!({"code": 42910000, "message": "rate limit exceeded"});
        json_response(StatusCode::TOO_MANY_REQUESTS, &body)
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset));
    resp
}

/// A JSON answer with `Content-Type: application/json`.
fn json_response(status: StatusCode, body: &Value) -> Response {
    let headers = [(axum::http::header::CONTENT_TYPE, "application/json")];
    (status, headers, body.to_string()).into_response()
}
