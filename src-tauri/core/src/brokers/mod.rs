//! Broker connectors: one [`Broker`] trait, one connector per broker, all with the same
//! folder shape (`<broker>/{mod,http,models}.rs`, tests against `brokerdesk-sim`).
//!
//! A connector is built from an account's configuration ([`ConnectorConfig`]: environment,
//! endpoint overrides, credentials) and talks the broker's real wire protocol. Errors are
//! classified ([`BrokerError`]) so the connection manager knows whether retrying can help:
//! authentication failures never retry, rate limits honour `Retry-After`, network faults and
//! 5xx retry with backoff. No error message ever contains a credential.

pub mod alpaca;
pub mod guard;
pub mod http;
pub mod ibkr;
pub mod oanda;
pub mod paper;
pub mod pin;
pub mod tastytrade;
pub mod tradier;
pub mod wire;
pub mod ws;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::accounts::catalog::broker_info;
use crate::accounts::model::{BrokerKind, Environment};
use crate::error::{Code, ErrorCode};
use crate::money::Decimal;
use crate::secret::Secret;
use crate::stream::{InstrumentInfo, QuoteStream};
use crate::trading::OrderIntent;

/// What a connector needs: where to connect and with what.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub broker: BrokerKind,
    pub environment: Environment,
    /// The broker's account id, when the account config has one.
    pub account_id: Option<String>,
    /// The REST base URL: the account's override, else the catalog default.
    pub rest_url: String,
    /// The stream base URL: the account's override, else the catalog default.
    pub stream_url: String,
    pub api_key: Option<Secret>,
    pub api_secret: Option<Secret>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// The stream's heartbeat / keepalive / ping interval; `None` = the broker's documented
    /// one. Two intervals of silence mean the stream is dead. Tests shorten it.
    pub stream_heartbeat: Option<Duration>,
    /// The certificate pin of a gateway on this machine served over `https` (IBKR), shared
    /// with whoever stores it: `None` lets the connector pin the first certificate it sees
    /// (see [`pin`]). Ignored by every other connector, and for any other endpoint.
    pub tls_pin: Option<std::sync::Arc<pin::TlsPin>>,
}

impl ConnectorConfig {
    /// Resolves endpoints: overrides win, then the catalog's defaults for the environment.
    pub fn new(
        broker: BrokerKind,
        environment: Environment,
        account_id: Option<String>,
        rest_override: Option<&str>,
        stream_override: Option<&str>,
    ) -> Result<Self, BrokerError> {
        let info = broker_info(broker);
        let env = info
            .environments
            .iter()
            .find(|e| e.environment == environment)
            .ok_or_else(|| {
                BrokerError::Config(format!("{} has no {environment} environment", info.label))
            })?;
        let rest = rest_override
            .map(str::to_string)
            .or_else(|| env.rest_url.clone());
        let stream = stream_override
            .map(str::to_string)
            .or_else(|| env.stream_url.clone());
        let rest_url = rest.unwrap_or_default().trim_end_matches('/').to_string();
        let stream_url = stream.unwrap_or_default().trim_end_matches('/').to_string();
        // The account form applies the endpoint policy, but a database edited outside
        // Brokerdesk skips the form: apply it again to whatever is about to be connected to,
        // so a token never goes to a plain-text endpoint on another machine.
        for (what, url, schemes) in [
            ("REST", &rest_url, &["https", "http"][..]),
            ("stream", &stream_url, &["https", "http", "wss", "ws"][..]),
        ] {
            if url.is_empty() {
                continue;
            }
            if let Err(why) = crate::accounts::validate::check_url(url, schemes) {
                return Err(BrokerError::Config(format!(
                    "refusing to connect to the {what} URL {:?}: {} Edit the account's endpoints.",
                    crate::text::cap(url, 200),
                    why.trim_end_matches('.').to_string() + "."
                )));
            }
        }
        Ok(Self {
            broker,
            environment,
            account_id,
            rest_url,
            stream_url,
            api_key: None,
            api_secret: None,
            timeout: Duration::from_secs(10),
            stream_heartbeat: None,
            tls_pin: None,
        })
    }

    /// Returns the config with credentials.
    pub fn with_credentials(mut self, api_key: Option<Secret>, api_secret: Option<Secret>) -> Self {
        self.api_key = api_key;
        self.api_secret = api_secret;
        self
    }
}

