//! Alpaca connector: the Trading API v2 over REST (`brokers/alpaca/PROTOCOL.md`).
//!
//! One key pair reaches exactly one account, so [`Broker::list_accounts`] returns that
//! account, and when the account config names an account number that the key does not
//! belong to, [`Broker::verify`] fails with [`BrokerError::Config`] rather than show another
//! account's figures.
//!
//! A blocked account (`trading_blocked`, `account_blocked`, or a status other than `ACTIVE`)
//! still verifies: the credentials are good, and calling that an auth failure would send the
//! user to re-enter keys that work. The reason shows in `account_type` instead
//! (`"cash (trading blocked)"`), and Alpaca itself refuses orders on such an account (a 403
//! with a code, which maps to [`BrokerError::Rejected`]).
//!
//! Orders go out as `day` orders with `qty` and `limit_price` as decimal strings; the client
//! order id is the caller's, so a retried placement is refused by Alpaca as a duplicate
//! (422, code 40010001) instead of placed twice. Modifying an order replaces it
//! (`PATCH /v2/orders/{id}`, [`ModifyStyle::Replace`]): the replacement has a new id and the
//! new client order id, the old order becomes `replaced`. Order ids are path-encoded as given; Alpaca
//! accepts UUIDs with or without hyphens.
//!
//! Prices come from the Market Data v2 stream ([`stream`]): quotes and trades over a
//! WebSocket, JSON or msgpack. Order events come from the trade-updates stream at
//! `{trading host}/stream` (`stream::events`). Instrument search reads the trading API's asset list
//! (`GET /v2/assets`, kept for an hour) and matches symbol prefixes and name substrings.

mod http;
mod models;
pub mod stream;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use self::http::AlpacaHttp;
use self::models::{Account, AlpacaPosition, Asset, NewOrder, Order, ReplaceOrder};
use self::models::{ExitPrice, StopPrice};
pub use self::stream::events::{
    parse_trade_message, trade_updates_endpoint, TradeMessage, TradeUpdates,
};
pub use self::stream::{AlpacaStream, AlpacaStreamOptions, Encoding};
use super::{
    last4, AccountSummary, Broker, BrokerAccountRef, BrokerError, ConnectorConfig, ModifyStyle,
    OrderChange, OrderEventStream, OrderSide, OrderState, OrderType, Position,
};
use crate::accounts::model::{BrokerKind, Environment};
pub use crate::brokers::http::RateLimit;
use crate::stream::{InstrumentInfo, QuoteStream};
use crate::trading::{OrderIntent, TimeInForce};

/// Alpaca's cap on `GET /v2/orders?limit=`.
const MAX_ORDERS: &str = "500";

/// Most results of one instrument search.
const MAX_SEARCH_RESULTS: usize = 20;

/// How long the asset list is reused between searches.
const ASSETS_TTL: Duration = Duration::from_secs(3600);

type AssetCache = Mutex<Option<(Instant, Arc<Vec<InstrumentInfo>>)>>;

/// The Alpaca connector. Cheap to share behind an `Arc`; requests reuse one connection pool.
pub struct Alpaca {
    http: AlpacaHttp,
    environment: Environment,
    /// The account number the user configured, if any.
    account_id: Option<String>,
    /// The full data-stream URL (`…/v2/iex`).
    stream_url: String,
    stream_options: AlpacaStreamOptions,
    assets: AssetCache,
}

impl std::fmt::Debug for Alpaca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written so the credentials can never reach a log.
        f.debug_struct("Alpaca")
            .field("environment", &self.environment)
            .field("origin", &self.http.url(&[]).origin().ascii_serialization())
            .field("stream_url", &self.stream_url)
            .finish_non_exhaustive()
    }
}

impl Alpaca {
    /// Builds the connector; fails with [`BrokerError::Config`] without a key ID and secret
    /// key or with an unusable REST URL.
    pub fn new(cfg: ConnectorConfig) -> Result<Self, BrokerError> {
        let http = AlpacaHttp::new(&cfg)?;
        let account_id = cfg.account_id.filter(|a| !a.trim().is_empty());
        Ok(Self {
            http,
            environment: cfg.environment,
            account_id,
            stream_url: stream::stream_endpoint(&cfg.stream_url),
            stream_options: AlpacaStreamOptions::default(),
            assets: Mutex::new(None),
        })
    }

    /// Sets how data streams are opened (encoding, ping interval, handshake timeout).
    pub fn with_stream_options(mut self, options: AlpacaStreamOptions) -> Self {
        self.stream_options = options;
        self
    }

    /// The data-stream URL streams connect to (`wss://…/v2/iex`).
    pub fn stream_url(&self) -> &str {
        &self.stream_url
    }

