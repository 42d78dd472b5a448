//! `account …`: flags become an [`AccountInput`]; core validates and stores it.
//! Edit loads the account, converts it back to an input, applies only the flags given and
//! saves the whole input, so a flag not given keeps its stored value (credentials included).

use brokerdesk_core::accounts::catalog::prop_firm_preset;
use brokerdesk_core::accounts::model::{
    AccountInput, AccountStatus, PropFirmPreset, PropFirmRules, TradingHours, TradingMode,
};
use brokerdesk_core::api::{CheckOutcome, SavedAccount};
use brokerdesk_core::{ApiError, Brokerdesk, FieldError, Secret};
use brokerdesk_core::{Code, FieldCode};

use super::{step_up, Ctx};
use crate::args::{AccountFields, AddArgs, ClearFlags, EditArgs, StepUp};
use crate::output;

/// Credentials resolved from their flags (`-` already read from stdin).
struct Creds {
    api_key: Option<Secret>,
    api_secret: Option<Secret>,
}

fn read_creds(ctx: &mut Ctx, f: &mut AccountFields) -> Result<Creds, ApiError> {
    Ok(Creds {
        api_key: ctx.input.secret_arg(f.api_key.take(), "--api-key")?,
        api_secret: ctx.input.secret_arg(f.api_secret.take(), "--api-secret")?,
    })
}

pub async fn add(bd: &Brokerdesk, ctx: &mut Ctx, a: Box<AddArgs>) -> Result<(), ApiError> {
    let mut a = *a;
    ctx.unlock(bd).await?;
    let creds = read_creds(ctx, &mut a.fields)?;
    let code = ctx.totp(a.step_up)?;
    let mut input = AccountInput::new(a.name, a.broker, a.env);
    apply(&mut input, a.fields, creds)?;
    step_up(bd, code).await?;
    let saved = bd.account_add_checked(input, !a.no_verify).await?;
    print_saved(ctx, &saved, "Added");
    Ok(())
}

/// Prints an account saved after a check: as JSON, the account with a `check` member.
fn print_saved(ctx: &Ctx, saved: &SavedAccount, verb: &str) {
    if let CheckOutcome::Unreachable { message, .. } = &saved.check {
        eprintln!(
            "warning: the broker could not be reached ({message}); the account was saved without checking: run `brokerdesk account verify {}` once it can be reached (live trading stays locked until then)",
            saved.account.name
        );
    }
    // Serialized in one pass (not through a `Value`), so decimals keep their digits.
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        #[serde(flatten)]
        account: &'a brokerdesk_core::accounts::model::Account,
        check: &'a CheckOutcome,
    }
    let doc = Doc {
        account: &saved.account,
        check: &saved.check,
    };
    ctx.print(&doc, || {
        format!(
            "{verb} account {:?}.\n{}\n{}",
            saved.account.name,
            output::check_line(&saved.check),
            output::account_show(&saved.account)
        )
    });
}

pub async fn list(bd: &Brokerdesk, ctx: &mut Ctx) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let accounts = bd.accounts_list().await?;
    ctx.print(&accounts, || output::account_list(&accounts));
    Ok(())
}

pub async fn show(bd: &Brokerdesk, ctx: &mut Ctx, id: &str) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let account = bd.account_get(id).await?;
    ctx.print(&account, || output::account_show(&account));
    Ok(())
}

pub async fn edit(bd: &Brokerdesk, ctx: &mut Ctx, e: Box<EditArgs>) -> Result<(), ApiError> {
    let mut e = *e;
    ctx.unlock(bd).await?;
    let creds = read_creds(ctx, &mut e.fields)?;
    let code = ctx.totp(e.step_up)?;
    let current = bd.account_get(&e.id).await?;
    let mut input = AccountInput::from_account(&current);
    if let Some(name) = e.name {
        input.name = name;
    }
    if let Some(env) = e.env {
        input.environment = env;
    }
    apply(&mut input, e.fields, creds)?;
    clear(&mut input, &e.clear);
    step_up(bd, code).await?;
    // Address the account by id: the name may be what is being changed.
    let saved = bd
        .account_update_checked(&current.id, input, !e.no_verify)
        .await?;
    print_saved(ctx, &saved, "Updated");
    Ok(())
}

pub async fn remove(
    bd: &Brokerdesk,
    ctx: &mut Ctx,
    id: &str,
    yes: bool,
    s: StepUp,
) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let code = ctx.totp(s)?;
    let account = bd.account_get(id).await?;
    ctx.confirm(
        yes,
        &format!(
            "Remove account {:?} ({}) and its stored credentials?",
            account.name, account.id
        ),
    )?;
    step_up(bd, code).await?;
    let removed = bd.account_remove(&account.id).await?;
    #[derive(serde::Serialize)]
    struct Removed<'a> {
        removed: &'a brokerdesk_core::accounts::model::Account,
    }
    ctx.print(&Removed { removed: &removed }, || {
        format!("Removed account {:?} ({}).\n", removed.name, removed.id)
    });
    Ok(())
}

