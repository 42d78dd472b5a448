//! Execution: fills (at the ask for buys, the bid for sells, netted into the position) and
//! immediate cancels, for new orders and for resting limit orders the market reaches.

use serde_json::{json, Value};

use super::book::{Account, Ctx, MARGIN_RATE};
use super::market::{Instrument, Market};
use super::orders::{Kind, Order, State};
use super::wire;

/// Fills the resting limit orders the market has reached.
pub fn match_limits(acct: &mut Account, market: &Market, ctx: &Ctx) {
    for idx in 0..acct.orders.len() {
        let o = &acct.orders[idx];
        if !o.is_pending() || o.kind != Kind::Limit {
            continue;
        }
        let Some(inst) = market.get(&o.instrument) else {
            continue;
        };
        if marketable(o, inst) {
            let (name, units) = (o.instrument.clone(), o.units);
            let batch = acct.next_tx_id();
            if acct.lacks_margin(market, &name, units) {
                cancel(acct, idx, "INSUFFICIENT_MARGIN", ctx, batch);
            } else {
                fill(acct, inst, idx, ctx, batch);
            }
        }
    }
}

pub(super) fn marketable(o: &Order, inst: &Instrument) -> bool {
    match o.price {
        Some((p, _)) if o.units > 0.0 => inst.ask() <= p,
        Some((p, _)) => inst.bid() >= p,
        None => true,
    }
}

pub(super) fn cancel(acct: &mut Account, idx: usize, reason: &str, ctx: &Ctx, batch: u64) -> Value {
    cancel_with(acct, idx, reason, ctx, batch, None)
}

/// [`cancel`], naming the order that replaces the cancelled one (`replacedByOrderID`).
pub(super) fn cancel_with(
    acct: &mut Account,
    idx: usize,
    reason: &str,
    ctx: &Ctx,
    batch: u64,
    replaced_by: Option<u64>,
) -> Value {
    let o = &acct.orders[idx];
    let mut fields = json!({ "orderID": o.id.to_string(), "reason": reason });
    if let Some(id) = replaced_by {
        fields["replacedByOrderID"] = json!(id.to_string());
    }
    if let Some(c) = o.client_id() {
        fields["clientOrderID"] = json!(c);
    }
    let tx = acct.record(ctx, batch, "ORDER_CANCEL", fields);
    let tx_id = acct.last_tx_id();
    let o = &mut acct.orders[idx];
    o.state = State::Cancelled;
    o.cancelled = Some((tx_id, ctx.time.clone()));
    tx
}

pub(super) fn fill(
    acct: &mut Account,
    inst: &Instrument,
    idx: usize,
    ctx: &Ctx,
    batch: u64,
) -> Value {
    let o = acct.orders[idx].clone();
    let price = if o.units > 0.0 {
        inst.ask()
    } else {
        inst.bid()
    };
    let p = |v: f64| wire::price(v, inst.precision);
    let fill_id = acct.next_tx_id();
    let pos = acct.positions.entry(o.instrument.clone()).or_default();
    let first_trade = pos.trade_ids.first().copied();
    let applied = pos.apply(o.units, price, inst);
    if pos.units == 0.0 || (applied.opened != 0.0 && applied.closed > 0.0) {
        pos.trade_ids.clear();
    }
    if applied.opened != 0.0 {
        pos.trade_ids.push(fill_id);
    }
    acct.credit(applied.realized);
    let half_spread = (inst.half_spread * o.units.abs() * inst.usd_per_unit() / inst.mid).abs();
    let mut fields = json!({
        "orderID": o.id.to_string(),
        "instrument": o.instrument,
        "units": wire::units(o.units),
        "requestedUnits": wire::units(o.units),
        "price": p(price),
        "fullVWAP": p(price),
        "fullPrice": {
            "type": "PRICE",
            "bids": [{ "price": p(inst.bid()), "liquidity": "1000000" }],
            "asks": [{ "price": p(inst.ask()), "liquidity": "1000000" }],
            "closeoutBid": p(inst.bid()),
            "closeoutAsk": p(inst.ask()),
        },
        "reason": if o.kind == Kind::Market { "MARKET_ORDER" } else { "LIMIT_ORDER" },
        "pl": wire::money(applied.realized),
        "quotePL": wire::money(applied.realized),
        "financing": "0.0000",
        "commission": "0.0000",
        "guaranteedExecutionFee": "0.0000",
        "accountBalance": wire::money(acct.balance),
        "halfSpreadCost": wire::money(half_spread),
    });
    if let Some(c) = o.client_id() {
        fields["clientOrderID"] = json!(c);
    }
    if applied.closed > 0.0 {
        let closed = json!({
            "tradeID": first_trade.unwrap_or(o.id).to_string(),
            "units": wire::units(applied.closed * o.units.signum()),
            "price": p(price),
            "realizedPL": wire::money(applied.realized),
            "financing": "0.0000",
            "guaranteedExecutionFee": "0.0000",
            "halfSpreadCost": "0.0000",
        });
        let flat_or_flipped = applied.opened != 0.0
            || acct
                .positions
                .get(&o.instrument)
                .is_some_and(|p| p.units == 0.0);
        if flat_or_flipped {
            fields["tradesClosed"] = json!([closed]);
        } else {
            fields["tradeReduced"] = closed;
        }
    }
    if applied.opened != 0.0 {
        fields["tradeOpened"] = json!({
            "tradeID": fill_id.to_string(),
            "units": wire::units(applied.opened),
            "price": p(price),
            "guaranteedExecutionFee": "0.0000",
            "halfSpreadCost": wire::money(half_spread),
            "initialMarginRequired": wire::money(applied.opened.abs() * inst.usd_per_unit() * MARGIN_RATE),
        });
    }
    let tx = acct.record(ctx, batch, "ORDER_FILL", fields);
    let o = &mut acct.orders[idx];
    o.state = State::Filled;
    o.filled = Some((fill_id, ctx.time.clone()));
    o.trade_opened = (applied.opened != 0.0).then_some(fill_id);
    tx
}
