//! Pre-trade checks: every order, paper and live, before its intent is stored.
//!
//! [`check`] is pure and allocation-light (its benchmark is `cargo bench -p brokerdesk-core
//! --bench risk`): the runtime gathers the account, its money and budgets, the order's price
//! and notional, and asks. A refusal is an [`ApiError`] with its own `risk_*` code and a
//! message naming the limit, its value and the order's figure.

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use super::budget::Assessment;
use crate::accounts::model::{AccountStatus, PropFirmRules, RiskLimits, TradingHours};
use crate::brokers::OrderSide;
use crate::error::{ApiError, Code};
use crate::money::Decimal;

/// An open position as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    pub symbol: String,
    /// Positive long, negative short.
    pub quantity: Decimal,
    /// At the mark, in the account currency (`None`: no fresh quote to value it).
    pub notional: Option<Decimal>,
}

/// Everything one check needs.
#[derive(Debug, Clone, Copy)]
pub struct Order<'a> {
    pub symbol: &'a str,
    pub side: OrderSide,
    /// Positive.
    pub quantity: Decimal,
    /// The price it would fill near (the quote's side, or its limit / stop price).
    pub price: Option<Decimal>,
    pub stop_loss: Option<Decimal>,
    /// The whole order's value in the account currency, at `price`.
    pub notional: Option<Decimal>,
}

/// The account side of a check.
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    pub name: &'a str,
    pub status: AccountStatus,
    pub rules: &'a PropFirmRules,
    pub limits: &'a RiskLimits,
    pub hours: Option<&'a TradingHours>,
    pub weekend_trading: bool,
    /// The zone weekends are judged in when there are no trading hours (the reset's).
    pub zone: Tz,
    pub equity: Option<Decimal>,
    pub positions: &'a [Exposure],
    pub budgets: Option<&'a Assessment>,
}

fn refuse(code: Code, message: String) -> Result<(), ApiError> {
    Err(ApiError::new(code, message))
}

fn pct(x: Decimal) -> Decimal {
    x.round_dp(2).normalize()
}

/// Whether `order` only reduces the account's position in its symbol.
pub fn reduces(order: &Order<'_>, positions: &[Exposure]) -> bool {
    let held = positions
        .iter()
        .find(|p| p.symbol == order.symbol)
        .map_or(Decimal::ZERO, |p| p.quantity);
    match order.side {
        OrderSide::Buy => held < Decimal::ZERO && order.quantity <= -held,
        OrderSide::Sell => held > Decimal::ZERO && order.quantity <= held,
    }
}

