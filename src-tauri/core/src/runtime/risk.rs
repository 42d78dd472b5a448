//! The risk runtime: the pre-trade gate every order passes before its intent is stored, the
//! watcher that measures every account with loss rules (paper: its desk, every 250 ms; live:
//! the broker's report, every 3 s), moves the status on a breach or a reset, warns at the
//! account's levels and closes what the account asked to close — and the kill switch.
//!
//! The arithmetic is `crate::risk` (pure); this module gathers its inputs and acts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use super::events::Notice;
use super::trading::AccountMoney;
use super::{Runtime, RuntimeEvent, UiEvent};
use crate::accounts::model::{Account, AccountStatus, BrokerKind, TradingMode};
use crate::audit::AuditEvent;
use crate::brokers::OrderSide;
use crate::error::{ApiError, Code};
use crate::money::Decimal;
use crate::risk::budget::Rolled;
use crate::risk::check::{self, Exposure};
use crate::risk::{self as rules, Assessment, LossState, ResetClock, RiskReport};
use crate::trading::model::{Order, OrderStatus};
use crate::trading::{OrderDraft, OrderIntent, TimeInForce};

/// How the reasons of the daily budget's breaches start (`risk::budget`): a drawdown with
/// such a reason was set by the rule.
const RULE_DRAWDOWN: &str = "daily loss ";

/// How often the watcher measures paper accounts (in memory); live ones are read from their
/// broker every [`LIVE_EVERY`].
pub const WATCH_EVERY: Duration = Duration::from_millis(250);
/// Two requests (the account, its positions) per live account each time: every 3 s stays
/// well inside the strictest broker's budget (Alpaca: 200 requests a minute, shared with
/// orders and lookups).
pub const LIVE_EVERY: Duration = Duration::from_secs(3);

/// The risk runtime's memory: each account's loss state (also stored), and which accounts
/// are being acted on (so a breach is acted on once).
#[derive(Default)]
pub(super) struct RiskMemory {
    states: std::sync::Mutex<HashMap<String, LossState>>,
    acting: std::sync::Mutex<HashSet<String>>,
    last_live: std::sync::Mutex<HashMap<String, Instant>>,
    /// What the window was last told per account (told again only when it changed).
    told: std::sync::Mutex<HashMap<String, RiskReport>>,
}

/// An account's money and open positions as the checks see them.
pub(super) struct Inputs {
    pub money: AccountMoney,
    pub exposures: Vec<Exposure>,
}

/// What the kill switch did to one order.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct KillOrder {
    pub order_id: String,
    pub symbol: String,
    /// `cancelled`, `filled` (it filled before the cancel landed), `failed` (see `detail`;
    /// the order is in Needs review), or the status it ended in.
    pub outcome: String,
    pub detail: Option<String>,
}

/// What the kill switch did to one live position.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct KillPosition {
    pub symbol: String,
    #[serde(with = "crate::money::json")]
    #[ts(type = "string")]
    pub quantity: Decimal,
    /// `closed` (with `flatten`), `open` (left as it is: no `flatten`), `failed` (see `detail`).
    pub outcome: String,
    pub order_id: Option<String>,
    pub detail: Option<String>,
}

/// What the kill switch did to one account.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct KillAccount {
    pub account_id: String,
    pub name: String,
    pub was_live: bool,
    pub status: AccountStatus,
    pub orders: Vec<KillOrder>,
    pub positions: Vec<KillPosition>,
    /// Why something could not be done for this account (a broker that did not answer).
    pub error: Option<ApiError>,
}

/// The kill switch's report: per account, per order and per position, failures included.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct KillSwitchReport {
    pub flatten: bool,
    #[ts(type = "string")]
    pub started_at: DateTime<Utc>,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    pub accounts: Vec<KillAccount>,
    /// Orders or positions that could not be handled (each also in Needs review or named in
    /// `accounts`).
    #[ts(type = "number")]
    pub failures: u64,
}

fn has_loss_rules(a: &Account) -> bool {
    a.prop_firm.max_daily_loss_pct.is_some() || a.prop_firm.max_total_loss_pct.is_some()
}

