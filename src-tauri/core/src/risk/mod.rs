//! Risk: pre-trade checks on every order, loss budgets on the firm's clock, the account
//! status machine, and what the kill switch and a breach do (the runtime carries them out:
//! `runtime::risk`).
//!
//! - [`clock`]: when a firm's trading day starts (time zones, DST).
//! - [`budget`]: the daily and total loss budgets, measured on equity; breaches and warnings.
//! - [`check`]: the pre-trade checks, each refusal with its own `risk_*` code.
//! - [`status`]: which status changes are allowed and which need a step-up.
//! - [`loosens`]: whether a configuration change loosens protection (a step-up then).
//!
//! The firms' rules are in `accounts::catalog::prop_firm_presets`, each with its source.

pub mod budget;
pub mod check;
pub mod clock;
pub mod status;
pub mod store;

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use crate::accounts::model::{AccountInput, AccountStatus, PropFirmPreset, TradingMode};
use crate::money::Decimal;

pub use budget::{assess, Assessment, Breach, Budget, LossState};
pub use clock::ResetClock;

/// An account's risk as a trader reads it: the budgets in money and percent, the firm's
/// clock, and what cannot be measured (`risk show`, the dashboard's gauges).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RiskReport {
    pub account_id: String,
    pub name: String,
    pub status: AccountStatus,
    pub mode: TradingMode,
    pub preset: PropFirmPreset,
    pub currency: String,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub balance: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub equity: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub initial_balance: Option<Decimal>,
    /// `configured`, or `first_seen` (no initial balance set: the first balance seen).
    pub initial_balance_source: String,
    pub daily: Option<Budget>,
    pub total: Option<Budget>,
    #[ts(type = "string | null")]
    pub day_started_at: Option<DateTime<Utc>>,
    #[ts(type = "string | null")]
    pub next_reset_at: Option<DateTime<Utc>>,
    pub reset_timezone: String,
    /// Why the budgets could not be measured now (no money figures, no fresh quote), if so.
    pub unmeasured: Option<String>,
    #[ts(type = "string")]
    pub at: DateTime<Utc>,
}

/// What a configuration change loosens: the names of the protections it weakens (empty when
/// it only tightens or leaves them). Loosening needs a step-up.
/// `rules` is the new rule set as it will be stored (a preset's numbers filled in).
pub fn loosens(
    before: &crate::accounts::model::Account,
    after: &AccountInput,
    rules: &crate::accounts::model::PropFirmRules,
) -> Vec<&'static str> {
    fn looser(before: Option<Decimal>, after: Option<Decimal>) -> bool {
        match (before, after) {
            (Some(_), None) => true,
            (Some(b), Some(a)) => a > b,
            _ => false,
        }
    }
    let (b, a) = (&before.prop_firm, rules);
    let (bl, al) = (&before.risk, &after.risk);
    let mut out = Vec::new();
    if looser(b.max_daily_loss_pct, a.max_daily_loss_pct) {
        out.push("max daily loss");
    }
    if looser(b.max_total_loss_pct, a.max_total_loss_pct) {
        out.push("max total loss");
    }
    if b.daily_base != a.daily_base
        || b.reset_time != a.reset_time
        || b.reset_timezone != a.reset_timezone
        || b.max_loss_mode != a.max_loss_mode
    {
        // A different clock or base can move a limit either way: treated as loosening.
        if b.max_daily_loss_pct.is_some() || b.max_total_loss_pct.is_some() {
            out.push("the loss rules' clock or base");
        }
    }
    // A larger initial balance raises every budget; setting one where the first balance
    // seen was used can too.
    let rules_set = a.max_daily_loss_pct.is_some() || a.max_total_loss_pct.is_some();
    if looser(b.initial_balance, a.initial_balance)
        || (rules_set && b.initial_balance.is_none() && a.initial_balance.is_some())
    {
        out.push("initial balance");
    }
    if b.daily_breach == crate::accounts::model::BreachAction::Terminate
        && a.daily_breach != b.daily_breach
    {
        out.push("daily breach action");
    }
    if looser(b.safety_buffer_pct, a.safety_buffer_pct) {
        out.push("safety buffer");
    }
    if b.close_on_breach && !a.close_on_breach {
        out.push("close positions on breach");
    }
    if looser(bl.max_position_size_pct, al.max_position_size_pct) {
        out.push("max position size");
    }
    if looser(
        bl.max_open_positions.map(Decimal::from),
        al.max_open_positions.map(Decimal::from),
    ) {
        out.push("max open positions");
    }
    if looser(bl.max_qty, al.max_qty) {
        out.push("max quantity");
    }
    if looser(bl.max_leverage, al.max_leverage) {
        out.push("max leverage");
    }
    if looser(bl.max_risk_per_trade_pct, al.max_risk_per_trade_pct) {
        out.push("max risk per trade");
    }
    if bl.require_stop_loss && !al.require_stop_loss {
        out.push("stop-loss required");
    }
    let widened = !bl.allowed_instruments.is_empty()
        && (al.allowed_instruments.is_empty()
            || al.allowed_instruments.iter().any(|i| {
                !bl.allowed_instruments
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(i))
            }));
    if widened {
        out.push("allowed instruments");
    }
    if !before.weekend_trading && after.weekend_trading {
        out.push("weekend trading");
    }
    match (&before.trading_hours, &after.trading_hours) {
        (Some(_), None) => out.push("trading hours"),
        (Some(h1), Some(h2)) if h1 != h2 => out.push("trading hours"),
        _ => {}
    }
    out
}
