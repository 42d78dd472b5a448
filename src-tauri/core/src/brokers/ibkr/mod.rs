//! Interactive Brokers connector: the Client Portal Web API through the gateway on this
//! machine (`brokers/ibkr/PROTOCOL.md`), gateway mode. The user logs in at the gateway in a
//! browser; Brokerdesk stores no IBKR credential, and the account id (`DU1234567`) comes
//! from the account config.
//!
//! - `http`: the transport (the loopback gateway's pinned certificate, `brokers/pin.rs`; the
//!   session cookie, error mapping, recovery from "no bridge" and "query /accounts first").
//! - `models`: the wire types and their normalised forms.
//! - `contracts`: symbol → conid (cached) and the instrument search (`/iserver/secdef/search`).
//! - `stream`: the market-data WebSocket ([`IbkrQuoteStream`]); `stream::parse`: its pure
//!   frame parser ([`parse_frame`]), also reachable as `ibkr::parse`; `stream::socket`: the
//!   gateway WebSocket and its session, shared with
//! - `events`: the live-order topic `sor` on the same WebSocket ([`IbkrOrderEvents`]).
//!
//! The login session ends after about five idle minutes, so the connection manager calls
//! [`Ibkr::tickle`] every ~60 s; a 401 anywhere is [`BrokerError::Auth`] ("log in at the
//! gateway"), which nothing can retry away. Orders carry `cOID` = the client order id, which
//! IBKR refuses to register twice. IBKR may answer an order with confirmation questions;
//! they are confirmed, at most [`MAX_REPLIES`] rounds (the order was reviewed before it was
//! sent; the questions are IBKR's precautionary warnings). There is no lookup by cOID, so
//! [`Broker::get_order_by_client_id`] scans `/iserver/account/orders` for `order_ref`; that
//! list covers the current trading day only, like IBKR's own. `get_order` reads the status
//! endpoint, which carries no cOID (`client_order_id` is `None` there).
//!
//! Modifying an order changes it in place ([`ModifyStyle::InPlace`]): `POST
//! /iserver/account/{acct}/order/{orderId}` with the whole order (no `cOID`: the order
//! keeps its own), its questions confirmed like a placement's, then the order read back.

mod contracts;
pub mod events;
mod http;
mod models;
pub mod stream;

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::json;

use self::contracts::Contracts;
pub use self::events::IbkrOrderEvents;
use self::http::{body, IbkrHttp};
use self::models::{
    AuthStatus, IbkrPosition, IserverAccounts, LiveOrders, NewOrder, NewOrders, OrderStatusAnswer,
    PlaceAnswer, PortfolioAccount, Summary, Tickle,
};
pub use self::stream::parse::{self, parse_frame, ConidMap, Control};
pub use self::stream::{IbkrQuoteStream, StreamOptions};
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

/// Most confirmation rounds one order may take before it is given up on.
pub const MAX_REPLIES: usize = 5;
/// Positions per page of `/portfolio/{acct}/positions/{page}`.
const POSITIONS_PAGE: usize = 100;

/// What `/tickle` says about the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayStatus {
    /// The brokerage session is open (orders and market data work).
    pub authenticated: bool,
    pub connected: bool,
    /// Another session (TWS, another gateway) competes for the brokerage session.
    pub competing: bool,
    pub message: String,
}

/// The IBKR Client Portal connector.
pub struct Ibkr {
    http: Arc<IbkrHttp>,
    contracts: Arc<Contracts>,
    environment: Environment,
    stream_url: String,
    stream_options: StreamOptions,
    account_id: Option<String>,
}

impl std::fmt::Debug for Ibkr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written so the session cookie can never reach a log.
        f.debug_struct("Ibkr")
            .field("environment", &self.environment)
            .field("origin", &self.http.origin())
            .field("stream_url", &self.stream_url)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