/// Whether anything about the account can refuse an order (an active account without rules,
/// limits, hours or a weekend ban is not measured: no broker round trip before its orders).
fn guarded(a: &Account) -> bool {
    let l = &a.risk;
    a.status != AccountStatus::Active
        || has_loss_rules(a)
        || l.max_position_size_pct.is_some()
        || l.max_open_positions.is_some()
        || l.max_qty.is_some()
        || l.max_leverage.is_some()
        || l.require_stop_loss
        || l.max_risk_per_trade_pct.is_some()
        || !l.allowed_instruments.is_empty()
        || a.trading_hours.is_some()
        || !a.weekend_trading
}

/// Whether the gate must value the order (a limit or budget measured on equity).
pub(super) fn needs_price(a: &Account) -> bool {
    let l = &a.risk;
    has_loss_rules(a)
        || l.max_position_size_pct.is_some()
        || l.max_leverage.is_some()
        || l.max_risk_per_trade_pct.is_some()
}

fn order_of(
    intent: &OrderIntent,
    price: Option<Decimal>,
    notional: Option<Decimal>,
) -> check::Order<'_> {
    check::Order {
        symbol: intent.symbol(),
        side: intent.side(),
        quantity: intent.quantity(),
        price,
        stop_loss: intent.stop_loss(),
        notional,
    }
}

fn clock_of(a: &Account) -> ResetClock {
    ResetClock::parse(&a.prop_firm.reset_time, &a.prop_firm.reset_timezone).unwrap_or(ResetClock {
        time: chrono::NaiveTime::MIN,
        zone: chrono_tz::UTC,
    })
}

impl Runtime {
    /// An account's money and positions with each position's value in the account currency
    /// (paper: the desk's marks; live: the broker's report, valued at the mark it gives or
    /// else at its average price).
    pub(super) async fn risk_inputs(
        self: &Arc<Self>,
        account: &Account,
        mode: TradingMode,
    ) -> Result<Inputs, ApiError> {
        let now = Utc::now();
        let desk = self.desk(account).await?;
        if mode == TradingMode::Paper {
            self.ensure_pump(account).await;
            let s = desk.lock().await.summary(now);
            let exposures = s
                .positions
                .iter()
                .filter(|p| !p.quantity.is_zero())
                .map(|p| Exposure {
                    symbol: p.symbol.clone(),
                    quantity: p.quantity,
                    notional: p.mark_price.and(p.notional),
                })
                .collect();
            return Ok(Inputs {
                money: super::trading::money_of_paper(&account.id, s, now),
                exposures,
            });
        }
        let money = self.money_in(account, mode).await?;
        let d = desk.lock().await;
        let exposures = money
            .positions
            .iter()
            .map(|p| {
                let side = if p.quantity > Decimal::ZERO {
                    OrderSide::Buy
                } else {
                    OrderSide::Sell
                };
                let notional = p
                    .mark_price
                    .or(p.average_price)
                    .and_then(|px| d.estimate(&p.symbol, side, p.quantity.abs(), px, now).ok())
                    .and_then(|e| e.notional);
                Exposure {
                    symbol: p.symbol.clone(),
                    quantity: p.quantity,
                    notional,
                }
            })
            .collect();
        drop(d);
        Ok(Inputs { money, exposures })
    }

