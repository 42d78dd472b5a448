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
    /// What may still be lost before Brokerdesk acts: equity − trigger (never below 0; a
    /// day in profit may lose its profit and the whole limit).
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
        remaining: (equity - (reference - act_at)).max(Decimal::ZERO),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::catalog::prop_firm_preset;
    use crate::accounts::model::{AccountStatus, PropFirmPreset};
    use crate::accounts::validate::fill_preset;
    use crate::error::Code;
    use rust_decimal_macros::dec;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn preset(p: PropFirmPreset, initial: Decimal) -> PropFirmRules {
        let mut r = PropFirmRules {
            preset: p,
            initial_balance: Some(initial),
            ..PropFirmRules::default()
        };
        fill_preset(&mut r);
        assert_eq!(r.preset, p, "the preset's numbers were filled in");
        r
    }

    /// Rolls and assesses at `now` with `balance` and `equity`.
    fn at(
        rules: &PropFirmRules,
        s: Option<LossState>,
        now: &str,
        balance: Decimal,
        equity: Decimal,
    ) -> (LossState, Assessment) {
        let clock = ResetClock::parse(&rules.reset_time, &rules.reset_timezone).unwrap();
        let (s, _) = LossState::roll(s, rules, &clock, balance, equity, utc(now));
        assess("FTMO", rules, s, equity)
    }

    /// FTMO's own example (academy.ftmo.com/lesson/maximum-daily-loss): a 200,000 account
    /// (limit 10,000) closes +4,000 on Monday, so 14,000 may still be lost that day; a trade
    /// at a 13,000 floating loss is inside Monday's limit until 23:59, but at midnight CE(S)T
    /// the limit resets from Monday's closing balance (204,000 − 10,000 = 194,000) and the
    /// same 13,000 loss (equity 191,000) breaches.
    #[test]
    fn ftmo_2_step_the_firms_example() {
        let r = preset(PropFirmPreset::Ftmo, dec!(200000));
        assert_eq!(r.reset_timezone, "Europe/Prague");
        // Monday 10:00 Prague (winter, UTC+1): first seen at 200,000.
        let (s, a) = at(&r, None, "2026-03-02T09:00:00Z", dec!(200000), dec!(200000));
        let d = a.daily.unwrap();
        assert_eq!((d.limit, d.floor), (dec!(10000), dec!(190000)));
        assert_eq!(a.total.as_ref().unwrap().floor, dec!(180000));
        // +4,000 closed: 14,000 may still be lost today.
        let (s, a) = at(
            &r,
            Some(s),
            "2026-03-02T14:00:00Z",
            dec!(204000),
            dec!(204000),
        );
        assert_eq!(a.daily.unwrap().remaining, dec!(14000));
        // Monday 23:30 Prague (22:30 UTC): 13,000 floating loss, equity 191,000: inside.
        let (s, a) = at(
            &r,
            Some(s),
            "2026-03-02T22:30:00Z",
            dec!(204000),
            dec!(191000),
        );
        assert!(a.breach.is_none(), "{:?}", a.breach);
        assert_eq!(a.daily.as_ref().unwrap().floor, dec!(190000));
        // Tuesday 00:00:01 Prague: the floor is 194,000 and the same equity breaches.
        let (s, a) = at(
            &r,
            Some(s),
            "2026-03-02T23:00:01Z",
            dec!(204000),
            dec!(191000),
        );
        let d = a.daily.clone().unwrap();
        assert_eq!(
            (d.reference, d.floor, d.used),
            (dec!(204000), dec!(194000), dec!(13000))
        );
        let b = a.breach.unwrap();
        assert_eq!(
            (b.to, b.code),
            (AccountStatus::Terminated, Code::RiskDailyLoss)
        );
        // The maximum loss is static: 180,000 whatever the balance did.
        assert_eq!(a.total.unwrap().floor, dec!(180000));
        assert_eq!(s.highest_eod_balance, dec!(204000));
    }

    #[test]
    fn ftmo_1_step_trails_the_highest_end_of_day_balance_and_never_decreases() {
        let r = preset(PropFirmPreset::Ftmo1Step, dec!(100000));
        let (s, a) = at(&r, None, "2026-03-02T09:00:00Z", dec!(100000), dec!(100000));
        assert_eq!(a.total.unwrap().floor, dec!(90000));
        // Day 2 starts at 104,000 → floor 94,000 (FTMO's example).
        let (s, a) = at(
            &r,
            Some(s),
            "2026-03-03T09:00:00Z",
            dec!(104000),
            dec!(104000),
        );
        assert_eq!(a.total.unwrap().floor, dec!(94000));
        // Day 3 starts at 103,000: the floor stays 94,000.
        let (s, a) = at(
            &r,
            Some(s),
            "2026-03-04T09:00:00Z",
            dec!(103000),
            dec!(103000),
        );
        assert_eq!(a.total.as_ref().unwrap().floor, dec!(94000));
        // 1-Step's daily limit is 3% of the initial balance below the day's start.
        assert_eq!(a.daily.unwrap().floor, dec!(100000));
        let (_, a) = at(
            &r,
            Some(s),
            "2026-03-04T12:00:00Z",
            dec!(103000),
            dec!(93999),
        );
        assert_eq!(a.breach.unwrap().code, Code::RiskTotalLoss);
    }

    #[test]
    fn fundednext_resets_at_server_midnight_and_the5ers_uses_the_higher_start() {
        let r = preset(PropFirmPreset::FundedNext, dec!(50000));
        // Summer: server time GMT+3, midnight = 21:00 UTC.
        let (s, _) = at(&r, None, "2026-07-01T20:59:00Z", dec!(50000), dec!(50000));
        let (s, a) = at(
            &r,
            Some(s),
            "2026-07-01T21:00:00Z",
            dec!(51000),
            dec!(51000),
        );
        assert_eq!(s.day_start, utc("2026-07-01T21:00:00Z"));
        assert_eq!(a.daily.unwrap().floor, dec!(48500)); // 51,000 − 5% of 50,000
        let r1 = preset(PropFirmPreset::FundedNext1Step, dec!(50000));
        let (_, a) = at(&r1, None, "2026-01-10T12:00:00Z", dec!(50000), dec!(50000));
        assert_eq!(
            (a.daily.unwrap().limit, a.total.unwrap().floor),
            (dec!(1500), dec!(47000))
        );

        let r = preset(PropFirmPreset::The5ers, dec!(100000));
        assert_eq!(
            (r.reset_time.as_str(), r.reset_timezone.as_str()),
            ("17:00", "America/New_York")
        );
        let (s, _) = at(&r, None, "2026-05-04T15:00:00Z", dec!(100000), dec!(100000));
        // The day rolls at 17:00 New York (21:00 UTC in May) with equity above the balance.
        let (_, a) = at(
            &r,
            Some(s),
            "2026-05-04T21:00:00Z",
            dec!(100000),
            dec!(102000),
        );
        let d = a.daily.unwrap();
        assert_eq!(
            (d.reference, d.limit, d.floor),
            (dec!(102000), dec!(5100), dec!(96900))
        );
    }

    #[test]
    fn the_safety_buffer_acts_first_and_softly_and_warnings_come_once() {
        let mut r = preset(PropFirmPreset::Ftmo, dec!(100000));
        r.safety_buffer_pct = Some(dec!(90));
        let (s, _) = at(&r, None, "2026-03-02T09:00:00Z", dec!(100000), dec!(100000));
        // 80% of the daily budget: one warning (50 and 80 crossed at once: the higher told).
        let (s, a) = at(
            &r,
            Some(s),
            "2026-03-02T10:00:00Z",
            dec!(100000),
            dec!(96000),
        );
        assert_eq!(a.warnings.len(), 1);
        assert!(
            a.warnings[0].1.contains("80% of today's loss budget"),
            "{:?}",
            a.warnings
        );
        let (s, a) = at(
            &r,
            Some(s),
            "2026-03-02T10:01:00Z",
            dec!(100000),
            dec!(96000),
        );
        assert!(a.warnings.is_empty(), "told once");
        // 90%: Brokerdesk acts before the firm's limit: in drawdown, not terminated.
        let (s, a) = at(
            &r,
            Some(s),
            "2026-03-02T10:02:00Z",
            dec!(100000),
            dec!(95500),
        );
        assert_eq!(a.breach.unwrap().to, AccountStatus::InDrawdown);
        // A new day forgets the day's warnings.
        let (s, _) = at(
            &r,
            Some(s),
            "2026-03-03T09:00:00Z",
            dec!(100000),
            dec!(100000),
        );
        assert!(s.warned.iter().all(|w| !w.starts_with("daily:")));
        // The total budget's buffer suspends (9,000 of 10,000 lost).
        let (_, a) = at(
            &r,
            Some(s),
            "2026-03-03T10:00:00Z",
            dec!(100000),
            dec!(91000),
        );
        assert_eq!(a.breach.unwrap().to, AccountStatus::Suspended);
    }

    #[test]
    fn presets_match_the_catalog() {
        for p in [
            PropFirmPreset::Ftmo,
            PropFirmPreset::Ftmo1Step,
            PropFirmPreset::FundedNext,
            PropFirmPreset::FundedNext1Step,
            PropFirmPreset::The5ers,
        ] {
            let info = prop_firm_preset(p);
            assert!(
                info.source
                    .as_deref()
                    .is_some_and(|s| s.starts_with("https://")),
                "{p}"
            );
            let r = preset(p, dec!(100000));
            assert!(crate::accounts::validate::matches_preset(&r, &info), "{p}");
        }
    }
}