impl Ibkr {
    /// Builds the connector; fails with [`BrokerError::Config`] for an unusable REST URL.
    ///
    /// The WebSocket URL is the account's stream URL when it was overridden (it differs
    /// from the catalog's default), else derived from the REST URL:
    /// `https://host:port/v1/api` → `wss://host:port/v1/api/ws`, so pointing the REST URL
    /// at a gateway (or the simulator) is enough.
    pub fn new(cfg: ConnectorConfig) -> Result<Self, BrokerError> {
        crate::brokers::http::expect_broker(&cfg, BrokerKind::Ibkr, "IBKR")?;
        let http = Arc::new(IbkrHttp::new(&cfg)?);
        Ok(Self {
            contracts: Arc::new(Contracts::new(http.clone())),
            http,
            environment: cfg.environment,
            stream_url: ws_url(&cfg),
            stream_options: StreamOptions::default(),
            account_id: cfg
                .account_id
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty()),
        })
    }

    /// Returns the connector with other stream timings (tests use short ones).
    pub fn with_stream_options(mut self, options: StreamOptions) -> Self {
        self.stream_options = options;
        self
    }

    /// Keeps the gateway session alive (call at least once a minute) and re-reads the
    /// session cookie. A 401 is [`BrokerError::Auth`]: nobody is logged in at the gateway.
    pub async fn tickle(&self) -> Result<GatewayStatus, BrokerError> {
        gateway_status(&self.http).await
    }

    /// Opens the market-data WebSocket subscribed to `instruments` (symbols such as `AAPL`,
    /// or conids): tickles the gateway (opening the brokerage session if it is closed),
    /// connects with the session cookie, waits for the gateway to accept the session, and
    /// subscribes. A symbol IBKR does not know becomes a [`crate::stream::StreamEvent::Notice`]
    /// on the first read, not an error.
    pub async fn open_stream(
        &self,
        instruments: &[String],
    ) -> Result<IbkrQuoteStream, BrokerError> {
        IbkrQuoteStream::open(
            self.http.clone(),
            self.contracts.clone(),
            &self.stream_url,
            self.stream_options.clone(),
            instruments,
        )
        .await
    }

    /// Opens the gateway's WebSocket as [`Ibkr::open_stream`] does and subscribes to the
    /// account's live orders (`sor`).
    pub async fn order_events(&self) -> Result<IbkrOrderEvents, BrokerError> {
        IbkrOrderEvents::open(
            self.http.clone(),
            &self.stream_url,
            self.stream_options.clone(),
        )
        .await
    }

    /// The `Cookie` header value for the WebSocket (`api={"session":"…"}`), once
    /// [`Ibkr::tickle`] has run.
    pub fn ws_cookie(&self) -> Option<Secret> {
        self.http.cookie()
    }

    /// The gateway's certificate pin (`brokers/pin.rs`), for a gateway on this machine over
    /// https; `None` for plain http, or a remote host verified by the trust store.
    pub fn tls_pin(&self) -> Option<&Arc<crate::brokers::pin::TlsPin>> {
        self.http.pin()
    }

    /// The WebSocket URL (`wss://localhost:5000/v1/api/ws`).
    pub fn stream_url(&self) -> &str {
        &self.stream_url
    }

    /// Pre-answers confirmation questions by message id (e.g. `o163`) for this session.
    pub async fn suppress_questions(&self, message_ids: &[&str]) -> Result<(), BrokerError> {
        let url = self.http.url(&["iserver", "questions", "suppress"]);
        let body = body(&json!({ "messageIds": message_ids }))?;
        self.http
            .call(Method::POST, url, Some(&body))
            .await
            .map(|_| ())
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, segs: &[&str]) -> Result<T, BrokerError> {
        self.http
            .call(Method::GET, self.http.url(segs), None)
            .await?
            .decode()
    }

    async fn auth_status(&self) -> Result<AuthStatus, BrokerError> {
        let url = self.http.url(&["iserver", "auth", "status"]);
        self.http.call(Method::POST, url, None).await?.decode()
    }

    /// Queries `/iserver/accounts` (which IBKR wants before orders) and returns the
    /// configured account, checked against the list, or the selected one.
    async fn account(&self) -> Result<String, BrokerError> {
        let a: IserverAccounts = self.get(&["iserver", "accounts"]).await?;
        match &self.account_id {
            Some(want) if a.accounts.iter().any(|x| x.eq_ignore_ascii_case(want)) => {
                Ok(want.clone())
            }
            Some(want) => Err(BrokerError::Config(format!(
                "the gateway's login reaches {}, not the configured ••••{}",
                a.accounts
                    .iter()
                    .map(|x| format!("••••{}", last4(x)))
                    .collect::<Vec<_>>()
                    .join(", "),
                last4(want)
            ))),
            None => a
                .selected
                .or_else(|| a.accounts.into_iter().next())
                .ok_or_else(|| BrokerError::Config("the gateway's login has no account".into())),
        }
    }

    /// The account for order and portfolio paths, without a round trip when configured.
    async fn account_for_paths(&self) -> Result<String, BrokerError> {
        match &self.account_id {
            Some(a) => Ok(a.clone()),
            None => self.account().await,
        }
    }

    async fn live_orders(&self) -> Result<Vec<OrderState>, BrokerError> {
        let mut url = self.http.url(&["iserver", "account", "orders"]);
        url.query_pairs_mut().append_pair("force", "true");
        let list: LiveOrders = self.http.call(Method::GET, url, None).await?.decode()?;
        let mine = |acct: &Option<String>| match (&self.account_id, acct) {
            (Some(want), Some(a)) => a.eq_ignore_ascii_case(want),
            _ => true,
        };
        list.orders
            .into_iter()
            .filter(|o| mine(&o.acct))
            .map(|o| o.into_state())
            .collect()
    }
}

