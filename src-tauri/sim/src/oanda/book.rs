//! The accounts: balances, net positions (hedging disabled, `positionFill: DEFAULT`), orders
//! and the per-account transaction log. OANDA numbers transactions per account, and an
//! order's id is the id of the transaction that created it.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::execution;
use super::market::{Instrument, Market};
use super::orders::Order;
use super::wire;

/// 50:1 leverage, OANDA's usual rate for majors.
pub const MARGIN_RATE: f64 = 0.02;

/// Who asked, and when: stamped on every transaction a request creates.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// `None` for transactions the market triggers (a resting limit order filling).
    pub request_id: Option<u64>,
    pub time: String,
}

/// The whole simulated broker.
#[derive(Debug)]
pub struct Book {
    pub market: Market,
    pub accounts: BTreeMap<String, Account>,
}

impl Book {
    pub fn new(accounts: &[&str]) -> Self {
        let aliases = ["Primary", "Secondary", "Tertiary"];
        let accounts = accounts
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let alias = aliases
                    .get(i)
                    .map_or_else(|| format!("Account {}", i + 1), |a| a.to_string());
                (id.to_string(), Account::new(id, &alias, 100_000.0))
            })
            .collect();
        Self {
            market: Market::new(),
            accounts,
        }
    }

    /// Moves prices up to now and fills the resting limit orders they reach.
    pub fn refresh(&mut self) {
        self.market.advance();
        let ctx = Ctx {
            request_id: None,
            time: wire::now(),
        };
        for acct in self.accounts.values_mut() {
            execution::match_limits(acct, &self.market, &ctx);
        }
    }
}

/// A net position in one instrument.
#[derive(Debug, Clone, Default)]
pub struct Position {
    /// Positive long, negative short.
    pub units: f64,
    pub avg: f64,
    /// Realized P/L, account currency.
    pub pl: f64,
    pub trade_ids: Vec<u64>,
}

/// The result of applying a fill to a position.
#[derive(Debug, Clone, Copy)]
pub struct Applied {
    pub realized: f64,
    /// Units of the old position closed (unsigned).
    pub closed: f64,
    /// Units of the new exposure opened (signed).
    pub opened: f64,
}

impl Position {
    /// Nets a fill of `u` units at `price` into the position.
    pub fn apply(&mut self, u: f64, price: f64, inst: &Instrument) -> Applied {
        if self.units == 0.0 || self.units.signum() == u.signum() {
            let total = self.units.abs() + u.abs();
            self.avg = (self.avg * self.units.abs() + price * u.abs()) / total;
            self.units += u;
            return Applied {
                realized: 0.0,
                closed: 0.0,
                opened: u,
            };
        }
        let closed = u.abs().min(self.units.abs());
        let realized = inst.pl_usd(self.units.signum() * closed, self.avg, price);
        self.units += u;
        self.pl += realized;
        let opened = (u.abs() - closed) * u.signum();
        if self.units == 0.0 {
            self.avg = 0.0;
        } else if opened != 0.0 {
            self.avg = price;
        }
        Applied {
            realized,
            closed,
            opened,
        }
    }

    fn unrealized(&self, inst: &Instrument) -> f64 {
        inst.pl_usd(self.units, self.avg, inst.mark(self.units))
    }
}

/// One OANDA account.
#[derive(Debug)]
pub struct Account {
    pub id: String,
    alias: String,
    pub balance: f64,
    pl: f64,
    user_id: u64,
    created: String,
    last_tx: u64,
    pub orders: Vec<Order>,
    pub positions: BTreeMap<String, Position>,
    transactions: BTreeMap<u64, Value>,
    /// Every transaction recorded, as its line, for the transaction streams (`events`).
    pub(super) feed: super::events::Feed,
}

impl Account {
    pub fn new(id: &str, alias: &str, balance: f64) -> Self {
        // `101-004-1234567-001`: the third part is the user id.
        let user_id = id
            .split('-')
            .nth(2)
            .and_then(|u| u.parse().ok())
            .unwrap_or(1);
        Self {
            id: id.to_string(),
            alias: alias.to_string(),
            balance,
            pl: 0.0,
            user_id,
            created: wire::now(),
            last_tx: 3, // create, client configure, transfer funds
            orders: Vec::new(),
            positions: BTreeMap::new(),
            transactions: BTreeMap::new(),
            feed: super::events::Feed::default(),
        }
    }

