//! Trading in the runtime: placing, cancelling and reading orders, positions and money, for
//! paper and live accounts alike.
//!
//! - **Where an order goes** is decided once, when it is placed: the built-in paper broker
//!   always trades on paper; any other account by its mode (`paper`: Brokerdesk's paper desk
//!   fills it against that account's streamed quotes, nothing reaches the broker; `live`: the
//!   broker, through [`crate::trading::oms`]).
//! - **Paper**: one durable [`PaperDesk`] per account, fed by a pump that taps the account's
//!   price feed (its symbols: the watchlist, the open orders' and the positions'). A market
//!   order waits for a quote stamped after it (a fresh one; [`QUOTE_WAIT`] at most, then
//!   `no_quote` and the order is cancelled).
//! - **Live**: the OMS sends it (intent committed first, never resent); open live orders are
//!   polled every second so fills reach the window within about a second.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::events::{RuntimeEvent, UiEvent};
use super::orders::connector_for;
use super::Runtime;
use crate::accounts::model::{Account, BrokerKind, TradingMode};
use crate::brokers::ModifyStyle;
use crate::brokers::OrderSide;
use crate::connection::manager::Channel;
use crate::connection::ConnState;
use crate::error::{ApiError, Code, ErrorCode};
use crate::paper::{self, FeedStatus, Quote, SimMarket};
use crate::stream::Tick;
use crate::trading::model::{ModeLabel, Order, OrderDetail, OrderKind, OrderStatus};
use crate::trading::modify::{self, OrderModify};
use crate::trading::paper_desk::PaperDesk;
use crate::trading::{cancels, oms, store, OrderContext, OrderDraft, OrderIntent, TimeInForce};

/// How long a paper market order waits for a fresh quote.
pub const QUOTE_WAIT: Duration = Duration::from_secs(5);

/// How often the money of an account with positions is published at most.
const MONEY_EVERY: Duration = Duration::from_millis(500);
/// How often a paper desk's pump looks for a new feed of its account (after a re-sync).
const FEED_CHECK: Duration = Duration::from_millis(250);

/// One open position, paper or live, as the window and the CLI show it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PositionRow {
    pub symbol: String,
    /// Positive long, negative short.
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub quantity: Decimal,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub average_price: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub mark_price: Option<Decimal>,
    /// In the account currency, when known.
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub unrealized_pnl: Option<Decimal>,
}

/// An account's money and positions now: from the paper desk, or as the broker reports it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AccountMoney {
    pub account_id: String,
    pub mode: TradingMode,
    /// `paper` (Brokerdesk's paper desk) or `broker` (reported by the broker).
    pub source: String,
    pub currency: String,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub balance: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub equity: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub unrealized_pnl: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub realized_pnl: Option<Decimal>,
    /// Equity against the start of the day, when known.
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub day_pnl: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub margin_used: Option<Decimal>,
    pub positions: Vec<PositionRow>,
    /// False when some figure could not be known (a position without a quote, P&L in a
    /// currency with no conversion rate): the window says so instead of a wrong total.
    pub complete: bool,
    #[ts(type = "string")]
    pub at: DateTime<Utc>,
}

/// An order ticket's estimate: the price it would fill near, and its cost and margin.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrderEstimate {
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub bid: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub ask: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub price: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub notional: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub margin: Option<Decimal>,
    pub currency: String,
    pub mode: TradingMode,
}

/// One account's desk and the task that feeds it.
struct Desk {
    desk: Arc<Mutex<PaperDesk>>,
    pump: Option<(CancellationToken, JoinHandle<()>)>,
}

/// The runtime's trading side.
#[derive(Default)]
pub(super) struct Trading {
    desks: Mutex<HashMap<String, Desk>>,
}

pub(super) fn api<E: ErrorCode>(e: E) -> ApiError {
    e.to_api_error()
}

fn no_quote(symbol: &str) -> ApiError {
    ApiError::new(
        Code::NoQuote,
        format!(
            "no fresh quote for {symbol} arrived within {} s; the order was not filled (is {symbol} an instrument of this account's broker, and is its price stream up?)",
            QUOTE_WAIT.as_secs()
        ),
    )
}

/// The paper engine's quote of a tick, when it has both sides.
pub(super) fn quote_of(t: &Tick) -> Option<Quote> {
    Some(Quote {
        instrument: t.instrument.clone(),
        bid: t.bid?,
        ask: t.ask?,
        bid_size: t.bid_size,
        ask_size: t.ask_size,
        time: t.exchange_time.unwrap_or(t.received_at),
    })
}

impl Runtime {
    /// Where an account's new orders go.
    pub(super) fn mode_of(account: &Account) -> TradingMode {
        if account.broker == BrokerKind::Paper {
            TradingMode::Paper
        } else {
            account.mode
        }
    }

    pub(super) async fn account(&self, key: &str) -> Result<Account, ApiError> {
        self.core.require_unlocked().await?;
        self.core.account_get(key).await
    }

