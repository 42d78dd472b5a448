//! Loss budgets, measured on equity on the firm's clock.
//!
//! [`LossState`] is what must survive a restart: the firm day the account is in, the levels
//! that day started from, the highest end-of-day balance and the floor a trailing maximum
//! loss has reached. [`LossState::roll`] moves it to the day that contains `now`;
//! [`assess`] turns it and the account's equity into the two budgets and what, if anything,
//! was breached. Both are pure: the runtime feeds them, the tests script them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use super::clock::ResetClock;
use crate::accounts::model::{BreachAction, DailyBase, MaxLossMode, PropFirmRules};
use crate::money::Decimal;

/// An account's loss-tracking state (stored in `risk_state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LossState {
    /// The balance the percentages refer to: the configured one, or the first balance seen.
    pub initial_balance: Decimal,
    pub day_start: DateTime<Utc>,
    pub day_start_balance: Decimal,
    pub day_start_equity: Decimal,
    pub highest_eod_balance: Decimal,
    /// The trailing maximum loss's floor so far (it never decreases).
    pub total_floor: Option<Decimal>,
    /// Warnings already given: `daily:80` (cleared at each reset), `total:50`.
    pub warned: Vec<String>,
}

/// What a roll did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rolled {
    /// The first time this account was seen.
    Started,
    /// A reset passed since the state was last rolled.
    NewDay,
    Same,
}

impl LossState {
    /// Rolls the state to the firm day containing `now` (a new day starts from the balance
    /// and equity seen now — the runtime rolls at every quote and at each reset, so that is
    /// the balance at the reset), or starts it.
    pub fn roll(
        prev: Option<LossState>,
        rules: &PropFirmRules,
        clock: &ResetClock,
        balance: Decimal,
        equity: Decimal,
        now: DateTime<Utc>,
    ) -> (LossState, Rolled) {
        let day_start = clock.day_start(now);
        let Some(mut s) = prev else {
            let initial = rules.initial_balance.unwrap_or(balance);
            return (
                LossState {
                    initial_balance: initial,
                    day_start,
                    day_start_balance: balance,
                    day_start_equity: equity,
                    highest_eod_balance: initial,
                    total_floor: None,
                    warned: Vec::new(),
                },
                Rolled::Started,
            );
        };
        if let Some(configured) = rules.initial_balance {
            s.initial_balance = configured;
        }
        if s.day_start >= day_start {
            return (s, Rolled::Same);
        }
        s.highest_eod_balance = s.highest_eod_balance.max(balance);
        s.day_start = day_start;
        s.day_start_balance = balance;
        s.day_start_equity = equity;
        s.warned.retain(|w| !w.starts_with("daily:"));
        (s, Rolled::NewDay)
    }
}

/// One loss budget as a trader reads it: how much may be lost, how much is, what is left,
/// and the equity levels at which the firm's limit and Brokerdesk's action lie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Budget {
    /// The loss allowed, in the account currency.
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub limit: Decimal,
    /// The loss so far (0 when in profit).
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub used: Decimal,
    /// What may still be lost before Brokerdesk acts (never below 0).
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub remaining: Decimal,
    /// `used` as a percentage of `limit`, two decimals.
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub used_pct: Decimal,
    /// The level the loss is measured from (the day's start, or the top for the total).
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub reference: Decimal,
    /// The firm's equity floor.
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub floor: Decimal,
    /// The equity at which Brokerdesk acts (the floor, or before it with a safety buffer).
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub trigger: Decimal,
}

/// What a breach does to the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub to: crate::accounts::model::AccountStatus,
    /// `risk_daily_loss` or `risk_total_loss`.
    pub code: crate::error::Code,
    pub reason: String,
}

/// The budgets of an account now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub daily: Option<Budget>,
    pub total: Option<Budget>,
    pub breach: Option<Breach>,
    /// Warning levels newly crossed (`daily:80`), with their notification text.
    pub warnings: Vec<(String, String)>,
}

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

fn budget(limit: Decimal, reference: Decimal, equity: Decimal, buffer: Decimal) -> Budget {
    let used = (reference - equity).max(Decimal::ZERO);
    let act_at = limit * buffer / HUNDRED;
    let used_pct = if limit.is_zero() {
        Decimal::ZERO
    } else {
        (used / limit * HUNDRED).round_dp(2)
    };
    Budget {
        limit,
        used,
        remaining: (act_at - used).max(Decimal::ZERO),
        used_pct,
        reference,
        floor: reference - limit,
        trigger: reference - act_at,
    }
}