    /// Opens the data stream subscribed to quotes and trades of `instruments`; the typed
    /// form of [`Broker::open_quote_stream`].
    pub async fn open_stream(&self, instruments: &[String]) -> Result<AlpacaStream, BrokerError> {
        let (key, secret) = self.http.credentials();
        AlpacaStream::connect(
            &self.stream_url,
            key,
            secret,
            instruments,
            &self.stream_options,
        )
        .await
    }

    /// Opens the trade-updates stream at `{trading host}/stream` (see `stream::events`); the
    /// typed form of [`Broker::open_order_events`].
    pub async fn open_trade_updates(&self) -> Result<TradeUpdates, BrokerError> {
        let (key, secret) = self.http.credentials();
        let url = trade_updates_endpoint(self.http.url(&[]).as_str());
        TradeUpdates::connect(&url, key, secret, &self.stream_options).await
    }

    /// The active US-equity assets, from the cache when fresh.
    async fn asset_list(&self) -> Result<Arc<Vec<InstrumentInfo>>, BrokerError> {
        if let Ok(g) = self.assets.lock() {
            if let Some((at, list)) = g.as_ref() {
                if at.elapsed() < ASSETS_TTL {
                    return Ok(list.clone());
                }
            }
        }
        let mut url = self.http.url(&["v2", "assets"]);
        url.query_pairs_mut()
            .append_pair("status", "active")
            .append_pair("asset_class", "us_equity");
        let rows: Vec<Asset> = self.http.get(url).await?;
        let list: Arc<Vec<InstrumentInfo>> = Arc::new(
            rows.into_iter()
                .filter(|a| a.status.as_deref().is_none_or(|s| s == "active"))
                .map(Asset::into_info)
                .collect(),
        );
        if let Ok(mut g) = self.assets.lock() {
            *g = Some((Instant::now(), list.clone()));
        }
        Ok(list)
    }

    /// The request budget Alpaca reported with its last answer.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.http.rate_limit()
    }

    async fn account(&self) -> Result<Account, BrokerError> {
        let account: Account = self.http.get(self.http.url(&["v2", "account"])).await?;
        if let Some(want) = &self.account_id {
            if !want.trim().eq_ignore_ascii_case(&account.account_number) {
                return Err(BrokerError::Config(format!(
                    "this key belongs to Alpaca account ••••{}, not the configured ••••{}",
                    last4(&account.account_number),
                    last4(want.trim())
                )));
            }
        }
        Ok(account)
    }

    /// The URL of one order, refusing ids that are not plain tokens (Alpaca's are UUIDs).
    fn order_url(&self, broker_order_id: &str) -> Result<url::Url, BrokerError> {
        let id = broker_order_id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(BrokerError::NotFound("malformed Alpaca order id".into()));
        }
        Ok(self.http.url(&["v2", "orders", id]))
    }
}

#[async_trait]
impl Broker for Alpaca {
    fn kind(&self) -> BrokerKind {
        BrokerKind::Alpaca
    }

    async fn verify(&self) -> Result<AccountSummary, BrokerError> {
        let a = self.account().await?;
        Ok(AccountSummary {
            account_last4: last4(&a.account_number),
            account_type: a.account_type(),
            currency: a.currency.clone(),
            balance: a.cash,
            equity: a.equity,
            buying_power: a.buying_power,
            account_id: a.account_number,
        })
    }

    async fn list_accounts(&self) -> Result<Vec<BrokerAccountRef>, BrokerError> {
        let a = self.account().await?;
        let label = match self.environment {
            Environment::Practice => "Alpaca paper",
            Environment::Live => "Alpaca live",
        };
        Ok(vec![BrokerAccountRef {
            account_id: a.account_number,
            label: Some(label.into()),
        }])
    }

    async fn place_order(&self, order: &OrderIntent) -> Result<OrderState, BrokerError> {
        let price = |p: Option<crate::money::Decimal>| p.map(models::decimal_string);
        let order_class = match (order.stop_loss(), order.take_profit()) {
            (Some(_), Some(_)) => Some("bracket"),
            (Some(_), None) | (None, Some(_)) => Some("oto"),
            (None, None) => None,
        };
        let body = NewOrder {
            symbol: order.symbol(),
            qty: models::decimal_string(order.quantity()),
            side: match order.side() {
                OrderSide::Buy => "buy",
                OrderSide::Sell => "sell",
            },
            kind: match order.order_type() {
                OrderType::Market => "market",
                OrderType::Limit => "limit",
                OrderType::Stop => "stop",
            },
            time_in_force: tif(order.time_in_force()),
            client_order_id: order.client_order_id(),
            limit_price: price(order.limit_price()),
            stop_price: price(order.stop_price()),
            order_class,
            take_profit: price(order.take_profit()).map(|limit_price| ExitPrice { limit_price }),
            stop_loss: price(order.stop_loss()).map(|stop_price| StopPrice { stop_price }),
        };
        let placed: Order = self
            .http
            .post(self.http.url(&["v2", "orders"]), &body)
            .await?;
        placed.into_state()
    }

