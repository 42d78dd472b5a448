//! Tradier connector: the brokerage API over REST under `{rest}` (`…/v1`), and the market
//! stream's session (`brokers/tradier/PROTOCOL.md`).
//!
//! - `http`: bearer auth, `Accept: application/json` (Tradier answers XML without it), form
//!   bodies, error bodies → [`BrokerError`].
//! - `models`: the wire types (lists of one collapsed, empty lists as `"null"`).
//!
//! One token can reach several accounts: calls use the configured account number, else the
//! token's only account (looked up once in the profile); several and none chosen is a
//! configuration error that lists them. [`Broker::verify`] reads the profile and the
//! balances, and refuses a configured account the token does not reach.
//!
//! Orders are equity `day` orders; the client order id travels as `tag`, sanitised to
//! Tradier's charset by [`tradier_tag`]. Tradier neither enforces unique tags nor looks
//! orders up by tag, so [`Broker::get_order_by_client_id`] filters the order list (which
//! covers the day's and open orders), and [`Broker::place_order`] first looks there for an
//! order already carrying the tag and returns it instead of placing a second one. After
//! placing, the order is read back; if that read fails, the order is reported `Pending` under
//! its new id rather than as an error that would invite a resubmission.
//!
//! Modifying an order changes it in place ([`ModifyStyle::InPlace`], `PUT …/orders/{id}`
//! with `type`, `duration`, `price`, `stop`): the order keeps its id and tag. Tradier cannot
//! change a quantity, so such a change is refused before anything is sent.
//!
//! Streaming: [`Tradier::stream_session`] creates the session the market WebSocket
//! ([`Tradier::stream_url`]) needs, [`StreamSession::payload`] builds the subscription, and
//! [`Tradier::open_stream`] ([`Broker::open_quote_stream`]) opens a [`TradierStream`] (see
//! `stream`). Each stream takes a new session, so reconnecting after an expiry just opens a
//! new stream. Order events come the same way from the account WebSocket (`stream::events`,
//! [`Broker::open_order_events`]). [`Broker::search_instruments`] asks `markets/lookup`
//! (symbols) and `markets/search` (company names) at once and merges them, lookup first.

mod http;
mod models;
pub mod stream;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio::sync::OnceCell;

use self::http::TradierHttp;
pub use self::models::{tradier_tag, TAG_MAX};
use self::models::{
    BalancesResponse, Order, OrderAck, OrderResponse, OrdersResponse, PositionsResponse,
    ProfileAccount, ProfileResponse, SecuritiesResponse, Security, SessionResponse,
};
pub use self::stream::events::{parse_account_frame, AccountEvents};
pub use self::stream::{parse_frame, FrameSummary, Subscriptions, TradierStream};
use super::ws::WsOptions;
use super::{
    last4, wire, AccountSummary, Broker, BrokerAccountRef, BrokerError, ConnectorConfig,
    ModifyStyle, OrderChange, OrderEventStream, OrderSide, OrderState, OrderStatus, OrderType,
    Position,
};
use crate::accounts::model::{BrokerKind, Environment};
pub use crate::brokers::http::RateLimit;
use crate::money::Decimal;
use crate::secret::Secret;
use crate::stream::{InstrumentInfo, QuoteStream};
use crate::trading::{OrderIntent, TimeInForce};

/// How often an idle market stream is pinged (Tradier sends no heartbeat of its own).
pub const STREAM_PING_EVERY: Duration = Duration::from_secs(10);

/// The most results [`Broker::search_instruments`] returns.
const SEARCH_MAX: usize = 50;

/// The Tradier connector. Cheap to share behind an `Arc`; requests reuse one connection pool.
pub struct Tradier {
    http: TradierHttp,
    environment: Environment,
    /// The account number the user configured, if any.
    account_id: Option<String>,
    /// The token's only account, when none is configured.
    resolved: OnceCell<String>,
    stream_url: String,
    stream_ping: Duration,
    timeout: Duration,
    /// The quantity of every order seen (placed or read), by id: Tradier never changes an
    /// order's quantity, so this cannot go stale, and [`Broker::modify_order`] can refuse a
    /// quantity change without asking.
    quantities: Mutex<HashMap<String, Decimal>>,
}

/// The most order quantities [`Tradier`] remembers; past it, it forgets them all (a
/// forgotten one is read again when needed).
const QUANTITIES_MAX: usize = 4096;

