//! OANDA v20 simulator: the REST API and the pricing stream under `/v3`, on one port (the
//! connector takes the REST and stream base URLs separately, so both may point here).
//!
//! [`SimState`] holds the valid token, the fault switches and the [`book::Book`] (accounts,
//! orders, positions, transactions, prices) behind a std `Mutex`: every critical section is
//! short and never awaits, so a blocking lock is right and cheaper than tokio's. One
//! router-level middleware checks `Authorization: Bearer`, answers OANDA's own 401 for a bad
//! token or the shared `RefuseAuth` fault, and stamps a `RequestID` on every answer (the id
//! also lands in the transactions the request creates).
//!
//! - `rest`, `stream`: the handlers (REST; the pricing snapshot and stream); `events`: the
//!   transaction stream, fed by every transaction an account records.
//! - `orders`, `execution`: order creation, lookup, cancellation, replacement; fills and
//!   instant cancels.
//! - `book`: accounts, net positions, the per-account transaction log; `market`: prices.
//! - `wire`: the formats (decimals as strings, RFC 3339 nanosecond times, error bodies).
//!
//! Left out: trades, hedging accounts, stop/take-profit orders,
//! token expiry (OANDA tokens last until revoked, so `Faults::expire_sessions` is ignored).

mod book;
mod events;
mod execution;
mod market;
mod orders;
mod rest;
mod stream;
#[cfg(test)]
mod tests;
mod wire;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, put};
use axum::Router;

use self::book::{Account, Book};
use self::market::Market;
use crate::faults::{self, Faults, RefuseAuth};

/// The demo token.
pub const DEMO_TOKEN: &str = "sim-oanda-token-0123456789abcdef";
/// The demo accounts, both reachable with [`DEMO_TOKEN`].
pub const DEMO_ACCOUNTS: [&str; 2] = ["101-004-1234567-001", "101-004-1234567-002"];
/// What `brokerdesk-sim oanda` prints.
pub const DEMO_HINT: &str =
    "token sim-oanda-token-0123456789abcdef, accounts 101-004-1234567-001/-002";

/// The simulator's state, shared by every handler.
#[derive(Debug)]
pub struct SimState {
    faults: Arc<Faults>,
    token: String,
    book: Mutex<Book>,
    /// How often the pricing stream sends changed prices (OANDA conflates to 250 ms).
    pub price_interval: Duration,
    /// How often the pricing stream sends a heartbeat (OANDA: 5 s).
    pub heartbeat_interval: Duration,
    /// PRICE lines per second from a pre-encoded ring instead of the live random walk
    /// (`Some(0)`: as fast as the client reads), for benchmarks and load demos.
    pub stream_rate: Option<u64>,
    request_ids: AtomicU64,
}

/// The `RequestID` of the request being served (a request extension).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestId(pub u64);

impl SimState {
    /// The demo broker: [`DEMO_TOKEN`] reaching [`DEMO_ACCOUNTS`], 100 000 USD each.
    pub fn demo(faults: Arc<Faults>) -> Self {
        Self::new(faults, DEMO_TOKEN, &DEMO_ACCOUNTS)
    }

    /// A broker where `token` reaches `accounts` (ids like `101-004-1234567-001`).
    pub fn new(faults: Arc<Faults>, token: &str, accounts: &[&str]) -> Self {
        Self {
            faults,
            token: token.to_string(),
            book: Mutex::new(Book::new(accounts)),
            price_interval: market::STEP,
            heartbeat_interval: Duration::from_secs(5),
            stream_rate: None,
            request_ids: AtomicU64::new(24_609_427_281_788_906),
        }
    }

    /// Returns the state with other stream intervals (short ones for tests).
    pub fn with_intervals(mut self, price: Duration, heartbeat: Duration) -> Self {
        self.price_interval = price.max(Duration::from_millis(1));
        self.heartbeat_interval = heartbeat.max(Duration::from_millis(1));
        self
    }