    /// The id the next transaction will get (the `batchID` of a request's transactions).
    pub fn next_tx_id(&self) -> u64 {
        self.last_tx + 1
    }

    pub fn last_tx_id(&self) -> u64 {
        self.last_tx
    }

    pub fn last_tx(&self) -> String {
        self.last_tx.to_string()
    }

    /// Ids of the transactions from `batch` to the last one.
    pub fn related_since(&self, batch: u64) -> Vec<String> {
        (batch..=self.last_tx).map(|i| i.to_string()).collect()
    }

    pub fn transaction(&self, id: u64) -> Option<&Value> {
        self.transactions.get(&id)
    }

    /// Records a transaction of `kind` with the common fields plus `fields`.
    pub fn record(&mut self, ctx: &Ctx, batch: u64, kind: &str, fields: Value) -> Value {
        self.last_tx += 1;
        let id = self.last_tx;
        let mut tx = Map::new();
        tx.insert("id".into(), json!(id.to_string()));
        tx.insert("time".into(), json!(ctx.time));
        tx.insert("userID".into(), json!(self.user_id));
        tx.insert("accountID".into(), json!(self.id));
        tx.insert("batchID".into(), json!(batch.to_string()));
        if let Some(r) = ctx.request_id {
            tx.insert("requestID".into(), json!(r.to_string()));
        }
        tx.insert("type".into(), json!(kind));
        if let Value::Object(extra) = fields {
            tx.extend(extra);
        }
        let tx = Value::Object(tx);
        self.feed.publish(&tx);
        self.transactions.insert(id, tx.clone());
        tx
    }

    pub fn credit(&mut self, realized: f64) {
        self.balance += realized;
        self.pl += realized;
    }

    /// (unrealized P/L, margin used, position value), account currency.
    fn exposure(&self, market: &Market) -> (f64, f64, f64) {
        self.positions
            .iter()
            .fold((0.0, 0.0, 0.0), |(upl, margin, value), (name, p)| {
                let Some(inst) = market.get(name) else {
                    return (upl, margin, value);
                };
                let notional = p.units.abs() * inst.usd_per_unit();
                (
                    upl + p.unrealized(inst),
                    margin + notional * MARGIN_RATE,
                    value + notional,
                )
            })
    }

    pub fn margin_available(&self, market: &Market) -> f64 {
        let (upl, used, _) = self.exposure(market);
        (self.balance + upl - used).max(0.0)
    }

    /// True when adding `units` of `name` would need more margin than is available.
    pub fn lacks_margin(&self, market: &Market, name: &str, units: f64) -> bool {
        let Some(inst) = market.get(name) else {
            return true;
        };
        let cur = self.positions.get(name).map_or(0.0, |p| p.units);
        let increase = (cur + units).abs() - cur.abs();
        increase > 0.0
            && increase * inst.usd_per_unit() * MARGIN_RATE > self.margin_available(market)
    }

    /// `GET /v3/accounts/{id}/summary`.
    pub fn summary(&self, market: &Market) -> Value {
        let (upl, used, value) = self.exposure(market);
        let nav = self.balance + upl;
        let available = (nav - used).max(0.0);
        let open = self.positions.values().filter(|p| p.units != 0.0).count();
        let trades: usize = self
            .positions
            .values()
            .filter(|p| p.units != 0.0)
            .map(|p| p.trade_ids.len())
            .sum();
        let pending = self.orders.iter().filter(|o| o.is_pending()).count();
        json!({
            "account": {
                "id": self.id,
                "alias": self.alias,
                "currency": "USD",
                "balance": wire::money(self.balance),
                "createdByUserID": self.user_id,
                "createdTime": self.created,
                "guaranteedStopLossOrderMode": "DISABLED",
                "pl": wire::money(self.pl),
                "resettablePL": wire::money(self.pl),
                "resettablePLTime": "0",
                "financing": "0.0000",
                "commission": "0.0000",
                "guaranteedExecutionFees": "0.0000",
                "marginRate": "0.02",
                "openTradeCount": trades,
                "openPositionCount": open,
                "pendingOrderCount": pending,
                "hedgingEnabled": false,
                "unrealizedPL": wire::money(upl),
                "NAV": wire::money(nav),
                "marginUsed": wire::money(used),
                "marginAvailable": wire::money(available),
                "positionValue": wire::money(value),
                "marginCloseoutUnrealizedPL": wire::money(upl),
                "marginCloseoutNAV": wire::money(nav),
                "marginCloseoutMarginUsed": wire::money(used),
                "marginCloseoutPercent": wire::money(if nav > 0.0 { used / nav / 2.0 } else { 0.0 }),
                "withdrawalLimit": wire::money(available),
                "lastTransactionID": self.last_tx(),
            },
            "lastTransactionID": self.last_tx(),
        })
    }