/// `account trust-certificate ID FINGERPRINT`: pins a new certificate for the account's
/// IBKR gateway (a step-up).
pub async fn trust_certificate(
    bd: &Brokerdesk,
    ctx: &mut Ctx,
    id: &str,
    fingerprint: &str,
    s: StepUp,
) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let code = ctx.totp(s)?;
    step_up(bd, code).await?;
    let account = bd.account_trust_certificate(id, fingerprint).await?;
    ctx.print(&account, || {
        let pin = account
            .tls_pin
            .as_ref()
            .map(|p| format!("SHA-256 {} ({})", p.sha256, p.origin))
            .unwrap_or_default();
        format!(
            "Account {:?}: the gateway's certificate {pin} is trusted; its connections use it from now on.\n",
            account.name
        )
    });
    Ok(())
}

/// `account verify ID`: the stored credentials, checked with the broker.
pub async fn verify(bd: &Brokerdesk, ctx: &mut Ctx, id: &str) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let s = bd.account_verify(id).await?;
    ctx.print(&s, || {
        format!(
            "Verified: account ••••{} ({}, {}): balance {:.2}, equity {:.2}, buying power {:.2}\n",
            s.account_last4, s.account_type, s.currency, s.balance, s.equity, s.buying_power
        )
    });
    Ok(())
}

/// `mode ID paper|live`: live needs a step-up (and, in core, a verified connection).
pub async fn mode(
    bd: &Brokerdesk,
    ctx: &mut Ctx,
    id: &str,
    mode: TradingMode,
    s: StepUp,
) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let code = ctx.totp(s)?;
    if mode == TradingMode::Live {
        step_up(bd, code).await?;
    }
    let account = bd.account_set_mode(id, mode).await?;
    ctx.print(&account, || {
        format!("Account {:?} is in {} mode.\n", account.name, account.mode)
    });
    Ok(())
}

/// What `account status` was asked to do.
pub struct StatusChange {
    pub to: AccountStatus,
    pub reason: Option<String>,
    /// With `terminated`: delete the account's stored credentials too.
    pub purge_credentials: bool,
    pub yes: bool,
}

/// `account status ID STATUS`: the status machine's allowed moves only (core refuses the
/// others); back to active needs a step-up, terminating a typed confirmation.
pub async fn status(
    bd: &Brokerdesk,
    ctx: &mut Ctx,
    id: &str,
    change: StatusChange,
    s: StepUp,
) -> Result<(), ApiError> {
    let StatusChange {
        to,
        reason,
        purge_credentials,
        yes,
    } = change;
    if purge_credentials && to != AccountStatus::Terminated {
        return Err(ApiError::new(
            Code::Usage,
            "--purge-credentials goes with `terminated` only",
        ));
    }
    ctx.unlock(bd).await?;
    let code = ctx.totp(s)?;
    let account = bd.account_get(id).await?;
    if to == AccountStatus::Terminated && account.status != AccountStatus::Terminated {
        ctx.confirm_typed(
            yes,
            "terminating an account is final",
            &format!(
                "Terminate account {:?} ({})? It will accept no orders at all, and this cannot be undone.{}",
                account.name,
                account.id,
                if purge_credentials {
                    " Its stored credentials will be deleted."
                } else {
                    ""
                }
            ),
        )?;
    }
    if to == AccountStatus::Active {
        step_up(bd, code).await?;
    }
    let mut a = bd.account_set_status(&account.id, to, reason).await?;
    if purge_credentials {
        a = bd.account_forget_credentials(&a.id).await?;
    }
    ctx.print(&a, || {
        let why = a
            .status_history
            .last()
            .filter(|_| account.status != a.status)
            .and_then(|h| h.reason.as_deref())
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        let purged = if purge_credentials {
            "Its stored credentials were deleted.\n"
        } else {
            ""
        };
        if account.status == a.status {
            format!("Account {:?} is already {}.\n{purged}", a.name, a.status)
        } else {
            format!(
                "Account {:?}: {} → {}{why}.\n{purged}",
                a.name, account.status, a.status
            )
        }
    });
    Ok(())
}

/// `credentials purge`: every stored credential goes, every account drops to paper mode.
pub async fn purge(bd: &Brokerdesk, ctx: &mut Ctx, yes: bool, s: StepUp) -> Result<(), ApiError> {
    ctx.unlock(bd).await?;
    let code = ctx.totp(s)?;
    ctx.confirm(
        yes,
        "Delete every stored broker credential and put every account in paper mode?",
    )?;
    step_up(bd, code).await?;
    let report = bd.credentials_purge().await?;
    ctx.print(&report, || {
        format!(
            "Purged: {} stored credentials deleted; all {} accounts are in paper mode.\n",
            report.credentials_deleted, report.accounts
        )
    });
    Ok(())
}

