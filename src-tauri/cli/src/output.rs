//! Printing: one JSON document on stdout with `--json`, else human text (results on stdout,
//! errors on stderr). Only core's masked values are ever printed; no secret reaches here.

use brokerdesk_core::Code;
use std::fmt::Write as _;

use brokerdesk_core::accounts::catalog::{BrokerInfo, PropFirmPresetInfo};
use brokerdesk_core::accounts::model::{Account, MaskedCredential};
use brokerdesk_core::audit::AuditEntry;
use brokerdesk_core::money::{self, Decimal};
use brokerdesk_core::risk::{Budget, RiskReport};
use brokerdesk_core::runtime::KillSwitchReport;
use brokerdesk_core::settings::AppSettings;
use brokerdesk_core::twofa::TwoFactorStatus;
use brokerdesk_core::vault::VaultProtection;
use brokerdesk_core::{ApiError, VaultStatus};
use serde::Serialize;

/// Prints one JSON document on stdout.
/// Prints one JSON document. Decimals are JSON numbers with their exact digits (the CLI's
/// contract; over the app's IPC they are strings).
pub fn json<T: Serialize + ?Sized>(value: &T) {
    match money::with_json_numbers(|| serde_json::to_string_pretty(value)) {
        Ok(s) => println!("{s}"),
        // Our types always serialize; keep the one-document promise even if one did not.
        Err(e) => println!(
            "{{\"error\":{{\"code\":\"internal\",\"message\":{:?},\"fields\":[]}}}}",
            e.to_string()
        ),
    }
}

/// Prints an error: the JSON error document on stdout, or `error: …` on stderr.
pub fn error(e: &ApiError, as_json: bool) {
    if as_json {
        json(&serde_json::json!({ "error": e }));
        return;
    }
    let mut out = format!("error: {}", e.message);
    // A refusal by a rule names its code, so a script reading stderr can tell them apart.
    if shows_code(e.code) {
        let _ = write!(out, " ({})", e.code);
    }
    // A validation summary repeats every field; list the fields once, by their flag.
    if e.code == Code::Validation && !e.fields.is_empty() {
        out = "error: invalid input:".to_string();
    }
    if e.code != Code::DuplicateName {
        for f in &e.fields {
            let _ = write!(out, "\n  {}: {}", flag_for(&f.field), f.message);
        }
    }
    eprintln!("{out}");
}

/// Whether a human error message ends with its code: the risk refusals (`risk_max_qty`,
/// `risk_daily_loss`, ...) and the status machine's.
fn shows_code(code: Code) -> bool {
    code.as_str().starts_with("risk_")
        || matches!(code, Code::IllegalStatusTransition | Code::AccountNotActive)
}

/// Returns the flag that sets an input field (core reports fields by their JSON path).
fn flag_for(field: &str) -> &str {
    match field {
        "name" => "--name",
        "broker" => "--broker",
        "environment" => "--env",
        "brokerAccountId" => "--account-id",
        "credentials.apiKey" => "--api-key",
        "credentials.apiSecret" => "--api-secret",
        "restUrl" => "--rest-url",
        "streamUrl" => "--stream-url",
        "propFirm.maxDailyLossPct" => "--max-daily-loss",
        "propFirm.maxTotalLossPct" => "--max-total-loss",
        "propFirm.profitTargetPct" => "--profit-target",
        "propFirm.initialBalance" => "--initial-balance",
        "propFirm.dailyBase" => "--daily-base",
        "propFirm.resetTime" => "--reset-time",
        "propFirm.resetTimezone" => "--reset-timezone",
        "propFirm.maxLossMode" => "--max-loss-mode",
        "propFirm.dailyBreach" => "--daily-breach",
        "propFirm.safetyBufferPct" => "--safety-buffer",
        "propFirm.warnLevels" => "--warn-levels",
        "risk.maxRiskPerTradePct" => "--max-risk-per-trade",
        f if f.starts_with("risk.allowedInstruments") => "--allowed-instruments",
        "risk.maxPositionSizePct" => "--max-position-size",
        "risk.maxOpenPositions" => "--max-open-positions",
        "risk.maxQty" => "--max-qty",
        "risk.maxLeverage" => "--max-leverage",
        "risk.maxCorrelation" => "--max-correlation",
        f if f.starts_with("instruments") => "--pairs",
        "tradingHours" | "tradingHours.start" | "tradingHours.end" => "--hours",
        "tradingHours.timezone" => "--timezone",
        "statusReason" => "--status-reason",
        "autoLockMinutes" => "MINUTES",
        other => other,
    }
}

