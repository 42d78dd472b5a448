//! OANDA v20 connector (`brokers/oanda/PROTOCOL.md`): REST under `{rest}/v3`, prices from the
//! chunked stream under `{stream}/v3`, `Authorization: Bearer <personal access token>`.
//!
//! - `http`: URLs, headers, error bodies → [`BrokerError`] via `brokers::http::classify`.
//! - `models`: the wire types (decimals as strings) and their normalized forms.
//! - `stream`: the pricing stream, line by line; `stream::events`: the transaction stream
//!   (the account's order events), on the same line reader.
//!
//! One token can reach several accounts: calls use the configured account id, else the
//! token's only account (looked up once); several and none chosen is a configuration error
//! that lists them. Orders carry `clientExtensions.id` = the client order id, OANDA's
//! idempotency key: a retried submission is refused with `CLIENT_ORDER_ID_ALREADY_EXISTS`
//! and the original is found with `GET …/orders/@{id}`. Market orders are FOK, so they
//! fill at once or come back cancelled (`INSUFFICIENT_MARGIN`, `MARKET_HALTED`), which is
//! reported as [`BrokerError::Rejected`].
//!
//! Modifying an order replaces it ([`ModifyStyle::Replace`]): `PUT …/orders/{id}` with the
//! whole new order cancels the old one and creates the replacement with the new client id.
//!
//! REST calls share one pooled client with a per-request timeout; the stream has its own
//! client without one (a stream lasts for hours; its watchdog is the heartbeat).

mod http;
pub mod models;
pub mod stream;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::HeaderValue;
use reqwest::{Client, Method, Url};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

use self::models::{
    AccountsResponse, CreateOrderResponse, OrderResponse, OrdersResponse, PositionsResponse,
    ReplaceOrderResponse, SummaryResponse, TransactionResponse,
};
pub use self::stream::events::{parse_transaction, TransactionLine, TransactionStream};
pub use self::stream::{OandaQuoteStream, Price, PriceBucket, PriceStream, StreamLine};
use super::{
    http as shared, wire, AccountSummary, Broker, BrokerAccountRef, BrokerError, ConnectorConfig,
    ModifyStyle, OrderChange, OrderEventStream, OrderState, OrderStatus, OrderType, Position,
};
use crate::accounts::model::{BrokerKind, Environment};
use crate::money::Decimal;
use crate::secret::Secret;
use crate::stream::{InstrumentInfo, QuoteStream};
use crate::trading::{OrderIntent, TimeInForce};

/// The OANDA v20 connector. Cloning is cheap (the HTTP clients are shared handles).
#[derive(Clone)]
pub struct Oanda {
    environment: Environment,
    rest: Url,
    stream: Url,
    account_id: Option<String>,
    /// The token's only account, when none is configured.
    resolved: OnceCell<String>,
    /// `Bearer <token>`, marked sensitive.
    auth: HeaderValue,
    /// Kept only to scrub it from error messages.
    token: Secret,
    client: Client,
    stream_client: Client,
    timeout: Duration,
    /// The pricing stream's heartbeat interval (OANDA: 5 s).
    heartbeat: Duration,
}

impl fmt::Debug for Oanda {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Oanda")
            .field("environment", &self.environment)
            .field("rest", &self.rest.as_str())
            .field("stream", &self.stream.as_str())
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

impl Oanda {
    /// Builds the connector; the token is `cfg.api_key`.
    pub fn new(cfg: ConnectorConfig) -> Result<Self, BrokerError> {
        shared::expect_broker(&cfg, BrokerKind::Oanda, "OANDA")?;
        let token = shared::credential(&cfg.api_key).ok_or_else(|| {
            BrokerError::Config("OANDA needs a personal access token (API key)".into())
        })?;
        let auth = shared::bearer(&token, "OANDA token")?;
        let rest = shared::base_url(&cfg.rest_url, "REST")?;
        let stream = if cfg.stream_url.is_empty() {
            rest.clone()
        } else {
            shared::base_url(&cfg.stream_url, "stream")?
        };
        let stream_client = shared::builder(
            cfg.timeout,
            shared::is_loopback_url(if cfg.stream_url.is_empty() {
                &cfg.rest_url
            } else {
                &cfg.stream_url
            }),
        )
        .tcp_keepalive(Duration::from_secs(30))
        .http1_only()
        .build()
        .map_err(|e| BrokerError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            environment: cfg.environment,
            rest,
            stream,
            account_id: cfg.account_id.filter(|a| !a.trim().is_empty()),
            resolved: OnceCell::new(),
            auth,
            token,
            client: shared::client(cfg.timeout, &cfg.rest_url)?,
            stream_client,
            timeout: cfg.timeout,
            heartbeat: cfg.stream_heartbeat.unwrap_or(stream::HEARTBEAT),
        })
    }