#[async_trait]
impl Broker for Ibkr {
    fn kind(&self) -> BrokerKind {
        BrokerKind::Ibkr
    }

    async fn verify(&self) -> Result<AccountSummary, BrokerError> {
        self.tickle().await?;
        if !self.auth_status().await?.authenticated {
            self.http.open_bridge().await?;
            if !self.auth_status().await?.authenticated {
                return Err(BrokerError::Unavailable {
                    status: 400,
                    message: "the brokerage session did not open (no bridge)".into(),
                });
            }
        }
        let acct = self.account().await?;
        let listed: Vec<PortfolioAccount> = self.get(&["portfolio", "accounts"]).await?;
        let info = listed.iter().find(|a| a.id.eq_ignore_ascii_case(&acct));
        let summary: Summary = self.get(&["portfolio", &acct, "summary"]).await?;
        let amount = |key: &str| {
            models::summary_amount(&summary, key)
                .ok_or_else(|| BrokerError::Protocol(format!("the summary has no {key}")))
        };
        Ok(AccountSummary {
            account_last4: last4(&acct),
            account_type: info.and_then(|a| a.kind.clone()).unwrap_or_default(),
            currency: info
                .and_then(|a| a.currency.clone())
                .unwrap_or_else(|| "USD".into()),
            balance: amount("totalcashvalue")?,
            equity: amount("netliquidation")?,
            buying_power: amount("buyingpower")?,
            account_id: acct,
        })
    }

    async fn list_accounts(&self) -> Result<Vec<BrokerAccountRef>, BrokerError> {
        let listed: Vec<PortfolioAccount> = self.get(&["portfolio", "accounts"]).await?;
        Ok(listed
            .into_iter()
            .map(|a| BrokerAccountRef {
                label: a.title.or(a.desc).filter(|l| l != &a.id),
                account_id: a.id,
            })
            .collect())
    }

    async fn place_order(&self, order: &OrderIntent) -> Result<OrderState, BrokerError> {
        if order.has_exits() {
            // Exits are child orders (a bracket) at IBKR, which this desk does not send
            // yet: refused rather than placed without the stop-loss.
            return Err(BrokerError::Unsupported(
                "attaching a stop-loss or take-profit",
            ));
        }
        let acct = self.account().await?;
        let conid = self.contracts.conid(order.symbol()).await?;
        let order_body = body(&NewOrders {
            orders: [new_order(
                order,
                &acct,
                conid,
                Some(order.client_order_id()),
            )],
        })?;
        let url = self.http.url(&["iserver", "account", &acct, "orders"]);
        let answer = self.http.call(Method::POST, url, Some(&order_body)).await?;
        let (order_id, status) = self.confirmed(answer).await?;
        Ok(self.placed(order, order_id, status).await)
    }

    fn modify_style(&self) -> ModifyStyle {
        ModifyStyle::InPlace
    }