    /// Returns the account's paper desk, loading it (and starting its pump) the first time.
    pub(super) async fn desk(&self, account: &Account) -> Result<Arc<Mutex<PaperDesk>>, ApiError> {
        let mut desks = self.trading.desks.lock().await;
        if let Some(d) = desks.get(&account.id) {
            return Ok(d.desk.clone());
        }
        let desk = Arc::new(Mutex::new(
            PaperDesk::load(&self.core.store(), &account.id)
                .await
                .map_err(api)?,
        ));
        desks.insert(
            account.id.clone(),
            Desk {
                desk: desk.clone(),
                pump: None,
            },
        );
        Ok(desk)
    }

    /// The latest quote of `symbol` on the account's feed stamped at or after `not_before`;
    /// waits up to [`QUOTE_WAIT`], subscribing the feed to it if needed.
    async fn fresh_quote(
        &self,
        account: &Account,
        symbol: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Quote, ApiError> {
        let deadline = tokio::time::Instant::now() + QUOTE_WAIT;
        if account.broker == BrokerKind::Paper {
            let market = SimMarket::new();
            loop {
                match market.quote(symbol, Utc::now()) {
                    Some(q) if q.time >= not_before => return Ok(q),
                    Some(_) => {}
                    None => {
                        return Err(ApiError::new(
                            Code::NoQuote,
                            format!("the simulated market has no {symbol}"),
                        ))
                    }
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(no_quote(symbol));
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        self.want_symbols(&account.id, &[symbol.to_string()]).await;
        loop {
            if let Some(feed) = self.manager().feed(&account.id) {
                if let Some(q) = feed
                    .book()
                    .snapshot()
                    .iter()
                    .filter(|t| t.instrument == symbol)
                    .filter_map(quote_of)
                    .find(|q| q.time >= not_before)
                {
                    return Ok(q);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(no_quote(symbol));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Makes sure the account's feed carries `symbols` (and its desk's), starting the feed
    /// if the account streamed nothing.
    async fn want_symbols(&self, account_id: &str, symbols: &[String]) {
        let mut all: Vec<String> = {
            let mut extra = self.conns.extra.lock().unwrap_or_else(|e| e.into_inner());
            let e = extra.entry(account_id.to_string()).or_default();
            for s in symbols {
                if !e.contains(s) {
                    e.push(s.clone());
                }
            }
            e.clone()
        };
        if let Ok(a) = self.core.account_get(account_id).await {
            for i in a.instruments {
                if !all.contains(&i) {
                    all.push(i);
                }
            }
        }
        if self.manager().set_instruments(account_id, &all).is_err() {
            // Not connected yet (a CLI runtime that syncs on demand): connect it now.
            self.sync(Some(account_id)).await;
            let _ = self.manager().set_instruments(account_id, &all);
        }
    }

    /// Starts the task that feeds an account's paper desk from its price feed.
    /// Nothing starts while held in the safe state (no paper fill: see `super::safe`).
    pub(super) async fn ensure_pump(self: &Arc<Self>, account: &Account) {
        if self.is_held() {
            return;
        }
        let desk = match self.desk(account).await {
            Ok(d) => d,
            Err(_) => return,
        };
        let symbols = {
            let d = desk.lock().await;
            let mut s = d.working_symbols();
            s.extend(d.position_symbols());
            s
        };
        self.want_symbols(&account.id, &symbols).await;
        let mut desks = self.trading.desks.lock().await;
        let Some(entry) = desks.get_mut(&account.id) else {
            return;
        };
        if entry.pump.as_ref().is_some_and(|(_, t)| !t.is_finished()) {
            return;
        }
        let stop = self.cancel.child_token();
        let rt = self.clone();
        let account_id = account.id.clone();
        let task = tokio::spawn(pump(rt, account_id, desk, stop.clone()));
        entry.pump = Some((stop, task));
    }

    pub(super) fn tell_orders(&self, orders: &[Order]) {
        tell_orders(&self.core, &self.out, orders);
    }

    /// Places an order (see the module docs). Returns it as it stands after the attempt: a
    /// paper market order filled (or `no_quote`), a resting one open, a live one as the
    /// broker answered (`unknown` while being looked up).
    pub async fn order_place(
        self: &Arc<Self>,
        account_key: &str,
        draft: OrderDraft,
    ) -> Result<Order, ApiError> {
        let account = self.account(account_key).await?;
        let mode = Self::mode_of(&account);
        self.place_as(&account, mode, draft, true).await
    }

    /// Places an order in `mode`: checked by the risk gate first (`checked`), or not (the
    /// breach response and the kill switch closing positions, whatever the status says).
    pub(super) async fn place_as(
        self: &Arc<Self>,
        account: &Account,
        mode: TradingMode,
        draft: OrderDraft,
        checked: bool,
    ) -> Result<Order, ApiError> {
        // The safe state refuses every order, checked or not (a breach's or the kill
        // switch's close included): see `super::safe`.
        self.require_not_held().await?;
        let account = account.clone();
        let intent =
            OrderIntent::new(&draft, &OrderContext::default()).map_err(ApiError::invalid)?;
        if mode == TradingMode::Live {
            bracket_supported(&account, &intent)?;
        }
        if checked {
            let price = if super::risk::needs_price(&account) {
                self.gate_price(&account, &intent).await
            } else {
                intent.limit_price().or(intent.stop_price())
            };
            self.risk_gate(&account, mode, &intent, price).await?;
        }
        let order = Order::pending(&account.id, mode, &intent, Utc::now());
        let store_ = self.core.store();
        {
            let mut tx = store_.begin_write().await.map_err(api)?;
            store::insert(&mut tx, &order, "intent stored")
                .await
                .map_err(api)?;
            tx.commit()
                .await
                .map_err(|e| api(crate::store::StoreError::from(e)))?;
        }
        let stored = self.reread(&order.id).await?;
        self.tell_orders(std::slice::from_ref(&stored));
        match mode {
            TradingMode::Live => {
                let broker = connector_for(&self.core, self.manager(), &account.id)
                    .await
                    .ok_or_else(|| {
                        ApiError::new(
                            Code::BrokerConfig,
                            format!(
                                "{} cannot reach its broker: no stored credentials or endpoints",
                                account.name
                            ),
                        )
                    })?;
                let placed = oms::send(&store_, &broker, stored, &self.lookup_after)
                    .await
                    .map_err(api)?;
                self.tell_orders(std::slice::from_ref(&placed));
                Ok(placed)
            }
            TradingMode::Paper => self.place_paper(&account, stored).await,
        }
    }

    /// The price the risk gate values an order at: its limit or stop price, or the current
    /// quote's side (`None` without a quote in the last seconds).
    async fn gate_price(&self, account: &Account, intent: &OrderIntent) -> Option<Decimal> {
        if let Some(p) = intent.limit_price().or(intent.stop_price()) {
            return Some(p);
        }
        let since = Utc::now() - chrono::Duration::seconds(10);
        let q = self
            .fresh_quote(account, intent.symbol(), since)
            .await
            .ok()?;
        Some(match intent.side() {
            OrderSide::Buy => q.ask,
            OrderSide::Sell => q.bid,
        })
    }

    async fn place_paper(
        self: &Arc<Self>,
        account: &Account,
        order: Order,
    ) -> Result<Order, ApiError> {
        let desk = self.desk(account).await?;
        let store_ = self.core.store();
        let changed = desk
            .lock()
            .await
            .place(&store_, &order)
            .await
            .map_err(api)?;
        self.tell_orders(&changed);
        if order.order_type == OrderKind::Market {
            match self
                .fresh_quote(account, &order.symbol, order.created_at)
                .await
            {
                Ok(q) => {
                    let changed = desk
                        .lock()
                        .await
                        .on_quote(&store_, q, Utc::now(), FeedStatus::Fresh)
                        .await
                        .map_err(api)?;
                    self.tell_orders(&changed);
                    // Usually filled by now; if that quote could not fill it (it was not
                    // usable for the engine), the account's pump fills it on the next one.
                    // Wait for that, so a caller (the CLI) sees the fill before it exits.
                    self.ensure_pump(account).await;
                    let deadline = tokio::time::Instant::now() + QUOTE_WAIT;
                    loop {
                        let o = self.reread(&order.id).await?;
                        let waiting = matches!(o.status, OrderStatus::Pending | OrderStatus::Open);
                        if !waiting || tokio::time::Instant::now() >= deadline {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                Err(e) => {
                    // No quote: the order must not be left working. The engine's cancel
                    // (which also drops its bracket) is the way; if the engine no longer
                    // holds it (a reload raced it), the stored order is closed directly.
                    match desk.lock().await.cancel(&store_, &order.id).await {
                        Ok(changed) => self.tell_orders(&changed),
                        Err(ce) => {
                            tracing::warn!(order = %order.id, code = %ce.code(), "the paper desk could not cancel an order without a quote")
                        }
                    }
                    let mut o = self.reread(&order.id).await?;
                    if o.status.is_working() {
                        o.status = OrderStatus::Cancelled;
                    }
                    if o.status == OrderStatus::Cancelled {
                        o.reason = Some(e.message.clone());
                        o.updated_at = Utc::now();
                        let mut conn = store_.acquire().await.map_err(api)?;
                        let _ = store::update(&mut conn, &o, "no quote").await;
                    }
                    return Err(e);
                }
            }
        }
        self.ensure_pump(account).await;
        self.reread(&order.id).await
    }

    /// A connection to the profile's database.
    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>, ApiError> {
        self.core.store().acquire().await.map_err(api)
    }

    /// The connector a live order of `account` goes through (`broker_config` when the
    /// account has no usable configuration).
    async fn broker_of(
        &self,
        account: &Account,
    ) -> Result<Arc<dyn crate::brokers::Broker>, ApiError> {
        connector_for(&self.core, self.manager(), &account.id)
            .await
            .ok_or_else(|| ApiError::new(Code::BrokerConfig, "the account cannot reach its broker"))
    }

    pub(super) async fn reread(&self, id: &str) -> Result<Order, ApiError> {
        let mut conn = self.conn().await?;
        store::get(&mut conn, id)
            .await
            .map_err(api)?
            .ok_or_else(|| ApiError::new(Code::NotFound, format!("no order {id}")))
    }

    async fn find_order(&self, account: &Account, key: &str) -> Result<Order, ApiError> {
        let mut conn = self.conn().await?;
        let found = store::find(&mut conn, Some(&account.id), key)
            .await
            .map_err(api)?;
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(ApiError::new(
                Code::NotFound,
                format!("{} has no order {key:?}", account.name),
            )),
            _ => Err(ApiError::new(
                Code::Ambiguous,
                format!("{key:?} matches several orders; use more of the id"),
            )),
        }
    }

    /// Cancels an open order: at the broker for a live one (then reads its state back), in
    /// the paper desk otherwise. Never refused by a rule: cancelling only reduces risk.
    pub async fn order_cancel(
        self: &Arc<Self>,
        account_key: &str,
        order_key: &str,
    ) -> Result<Order, ApiError> {
        let account = self.account(account_key).await?;
        let order = self.find_order(&account, order_key).await?;
        if order.status.is_final() {
            return Err(ApiError::new(
                Code::OrderNotOpen,
                format!("order {} is already {}", order.id, order.status),
            ));
        }
        match order.mode {
            TradingMode::Paper => {
                let desk = self.desk(&account).await?;
                let changed = desk
                    .lock()
                    .await
                    .cancel(&self.core.store(), &order.id)
                    .await
                    .map_err(api)?;
                self.tell_orders(&changed);
                self.reread(&order.id).await
            }
            TradingMode::Live => {
                let Some(broker_id) = order.broker_order_id.clone() else {
                    return Err(ApiError::new(
                        Code::OrderNotOpen,
                        format!(
                            "order {} has no broker order id yet ({}): resolve it in Needs review, or cancel it at the broker",
                            order.id, order.status
                        ),
                    ));
                };
                let broker = self.broker_of(&account).await?;
                if let Err(e) = broker.cancel_order(&broker_id).await {
                    if !cancels::retryable(&e) {
                        return Err(api(e));
                    }
                    // No answer: the cancel is queued and retried (it survives a restart).
                    cancels::queue(&self.core.store(), &order, &e, Utc::now())
                        .await
                        .map_err(api)?;
                    self.orders_nudge.notify_one();
                    return Err(ApiError::new(
                        Code::CancelPending,
                        format!(
                            "the broker did not answer the cancel of order {} ({}): Brokerdesk keeps retrying it in the background, also after a restart; the order shows as cancelled once the broker confirms, or moves to Needs review if it never does",
                            order.id,
                            e.text()
                        ),
                    ));
                }
                let state = broker.get_order(&broker_id).await.map_err(api)?;
                let next = oms::adopt(&order, &state, Utc::now());
                let mut conn = self.conn().await?;
                store::update(&mut conn, &next, "cancel requested")
                    .await
                    .map_err(api)?;
                drop(conn);
                let o = self.reread(&order.id).await?;
                self.tell_orders(std::slice::from_ref(&o));
                Ok(o)
            }
        }
    }

    /// Changes an open order's quantity or price (see [`modify`]): in the paper desk, in
    /// place at a broker that edits orders, or by a replacement at one that replaces them.
    /// Returns the order as it then stands (for a replacement: the new order). A larger
    /// quantity is checked by the account's rules like a new order for the difference; a
    /// smaller one or a new price only changes what is already allowed.
    pub async fn order_modify(
        self: &Arc<Self>,
        account_key: &str,
        order_key: &str,
        change: OrderModify,
    ) -> Result<Order, ApiError> {
        self.require_not_held().await?;
        let account = self.account(account_key).await?;
        let order = self.find_order(&account, order_key).await?;
        let intent = modify::new_terms(&order, &change).map_err(api)?;
        if intent.quantity() > order.quantity {
            let extra = OrderDraft {
                symbol: order.symbol.clone(),
                side: order.side,
                quantity: (intent.quantity() - order.quantity).to_string(),
                order_type: order.order_type,
                price: intent
                    .limit_price()
                    .or(intent.stop_price())
                    .map(|p| p.to_string()),
                time_in_force: order.time_in_force,
                stop_loss: None,
                take_profit: None,
                client_order_id: None,
            };
            let extra =
                OrderIntent::new(&extra, &OrderContext::default()).map_err(ApiError::invalid)?;
            let price = extra.limit_price().or(extra.stop_price());
            self.risk_gate(&account, order.mode, &extra, price).await?;
        }
        match order.mode {
            TradingMode::Paper => {
                let changes = paper::OrderChanges {
                    quantity: (intent.quantity() != order.quantity).then(|| intent.quantity()),
                    limit_price: intent
                        .limit_price()
                        .filter(|p| Some(*p) != order.limit_price),
                    stop_price: intent.stop_price().filter(|p| Some(*p) != order.stop_price),
                };
                let desk = self.desk(&account).await?;
                let changed = desk
                    .lock()
                    .await
                    .modify(&self.core.store(), &order.id, changes)
                    .await
                    .map_err(api)?;
                self.tell_orders(&changed);
                self.reread(&order.id).await
            }
            TradingMode::Live => {
                let broker = self.broker_of(&account).await?;
                let store_ = self.core.store();
                let result = match broker.modify_style() {
                    ModifyStyle::Unsupported => {
                        return Err(ApiError::new(
                            Code::NotModifiable,
                            format!(
                                "{} cannot change an order from Brokerdesk: cancel it and place a new one",
                                crate::accounts::catalog::broker_info(account.broker).label
                            ),
                        ))
                    }
                    ModifyStyle::InPlace => modify::in_place(&store_, &broker, order.clone(), intent).await,
                    ModifyStyle::Replace => {
                        modify::replace(&store_, &broker, order.clone(), intent, &self.lookup_after)
                            .await
                    }
                };
                // Whatever happened, both sides of it show.
                if let Ok(o) = self.reread(&order.id).await {
                    self.tell_orders(std::slice::from_ref(&o));
                }
                self.orders_nudge.notify_one();
                let o = result.map_err(api)?;
                let o = self.reread(&o.id).await?;
                self.tell_orders(std::slice::from_ref(&o));
                Ok(o)
            }
        }
    }

    /// Cancels every working live order of an account (offered when it goes back to paper);
    /// returns what each became. One that cannot be cancelled stays as it was, its error in
    /// the log (and the trader sees it still open).
    pub async fn cancel_live_orders(
        self: &Arc<Self>,
        account_key: &str,
    ) -> Result<Vec<Order>, ApiError> {
        let account = self.account(account_key).await?;
        let open = self.orders_list(&account.id, true).await?;
        let mut out = Vec::new();
        for o in open
            .into_iter()
            .filter(|o| o.mode == TradingMode::Live && o.broker_order_id.is_some())
        {
            match self.order_cancel(&account.id, &o.id).await {
                Ok(c) => out.push(c),
                Err(e) => {
                    tracing::warn!(order = %o.id, code = %e.code, "could not cancel a live order");
                    out.push(o);
                }
            }
        }
        Ok(out)
    }

    /// An account's orders, newest first (the working ones only with `open`).
    pub async fn orders_list(&self, account_key: &str, open: bool) -> Result<Vec<Order>, ApiError> {
        let account = self.account(account_key).await?;
        let mut conn = self.conn().await?;
        store::list(&mut conn, &account.id, open, 500)
            .await
            .map_err(api)
    }

    /// One order with its history and fills.
    pub async fn order_show(
        &self,
        account_key: &str,
        order_key: &str,
    ) -> Result<OrderDetail, ApiError> {
        let account = self.account(account_key).await?;
        let order = self.find_order(&account, order_key).await?;
        let mut conn = self.conn().await?;
        let events = store::events(&mut conn, &order.id).await.map_err(api)?;
        let fills = store::fills(&mut conn, &order.id).await.map_err(api)?;
        Ok(OrderDetail {
            order,
            events,
            fills,
        })
    }

    /// An account's money and positions: the paper desk's (paper mode, the built-in
    /// broker), or the broker's report (live mode).
    pub async fn account_money(
        self: &Arc<Self>,
        account_key: &str,
    ) -> Result<AccountMoney, ApiError> {
        let account = self.account(account_key).await?;
        let mode = Self::mode_of(&account);
        self.money_in(&account, mode).await
    }

    /// An account's money in `mode` (live: the broker's report, whatever the account's mode
    /// is now — the kill switch reads a live account's positions after moving it to paper).
    pub(super) async fn money_in(
        self: &Arc<Self>,
        account: &Account,
        mode: TradingMode,
    ) -> Result<AccountMoney, ApiError> {
        let account = account.clone();
        let now = Utc::now();
        if mode == TradingMode::Paper {
            self.ensure_pump(&account).await;
            let desk = self.desk(&account).await?;
            let s = desk.lock().await.summary(now);
            return Ok(money_of_paper(&account.id, s, now));
        }
        let broker = self.broker_of(&account).await?;
        let summary = broker.verify().await.map_err(api)?;
        let positions = broker.positions().await.map_err(api)?;
        Ok(AccountMoney {
            account_id: account.id.clone(),
            mode,
            source: "broker".into(),
            currency: summary.currency.clone(),
            balance: Some(summary.balance),
            equity: Some(summary.equity),
            unrealized_pnl: positions
                .iter()
                .map(|p| p.unrealized_pl)
                .try_fold(Decimal::ZERO, |acc, p| p.map(|p| acc + p)),
            realized_pnl: None,
            day_pnl: None,
            margin_used: None,
            complete: true,
            positions: positions
                .into_iter()
                .map(|p| PositionRow {
                    symbol: p.symbol,
                    quantity: p.quantity,
                    average_price: p.avg_price,
                    mark_price: None,
                    unrealized_pnl: p.unrealized_pl,
                })
                .collect(),
            at: now,
        })
    }

    /// Closes a position with a market order for its whole quantity.
    pub async fn position_close(
        self: &Arc<Self>,
        account_key: &str,
        symbol: &str,
    ) -> Result<Order, ApiError> {
        let money = self.account_money(account_key).await?;
        let Some(p) = money
            .positions
            .iter()
            .find(|p| p.symbol == symbol && !p.quantity.is_zero())
        else {
            return Err(ApiError::new(
                Code::NotFound,
                format!("no open position in {symbol}"),
            ));
        };
        let side = if p.quantity > Decimal::ZERO {
            OrderSide::Sell
        } else {
            OrderSide::Buy
        };
        let mut draft = OrderDraft::market(symbol, side, &p.quantity.abs().to_string());
        draft.time_in_force = TimeInForce::Day;
        self.order_place(account_key, draft).await
    }

    /// An order ticket's estimate at the current quote.
    pub async fn order_estimate(
        self: &Arc<Self>,
        account_key: &str,
        symbol: &str,
        side: OrderSide,
        quantity: Decimal,
        price: Option<Decimal>,
    ) -> Result<OrderEstimate, ApiError> {
        let account = self.account(account_key).await?;
        let mode = Self::mode_of(&account);
        let quote = self
            .fresh_quote(&account, symbol, Utc::now() - chrono::Duration::seconds(10))
            .await
            .ok();
        let px = price.or_else(|| {
            quote.as_ref().map(|q| match side {
                OrderSide::Buy => q.ask,
                OrderSide::Sell => q.bid,
            })
        });
        let desk = self.desk(&account).await?;
        let est = match px {
            Some(p) if quantity > Decimal::ZERO => desk
                .lock()
                .await
                .estimate(symbol, side, quantity, p, Utc::now())
                .ok(),
            _ => None,
        };
        Ok(OrderEstimate {
            bid: quote.as_ref().map(|q| q.bid),
            ask: quote.as_ref().map(|q| q.ask),
            price: px,
            notional: est.as_ref().and_then(|e| e.notional),
            margin: est.as_ref().and_then(|e| e.margin),
            currency: est.map(|e| e.currency).unwrap_or_else(|| "USD".into()),
            mode,
        })
    }

    /// Starts a paper account over (every open paper order cancelled, positions gone, the
    /// cash back to `balance` or the starting balance).
    pub async fn paper_reset(
        self: &Arc<Self>,
        account_key: &str,
        balance: Option<Decimal>,
    ) -> Result<AccountMoney, ApiError> {
        let account = self.account(account_key).await?;
        {
            let mut desks = self.trading.desks.lock().await;
            if let Some(d) = desks.remove(&account.id) {
                if let Some((stop, _)) = d.pump {
                    stop.cancel();
                }
            }
        }
        PaperDesk::reset(&self.core.store(), &account.id, balance)
            .await
            .map_err(api)?;
        self.ui(UiEvent::OrdersChanged(super::AccountsChanged {
            account_ids: vec![account.id.clone()],
        }));
        self.account_money(&account.id).await
    }

    /// Every order that needs a person to decide, oldest first.
    pub async fn review_list(&self) -> Result<Vec<Order>, ApiError> {
        self.core.require_unlocked().await?;
        let mut conn = self.conn().await?;
        store::with_status(&mut conn, OrderStatus::NeedsReview)
            .await
            .map_err(api)
    }

    /// What the window title and the tray show about trading: the accounts whose orders
    /// reach a broker, by label, and how many orders need review. Empty while locked.
    pub async fn trading_summary(&self) -> TradingSummary {
        let mut summary = TradingSummary::default();
        let Ok(accounts) = self.core.accounts_list().await else {
            return summary;
        };
        for a in accounts {
            match ModeLabel::of(a.mode, a.environment) {
                ModeLabel::Paper => {}
                ModeLabel::BrokerPractice => summary.broker_practice.push(a.name),
                ModeLabel::RealMoney => summary.real_money.push(a.name),
            }
        }
        summary.needs_review = self.review_list().await.map(|v| v.len()).unwrap_or(0);
        summary
    }

    /// Resolves an order in Needs review: it was placed (the broker's order id, adopted and
    /// followed from now on), or it was not (cancelled here; nothing is sent).
    pub async fn review_resolve(
        &self,
        order_key: &str,
        placed: Option<String>,
    ) -> Result<Order, ApiError> {
        self.core.require_unlocked().await?;
        let mut conn = self.conn().await?;
        let found = store::find(&mut conn, None, order_key).await.map_err(api)?;
        drop(conn);
        let [order] = found.as_slice() else {
            return Err(ApiError::new(
                Code::NotFound,
                format!("no single order matches {order_key:?}"),
            ));
        };
        if order.status != OrderStatus::NeedsReview {
            return Err(ApiError::new(
                Code::OrderNotOpen,
                format!(
                    "order {} does not need review (it is {})",
                    order.id, order.status
                ),
            ));
        }
        let mut next = order.clone();
        next.updated_at = Utc::now();
        let detail = match placed {
            Some(broker_id) => {
                let account = self.core.account_get(&order.account_id).await?;
                let broker = connector_for(&self.core, self.manager(), &account.id).await;
                let state = match broker {
                    Some(b) => b.get_order(&broker_id).await.ok(),
                    None => None,
                };
                match state {
                    Some(s) => next = oms::adopt(&next, &s, Utc::now()),
                    None => {
                        next.broker_order_id = Some(broker_id.clone());
                        next.status = OrderStatus::Open;
                    }
                }
                next.reason = Some(format!(
                    "marked placed by the trader (broker order {broker_id})"
                ));
                "resolved: placed"
            }
            None => {
                next.status = OrderStatus::Cancelled;
                next.reason =
                    Some("marked not placed by the trader; nothing was sent again".into());
                "resolved: not placed"
            }
        };
        let mut conn = self.conn().await?;
        let done = store::update(&mut conn, &next, detail).await.map_err(api)?;
        drop(conn);
        if !done {
            return Err(ApiError::new(
                Code::Busy,
                "the order changed meanwhile; look again",
            ));
        }
        let o = self.reread(&order.id).await?;
        self.tell_orders(std::slice::from_ref(&o));
        Ok(o)
    }

    /// Stops every paper desk's pump.
    pub(super) async fn stop_trading(&self) {
        let desks: Vec<Desk> = self
            .trading
            .desks
            .lock()
            .await
            .drain()
            .map(|(_, d)| d)
            .collect();
        for d in desks {
            if let Some((stop, task)) = d.pump {
                stop.cancel();
                let _ = task.await;
            }
        }
    }

    /// Reloads the paper desks (orders changed in another process).
    pub(super) async fn reload_desks(&self) {
        let desks = self.trading.desks.lock().await;
        for (id, d) in desks.iter() {
            match PaperDesk::load(&self.core.store(), id).await {
                Ok(mut fresh) => {
                    let mut desk = d.desk.lock().await;
                    // The latest quotes are the feed's, not the database's: keep them, so
                    // positions stay marked until the next tick.
                    fresh.keep_quotes_of(&mut desk);
                    *desk = fresh;
                }
                Err(e) => {
                    tracing::warn!(account = %id, code = %e.code(), "could not reload a paper desk")
                }
            }
        }
    }

    /// Starts the pumps of the paper accounts with open orders or positions (at start).
    pub(super) async fn start_desks(self: &Arc<Self>) {
        let accounts = match self.core.accounts_list().await {
            Ok(a) => a,
            Err(_) => return,
        };
        for a in accounts {
            if Self::mode_of(&a) != TradingMode::Paper {
                continue;
            }
            let has_work: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM paper_working WHERE account_id = ?1) + \
                 (SELECT COUNT(*) FROM paper_positions WHERE account_id = ?1 AND quantity <> '0')",
            )
            .bind(&a.id)
            .fetch_one(self.core.store().pool())
            .await
            .unwrap_or(0);
            if has_work > 0 {
                self.ensure_pump(&a).await;
            }
        }
    }
}

pub(super) fn money_of_paper(
    account_id: &str,
    s: paper::AccountSummary,
    now: DateTime<Utc>,
) -> AccountMoney {
    AccountMoney {
        account_id: account_id.to_string(),
        mode: TradingMode::Paper,
        source: "paper".into(),
        currency: s.currency.clone(),
        balance: Some(s.balance),
        equity: Some(s.equity),
        unrealized_pnl: Some(s.unrealized_pnl),
        realized_pnl: Some(s.realized_pnl),
        day_pnl: s.day_pnl,
        margin_used: Some(s.margin_used),
        complete: s.complete,
        positions: s
            .positions
            .into_iter()
            .filter(|p| !p.quantity.is_zero())
            .map(|p| PositionRow {
                symbol: p.symbol,
                quantity: p.quantity,
                average_price: Some(p.average_price),
                mark_price: p.mark_price,
                unrealized_pnl: p.unrealized_pnl,
            })
            .collect(),
        at: now,
    }
}

/// Feeds an account's paper desk from its price feed until cancelled; publishes the orders
/// that changed and (at most every [`MONEY_EVERY`]) the account's money.
async fn pump(
    rt: Arc<Runtime>,
    account_id: String,
    desk: Arc<Mutex<PaperDesk>>,
    stop: CancellationToken,
) {
    let mut ticks = Vec::with_capacity(256);
    let mut last_money = tokio::time::Instant::now() - MONEY_EVERY;
    let store_ = rt.core.store();
    // The account's feed is replaced when its connection is re-synced (an edit, a mode
    // switch), and is absent while it is not connected: follow whichever is current.
    let mut current: Option<(
        Arc<crate::stream::feed::Feed>,
        Arc<crate::stream::book::Tap>,
    )> = None;
    let mut check = tokio::time::interval(FEED_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let latest = rt.manager().feed(&account_id);
        let same = match (&current, &latest) {
            (Some((f, _)), Some(l)) => Arc::ptr_eq(f, l),
            (None, None) => true,
            _ => false,
        };
        if !same {
            current = latest.map(|f| {
                let tap = f.tap(4096);
                (f, tap)
            });
        }
        ticks.clear();
        let Some((_, tap)) = current.as_ref() else {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = check.tick() => continue,
            }
        };
        let more = tokio::select! {
            () = stop.cancelled() => break,
            _ = check.tick() => continue,
            more = tap.recv(&mut ticks) => more,
        };
        if !more {
            current = None;
            continue;
        }
        let fresh = matches!(
            rt.manager().state(&account_id, Channel::Price),
            Some(ConnState::Connected)
        );
        let status = if fresh {
            FeedStatus::Fresh
        } else {
            FeedStatus::Stale
        };
        let mut d = desk.lock().await;
        for t in &ticks {
            let Some(q) = quote_of(t) else { continue };
            match d.on_quote(&store_, q, Utc::now(), status).await {
                Ok(changed) if !changed.is_empty() => rt.tell_orders(&changed),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(account = %account_id, code = %e.code(), "the paper desk could not book a quote")
                }
            }
        }
        if last_money.elapsed() >= MONEY_EVERY && !d.position_symbols().is_empty() {
            last_money = tokio::time::Instant::now();
            let money = money_of_paper(&account_id, d.summary(Utc::now()), Utc::now());
            rt.ui(UiEvent::AccountMoney(Box::new(money)));
        }
    }
}

/// Tells the window about changed orders, and the desktop about the ones a trader must hear
/// of: fills, rejections and orders that need review (fills only when the account's
/// "order filled" notification is on; the others always).
pub(super) fn tell_orders(
    core: &Arc<crate::api::Brokerdesk>,
    out: &tokio::sync::broadcast::Sender<RuntimeEvent>,
    orders: &[Order],
) {
    for o in orders {
        let _ = out.send(RuntimeEvent::Ui(UiEvent::OrderUpdate(Box::new(o.clone()))));
    }
    let worth: Vec<Order> = orders
        .iter()
        .filter(|o| {
            matches!(
                o.status,
                OrderStatus::Filled | OrderStatus::Rejected | OrderStatus::NeedsReview
            )
        })
        .cloned()
        .collect();
    if worth.is_empty() {
        return;
    }
    let core = core.clone();
    let out = out.clone();
    tokio::spawn(async move {
        for o in worth {
            let Ok(account) = core.account_get(&o.account_id).await else {
                continue;
            };
            if let Some(notice) = order_notice(&o, &account) {
                let _ = out.send(RuntimeEvent::Notify(notice));
            }
        }
    });
}

/// The notification for an order's new state, if it deserves one.
pub fn order_notice(o: &Order, account: &Account) -> Option<super::events::Notice> {
    let mode = match o.mode {
        TradingMode::Paper => "paper",
        TradingMode::Live => "live",
    };
    let what = format!(
        "{} {} {}",
        o.side.as_str(),
        o.quantity.normalize(),
        o.symbol
    );
    let (title, body) = match o.status {
        OrderStatus::Filled if account.notifications.order_filled => {
            let at = o
                .avg_fill_price
                .map(|p| format!(" at {}", p.normalize()))
                .unwrap_or_default();
            (
                format!("Filled · {}", account.name),
                format!("{what}{at} ({mode})"),
            )
        }
        OrderStatus::Rejected => (
            format!("Order rejected · {}", account.name),
            format!(
                "{what}: {}",
                crate::text::cap(o.reason.as_deref().unwrap_or("no reason given"), 200)
            ),
        ),
        OrderStatus::NeedsReview => (
            format!("Order needs review · {}", account.name),
            format!("{what}: Brokerdesk could not tell whether the broker has it. Open Trade → Needs review."),
        ),
        _ => return None,
    };
    Some(super::events::Notice::new(title, body))
}

/// See [`Runtime::trading_summary`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradingSummary {
    /// Accounts in live mode on a live environment.
    pub real_money: Vec<String>,
    /// Accounts in live mode on a broker's practice environment.
    pub broker_practice: Vec<String>,
    pub needs_review: usize,
}

impl TradingSummary {
    /// The window title: "Brokerdesk", or with the most serious mode any account is in.
    pub fn window_title(&self) -> String {
        if !self.real_money.is_empty() {
            format!(
                "Brokerdesk — {} ({})",
                ModeLabel::RealMoney.text(),
                self.real_money.join(", ")
            )
        } else if !self.broker_practice.is_empty() {
            format!("Brokerdesk — {}", ModeLabel::BrokerPractice.text())
        } else {
            "Brokerdesk".to_string()
        }
    }

    /// The tray's lines about trading (shown above the accounts).
    pub fn tray_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.real_money.is_empty() {
            lines.push(format!(
                "{}: {}",
                ModeLabel::RealMoney.text(),
                self.real_money.join(", ")
            ));
        }
        if !self.broker_practice.is_empty() {
            lines.push(format!(
                "{}: {}",
                ModeLabel::BrokerPractice.text(),
                self.broker_practice.join(", ")
            ));
        }
        if self.needs_review > 0 {
            lines.push(match self.needs_review {
                1 => "1 order needs review".to_string(),
                n => format!("{n} orders need review"),
            });
        }
        lines
    }
}

/// Refuses a stop-loss or take-profit on a live order for a broker whose connector does not
/// attach them to the order (sending the entry without its protection would be worse than
/// refusing it). Alpaca (bracket / OTO / OCO classes) and OANDA (`stopLossOnFill` /
/// `takeProfitOnFill`) attach them; the paper engine supports them for every account.
fn bracket_supported(account: &Account, intent: &OrderIntent) -> Result<(), ApiError> {
    if matches!(account.broker, BrokerKind::Alpaca | BrokerKind::Oanda) {
        return Ok(());
    }
    let broker = account.broker.as_str();
    let mut errs = Vec::new();
    for (field, present, what) in [
        ("stopLoss", intent.stop_loss().is_some(), "a stop-loss"),
        (
            "takeProfit",
            intent.take_profit().is_some(),
            "a take-profit",
        ),
    ] {
        if present {
            errs.push(crate::error::FieldError::new(
                field,
                crate::error::FieldCode::NotAllowed,
                format!(
                    "Brokerdesk cannot attach {what} to a live {broker} order yet: place it as a separate order after the fill."
                ),
            ));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_and_the_tray_name_the_most_serious_mode() {
        let mut s = TradingSummary::default();
        assert_eq!(s.window_title(), "Brokerdesk");
        assert!(s.tray_lines().is_empty());
        s.broker_practice.push("Practice".into());
        assert_eq!(s.window_title(), "Brokerdesk — BROKER PRACTICE");
        s.real_money.push("Main".into());
        s.needs_review = 2;
        assert_eq!(s.window_title(), "Brokerdesk — LIVE — REAL MONEY (Main)");
        assert_eq!(
            s.tray_lines(),
            vec![
                "LIVE — REAL MONEY: Main".to_string(),
                "BROKER PRACTICE: Practice".to_string(),
                "2 orders need review".to_string()
            ]
        );
    }
}