    /// The account calls act on: the configured one, else the token's only account.
    pub async fn account(&self) -> Result<String, BrokerError> {
        if let Some(id) = &self.account_id {
            return Ok(id.clone());
        }
        let id = self
            .resolved
            .get_or_try_init(|| async {
                let accounts = self.list_accounts().await?;
                match accounts.as_slice() {
                    [one] => Ok(one.account_id.clone()),
                    [] => Err(BrokerError::Config("the OANDA token reaches no account".into())),
                    many => {
                        let ids: Vec<&str> = many.iter().map(|a| a.account_id.as_str()).collect();
                        Err(BrokerError::Config(format!(
                            "the OANDA token reaches {} accounts ({}); choose one in the account settings",
                            ids.len(),
                            ids.join(", ")
                        )))
                    }
                }
            })
            .await?;
        Ok(id.clone())
    }

    /// Opens the pricing stream for `instruments` (e.g. `EUR_USD`), with a snapshot of the
    /// current prices first. Errors (token, instruments) come back before any line.
    pub async fn pricing_stream(&self, instruments: &[String]) -> Result<PriceStream, BrokerError> {
        let account = self.account().await?;
        let mut url = http::v3_url(&self.stream, &["accounts", &account, "pricing", "stream"]);
        url.query_pairs_mut()
            .append_pair("instruments", &instruments.join(","))
            .append_pair("snapshot", "true");
        Ok(PriceStream::new(self.open_stream(url).await?))
    }

    /// Opens a streaming endpoint: the response once its body (the stream) starts, or the
    /// classified error answer (token, account, instruments) sent instead.
    async fn open_stream(&self, url: Url) -> Result<reqwest::Response, BrokerError> {
        let send = self.stream_client.get(url).headers(self.headers()).send();
        let resp = tokio::time::timeout(self.timeout, send)
            .await
            .map_err(|_| BrokerError::Timeout(self.timeout))?
            .map_err(|e| self.scrub(shared::transport(e, self.timeout)))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let headers = resp.headers().clone();
        let text = tokio::time::timeout(self.timeout, shared::body_text(resp, self.timeout))
            .await
            .map_err(|_| BrokerError::Timeout(self.timeout))??;
        Err(self.error_from(status, &headers, &text))
    }

    /// The account's tradeable instruments (`GET /v3/accounts/{id}/instruments`).
    pub async fn instruments(&self) -> Result<Vec<InstrumentInfo>, BrokerError> {
        let account = self.account().await?;
        let r: models::InstrumentsResponse =
            self.get(&["accounts", &account, "instruments"]).await?;
        Ok(r.instruments
            .into_iter()
            .map(|i| InstrumentInfo {
                symbol: i.name,
                name: i.display_name,
                kind: i.kind.map(|k| k.to_ascii_lowercase()),
            })
            .collect())
    }

    /// The normalized order, with the fill price looked up in its fill transaction (the
    /// Order object itself carries none).
    async fn order_state(
        &self,
        account: &str,
        order: models::OrderWire,
    ) -> Result<OrderState, BrokerError> {
        let mut fill_price = None;
        if let (true, Some(tx)) = (
            order.state == "FILLED",
            order.filling_transaction_id.as_deref(),
        ) {
            let t: TransactionResponse =
                self.get(&["accounts", account, "transactions", tx]).await?;
            fill_price = t.transaction.fill_price();
        }
        order.to_state(fill_price).ok_or_else(|| {
            BrokerError::Protocol(format!("order {} has no instrument or units", order.id))
        })
    }
}