/// A broker call failure, classified for retry decisions.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum BrokerError {
    /// The broker refused the credentials (401/403 on auth). Never retried: the user must act.
    #[error("the broker refused the credentials: {0}")]
    Auth(String),
    /// Too many requests; retry after the given delay (from `Retry-After` when sent).
    #[error("rate limited by the broker{}", .retry_after.map(|d| format!("; retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// The broker answered 5xx.
    #[error("the broker is unavailable (HTTP {status}): {message}")]
    Unavailable { status: u16, message: String },
    /// Connecting or reading failed (refused, reset, DNS, TLS).
    #[error("network error: {0}")]
    Network(String),
    /// No answer in time.
    #[error("the broker did not answer within {0:?}")]
    Timeout(Duration),
    /// The answer was not what the protocol says (garbage, wrong shape).
    #[error("the broker sent an unexpected answer: {0}")]
    Protocol(String),
    /// The broker understood and refused the request (4xx other than auth).
    #[error("the broker rejected the request ({code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// The thing asked for does not exist.
    #[error("not found at the broker: {0}")]
    NotFound(String),
    /// The account's configuration cannot be used with this broker.
    #[error("configuration error: {0}")]
    Config(String),
    /// The connector does not support this call.
    #[error("{0} is not supported by this broker")]
    Unsupported(&'static str),
    /// The gateway presented another certificate than the one pinned for the account: the
    /// handshake was aborted, nothing was sent (see [`pin`]). Never retried: the user must
    /// trust the new certificate, or find out why it changed.
    #[error("the IBKR gateway at {origin} presented a TLS certificate (SHA-256 {presented}) that is not the one pinned for this account (SHA-256 {pinned}); nothing was sent to it. If you regenerated or replaced the gateway's certificate, compare that fingerprint with the gateway's and trust it: `brokerdesk account trust-certificate ACCOUNT {presented}`, or in the app: the account's page → Trust the new certificate")]
    CertificateChanged {
        /// `host:port`.
        origin: String,
        pinned: String,
        presented: String,
    },
    /// The circuit breaker refused the call: nothing was sent (see [`guard`]).
    #[error("the broker is unavailable: {0}")]
    CircuitOpen(String),
}

impl BrokerError {
    /// The error's text, bounded: what a broker (or a hostile endpoint) says can be megabytes,
    /// and this is what connection histories, order reasons and messages keep.
    pub fn text(&self) -> String {
        crate::text::cap(&self.to_string(), crate::text::MAX_EXTERNAL_TEXT)
    }

    /// Returns true when retrying the same call later can succeed.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            BrokerError::RateLimited { .. }
                | BrokerError::Unavailable { .. }
                | BrokerError::Network(_)
                | BrokerError::Timeout(_)
                | BrokerError::CircuitOpen(_)
        )
    }
}

impl ErrorCode for BrokerError {
    fn code(&self) -> Code {
        match self {
            BrokerError::Auth(_) => Code::BrokerAuth,
            BrokerError::RateLimited { .. } => Code::BrokerRateLimited,
            BrokerError::Unavailable { .. } => Code::BrokerUnavailable,
            BrokerError::Network(_) => Code::BrokerNetwork,
            BrokerError::Timeout(_) => Code::BrokerTimeout,
            BrokerError::Protocol(_) => Code::BrokerProtocol,
            BrokerError::Rejected { .. } => Code::BrokerRejected,
            BrokerError::NotFound(_) => Code::BrokerNotFound,
            BrokerError::Config(_) => Code::BrokerConfig,
            BrokerError::Unsupported(_) => Code::BrokerUnsupported,
            BrokerError::CircuitOpen(_) => Code::BrokerUnavailable,
            BrokerError::CertificateChanged { .. } => Code::CertificateChanged,
        }
    }
}

/// What verifying credentials shows the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AccountSummary {
    pub account_id: String,
    /// The last 4 characters of the account id/number, for display.
    pub account_last4: String,
    /// e.g. `margin`, `cash`, `DEMO`, `ACTIVE`.
    pub account_type: String,
    pub currency: String,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub balance: Decimal,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub equity: Decimal,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub buying_power: Decimal,
}

/// One account a credential can reach (OANDA tokens reach several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BrokerAccountRef {
    pub account_id: String,
    pub label: Option<String>,
}

crate::accounts::model::string_enum!(
    /// Buy or sell.
    OrderSide { Buy => "buy", Sell => "sell" }
);
crate::accounts::model::string_enum!(
    /// How an order executes.
    OrderType { Market => "market", Limit => "limit", Stop => "stop" }
);

/// Normalised order status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, rename = "BrokerOrderStatus")]
pub enum OrderStatus {
    Pending,
    Open,
    PartiallyFilled,
    Filled,
    Cancelled,
    Rejected,
}

