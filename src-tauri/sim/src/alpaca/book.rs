//! The trading side's state: one account (one key = one account), its orders and positions,
//! rendered as Alpaca's JSON (money and quantities as strings, RFC 3339 times).
//!
//! Market orders fill at once at the quote (buys at the ask, sells at the bid); a limit order
//! fills at once when marketable, else rests as `new` until cancelled (`ioc`/`fok` ones are
//! cancelled instead). The account is a cash account (multiplier 1) without shorting, so the
//! buying-power and available-quantity checks are simple and exact.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::market::Market;
use super::orders::{time, NewOrder, Order, Reject, Replacement, Side};

#[derive(Debug, Clone)]
struct Holding {
    qty: f64,
    avg_entry: f64,
    asset_id: String,
}

#[derive(Debug)]
pub(crate) struct Book {
    account_id: String,
    pub account_number: String,
    pub cash: f64,
    last_equity: f64,
    pub trading_blocked: bool,
    pub account_blocked: bool,
    created_at: DateTime<Utc>,
    orders: Vec<Order>,
    positions: BTreeMap<String, Holding>,
    /// Every change to an order, for the trade-updates streams (`events`).
    pub(crate) updates: super::events::Updates,
}

impl Book {
    pub(crate) fn new(account_number: &str, cash: f64) -> Self {
        Self {
            account_id: uuid::Uuid::new_v4().to_string(),
            account_number: account_number.to_string(),
            cash,
            last_equity: cash,
            trading_blocked: false,
            account_blocked: false,
            created_at: Utc::now(),
            orders: Vec::new(),
            positions: BTreeMap::new(),
            updates: super::events::Updates::default(),
        }
    }

    /// Cash less what open buy orders reserve.
    fn buying_power(&self) -> f64 {
        let reserved: f64 = self
            .orders
            .iter()
            .filter(|o| o.is_open() && o.side == Side::Buy)
            .map(|o| o.remaining() * o.limit_price.unwrap_or(0.0))
            .sum();
        (self.cash - reserved).max(0.0)
    }

    fn long_value(&self, market: &Market) -> f64 {
        self.positions
            .iter()
            .map(|(s, h)| h.qty * price_of(market, s).unwrap_or(h.avg_entry))
            .sum()
    }

    pub(crate) fn account_json(&self, market: &Market) -> Value {
        let long = self.long_value(market);
        let equity = self.cash + long;
        let bp = num(self.buying_power());
        json!({
            "id": self.account_id,
            "account_number": self.account_number,
            "status": "ACTIVE",
            "crypto_status": "ACTIVE",
            "currency": "USD",
            "buying_power": bp,
            "regt_buying_power": bp,
            "daytrading_buying_power": "0",
            "effective_buying_power": bp,
            "non_marginable_buying_power": bp,
            "options_buying_power": bp,
            "bod_dtbp": "0",
            "cash": num(self.cash),
            "accrued_fees": "0",
            "portfolio_value": num(equity),
            "pattern_day_trader": false,
            "trading_blocked": self.trading_blocked,
            "transfers_blocked": false,
            "account_blocked": self.account_blocked,
            "created_at": time(Some(self.created_at)),
            "trade_suspended_by_user": false,
            "multiplier": "1",
            "shorting_enabled": false,
            "equity": num(equity),
            "last_equity": num(self.last_equity),
            "long_market_value": num(long),
            "short_market_value": "0",
            "position_market_value": num(long),
            "initial_margin": num(long),
            "maintenance_margin": num(long * 0.3),
            "last_maintenance_margin": "0",
            "sma": "0",
            "daytrade_count": 0,
            "balance_asof": self.created_at.format("%Y-%m-%d").to_string(),
            "options_approved_level": 0,
            "options_trading_level": 0,
        })
    }

    pub(crate) fn find(&self, id: &str) -> Option<&Order> {
        self.orders.iter().find(|o| o.id == id)
    }

