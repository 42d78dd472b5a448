//! The accounts a token reaches, their orders and positions, rendered as Tradier's JSON.
//!
//! Market orders fill at once at the quote (buys at the ask, sells at the bid); a limit order
//! fills at once when marketable, else rests `open` until cancelled; stop orders rest and
//! never trigger. Positions are signed (`sell_short` makes them negative, `buy_to_cover`
//! closes them); a margin account's stock buying power is twice its cash.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::market::Market;
use super::wire::{one_or_many, time};

/// The kind of a simulated account (`type` in the profile, `account_type` in balances).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountType {
    Margin,
    Cash,
    Pdt,
}

impl AccountType {
    fn as_str(self) -> &'static str {
        match self {
            AccountType::Margin => "margin",
            AccountType::Cash => "cash",
            AccountType::Pdt => "pdt",
        }
    }
}

#[derive(Debug)]
struct Holding {
    id: u64,
    qty: f64,
    cost_basis: f64,
    acquired: DateTime<Utc>,
}

/// An order as the handlers parsed it from the form.
#[derive(Debug)]
pub(crate) struct NewOrder {
    pub symbol: String,
    pub side: String,
    pub qty: f64,
    pub kind: String,
    pub duration: String,
    pub price: Option<f64>,
    pub stop: Option<f64>,
    pub tag: Option<String>,
}

/// The fields of `PUT …/orders/{id}`; the order's own value where absent.
#[derive(Debug, Default)]
pub(crate) struct Modify {
    pub kind: Option<String>,
    pub duration: Option<String>,
    pub price: Option<f64>,
    pub stop: Option<f64>,
}

#[derive(Debug)]
pub(crate) struct Order {
    id: u64,
    new: NewOrder,
    status: &'static str,
    exec_qty: f64,
    avg_fill_price: f64,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
}

impl Order {
    fn is_open(&self) -> bool {
        matches!(self.status, "open" | "partially_filled" | "pending")
    }

    /// The tag (the client order id) the order was placed with.
    pub(crate) fn tag(&self) -> Option<&str> {
        self.new.tag.as_deref()
    }

    fn buys(&self) -> bool {
        matches!(self.new.side.as_str(), "buy" | "buy_to_cover")
    }

    /// The order as `GET …/orders/{id}` shows it; the list omits `tag` unless asked.
    pub(crate) fn to_json(&self, with_tag: bool) -> Value {
        let n = &self.new;
        let mut v = json!({
            "id": self.id, "type": n.kind, "symbol": n.symbol, "side": n.side,
            "quantity": n.qty, "status": self.status, "duration": n.duration,
            "avg_fill_price": self.avg_fill_price, "exec_quantity": self.exec_qty,
            "last_fill_price": self.avg_fill_price, "last_fill_quantity": self.exec_qty,
            "remaining_quantity": if self.is_open() { n.qty - self.exec_qty } else { 0.0 },
            "create_date": time(self.created), "transaction_date": time(self.updated),
            "class": "equity",
        });
        if let Some(p) = n.price {
            v["price"] = json!(p);
        }
        if let Some(s) = n.stop {
            v["stop_price"] = json!(s);
        }
        if let (true, Some(tag)) = (with_tag, &n.tag) {
            v["tag"] = json!(tag);
        }
        v
    }
}

#[derive(Debug)]
pub(crate) struct Account {
    pub number: String,
    kind: AccountType,
    cash: f64,
    created: DateTime<Utc>,
    orders: Vec<Order>,
    positions: BTreeMap<String, Holding>,
    /// Where its order changes go (the book's account-event feed).
    events: super::events::Events,
}

#[derive(Debug)]
pub(crate) struct Book {
    pub accounts: Vec<Account>,
    pub market: Market,
    next_id: u64,
    /// Every order change of every account, for the account-event sockets (`events`).
    pub(crate) events: super::events::Events,
}

impl Book {
    pub(crate) fn new(accounts: &[(&str, AccountType)]) -> Self {
        let events = super::events::Events::default();
        let accounts = accounts
            .iter()
            .map(|(number, kind)| Account {
                number: (*number).to_string(),
                kind: *kind,
                cash: 100_000.0,
                created: Utc::now(),
                orders: Vec::new(),
                positions: BTreeMap::new(),
                events: events.clone(),
            })
            .collect();
        Self {
            accounts,
            market: Market::demo(),
            next_id: 257_459,
            events,
        }
    }