/// An order as the broker reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrderState {
    pub broker_order_id: String,
    pub client_order_id: Option<String>,
    pub symbol: String,
    pub side: OrderSide,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub quantity: Decimal,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub filled_quantity: Decimal,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub avg_fill_price: Option<Decimal>,
    pub status: OrderStatus,
    /// The broker's own status string.
    pub broker_status: String,
    /// The order's type and prices, when the answer carries them (an order placed outside
    /// Brokerdesk is recorded with them).
    #[serde(default)]
    pub terms: Option<OrderTerms>,
}

/// An order's type and prices as the broker reports them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrderTerms {
    pub order_type: OrderType,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub limit_price: Option<Decimal>,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub stop_price: Option<Decimal>,
}

impl OrderTerms {
    /// The terms an order was placed with.
    pub fn of(intent: &OrderIntent) -> Self {
        Self {
            order_type: intent.order_type(),
            limit_price: intent.limit_price(),
            stop_price: intent.stop_price(),
        }
    }

    /// Terms from a broker's type word (case-insensitive: `limit`, `LMT`, `Market`, `STOP`,
    /// `stop_limit` counts as a stop) and its price fields; `None` for a type this desk does
    /// not know.
    pub fn from_word(word: &str, price: Option<Decimal>, stop: Option<Decimal>) -> Option<Self> {
        let w = word.to_ascii_lowercase();
        let order_type = match w.as_str() {
            "market" | "mkt" => OrderType::Market,
            "limit" | "lmt" => OrderType::Limit,
            "stop" | "stp" | "stop_limit" | "stop limit" | "market_if_touched" => OrderType::Stop,
            _ => return None,
        };
        Some(match order_type {
            OrderType::Market => Self {
                order_type,
                limit_price: None,
                stop_price: None,
            },
            OrderType::Limit => Self {
                order_type,
                limit_price: price,
                stop_price: None,
            },
            OrderType::Stop => Self {
                order_type,
                limit_price: if stop.is_some() { price } else { None },
                stop_price: stop.or(price),
            },
        })
    }
}

/// An open position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Position {
    pub symbol: String,
    /// Positive long, negative short.
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub quantity: Decimal,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub avg_price: Option<Decimal>,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub unrealized_pl: Option<Decimal>,
}

/// How a broker changes a working order's quantity or price ([`Broker::modify_order`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ModifyStyle {
    /// The broker cannot change an order: cancel it and place a new one.
    Unsupported,
    /// The order keeps its id and takes the new terms (Tradier, IBKR).
    InPlace,
    /// The broker cancels the order and creates a replacement with a new id and the new
    /// client order id (OANDA, Alpaca, Tastytrade).
    Replace,
}

/// A change to a working order, sent with [`Broker::modify_order`].
#[derive(Debug, Clone)]
pub struct OrderChange {
    /// The order at the broker now.
    pub broker_order_id: String,
    /// The order's whole new terms: the same symbol, side, type and time in force, with the
    /// new quantity and price. For a [`ModifyStyle::Replace`] broker its client order id is
    /// the replacement's (new, never used before); an in-place broker ignores it.
    pub order: OrderIntent,
}

/// What a broker's account-event stream said about one of the account's orders.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderUpdate {
    pub broker_order_id: String,
    pub client_order_id: Option<String>,
    /// The order's whole state when the event carries it in the same shape as the REST
    /// answer (Alpaca, Tastytrade); `None` when the event only names the order (OANDA's
    /// transactions, Tradier's and IBKR's order events): the runtime then reads it.
    pub state: Option<OrderState>,
}

/// A broker's account-event stream (Alpaca `trade_updates`, OANDA's transaction stream,
/// Tradier's account events, Tastytrade's account streamer, IBKR's `sor` topic): fills,
/// cancels and replacements as they happen, so they reach the trader within a second.
#[async_trait]
pub trait OrderEventStream: Send {
    /// Waits for the next frame and appends the order updates it carries to `out` (none
    /// for a heartbeat or an event about something else). `Ok(false)` when the server
    /// closed the stream: reconnect (and reconcile, since events may have been missed).
    async fn read(&mut self, out: &mut Vec<OrderUpdate>) -> Result<bool, BrokerError>;

    /// The longest silence after which the link counts as dead: two heartbeat (or ping)
    /// intervals.
    fn silence_limit(&self) -> Duration;

    /// Closes the stream politely; errors are ignored.
    async fn close(&mut self);
}

/// The one interface every broker connector implements.
#[async_trait]
pub trait Broker: Send + Sync {
    fn kind(&self) -> BrokerKind;

