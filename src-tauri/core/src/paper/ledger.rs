//! A paper account's positions and money: net positions with their average price, realised
//! and unrealised P&L, cash balance, equity, day P&L, margin, and order-ticket estimates, all
//! in the account currency.
//!
//! # Rules
//!
//! - **Positions** are net per instrument. A fill in the position's direction moves the
//!   average price to the quantity-weighted average (kept to 10 decimal places); a fill
//!   against it realises `closed × (price − average)` on the closed part; a fill through
//!   zero realises the whole position and opens the rest at the fill price.
//! - **Unrealised P&L** marks longs at the bid and shorts at the ask: what closing now gets.
//! - **Money** is `balance = starting balance + realised P&L − fees` and `equity = balance +
//!   unrealised P&L`. Day P&L is equity minus the caller's start-of-day equity.
//! - **Conversion.** P&L arises in the instrument's quote currency. When that is the account
//!   currency it is used as is; when the *base* currency is the account currency (USD_JPY
//!   in a USD account) it is divided by the instrument's own price (the fill price for
//!   realised P&L, the mark for unrealised); otherwise the caller's rate lookup is asked for
//!   `{quote}_{account}` (multiply) and then `{account}_{quote}` (divide), e.g. GBP_USD for
//!   EUR_GBP. Without a rate the amount stays in its own currency and is reported as
//!   unconverted ([`PnlStatus::Unconverted`], [`AccountSummary::complete`] false), never
//!   counted as zero. Converted amounts are rounded half-to-even to the account currency's
//!   minor unit (cents; whole yen).
//! - **Margin** is the notional in the account currency divided by the leverage of the
//!   instrument's kind (FX 50:1 and stocks 2:1 by default).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{
    Fill, InstrumentKind, InstrumentSpec, PaperError, Quote, Side, MAX_PRICE, MAX_QUANTITY,
};
use crate::error::FieldCode;

/// The caller's exchange rates: the price of a pair (`GBP_USD`), if it has one.
pub type RateLookup<'a> = dyn Fn(&str) -> Option<Decimal> + 'a;

/// The caller's current quotes, by symbol, to mark positions.
pub type MarkLookup<'a> = dyn Fn(&str) -> Option<Quote> + 'a;

/// Decimal places kept for average prices.
const PRICE_DP: u32 = 10;

/// A paper account's currency, starting balance and leverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerConfig {
    /// The account currency, `USD` by default.
    pub currency: String,
    /// 100,000 by default.
    pub starting_balance: Decimal,
    /// 50 (2 % margin) by default.
    pub fx_leverage: Decimal,
    /// 2 (50 % margin) by default.
    pub stock_leverage: Decimal,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            currency: "USD".into(),
            starting_balance: dec!(100000),
            fx_leverage: dec!(50),
            stock_leverage: dec!(2),
        }
    }
}

/// An amount in a named currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperMoney")]
pub struct Money {
    pub currency: String,
    #[ts(type = "string")]
    pub amount: Decimal,
}

/// Whether a P&L figure made it into the account currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperPnlStatus")]
pub enum PnlStatus {
    Converted,
    /// No rate to the account currency: the amount is only known in the quote currency.
    Unconverted,
    /// No quote to mark the position with: the unrealised P&L is unknown.
    NoQuote,
}

/// A net position as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub symbol: String,
    pub kind: InstrumentKind,
    pub base_currency: Option<String>,
    pub quote_currency: String,
    pub contract_size: Decimal,
    /// Positive long, negative short, zero flat.
    pub quantity: Decimal,
    /// Zero when flat.
    pub average_price: Decimal,
    /// Realised on this instrument since the last reset, in the account currency (the
    /// converted part only).
    pub realized_pnl: Decimal,
    pub updated_at: DateTime<Utc>,
}