    /// Changes the order in place (`POST /iserver/account/{acct}/order/{orderId}` with the
    /// whole order, without a `cOID`), confirms IBKR's questions as a placement does, and
    /// reads the order back.
    async fn modify_order(&self, change: &OrderChange) -> Result<OrderState, BrokerError> {
        let order = &change.order;
        if order.has_exits() {
            return Err(BrokerError::Unsupported(
                "attaching a stop-loss or take-profit",
            ));
        }
        let id = models::order_id(&change.broker_order_id)?;
        let acct = self.account().await?;
        let conid = self.contracts.conid(order.symbol()).await?;
        let change_body = body(&new_order(order, &acct, conid, None))?;
        let url = self.http.url(&["iserver", "account", &acct, "order", id]);
        let answer = self
            .http
            .call(Method::POST, url, Some(&change_body))
            .await?;
        let (_, status) = self.confirmed(answer).await?;
        Ok(match self.get_order(id).await {
            Ok(s) => OrderState {
                symbol: order.symbol().to_string(),
                ..s
            },
            // Changed, but not read back: the terms sent, with the status IBKR answered.
            Err(e) => {
                tracing::warn!(error = %e, order_id = %id, "changed, but reading the order back failed");
                OrderState {
                    broker_order_id: id.to_string(),
                    client_order_id: None,
                    symbol: order.symbol().to_string(),
                    side: order.side(),
                    quantity: order.quantity(),
                    filled_quantity: Decimal::ZERO,
                    avg_fill_price: None,
                    status: models::status(&status, Decimal::ZERO),
                    broker_status: status,
                    terms: Some(crate::brokers::OrderTerms::of(order)),
                }
            }
        })
    }

    async fn cancel_order(&self, broker_order_id: &str) -> Result<(), BrokerError> {
        let id = models::order_id(broker_order_id)?;
        let acct = self.account().await?;
        let url = self.http.url(&["iserver", "account", &acct, "order", id]);
        self.http.call(Method::DELETE, url, None).await.map(|_| ())
    }

    async fn get_order(&self, broker_order_id: &str) -> Result<OrderState, BrokerError> {
        let id = models::order_id(broker_order_id)?;
        let s: OrderStatusAnswer = self
            .get(&["iserver", "account", "order", "status", id])
            .await?;
        s.into_state()
    }

    async fn get_order_by_client_id(
        &self,
        client_order_id: &str,
    ) -> Result<Option<OrderState>, BrokerError> {
        let list = self.live_orders().await?;
        Ok(list
            .into_iter()
            .find(|o| o.client_order_id.as_deref() == Some(client_order_id)))
    }

    async fn open_orders(&self) -> Result<Vec<OrderState>, BrokerError> {
        let list = self.live_orders().await?;
        Ok(list
            .into_iter()
            .filter(|o| models::is_open(&o.broker_status))
            .collect())
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        let acct = self.account_for_paths().await?;
        let mut all = Vec::new();
        for page in 0..20u32 {
            let page = page.to_string();
            let list: Vec<IbkrPosition> =
                self.get(&["portfolio", &acct, "positions", &page]).await?;
            let n = list.len();
            all.extend(
                list.into_iter()
                    .map(Position::from)
                    .filter(|p| !p.quantity.is_zero()),
            );
            if n < POSITIONS_PAGE {
                break;
            }
        }
        Ok(all)
    }

    async fn open_quote_stream(
        &self,
        instruments: &[String],
    ) -> Result<Box<dyn QuoteStream>, BrokerError> {
        Ok(Box::new(self.open_stream(instruments).await?))
    }

    async fn search_instruments(&self, query: &str) -> Result<Vec<InstrumentInfo>, BrokerError> {
        self.contracts.search(query).await
    }

    async fn open_order_events(&self) -> Result<Box<dyn OrderEventStream>, BrokerError> {
        Ok(Box::new(self.order_events().await?))
    }

    /// Tickles the gateway: keeps the session alive. A gateway that lost its brokerage
    /// session is retryable (reconnecting runs `verify`, which reopens the bridge).
    async fn keepalive(&self) -> Result<(), BrokerError> {
        let status = self.tickle().await?;
        if status.authenticated {
            Ok(())
        } else {
            Err(BrokerError::Unavailable {
                status: 503,
                message: "the gateway's brokerage session is not authenticated".into(),
            })
        }
    }
}