impl std::fmt::Debug for Tradier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written so the token can never reach a log.
        f.debug_struct("Tradier")
            .field("environment", &self.environment)
            .field("rest", &self.http.url(&[]).as_str())
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

/// A market-stream session: valid for 5 minutes until a socket uses it.
pub struct StreamSession {
    /// The HTTP stream URL Tradier names (the WebSocket is at [`Tradier::stream_url`]).
    pub url: String,
    /// The session id, which carries the auth on the WebSocket.
    pub session_id: Secret,
}

impl std::fmt::Debug for StreamSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSession")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl StreamSession {
    /// The payload that (re)subscribes a socket to quotes and trades of `symbols`.
    pub fn payload(&self, symbols: &[&str]) -> String {
        json!({
            "symbols": symbols, "sessionid": self.session_id.expose(),
            "filter": ["trade", "quote"], "linebreak": true, "validOnly": true,
            "advancedDetails": false,
        })
        .to_string()
    }
}

fn invalid(message: &str) -> BrokerError {
    BrokerError::Rejected {
        status: 0,
        code: "invalid_order".into(),
        message: message.into(),
    }
}

impl Tradier {
    /// Builds the connector; the token is `cfg.api_key`. Fails with [`BrokerError::Config`]
    /// without a usable token or REST URL.
    pub fn new(cfg: ConnectorConfig) -> Result<Self, BrokerError> {
        crate::brokers::http::expect_broker(&cfg, BrokerKind::Tradier, "Tradier")?;
        Ok(Self {
            http: TradierHttp::new(&cfg)?,
            environment: cfg.environment,
            account_id: cfg
                .account_id
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty()),
            resolved: OnceCell::new(),
            stream_url: cfg.stream_url,
            stream_ping: STREAM_PING_EVERY,
            timeout: cfg.timeout,
            quantities: Mutex::new(HashMap::new()),
        })
    }

    /// Pings idle market streams every `every` instead of [`STREAM_PING_EVERY`] (their
    /// silence limit is twice that).
    pub fn with_stream_ping(mut self, every: Duration) -> Self {
        self.stream_ping = every;
        self
    }

    /// Opens the market stream subscribed to `instruments`: a new session, then the
    /// WebSocket at [`Tradier::stream_url`].
    pub async fn open_stream(&self, instruments: &[String]) -> Result<TradierStream, BrokerError> {
        let session = self.stream_session().await?;
        let sandbox = self.environment == Environment::Practice;
        let opts = self.ws_options();
        TradierStream::connect(&self.stream_url, session, instruments, &opts, sandbox).await
    }

    /// How the stream WebSockets connect: no headers (the session id is the auth), pinged
    /// every `stream_ping` while idle.
    fn ws_options(&self) -> WsOptions {
        WsOptions {
            headers: Vec::new(),
            connect_timeout: self.timeout,
            ping_every: self.stream_ping,
            tls: None,
        }
    }

    async fn securities(&self, endpoint: &str, query: &str) -> Result<Vec<Security>, BrokerError> {
        let mut url = self.http.url(&["markets", endpoint]);
        url.query_pairs_mut().append_pair("q", query);
        if endpoint == "search" {
            url.query_pairs_mut().append_pair("indexes", "true");
        }
        let r: SecuritiesResponse = self.http.get(url).await?;
        Ok(r.into_vec())
    }

    /// The request budget Tradier reported with its last answer.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.http.rate_limit()
    }

    /// The market WebSocket's URL (`wss://ws.tradier.com/v1/markets/events`).
    pub fn stream_url(&self) -> &str {
        &self.stream_url
    }

    /// Creates a market-stream session (`POST /v1/markets/events/session`).
    pub async fn stream_session(&self) -> Result<StreamSession, BrokerError> {
        self.session("markets").await
    }

    /// Creates a streaming session for `scope`'s events (`POST /v1/{scope}/events/session`:
    /// `markets` or `accounts`).
    async fn session(&self, scope: &str) -> Result<StreamSession, BrokerError> {
        let url = self.http.url(&[scope, "events", "session"]);
        let s: SessionResponse = self.http.post_form(url, &[]).await?;
        Ok(StreamSession {
            url: s.stream.url,
            session_id: Secret::new(s.stream.sessionid),
        })
    }

    async fn profile_accounts(&self) -> Result<Vec<ProfileAccount>, BrokerError> {
        let p: ProfileResponse = self.http.get(self.http.url(&["user", "profile"])).await?;
        Ok(p.profile.account.map(|a| a.into_vec()).unwrap_or_default())
    }

    /// The account calls go to: the configured one, else the token's only one.
    async fn account(&self) -> Result<&str, BrokerError> {
        if let Some(a) = &self.account_id {
            return Ok(a);
        }
        self.resolved
            .get_or_try_init(|| async {
                let accounts = self.profile_accounts().await?;
                match accounts.as_slice() {
                    [one] => Ok(one.account_number.clone()),
                    [] => Err(BrokerError::Config("this token reaches no account".into())),
                    several => Err(BrokerError::Config(format!(
                        "this token reaches several accounts ({}); choose one",
                        list(several)
                    ))),
                }
            })
            .await
            .map(String::as_str)
    }

    async fn account_url(&self, rest: &[&str]) -> Result<url::Url, BrokerError> {
        let account = self.account().await?;
        let mut segments = vec!["accounts", account];
        segments.extend_from_slice(rest);
        Ok(self.http.url(&segments))
    }

    /// The URL of one order, refusing ids that are not Tradier's (numbers).
    async fn order_url(&self, broker_order_id: &str) -> Result<url::Url, BrokerError> {
        let id = broker_order_id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(BrokerError::NotFound("malformed Tradier order id".into()));
        }
        self.account_url(&["orders", id]).await
    }

    async fn orders(&self) -> Result<Vec<Order>, BrokerError> {
        let mut url = self.account_url(&["orders"]).await?;
        url.query_pairs_mut().append_pair("includeTags", "true");
        let r: OrdersResponse = self.http.get(url).await?;
        Ok(r.into_vec())
    }

    /// Remembers the quantities of `orders` (see [`Tradier::quantities`]).
    fn note_quantities<'a>(&self, orders: impl IntoIterator<Item = &'a OrderState>) {
        let mut known = self.quantities.lock().unwrap_or_else(|e| e.into_inner());
        for o in orders {
            if known.len() >= QUANTITIES_MAX && !known.contains_key(&o.broker_order_id) {
                known.clear();
            }
            known.insert(o.broker_order_id.clone(), o.quantity);
        }
    }

    fn known_quantity(&self, broker_order_id: &str) -> Option<Decimal> {
        let known = self.quantities.lock().unwrap_or_else(|e| e.into_inner());
        known.get(broker_order_id.trim()).copied()
    }

    /// Reads one order (`GET …/orders/{id}`).
    async fn read_order(&self, broker_order_id: &str) -> Result<OrderState, BrokerError> {
        let r: OrderResponse = self
            .http
            .get(self.order_url(broker_order_id).await?)
            .await?;
        let state = r.order.into_state().ok_or_else(|| {
            BrokerError::Protocol("the order has a side this desk does not trade".into())
        })?;
        self.note_quantities([&state]);
        Ok(state)
    }

    async fn find_by_tag(&self, tag: &str) -> Result<Option<OrderState>, BrokerError> {
        let found = self
            .orders()
            .await?
            .into_iter()
            .rev()
            .find(|o| o.tag.as_deref() == Some(tag))
            .and_then(Order::into_state);
        self.note_quantities(&found);
        Ok(found)
    }
}