/// A position as the UI shows it, marked to the current quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperPosition")]
pub struct PositionView {
    pub symbol: String,
    /// Positive long, negative short.
    #[ts(type = "string")]
    pub quantity: Decimal,
    #[ts(type = "string")]
    pub average_price: Decimal,
    /// The bid for a long, the ask for a short; `None` without a quote.
    #[ts(type = "string | null")]
    pub mark_price: Option<Decimal>,
    pub quote_currency: String,
    /// In the quote currency; `None` without a quote.
    #[ts(type = "string | null")]
    pub unrealized_pnl_quote: Option<Decimal>,
    /// In the account currency; `None` unless `pnlStatus` is `converted`.
    #[ts(type = "string | null")]
    pub unrealized_pnl: Option<Decimal>,
    pub pnl_status: PnlStatus,
    #[ts(type = "string")]
    pub realized_pnl: Decimal,
    /// At the mark, in the account currency, when known.
    #[ts(type = "string | null")]
    pub notional: Option<Decimal>,
    #[ts(type = "string | null")]
    pub margin: Option<Decimal>,
}

/// The account's money at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperAccountSummary")]
pub struct AccountSummary {
    pub currency: String,
    #[ts(type = "string")]
    pub starting_balance: Decimal,
    /// Cash: starting balance + realised P&L − fees.
    #[ts(type = "string")]
    pub balance: Decimal,
    #[ts(type = "string")]
    pub realized_pnl: Decimal,
    #[ts(type = "string")]
    pub fees: Decimal,
    /// The converted unrealised P&L of the open positions.
    #[ts(type = "string")]
    pub unrealized_pnl: Decimal,
    /// Balance + unrealised P&L.
    #[ts(type = "string")]
    pub equity: Decimal,
    /// Equity minus the start-of-day equity, when the caller gave one.
    #[ts(type = "string | null")]
    pub day_pnl: Option<Decimal>,
    /// The margin of the positions whose notional could be converted.
    #[ts(type = "string")]
    pub margin_used: Decimal,
    /// Equity − margin used.
    #[ts(type = "string")]
    pub free_margin: Decimal,
    pub positions: Vec<PositionView>,
    /// Realised P&L booked in currencies that could not be converted when it happened.
    pub unconverted_realized: Vec<Money>,
    /// Unrealised P&L that cannot be converted now, per currency.
    pub unconverted_unrealized: Vec<Money>,
    /// False when some P&L or margin is missing from the figures above (unconverted amounts
    /// or positions without a quote): the UI must say so rather than show them as complete.
    pub complete: bool,
}

/// What an order ticket would cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export, rename = "PaperOrderEstimate")]
pub struct OrderEstimate {
    pub symbol: String,
    pub side: Side,
    #[ts(type = "string")]
    pub quantity: Decimal,
    /// The price the estimate assumes (the ask for a buy at market, the limit, the stop).
    #[ts(type = "string")]
    pub price: Decimal,
    pub quote_currency: String,
    #[ts(type = "string")]
    pub notional_quote: Decimal,
    pub currency: String,
    /// In the account currency; `None` when it cannot be converted.
    #[ts(type = "string | null")]
    pub notional: Option<Decimal>,
    #[ts(type = "string | null")]
    pub margin: Option<Decimal>,
    #[ts(type = "string")]
    pub leverage: Decimal,
    pub status: PnlStatus,
}

/// What applying one fill did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FillOutcome {
    /// Realised by this fill, in the quote currency (zero when it only opened or added).
    pub realized_quote: Decimal,
    /// The same in the account currency; `None` when it could not be converted (it was then
    /// booked in [`AccountSummary::unconverted_realized`]).
    pub realized: Option<Decimal>,
    /// The position's quantity after the fill.
    pub position: Decimal,
}

/// One paper account's positions and money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    config: LedgerConfig,
    balance: Decimal,
    realized_pnl: Decimal,
    fees: Decimal,
    /// Realised amounts that could not be converted, by currency.
    unconverted: BTreeMap<String, Decimal>,
    /// Every instrument traded since the last reset, flat ones included (their realised P&L).
    positions: BTreeMap<String, Position>,
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new(LedgerConfig::default())
    }
}