impl Ibkr {
    /// Answers IBKR's confirmation questions on an order submission (a placement or a
    /// change) with yes, at most [`MAX_REPLIES`] rounds; returns the order id and status
    /// the last answer carries.
    async fn confirmed(&self, mut answer: http::Answer) -> Result<(String, String), BrokerError> {
        let mut asked = Vec::new();
        for _ in 0..=MAX_REPLIES {
            match PlaceAnswer::parse(answer.value())? {
                PlaceAnswer::Placed { order_id, status } => return Ok((order_id, status)),
                PlaceAnswer::Question { reply_id, text } => {
                    if asked.len() == MAX_REPLIES {
                        break;
                    }
                    asked.push(text);
                    let url = self.http.url(&["iserver", "reply", &reply_id]);
                    let yes = body(&json!({"confirmed": true}))?;
                    answer = self.http.call(Method::POST, url, Some(&yes)).await?;
                }
            }
        }
        Err(BrokerError::Rejected {
            status: 0,
            code: "too_many_questions".into(),
            message: format!(
                "IBKR asked more than {MAX_REPLIES} confirmation questions: {}",
                asked.join(" / ")
            ),
        })
    }

    /// The state of a just-placed order: the status endpoint's, with what was asked for
    /// where it says less (the placement answer alone when the lookup fails).
    async fn placed(&self, order: &OrderIntent, id: String, status: String) -> OrderState {
        let fallback = OrderState {
            broker_order_id: id.clone(),
            client_order_id: Some(order.client_order_id().to_string()),
            symbol: order.symbol().to_string(),
            side: order.side(),
            quantity: order.quantity(),
            filled_quantity: Decimal::ZERO,
            avg_fill_price: None,
            status: models::status(&status, Decimal::ZERO),
            broker_status: status,
            terms: Some(crate::brokers::OrderTerms::of(order)),
        };
        match self.get_order(&id).await {
            Ok(s) => OrderState {
                client_order_id: fallback.client_order_id,
                symbol: order.symbol().to_string(),
                ..s
            },
            Err(_) => fallback,
        }
    }
}

/// One order's wire form for `acct` and `conid`; `c_oid` is the client order id of a
/// placement, `None` for a change.
fn new_order<'a>(
    order: &'a OrderIntent,
    acct: &'a str,
    conid: u64,
    c_oid: Option<&'a str>,
) -> NewOrder<'a> {
    let (order_type, price) = match (order.order_type(), order.limit_price(), order.stop_price()) {
        (OrderType::Limit, Some(p), _) => ("LMT", Some(p)),
        (OrderType::Stop, _, Some(p)) => ("STP", Some(p)),
        _ => ("MKT", None),
    };
    NewOrder {
        acct_id: acct,
        conid,
        order_type,
        side: match order.side() {
            OrderSide::Buy => "BUY",
            OrderSide::Sell => "SELL",
        },
        quantity: order.quantity(),
        price,
        tif: match order.time_in_force() {
            TimeInForce::Day => "DAY",
            TimeInForce::Gtc => "GTC",
        },
        c_oid,
        outside_rth: false,
    }
}

/// `POST /tickle`: learns the session (for the cookie) and reads the gateway's state.
async fn gateway_status(http: &IbkrHttp) -> Result<GatewayStatus, BrokerError> {
    let t: Tickle = http
        .tickle()
        .await?
        .decode()
        .map_err(|e| BrokerError::Protocol(format!("unexpected /tickle answer: {e}")))?;
    http.set_session(t.session.as_deref());
    let a = t.iserver.and_then(|i| i.auth_status).unwrap_or_default();
    Ok(GatewayStatus {
        authenticated: a.authenticated,
        connected: a.connected,
        competing: a.competing,
        message: a.message.unwrap_or_default(),
    })
}

/// The WebSocket URL: an overridden stream URL, else the REST URL's scheme swapped
/// (`http`→`ws`, `https`→`wss`) with `/ws` appended.
fn ws_url(cfg: &ConnectorConfig) -> String {
    let info = broker_info(BrokerKind::Ibkr);
    let default = info
        .environments
        .iter()
        .find(|e| e.environment == cfg.environment)
        .and_then(|e| e.stream_url.as_deref())
        .map(|u| u.trim_end_matches('/'));
    let stream = cfg.stream_url.trim_end_matches('/');
    if !stream.is_empty() && Some(stream) != default {
        return stream.to_string();
    }
    let rest = cfg.rest_url.trim_end_matches('/');
    let swapped = if let Some(r) = rest.strip_prefix("https://") {
        format!("wss://{r}")
    } else if let Some(r) = rest.strip_prefix("http://") {
        format!("ws://{r}")
    } else {
        // Not an HTTP URL: `IbkrHttp::new` refuses it before this is used.
        return stream.to_string();
    };
    format!("{swapped}/ws")
}