    pub(crate) fn account(&mut self, number: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.number == number)
    }

    pub(crate) fn set_cash(&mut self, number: &str, cash: f64) {
        if let Some(a) = self.account(number) {
            a.cash = cash;
        }
    }

    /// `GET /v1/user/profile`: `account` is an object for one account, an array for several.
    pub(crate) fn profile_json(&self) -> Value {
        let accounts = self
            .accounts
            .iter()
            .map(|a| {
                json!({
                    "account_number": a.number, "classification": "individual",
                    "date_created": time(a.created), "day_trader": a.kind == AccountType::Pdt,
                    "option_level": 2, "status": "active", "type": a.kind.as_str(),
                    "last_update_date": time(a.created),
                })
            })
            .collect();
        json!({"profile": {"account": one_or_many(accounts), "id": "id-sim-trader", "name": "Sim Trader"}})
    }

    /// Places (or with `preview`, only prices) an order; returns Tradier's answer or the
    /// validation messages.
    pub(crate) fn place(
        &mut self,
        number: &str,
        new: NewOrder,
        preview: bool,
    ) -> Result<Value, Vec<String>> {
        let quote = self
            .market
            .quote(&new.symbol)
            .ok_or_else(|| vec![format!("Invalid symbol: {}", new.symbol)])?;
        let id = self.next_id;
        let Some(account) = self.accounts.iter_mut().find(|a| a.number == number) else {
            return Err(vec![format!("Invalid account: {number}")]);
        };
        let buys = matches!(new.side.as_str(), "buy" | "buy_to_cover");
        let touch = if buys { quote.ask } else { quote.bid };
        let fill_price = match (new.kind.as_str(), new.price) {
            ("market", _) => Some(touch),
            ("limit", Some(l)) if (buys && l >= touch) || (!buys && l <= touch) => Some(touch),
            _ => None,
        };
        let cost = new.qty * new.price.unwrap_or(touch);
        account.check(&new, cost)?;
        if preview {
            return Ok(json!({"order": {
                "status": "ok", "commission": 0.0, "cost": cost, "fees": 0.0,
                "symbol": new.symbol, "quantity": new.qty, "side": new.side, "type": new.kind,
                "duration": new.duration, "result": true, "order_cost": cost,
                "margin_change": 0.0, "request_date": time(Utc::now()),
                "extended_hours": false, "class": "equity", "strategy": "equity",
                "day_trades": 0,
            }}));
        }
        self.next_id += 1;
        let now = Utc::now();
        let mut order = Order {
            id,
            new,
            status: "open",
            exec_qty: 0.0,
            avg_fill_price: 0.0,
            created: now,
            updated: now,
        };
        account.events.publish(&account.number, &order);
        if let Some(price) = fill_price {
            account.fill(&mut order, price);
        }
        account.orders.push(order);
        Ok(json!({"order": {"id": id, "status": "ok", "partner_id": "sim-partner"}}))
    }
}

impl Account {
    /// Buying power and position checks (the messages are UNCONFIRMED wording).
    fn check(&self, new: &NewOrder, cost: f64) -> Result<(), Vec<String>> {
        let held = self.positions.get(&new.symbol).map_or(0.0, |h| h.qty);
        let pending: f64 = self
            .orders
            .iter()
            .filter(|o| o.is_open() && o.new.symbol == new.symbol && o.new.side == new.side)
            .map(|o| o.new.qty - o.exec_qty)
            .sum();
        match new.side.as_str() {
            "buy" if cost > self.buying_power() + 1e-9 => Err(vec![format!(
                "You do not have enough buying power for this trade. Order cost: {cost:.2}"
            )]),
            "sell" if new.qty + pending > held.max(0.0) + 1e-9 => Err(vec![
                "Sell order cannot be placed unless you hold the position".into(),
            ]),
            "buy_to_cover" if new.qty + pending > (-held).max(0.0) + 1e-9 => Err(vec![
                "Buy to cover order cannot be placed unless you are short the position".into(),
            ]),
            "sell_short" if self.kind == AccountType::Cash => {
                Err(vec!["Short selling is not allowed in a cash account".into()])
            }
            "sell_short" if held > 0.0 => Err(vec![
                "Sell short order cannot be placed while you hold a long position".into(),
            ]),
            _ => Ok(()),
        }
    }

