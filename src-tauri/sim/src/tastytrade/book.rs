//! The customer's accounts, their orders and positions, and the quotes orders fill at.
//!
//! Model: money is cash; equity buying power is cash less what open buying orders reserve
//! and twice the short market value (no leverage), which keeps the preflight checks simple
//! and exact. Market orders fill at once at the quote (buys at the ask, sells at the bid); a
//! limit order fills at once when marketable, else rests as `Live` until cancelled. Openings
//! need buying power (`margin_check_failed`), closings need the position
//! (`closing_quantity_exceeds_position`, a code the simulator chose: the real one is
//! UNCONFIRMED). Cancels take effect at once (no `Cancel Requested` step).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use tokio::sync::broadcast;

use super::events::{self, OrderEvent};
use super::orders::{NewOrder, Order};
use super::wire::{cents, dec, ApiError};

/// Half the spread around a symbol's price.
const HALF_SPREAD: f64 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Holding {
    /// Signed: negative when short.
    qty: f64,
    avg: f64,
}

#[derive(Debug)]
pub(crate) struct Account {
    pub number: String,
    pub cash: f64,
    opened_at: DateTime<Utc>,
    pub orders: Vec<Order>,
    positions: BTreeMap<String, Holding>,
}

#[derive(Debug)]
pub(crate) struct Book {
    pub accounts: BTreeMap<String, Account>,
    prices: HashMap<String, f64>,
    next_id: u64,
    /// Every order change, for the account streamer ([`super::events`]).
    pub events: broadcast::Sender<OrderEvent>,
}

impl Book {
    pub(crate) fn new(accounts: &[&str], cash: f64) -> Self {
        let now = Utc::now();
        let accounts = accounts
            .iter()
            .map(|n| {
                let a = Account {
                    number: n.to_string(),
                    cash,
                    opened_at: now,
                    orders: Vec::new(),
                    positions: BTreeMap::new(),
                };
                (n.to_string(), a)
            })
            .collect();
        let prices = [("AAPL", 190.0), ("SPY", 450.0), ("MSFT", 410.0)]
            .into_iter()
            .map(|(s, p)| (s.to_string(), p))
            .collect();
        Self {
            accounts,
            prices,
            next_id: 301_000_001,
            events: events::channel(),
        }
    }

    /// A symbol's price: the one set, else a stable made-up one (every symbol trades).
    pub(crate) fn price(&self, symbol: &str) -> f64 {
        price_of(&self.prices, symbol)
    }

    pub(crate) fn prices(&self) -> &HashMap<String, f64> {
        &self.prices
    }

    pub(crate) fn set_price(&mut self, symbol: &str, price: f64) {
        self.prices.insert(symbol.to_string(), price);
    }

    /// (bid, ask).
    pub(crate) fn quote(&self, symbol: &str) -> (f64, f64) {
        let p = self.price(symbol);
        (cents(p - HALF_SPREAD), cents(p + HALF_SPREAD))
    }

