//! Printing: one JSON document on stdout with `--json`, else human text (results on stdout,
//! errors on stderr). Only core's masked values are ever printed; no secret reaches here.

use brokerdesk_core::Code;
use std::fmt::Write as _;

use brokerdesk_core::accounts::catalog::{BrokerInfo, PropFirmPresetInfo};
use brokerdesk_core::accounts::model::{Account, MaskedCredential};
use brokerdesk_core::audit::AuditEntry;
use brokerdesk_core::money::{self, Decimal};
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

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
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
        ("status", a.status.to_string()),
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
        ("max position size", pct(r.max_position_size_pct)),
        ("max open positions", opt(&r.max_open_positions)),
        ("max qty", opt(&r.max_qty)),
        ("max leverage", opt(&r.max_leverage)),
        ("require stop loss", yes_no(r.require_stop_loss)),
        ("max correlation", opt(&r.max_correlation)),
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
    out.push_str("Prop-firm presets (--prop-firm): daily loss / total loss / profit target\n");
    for p in presets {
        let _ = writeln!(
            out,
            "  {:<12} {} / {} / {}",
            p.preset.to_string(),
            pct(p.max_daily_loss_pct),
            pct(p.max_total_loss_pct),
            pct(p.profit_target_pct)
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