    pub(crate) fn find_by_client(&self, client_order_id: &str) -> Option<&Order> {
        self.orders
            .iter()
            .find(|o| o.client_order_id == client_order_id)
    }

    /// Orders by `status` (`open`, `closed`, `all`), newest first unless `ascending`.
    pub(crate) fn list(&self, status: &str, limit: usize, ascending: bool) -> Vec<Value> {
        let keep = |o: &&Order| match status {
            "open" => o.is_open(),
            "closed" => !o.is_open(),
            _ => true,
        };
        let mut found: Vec<&Order> = self.orders.iter().filter(keep).collect();
        if !ascending {
            found.reverse();
        }
        found.into_iter().take(limit).map(Order::to_json).collect()
    }

    pub(crate) fn cancel(&mut self, id: &str) -> Result<(), Reject> {
        let order = self
            .orders
            .iter_mut()
            .find(|o| o.id == id)
            .ok_or_else(Reject::not_found)?;
        if !order.is_open() {
            let msg = format!("order is already in \"{}\" state", order.status);
            return Err(Reject::new(422, 42210000, msg));
        }
        let now = Utc::now();
        order.status = "canceled";
        order.canceled_at = Some(now);
        order.updated_at = now;
        self.updates.publish("canceled", order);
        Ok(())
    }

    /// Validates and places an order; returns it as Alpaca answers it.
    pub(crate) fn place(&mut self, new: NewOrder, market: &Market) -> Result<Value, Reject> {
        if new.client_order_id.chars().count() > 128 {
            return Err(Reject::unprocessable(
                "client_order_id must be no more than 128 characters",
            ));
        }
        let quote = market
            .quote(&new.symbol)
            .ok_or_else(|| Reject::unprocessable(format!("asset \"{}\" not found", new.symbol)))?;
        if self.find_by_client(&new.client_order_id).is_some() {
            return Err(Reject::unprocessable("client_order_id must be unique"));
        }
        if self.trading_blocked || self.account_blocked {
            return Err(Reject::new(
                403,
                40310000,
                "account is not allowed to trade",
            ));
        }
        let touch = match new.side {
            Side::Buy => quote.ask,
            Side::Sell => quote.bid,
        };
        let qty = match (new.qty, new.notional) {
            (Some(q), _) => q,
            (None, Some(n)) => (n / touch * 1e9).floor() / 1e9,
            (None, None) => return Err(Reject::unprocessable("qty or notional is required")),
        };
        let marketable = match (new.limit_price, new.side) {
            (None, _) => true,
            (Some(l), Side::Buy) => l >= quote.ask,
            (Some(l), Side::Sell) => l <= quote.bid,
        };
        match new.side {
            Side::Buy => {
                let cost = qty * new.limit_price.unwrap_or(quote.ask);
                let bp = self.buying_power();
                if cost > bp + 1e-9 {
                    return Err(Reject::insufficient_buying_power(bp, cost));
                }
            }
            Side::Sell => self.check_available(&new.symbol, qty)?,
        }
        let now = Utc::now();
        let mut order = Order {
            id: uuid::Uuid::new_v4().to_string(),
            client_order_id: new.client_order_id,
            asset_id: market.asset_id(&new.symbol).unwrap_or_default(),
            symbol: new.symbol,
            qty,
            side: new.side,
            kind: new.kind,
            tif: new.tif,
            limit_price: new.limit_price,
            extended_hours: new.extended_hours,
            status: "new",
            filled_qty: 0.0,
            filled_avg_price: None,
            created_at: now,
            updated_at: now,
            filled_at: None,
            canceled_at: None,
            replaces: None,
            replaced: None,
        };
        self.updates.publish("new", &order);
        if marketable {
            self.fill(&mut order, touch, now);
        } else if matches!(order.tif.as_str(), "ioc" | "fok") {
            order.status = "canceled";
            order.canceled_at = Some(now);
            self.updates.publish("canceled", &order);
        }
        let json = order.to_json();
        self.orders.push(order);
        Ok(json)
    }