    /// Places (or, with `dry_run`, only checks) an order; returns the order as sent back.
    pub(crate) fn place(
        &mut self,
        account: &str,
        new: NewOrder,
        dry_run: bool,
    ) -> Result<(Order, f64), ApiError> {
        let (bid, ask) = self.quote(&new.symbol);
        let id = if dry_run { None } else { Some(self.next_id) };
        let acct = self
            .accounts
            .get_mut(account)
            .ok_or_else(|| ApiError::not_found("Account"))?;
        let bp = acct.buying_power(&self.prices);
        let buy = new.action.is_buy();
        let quote_px = if buy { ask } else { bid };
        let mut errors = Vec::new();
        if new.action.is_opening() {
            let px = new
                .price
                .map_or(quote_px, |p| if buy { p.max(ask) } else { p });
            let cost = new.quantity * px;
            if cost > bp + 1e-9 {
                let msg = format!("Insufficient buying power: needs {cost:.2}, has {bp:.2}");
                errors.push(("margin_check_failed", msg));
            }
        } else {
            let held = acct.positions.get(&new.symbol).map_or(0.0, |h| h.qty);
            let pending: f64 = acct
                .orders
                .iter()
                .filter(|o| o.is_working() && o.symbol == new.symbol && o.action == new.action)
                .map(|o| o.quantity)
                .sum();
            let closable = if buy { -held } else { held }.max(0.0) - pending;
            if new.quantity > closable + 1e-9 {
                let msg = format!(
                    "Closing quantity {} exceeds the position ({})",
                    new.quantity,
                    closable.max(0.0)
                );
                errors.push(("closing_quantity_exceeds_position", msg));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::preflight(errors));
        }
        let mut order = Order::new(id, account, new);
        let marketable = match order.price {
            None => true,
            Some(p) if buy => p >= ask,
            Some(p) => p <= bid,
        };
        if dry_run {
            return Ok((order, bp));
        }
        self.next_id += 1;
        if marketable {
            order.status = "Routed";
            events::publish(&self.events, account, &order);
            order.fill(quote_px);
            acct.apply_fill(&order.symbol, buy, order.quantity, quote_px);
        } else {
            order.status = "Live";
        }
        events::publish(&self.events, account, &order);
        acct.orders.push(order.clone());
        Ok((order, bp))
    }

    /// Replaces a working order (`PUT …/orders/{id}`): the old one is cancelled and `new`
    /// placed in its stead with a new id, checked and filled like any new order (against a
    /// buying power that no longer holds the old one). The replacement must trade the same
    /// symbol the same way; a refused replacement leaves the old order working.
    pub(crate) fn replace(
        &mut self,
        account: &str,
        id: u64,
        new: NewOrder,
    ) -> Result<Order, ApiError> {
        let acct = self
            .accounts
            .get_mut(account)
            .ok_or_else(|| ApiError::not_found("Account"))?;
        let i = acct
            .orders
            .iter()
            .position(|o| o.id == Some(id))
            .ok_or_else(|| ApiError::not_found("Order"))?;
        let old = &acct.orders[i];
        if !old.is_working() {
            return Err(ApiError::invalid(
                "order_not_editable",
                format!("Order is {} and cannot be edited", old.status),
            ));
        }
        if old.symbol != new.symbol || old.action != new.action {
            return Err(ApiError::invalid(
                "invalid_replacement",
                "A replacement must trade the same symbol with the same action",
            ));
        }
        let status = old.status;
        acct.orders[i].status = "Cancelled";
        match self.place(account, new, false) {
            Ok((mut order, _)) => {
                order.replaces = Some(id);
                let acct = self
                    .accounts
                    .get_mut(account)
                    .ok_or_else(|| ApiError::not_found("Account"))?;
                if let Some(placed) = acct.orders.iter_mut().find(|o| o.id == order.id) {
                    placed.replaces = Some(id);
                }
                let old = &mut acct.orders[i];
                old.replaced_by = order.id;
                old.touch();
                let old = old.clone();
                events::publish(&self.events, account, &old);
                Ok(order)
            }
            Err(e) => {
                if let Some(acct) = self.accounts.get_mut(account) {
                    acct.orders[i].status = status;
                }
                Err(e)
            }
        }
    }

    /// Cancels a working order.
    pub(crate) fn cancel(&mut self, account: &str, id: u64) -> Result<Order, ApiError> {
        let acct = self
            .accounts
            .get_mut(account)
            .ok_or_else(|| ApiError::not_found("Account"))?;
        let order = acct
            .orders
            .iter_mut()
            .find(|o| o.id == Some(id))
            .ok_or_else(|| ApiError::not_found("Order"))?;
        if !order.is_working() {
            return Err(ApiError::invalid(
                "order_not_cancellable",
                format!("Order is {} and cannot be cancelled", order.status),
            ));
        }
        order.status = "Cancelled";
        order.touch();
        events::publish(&self.events, account, order);
        Ok(order.clone())
    }
}

