//! The paper broker of one account, durable: the pure engine and ledger of [`crate::paper`]
//! with every event they emit written to SQLite before anyone is told.
//!
//! One fill is one immediate transaction: the fill row, the order's filled quantity and
//! status (a compare-and-set: if another process — the CLI — moved the order first, nothing
//! is written and the desk reloads), the position and the cash balance. A restart resumes
//! the open orders from `paper_working` (their bracket links, trigger state and "quotes count
//! from" instant) and the money from `paper_accounts` / `paper_positions`.
//!
//! Instruments: the built-in simulated market's specifications, else inferred from the
//! symbol (`AAA_BBB` is an FX pair priced in BBB; anything else a share priced in USD).
//! Conversion rates come from the latest quotes the desk has seen (and the simulated market
//! for the built-in paper broker). Fees are zero: Brokerdesk's paper engine charges none.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{Row, SqliteConnection};

use super::model::{Fill, Order, OrderKind, OrderStatus, Side, TimeInForce};
use super::store::{self, fmt_time, OrderStoreError};
use crate::paper::{
    self, AccountSummary, EngineConfig, EngineEvent, FeedStatus, InstrumentKind, InstrumentSpec,
    Ledger, LedgerConfig, NewOrder, PaperEngine, Quote, SimMarket,
};
use crate::store::{Store, StoreError};

/// Why the paper desk could not do something.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Store(#[from] OrderStoreError),
    #[error(transparent)]
    Paper(#[from] paper::PaperError),
    #[error("the paper account of {0} is damaged in the database: {1}")]
    Damaged(String, String),
}

impl From<StoreError> for DeskError {
    fn from(e: StoreError) -> Self {
        DeskError::Store(e.into())
    }
}

impl From<sqlx::Error> for DeskError {
    fn from(e: sqlx::Error) -> Self {
        DeskError::Store(e.into())
    }
}

impl crate::error::ErrorCode for DeskError {
    fn code(&self) -> crate::error::Code {
        match self {
            DeskError::Store(OrderStoreError::Store(e)) => e.code(),
            DeskError::Store(OrderStoreError::Damaged { .. }) | DeskError::Damaged(..) => {
                crate::error::Code::Storage
            }
            DeskError::Paper(e) => e.code(),
        }
    }
}

/// Returns the specification of `symbol`: the simulated market's, else inferred.
pub fn spec_for(market: &SimMarket, symbol: &str) -> InstrumentSpec {
    if let Some(s) = market.spec(symbol) {
        return s.clone();
    }
    let fx = symbol.split_once('_').filter(|(b, q)| {
        b.len() == 3 && q.len() == 3 && (b.chars().chain(q.chars())).all(|c| c.is_ascii_uppercase())
    });
    match fx {
        Some((base, quote)) => InstrumentSpec {
            symbol: symbol.to_string(),
            name: format!("{base}/{quote}"),
            kind: InstrumentKind::Fx,
            base_currency: Some(base.to_string()),
            quote_currency: quote.to_string(),
            tick_size: if quote == "JPY" {
                Decimal::new(1, 3)
            } else {
                Decimal::new(1, 5)
            },
            contract_size: Decimal::ONE,
            default_quantity: Decimal::new(10_000, 0),
        },
        None => InstrumentSpec {
            symbol: symbol.to_string(),
            name: symbol.to_string(),
            kind: InstrumentKind::Stock,
            base_currency: None,
            quote_currency: "USD".into(),
            tick_size: Decimal::new(1, 2),
            contract_size: Decimal::ONE,
            default_quantity: Decimal::new(10, 0),
        },
    }
}

fn to_paper_side(s: Side) -> paper::Side {
    match s {
        Side::Buy => paper::Side::Buy,
        Side::Sell => paper::Side::Sell,
    }
}