/// The form fields of an order's terms: `duration`, `type` and `price` or `stop` (what
/// placing and changing an order share).
fn terms_form(order: &OrderIntent) -> Vec<(&'static str, String)> {
    let duration = match order.time_in_force() {
        TimeInForce::Day => "day",
        TimeInForce::Gtc => "gtc",
    };
    let mut form = vec![("duration", duration.to_string())];
    match (order.order_type(), order.limit_price(), order.stop_price()) {
        (OrderType::Limit, Some(p), _) => {
            form.push(("type", "limit".into()));
            form.push(("price", wire::decimal_string(p)));
        }
        (OrderType::Stop, _, Some(p)) => {
            form.push(("type", "stop".into()));
            form.push(("stop", wire::decimal_string(p)));
        }
        _ => form.push(("type", "market".into())),
    }
    form
}

/// `••••1234, ••••5678`.
fn list(accounts: &[ProfileAccount]) -> String {
    let shown: Vec<String> = accounts
        .iter()
        .map(|a| format!("••••{}", last4(&a.account_number)))
        .collect();
    shown.join(", ")
}

#[async_trait]
impl Broker for Tradier {
    fn kind(&self) -> BrokerKind {
        BrokerKind::Tradier
    }

    async fn verify(&self) -> Result<AccountSummary, BrokerError> {
        let accounts = self.profile_accounts().await?;
        if let Some(want) = &self.account_id {
            if !accounts
                .iter()
                .any(|a| a.account_number.eq_ignore_ascii_case(want))
            {
                return Err(BrokerError::Config(format!(
                    "this token reaches {}, not the configured ••••{}",
                    list(&accounts),
                    last4(want)
                )));
            }
        }
        let b: BalancesResponse = self
            .http
            .get(self.account_url(&["balances"]).await?)
            .await?;
        let b = b.balances;
        let status = accounts
            .iter()
            .find(|a| a.account_number == b.account_number)
            .and_then(|a| a.status.clone())
            .filter(|s| !s.eq_ignore_ascii_case("active"));
        let kind = b.account_type.clone().unwrap_or_else(|| "unknown".into());
        Ok(AccountSummary {
            account_last4: last4(&b.account_number),
            account_type: match status {
                Some(s) => format!("{kind} ({s})"),
                None => kind,
            },
            // Tradier accounts are in USD; balances carry no currency.
            currency: "USD".into(),
            balance: b.total_cash.unwrap_or(Decimal::ZERO),
            equity: b.total_equity.unwrap_or(Decimal::ZERO),
            buying_power: b.buying_power(),
            account_id: b.account_number,
        })
    }

