//! The account: cash, listed contracts, orders (with the confirmation questions pending on
//! them), positions. Orders fill at once at the contract's price when marketable; resting
//! limit orders fill when [`Book::set_price`] crosses them.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::events;
use super::orders::{placed_json, question_json, Contract, NewOrder, Order, Side};

#[derive(Debug, Clone, Copy)]
struct Holding {
    quantity: f64,
    avg_cost: f64,
}

/// An order waiting for its confirmation questions to be answered.
#[derive(Debug)]
struct Pending {
    order: NewOrder,
    /// The order a change is for; `None` for a new order.
    target: Option<u64>,
    /// Questions still to ask after the current one.
    remaining: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct Book {
    pub account: String,
    cash: f64,
    contracts: Vec<Contract>,
    orders: Vec<Order>,
    holdings: BTreeMap<u64, Holding>,
    questions: Vec<(String, String)>,
    suppressed: HashSet<String>,
    pending: HashMap<String, Pending>,
    next_id: u64,
    /// Every order change, for the `sor` topic ([`super::events`]).
    pub events: broadcast::Sender<Value>,
}

impl Book {
    pub(crate) fn new(account: &str, cash: f64) -> Self {
        let c = |conid, symbol, name, exchange, price| Contract {
            conid,
            symbol,
            name,
            exchange,
            price,
        };
        Self {
            account: account.to_string(),
            cash,
            contracts: vec![
                c(265598, "AAPL", "APPLE INC", "NASDAQ.NMS", 190.0),
                c(272093, "MSFT", "MICROSOFT CORP", "NASDAQ.NMS", 420.0),
                c(4391, "AMD", "ADVANCED MICRO DEVICES", "NASDAQ.NMS", 160.0),
                c(756733, "SPY", "SPDR S&P 500 ETF TRUST", "ARCA", 550.0),
            ],
            orders: Vec::new(),
            holdings: BTreeMap::new(),
            questions: vec![(
                "o163".into(),
                "The following order exceeds the price percentage limit of 3%.".into(),
            )],
            suppressed: HashSet::new(),
            pending: HashMap::new(),
            next_id: 1_432_000_001,
            events: events::channel(),
        }
    }

    pub(crate) fn set_questions(&mut self, q: &[(&str, &str)]) {
        self.questions = q
            .iter()
            .map(|(id, t)| ((*id).to_string(), (*t).to_string()))
            .collect();
    }

    pub(crate) fn suppress(&mut self, ids: impl IntoIterator<Item = String>) {
        self.suppressed.extend(ids);
    }

    pub(crate) fn contract(&self, key: &str) -> Option<&Contract> {
        let conid = key.parse::<u64>().ok();
        self.contracts
            .iter()
            .find(|c| Some(c.conid) == conid || c.symbol.eq_ignore_ascii_case(key))
    }

    pub(crate) fn set_price(&mut self, symbol: &str, price: f64) {
        let Some(conid) = self.contract(symbol).map(|c| c.conid) else {
            return;
        };
        if let Some(c) = self.contracts.iter_mut().find(|c| c.conid == conid) {
            c.price = price;
        }
        let crossed: Vec<usize> = (0..self.orders.len())
            .filter(|&i| self.orders[i].is_open() && self.orders[i].new.conid == conid)
            .filter(|&i| marketable(&self.orders[i].new, price))
            .collect();
        for i in crossed {
            self.fill(i, price);
        }
    }

    /// Submits an order: a duplicate cOID is refused, then each unsuppressed question is
    /// asked before the order is placed.
    pub(crate) fn submit(&mut self, new: NewOrder) -> Result<Value, String> {
        let taken = self.orders.iter().any(|o| o.new.coid == new.coid)
            || self.pending.values().any(|p| p.order.coid == new.coid);
        if taken {
            return Err(format!(
                "Order couldn't be submitted: Local order ID={} is already registered.",
                new.coid
            ));
        }
        if self.contract(&new.conid.to_string()).is_none() {
            return Err(format!("Invalid contract id {}", new.conid));
        }
        let asked = self.questions_to_ask();
        Ok(self.ask_or_place(new, None, asked))
    }

    /// The unsuppressed questions, in order.
    fn questions_to_ask(&self) -> Vec<(String, String)> {
        self.questions
            .iter()
            .filter(|(id, _)| !self.suppressed.contains(id))
            .cloned()
            .collect()
    }