/// The engine's form of a stored entry order.
pub fn new_order(o: &Order, end_of_day: DateTime<Utc>) -> NewOrder {
    NewOrder {
        id: o.id.clone(),
        symbol: o.symbol.clone(),
        side: to_paper_side(o.side),
        quantity: o.quantity,
        order_type: match o.order_type {
            OrderKind::Market => paper::OrderType::Market,
            OrderKind::Limit => paper::OrderType::Limit,
            OrderKind::Stop => paper::OrderType::Stop,
        },
        limit_price: o.limit_price,
        stop_price: o.stop_price,
        tif: match o.time_in_force {
            TimeInForce::Day => paper::TimeInForce::Day,
            TimeInForce::Gtc => paper::TimeInForce::Gtc,
        },
        expires_at: (o.time_in_force == TimeInForce::Day).then_some(end_of_day),
        stop_loss: o.stop_loss,
        take_profit: o.take_profit,
        accepted_at: o.created_at,
    }
}

/// The end of the trading day an order placed at `at` belongs to: 21:00 UTC (New York's
/// 16:00/17:00, where FX and US stocks roll), or the next day's once past it.
pub fn end_of_day(at: DateTime<Utc>) -> DateTime<Utc> {
    let today = at
        .date_naive()
        .and_hms_opt(21, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(at);
    if at < today {
        today
    } else {
        today + chrono::Duration::days(1)
    }
}

/// One paper account's engine and ledger, backed by the store.
pub struct PaperDesk {
    account_id: String,
    engine: PaperEngine,
    ledger: Ledger,
    market: SimMarket,
    /// The latest quote of every symbol seen (marks and conversion rates).
    quotes: HashMap<String, Quote>,
    day_start_equity: Option<Decimal>,
    day: Option<String>,
}

fn dec(account: &str, what: &str, v: &str) -> Result<Decimal, DeskError> {
    Decimal::from_str(v)
        .map_err(|_| DeskError::Damaged(account.to_string(), format!("{what} {v:?}")))
}

impl PaperDesk {
    /// Loads (or creates, with the default starting balance) an account's paper broker.
    pub async fn load(store: &Store, account_id: &str) -> Result<Self, DeskError> {
        let mut conn = store.acquire().await?;
        let row = sqlx::query("SELECT * FROM paper_accounts WHERE account_id = ?")
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await?;
        let (ledger, day_start, day) = match row {
            None => {
                let cfg = LedgerConfig::default();
                drop(conn);
                let mut tx = store.begin_write().await?;
                insert_account(&mut tx, account_id, &cfg, cfg.starting_balance).await?;
                tx.commit().await.map_err(StoreError::from)?;
                conn = store.acquire().await?;
                (Ledger::new(cfg), None, None)
            }
            Some(r) => {
                let s = |c: &str| -> Result<String, DeskError> { Ok(r.try_get::<String, _>(c)?) };
                let cfg = LedgerConfig {
                    currency: s("currency")?,
                    starting_balance: dec(account_id, "starting balance", &s("starting_balance")?)?,
                    fx_leverage: dec(account_id, "FX leverage", &s("fx_leverage")?)?,
                    stock_leverage: dec(account_id, "stock leverage", &s("stock_leverage")?)?,
                };
                let unconverted = sqlx::query(
                    "SELECT currency, amount FROM paper_unconverted WHERE account_id = ?",
                )
                .bind(account_id)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|u| {
                    let (c, a): (String, String) = (u.try_get("currency")?, u.try_get("amount")?);
                    Ok((c, dec(account_id, "unconverted amount", &a)?))
                })
                .collect::<Result<BTreeMap<String, Decimal>, DeskError>>()?;
                let positions = load_positions(&mut conn, account_id).await?;
                let day_start: Option<String> = r.try_get("day_start_equity")?;
                let ledger = Ledger::restore(
                    cfg,
                    dec(account_id, "balance", &s("balance")?)?,
                    dec(account_id, "realised P&L", &s("realized_pl")?)?,
                    dec(account_id, "fees", &s("fees")?)?,
                    unconverted,
                    positions,
                );
                (
                    ledger,
                    day_start
                        .map(|d| dec(account_id, "day start equity", &d))
                        .transpose()?,
                    r.try_get::<Option<String>, _>("day")?,
                )
            }
        };
        let mut engine = PaperEngine::new(EngineConfig::default());
        let working = sqlx::query("SELECT state FROM paper_working WHERE account_id = ?")
            .bind(account_id)
            .fetch_all(&mut *conn)
            .await?;
        for w in working {
            let state: String = w.try_get("state")?;
            match serde_json::from_str::<paper::Order>(&state) {
                Ok(o) => engine.restore(o),
                Err(e) => tracing::warn!(account = %account_id, error = %e,
                    "a paper order's working state is unreadable; it no longer works"),
            }
        }
        Ok(Self {
            account_id: account_id.to_string(),
            engine,
            ledger,
            market: SimMarket::new(),
            quotes: HashMap::new(),
            day_start_equity: day_start,
            day,
        })
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The symbols of the open orders (the feed must carry them).
    pub fn working_symbols(&self) -> Vec<String> {
        let mut s: Vec<String> = self
            .engine
            .open_orders()
            .iter()
            .map(|o| o.symbol.clone())
            .collect();
        s.sort();
        s.dedup();
        s
    }

    /// The symbols of the open positions.
    pub fn position_symbols(&self) -> Vec<String> {
        self.ledger
            .open_positions()
            .map(|p| p.symbol.clone())
            .collect()
    }

    /// Whether the engine holds `order_id` open.
    pub fn holds(&self, order_id: &str) -> bool {
        self.engine
            .order(order_id)
            .is_some_and(|o| o.status.is_open())
    }

    fn rate(&self, pair: &str, at: DateTime<Utc>) -> Option<Decimal> {
        self.quotes
            .get(pair)
            .map(Quote::mid)
            .or_else(|| self.market.quote(pair, at).map(|q| q.mid()))
    }

    /// Takes over the latest quotes of `old` (a reload from the store must not forget what
    /// the feed said).
    pub fn keep_quotes_of(&mut self, old: &mut PaperDesk) {
        let quotes = std::mem::take(&mut old.quotes);
        for (symbol, q) in quotes {
            self.quotes.entry(symbol).or_insert(q);
        }
    }

    /// The account's money and positions now, marked to the latest quotes.
    pub fn summary(&self, now: DateTime<Utc>) -> AccountSummary {
        let marks = |s: &str| self.quotes.get(s).cloned();
        let rates = |p: &str| self.rate(p, now);
        self.ledger.summary(&marks, &rates, self.day_start_equity)
    }

    /// An estimate of an order's notional and margin at `price`.
    pub fn estimate(
        &self,
        symbol: &str,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        now: DateTime<Utc>,
    ) -> Result<paper::OrderEstimate, DeskError> {
        let spec = spec_for(&self.market, symbol);
        let rates = |p: &str| self.rate(p, now);
        Ok(self
            .ledger
            .estimate(&spec, to_paper_side(side), quantity, price, &rates)?)
    }

    /// Hands a stored `pending` paper order to the engine; returns the orders that changed
    /// (a bracket's children included). The caller then feeds quotes.
    pub async fn place(&mut self, store: &Store, order: &Order) -> Result<Vec<Order>, DeskError> {
        let events = self
            .engine
            .submit(new_order(order, end_of_day(order.created_at)));
        self.persist(store, events, Utc::now()).await
    }

    /// Works the open orders against a quote; returns the orders that changed.
    pub async fn on_quote(
        &mut self,
        store: &Store,
        quote: Quote,
        now: DateTime<Utc>,
        feed: FeedStatus,
    ) -> Result<Vec<Order>, DeskError> {
        if !quote.is_sane() {
            return Ok(Vec::new());
        }
        self.quotes.insert(quote.instrument.clone(), quote.clone());
        self.roll_day(store, now).await?;
        let mut events = self.engine.expire(now);
        events.extend(self.engine.on_quote(&quote, now, feed));
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let changed = self.persist(store, events, now).await?;
        self.engine.drop_settled();
        Ok(changed)
    }

    /// Cancels an open order (and its bracket); returns the orders that changed.
    pub async fn cancel(&mut self, store: &Store, order_id: &str) -> Result<Vec<Order>, DeskError> {
        let now = Utc::now();
        let events = self.engine.cancel(order_id, now)?;
        let changed = self.persist(store, events, now).await?;
        self.engine.drop_settled();
        Ok(changed)
    }

    /// Changes an open order's quantity or price (see [`super::modify`]); returns the orders
    /// that changed. The order then fills only on quotes that arrive after the change.
    pub async fn modify(
        &mut self,
        store: &Store,
        order_id: &str,
        changes: paper::OrderChanges,
    ) -> Result<Vec<Order>, DeskError> {
        let now = Utc::now();
        let events = self.engine.modify(order_id, changes, now)?;
        self.persist(store, events, now).await
    }

    /// Starts a new day's P&L at the first quote of a new UTC day.
    async fn roll_day(&mut self, store: &Store, now: DateTime<Utc>) -> Result<(), DeskError> {
        let today = now.date_naive().to_string();
        if self.day.as_deref() == Some(today.as_str()) {
            return Ok(());
        }
        let equity = self.summary(now).equity;
        self.day = Some(today.clone());
        self.day_start_equity = Some(equity);
        sqlx::query("UPDATE paper_accounts SET day_start_equity = ?, day = ? WHERE account_id = ?")
            .bind(equity.normalize().to_string())
            .bind(&today)
            .bind(&self.account_id)
            .execute(store.pool())
            .await?;
        Ok(())
    }

    /// Writes what the engine did. Each event is its own transaction (a fill with its
    /// position and cash); an order another process moved first is skipped and the desk
    /// reloaded from the store afterwards.
    async fn persist(
        &mut self,
        store: &Store,
        events: Vec<EngineEvent>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Order>, DeskError> {
        let mut changed: Vec<Order> = Vec::new();
        let mut conflict = false;
        for event in events {
            let mut tx = store.begin_write().await?;
            let outcome = self.apply(&mut tx, event, now).await?;
            match outcome {
                Applied::Changed(o) => {
                    tx.commit().await.map_err(StoreError::from)?;
                    changed.retain(|c| c.id != o.id);
                    changed.push(*o);
                }
                Applied::Nothing => {
                    tx.commit().await.map_err(StoreError::from)?;
                }
                Applied::Conflict => conflict = true,
            }
        }
        if conflict {
            tracing::info!(account = %self.account_id, "a paper order changed elsewhere; reloading");
            let fresh = Self::load(store, &self.account_id).await?;
            self.engine = fresh.engine;
            self.ledger = fresh.ledger;
        }
        Ok(changed)
    }

    async fn apply(
        &mut self,
        tx: &mut SqliteConnection,
        event: EngineEvent,
        now: DateTime<Utc>,
    ) -> Result<Applied, DeskError> {
        match event {
            EngineEvent::Accepted { order } => {
                let Some(mut stored) = store::get(tx, &order.id).await? else {
                    // A bracket child: a row of its own, linked to its parent.
                    let Some(parent) = order.parent_id.as_deref().map(|p| store::get(tx, p)) else {
                        return Ok(Applied::Nothing);
                    };
                    let Some(parent) = parent.await? else {
                        return Ok(Applied::Nothing);
                    };
                    let child = child_row(&parent, &order, now);
                    store::insert(tx, &child, "bracket order, waiting for its parent to fill")
                        .await?;
                    self.save_working(tx, &order).await?;
                    return Ok(Applied::Changed(Box::new(child)));
                };
                stored.status = OrderStatus::Open;
                stored.updated_at = now;
                self.save_working(tx, &order).await?;
                self.write(tx, stored, "accepted by the paper engine").await
            }
            EngineEvent::Rejected {
                order_id, message, ..
            } => {
                let Some(mut stored) = store::get(tx, &order_id).await? else {
                    return Ok(Applied::Nothing);
                };
                stored.status = OrderStatus::Rejected;
                stored.reason = Some(message.clone());
                stored.updated_at = now;
                self.write(tx, stored, &message).await
            }
            EngineEvent::Triggered { order_id, .. } => {
                if let Some(o) = self.engine.order(&order_id).cloned() {
                    self.save_working(tx, &o).await?;
                }
                Ok(Applied::Nothing)
            }
            EngineEvent::Activated {
                order_id, quantity, ..
            } => {
                let Some(mut stored) = store::get(tx, &order_id).await? else {
                    return Ok(Applied::Nothing);
                };
                if let Some(o) = self.engine.order(&order_id).cloned() {
                    self.save_working(tx, &o).await?;
                }
                stored.quantity = quantity;
                stored.status = OrderStatus::Open;
                stored.updated_at = now;
                self.write(tx, stored, "bracket order live").await
            }
            EngineEvent::Filled { fill } => self.fill(tx, fill, now).await,
            EngineEvent::Cancelled {
                order_id, reason, ..
            } => {
                let Some(mut stored) = store::get(tx, &order_id).await? else {
                    return Ok(Applied::Nothing);
                };
                self.forget_working(tx, &order_id).await?;
                if stored.status.is_final() {
                    return Ok(Applied::Nothing);
                }
                let why = cancel_reason(reason);
                stored.status = OrderStatus::Cancelled;
                stored.reason = Some(why.to_string());
                stored.updated_at = now;
                self.write(tx, stored, why).await
            }
            EngineEvent::Modified { order } => {
                let Some(mut stored) = store::get(tx, &order.id).await? else {
                    return Ok(Applied::Nothing);
                };
                stored.quantity = order.quantity;
                stored.limit_price = order.limit_price;
                stored.stop_price = order.stop_price;
                stored.updated_at = now;
                self.save_working(tx, &order).await?;
                self.write(tx, stored, "modified").await
            }
        }
    }

    async fn write(
        &self,
        tx: &mut SqliteConnection,
        next: Order,
        detail: &str,
    ) -> Result<Applied, DeskError> {
        if store::update(tx, &next, detail).await? {
            Ok(Applied::Changed(Box::new(Order {
                version: next.version + 1,
                ..next
            })))
        } else {
            Ok(Applied::Conflict)
        }
    }

    async fn fill(
        &mut self,
        tx: &mut SqliteConnection,
        fill: paper::Fill,
        now: DateTime<Utc>,
    ) -> Result<Applied, DeskError> {
        let Some(mut stored) = store::get(tx, &fill.order_id).await? else {
            return Ok(Applied::Nothing);
        };
        let record = Fill {
            fill_id: fill.id.clone(),
            quantity: fill.quantity,
            price: fill.price,
            fee: Decimal::ZERO,
            at: fill.time,
        };
        if !store::insert_fill(tx, &stored.id, &self.account_id, &record).await? {
            return Ok(Applied::Nothing);
        }
        let spec = spec_for(&self.market, &fill.symbol);
        let at = fill.time;
        let quotes = self.quotes.clone();
        let market = &self.market;
        let rates = |p: &str| {
            quotes
                .get(p)
                .map(Quote::mid)
                .or_else(|| market.quote(p, at).map(|q| q.mid()))
        };
        self.ledger
            .apply_fill(&fill, &spec, Decimal::ZERO, &rates)?;
        let filled = stored.filled_qty + fill.quantity;
        let avg = match stored.avg_fill_price {
            Some(a) if !stored.filled_qty.is_zero() => {
                (a * stored.filled_qty + fill.price * fill.quantity) / filled
            }
            _ => fill.price,
        };
        stored.filled_qty = filled;
        stored.avg_fill_price = Some(avg.round_dp(10).normalize());
        stored.status = if fill.remaining.is_zero() {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        stored.updated_at = now;
        if fill.remaining.is_zero() {
            self.forget_working(tx, &stored.id).await?;
        } else if let Some(o) = self.engine.order(&stored.id).cloned() {
            self.save_working(tx, &o).await?;
        }
        self.save_money(tx, &fill.symbol, now).await?;
        let detail = format!("filled {} at {}", fill.quantity, fill.price);
        let out = self.write(tx, stored, &detail).await?;
        Ok(out)
    }

    async fn save_working(
        &self,
        tx: &mut SqliteConnection,
        o: &paper::Order,
    ) -> Result<(), DeskError> {
        let state = serde_json::to_string(o)
            .map_err(|e| DeskError::Damaged(self.account_id.clone(), e.to_string()))?;
        sqlx::query(
            "INSERT INTO paper_working (order_id, account_id, state) VALUES (?, ?, ?) \
             ON CONFLICT (order_id) DO UPDATE SET state = excluded.state",
        )
        .bind(&o.id)
        .bind(&self.account_id)
        .bind(state)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    async fn forget_working(
        &self,
        tx: &mut SqliteConnection,
        order_id: &str,
    ) -> Result<(), DeskError> {
        sqlx::query("DELETE FROM paper_working WHERE order_id = ?")
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    async fn save_money(
        &self,
        tx: &mut SqliteConnection,
        symbol: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DeskError> {
        sqlx::query(
            "UPDATE paper_accounts SET balance = ?, realized_pl = ?, fees = ?, updated_at = ? \
             WHERE account_id = ?",
        )
        .bind(self.ledger.balance().normalize().to_string())
        .bind(self.ledger.realized_pnl().normalize().to_string())
        .bind(self.ledger.fees().normalize().to_string())
        .bind(fmt_time(now))
        .bind(&self.account_id)
        .execute(&mut *tx)
        .await?;
        for (ccy, amount) in self.ledger.unconverted() {
            sqlx::query(
                "INSERT INTO paper_unconverted (account_id, currency, amount) VALUES (?, ?, ?) \
                 ON CONFLICT (account_id, currency) DO UPDATE SET amount = excluded.amount",
            )
            .bind(&self.account_id)
            .bind(ccy)
            .bind(amount.normalize().to_string())
            .execute(&mut *tx)
            .await?;
        }
        if let Some(p) = self.ledger.positions().find(|p| p.symbol == symbol) {
            sqlx::query(
                "INSERT INTO paper_positions (account_id, symbol, kind, base_currency, quote_currency, \
                 contract_size, quantity, avg_price, realized_pl, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (account_id, symbol) DO UPDATE SET quantity = excluded.quantity, \
                 avg_price = excluded.avg_price, realized_pl = excluded.realized_pl, updated_at = excluded.updated_at",
            )
            .bind(&self.account_id)
            .bind(&p.symbol)
            .bind(match p.kind {
                InstrumentKind::Fx => "fx",
                InstrumentKind::Stock => "stock",
            })
            .bind(&p.base_currency)
            .bind(&p.quote_currency)
            .bind(p.contract_size.normalize().to_string())
            .bind(p.quantity.normalize().to_string())
            .bind(p.average_price.normalize().to_string())
            .bind(p.realized_pnl.normalize().to_string())
            .bind(fmt_time(p.updated_at))
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }

    /// Starts the account over: every open paper order cancelled, positions and realised
    /// P&L gone, the cash back to `balance` (the account's starting balance when `None`).
    pub async fn reset(
        store: &Store,
        account_id: &str,
        balance: Option<Decimal>,
    ) -> Result<(), DeskError> {
        let mut desk = Self::load(store, account_id).await?;
        desk.ledger.reset(balance)?;
        let now = Utc::now();
        let mut tx = store.begin_write().await?;
        let open = store::list(&mut tx, account_id, true, 100_000).await?;
        for mut o in open
            .into_iter()
            .filter(|o| o.mode == crate::accounts::model::TradingMode::Paper)
        {
            o.status = OrderStatus::Cancelled;
            o.reason = Some("the paper account was reset".into());
            o.updated_at = now;
            store::update(&mut tx, &o, "paper account reset").await?;
        }
        for table in ["paper_working", "paper_positions", "paper_unconverted"] {
            let sql = match table {
                "paper_working" => "DELETE FROM paper_working WHERE account_id = ?",
                "paper_positions" => "DELETE FROM paper_positions WHERE account_id = ?",
                _ => "DELETE FROM paper_unconverted WHERE account_id = ?",
            };
            sqlx::query(sql).bind(account_id).execute(&mut *tx).await?;
        }
        let cfg = desk.ledger.config().clone();
        sqlx::query(
            "UPDATE paper_accounts SET starting_balance = ?, balance = ?, realized_pl = '0', fees = '0', \
             day_start_equity = NULL, day = NULL, reset_at = ?, updated_at = ? WHERE account_id = ?",
        )
        .bind(cfg.starting_balance.normalize().to_string())
        .bind(desk.ledger.balance().normalize().to_string())
        .bind(fmt_time(now))
        .bind(fmt_time(now))
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}

enum Applied {
    Changed(Box<Order>),
    Nothing,
    Conflict,
}

fn cancel_reason(r: paper::CancelReason) -> &'static str {
    match r {
        paper::CancelReason::Requested => "cancelled",
        paper::CancelReason::Expired => "expired at the end of the day",
        paper::CancelReason::OcoSibling => "its bracket sibling filled",
        paper::CancelReason::ParentCancelled => "its parent order ended before filling",
        paper::CancelReason::BracketExit => "a bracket exit closed the position",
    }
}

/// The stored row of a bracket child the engine created.
fn child_row(parent: &Order, o: &paper::Order, now: DateTime<Utc>) -> Order {
    let suffix = match o.role {
        paper::OrderRole::StopLoss => "sl",
        paper::OrderRole::TakeProfit => "tp",
        paper::OrderRole::Entry => "x",
    };
    Order {
        id: o.id.clone(),
        account_id: parent.account_id.clone(),
        client_order_id: format!("{}-{suffix}", parent.client_order_id),
        broker_order_id: None,
        mode: parent.mode,
        origin: parent.origin,
        symbol: o.symbol.clone(),
        side: match o.side {
            paper::Side::Buy => Side::Buy,
            paper::Side::Sell => Side::Sell,
        },
        order_type: match o.order_type {
            paper::OrderType::Market => OrderKind::Market,
            paper::OrderType::Limit => OrderKind::Limit,
            paper::OrderType::Stop => OrderKind::Stop,
        },
        quantity: o.quantity,
        limit_price: o.limit_price,
        stop_price: o.stop_price,
        time_in_force: TimeInForce::Gtc,
        stop_loss: None,
        take_profit: None,
        parent_id: Some(parent.id.clone()),
        replaces: None,
        status: OrderStatus::Pending,
        filled_qty: Decimal::ZERO,
        avg_fill_price: None,
        reason: None,
        broker_status: None,
        sent_at: None,
        created_at: now,
        updated_at: now,
        version: 0,
    }
}

async fn insert_account(
    tx: &mut SqliteConnection,
    account_id: &str,
    cfg: &LedgerConfig,
    balance: Decimal,
) -> Result<(), DeskError> {
    let now = fmt_time(Utc::now());
    sqlx::query(
        "INSERT OR IGNORE INTO paper_accounts (account_id, currency, starting_balance, fx_leverage, \
         stock_leverage, balance, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(account_id)
    .bind(&cfg.currency)
    .bind(cfg.starting_balance.normalize().to_string())
    .bind(cfg.fx_leverage.normalize().to_string())
    .bind(cfg.stock_leverage.normalize().to_string())
    .bind(balance.normalize().to_string())
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn load_positions(
    conn: &mut SqliteConnection,
    account_id: &str,
) -> Result<Vec<paper::Position>, DeskError> {
    let rows = sqlx::query("SELECT * FROM paper_positions WHERE account_id = ?")
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let s = |c: &str| -> Result<String, DeskError> { Ok(r.try_get::<String, _>(c)?) };
            let updated: String = s("updated_at")?;
            Ok(paper::Position {
                symbol: s("symbol")?,
                kind: if s("kind")? == "fx" {
                    InstrumentKind::Fx
                } else {
                    InstrumentKind::Stock
                },
                base_currency: r.try_get("base_currency")?,
                quote_currency: s("quote_currency")?,
                contract_size: dec(account_id, "contract size", &s("contract_size")?)?,
                quantity: dec(account_id, "position", &s("quantity")?)?,
                average_price: dec(account_id, "average price", &s("avg_price")?)?,
                realized_pnl: dec(account_id, "realised P&L", &s("realized_pl")?)?,
                updated_at: DateTime::parse_from_rfc3339(&updated)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        DeskError::Damaged(account_id.to_string(), "position time".into())
                    })?,
            })
        })
        .collect()
}