impl Ledger {
    /// Returns a fresh account holding its starting balance.
    pub fn new(config: LedgerConfig) -> Self {
        Self {
            balance: config.starting_balance,
            config,
            realized_pnl: Decimal::ZERO,
            fees: Decimal::ZERO,
            unconverted: BTreeMap::new(),
            positions: BTreeMap::new(),
        }
    }

    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// Rebuilds an account from what was stored (see `trading::paper_desk`).
    pub fn restore(
        config: LedgerConfig,
        balance: Decimal,
        realized_pnl: Decimal,
        fees: Decimal,
        unconverted: BTreeMap<String, Decimal>,
        positions: Vec<Position>,
    ) -> Self {
        Self {
            config,
            balance,
            realized_pnl,
            fees,
            unconverted,
            positions: positions
                .into_iter()
                .map(|p| (p.symbol.clone(), p))
                .collect(),
        }
    }

    /// Realised P&L since the last reset (converted part).
    pub fn realized_pnl(&self) -> Decimal {
        self.realized_pnl
    }

    /// Fees paid since the last reset.
    pub fn fees(&self) -> Decimal {
        self.fees
    }

    /// Realised amounts that could not be converted, by currency.
    pub fn unconverted(&self) -> &BTreeMap<String, Decimal> {
        &self.unconverted
    }

    /// Every instrument traded since the last reset, flat ones included.
    pub fn positions(&self) -> impl Iterator<Item = &Position> {
        self.positions.values()
    }

    pub fn balance(&self) -> Decimal {
        self.balance
    }

    /// Returns the position in `symbol`, flat ones included, if it was ever traded.
    pub fn position(&self, symbol: &str) -> Option<&Position> {
        self.positions.get(symbol)
    }

    /// Returns the open (non-flat) positions, by symbol.
    pub fn open_positions(&self) -> impl Iterator<Item = &Position> {
        self.positions.values().filter(|p| !p.quantity.is_zero())
    }

    /// Starts the account over: no positions, no P&L, the balance back to the starting
    /// balance (a new one when given, which must be positive).
    pub fn reset(&mut self, starting_balance: Option<Decimal>) -> Result<(), PaperError> {
        if let Some(b) = starting_balance {
            if b <= Decimal::ZERO || b > dec!(1_000_000_000_000) {
                return Err(PaperError::invalid(
                    "startingBalance",
                    FieldCode::OutOfRange,
                    "the starting balance must be above 0 and at most 1,000,000,000,000",
                ));
            }
            self.config.starting_balance = b;
        }
        *self = Self::new(self.config.clone());
        Ok(())
    }