    /// Submits a change of the open order `id` (`POST …/order/{id}`): the same contract
    /// and side, a new quantity, price or time in force. The questions are asked as for a
    /// new order; once answered the order keeps its id and cOID and takes the new terms,
    /// filling at once if they are marketable. The error says whether the order is
    /// unknown (`true`: a 404) and IBKR's text.
    pub(crate) fn modify(&mut self, id: u64, mut new: NewOrder) -> Result<Value, (bool, String)> {
        let o = self
            .orders
            .iter()
            .find(|o| o.id == id)
            .ok_or_else(|| (true, format!("OrderID {id} doesn't exist")))?;
        if !o.is_open() {
            return Err((
                false,
                format!("OrderID {id} cannot be modified: it is {}", o.status),
            ));
        }
        if o.new.conid != new.conid || o.new.side != new.side {
            return Err((
                false,
                format!("OrderID {id} cannot be modified: the contract and side must stay"),
            ));
        }
        if new.quantity < o.filled {
            return Err((
                false,
                format!("OrderID {id} cannot be modified below its filled quantity"),
            ));
        }
        new.coid = o.new.coid.clone();
        let asked = self.questions_to_ask();
        Ok(self.ask_or_place(new, Some(id), asked))
    }

    /// Gives the order `id` the terms of `new`; answers like a placement.
    fn apply_change(&mut self, id: u64, new: NewOrder) -> Value {
        let Some(i) = self.orders.iter().position(|o| o.id == id) else {
            return json!({"error": format!("OrderID {id} doesn't exist")});
        };
        if !self.orders[i].is_open() {
            let status = self.orders[i].status;
            return json!({"error": format!("OrderID {id} cannot be modified: it is {status}")});
        }
        let price = self.orders[i].contract.price;
        let fill_now = marketable(&new, price);
        let o = &mut self.orders[i];
        o.new = new;
        o.updated_ms = now_ms();
        if fill_now {
            self.fill(i, price);
        } else {
            events::publish(&self.events, &self.orders[i]);
        }
        placed_json(&self.orders[i])
    }

    /// The cOID of the order waiting on the question `reply_id`.
    pub(crate) fn pending_coid(&self, reply_id: &str) -> Option<String> {
        self.pending.get(reply_id).map(|p| p.order.coid.clone())
    }

    /// Answers the question `reply_id`; `None` if there is no such question.
    pub(crate) fn reply(
        &mut self,
        reply_id: &str,
        confirmed: bool,
    ) -> Option<Result<Value, String>> {
        let p = self.pending.remove(reply_id)?;
        if !confirmed {
            return Some(Err("Order was not confirmed and has been cancelled".into()));
        }
        Some(Ok(self.ask_or_place(p.order, p.target, p.remaining)))
    }

    /// Asks the next question on `new`, or, with none left, places it (or applies it to
    /// the order `target`).
    fn ask_or_place(
        &mut self,
        new: NewOrder,
        target: Option<u64>,
        mut questions: Vec<(String, String)>,
    ) -> Value {
        if questions.is_empty() {
            return match target {
                Some(id) => self.apply_change(id, new),
                None => self.place(new),
            };
        }
        let (mid, text) = questions.remove(0);
        let reply_id = uuid::Uuid::new_v4().to_string();
        let q = question_json(&reply_id, &mid, &text);
        self.pending.insert(
            reply_id,
            Pending {
                order: new,
                target,
                remaining: questions,
            },
        );
        q
    }

    fn place(&mut self, new: NewOrder) -> Value {
        let Some(contract) = self.contract(&new.conid.to_string()).cloned() else {
            return json!({"error": format!("Invalid contract id {}", new.conid)});
        };
        let id = self.next_id;
        self.next_id += 1;
        let fill_now = marketable(&new, contract.price);
        let price = contract.price;
        self.orders.push(Order {
            id,
            account: self.account.clone(),
            new,
            contract,
            status: "Submitted",
            filled: 0.0,
            avg_price: None,
            updated_ms: now_ms(),
        });
        let i = self.orders.len() - 1;
        events::publish(&self.events, &self.orders[i]);
        if fill_now {
            self.fill(i, price);
        }
        placed_json(&self.orders[i])
    }

    fn fill(&mut self, i: usize, price: f64) {
        let o = &mut self.orders[i];
        let qty = o.new.quantity - o.filled;
        o.filled = o.new.quantity;
        o.avg_price = Some(price);
        o.status = "Filled";
        o.updated_ms = now_ms();
        events::publish(&self.events, o);
        let signed = if o.new.side == Side::Buy { qty } else { -qty };
        let conid = o.new.conid;
        self.cash -= signed * price;
        let h = self.holdings.entry(conid).or_insert(Holding {
            quantity: 0.0,
            avg_cost: 0.0,
        });
        let total = h.quantity + signed;
        if total == 0.0 {
            self.holdings.remove(&conid);
        } else if h.quantity == 0.0 || h.quantity.signum() == signed.signum() {
            h.avg_cost = (h.avg_cost * h.quantity + price * signed) / total;
            h.quantity = total;
        } else {
            // Reducing keeps the average; flipping starts a new one at this price.
            if total.signum() != h.quantity.signum() {
                h.avg_cost = price;
            }
            h.quantity = total;
        }
    }

    pub(crate) fn order(&self, id: u64) -> Option<&Order> {
        self.orders.iter().find(|o| o.id == id)
    }