    async fn list_accounts(&self) -> Result<Vec<BrokerAccountRef>, BrokerError> {
        let accounts = self.profile_accounts().await?;
        Ok(accounts
            .into_iter()
            .map(|a| BrokerAccountRef {
                label: a.kind.map(|k| format!("Tradier {k}")),
                account_id: a.account_number,
            })
            .collect())
    }

    async fn place_order(&self, order: &OrderIntent) -> Result<OrderState, BrokerError> {
        let qty = order.quantity();
        if !qty.fract().is_zero() || qty > Decimal::from(1_000_000_000) {
            return Err(invalid(
                "Tradier equity orders need a positive whole number of shares",
            ));
        }
        if order.has_exits() {
            // Tradier attaches exits only through OTOCO orders, which this desk does not
            // send yet: refused rather than placed without the stop-loss.
            return Err(BrokerError::Unsupported(
                "attaching a stop-loss or take-profit",
            ));
        }
        let symbol = order.symbol().to_uppercase();
        let tag = tradier_tag(order.client_order_id());
        if !tag.is_empty() {
            if let Some(existing) = self.find_by_tag(&tag).await? {
                return Ok(OrderState {
                    client_order_id: Some(order.client_order_id().to_string()),
                    ..existing
                });
            }
        }
        let mut form = vec![
            ("class", "equity".to_string()),
            ("symbol", symbol.clone()),
            (
                "side",
                match order.side() {
                    OrderSide::Buy => "buy",
                    OrderSide::Sell => "sell",
                }
                .to_string(),
            ),
            // Whole shares: `10`, never `10.0` or `1e1`.
            ("quantity", wire::decimal_string(qty)),
        ];
        form.extend(terms_form(order));
        if !tag.is_empty() {
            form.push(("tag", tag));
        }
        let ack: OrderAck = self
            .http
            .post_form(self.account_url(&["orders"]).await?, &form)
            .await?;
        let id = ack.order.id;
        let read = self.read_order(&id).await;
        Ok(match read {
            Ok(state) => OrderState {
                client_order_id: Some(order.client_order_id().to_string()),
                ..state
            },
            Err(e) => {
                tracing::warn!(error = %e, order_id = %id, "placed, but reading the order back failed");
                OrderState {
                    broker_order_id: id,
                    client_order_id: Some(order.client_order_id().to_string()),
                    symbol,
                    side: order.side(),
                    quantity: qty,
                    filled_quantity: Decimal::ZERO,
                    avg_fill_price: None,
                    status: OrderStatus::Pending,
                    broker_status: ack.order.status,
                    terms: Some(crate::brokers::OrderTerms::of(order)),
                }
            }
        })
    }

    fn modify_style(&self) -> ModifyStyle {
        ModifyStyle::InPlace
    }