    /// Books `fill` of instrument `spec`, charging `fee` (account currency, ≥ 0).
    pub fn apply_fill(
        &mut self,
        fill: &Fill,
        spec: &InstrumentSpec,
        fee: Decimal,
        rates: &RateLookup,
    ) -> Result<FillOutcome, PaperError> {
        if fill.symbol != spec.symbol {
            return Err(PaperError::invalid(
                "symbol",
                FieldCode::Inconsistent,
                format!("a fill of {} booked as {}", fill.symbol, spec.symbol),
            ));
        }
        for (field, value, max) in [
            ("quantity", fill.quantity, MAX_QUANTITY),
            ("price", fill.price, MAX_PRICE),
        ] {
            if value <= Decimal::ZERO || value > max {
                return Err(PaperError::invalid(
                    field,
                    FieldCode::OutOfRange,
                    format!("a fill's {field} must be above 0 and at most {max}"),
                ));
            }
        }
        if fee < Decimal::ZERO {
            return Err(PaperError::invalid(
                "fee",
                FieldCode::OutOfRange,
                "a fee cannot be negative",
            ));
        }
        if !self.positions.contains_key(&spec.symbol) {
            // Only an instrument's first fill pays for its key.
            let fresh = Position {
                symbol: spec.symbol.clone(),
                kind: spec.kind,
                base_currency: spec.base_currency.clone(),
                quote_currency: spec.quote_currency.clone(),
                contract_size: spec.contract_size,
                quantity: Decimal::ZERO,
                average_price: Decimal::ZERO,
                realized_pnl: Decimal::ZERO,
                updated_at: fill.time,
            };
            self.positions.insert(spec.symbol.clone(), fresh);
        }
        let Some(pos) = self.positions.get_mut(&spec.symbol) else {
            return Err(PaperError::UnknownInstrument(spec.symbol.clone()));
        };
        let held = pos.quantity;
        let delta = fill.quantity * fill.side.sign();
        let mut realized_quote = Decimal::ZERO;
        if held.is_zero() {
            pos.average_price = fill.price;
        } else if held.is_sign_positive() == delta.is_sign_positive() {
            let size = held.abs() + fill.quantity;
            pos.average_price = ((pos.average_price * held.abs() + fill.price * fill.quantity)
                / size)
                .round_dp(PRICE_DP);
        } else {
            let closed = held.abs().min(fill.quantity);
            // Long: gains when the price rose; short: when it fell.
            realized_quote =
                closed * (fill.price - pos.average_price) * sign_of(held) * pos.contract_size;
            let after = held + delta;
            if after.is_zero() {
                pos.average_price = Decimal::ZERO;
            } else if after.is_sign_positive() != held.is_sign_positive() {
                pos.average_price = fill.price; // The rest opens a new position.
            }
        }
        // A flat position is a plain zero, never a "-0" from the subtraction.
        let after = held + delta;
        pos.quantity = if after.is_zero() {
            Decimal::ZERO
        } else {
            after
        };
        pos.updated_at = fill.time;

        let mut realized = None;
        if !realized_quote.is_zero() {
            let currency = self.config.currency.clone();
            let quote_ccy = pos.quote_currency.clone();
            let base = pos.base_currency.clone();
            match convert(
                &currency,
                realized_quote,
                &quote_ccy,
                base.as_deref(),
                fill.price,
                rates,
            ) {
                Some(r) => {
                    let r = round_money(r, &currency);
                    pos.realized_pnl += r;
                    self.realized_pnl += r;
                    self.balance += r;
                    realized = Some(r);
                }
                None => *self.unconverted.entry(quote_ccy).or_default() += realized_quote,
            }
        } else {
            realized = Some(Decimal::ZERO);
        }
        let position = pos.quantity;
        self.fees += fee;
        self.balance -= fee;
        Ok(FillOutcome {
            realized_quote,
            realized,
            position,
        })
    }

    /// Returns the account's money and positions marked with `marks`, converted with
    /// `rates`; `day_start_equity` gives the day P&L.
    pub fn summary(
        &self,
        marks: &MarkLookup,
        rates: &RateLookup,
        day_start_equity: Option<Decimal>,
    ) -> AccountSummary {
        let ccy = &self.config.currency;
        let mut unrealized = Decimal::ZERO;
        let mut margin_used = Decimal::ZERO;
        let mut complete = self.unconverted.is_empty();
        let mut loose: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut positions = Vec::new();
        for p in self.open_positions() {
            let view = self.view(p, marks(&p.symbol).as_ref(), rates);
            match (view.pnl_status, view.unrealized_pnl_quote) {
                (PnlStatus::Converted, _) => unrealized += view.unrealized_pnl.unwrap_or_default(),
                (PnlStatus::Unconverted, Some(amount)) => {
                    *loose.entry(p.quote_currency.clone()).or_default() += amount
                }
                _ => {}
            }
            complete &= view.pnl_status == PnlStatus::Converted && view.margin.is_some();
            margin_used += view.margin.unwrap_or_default();
            positions.push(view);
        }
        let equity = self.balance + unrealized;
        let money = |m: &BTreeMap<String, Decimal>| {
            m.iter()
                .map(|(c, a)| Money {
                    currency: c.clone(),
                    amount: *a,
                })
                .collect()
        };
        AccountSummary {
            currency: ccy.clone(),
            starting_balance: self.config.starting_balance,
            balance: self.balance,
            realized_pnl: self.realized_pnl,
            fees: self.fees,
            unrealized_pnl: unrealized,
            equity,
            day_pnl: day_start_equity.map(|s| equity - s),
            margin_used,
            free_margin: equity - margin_used,
            positions,
            unconverted_realized: money(&self.unconverted),
            unconverted_unrealized: money(&loose),
            complete,
        }
    }