    /// Replaces an open order (`PATCH /v2/orders/{id}`): a new order with the changed terms
    /// and a new id (`replaces` = the old one), which fills at once when marketable like any
    /// new order; the old one becomes `replaced`. Returns the new order as Alpaca answers it.
    pub(crate) fn replace(
        &mut self,
        id: &str,
        change: Replacement,
        market: &Market,
    ) -> Result<Value, Reject> {
        let i = self
            .orders
            .iter()
            .position(|o| o.id == id)
            .ok_or_else(Reject::not_found)?;
        let old = self.orders[i].clone();
        if !old.is_open() {
            let msg = format!("order is not replaceable in \"{}\" state", old.status);
            return Err(Reject::new(422, 42210000, msg));
        }
        if change.stop_price.is_some() && old.kind != "stop" && old.kind != "stop_limit" {
            return Err(Reject::unprocessable(
                "stop_price is only applicable to stop orders",
            ));
        }
        if change.limit_price.is_some() && old.limit_price.is_none() {
            return Err(Reject::unprocessable(
                "limit_price is only applicable to limit orders",
            ));
        }
        let client_order_id = change
            .client_order_id
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if client_order_id.chars().count() > 128 {
            return Err(Reject::unprocessable(
                "client_order_id must be no more than 128 characters",
            ));
        }
        if self.find_by_client(&client_order_id).is_some() {
            return Err(Reject::unprocessable("client_order_id must be unique"));
        }
        let quote = market
            .quote(&old.symbol)
            .ok_or_else(|| Reject::unprocessable(format!("asset \"{}\" not found", old.symbol)))?;
        let qty = change.qty.unwrap_or(old.remaining());
        let limit_price = change.limit_price.or(old.limit_price);
        let touch = match old.side {
            Side::Buy => quote.ask,
            Side::Sell => quote.bid,
        };
        // The old order's reservation is released by the replacement.
        let released = old.remaining() * old.limit_price.unwrap_or(0.0);
        match old.side {
            Side::Buy => {
                let cost = qty * limit_price.unwrap_or(quote.ask);
                let bp = self.buying_power() + released;
                if cost > bp + 1e-9 {
                    return Err(Reject::insufficient_buying_power(bp, cost));
                }
            }
            Side::Sell => {
                let existing = self.positions.get(&old.symbol).map_or(0.0, |h| h.qty);
                let held: f64 = self
                    .orders
                    .iter()
                    .filter(|o| o.is_open() && o.side == Side::Sell && o.symbol == old.symbol)
                    .map(Order::remaining)
                    .sum();
                if qty > existing - held + old.remaining() + 1e-9 {
                    return Err(Reject::new(
                        403,
                        40310000,
                        "insufficient qty available for order",
                    ));
                }
            }
        }
        let now = Utc::now();
        let mut order = Order {
            id: uuid::Uuid::new_v4().to_string(),
            client_order_id,
            qty,
            tif: change.tif.unwrap_or_else(|| old.tif.clone()),
            limit_price,
            status: "new",
            filled_qty: 0.0,
            filled_avg_price: None,
            created_at: now,
            updated_at: now,
            filled_at: None,
            canceled_at: None,
            replaces: Some(old.id.clone()),
            replaced: None,
            ..old
        };
        {
            let old = &mut self.orders[i];
            old.status = "replaced";
            old.replaced = Some((order.id.clone(), now));
            old.updated_at = now;
        }
        self.updates.publish("replaced", &self.orders[i]);
        self.updates.publish("new", &order);
        let marketable = match (order.limit_price, order.side) {
            (None, _) => true,
            (Some(l), Side::Buy) => l >= quote.ask,
            (Some(l), Side::Sell) => l <= quote.bid,
        };
        if marketable {
            self.fill(&mut order, touch, now);
        }
        let json = order.to_json();
        self.orders.push(order);
        Ok(json)
    }