    /// Changes the order in place (`PUT …/orders/{id}` with `type`, `duration` and `price` or
    /// `stop`) and reads it back. Tradier cannot change a quantity: a change of it is refused
    /// with [`BrokerError::Unsupported`] before anything is sent (the order's quantity is
    /// known from placing or reading it; an order this connector never saw is read first).
    async fn modify_order(&self, change: &OrderChange) -> Result<OrderState, BrokerError> {
        let order = &change.order;
        if order.has_exits() {
            return Err(BrokerError::Unsupported(
                "attaching a stop-loss or take-profit",
            ));
        }
        let id = change.broker_order_id.trim();
        let quantity = match self.known_quantity(id) {
            Some(q) => q,
            None => self.read_order(id).await?.quantity,
        };
        if quantity != order.quantity() {
            return Err(BrokerError::Unsupported("changing the quantity"));
        }
        let _: OrderAck = self
            .http
            .put_form(self.order_url(id).await?, &terms_form(order))
            .await?;
        match self.read_order(id).await {
            Ok(state) => Ok(state),
            Err(e) => {
                // Changed, but not read back: report it pending with the terms sent, rather
                // than an error that would invite sending the change again.
                tracing::warn!(error = %e, order_id = %id, "changed, but reading the order back failed");
                Ok(OrderState {
                    broker_order_id: id.to_string(),
                    client_order_id: None,
                    symbol: order.symbol().to_uppercase(),
                    side: order.side(),
                    quantity,
                    filled_quantity: Decimal::ZERO,
                    avg_fill_price: None,
                    status: OrderStatus::Pending,
                    broker_status: "ok".into(),
                    terms: Some(crate::brokers::OrderTerms::of(order)),
                })
            }
        }
    }

    async fn cancel_order(&self, broker_order_id: &str) -> Result<(), BrokerError> {
        let _: OrderAck = self
            .http
            .delete(self.order_url(broker_order_id).await?)
            .await?;
        Ok(())
    }

    async fn get_order(&self, broker_order_id: &str) -> Result<OrderState, BrokerError> {
        self.read_order(broker_order_id).await
    }

    async fn get_order_by_client_id(
        &self,
        client_order_id: &str,
    ) -> Result<Option<OrderState>, BrokerError> {
        let tag = tradier_tag(client_order_id);
        if tag.is_empty() {
            return Ok(None);
        }
        Ok(self.find_by_tag(&tag).await?.map(|s| OrderState {
            client_order_id: Some(client_order_id.to_string()),
            ..s
        }))
    }

    /// Returns the working orders (`open`, `partially_filled`, `pending`) among the list.
    async fn open_orders(&self) -> Result<Vec<OrderState>, BrokerError> {
        let open: Vec<OrderState> = self
            .orders()
            .await?
            .into_iter()
            .filter_map(Order::into_state)
            .filter(|o| {
                matches!(
                    o.status,
                    OrderStatus::Open | OrderStatus::PartiallyFilled | OrderStatus::Pending
                )
            })
            .collect();
        self.note_quantities(&open);
        Ok(open)
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        let r: PositionsResponse = self
            .http
            .get(self.account_url(&["positions"]).await?)
            .await?;
        Ok(r.into_positions())
    }

    async fn open_quote_stream(
        &self,
        instruments: &[String],
    ) -> Result<Box<dyn QuoteStream>, BrokerError> {
        Ok(Box::new(self.open_stream(instruments).await?))
    }

    async fn open_order_events(&self) -> Result<Box<dyn OrderEventStream>, BrokerError> {
        Ok(Box::new(self.open_account_events().await?))
    }

    /// Symbols first (`markets/lookup`), then company names (`markets/search`), without
    /// duplicates. One of the two failing (other than on auth) still returns the other's.
    async fn search_instruments(&self, query: &str) -> Result<Vec<InstrumentInfo>, BrokerError> {
        let q = query.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let (lookup, search) =
            tokio::join!(self.securities("lookup", q), self.securities("search", q));
        let found = match (lookup, search) {
            (Ok(mut a), Ok(b)) => {
                a.extend(b);
                a
            }
            (Err(e @ BrokerError::Auth(_)), _) | (_, Err(e @ BrokerError::Auth(_))) => {
                return Err(e)
            }
            (Ok(a), Err(e)) | (Err(e), Ok(a)) => {
                tracing::warn!(error = %e, "half of the Tradier instrument search failed");
                a
            }
            (Err(e), Err(_)) => return Err(e),
        };
        let mut seen = std::collections::HashSet::new();
        Ok(found
            .into_iter()
            .filter(|s| !s.symbol.is_empty() && seen.insert(s.symbol.clone()))
            .take(SEARCH_MAX)
            .map(Security::into_info)
            .collect())
    }
}