/// The budgets for `equity` under `rules` (after [`LossState::roll`], which may move the
/// trailing floor, so the state comes back too). `name` names the account in messages.
pub fn assess(
    name: &str,
    rules: &PropFirmRules,
    mut state: LossState,
    equity: Decimal,
) -> (LossState, Assessment) {
    use crate::accounts::model::AccountStatus;
    use crate::error::Code;
    let buffer = rules
        .safety_buffer_pct
        .filter(|b| *b > Decimal::ZERO && *b <= HUNDRED)
        .unwrap_or(HUNDRED);
    let initial = state.initial_balance;
    let daily = rules.max_daily_loss_pct.map(|pct| {
        let (of, reference) = match rules.daily_base {
            DailyBase::InitialBalance => (initial, state.day_start_balance),
            DailyBase::PreviousDayBalance => (state.day_start_balance, state.day_start_balance),
            DailyBase::HigherOfEquityAndBalance => {
                let h = state.day_start_balance.max(state.day_start_equity);
                (h, h)
            }
        };
        budget(of * pct / HUNDRED, reference, equity, buffer)
    });
    let total = rules.max_total_loss_pct.map(|pct| {
        let amount = initial * pct / HUNDRED;
        let floor = match rules.max_loss_mode {
            MaxLossMode::Static => initial - amount,
            MaxLossMode::Trailing => {
                let f = state.highest_eod_balance.max(initial) - amount;
                state.total_floor.map_or(f, |prev| prev.max(f))
            }
            MaxLossMode::TrailingThenLocked => {
                let f = (state.highest_eod_balance.max(initial) - amount).min(initial);
                state.total_floor.map_or(f, |prev| prev.max(f))
            }
        };
        if rules.max_loss_mode != MaxLossMode::Static {
            state.total_floor = Some(floor);
        }
        budget(amount, floor + amount, equity, buffer)
    });

    let mut breach = None;
    if let Some(t) = &total {
        if equity <= t.floor {
            breach = Some(Breach {
                to: AccountStatus::Terminated,
                code: Code::RiskTotalLoss,
                reason: format!(
                    "maximum loss reached: equity {} at or below the floor {} ({}% of {})",
                    equity.round_dp(2),
                    t.floor.round_dp(2),
                    rules.max_total_loss_pct.unwrap_or_default(),
                    initial.round_dp(2)
                ),
            });
        } else if equity <= t.trigger {
            breach = Some(Breach {
                to: AccountStatus::Suspended,
                code: Code::RiskTotalLoss,
                reason: format!(
                    "safety buffer: {}% of the maximum loss used (equity {}, Brokerdesk acts at {})",
                    t.used_pct,
                    equity.round_dp(2),
                    t.trigger.round_dp(2)
                ),
            });
        }
    }
    if breach.is_none() {
        if let Some(d) = &daily {
            let at_limit = equity <= d.floor;
            if at_limit || equity <= d.trigger {
                let to = if at_limit && rules.daily_breach == BreachAction::Terminate {
                    AccountStatus::Terminated
                } else {
                    AccountStatus::InDrawdown
                };
                breach = Some(Breach {
                    to,
                    code: Code::RiskDailyLoss,
                    reason: format!(
                        "daily loss {}: {} lost today of {} allowed (equity {}, floor {})",
                        if at_limit {
                            "limit reached"
                        } else {
                            "safety buffer reached"
                        },
                        d.used.round_dp(2),
                        d.limit.round_dp(2),
                        equity.round_dp(2),
                        d.floor.round_dp(2)
                    ),
                });
            }
        }
    }

    let mut warnings = Vec::new();
    for (kind, b, what) in [
        ("daily", &daily, "today's loss budget"),
        ("total", &total, "the maximum loss budget"),
    ] {
        let Some(b) = b else { continue };
        // The highest level crossed and not yet told (lower ones are implied).
        let crossed: Vec<u8> = rules
            .warn_levels
            .iter()
            .copied()
            .filter(|l| b.used_pct >= Decimal::from(*l))
            .filter(|l| !state.warned.contains(&format!("{kind}:{l}")))
            .collect();
        if let Some(top) = crossed.iter().max() {
            for l in &crossed {
                state.warned.push(format!("{kind}:{l}"));
            }
            warnings.push((
                format!("{kind}:{top}"),
                format!(
                    "{name}: {top}% of {what} used ({} of {})",
                    b.used.round_dp(2),
                    b.limit.round_dp(2)
                ),
            ));
        }
    }
    (
        state,
        Assessment {
            daily,
            total,
            breach,
            warnings,
        },
    )
}