    fn check_available(&self, symbol: &str, qty: f64) -> Result<(), Reject> {
        let existing = self.positions.get(symbol).map_or(0.0, |h| h.qty);
        let held: f64 = self
            .orders
            .iter()
            .filter(|o| o.is_open() && o.side == Side::Sell && o.symbol == symbol)
            .map(Order::remaining)
            .sum();
        let available = (existing - held).max(0.0);
        if qty <= available + 1e-9 {
            return Ok(());
        }
        Err(Reject {
            status: 403,
            body: json!({
                "available": num(available),
                "code": 40310000,
                "existing_qty": num(existing),
                "held_for_orders": num(held),
                "message": format!(
                    "insufficient qty available for order (requested: {}, available: {})",
                    num(qty),
                    num(available)
                ),
                "symbol": symbol,
            }),
        })
    }

    /// Fills an open order whole at its limit price (the market reached it), as the broker
    /// would an instant before a cancel arrives; false when no open order has `client_id`.
    pub(crate) fn fill_open(&mut self, client_id: &str) -> bool {
        let Some(i) = self
            .orders
            .iter()
            .position(|o| o.client_order_id == client_id && o.is_open())
        else {
            return false;
        };
        let mut order = self.orders.remove(i);
        let price = order.limit_price.unwrap_or(0.0);
        self.fill(&mut order, price, Utc::now());
        self.orders.insert(i, order);
        true
    }

    fn fill(&mut self, order: &mut Order, price: f64, now: DateTime<Utc>) {
        let qty = order.qty;
        order.status = "filled";
        order.filled_qty = qty;
        order.filled_avg_price = Some(price);
        order.filled_at = Some(now);
        order.updated_at = now;
        self.updates.publish("fill", order);
        match order.side {
            Side::Buy => {
                self.cash -= qty * price;
                let h = self
                    .positions
                    .entry(order.symbol.clone())
                    .or_insert_with(|| Holding {
                        qty: 0.0,
                        avg_entry: price,
                        asset_id: order.asset_id.clone(),
                    });
                h.avg_entry = (h.qty * h.avg_entry + qty * price) / (h.qty + qty);
                h.qty += qty;
            }
            Side::Sell => {
                self.cash += qty * price;
                if let Some(h) = self.positions.get_mut(&order.symbol) {
                    h.qty -= qty;
                    if h.qty.abs() < 1e-9 {
                        self.positions.remove(&order.symbol);
                    }
                }
            }
        }
    }

    pub(crate) fn positions_json(&self, market: &Market) -> Vec<Value> {
        self.positions
            .iter()
            .map(|(symbol, h)| {
                let price = price_of(market, symbol).unwrap_or(h.avg_entry);
                let value = h.qty * price;
                let cost = h.qty * h.avg_entry;
                let pl = value - cost;
                let plpc = if cost > 0.0 { pl / cost } else { 0.0 };
                json!({
                    "asset_id": h.asset_id,
                    "symbol": symbol,
                    "exchange": "NASDAQ",
                    "asset_class": "us_equity",
                    "asset_marginable": true,
                    "qty": num(h.qty),
                    "qty_available": num(h.qty),
                    "avg_entry_price": num(h.avg_entry),
                    "side": "long",
                    "market_value": num(value),
                    "cost_basis": num(cost),
                    "unrealized_pl": num(pl),
                    "unrealized_plpc": num(plpc),
                    "unrealized_intraday_pl": num(pl),
                    "unrealized_intraday_plpc": num(plpc),
                    "current_price": num(price),
                    "lastday_price": num(h.avg_entry),
                    "change_today": "0",
                })
            })
            .collect()
    }
}

/// The price positions are valued at: the mid of the quote, in cents.
fn price_of(market: &Market, symbol: &str) -> Option<f64> {
    market
        .quote(symbol)
        .map(|q| super::market::cents((q.bid + q.ask) / 2.0))
}

/// Formats a number the way Alpaca does in its string fields (`"100000"`, `"189.51"`).
pub(crate) fn num(x: f64) -> String {
    let rounded = (x * 1e9).round() / 1e9;
    if rounded == 0.0 {
        "0".to_string()
    } else {
        rounded.to_string()
    }
}
