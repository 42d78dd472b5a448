//! Tastytrade simulator: the Open API (REST, OAuth2) and the DXLink market-data WebSocket on
//! one server, speaking Tastytrade's wire format (`core/src/brokers/tastytrade/PROTOCOL.md`).
//!
//! - `auth`: `POST /oauth/token` (refresh token + client secret → 15-minute access token,
//!   expiry configurable with [`SimState::set_token_ttl`]) and `GET /api-quote-tokens`
//!   (a DXLink token and `ws://<host>/dxlink`).
//! - `rest`: `/customers/me/accounts`, `/accounts/{acct}/balances/USD`, orders (place,
//!   `dry-run`, get, `live`, history, cancel) and positions, in the `{"data","context"}`
//!   envelope; `book` holds the accounts, orders, positions and quotes, `orders` the order
//!   wire form, `wire` the envelope, decimals and error bodies.
//! - `stream`: the DXLink socket at `/dxlink` and `/` (SETUP, AUTH, FEED channel, COMPACT
//!   Quote and Trade events, KEEPALIVE with a timeout, quote-token expiry, every DXLink
//!   ERROR type, a configurable rate up to an unpaced burst of pre-encoded frames).
//! - `events`: the account streamer at `/account-streamer` (`connect` and `heartbeat` with
//!   the access token, an `Order` notification for every order change the book makes).
//! - `GET /symbols/search/{prefix}`: symbols and descriptions from a small built-in list.
//!
//! Every HTTP route but the two sockets needs `User-Agent: product/version` (401 without);
//! every API route needs `Authorization: Bearer <access token>` (401 `unauthorized`, or
//! `token_expired` for an expired one). 429s carry no rate headers of Tastytrade's own.
//!
//! Left out: the legacy `/sessions` login, the account streamer's other subscriptions
//! (watchlists, quote alerts) and its balance and position notifications, options and futures legs,
//! order types other than Limit and Market, replacing orders, complex orders.
//!
//! State lives behind `std::sync::Mutex`es: every critical section is short and never
//! awaits, so a blocking lock is right and cheaper than an async one.

mod auth;
mod book;
mod events;
#[cfg(test)]
mod modify_tests;
mod orders;
mod rest;
mod stream;
#[cfg(test)]
mod tests;
mod wire;

use std::sync::{Arc, Mutex};

use crate::lock;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::broadcast;

pub use self::stream::DxLinkSettings;
use self::wire::ApiError;
use crate::faults::{self, Faults, RefuseAuth};

/// The demo OAuth refresh token.
pub const DEMO_REFRESH_TOKEN: &str = "sim-tt-refresh-0123456789abcdef";
/// The demo OAuth client secret.
pub const DEMO_CLIENT_SECRET: &str = "sim-tt-client-secret-abcdef0123456789";
/// The demo account number.
pub const DEMO_ACCOUNT: &str = "5WT00001";
/// What `brokerdesk-sim tastytrade` prints.
pub const DEMO_HINT: &str = "refresh token sim-tt-refresh-0123456789abcdef, client secret \
    sim-tt-client-secret-abcdef0123456789, account 5WT00001; send User-Agent product/version; \
    DXLink at ws://…/dxlink (rate: BROKERDESK_SIM_DXLINK_RATE, _BATCH, _BURST=1), account \
    streamer at ws://…/account-streamer";

/// The simulator's state; cheap to clone (shared).
#[derive(Clone)]
pub struct SimState {
    inner: Arc<Inner>,
}

struct Inner {
    refresh_token: String,
    client_secret: String,
    faults: Arc<Faults>,
    tokens: Mutex<auth::Tokens>,
    book: Mutex<book::Book>,
    dxlink: Mutex<DxLinkSettings>,
    /// Raw frames for every open DXLink session.
    dxlink_inject: broadcast::Sender<Arc<str>>,
    /// Raw frames for every open account-streamer session.
    account_inject: broadcast::Sender<Arc<str>>,
}

impl SimState {
    /// The demo customer: [`DEMO_REFRESH_TOKEN`] / [`DEMO_CLIENT_SECRET`] reaching
    /// [`DEMO_ACCOUNT`] with $100,000; DXLink as [`DxLinkSettings::from_env`] says.
    pub fn demo(faults: Arc<Faults>) -> Self {
        let s = Self::new(
            faults,
            DEMO_REFRESH_TOKEN,
            DEMO_CLIENT_SECRET,
            &[DEMO_ACCOUNT],
        );
        s.set_dxlink(DxLinkSettings::from_env());
        s
    }