/// Checks an order against the account's status, rules and limits at `now`.
pub fn check(a: &Account<'_>, o: &Order<'_>, now: DateTime<Utc>) -> Result<(), ApiError> {
    let name = a.name;
    if a.status == AccountStatus::Terminated {
        return refuse(
            Code::RiskAccountTerminated,
            format!("{name} is terminated: no orders at all"),
        );
    }
    // Reducing a position is always allowed (short of termination): it only lowers risk.
    if reduces(o, a.positions) {
        return Ok(());
    }
    match a.status {
        AccountStatus::Suspended => {
            return refuse(
                Code::RiskAccountSuspended,
                format!(
                    "{name} is suspended: no new positions (orders that reduce one are allowed)"
                ),
            )
        }
        AccountStatus::InDrawdown => {
            return refuse(
                Code::RiskCloseOnly,
                format!("{name} is in drawdown: close-only until the next reset"),
            )
        }
        AccountStatus::Active | AccountStatus::Terminated => {}
    }
    let l = a.limits;
    if !l.allowed_instruments.is_empty()
        && !l
            .allowed_instruments
            .iter()
            .any(|i| i.eq_ignore_ascii_case(o.symbol))
    {
        return refuse(
            Code::RiskInstrumentNotAllowed,
            format!(
                "{} is not among {name}'s allowed instruments ({})",
                o.symbol,
                l.allowed_instruments.join(", ")
            ),
        );
    }
    if let Some(max) = l.max_qty {
        if o.quantity > max {
            return refuse(
                Code::RiskMaxQty,
                format!(
                    "max quantity is {}; this order is {}",
                    max.normalize(),
                    o.quantity.normalize()
                ),
            );
        }
    }
    check_clock(a, now)?;
    if l.require_stop_loss && o.stop_loss.is_none() {
        return refuse(
            Code::RiskStopLossRequired,
            format!("{name} requires a stop-loss on every order that opens or adds to a position"),
        );
    }

    // Everything below is measured on equity: it must be known, and so must every open
    // position's value (stale quotes never count as safe).
    let budgets = a.budgets;
    let needs_equity = l.max_position_size_pct.is_some()
        || l.max_leverage.is_some()
        || l.max_risk_per_trade_pct.is_some()
        || budgets.is_some_and(|b| b.daily.is_some() || b.total.is_some());
    if !needs_equity {
        return check_count(a, o);
    }
    if let Some(p) = a.positions.iter().find(|p| p.notional.is_none()) {
        return refuse(
            Code::RiskNoQuote,
            format!(
                "no fresh quote for the open {} position: {name}'s losses cannot be measured, so no new risk",
                p.symbol
            ),
        );
    }
    let (Some(equity), Some(notional), Some(price)) = (a.equity, o.notional, o.price) else {
        return refuse(
            Code::RiskNoQuote,
            format!(
                "no fresh quote for {}: the order's risk cannot be measured",
                o.symbol
            ),
        );
    };
    if let Some(b) = budgets {
        if let Some(t) = &b.total {
            if equity <= t.trigger {
                return refuse(
                    Code::RiskTotalLoss,
                    format!(
                        "the maximum loss budget is used: {} lost of {} (equity {})",
                        t.used.round_dp(2),
                        t.limit.round_dp(2),
                        equity.round_dp(2)
                    ),
                );
            }
        }
        if let Some(d) = &b.daily {
            if equity <= d.trigger {
                return refuse(
                    Code::RiskDailyLoss,
                    format!(
                        "today's loss budget is used: {} lost of {} (equity {})",
                        d.used.round_dp(2),
                        d.limit.round_dp(2),
                        equity.round_dp(2)
                    ),
                );
            }
        }
    }
    if equity <= Decimal::ZERO {
        return refuse(
            Code::RiskLeverage,
            format!("{name}'s equity is {}: no new risk", equity.round_dp(2)),
        );
    }
    check_count(a, o)?;
    let held = a.positions.iter().find(|p| p.symbol == o.symbol);
    let signed = match o.side {
        OrderSide::Buy => o.quantity,
        OrderSide::Sell => -o.quantity,
    };
    let after_qty = held.map_or(Decimal::ZERO, |p| p.quantity) + signed;
    // The value of the position after the order, at the order's price.
    let per_unit = notional / o.quantity;
    let after = (after_qty * per_unit).abs();
    if let Some(max) = l.max_position_size_pct {
        let size = after / equity * Decimal::ONE_HUNDRED;
        if size > max {
            return refuse(
                Code::RiskPositionSize,
                format!(
                    "max position size is {}% of equity; {} would be {}% ({} of {})",
                    pct(max),
                    o.symbol,
                    pct(size),
                    after.round_dp(2),
                    equity.round_dp(2)
                ),
            );
        }
    }
    if let Some(max) = l.max_leverage {
        let others: Decimal = a
            .positions
            .iter()
            .filter(|p| p.symbol != o.symbol)
            .filter_map(|p| p.notional)
            .map(|n| n.abs())
            .sum();
        let lev = (others + after) / equity;
        if lev > max {
            return refuse(
                Code::RiskLeverage,
                format!(
                    "max leverage is {}:1; after this order it would be {}:1 ({} of positions on {} equity)",
                    max.normalize(),
                    lev.round_dp(2).normalize(),
                    (others + after).round_dp(2),
                    equity.round_dp(2)
                ),
            );
        }
    }
    if let Some(max) = l.max_risk_per_trade_pct {
        let Some(stop) = o.stop_loss else {
            return refuse(
                Code::RiskStopLossRequired,
                format!("{name} limits the risk per trade to {}% of equity: set a stop-loss to measure it", pct(max)),
            );
        };
        if price.is_zero() {
            return refuse(Code::RiskNoQuote, format!("no price for {}", o.symbol));
        }
        let risk = notional * (price - stop).abs() / price;
        let share = risk / equity * Decimal::ONE_HUNDRED;
        if share > max {
            return refuse(
                Code::RiskPerTrade,
                format!(
                    "max risk per trade is {}% of equity; entry to stop-loss risks {} ({}%)",
                    pct(max),
                    risk.round_dp(2),
                    pct(share)
                ),
            );
        }
    }
    Ok(())
}

fn check_count(a: &Account<'_>, o: &Order<'_>) -> Result<(), ApiError> {
    let Some(max) = a.limits.max_open_positions else {
        return Ok(());
    };
    let open = a.positions.iter().filter(|p| !p.quantity.is_zero());
    let new = !a
        .positions
        .iter()
        .any(|p| p.symbol == o.symbol && !p.quantity.is_zero());
    let n = open.count();
    if new && n + 1 > max as usize {
        return refuse(
            Code::RiskMaxPositions,
            format!(
                "max open positions is {max}; {} already open, {} would be one more",
                n, o.symbol
            ),
        );
    }
    Ok(())
}

fn check_clock(a: &Account<'_>, now: DateTime<Utc>) -> Result<(), ApiError> {
    let (zone, window) = match a.hours {
        Some(h) => match h.timezone.parse::<Tz>() {
            Ok(z) => (z, Some(h)),
            Err(_) => (a.zone, None),
        },
        None => (a.zone, None),
    };
    let local = now.with_timezone(&zone);
    if !a.weekend_trading && matches!(local.weekday(), Weekday::Sat | Weekday::Sun) {
        return refuse(
            Code::RiskWeekend,
            format!(
                "{} does not trade at weekends (it is {} {} in {zone})",
                a.name,
                local.weekday(),
                local.format("%H:%M")
            ),
        );
    }
    if let Some(h) = window {
        let parse = crate::accounts::validate::parse_hhmm;
        if let (Some(start), Some(end)) = (parse(&h.start), parse(&h.end)) {
            let m = (local.hour() * 60 + local.minute()) as u16;
            let inside = if start < end {
                m >= start && m < end
            } else {
                m >= start || m < end
            };
            if !inside {
                return refuse(
                    Code::RiskTradingHours,
                    format!(
                        "{} trades {}–{} {}; it is {} there",
                        a.name,
                        h.start,
                        h.end,
                        h.timezone,
                        local.format("%H:%M")
                    ),
                );
            }
        }
    }
    Ok(())
}
