//! Alpaca connector: the Trading API v2 over REST (`PROTOCOLS.md` §2).
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
//! (422, code 40010001) instead of placed twice. Order ids are path-encoded as given; Alpaca
//! accepts UUIDs with or without hyphens.

mod http;
mod models;

use async_trait::async_trait;

use self::http::AlpacaHttp;
pub use self::http::RateLimit;
use self::models::{Account, AlpacaPosition, NewOrder, Order};
use super::{
    last4, AccountSummary, Broker, BrokerAccountRef, BrokerError, ConnectorConfig, OrderRequest,
    OrderSide, OrderState, OrderType, Position,
};
use crate::accounts::model::{BrokerKind, Environment};

/// Alpaca's cap on `GET /v2/orders?limit=`.
const MAX_ORDERS: &str = "500";

/// The Alpaca connector. Cheap to share behind an `Arc`; requests reuse one connection pool.
pub struct Alpaca {
    http: AlpacaHttp,
    environment: Environment,
    /// The account number the user configured, if any.
    account_id: Option<String>,
}

impl std::fmt::Debug for Alpaca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written so the credentials can never reach a log.
        f.debug_struct("Alpaca")
            .field("environment", &self.environment)
            .field("origin", &self.http.url(&[]).origin().ascii_serialization())
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
        })
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

    async fn place_order(&self, order: &OrderRequest) -> Result<OrderState, BrokerError> {
        let invalid = |message: &str| BrokerError::Rejected {
            status: 0,
            code: "invalid_order".into(),
            message: message.into(),
        };
        if !order.quantity.is_finite() || order.quantity <= 0.0 {
            return Err(invalid("the quantity must be a positive number"));
        }
        let limit_price = match (order.order_type, order.limit_price) {
            (OrderType::Market, _) => None,
            (OrderType::Limit, Some(p)) if p.is_finite() && p > 0.0 => {
                Some(models::decimal_string(p))
            }
            (OrderType::Limit, _) => {
                return Err(invalid("a limit order needs a positive limit price"))
            }
        };
        let body = NewOrder {
            symbol: &order.symbol,
            qty: models::decimal_string(order.quantity),
            side: match order.side {
                OrderSide::Buy => "buy",
                OrderSide::Sell => "sell",
            },
            kind: match order.order_type {
                OrderType::Market => "market",
                OrderType::Limit => "limit",
            },
            time_in_force: "day",
            client_order_id: &order.client_order_id,
            limit_price,
        };
        let placed: Order = self
            .http
            .post(self.http.url(&["v2", "orders"]), &body)
            .await?;
        placed.into_state()
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
}