    /// Rolls and assesses an account's budgets on `money` (saving the state when it moved).
    /// `None` when the account has no loss rules or its equity is not known.
    async fn risk_assess(
        &self,
        account: &Account,
        money: &AccountMoney,
        now: DateTime<Utc>,
    ) -> Result<Option<(LossState, Assessment, Rolled)>, ApiError> {
        if !has_loss_rules(account) {
            return Ok(None);
        }
        let (Some(balance), Some(equity)) = (money.balance, money.equity) else {
            return Ok(None);
        };
        let prev = {
            let cached = self
                .risk
                .states
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&account.id)
                .cloned();
            match cached {
                Some(s) => Some(s),
                None => {
                    let mut conn = self
                        .core
                        .store()
                        .acquire()
                        .await
                        .map_err(super::trading::api)?;
                    crate::risk::store::load(&mut conn, &account.id)
                        .await
                        .map_err(super::trading::api)?
                }
            }
        };
        let clock = clock_of(account);
        let (rolled_state, rolled) = LossState::roll(
            prev.clone(),
            &account.prop_firm,
            &clock,
            balance,
            equity,
            now,
        );
        let (state, assessment) =
            rules::assess(&account.name, &account.prop_firm, rolled_state, equity);
        if prev.as_ref() != Some(&state) {
            let mut conn = self
                .core
                .store()
                .acquire()
                .await
                .map_err(super::trading::api)?;
            crate::risk::store::save(&mut conn, &account.id, &state)
                .await
                .map_err(super::trading::api)?;
            self.risk
                .states
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(account.id.clone(), state.clone());
        }
        Ok(Some((state, assessment, rolled)))
    }

    /// The pre-trade gate: refuses an order that breaks one of the account's rules or limits
    /// (audited), before anything is stored. `reduce_only_bypass` is for the breach response
    /// and the kill switch, which close positions whatever the status says.
    pub(super) async fn risk_gate(
        self: &Arc<Self>,
        account: &Account,
        mode: TradingMode,
        intent: &OrderIntent,
        price: Option<Decimal>,
    ) -> Result<(), ApiError> {
        if !guarded(account) {
            return Ok(());
        }
        let now = Utc::now();
        let inputs = self.risk_inputs(account, mode).await?;
        let assessed = self.risk_assess(account, &inputs.money, now).await?;
        if account.status == AccountStatus::Active
            && has_loss_rules(account)
            && assessed.is_none()
            && !check::reduces(&order_of(intent, price, None), &inputs.exposures)
        {
            return Err(ApiError::new(
                Code::RiskNoQuote,
                format!(
                    "{}'s equity is not known now, so its loss budgets cannot be measured: no new risk",
                    account.name
                ),
            ));
        }
        let notional = match price {
            Some(px) if !px.is_zero() => {
                let desk = self.desk(account).await?;
                let d = desk.lock().await;
                d.estimate(intent.symbol(), intent.side(), intent.quantity(), px, now)
                    .ok()
                    .and_then(|e| e.notional)
            }
            _ => None,
        };
        let zone = clock_of(account).zone;
        let verdict = check::check(
            &check::Account {
                name: &account.name,
                status: account.status,
                rules: &account.prop_firm,
                limits: &account.risk,
                hours: account.trading_hours.as_ref(),
                weekend_trading: account.weekend_trading,
                zone,
                equity: inputs.money.equity,
                positions: &inputs.exposures,
                budgets: assessed.as_ref().map(|(_, a, _)| a),
            },
            &order_of(intent, price, notional),
            now,
        );
        if let Err(e) = &verdict {
            self.core
                .audit_system(
                    AuditEvent::RiskRefused,
                    Some(&account.id),
                    format!(
                        "{} {} {} {}: {} ({})",
                        account.name,
                        intent.side(),
                        intent.quantity().normalize(),
                        intent.symbol(),
                        e.message,
                        e.code
                    ),
                )
                .await;
        }
        verdict
    }

    /// An account's risk now.
    pub async fn risk_report(self: &Arc<Self>, account_key: &str) -> Result<RiskReport, ApiError> {
        let account = self.account(account_key).await?;
        Ok(self.report_of(&account).await)
    }

    /// Every account's risk now, in the accounts' order.
    pub async fn risk_reports(self: &Arc<Self>) -> Result<Vec<RiskReport>, ApiError> {
        self.core.require_unlocked().await?;
        let mut out = Vec::new();
        for a in self.core.accounts_list().await? {
            out.push(self.report_of(&a).await);
        }
        Ok(out)
    }

    async fn report_of(self: &Arc<Self>, account: &Account) -> RiskReport {
        let mode = Self::mode_of(account);
        let now = Utc::now();
        let inputs = self.risk_inputs(account, mode).await;
        let (money, unmeasured) = match &inputs {
            Ok(i) if !has_loss_rules(account) => (Some(&i.money), None),
            Ok(i) if i.exposures.iter().any(|e| e.notional.is_none()) => (
                Some(&i.money),
                Some("no fresh quote for an open position: the budgets are not measured, and new risk is refused".to_string()),
            ),
            Ok(i) => (Some(&i.money), None),
            Err(e) => (None, Some(format!("the account's money could not be read: {}", e.message))),
        };
        let assessed = match money {
            Some(m) if unmeasured.is_none() => {
                self.risk_assess(account, m, now).await.ok().flatten()
            }
            _ => None,
        };
        self.report(
            account,
            money,
            assessed.as_ref().map(|(s, a, _)| (s, a)),
            unmeasured,
            now,
        )
    }

    fn report(
        &self,
        account: &Account,
        money: Option<&AccountMoney>,
        assessed: Option<(&LossState, &Assessment)>,
        unmeasured: Option<String>,
        now: DateTime<Utc>,
    ) -> RiskReport {
        let clock = clock_of(account);
        let rules_set = has_loss_rules(account);
        RiskReport {
            account_id: account.id.clone(),
            name: account.name.clone(),
            status: account.status,
            mode: Self::mode_of(account),
            preset: account.prop_firm.preset,
            currency: money.map(|m| m.currency.clone()).unwrap_or_default(),
            balance: money.and_then(|m| m.balance),
            equity: money.and_then(|m| m.equity),
            initial_balance: assessed
                .map(|(s, _)| s.initial_balance)
                .or(account.prop_firm.initial_balance),
            initial_balance_source: if account.prop_firm.initial_balance.is_some() {
                "configured".into()
            } else {
                "first_seen".into()
            },
            daily: assessed.and_then(|(_, a)| a.daily.clone()),
            total: assessed.and_then(|(_, a)| a.total.clone()),
            day_started_at: rules_set.then(|| clock.day_start(now)),
            next_reset_at: rules_set.then(|| clock.next_reset(now)),
            reset_timezone: account.prop_firm.reset_timezone.clone(),
            unmeasured,
            at: now,
        }
    }

    /// Measures one account and acts: a reset returns an account in drawdown to active, a
    /// recovered day too; a breach moves the status (and closes, if the account says so);
    /// a crossed warning level is notified. Tells the window the new figures.
    async fn risk_watch_one(self: &Arc<Self>, account: &Account) {
        let mode = Self::mode_of(account);
        let now = Utc::now();
        let inputs = match self.risk_inputs(account, mode).await {
            Ok(i) => i,
            Err(e) => {
                tracing::debug!(account = %account.id, code = %e.code, "risk: the account's money could not be read");
                return;
            }
        };
        if has_loss_rules(account) && inputs.exposures.iter().any(|e| e.notional.is_none()) {
            let r = self.report(
                account,
                Some(&inputs.money),
                None,
                Some("no fresh quote for an open position: the budgets are not measured, and new risk is refused".into()),
                now,
            );
            self.tell_risk(r);
            return;
        }
        let Ok(Some((state, assessment, rolled))) =
            self.risk_assess(account, &inputs.money, now).await
        else {
            return;
        };
        self.tell_risk(self.report(
            account,
            Some(&inputs.money),
            Some((&state, &assessment)),
            None,
            now,
        ));
        for (key, text) in &assessment.warnings {
            self.core
                .audit_system(AuditEvent::RiskWarning, Some(&account.id), text.clone())
                .await;
            if account.notifications.risk_breach {
                let _ = self.out.send(RuntimeEvent::Notify(Notice::new(
                    format!("Brokerdesk — {}", account.name),
                    text.clone(),
                )));
            }
            tracing::info!(account = %account.id, level = %key, "risk warning");
        }
        // Recovering the day's loss returns an account to active only when a rule put it in
        // drawdown; one a person put there stays until the next reset.
        let by_rule = account
            .status_history
            .last()
            .and_then(|h| h.reason.as_deref())
            .is_some_and(|r| r.starts_with(RULE_DRAWDOWN));
        let recovered = by_rule
            && assessment.breach.is_none()
            && assessment
                .daily
                .as_ref()
                .is_none_or(|d| inputs.money.equity.is_some_and(|e| e >= d.reference));
        if account.status == AccountStatus::InDrawdown
            && assessment.breach.is_none()
            && (rolled == Rolled::NewDay || recovered)
        {
            let why = if rolled == Rolled::NewDay {
                "a new trading day: the daily loss budget reset"
            } else {
                "the day's loss recovered"
            };
            self.risk_set_status(account, AccountStatus::Active, why)
                .await;
            return;
        }
        let Some(breach) = assessment.breach else {
            return;
        };
        if account.status == breach.to
            || account.status == AccountStatus::Terminated
            || crate::risk::status::transition(account.status, breach.to).is_err()
        {
            return;
        }
        {
            let mut acting = self.risk.acting.lock().unwrap_or_else(|e| e.into_inner());
            if !acting.insert(account.id.clone()) {
                return;
            }
        }
        tracing::warn!(account = %account.id, to = %breach.to, "risk breach");
        self.risk_set_status(account, breach.to, &breach.reason)
            .await;
        if account.prop_firm.close_on_breach {
            let rt = self.clone();
            let id = account.id.clone();
            tokio::spawn(async move {
                if let Ok(a) = rt.core.account_get(&id).await {
                    let _ = rt.flatten(&a, Self::mode_of(&a), true).await;
                }
                rt.risk
                    .acting
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
            });
        } else {
            self.risk
                .acting
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&account.id);
        }
    }

    /// Sends the window an account's report when anything in it but its time changed.
    fn tell_risk(&self, r: RiskReport) {
        let mut told = self.risk.told.lock().unwrap_or_else(|e| e.into_inner());
        let same = told.get(&r.account_id).is_some_and(|prev| {
            RiskReport {
                at: r.at,
                ..prev.clone()
            } == r
        });
        if !same {
            told.insert(r.account_id.clone(), r.clone());
            drop(told);
            self.ui(UiEvent::RiskUpdate(Box::new(r)));
        }
    }

    async fn risk_set_status(&self, account: &Account, to: AccountStatus, reason: &str) {
        match self
            .core
            .account_set_status_by_rule(&account.id, to, reason)
            .await
        {
            Ok(_) => {
                if account.notifications.risk_breach || to == AccountStatus::Active {
                    let _ = self.out.send(RuntimeEvent::Notify(Notice::new(
                        format!("Brokerdesk — {}", account.name),
                        format!("{}: {reason}", status_words(to)),
                    )));
                }
            }
            Err(e) => {
                tracing::warn!(account = %account.id, code = %e.code, "risk: the status could not be changed")
            }
        }
    }

    /// Cancels an account's open orders and, with `close`, closes its positions (in `mode`:
    /// live ones at the broker, whatever the account's mode is now). Whatever fails is
    /// reported and, for an order, put in Needs review.
    async fn flatten(
        self: &Arc<Self>,
        account: &Account,
        mode: TradingMode,
        close: bool,
    ) -> (Vec<KillOrder>, Vec<KillPosition>, Option<ApiError>) {
        let mut orders = Vec::new();
        let open = self
            .orders_list(&account.id, true)
            .await
            .unwrap_or_default();
        let cancels = open
            .iter()
            .filter(|o| o.mode == mode || mode == TradingMode::Live)
            .map(|o| {
                let rt = self.clone();
                let o = o.clone();
                let id = account.id.clone();
                async move {
                    let mut r = rt.order_cancel(&id, &o.id).await;
                    // Once more, a moment later, when it failed for a passing reason (the
                    // store busy with another writer, a broker's 5xx or timeout) or on the
                    // paper desk (a reload may have raced it).
                    if let Err(e) = &r {
                        if e.code != Code::OrderNotOpen
                            && (e.code.retryable() || o.mode == TradingMode::Paper)
                        {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            r = rt.order_cancel(&id, &o.id).await;
                        }
                    }
                    (o, r)
                }
            });
        for (o, r) in futures_util::future::join_all(cancels).await {
            orders.push(match r {
                Ok(after) => KillOrder {
                    order_id: o.id.clone(),
                    symbol: o.symbol.clone(),
                    outcome: after.status.to_string(),
                    detail: after.reason.clone(),
                },
                // Already final (filled, cancelled): what it is now.
                Err(e) if e.code == Code::OrderNotOpen => {
                    let now = self.reread(&o.id).await.ok();
                    KillOrder {
                        order_id: o.id.clone(),
                        symbol: o.symbol.clone(),
                        outcome: now
                            .as_ref()
                            .map_or_else(|| "not_open".to_string(), |n| n.status.to_string()),
                        detail: Some(e.message),
                    }
                }
                Err(e) => match self.after_failed_cancel(account, &o).await {
                    // The broker had filled (or closed) it before the cancel landed.
                    Some(after) if after.status.is_final() => KillOrder {
                        order_id: o.id.clone(),
                        symbol: o.symbol.clone(),
                        outcome: after.status.to_string(),
                        detail: Some(format!("the cancel was refused: {}", e.message)),
                    },
                    _ => {
                        self.to_review(
                            &o,
                            &format!(
                                "the kill switch or a breach could not cancel it: {}",
                                e.message
                            ),
                        )
                        .await;
                        KillOrder {
                            order_id: o.id.clone(),
                            symbol: o.symbol.clone(),
                            outcome: "failed".into(),
                            detail: Some(e.message),
                        }
                    }
                },
            });
        }
        // Positions are read after the cancels, so a fill that raced a cancel is seen.
        let mut positions = Vec::new();
        let inputs = match self.risk_inputs(account, mode).await {
            Ok(i) => i,
            Err(e) => return (orders, positions, Some(e)),
        };
        for p in inputs
            .money
            .positions
            .iter()
            .filter(|p| !p.quantity.is_zero())
        {
            if !close {
                positions.push(KillPosition {
                    symbol: p.symbol.clone(),
                    quantity: p.quantity,
                    outcome: "open".into(),
                    order_id: None,
                    detail: None,
                });
                continue;
            }
            let side = if p.quantity > Decimal::ZERO {
                OrderSide::Sell
            } else {
                OrderSide::Buy
            };
            let mut draft = OrderDraft::market(&p.symbol, side, &p.quantity.abs().to_string());
            draft.time_in_force = TimeInForce::Day;
            let r = self.place_as(account, mode, draft, false).await;
            positions.push(match r {
                Ok(o) if !matches!(o.status, OrderStatus::Rejected | OrderStatus::Cancelled) => {
                    KillPosition {
                        symbol: p.symbol.clone(),
                        quantity: p.quantity,
                        outcome: "closed".into(),
                        order_id: Some(o.id),
                        detail: (o.status != OrderStatus::Filled)
                            .then(|| format!("closing order {}", o.status)),
                    }
                }
                Ok(o) => KillPosition {
                    symbol: p.symbol.clone(),
                    quantity: p.quantity,
                    outcome: "failed".into(),
                    order_id: Some(o.id),
                    detail: o.reason,
                },
                Err(e) => KillPosition {
                    symbol: p.symbol.clone(),
                    quantity: p.quantity,
                    outcome: "failed".into(),
                    order_id: None,
                    detail: Some(e.message),
                },
            });
        }
        (orders, positions, None)
    }

    /// A live order whose cancel was refused: its state read back from the broker and
    /// stored (a fill that raced the cancel is adopted). `None` when it cannot be read.
    async fn after_failed_cancel(&self, account: &Account, o: &Order) -> Option<Order> {
        let broker_id = o.broker_order_id.as_deref()?;
        if o.mode != TradingMode::Live {
            return None;
        }
        let broker = super::orders::connector_for(&self.core, self.manager(), &account.id).await?;
        let state = broker.get_order(broker_id).await.ok()?;
        let next = crate::trading::oms::adopt(o, &state, Utc::now());
        let mut conn = self.core.store().acquire().await.ok()?;
        crate::trading::store::update(&mut conn, &next, "looked up after a refused cancel")
            .await
            .ok()?;
        let after = crate::trading::store::get(&mut conn, &o.id).await.ok()??;
        drop(conn);
        self.tell_orders(std::slice::from_ref(&after));
        Some(after)
    }

    async fn to_review(&self, o: &Order, why: &str) {
        let mut next = o.clone();
        next.status = OrderStatus::NeedsReview;
        next.reason = Some(crate::text::cap(why, 500));
        next.updated_at = Utc::now();
        if let Ok(mut conn) = self.core.store().acquire().await {
            if crate::trading::store::update(&mut conn, &next, "needs review")
                .await
                .is_ok()
            {
                self.tell_orders(std::slice::from_ref(&next));
            }
        }
    }

    /// The kill switch: every account to paper and suspended (stored first), then every open
    /// order cancelled (live ones at their brokers, all accounts in parallel), with `flatten`
    /// every live position closed, positions read back after the cancels; a report of each
    /// order and position. No step-up: it only ever reduces risk. Audited.
    pub async fn kill_switch(
        self: &Arc<Self>,
        flatten: bool,
    ) -> Result<KillSwitchReport, ApiError> {
        let started = Instant::now();
        let started_at = Utc::now();
        self.core.require_unlocked().await?;
        let accounts = self.core.accounts_list().await?;
        let mut prepared = Vec::new();
        let (mut to_paper, mut suspended) = (0usize, 0usize);
        for a in accounts {
            let was_live = a.mode == TradingMode::Live && a.broker != BrokerKind::Paper;
            let mut failed = None;
            if was_live {
                match self.core.account_set_mode(&a.id, TradingMode::Paper).await {
                    Ok(_) => to_paper += 1,
                    Err(e) => {
                        tracing::warn!(account = %a.id, code = %e.code, "kill switch: could not switch to paper");
                        failed = Some(e);
                    }
                }
            }
            if matches!(a.status, AccountStatus::Active | AccountStatus::InDrawdown) {
                match self
                    .core
                    .account_set_status_by_rule(&a.id, AccountStatus::Suspended, "kill switch")
                    .await
                {
                    Ok(_) => suspended += 1,
                    Err(e) => {
                        tracing::warn!(account = %a.id, code = %e.code, "kill switch: could not suspend");
                        failed.get_or_insert(e);
                    }
                }
            }
            prepared.push((a, was_live, failed));
        }
        let work = prepared.into_iter().map(|(a, was_live, failed)| {
            let rt = self.clone();
            async move {
                let (orders, positions, error) = if was_live {
                    rt.flatten(&a, TradingMode::Live, flatten).await
                } else {
                    // Paper: its resting orders are cancelled (they could open positions);
                    // its simulated positions stay.
                    let (o, _, e) = rt.flatten(&a, TradingMode::Paper, false).await;
                    (o, Vec::new(), e)
                };
                let status = rt
                    .core
                    .account_get(&a.id)
                    .await
                    .map(|x| x.status)
                    .unwrap_or(a.status);
                KillAccount {
                    account_id: a.id.clone(),
                    name: a.name.clone(),
                    was_live,
                    status,
                    orders,
                    positions,
                    // Stopping it could not be stored first: that is the error to see.
                    error: failed.or(error),
                }
            }
        });
        let accounts = futures_util::future::join_all(work).await;
        let failures = accounts
            .iter()
            .map(|a| {
                a.orders.iter().filter(|o| o.outcome == "failed").count()
                    + a.positions.iter().filter(|p| p.outcome == "failed").count()
                    + usize::from(a.error.is_some())
            })
            .sum::<usize>() as u64;
        let report = KillSwitchReport {
            flatten,
            started_at,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            accounts,
            failures,
        };
        self.core.audit_system(
            AuditEvent::KillSwitch,
            None,
            format!(
                "kill switch{}: {} accounts, {} live ones to paper, {} suspended, {} orders handled, {} positions {}, {} failures",
                if flatten { " with flatten" } else { "" },
                report.accounts.len(),
                to_paper,
                suspended,
                report.accounts.iter().map(|a| a.orders.len()).sum::<usize>(),
                report.accounts.iter().map(|a| a.positions.len()).sum::<usize>(),
                if flatten { "closed" } else { "left open" },
                report.failures
            ),
        ).await;
        let _ = self.out.send(RuntimeEvent::Notify(Notice::new(
            "Brokerdesk — kill switch",
            if report.failures == 0 {
                "Trading stopped: every account on paper and suspended".to_string()
            } else {
                format!(
                    "Trading stopped, with {} failures: see Needs review",
                    report.failures
                )
            },
        )));
        Ok(report)
    }
}

