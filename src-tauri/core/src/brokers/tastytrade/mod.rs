//! Tastytrade connector: the Open API over REST with OAuth2 (`brokers/tastytrade/PROTOCOL.md`).
//!
//! - `http`: access tokens (refresh token + client secret → 15-minute bearer, refreshed
//!   60 s early and once on an expired-token 401), the `{"data"}` envelope, error mapping.
//! - `models`: the kebab-case wire types and their normalised forms.
//!
//! `cfg.api_key` is the OAuth refresh token and `cfg.api_secret` the client secret. A
//! customer can own several accounts: calls use the configured account number (checked
//! against `/customers/me/accounts` by [`Broker::verify`]), else the customer's only open
//! account; several and none chosen is a configuration error that lists them.
//!
//! Orders are single Equity legs, `Day`, `Market` or `Limit` (with `price-effect` Debit for
//! buys, Credit for sells). Tastytrade wants to know whether an order opens or closes, so
//! the side is mapped against the current position in the symbol:
//!
//! | side | position      | action          |
//! |------|---------------|-----------------|
//! | Buy  | short         | `Buy to Close`  |
//! | Buy  | flat or long  | `Buy to Open`   |
//! | Sell | long          | `Sell to Close` |
//! | Sell | flat or short | `Sell to Open`  |
//!
//! An order larger than the position it closes would have to close and open at once;
//! it is refused before sending (place two orders). `external-identifier` carries the
//! client order id. Tastytrade has no lookup by it and documents no uniqueness, so
//! [`Broker::get_order_by_client_id`] scans `/orders/live` (working orders and today's)
//! and then the newest page of the history, returning the newest match.
//!
//! Modifying an order replaces it ([`ModifyStyle::Replace`]): `PUT …/orders/{id}` with the
//! whole new order (the action again from the position, `external-identifier` the new
//! client order id) answers the replacement under a new id; the old order is cancelled.
//!
//! Prices stream over DXLink ([`stream`]): [`Broker::open_quote_stream`] fetches a fresh
//! quote token from `GET /api-quote-tokens` each time (they last 24 h) and connects to its
//! `dxlink-url`, or to the account's stream URL override when one is set (anything but the
//! catalog's account-streamer default). Order events come from the account streamer
//! ([`events`]): [`Broker::open_order_events`] connects to the catalog's account streamer,
//! or, with a stream URL override, to `/account-streamer` on the override's host (so one
//! override points both sockets at a simulator). [`Broker::search_instruments`] is
//! `GET /symbols/search/{prefix}`.

pub mod events;
mod http;
mod models;
pub mod stream;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;

pub use self::events::{AccountStreamOptions, AccountStreamer};
use self::http::TastyHttp;
use self::models::{
    AccountItem, Balances, Items, NewLeg, NewOrder, Order, Placed, QuoteTokenWire, SymbolItem,
    TtPosition,
};
pub use self::stream::{DxLinkOptions, DxLinkStream};
use super::{
    last4, AccountSummary, Broker, BrokerAccountRef, BrokerError, ConnectorConfig, ModifyStyle,
    OrderChange, OrderEventStream, OrderSide, OrderState, OrderType, Position,
};
use crate::accounts::catalog::broker_info;
use crate::accounts::model::{BrokerKind, Environment};
use crate::money::Decimal;
use crate::secret::Secret;
use crate::stream::{InstrumentInfo, QuoteStream};
use crate::trading::{OrderIntent, TimeInForce};

/// How many past orders the client-id scan reads after the live ones.
const HISTORY_PAGE: &str = "250";

/// A DXLink market-data token from `GET /api-quote-tokens` (valid 24 h).
#[derive(Debug)]
pub struct QuoteToken {
    /// Sent in DXLink's `AUTH`; redacted in `Debug`.
    pub token: Secret,
    /// The WebSocket URL to connect to.
    pub dxlink_url: String,
    /// e.g. `api`.
    pub level: Option<String>,
}

/// The Tastytrade connector. Cheap to share behind an `Arc`; requests reuse one pool and
/// one cached access token.
pub struct Tastytrade {
    /// Shared with the account streamer, which signs every message with the current token.
    http: Arc<TastyHttp>,
    environment: Environment,
    account_id: Option<String>,
    resolved: tokio::sync::OnceCell<String>,
    /// The DXLink URL to use instead of the quote token's `dxlink-url`.
    dxlink_override: Option<String>,
    stream_opts: DxLinkOptions,
    /// The account streamer's URL (see [`events::account_streamer_url`]).
    account_streamer_url: String,
    account_stream_opts: AccountStreamOptions,
}