    /// Returns the state streaming `lines_per_second` pre-encoded PRICE lines (0 = burst).
    pub fn with_stream_rate(mut self, lines_per_second: u64) -> Self {
        self.stream_rate = Some(lines_per_second);
        self
    }

    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    /// Halts or reopens an instrument (market orders get cancelled with `MARKET_HALTED`).
    /// Returns false if the instrument is unknown.
    pub fn set_halted(&self, instrument: &str, halted: bool) -> bool {
        self.with_book(|b| {
            b.market
                .instruments
                .get_mut(instrument)
                .map(|i| i.halted = halted)
                .is_some()
        })
    }

    /// Sets an account's balance (a small one makes orders fail with `INSUFFICIENT_MARGIN`).
    /// Returns false if the account is unknown.
    pub fn set_balance(&self, account: &str, balance: f64) -> bool {
        self.with_book(|b| {
            b.accounts
                .get_mut(account)
                .map(|a| a.balance = balance)
                .is_some()
        })
    }

    /// The current mid price of an instrument.
    pub fn mid(&self, instrument: &str) -> Option<f64> {
        self.with_book(|b| b.market.get(instrument).map(|i| i.mid))
    }

    /// Runs `f` on the book after bringing prices (and resting orders) up to now.
    fn with_book<R>(&self, f: impl FnOnce(&mut Book) -> R) -> R {
        // A panic elsewhere cannot leave the book half-updated in a way that matters to a
        // simulator; keep serving rather than poisoning every later request.
        let mut book = self.book.lock().unwrap_or_else(|e| e.into_inner());
        book.refresh();
        f(&mut book)
    }

    /// Runs `f` on one account, or answers OANDA's 404 when there is no such account.
    fn with_account(
        &self,
        id: &str,
        f: impl FnOnce(&mut Account, &Market) -> Response,
    ) -> Response {
        self.with_book(|b| match b.accounts.get_mut(id) {
            Some(acct) => f(acct, &b.market),
            None => wire::no_account(),
        })
    }

    fn bearer_ok(&self, headers: &HeaderMap) -> bool {
        let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let mut parts = v.splitn(2, ' ');
        let scheme = parts.next().unwrap_or_default();
        let token = parts.next().unwrap_or_default().trim();
        scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token == self.token
    }
}

/// Builds the router. Accepts a `SimState` or an `Arc<SimState>` the caller keeps to flip
/// switches ([`SimState::set_halted`], …) while serving.
pub fn router(state: impl Into<Arc<SimState>>) -> Router {
    let state: Arc<SimState> = state.into();
    let order_gate = middleware::from_fn_with_state(state.faults.clone(), faults::order_gate);
    Router::new()
        .route("/v3/accounts", get(rest::accounts))
        .route("/v3/accounts/{id}/summary", get(rest::summary))
        .route("/v3/accounts/{id}/instruments", get(rest::instruments))
        .route(
            "/v3/accounts/{id}/orders",
            get(rest::pending).post(rest::create.layer(order_gate.clone())),
        )
        .route(
            "/v3/accounts/{id}/orders/{spec}",
            get(rest::order).put(rest::replace.layer(order_gate)),
        )
        .route("/v3/accounts/{id}/orders/{spec}/cancel", put(rest::cancel))
        .route("/v3/accounts/{id}/pendingOrders", get(rest::pending))
        .route("/v3/accounts/{id}/openPositions", get(rest::positions))
        .route(
            "/v3/accounts/{id}/transactions/{tx}",
            get(rest::transaction),
        )
        .route("/v3/accounts/{id}/pricing", get(stream::pricing))
        .route("/v3/accounts/{id}/pricing/stream", get(stream::stream))
        .route("/v3/accounts/{id}/transactions/stream", get(events::stream))
        .fallback(rest::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

/// Authenticates every request and stamps its `RequestID`.
async fn gate(State(st): State<Arc<SimState>>, mut req: Request, next: Next) -> Response {
    let id = st.request_ids.fetch_add(1, Ordering::SeqCst);
    req.extensions_mut().insert(RequestId(id));
    let refused = req.extensions().get::<RefuseAuth>().is_some();
    let mut resp = if !refused && st.bearer_ok(req.headers()) {
        next.run(req).await
    } else {
        wire::unauthorized()
    };
    if let Ok(v) = HeaderValue::from_str(&id.to_string()) {
        // Header names are case-insensitive; HTTP/1.1 writes them lower-case (`requestid`).
        resp.headers_mut().insert("requestid", v);
    }
    resp
}