    fn modify_style(&self) -> ModifyStyle {
        ModifyStyle::Replace
    }

    /// Replaces the order (`PATCH /v2/orders/{id}` with the new quantity, prices, time in
    /// force and client order id); Alpaca answers with the replacement, whose `replaces` is
    /// the old id.
    async fn modify_order(&self, change: &OrderChange) -> Result<OrderState, BrokerError> {
        let order = &change.order;
        let body = ReplaceOrder {
            qty: models::decimal_string(order.quantity()),
            limit_price: order.limit_price().map(models::decimal_string),
            stop_price: order.stop_price().map(models::decimal_string),
            time_in_force: tif(order.time_in_force()),
            client_order_id: order.client_order_id(),
        };
        let url = self.order_url(&change.broker_order_id)?;
        let replacement: Order = self.http.patch(url, &body).await?;
        replacement.into_state()
    }

    async fn cancel_order(&self, broker_order_id: &str) -> Result<(), BrokerError> {
        self.http.delete(self.order_url(broker_order_id)?).await
    }

    async fn get_order(&self, broker_order_id: &str) -> Result<OrderState, BrokerError> {
        let order: Order = self.http.get(self.order_url(broker_order_id)?).await?;
        order.into_state()
    }

    async fn get_order_by_client_id(
        &self,
        client_order_id: &str,
    ) -> Result<Option<OrderState>, BrokerError> {
        let mut url = self.http.url(&["v2", "orders:by_client_order_id"]);
        url.query_pairs_mut()
            .append_pair("client_order_id", client_order_id);
        match self.http.get::<Order>(url).await {
            Ok(order) => order.into_state().map(Some),
            Err(BrokerError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Returns up to 500 open orders, newest first (Alpaca's page cap; more open orders than
    /// that would need paging by `until`, which no desk user is expected to reach).
    async fn open_orders(&self) -> Result<Vec<OrderState>, BrokerError> {
        let mut url = self.http.url(&["v2", "orders"]);
        url.query_pairs_mut()
            .append_pair("status", "open")
            .append_pair("limit", MAX_ORDERS);
        let orders: Vec<Order> = self.http.get(url).await?;
        orders.into_iter().map(Order::into_state).collect()
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        let list: Vec<AlpacaPosition> = self.http.get(self.http.url(&["v2", "positions"])).await?;
        Ok(list.into_iter().map(Position::from).collect())
    }

    async fn open_quote_stream(
        &self,
        instruments: &[String],
    ) -> Result<Box<dyn QuoteStream>, BrokerError> {
        Ok(Box::new(self.open_stream(instruments).await?))
    }

    async fn open_order_events(&self) -> Result<Box<dyn OrderEventStream>, BrokerError> {
        Ok(Box::new(self.open_trade_updates().await?))
    }

    /// Matches `query` (case-insensitive) against symbol prefixes and name substrings of
    /// the active US-equity assets: the exact symbol first, then symbol prefixes (shortest
    /// first), then names; at most 20.
    async fn search_instruments(&self, query: &str) -> Result<Vec<InstrumentInfo>, BrokerError> {
        let q = query.trim().to_ascii_uppercase();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let list = self.asset_list().await?;
        Ok(rank(&list, &q))
    }
}

/// The best matches of the upper-cased query `q`.
/// Alpaca's `time_in_force` word.
fn tif(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Day => "day",
        TimeInForce::Gtc => "gtc",
    }
}

fn rank(list: &[InstrumentInfo], q: &str) -> Vec<InstrumentInfo> {
    let mut hits: Vec<(u8, &InstrumentInfo)> = list
        .iter()
        .filter_map(|a| {
            let symbol = a.symbol.to_ascii_uppercase();
            let rank = if symbol == q {
                0
            } else if symbol.starts_with(q) {
                1
            } else if a
                .name
                .as_deref()
                .is_some_and(|n| n.to_uppercase().contains(q))
            {
                2
            } else {
                return None;
            };
            Some((rank, a))
        })
        .collect();
    hits.sort_by(|(ra, a), (rb, b)| {
        ra.cmp(rb)
            .then(a.symbol.len().cmp(&b.symbol.len()))
            .then(a.symbol.cmp(&b.symbol))
    });
    hits.into_iter()
        .take(MAX_SEARCH_RESULTS)
        .map(|(_, a)| a.clone())
        .collect()
}