    /// Checks the credentials and returns the account's summary.
    async fn verify(&self) -> Result<AccountSummary, BrokerError>;

    /// Lists the accounts these credentials reach.
    async fn list_accounts(&self) -> Result<Vec<BrokerAccountRef>, BrokerError>;

    /// Places an order that [`OrderIntent`] already validated (quantity, prices, symbol);
    /// the connector maps it to its wire format and refuses what its broker cannot do
    /// (a stop-loss it cannot attach is refused, never dropped).
    async fn place_order(&self, order: &OrderIntent) -> Result<OrderState, BrokerError>;

    async fn cancel_order(&self, broker_order_id: &str) -> Result<(), BrokerError>;

    async fn get_order(&self, broker_order_id: &str) -> Result<OrderState, BrokerError>;

    /// Finds an order by the client order id sent with it (`None` if the broker has none).
    async fn get_order_by_client_id(
        &self,
        client_order_id: &str,
    ) -> Result<Option<OrderState>, BrokerError>;

    async fn open_orders(&self) -> Result<Vec<OrderState>, BrokerError>;

    async fn positions(&self) -> Result<Vec<Position>, BrokerError>;

    /// How this broker changes a working order (see [`ModifyStyle`]).
    fn modify_style(&self) -> ModifyStyle {
        ModifyStyle::Unsupported
    }

    /// Changes a working order's quantity or price and returns the order as the broker
    /// reports it afterwards: the same id for an in-place broker, the replacement's for a
    /// replacing one. A change the broker cannot make (Tradier cannot change a quantity) is
    /// refused with [`BrokerError::Unsupported`] before anything is sent.
    async fn modify_order(&self, change: &OrderChange) -> Result<OrderState, BrokerError> {
        let _ = change;
        Err(BrokerError::Unsupported("changing an order"))
    }

    /// Opens the account's order-event stream (see [`OrderEventStream`]).
    async fn open_order_events(&self) -> Result<Box<dyn OrderEventStream>, BrokerError> {
        Err(BrokerError::Unsupported("account events"))
    }

    /// Keeps the session alive and proves the link still answers; the connection manager
    /// calls it every keepalive interval. By default a [`Broker::verify`]; IBKR tickles.
    async fn keepalive(&self) -> Result<(), BrokerError> {
        self.verify().await.map(|_| ())
    }

    /// When the current session / access token expires, if the broker has one that the
    /// connector refreshes (Tastytrade's 15-minute access token, IBKR's gateway session).
    fn session_expires_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        None
    }

    /// Opens the account's price stream subscribed to `instruments` (may be empty; add
    /// more with [`QuoteStream::subscribe`]).
    async fn open_quote_stream(
        &self,
        instruments: &[String],
    ) -> Result<Box<dyn QuoteStream>, BrokerError> {
        let _ = instruments;
        Err(BrokerError::Unsupported("price streaming"))
    }

    /// Searches the broker's instrument list (for watchlist autocomplete).
    async fn search_instruments(&self, query: &str) -> Result<Vec<InstrumentInfo>, BrokerError> {
        let _ = query;
        Err(BrokerError::Unsupported("instrument search"))
    }
}

/// Returns the last 4 characters of an id, for display.
pub fn last4(id: &str) -> String {
    let n = id.chars().count();
    id.chars().skip(n.saturating_sub(4)).collect()
}

/// Builds the connector for `cfg.broker`, behind its circuit breaker ([`guard`]). The
/// built-in paper broker has no connector.
pub fn connector(cfg: ConnectorConfig) -> Result<Box<dyn Broker>, BrokerError> {
    Ok(Box::new(guard::Guarded::new(bare_connector(cfg)?)))
}

/// Builds the connector for `cfg.broker` without the circuit breaker.
pub fn bare_connector(cfg: ConnectorConfig) -> Result<Box<dyn Broker>, BrokerError> {
    match cfg.broker {
        BrokerKind::Oanda => Ok(Box::new(oanda::Oanda::new(cfg)?)),
        BrokerKind::Alpaca => Ok(Box::new(alpaca::Alpaca::new(cfg)?)),
        BrokerKind::Paper => Ok(Box::new(paper::PaperBroker::new())),
        BrokerKind::Tradier => Ok(Box::new(tradier::Tradier::new(cfg)?)),
        BrokerKind::Tastytrade => Ok(Box::new(tastytrade::Tastytrade::new(cfg)?)),
        BrokerKind::Ibkr => Ok(Box::new(ibkr::Ibkr::new(cfg)?)),
    }
}