    /// `GET /v3/accounts/{id}/openPositions`.
    pub fn open_positions(&self, market: &Market) -> Value {
        let positions: Vec<Value> = self
            .positions
            .iter()
            .filter(|(_, p)| p.units != 0.0)
            .filter_map(|(name, p)| Some(position_json(name, p, market.get(name)?)))
            .collect();
        json!({ "positions": positions, "lastTransactionID": self.last_tx() })
    }
}

fn position_json(name: &str, p: &Position, inst: &Instrument) -> Value {
    let upl = p.unrealized(inst);
    let margin = p.units.abs() * inst.usd_per_unit() * MARGIN_RATE;
    let active = json!({
        "units": wire::units(p.units),
        "averagePrice": wire::price(p.avg, inst.precision),
        "tradeIDs": p.trade_ids.iter().map(u64::to_string).collect::<Vec<_>>(),
        "pl": wire::money(p.pl),
        "unrealizedPL": wire::money(upl),
        "resettablePL": wire::money(p.pl),
        "financing": "0.0000",
        "guaranteedExecutionFees": "0.0000",
    });
    let idle = json!({
        "units": "0",
        "pl": "0.0000",
        "unrealizedPL": "0.0000",
        "resettablePL": "0.0000",
        "financing": "0.0000",
        "guaranteedExecutionFees": "0.0000",
    });
    let (long, short) = if p.units > 0.0 {
        (active, idle)
    } else {
        (idle, active)
    };
    json!({
        "instrument": name,
        "pl": wire::money(p.pl),
        "unrealizedPL": wire::money(upl),
        "marginUsed": wire::money(margin),
        "resettablePL": wire::money(p.pl),
        "financing": "0.0000",
        "commission": "0.0000",
        "guaranteedExecutionFees": "0.0000",
        "long": long,
        "short": short,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_net_and_realize() {
        let market = Market::new();
        let inst = market.get("EUR_USD").expect("EUR_USD");
        let mut p = Position::default();
        p.apply(100.0, 1.1, inst);
        p.apply(100.0, 1.2, inst);
        assert!((p.avg - 1.15).abs() < 1e-9);
        let a = p.apply(-300.0, 1.25, inst);
        assert!((a.realized - 20.0).abs() < 1e-9, "{a:?}");
        assert_eq!((a.closed, a.opened), (200.0, -100.0));
        assert_eq!((p.units, p.avg), (-100.0, 1.25));
    }

    #[test]
    fn usd_base_pairs_realize_in_usd() {
        let market = Market::new();
        let inst = market.get("USD_JPY").expect("USD_JPY");
        let mut p = Position::default();
        p.apply(1000.0, 150.0, inst);
        let a = p.apply(-1000.0, 151.0, inst);
        assert!((a.realized - 1000.0 / 151.0).abs() < 1e-9);
        assert_eq!(p.units, 0.0);
    }

    #[test]
    fn margin_is_checked_on_increases_only() {
        let market = Market::new();
        let mut acct = Account::new("101-004-1234567-001", "Primary", 1_000.0);
        assert!(!acct.lacks_margin(&market, "USD_JPY", 40_000.0)); // 800 USD of margin
        assert!(acct.lacks_margin(&market, "USD_JPY", 60_000.0));
        acct.positions.insert(
            "USD_JPY".into(),
            Position {
                units: 40_000.0,
                avg: 151.25,
                ..Default::default()
            },
        );
        assert!(!acct.lacks_margin(&market, "USD_JPY", -60_000.0));
        assert!(acct.lacks_margin(&market, "USD_JPY", 20_000.0));
    }
}