    fn buying_power(&self) -> f64 {
        let reserved: f64 = self
            .orders
            .iter()
            .filter(|o| o.is_open() && o.buys())
            .map(|o| (o.new.qty - o.exec_qty) * o.new.price.unwrap_or(0.0))
            .sum();
        let cash = (self.cash - reserved).max(0.0);
        match self.kind {
            AccountType::Cash => cash,
            AccountType::Margin | AccountType::Pdt => cash * 2.0,
        }
    }

    fn fill(&mut self, order: &mut Order, price: f64) {
        let now = Utc::now();
        order.status = "filled";
        order.exec_qty = order.new.qty;
        order.avg_fill_price = price;
        order.updated = now;
        self.events.publish(&self.number, order);
        let delta = if order.buys() {
            order.new.qty
        } else {
            -order.new.qty
        };
        self.cash -= delta * price;
        let next_id = self.positions.len() as u64 + 1;
        let h = self
            .positions
            .entry(order.new.symbol.clone())
            .or_insert(Holding {
                id: next_id,
                qty: 0.0,
                cost_basis: 0.0,
                acquired: now,
            });
        if h.qty == 0.0 || h.qty.signum() == delta.signum() {
            h.cost_basis += delta * price;
        } else {
            h.cost_basis *= (h.qty + delta) / h.qty;
        }
        h.qty += delta;
        if h.qty.abs() < 1e-9 {
            self.positions.remove(&order.new.symbol);
        }
    }

    pub(crate) fn find(&self, id: u64) -> Option<&Order> {
        self.orders.iter().find(|o| o.id == id)
    }

    /// Cancels an open order; a final one answers Tradier's "finalized state" text.
    pub(crate) fn cancel(&mut self, id: u64) -> Result<Option<()>, String> {
        let Some(order) = self.orders.iter_mut().find(|o| o.id == id) else {
            return Ok(None);
        };
        if !order.is_open() {
            return Err(format!(
                "order already in finalized state: {}",
                order.status
            ));
        }
        order.status = "canceled";
        order.updated = Utc::now();
        self.events.publish(&self.number, order);
        Ok(Some(()))
    }

    /// Changes an open order in place (`PUT …/orders/{id}`): its type, duration, price and
    /// stop, never its quantity. The order keeps its id and fills at once when the new terms
    /// make it marketable, as a new order would. `Ok(None)` for an unknown id; a final order
    /// answers the "finalized state" text, like a cancel.
    pub(crate) fn modify(
        &mut self,
        market: &Market,
        id: u64,
        change: Modify,
    ) -> Result<Option<()>, Vec<String>> {
        let Some(i) = self.orders.iter().position(|o| o.id == id) else {
            return Ok(None);
        };
        let order = &self.orders[i];
        if !order.is_open() {
            return Err(vec![format!(
                "order already in finalized state: {}",
                order.status
            )]);
        }
        let kind = change.kind.unwrap_or_else(|| order.new.kind.clone());
        let price = change.price.or(order.new.price);
        let stop = change.stop.or(order.new.stop);
        if matches!(kind.as_str(), "limit" | "stop_limit") && price.is_none() {
            return Err(vec![
                "Invalid Parameter: price is required for limit orders".into(),
            ]);
        }
        if matches!(kind.as_str(), "stop" | "stop_limit") && stop.is_none() {
            return Err(vec![
                "Invalid Parameter: stop is required for stop orders".into()
            ]);
        }
        let quote = market
            .quote(&order.new.symbol)
            .ok_or_else(|| vec![format!("Invalid symbol: {}", order.new.symbol)])?;
        let buys = order.buys();
        if buys {
            let remaining = order.new.qty - order.exec_qty;
            let own = remaining * order.new.price.unwrap_or(0.0);
            let cost = remaining * price.unwrap_or(quote.ask);
            let multiplier = match self.kind {
                AccountType::Cash => 1.0,
                AccountType::Margin | AccountType::Pdt => 2.0,
            };
            if cost > self.buying_power() + own * multiplier + 1e-9 {
                return Err(vec![format!(
                    "You do not have enough buying power for this trade. Order cost: {cost:.2}"
                )]);
            }
        }
        let mut order = self.orders.remove(i);
        order.new.kind = kind;
        order.new.price =
            price.filter(|_| matches!(order.new.kind.as_str(), "limit" | "stop_limit"));
        order.new.stop = stop.filter(|_| matches!(order.new.kind.as_str(), "stop" | "stop_limit"));
        if let Some(d) = change.duration {
            order.new.duration = d;
        }
        order.updated = Utc::now();
        let touch = if buys { quote.ask } else { quote.bid };
        let fill_price = match (order.new.kind.as_str(), order.new.price) {
            ("market", _) => Some(touch),
            ("limit", Some(l)) if (buys && l >= touch) || (!buys && l <= touch) => Some(touch),
            _ => None,
        };
        if let Some(p) = fill_price {
            self.fill(&mut order, p);
        } else {
            self.events.publish(&self.number, &order);
        }
        self.orders.insert(i, order);
        Ok(Some(()))
    }