/// Applies the flags that were given; the rest of `input` is left as it is.
fn apply(input: &mut AccountInput, f: AccountFields, creds: Creds) -> Result<(), ApiError> {
    input.credentials.api_key = creds.api_key;
    input.credentials.api_secret = creds.api_secret;
    if let Some(v) = f.account_id {
        input.broker_account_id = Some(v);
    }
    if let Some(v) = f.rest_url {
        input.rest_url = Some(v);
    }
    if let Some(v) = f.stream_url {
        input.stream_url = Some(v);
    }

    let pf = &mut input.prop_firm;
    if let Some(preset) = f.prop_firm {
        // A named preset brings the firm's numbers and clock (a flag below that changes one
        // makes the rules custom, in core); `custom` keeps the current values so they can be
        // adjusted one by one. What is the account's own (its initial balance, safety buffer,
        // breach closing, warnings) is kept either way.
        if preset != PropFirmPreset::Custom {
            let p = prop_firm_preset(preset);
            *pf = PropFirmRules {
                preset,
                max_daily_loss_pct: p.max_daily_loss_pct,
                max_total_loss_pct: p.max_total_loss_pct,
                profit_target_pct: p.profit_target_pct,
                daily_base: p.daily_base,
                reset_time: p.reset_time,
                reset_timezone: p.reset_timezone,
                max_loss_mode: p.max_loss_mode,
                daily_breach: p.daily_breach,
                ..pf.clone()
            };
        }
        pf.preset = preset;
    }
    if let Some(v) = f.max_daily_loss {
        pf.max_daily_loss_pct = v.into_option();
    }
    if let Some(v) = f.max_total_loss {
        pf.max_total_loss_pct = v.into_option();
    }
    if let Some(v) = f.profit_target {
        pf.profit_target_pct = v.into_option();
    }
    if let Some(v) = f.initial_balance {
        pf.initial_balance = v.into_option();
    }
    if let Some(v) = f.daily_base {
        pf.daily_base = v;
    }
    if let Some(v) = f.reset_time {
        pf.reset_time = v;
    }
    if let Some(v) = f.reset_timezone {
        pf.reset_timezone = v;
    }
    if let Some(v) = f.max_loss_mode {
        pf.max_loss_mode = v;
    }
    if let Some(v) = f.daily_breach {
        pf.daily_breach = v;
    }
    if let Some(v) = f.safety_buffer {
        pf.safety_buffer_pct = v.into_option();
    }
    if f.close_on_breach {
        pf.close_on_breach = true;
    }
    if f.no_close_on_breach {
        pf.close_on_breach = false;
    }
    if let Some(v) = f.warn_levels {
        pf.warn_levels = v.0;
    }

    let r = &mut input.risk;
    if let Some(v) = f.max_position_size {
        r.max_position_size_pct = v.into_option();
    }
    if let Some(v) = f.max_open_positions {
        r.max_open_positions = v.into_option();
    }
    if let Some(v) = f.max_qty {
        r.max_qty = v.into_option();
    }
    if let Some(v) = f.max_leverage {
        r.max_leverage = v.into_option();
    }
    if let Some(v) = f.max_correlation {
        r.max_correlation = v.into_option();
    }
    if let Some(v) = f.max_risk_per_trade {
        r.max_risk_per_trade_pct = v.into_option();
    }
    if let Some(v) = f.allowed_instruments {
        // `--allowed-instruments ""` clears the list: any instrument.
        r.allowed_instruments = v
            .into_iter()
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty())
            .collect();
    }
    if f.require_stop_loss {
        r.require_stop_loss = true;
    }

    if let Some(v) = f.pairs {
        input.instruments = v;
    }
    if let Some(v) = f.timeframes {
        input.timeframes = v;
    }
    match (f.hours, f.timezone) {
        (Some(h), tz) => {
            let timezone = tz
                .or_else(|| input.trading_hours.as_ref().map(|t| t.timezone.clone()))
                .unwrap_or_else(|| "UTC".to_string());
            input.trading_hours = Some(TradingHours {
                start: h.start,
                end: h.end,
                timezone,
            });
        }
        (None, Some(tz)) => match &mut input.trading_hours {
            Some(h) => h.timezone = tz,
            None => {
                return Err(ApiError {
                    code: Code::Validation,
                    message: "--timezone applies to a trading window: give --hours too".into(),
                    fields: vec![FieldError::new(
                        "tradingHours",
                        FieldCode::Required,
                        "Give --hours with --timezone.",
                    )],
                })
            }
        },
        (None, None) => {}
    }
    if f.weekend_trading {
        input.weekend_trading = true;
    }
    if let Some(s) = f.status {
        input.status = s;
        input.status_reason = f.status_reason;
    }
    Ok(())
}

fn clear(input: &mut AccountInput, c: &ClearFlags) {
    if c.clear_account_id {
        input.broker_account_id = None;
    }
    if c.clear_rest_url {
        input.rest_url = None;
    }
    if c.clear_stream_url {
        input.stream_url = None;
    }
    if c.clear_pairs {
        input.instruments.clear();
    }
    if c.clear_timeframes {
        input.timeframes.clear();
    }
    if c.no_hours {
        input.trading_hours = None;
    }
    if c.no_require_stop_loss {
        input.risk.require_stop_loss = false;
    }
    if c.no_weekend_trading {
        input.weekend_trading = false;
    }
}