impl std::fmt::Debug for Tastytrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written so no credential or token can reach a log.
        f.debug_struct("Tastytrade")
            .field("environment", &self.environment)
            .field("origin", &self.http.url(&[]).origin().ascii_serialization())
            .field("account_id", &self.account_id)
            .field("dxlink_override", &self.dxlink_override)
            .finish_non_exhaustive()
    }
}

impl Tastytrade {
    /// Builds the connector; fails with [`BrokerError::Config`] without a refresh token and
    /// client secret or with an unusable REST URL. Nothing is sent until the first call.
    pub fn new(cfg: ConnectorConfig) -> Result<Self, BrokerError> {
        crate::brokers::http::expect_broker(&cfg, BrokerKind::Tastytrade, "Tastytrade")?;
        let http = Arc::new(TastyHttp::new(&cfg)?);
        let dxlink_override = dxlink_override(&cfg.stream_url);
        let account_streamer_url = events::account_streamer_url(&cfg, dxlink_override.as_deref());
        let mut account_stream_opts = AccountStreamOptions::default();
        if let Some(every) = cfg.stream_heartbeat {
            account_stream_opts.heartbeat_every = every;
        }
        Ok(Self {
            account_streamer_url,
            account_stream_opts,
            dxlink_override,
            stream_opts: DxLinkOptions::default(),
            http,
            environment: cfg.environment,
            account_id: cfg
                .account_id
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty()),
            resolved: tokio::sync::OnceCell::new(),
        })
    }

    /// Sets how DXLink streams are opened (keepalive timeout, timeouts, trades).
    pub fn with_stream_options(mut self, opts: DxLinkOptions) -> Self {
        self.stream_opts = opts;
        self
    }

    /// Opens a DXLink stream with a fresh quote token (see the module docs for the URL).
    pub async fn dxlink_stream(&self, instruments: &[String]) -> Result<DxLinkStream, BrokerError> {
        let q = self.quote_token().await?;
        let url = self.dxlink_override.as_deref().unwrap_or(&q.dxlink_url);
        DxLinkStream::connect(url, q.token, instruments, self.stream_opts.clone())
            .await
            .map_err(|e| self.http.scrub(e))
    }

    /// Sets how account streamers are opened (heartbeat interval, timeouts).
    pub fn with_account_stream_options(mut self, opts: AccountStreamOptions) -> Self {
        self.account_stream_opts = opts;
        self
    }

    /// The account streamer's URL (see [`events::account_streamer_url`]).
    pub fn account_streamer_url(&self) -> &str {
        &self.account_streamer_url
    }

    /// Opens the account streamer for the account calls act on.
    pub async fn account_streamer(&self) -> Result<AccountStreamer, BrokerError> {
        let account = self.account().await?;
        AccountStreamer::connect(
            &self.account_streamer_url,
            self.http.clone(),
            &account,
            self.account_stream_opts.clone(),
        )
        .await
        .map_err(|e| self.http.scrub(e))
    }

    /// Returns a DXLink token and URL for market data.
    pub async fn quote_token(&self) -> Result<QuoteToken, BrokerError> {
        let q: QuoteTokenWire = self.get(&["api-quote-tokens"]).await?;
        Ok(QuoteToken {
            token: q.token,
            dxlink_url: q.dxlink_url,
            level: q.level,
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &[&str]) -> Result<T, BrokerError> {
        self.http.call(Method::GET, self.http.url(path), None).await
    }

    async fn accounts(&self) -> Result<Vec<models::Account>, BrokerError> {
        let list: Items<AccountItem> = self.get(&["customers", "me", "accounts"]).await?;
        Ok(list.items.into_iter().map(|i| i.account).collect())
    }

    /// The account calls act on: the configured one, else the customer's only open one.
    async fn account(&self) -> Result<String, BrokerError> {
        if let Some(id) = &self.account_id {
            return Ok(id.clone());
        }
        let id = self
            .resolved
            .get_or_try_init(|| async {
                let open: Vec<String> = self
                    .accounts()
                    .await?
                    .into_iter()
                    .filter(|a| !a.is_closed)
                    .map(|a| a.account_number)
                    .collect();
                match open.as_slice() {
                    [one] => Ok(one.clone()),
                    [] => Err(BrokerError::Config(
                        "these Tastytrade credentials reach no open account".into(),
                    )),
                    many => Err(BrokerError::Config(format!(
                        "these Tastytrade credentials reach {} accounts ({}); choose one in the account settings",
                        many.len(),
                        many.join(", ")
                    ))),
                }
            })
            .await?;
        Ok(id.clone())
    }

    /// The order id as a path segment (Tastytrade's are integers).
    fn order_id(broker_order_id: &str) -> Result<&str, BrokerError> {
        let id = broker_order_id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(BrokerError::NotFound(
                "malformed Tastytrade order id".into(),
            ));
        }
        Ok(id)
    }

    /// The action for `side`, from the current position in the symbol (see the module docs).
    async fn action(&self, order: &OrderIntent) -> Result<&'static str, BrokerError> {
        let held = self
            .positions()
            .await?
            .iter()
            .filter(|p| p.symbol == order.symbol())
            .try_fold(Decimal::ZERO, |acc, p| acc.checked_add(p.quantity))
            .ok_or_else(|| BrokerError::Protocol("the positions do not add up".into()))?;
        let (closing, open_qty) = match order.side() {
            OrderSide::Buy => (held < Decimal::ZERO, -held),
            OrderSide::Sell => (held > Decimal::ZERO, held),
        };
        if closing && order.quantity() > open_qty {
            return Err(BrokerError::Rejected {
                status: 0,
                code: "invalid_order".into(),
                message: format!(
                    "the order would close {open_qty} and open {} {}; Tastytrade needs two orders",
                    order.quantity() - open_qty,
                    order.symbol()
                ),
            });
        }
        Ok(match (order.side(), closing) {
            (OrderSide::Buy, true) => "Buy to Close",
            (OrderSide::Buy, false) => "Buy to Open",
            (OrderSide::Sell, true) => "Sell to Close",
            (OrderSide::Sell, false) => "Sell to Open",
        })
    }

    /// The newest order carrying `client_order_id` in `orders`.
    fn newest_match(orders: Vec<Order>, client_order_id: &str) -> Option<Order> {
        orders
            .into_iter()
            .filter(|o| o.external_identifier.as_deref() == Some(client_order_id))
            .max_by_key(|o| o.id().parse::<u64>().unwrap_or(0))
    }
}