/// Formats a decimal the way OANDA expects it: a string, whole numbers without decimals.
fn decimal(v: Decimal) -> String {
    wire::decimal_string(v)
}

/// The order request of `order` (what `POST …/orders` and `PUT …/orders/{id}` carry under
/// `order`), with `clientExtensions.id` = its client order id.
fn order_spec(order: &OrderIntent) -> Value {
    let mut body = json!({
        "type": "MARKET",
        "instrument": order.symbol(),
        "units": decimal(order.signed_quantity()),
        // OANDA fills market orders at once or not at all (FOK or IOC only).
        "timeInForce": "FOK",
        "positionFill": "DEFAULT",
        "clientExtensions": { "id": order.client_order_id() },
    });
    let pending_tif = match order.time_in_force() {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Day => "GFD",
    };
    match (order.order_type(), order.limit_price(), order.stop_price()) {
        (OrderType::Limit, Some(p), _) => {
            body["type"] = json!("LIMIT");
            body["timeInForce"] = json!(pending_tif);
            body["price"] = json!(decimal(p));
        }
        (OrderType::Stop, _, Some(p)) => {
            body["type"] = json!("STOP");
            body["timeInForce"] = json!(pending_tif);
            body["price"] = json!(decimal(p));
        }
        _ => {}
    }
    // The exits become trades' stop-loss / take-profit orders when the order fills.
    if let Some(sl) = order.stop_loss() {
        body["stopLossOnFill"] = json!({ "price": decimal(sl), "timeInForce": "GTC" });
    }
    if let Some(tp) = order.take_profit() {
        body["takeProfitOnFill"] = json!({ "price": decimal(tp), "timeInForce": "GTC" });
    }
    body
}

/// The order a 201 booked: its create transaction, filled at once when a fill came along.
fn booked(
    order: &OrderIntent,
    create: Option<models::TransactionWire>,
    fill: Option<models::TransactionWire>,
) -> Result<OrderState, BrokerError> {
    let create = create.ok_or_else(|| {
        BrokerError::Protocol("the order answer has no orderCreateTransaction".into())
    })?;
    let filled_quantity = fill
        .as_ref()
        .and_then(|f| f.units)
        .map_or(Decimal::ZERO, |u| u.abs());
    Ok(OrderState {
        broker_order_id: create.id,
        client_order_id: Some(order.client_order_id().to_string()),
        symbol: create
            .instrument
            .unwrap_or_else(|| order.symbol().to_string()),
        side: order.side(),
        quantity: create.units.map_or(order.quantity(), |u| u.abs()),
        filled_quantity,
        avg_fill_price: fill.as_ref().and_then(|f| f.fill_price()),
        status: if fill.is_some() {
            OrderStatus::Filled
        } else {
            OrderStatus::Open
        },
        broker_status: if fill.is_some() { "FILLED" } else { "PENDING" }.to_string(),
        terms: Some(crate::brokers::OrderTerms::of(order)),
    })
}

#[async_trait]
impl Broker for Oanda {
    fn kind(&self) -> BrokerKind {
        BrokerKind::Oanda
    }

    async fn open_quote_stream(
        &self,
        instruments: &[String],
    ) -> Result<Box<dyn QuoteStream>, BrokerError> {
        Ok(Box::new(
            OandaQuoteStream::open(self.clone(), instruments).await?,
        ))
    }

    async fn search_instruments(&self, query: &str) -> Result<Vec<InstrumentInfo>, BrokerError> {
        let all = self.instruments().await?;
        Ok(crate::stream::filter_instruments(all, query, 20))
    }

    async fn open_order_events(&self) -> Result<Box<dyn OrderEventStream>, BrokerError> {
        Ok(Box::new(self.transaction_stream().await?))
    }