fn status_words(s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Active => "Active again",
        AccountStatus::Suspended => "Suspended (no new positions)",
        AccountStatus::InDrawdown => "In drawdown (close-only until the next reset)",
        AccountStatus::Terminated => "Terminated (no orders)",
    }
}

/// Measures every account with loss rules until cancelled: paper ones every [`WATCH_EVERY`],
/// live ones every [`LIVE_EVERY`] (their broker is asked).
pub(super) async fn watch(rt: Arc<Runtime>, cancel: tokio_util::sync::CancellationToken) {
    let mut ticks = tokio::time::interval(WATCH_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = ticks.tick() => {}
        }
        let Ok(accounts) = rt.risk_accounts().await else {
            continue;
        };
        for a in accounts
            .iter()
            .filter(|a| has_loss_rules(a) || a.status == AccountStatus::InDrawdown)
        {
            if Runtime::mode_of(a) == TradingMode::Live {
                // A broker that is not reachable now is not asked every 3 s (its connection
                // reconnects with backoff); the budgets are measured again once it is back.
                let up = matches!(
                    rt.manager()
                        .state(&a.id, crate::connection::manager::Channel::Order),
                    Some(crate::connection::ConnState::Connected)
                );
                if !up {
                    continue;
                }
                let due = {
                    let mut last = rt.risk.last_live.lock().unwrap_or_else(|e| e.into_inner());
                    let due = last.get(&a.id).is_none_or(|t| t.elapsed() >= LIVE_EVERY);
                    if due {
                        last.insert(a.id.clone(), Instant::now());
                    }
                    due
                };
                if !due {
                    continue;
                }
            }
            rt.risk_watch_one(a).await;
        }
    }
}