    /// Cancels an open order; the error is IBKR's message.
    pub(crate) fn cancel(&mut self, id: u64) -> Result<Value, String> {
        let o = self
            .orders
            .iter_mut()
            .find(|o| o.id == id)
            .ok_or_else(|| format!("OrderID {id} doesn't exist"))?;
        if !o.is_open() {
            return Err(format!(
                "OrderID {id} cannot be cancelled: it is {}",
                o.status
            ));
        }
        o.status = "Cancelled";
        o.updated_ms = now_ms();
        events::publish(&self.events, o);
        Ok(json!({
            "msg": "Request was submitted",
            "order_id": id,
            "conid": o.contract.conid,
            "account": o.account,
        }))
    }

    /// Every order, newest first, as `GET /iserver/account/orders` lists them.
    pub(crate) fn orders_list(&self) -> Vec<Value> {
        self.orders.iter().rev().map(Order::list_json).collect()
    }

    pub(crate) fn orders_json(&self) -> Value {
        let list: Vec<Value> = self.orders.iter().rev().map(Order::list_json).collect();
        json!({"orders": list, "snapshot": true})
    }

    pub(crate) fn positions_json(&self) -> Value {
        let list: Vec<Value> = self
            .holdings
            .iter()
            .filter_map(|(conid, h)| {
                let c = self.contracts.iter().find(|c| c.conid == *conid)?;
                let value = h.quantity * c.price;
                Some(json!({
                    "acctId": self.account,
                    "conid": conid,
                    "contractDesc": c.symbol,
                    "position": h.quantity,
                    "mktPrice": c.price,
                    "mktValue": value,
                    "currency": "USD",
                    "avgCost": h.avg_cost,
                    "avgPrice": h.avg_cost,
                    "realizedPnl": 0.0,
                    "unrealizedPnl": value - h.avg_cost * h.quantity,
                    "exchs": null,
                    "expiry": null,
                    "putOrCall": null,
                    "multiplier": null,
                    "strike": 0.0,
                    "assetClass": "STK",
                    "undConid": 0,
                    "model": "",
                }))
            })
            .collect();
        Value::Array(list)
    }

    /// `GET /portfolio/{acct}/summary`: lower-case keys, each `{amount,currency,isNull,…}`.
    pub(crate) fn summary_json(&self) -> Value {
        let positions: f64 = self
            .holdings
            .iter()
            .filter_map(|(conid, h)| {
                let c = self.contracts.iter().find(|c| c.conid == *conid)?;
                Some(h.quantity * c.price)
            })
            .sum();
        let net = self.cash + positions;
        let ts = now_ms();
        let money = |amount: f64| {
            json!({"amount": amount, "currency": "USD", "isNull": false, "timestamp": ts,
                "value": null, "severity": 0})
        };
        let text = |value: &str| {
            json!({"amount": 0.0, "currency": null, "isNull": false, "timestamp": ts,
                "value": value, "severity": 0})
        };
        json!({
            "accountcode": text(&self.account),
            "accounttype": text("INDIVIDUAL"),
            "netliquidation": money(net),
            "totalcashvalue": money(self.cash),
            "availablefunds": money(net),
            "excessliquidity": money(net),
            "buyingpower": money(net * 4.0),
            "grosspositionvalue": money(positions.abs()),
            "equitywithloanvalue": money(net),
        })
    }

    /// `/iserver/secdef/search`: contracts whose symbol starts with `query` (exact match
    /// first), or, with `by_name`, whose name contains it; `None` when nothing matches
    /// (the gateway then answers `{"error":"No symbol found"}`).
    pub(crate) fn search_json(&self, query: &str, by_name: bool) -> Option<Value> {
        let q = query.trim().to_ascii_uppercase();
        if q.is_empty() {
            return None;
        }
        let mut hits: Vec<&Contract> = self
            .contracts
            .iter()
            .filter(|c| {
                c.symbol.starts_with(&q) || by_name && c.name.to_ascii_uppercase().contains(&q)
            })
            .collect();
        if hits.is_empty() {
            return None;
        }
        hits.sort_by_key(|c| (c.symbol != q, c.symbol));
        let list: Vec<Value> = hits
            .iter()
            .map(|c| {
                json!({
                    "conid": c.conid.to_string(),
                    "companyHeader": format!("{} - {}", c.name, c.exchange),
                    "companyName": c.name,
                    "symbol": c.symbol,
                    "description": c.exchange,
                    "restricted": null,
                    "fop": null,
                    "opt": null,
                    "war": null,
                    "sections": [{"secType": "STK"}],
                })
            })
            .collect();
        Some(Value::Array(list))
    }
}

/// Whether an order can fill now at `price`.
fn marketable(o: &NewOrder, price: f64) -> bool {
    match (o.limit, o.side) {
        (None, _) => true,
        (Some(l), Side::Buy) => l >= price,
        (Some(l), Side::Sell) => l <= price,
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