    /// A customer reached with `refresh_token` and `client_secret`, owning `accounts`
    /// ($100,000 each).
    pub fn new(
        faults: Arc<Faults>,
        refresh_token: &str,
        client_secret: &str,
        accounts: &[&str],
    ) -> Self {
        let inner = Inner {
            refresh_token: refresh_token.to_string(),
            client_secret: client_secret.to_string(),
            faults,
            tokens: Mutex::new(auth::Tokens::new(Duration::from_secs(900))),
            book: Mutex::new(book::Book::new(accounts, 100_000.0)),
            dxlink: Mutex::new(DxLinkSettings::default()),
            dxlink_inject: broadcast::channel(256).0,
            account_inject: broadcast::channel(256).0,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn faults(&self) -> &Arc<Faults> {
        &self.inner.faults
    }

    /// Sets how long access tokens issued from now on last (whole seconds, at least 1; the
    /// `expires_in` sent is this).
    pub fn set_token_ttl(&self, ttl: Duration) {
        lock(&self.inner.tokens).ttl = Duration::from_secs(ttl.as_secs().max(1));
    }

    /// Access tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        lock(&self.inner.tokens).issued
    }

    /// Sets an account's cash; returns false if the account is unknown.
    pub fn set_cash(&self, account: &str, cash: f64) -> bool {
        lock(&self.inner.book)
            .accounts
            .get_mut(account)
            .map(|a| a.cash = cash)
            .is_some()
    }

    /// Moves a symbol's price (the quote is a cent either side).
    pub fn set_price(&self, symbol: &str, price: f64) {
        lock(&self.inner.book).set_price(symbol, price);
    }

    /// The symbol's (bid, ask).
    pub fn quote(&self, symbol: &str) -> (f64, f64) {
        lock(&self.inner.book).quote(symbol)
    }

    pub fn set_dxlink(&self, settings: DxLinkSettings) {
        *lock(&self.inner.dxlink) = settings;
    }

    pub fn dxlink_settings(&self) -> DxLinkSettings {
        lock(&self.inner.dxlink).clone()
    }

    /// Sets how long quote tokens issued from now on last (24 h by default).
    pub fn set_quote_token_ttl(&self, ttl: Duration) {
        lock(&self.inner.tokens).quote_ttl = ttl;
    }

    /// Expires every quote token issued so far: authorized DXLink sessions get
    /// `ERROR UNAUTHORIZED` and `AUTH_STATE UNAUTHORIZED` within 25 ms.
    pub fn expire_quote_tokens(&self) {
        lock(&self.inner.tokens).expire_quotes();
    }

    /// Sends `text` as a text frame, verbatim, on every open DXLink socket (garbage,
    /// oversized messages, any DXLink message). Returns how many sockets will get it.
    pub fn inject_dxlink(&self, text: impl Into<String>) -> usize {
        let text: Arc<str> = Arc::from(text.into());
        self.inner.dxlink_inject.send(text).unwrap_or(0)
    }

    /// Sends `text` as a text frame, verbatim, on every open account-streamer socket.
    /// Returns how many sockets will get it.
    pub fn inject_account_stream(&self, text: impl Into<String>) -> usize {
        let text: Arc<str> = Arc::from(text.into());
        self.inner.account_inject.send(text).unwrap_or(0)
    }
}

/// Builds the router.
pub fn router(state: SimState) -> Router {
    let order_gate = from_fn_with_state(state.faults().clone(), faults::order_gate);
    let api = Router::new()
        .route("/customers/me/accounts", get(rest::accounts))
        .route("/accounts/{acct}/balances/{currency}", get(rest::balances))
        .route(
            "/accounts/{acct}/orders",
            get(rest::history).post(rest::place.layer(order_gate.clone())),
        )
        .route("/accounts/{acct}/orders/dry-run", post(rest::dry_run))
        .route("/accounts/{acct}/orders/live", get(rest::live))
        .route(
            "/accounts/{acct}/orders/{id}",
            get(rest::get_order)
                .delete(rest::cancel)
                .put(rest::replace.layer(order_gate)),
        )
        .route("/accounts/{acct}/positions", get(rest::positions))
        .route("/api-quote-tokens", get(auth::quote_token))
        .route("/symbols/search/{prefix}", get(rest::search))
        .route_layer(from_fn_with_state(state.clone(), require_bearer));
    let http = api
        .route("/oauth/token", post(auth::token))
        .route_layer(from_fn(require_user_agent));
    http.route("/dxlink", get(stream::upgrade))
        .route("/account-streamer", get(events::upgrade))
        .route("/", get(stream::upgrade))
        .with_state(state)
}

/// Refuses requests without `User-Agent: product/version`, as Tastytrade does.
async fn require_user_agent(req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split_once('/'))
        .is_some_and(|(product, version)| !product.trim().is_empty() && !version.trim().is_empty());
    if !ok {
        let mut e = ApiError::unauthorized();
        e.message = "A User-Agent header of the form product/version is required".into();
        return e.into_response();
    }
    next.run(req).await
}

async fn require_bearer(State(s): State<SimState>, req: Request, next: Next) -> Response {
    if req.extensions().get::<RefuseAuth>().is_some() {
        return ApiError::unauthorized().into_response();
    }
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let Some(token) = token else {
        return ApiError::unauthorized().into_response();
    };
    let epoch = s.faults().session_epoch();
    match lock(&s.inner.tokens).check(&token, epoch) {
        Ok(()) => {}
        Err(auth::Refusal::Expired) => return ApiError::token_expired().into_response(),
        Err(auth::Refusal::Unknown) => return ApiError::unauthorized().into_response(),
    }
    next.run(req).await
}