    async fn verify(&self) -> Result<AccountSummary, BrokerError> {
        let account = self.account().await?;
        let s: SummaryResponse = self.get(&["accounts", &account, "summary"]).await?;
        Ok(s.account.to_summary())
    }

    async fn list_accounts(&self) -> Result<Vec<BrokerAccountRef>, BrokerError> {
        let r: AccountsResponse = self.get(&["accounts"]).await?;
        Ok(r.accounts.iter().map(|a| a.to_ref()).collect())
    }

    async fn place_order(&self, order: &OrderIntent) -> Result<OrderState, BrokerError> {
        let account = self.account().await?;
        let body = json!({ "order": order_spec(order) });
        let r: CreateOrderResponse = self
            .call(Method::POST, &["accounts", &account, "orders"], Some(&body))
            .await?;
        if let Some(cancel) = r.order_cancel_transaction {
            let reason = cancel.reason.unwrap_or_else(|| "ORDER_CANCEL".into());
            return Err(BrokerError::Rejected {
                status: 201,
                message: format!("OANDA cancelled the order at once ({reason})"),
                code: reason,
            });
        }
        booked(order, r.order_create_transaction, r.order_fill_transaction)
    }

    fn modify_style(&self) -> ModifyStyle {
        ModifyStyle::Replace
    }

    /// Replaces the order (`PUT …/orders/{id}` with the whole new order): OANDA cancels it
    /// and creates the replacement, with the new `clientExtensions.id`, in one batch.
    async fn modify_order(&self, change: &OrderChange) -> Result<OrderState, BrokerError> {
        let account = self.account().await?;
        let body = json!({ "order": order_spec(&change.order) });
        let segments = ["accounts", &account, "orders", &change.broker_order_id];
        let r: ReplaceOrderResponse = self.call(Method::PUT, &segments, Some(&body)).await?;
        if let Some(cancel) = r.replacing_order_cancel_transaction {
            let reason = cancel.reason.unwrap_or_else(|| "ORDER_CANCEL".into());
            return Err(BrokerError::Rejected {
                status: 201,
                message: format!(
                    "OANDA cancelled order {} and then its replacement at once ({reason})",
                    change.broker_order_id
                ),
                code: reason,
            });
        }
        booked(
            &change.order,
            r.order_create_transaction,
            r.order_fill_transaction,
        )
    }

    async fn cancel_order(&self, broker_order_id: &str) -> Result<(), BrokerError> {
        let account = self.account().await?;
        let _: Value = self
            .call(
                Method::PUT,
                &["accounts", &account, "orders", broker_order_id, "cancel"],
                None,
            )
            .await?;
        Ok(())
    }

    async fn get_order(&self, broker_order_id: &str) -> Result<OrderState, BrokerError> {
        let account = self.account().await?;
        let r: OrderResponse = self
            .get(&["accounts", &account, "orders", broker_order_id])
            .await?;
        self.order_state(&account, r.order).await
    }

    async fn get_order_by_client_id(
        &self,
        client_order_id: &str,
    ) -> Result<Option<OrderState>, BrokerError> {
        let account = self.account().await?;
        let spec = format!("@{client_order_id}");
        match self
            .get::<OrderResponse>(&["accounts", &account, "orders", &spec])
            .await
        {
            Ok(r) => self.order_state(&account, r.order).await.map(Some),
            Err(BrokerError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn open_orders(&self) -> Result<Vec<OrderState>, BrokerError> {
        let account = self.account().await?;
        let r: OrdersResponse = self.get(&["accounts", &account, "pendingOrders"]).await?;
        Ok(r.orders
            .iter()
            .filter_map(|o| {
                let state = o.to_state(None);
                if state.is_none() {
                    tracing::debug!(order = %o.id, "skipping a pending order attached to a trade");
                }
                state
            })
            .collect())
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        let account = self.account().await?;
        let r: PositionsResponse = self.get(&["accounts", &account, "openPositions"]).await?;
        Ok(r.positions.iter().flat_map(|p| p.to_positions()).collect())
    }
}