    /// Marks one position.
    fn view(&self, p: &Position, quote: Option<&Quote>, rates: &RateLookup) -> PositionView {
        let ccy = &self.config.currency;
        // A broken quote (crossed, zero, absurd) marks nothing: the position shows no quote.
        let mark = quote.filter(|q| q.is_sane()).map(|q| {
            if p.quantity.is_sign_positive() {
                q.bid
            } else {
                q.ask
            }
        });
        let upnl_quote = mark.map(|m| p.quantity * (m - p.average_price) * p.contract_size);
        let conv = |amount: Decimal, m: Decimal| {
            convert(
                ccy,
                amount,
                &p.quote_currency,
                p.base_currency.as_deref(),
                m,
                rates,
            )
            .map(|v| round_money(v, ccy))
        };
        let upnl = mark.zip(upnl_quote).and_then(|(m, u)| conv(u, m));
        let notional = mark.and_then(|m| conv(p.quantity.abs() * p.contract_size * m, m));
        let status = match (mark, upnl) {
            (None, _) => PnlStatus::NoQuote,
            (Some(_), None) => PnlStatus::Unconverted,
            (Some(_), Some(_)) => PnlStatus::Converted,
        };
        PositionView {
            symbol: p.symbol.clone(),
            quantity: p.quantity,
            average_price: p.average_price,
            mark_price: mark,
            quote_currency: p.quote_currency.clone(),
            unrealized_pnl_quote: upnl_quote,
            unrealized_pnl: upnl,
            pnl_status: status,
            realized_pnl: p.realized_pnl,
            notional,
            margin: notional.map(|n| round_money(n / self.leverage(p.kind), ccy)),
        }
    }

    /// Returns the leverage for instruments of `kind` (never below 1).
    pub fn leverage(&self, kind: InstrumentKind) -> Decimal {
        let l = match kind {
            InstrumentKind::Fx => self.config.fx_leverage,
            InstrumentKind::Stock => self.config.stock_leverage,
        };
        l.max(Decimal::ONE)
    }

    /// Estimates an order ticket: `quantity` of `spec` on `side` at `price` (see
    /// [`OrderEstimate::price`]).
    pub fn estimate(
        &self,
        spec: &InstrumentSpec,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        rates: &RateLookup,
    ) -> Result<OrderEstimate, PaperError> {
        if quantity <= Decimal::ZERO || quantity > MAX_QUANTITY {
            return Err(PaperError::invalid(
                "quantity",
                FieldCode::OutOfRange,
                "the quantity must be above 0",
            ));
        }
        if price <= Decimal::ZERO || price > MAX_PRICE {
            return Err(PaperError::invalid(
                "price",
                FieldCode::OutOfRange,
                "the price must be above 0",
            ));
        }
        let ccy = &self.config.currency;
        let notional_quote = quantity * spec.contract_size * price;
        let notional = convert(
            ccy,
            notional_quote,
            &spec.quote_currency,
            spec.base_currency.as_deref(),
            price,
            rates,
        )
        .map(|n| round_money(n, ccy));
        let leverage = self.leverage(spec.kind);
        Ok(OrderEstimate {
            symbol: spec.symbol.clone(),
            side,
            quantity,
            price,
            quote_currency: spec.quote_currency.clone(),
            notional_quote,
            currency: ccy.clone(),
            notional,
            margin: notional.map(|n| round_money(n / leverage, ccy)),
            leverage,
            status: if notional.is_some() {
                PnlStatus::Converted
            } else {
                PnlStatus::Unconverted
            },
        })
    }
}

mod money;

use money::sign_of;
pub use money::{convert, round_money};

#[cfg(test)]
mod tests;