#[async_trait]
impl Broker for Tastytrade {
    fn kind(&self) -> BrokerKind {
        BrokerKind::Tastytrade
    }

    fn session_expires_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.http.expires_at()
    }

    async fn verify(&self) -> Result<AccountSummary, BrokerError> {
        let accounts = self.accounts().await?;
        let account = match &self.account_id {
            Some(want) => accounts
                .iter()
                .find(|a| a.account_number.eq_ignore_ascii_case(want))
                .ok_or_else(|| {
                    BrokerError::Config(format!(
                        "these credentials do not reach Tastytrade account ••••{}",
                        last4(want)
                    ))
                })?,
            None => {
                let id = self.account().await?;
                accounts
                    .iter()
                    .find(|a| a.account_number == id)
                    .ok_or_else(|| BrokerError::Protocol("the account list changed".into()))?
            }
        };
        let number = account.account_number.clone();
        let b: Balances = self.get(&["accounts", &number, "balances", "USD"]).await?;
        Ok(AccountSummary {
            account_last4: last4(&number),
            account_type: account.kind(),
            currency: b.currency.unwrap_or_else(|| "USD".into()),
            balance: b.cash_balance,
            equity: b.net_liquidating_value,
            buying_power: b.equity_buying_power,
            account_id: number,
        })
    }

    async fn list_accounts(&self) -> Result<Vec<BrokerAccountRef>, BrokerError> {
        Ok(self
            .accounts()
            .await?
            .into_iter()
            .map(|a| BrokerAccountRef {
                label: a.nickname.clone().or_else(|| Some(a.kind())),
                account_id: a.account_number,
            })
            .collect())
    }

    async fn place_order(&self, order: &OrderIntent) -> Result<OrderState, BrokerError> {
        if order.has_exits() {
            // Exits need an OTOCO complex order, which this desk does not send yet: refused
            // rather than placed without the stop-loss.
            return Err(BrokerError::Unsupported(
                "attaching a stop-loss or take-profit",
            ));
        }
        let account = self.account().await?;
        let body = order_body(order, self.action(order).await?)?;
        let url = self.http.url(&["accounts", &account, "orders"]);
        let placed: Placed = self.http.call(Method::POST, url, Some(&body)).await?;
        placed.order.into_state()
    }

    fn modify_style(&self) -> ModifyStyle {
        ModifyStyle::Replace
    }

    /// Replaces the order (`PUT …/orders/{id}` with the whole new order, its
    /// `external-identifier` the new client order id): Tastytrade cancels the old one and
    /// answers with the replacement, under a new id.
    async fn modify_order(&self, change: &OrderChange) -> Result<OrderState, BrokerError> {
        let order = &change.order;
        if order.has_exits() {
            return Err(BrokerError::Unsupported(
                "attaching a stop-loss or take-profit",
            ));
        }
        let id = Self::order_id(&change.broker_order_id)?;
        let account = self.account().await?;
        let body = order_body(order, self.action(order).await?)?;
        let url = self.http.url(&["accounts", &account, "orders", id]);
        let replacement: Order = self.http.call(Method::PUT, url, Some(&body)).await?;
        replacement.into_state()
    }

    async fn cancel_order(&self, broker_order_id: &str) -> Result<(), BrokerError> {
        let account = self.account().await?;
        let url = self.http.url(&[
            "accounts",
            &account,
            "orders",
            Self::order_id(broker_order_id)?,
        ]);
        let _: Value = self.http.call(Method::DELETE, url, None).await?;
        Ok(())
    }

    async fn get_order(&self, broker_order_id: &str) -> Result<OrderState, BrokerError> {
        let account = self.account().await?;
        let id = Self::order_id(broker_order_id)?;
        let order: Order = self.get(&["accounts", &account, "orders", id]).await?;
        order.into_state()
    }

    async fn get_order_by_client_id(
        &self,
        client_order_id: &str,
    ) -> Result<Option<OrderState>, BrokerError> {
        let account = self.account().await?;
        let live: Items<Order> = self.get(&["accounts", &account, "orders", "live"]).await?;
        if let Some(o) = Self::newest_match(live.items, client_order_id) {
            return o.into_state().map(Some);
        }
        let mut url = self.http.url(&["accounts", &account, "orders"]);
        url.query_pairs_mut()
            .append_pair("per-page", HISTORY_PAGE)
            .append_pair("sort", "Desc");
        let past: Items<Order> = self.http.call(Method::GET, url, None).await?;
        Self::newest_match(past.items, client_order_id)
            .map(Order::into_state)
            .transpose()
    }

    /// Returns the working orders among `/orders/live` (which also lists today's ended ones).
    async fn open_orders(&self) -> Result<Vec<OrderState>, BrokerError> {
        let account = self.account().await?;
        let live: Items<Order> = self.get(&["accounts", &account, "orders", "live"]).await?;
        live.items
            .into_iter()
            .filter(Order::is_working)
            .map(Order::into_state)
            .collect()
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        let account = self.account().await?;
        let list: Items<TtPosition> = self.get(&["accounts", &account, "positions"]).await?;
        Ok(list.items.into_iter().map(Position::from).collect())
    }

    async fn open_quote_stream(
        &self,
        instruments: &[String],
    ) -> Result<Box<dyn QuoteStream>, BrokerError> {
        Ok(Box::new(self.dxlink_stream(instruments).await?))
    }

    async fn open_order_events(&self) -> Result<Box<dyn OrderEventStream>, BrokerError> {
        Ok(Box::new(self.account_streamer().await?))
    }

    /// `GET /symbols/search/{query}` (the query is one percent-encoded path segment, so
    /// `/ES` works); no match is an empty list.
    async fn search_instruments(&self, query: &str) -> Result<Vec<InstrumentInfo>, BrokerError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        match self
            .get::<Items<SymbolItem>>(&["symbols", "search", query])
            .await
        {
            Ok(list) => Ok(list.items.into_iter().map(InstrumentInfo::from).collect()),
            Err(BrokerError::NotFound(_)) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// The account's stream URL, when it is an override for DXLink: anything but empty or the
/// catalog's default (Tastytrade's account streamer, which is not a market-data socket).
/// The JSON of `order` as Tastytrade takes it (placing and replacing), encoded straight to
/// text so that the quantity is written as its exact digits.
fn order_body(
    order: &OrderIntent,
    action: &'static str,
) -> Result<Box<serde_json::value::RawValue>, BrokerError> {
    let (order_type, price, stop_trigger) =
        match (order.order_type(), order.limit_price(), order.stop_price()) {
            (OrderType::Limit, Some(p), _) => ("Limit", Some(models::decimal_string(p)), None),
            (OrderType::Stop, _, Some(p)) => ("Stop", None, Some(models::decimal_string(p))),
            _ => ("Market", None, None),
        };
    let body = NewOrder {
        time_in_force: match order.time_in_force() {
            TimeInForce::Day => "Day",
            TimeInForce::Gtc => "GTC",
        },
        order_type,
        price_effect: price.as_ref().map(|_| match order.side() {
            OrderSide::Buy => "Debit",
            OrderSide::Sell => "Credit",
        }),
        price,
        stop_trigger,
        legs: [NewLeg {
            instrument_type: "Equity",
            symbol: order.symbol(),
            quantity: order.quantity(),
            action,
        }],
        external_identifier: order.client_order_id(),
    };
    serde_json::value::to_raw_value(&body)
        .map_err(|e| BrokerError::Protocol(format!("cannot encode the order: {e}")))
}

fn dxlink_override(stream_url: &str) -> Option<String> {
    let url = stream_url.trim().trim_end_matches('/');
    if url.is_empty() {
        return None;
    }
    let is_default = broker_info(BrokerKind::Tastytrade)
        .environments
        .iter()
        .filter_map(|e| e.stream_url.as_deref())
        .any(|d| d.trim_end_matches('/').eq_ignore_ascii_case(url));
    (!is_default).then(|| url.to_string())
}