fn creds_short(creds: &[MaskedCredential]) -> String {
    if creds.is_empty() {
        return "-".to_string();
    }
    creds
        .iter()
        .map(|c| format!("{} {}", c.field, c.masked))
        .collect::<Vec<_>>()
        .join(", ")
}

fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

/// Prints rows as a left-aligned table (widths in characters, so `••••` aligns).
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == cols {
                line.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn account_list(accounts: &[Account]) -> String {
    if accounts.is_empty() {
        return "No accounts yet. Add one with `brokerdesk account add`.\n".to_string();
    }
    let mut rows = vec![[
        "ID",
        "NAME",
        "BROKER",
        "ENV",
        "MODE",
        "STATUS",
        "CREDENTIALS",
    ]
    .map(String::from)
    .to_vec()];
    for a in accounts {
        rows.push(vec![
            short_id(&a.id),
            a.name.clone(),
            a.broker.to_string(),
            a.environment.to_string(),
            a.mode.to_string(),
            a.status.to_string(),
            creds_short(&a.credentials),
        ]);
    }
    table(&rows)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_string(), ToString::to_string)
}

fn pct(v: Option<Decimal>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x}%"))
}

fn list<T: ToString>(v: &[T]) -> String {
    if v.is_empty() {
        "-".to_string()
    } else {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn levels(v: &[u8]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.iter()
            .map(|l| format!("{l}%"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// The status, with why and since when if the history says (`suspended (kill switch, since
/// 2026-01-31 12:00:00 UTC)`).
fn status_line(a: &Account) -> String {
    match a.status_history.last().filter(|h| h.status == a.status) {
        Some(h) => format!(
            "{} ({}since {} UTC)",
            a.status,
            h.reason
                .as_deref()
                .map(|r| format!("{r}, "))
                .unwrap_or_default(),
            short_time(&h.changed_at)
        ),
        None => a.status.to_string(),
    }
}

pub fn account_show(a: &Account) -> String {
    let r = &a.risk;
    let p = &a.prop_firm;
    let mut rows: Vec<(&str, String)> = vec![
        ("id", a.id.clone()),
        ("name", a.name.clone()),
        ("broker", a.broker.to_string()),
        ("environment", a.environment.to_string()),
        ("mode", a.mode.to_string()),
        ("status", status_line(a)),
        ("account id", opt(&a.broker_account_id)),
        (
            "rest url",
            a.rest_url
                .clone()
                .unwrap_or_else(|| "(broker default)".into()),
        ),
        (
            "stream url",
            a.stream_url
                .clone()
                .unwrap_or_else(|| "(broker default)".into()),
        ),
    ];
    if a.credentials.is_empty() {
        rows.push(("credentials", "none".into()));
    }
    if let Some(pin) = &a.tls_pin {
        rows.push((
            "gateway certificate",
            format!("SHA-256 {} ({})", pin.sha256, pin.origin),
        ));
        if let Some(refused) = &pin.refused_sha256 {
            rows.push((
                "refused certificate",
                format!(
                    "SHA-256 {refused} (presented instead; `account trust-certificate` trusts it)"
                ),
            ));
        }
    }
    for c in &a.credentials {
        let err = c
            .error
            .as_ref()
            .map(|e| format!(" ({})", e.message))
            .unwrap_or_default();
        rows.push(("credential", format!("{}: {}{err}", c.label, c.masked)));
    }
    rows.extend([
        ("prop firm", p.preset.to_string()),
        ("max daily loss", pct(p.max_daily_loss_pct)),
        ("max total loss", pct(p.max_total_loss_pct)),
        ("profit target", pct(p.profit_target_pct)),
        (
            "initial balance",
            p.initial_balance
                .map_or_else(|| "(the first balance seen)".into(), |b| b.to_string()),
        ),
        ("daily base", p.daily_base.to_string()),
        (
            "daily reset",
            format!("{} {}", p.reset_time, p.reset_timezone),
        ),
        ("max loss mode", p.max_loss_mode.to_string()),
        ("daily breach", p.daily_breach.to_string()),
        (
            "safety buffer",
            p.safety_buffer_pct.map_or_else(
                || "- (acts at the limit)".into(),
                |b| format!("acts at {b}% of a limit"),
            ),
        ),
        ("close on breach", yes_no(p.close_on_breach)),
        ("warn levels", levels(&p.warn_levels)),
        ("max position size", pct(r.max_position_size_pct)),
        ("max open positions", opt(&r.max_open_positions)),
        ("max qty", opt(&r.max_qty)),
        ("max leverage", opt(&r.max_leverage)),
        ("max risk per trade", pct(r.max_risk_per_trade_pct)),
        ("require stop loss", yes_no(r.require_stop_loss)),
        ("max correlation", opt(&r.max_correlation)),
        (
            "allowed instruments",
            if r.allowed_instruments.is_empty() {
                "any".into()
            } else {
                r.allowed_instruments.join(", ")
            },
        ),
        ("pairs", list(&a.instruments)),
        ("timeframes", list(&a.timeframes)),
        (
            "trading hours",
            a.trading_hours.as_ref().map_or_else(
                || "any time".into(),
                |h| format!("{}-{} {}", h.start, h.end, h.timezone),
            ),
        ),
        ("weekend trading", yes_no(a.weekend_trading)),
        ("created", a.created_at.clone()),
        ("updated", a.updated_at.clone()),
    ]);
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "{k:<width$}  {v}");
    }
    out
}

pub fn status(s: &VaultStatus) -> String {
    let protection = match s.protection {
        Some(VaultProtection::Password) => "master password",
        Some(VaultProtection::Keychain) => "OS keychain",
        None => "-",
    };
    let keychain = match &s.keychain_error {
        None => "available".to_string(),
        Some(e) => format!("unavailable ({e})"),
    };
    let mut out = String::new();
    let _ = writeln!(out, "data dir     {}", s.data_dir);
    let _ = writeln!(out, "initialized  {}", yes_no(s.initialized));
    if s.initialized {
        let _ = writeln!(out, "locked       {}", yes_no(s.locked));
        let _ = writeln!(out, "protection   {protection}");
        let _ = writeln!(out, "key gen.     {}", s.key_generation);
    }
    let _ = writeln!(out, "keychain     {keychain}");
    if let Some(e) = &s.auto_unlock_error {
        let _ = writeln!(out, "auto-unlock  failed: {}", e.message);
    }
    let _ = writeln!(out, "version      {}", s.version);
    out
}

pub fn brokers(brokers: &[BrokerInfo], presets: &[PropFirmPresetInfo]) -> String {
    let mut out = String::new();
    for b in brokers {
        let _ = writeln!(out, "{} ({})\n  {}", b.kind, b.label, b.description);
        for e in &b.environments {
            let urls = match (&e.rest_url, &e.stream_url) {
                (Some(r), Some(s)) => format!(": {r} | {s}"),
                (Some(r), None) => format!(": {r}"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  --env {:<8}  {}{urls}",
                e.environment.as_str(),
                e.label
            );
        }
        for c in &b.credential_fields {
            let flag = if c.field.as_str() == "api_key" {
                "--api-key"
            } else {
                "--api-secret"
            };
            let need = if c.required { "required" } else { "optional" };
            let _ = writeln!(out, "  {flag}  {} ({need}): {}", c.label, c.help);
        }
        if b.credential_fields.is_empty() {
            let _ = writeln!(out, "  no credentials stored");
        }
        if !b.account_id_placeholder.is_empty() {
            let need = if b.account_id_required {
                "required"
            } else {
                "optional"
            };
            let _ = writeln!(
                out,
                "  --account-id  {} ({need}, e.g. {}): {}",
                b.account_id_label, b.account_id_placeholder, b.account_id_help
            );
        }
        out.push('\n');
    }
    out.push_str(
        "Prop-firm presets (--prop-firm): daily loss / total loss / profit target, daily reset\n",
    );
    for p in presets {
        let _ = writeln!(
            out,
            "  {:<18} {} / {} / {}, {} {}  {}",
            p.preset.to_string(),
            pct(p.max_daily_loss_pct),
            pct(p.max_total_loss_pct),
            pct(p.profit_target_pct),
            p.reset_time,
            p.reset_timezone,
            p.label
        );
    }
    out
}

pub fn twofa_status(s: &TwoFactorStatus) -> String {
    let state = if s.enabled {
        "on"
    } else if s.pending {
        "set up, not yet on (confirm with `brokerdesk twofa enable CODE`)"
    } else {
        "off (`brokerdesk twofa setup` starts it)"
    };
    let mut rows: Vec<(&str, String)> = vec![("two-factor", state.to_string())];
    if s.enabled {
        rows.push(("backup codes", format!("{} left", s.backup_codes_remaining)));
        rows.push((
            "step-up",
            s.step_up_until.as_ref().map_or_else(
                || "closed (sensitive changes need --totp CODE)".to_string(),
                |t| format!("open until {t}"),
            ),
        ));
    }
    if let Some(t) = &s.locked_until {
        rows.push(("locked out", format!("until {t} (too many wrong codes)")));
    }
    if s.failed_attempts > 0 {
        rows.push(("failed codes", format!("{} in a row", s.failed_attempts)));
    }
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "{k:<width$}  {v}");
    }
    out
}

/// Lists fresh backup codes with the warning that goes with them.
pub fn backup_codes(codes: &[String]) -> String {
    let mut out = String::from(
        "Backup codes: each works once, in place of a code from the app. Store them now\n\
         somewhere safe and offline (a password manager, paper): they are not shown again.\n\n",
    );
    for c in codes {
        let _ = writeln!(out, "  {c}");
    }
    out
}

/// `2025-01-31T12:34:56.123456Z` as `2025-01-31 12:34:56` (the table's header says UTC).
fn short_time(at: &str) -> String {
    let t: String = at.chars().take(19).collect();
    t.replacen('T', " ", 1)
}

pub fn audit_table(entries: &[AuditEntry]) -> String {
    if entries.is_empty() {
        return "No audit entries match.\n".to_string();
    }
    let mut rows = vec![["TIME (UTC)", "EVENT", "ACTOR", "ACCOUNT", "DETAIL"]
        .map(String::from)
        .to_vec()];
    for e in entries {
        rows.push(vec![
            short_time(&e.at),
            e.event.as_str().to_string(),
            e.actor.clone(),
            e.account_id
                .as_deref()
                .map_or_else(|| "-".to_string(), short_id),
            if e.detail.is_empty() {
                "-".to_string()
            } else {
                e.detail.clone()
            },
        ]);
    }
    table(&rows)
}

pub fn settings(s: &AppSettings) -> String {
    let auto_lock = s.auto_lock_minutes.map_or_else(
        || "off".to_string(),
        |m| format!("after {m} idle minutes (a vault with a master password)"),
    );
    format!(
        "auto-lock      {auto_lock}\nprice updates  at most {} per instrument per second (in the app)\n",
        s.price_updates_per_second
    )
}

/// One line on what checking with the broker found.
pub fn check_line(c: &brokerdesk_core::api::CheckOutcome) -> String {
    use brokerdesk_core::api::CheckOutcome;
    match c {
        CheckOutcome::Verified { summary: s } => format!(
            "Verified with the broker: account ••••{} ({}, {}): balance {:.2}, equity {:.2}, buying power {:.2}\n",
            s.account_last4, s.account_type, s.currency, s.balance, s.equity, s.buying_power
        ),
        CheckOutcome::Unreachable { message, .. } => {
            format!("Not verified (saved without checking): {message}\n")
        }
        CheckOutcome::Skipped { reason } => format!("Not checked with the broker: {reason}\n"),
    }
}

/// An amount in the account currency, two decimals.
fn amount(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// `part` as a percentage of `whole`, two decimals (`-` when `whole` is 0).
fn share(part: Decimal, whole: Decimal) -> String {
    if whole.is_zero() {
        "-".to_string()
    } else {
        format!("{:.2}%", (part / whole * Decimal::ONE_HUNDRED).round_dp(2))
    }
}

/// A UTC instant, and the same instant on the firm's clock when it has a zone.
fn firm_time(t: chrono::DateTime<chrono::Utc>, zone: &str) -> String {
    let utc = t.format("%Y-%m-%d %H:%M UTC").to_string();
    match brokerdesk_core::risk::ResetClock::parse("00:00", zone) {
        Some(c) if zone != "UTC" => format!(
            "{utc} ({} {zone})",
            t.with_timezone(&c.zone).format("%Y-%m-%d %H:%M")
        ),
        _ => utc,
    }
}

/// `risk show`: the account's standing, money, clock, budgets and limits. `account` adds the
/// rules' percentages and the limits (the report itself carries the figures).
pub fn risk_report(r: &RiskReport, account: Option<&Account>) -> String {
    let mut out = String::new();
    let ccy = if r.currency.is_empty() {
        String::new()
    } else {
        format!(" {}", r.currency)
    };
    let money = |d: Option<Decimal>| d.map_or_else(|| "-".to_string(), |d| amount(d) + &ccy);
    let _ = writeln!(
        out,
        "{} ({}): {}, {} mode, prop firm {}",
        r.name,
        short_id(&r.account_id),
        r.status,
        r.mode,
        r.preset
    );
    let _ = writeln!(
        out,
        "balance {}, equity {}, initial balance {} ({})",
        money(r.balance),
        money(r.equity),
        money(r.initial_balance),
        if r.initial_balance_source == "configured" {
            "configured"
        } else {
            "the first balance seen"
        }
    );
    match (r.day_started_at, r.next_reset_at) {
        (Some(start), Some(next)) => {
            let _ = writeln!(
                out,
                "firm clock: day started {}, next reset {}, zone {}",
                firm_time(start, &r.reset_timezone),
                firm_time(next, &r.reset_timezone),
                r.reset_timezone
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "firm clock: - (no loss rules), zone {}",
                r.reset_timezone
            );
        }
    }
    if let Some(u) = &r.unmeasured {
        let _ = writeln!(out, "unmeasured: {u}");
    }

    let rules = account.map(|a| &a.prop_firm);
    let rule_pct = |v: Option<Decimal>, b: &Budget| match v {
        Some(p) => format!("{}%", p.normalize()),
        None => r
            .initial_balance
            .map_or_else(|| "-".to_string(), |i| share(b.limit, i)),
    };
    let mut rows = vec![[
        "BUDGET",
        "LIMIT",
        "USED",
        "REMAINING",
        "FLOOR",
        "BROKERDESK ACTS AT",
    ]
    .map(String::from)
    .to_vec()];
    for (name, budget, pct_rule) in [
        ("daily", &r.daily, rules.and_then(|p| p.max_daily_loss_pct)),
        ("total", &r.total, rules.and_then(|p| p.max_total_loss_pct)),
    ] {
        let Some(b) = budget else { continue };
        let acts_at = b.reference - b.trigger;
        rows.push(vec![
            name.to_string(),
            format!("{} ({})", amount(b.limit), rule_pct(pct_rule, b)),
            format!("{} ({:.2}%)", amount(b.used), b.used_pct),
            format!("{} ({})", amount(b.remaining), share(b.remaining, b.limit)),
            amount(b.floor),
            format!(
                "{} (at {} of the limit)",
                amount(b.trigger),
                share(acts_at, b.limit)
            ),
        ]);
    }
    out.push('\n');
    if rows.len() == 1 {
        let has_rules =
            rules.is_some_and(|p| p.max_daily_loss_pct.is_some() || p.max_total_loss_pct.is_some());
        out.push_str(if has_rules {
            "Loss budgets: not measured now (see unmeasured).\n"
        } else {
            "Loss budgets: none (no daily or total loss limit; --prop-firm, --max-daily-loss or --max-total-loss set them).\n"
        });
    } else {
        let _ = writeln!(
            out,
            "Loss budgets{}: used and remaining as % of the limit; floor and trigger are equity levels",
            if ccy.is_empty() {
                String::new()
            } else {
                format!(" (in{ccy})")
            }
        );
        out.push_str(&table(&rows));
    }
    if let Some(a) = account {
        let p = &a.prop_firm;
        let l = &a.risk;
        out.push('\n');
        let mut rules_line = vec![
            format!("daily base {}", p.daily_base),
            format!("max loss mode {}", p.max_loss_mode),
            format!("daily breach {}", p.daily_breach),
            format!("close on breach {}", yes_no(p.close_on_breach)),
            format!("warn at {}", levels(&p.warn_levels)),
        ];
        if let Some(b) = p.safety_buffer_pct {
            rules_line.push(format!("safety buffer {b}%"));
        }
        let _ = writeln!(out, "rules   {}", rules_line.join(", "));
        let mut limits = Vec::new();
        if let Some(q) = l.max_qty {
            limits.push(format!("max qty {q}"));
        }
        if let Some(v) = l.max_position_size_pct {
            limits.push(format!("max position size {v}% of equity"));
        }
        if let Some(v) = l.max_open_positions {
            limits.push(format!("max open positions {v}"));
        }
        if let Some(v) = l.max_leverage {
            limits.push(format!("max leverage {v}:1"));
        }
        if let Some(v) = l.max_risk_per_trade_pct {
            limits.push(format!("max risk per trade {v}% of equity"));
        }
        if l.require_stop_loss {
            limits.push("stop-loss required".into());
        }
        if !l.allowed_instruments.is_empty() {
            limits.push(format!("only {}", l.allowed_instruments.join(", ")));
        }
        if let Some(h) = &a.trading_hours {
            limits.push(format!("trading {}-{} {}", h.start, h.end, h.timezone));
        }
        if !a.weekend_trading {
            limits.push("no weekend trading".into());
        }
        let _ = writeln!(
            out,
            "limits  {}",
            if limits.is_empty() {
                "none".to_string()
            } else {
                limits.join(", ")
            }
        );
    }
    out
}

/// The kill switch's report: per account, its orders and positions; failures named.
pub fn kill_report(r: &KillSwitchReport) -> String {
    let mut out = String::new();
    let orders: usize = r.accounts.iter().map(|a| a.orders.len()).sum();
    let positions: usize = r.accounts.iter().map(|a| a.positions.len()).sum();
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let _ = writeln!(
        out,
        "Kill switch{}: {} on paper and stopped, {} handled, {} {}, {} ({} ms).",
        if r.flatten { " with flatten" } else { "" },
        n(r.accounts.len(), "account", "accounts"),
        n(orders, "open order", "open orders"),
        n(positions, "live position", "live positions"),
        if r.flatten { "closed" } else { "left open" },
        n(
            usize::try_from(r.failures).unwrap_or(usize::MAX),
            "failure",
            "failures"
        ),
        r.elapsed_ms
    );
    for a in &r.accounts {
        let _ = writeln!(
            out,
            "\n{} ({}): {}{}",
            a.name,
            short_id(&a.account_id),
            if a.was_live {
                "was live, now paper, "
            } else {
                "paper, "
            },
            a.status
        );
        if a.orders.is_empty() && a.positions.is_empty() && a.error.is_none() {
            out.push_str("  no open orders\n");
        }
        for o in &a.orders {
            let _ = writeln!(
                out,
                "  order     {:<8}  {:<10} {}{}",
                short_id(&o.order_id),
                o.symbol,
                o.outcome,
                o.detail
                    .as_deref()
                    .filter(|d| *d != o.outcome)
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            );
        }
        for p in &a.positions {
            let _ = writeln!(
                out,
                "  position  {:<10} {:>14}  {}{}{}",
                p.symbol,
                p.quantity.to_string(),
                p.outcome,
                p.order_id
                    .as_deref()
                    .map(|id| format!(" by order {}", short_id(id)))
                    .unwrap_or_default(),
                p.detail
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            );
        }
        if let Some(e) = &a.error {
            let _ = writeln!(out, "  failed: {} ({})", e.message, e.code);
        }
    }
    out
}