    /// `GET …/orders`: `{"orders":{"order":…}}`, or `{"orders":"null"}` when there are none.
    pub(crate) fn orders_json(&self, with_tags: bool) -> Value {
        if self.orders.is_empty() {
            return json!({"orders": "null"});
        }
        let list = self.orders.iter().map(|o| o.to_json(with_tags)).collect();
        json!({"orders": {"order": one_or_many(list)}})
    }

    /// `GET …/positions`: `{"positions":{"position":…}}`, or `{"positions":"null"}`.
    pub(crate) fn positions_json(&self) -> Value {
        if self.positions.is_empty() {
            return json!({"positions": "null"});
        }
        let list = self
            .positions
            .iter()
            .map(|(symbol, h)| {
                json!({"cost_basis": h.cost_basis, "date_acquired": time(h.acquired),
                    "id": h.id, "quantity": h.qty, "symbol": symbol})
            })
            .collect();
        json!({"positions": {"position": one_or_many(list)}})
    }

    /// `GET …/balances`, with the sub-object of the account's type.
    pub(crate) fn balances_json(&self, market: &Market) -> Value {
        let value = |want_long: bool| -> f64 {
            self.positions
                .iter()
                .filter(|(_, h)| (h.qty > 0.0) == want_long)
                .map(|(s, h)| h.qty * market.mid(s).unwrap_or(0.0))
                .sum()
        };
        let (long, short) = (value(true), value(false));
        let open_pl: f64 = self
            .positions
            .iter()
            .map(|(s, h)| h.qty * market.mid(s).unwrap_or(0.0) - h.cost_basis)
            .sum();
        let pending = self.orders.iter().filter(|o| o.is_open()).count();
        let bp = self.buying_power();
        let mut v = json!({"balances": {
            "account_number": self.number, "account_type": self.kind.as_str(),
            "total_equity": self.cash + long + short, "total_cash": self.cash,
            "market_value": long + short, "long_market_value": long,
            "short_market_value": short, "stock_long_value": long, "open_pl": open_pl,
            "close_pl": 0.0, "current_requirement": long * 0.5, "equity": 0,
            "option_long_value": 0, "option_short_value": 0, "option_requirement": 0,
            "pending_orders_count": pending, "uncleared_funds": 0, "pending_cash": 0,
        }});
        let sub = match self.kind {
            AccountType::Margin => (
                "margin",
                json!({"fed_call": 0, "maintenance_call": 0,
                "option_buying_power": bp / 2.0, "stock_buying_power": bp,
                "stock_short_value": short, "sweep": 0}),
            ),
            AccountType::Cash => (
                "cash",
                json!({"cash_available": bp, "sweep": 0,
                "unsettled_funds": 0}),
            ),
            AccountType::Pdt => (
                "pdt",
                json!({"fed_call": 0, "maintenance_call": 0,
                "day_trade_buying_power": bp * 2.0, "option_buying_power": bp / 2.0,
                "stock_buying_power": bp, "stock_short_value": short}),
            ),
        };
        v["balances"][sub.0] = sub.1;
        v
    }
}