impl Account {
    fn market_values(&self, prices: &HashMap<String, f64>) -> (f64, f64) {
        let mut long = 0.0;
        let mut short = 0.0;
        for (sym, h) in &self.positions {
            let px = price_of(prices, sym);
            if h.qty > 0.0 {
                long += h.qty * px;
            } else {
                short += -h.qty * px;
            }
        }
        (long, short)
    }

    fn buying_power(&self, prices: &HashMap<String, f64>) -> f64 {
        let reserved: f64 = self
            .orders
            .iter()
            .filter(|o| o.is_working() && o.action.is_opening())
            .map(|o| o.quantity * o.price.unwrap_or(0.0))
            .sum();
        let (_, short) = self.market_values(prices);
        (self.cash - reserved - 2.0 * short).max(0.0)
    }

    fn apply_fill(&mut self, symbol: &str, buy: bool, qty: f64, px: f64) {
        let signed = if buy { qty } else { -qty };
        self.cash -= signed * px;
        let h = self
            .positions
            .entry(symbol.to_string())
            .or_insert(Holding { qty: 0.0, avg: px });
        let next = h.qty + signed;
        if h.qty == 0.0 || h.qty.signum() == signed.signum() {
            h.avg = (h.avg * h.qty.abs() + px * qty) / next.abs();
        }
        h.qty = next;
        if h.qty.abs() < 1e-9 {
            self.positions.remove(symbol);
        }
    }

    /// `GET /customers/me/accounts` item.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "account": {
                "account-number": self.number,
                "nickname": "Individual",
                "account-type-name": "Individual",
                "margin-or-cash": "Margin",
                "is-closed": false,
                "is-firm-error": false,
                "is-firm-proprietary": false,
                "is-futures-approved": false,
                "is-test-drive": false,
                "day-trader-status": false,
                "investment-objective": "SPECULATION",
                "suitable-options-level": "No Restrictions",
                "opened-at": self.opened_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            },
            "authority-level": "owner",
        })
    }

    /// `GET /accounts/{acct}/balances/USD`.
    pub(crate) fn balances_json(&self, prices: &HashMap<String, f64>) -> Value {
        let (long, short) = self.market_values(prices);
        let bp = dec(cents(self.buying_power(prices)));
        let nlv = dec(cents(self.cash + long - short));
        json!({
            "account-number": self.number,
            "currency": "USD",
            "cash-balance": dec(cents(self.cash)),
            "long-equity-value": dec(cents(long)),
            "short-equity-value": dec(cents(short)),
            "net-liquidating-value": nlv,
            "equity-buying-power": bp,
            "derivative-buying-power": bp,
            "day-trading-buying-power": "0.0",
            "available-trading-funds": bp,
            "maintenance-requirement": dec(cents(short)),
            "pending-cash": "0.0",
            "snapshot-date": Utc::now().format("%Y-%m-%d").to_string(),
        })
    }

    /// `GET /accounts/{acct}/positions` items.
    pub(crate) fn positions_json(&self, prices: &HashMap<String, f64>) -> Vec<Value> {
        self.positions
            .iter()
            .map(|(sym, h)| {
                let mark = price_of(prices, sym);
                json!({
                    "account-number": self.number,
                    "symbol": sym,
                    "instrument-type": "Equity",
                    "underlying-symbol": sym,
                    "quantity": dec(h.qty.abs()),
                    "quantity-direction": if h.qty > 0.0 { "Long" } else { "Short" },
                    "close-price": dec(mark),
                    "average-open-price": dec(cents(h.avg)),
                    "mark": dec(mark),
                    "mark-price": dec(mark),
                    "multiplier": 1,
                    "cost-effect": if h.qty > 0.0 { "Credit" } else { "Debit" },
                    "is-suppressed": false,
                    "is-frozen": false,
                })
            })
            .collect()
    }
}

/// A symbol's price: the one set, else a stable made-up one (every symbol trades).
fn price_of(prices: &HashMap<String, f64>, symbol: &str) -> f64 {
    prices.get(symbol).copied().unwrap_or_else(|| {
        let h = symbol
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        20.0 + (h % 400) as f64
    })
}
