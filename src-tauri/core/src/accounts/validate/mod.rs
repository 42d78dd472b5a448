//! Validation of [`AccountInput`]: every problem is reported at once, each with the path of
//! its field, a stable code and a message a trader understands.

use std::collections::HashSet;
use std::str::FromStr;

use url::Url;

use super::catalog::{broker_info, prop_firm_preset, PropFirmPresetInfo};
use super::model::{
    AccountInput, BreachAction, BrokerKind, CredentialField, DailyBase, Environment, MaxLossMode,
    PropFirmPreset, PropFirmRules, TradingHours,
};
use crate::error::{FieldCode, FieldError};
use crate::money::Decimal;
use crate::secret::Secret;

pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_SECRET_CHARS: usize = 4096;
pub const MAX_INSTRUMENTS: usize = 500;
pub const MAX_REASON_CHARS: usize = 500;

/// How the input relates to what is stored.
pub enum Context<'a> {
    /// A new account: required credentials must be present.
    Create,
    /// A new account from an imported configuration file: credentials may be missing (the
    /// account is stored without them, cannot connect, and shows that they are missing until
    /// the user enters them).
    Import,
    /// An edit of an existing account.
    Update {
        broker: BrokerKind,
        environment: Environment,
        /// Fields that currently have a stored secret.
        stored: &'a [CredentialField],
        /// An import replacing the account's configuration: a required credential with no
        /// stored value may stay missing (as for [`Context::Import`]).
        import: bool,
    },
}

/// Normalises and checks `input` in place (trims text, upper-cases symbols, dedupes lists).
/// Returns every problem found.
pub fn validate(input: &mut AccountInput, ctx: &Context<'_>) -> Result<(), Vec<FieldError>> {
    let mut errs = Vec::new();
    let info = broker_info(input.broker);

    // Name.
    input.name = input.name.trim().to_string();
    let n = input.name.chars().count();
    if n == 0 {
        errs.push(FieldError::new(
            "name",
            FieldCode::Required,
            "Give the account a name.",
        ));
    } else if n > MAX_NAME_CHARS {
        errs.push(FieldError::new(
            "name",
            FieldCode::TooLong,
            format!("Use at most {MAX_NAME_CHARS} characters."),
        ));
    } else if input.name.chars().any(char::is_control) {
        errs.push(FieldError::new(
            "name",
            FieldCode::Invalid,
            "The name cannot contain control characters.",
        ));
    }

    // Broker and environment.
    if let Context::Update { broker, .. } = ctx {
        if *broker != input.broker {
            errs.push(FieldError::new(
                "broker",
                FieldCode::Immutable,
                "The broker of an account cannot change; add a new account instead.",
            ));
        }
    }
    if !info
        .environments
        .iter()
        .any(|e| e.environment == input.environment)
    {
        errs.push(FieldError::new(
            "environment",
            FieldCode::Unsupported,
            format!("{} has no {} environment.", info.label, input.environment),
        ));
    }

    // Broker account id.
    input.broker_account_id = normalise_opt(input.broker_account_id.take());
    match &input.broker_account_id {
        None if info.account_id_required => errs.push(FieldError::new(
            "brokerAccountId",
            FieldCode::Required,
            format!(
                "{} needs the {}.",
                info.label,
                in_sentence(&info.account_id_label)
            ),
        )),
        Some(id)
            if id.len() > 64
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
        {
            errs.push(FieldError::new(
                "brokerAccountId",
                FieldCode::Invalid,
                "Use letters, digits, '-', '_' or '.' only (at most 64).",
            ))
        }
        _ => {}
    }

    // Credentials.
    let env_changed =
        matches!(ctx, Context::Update { environment, .. } if *environment != input.environment);
    for spec in &info.credential_fields {
        let path = match spec.field {
            CredentialField::ApiKey => "credentials.apiKey",
            CredentialField::ApiSecret => "credentials.apiSecret",
        };
        match input.credentials.get(spec.field) {
            Some(secret) => {
                if let Some(e) = check_secret(path, &spec.label, secret) {
                    errs.push(e);
                }
            }
            None => {
                let (stored, import) = match ctx {
                    Context::Import => continue,
                    Context::Create => (false, false),
                    Context::Update { stored, import, .. } => {
                        (stored.contains(&spec.field), *import)
                    }
                };
                let may_stay_missing = import && !stored;
                if spec.required && !may_stay_missing && (!stored || env_changed) {
                    let msg = if env_changed && stored {
                        format!("Enter the {} for the new environment: practice and live credentials differ.", in_sentence(&spec.label))
                    } else {
                        format!("{} needs the {}.", info.label, in_sentence(&spec.label))
                    };
                    errs.push(FieldError::new(path, FieldCode::Required, msg));
                }
            }
        }
    }
    for (field, path) in [
        (CredentialField::ApiKey, "credentials.apiKey"),
        (CredentialField::ApiSecret, "credentials.apiSecret"),
    ] {
        if input.credentials.get(field).is_some()
            && !info.credential_fields.iter().any(|s| s.field == field)
        {
            errs.push(FieldError::new(
                path,
                FieldCode::NotApplicable,
                format!("{} does not use this credential.", info.label),
            ));
        }
    }

    // Endpoint overrides.
    input.rest_url = normalise_opt(input.rest_url.take());
    input.stream_url = normalise_opt(input.stream_url.take());
    if input.broker == BrokerKind::Paper && (input.rest_url.is_some() || input.stream_url.is_some())
    {
        errs.push(FieldError::new(
            "restUrl",
            FieldCode::NotApplicable,
            "The built-in paper broker has no endpoints.",
        ));
    } else {
        if let Some(u) = &input.rest_url {
            if let Err(m) = check_url(u, &["https", "http"]) {
                errs.push(FieldError::new("restUrl", FieldCode::Invalid, m));
            }
        }
        if let Some(u) = &input.stream_url {
            if let Err(m) = check_url(u, &["https", "http", "wss", "ws"]) {
                errs.push(FieldError::new("streamUrl", FieldCode::Invalid, m));
            }
        }
    }

    check_prop_firm(input, &mut errs);
    check_risk(input, &mut errs);

    // Instruments: upper-case, dedupe (keeping order), validate.
    let mut seen = HashSet::new();
    let mut instruments = Vec::new();
    for (idx, raw) in input.instruments.drain(..).enumerate() {
        let s = raw.trim().to_ascii_uppercase();
        if s.is_empty() {
            continue;
        }
        if s.len() > 32
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._/:-".contains(c))
        {
            errs.push(FieldError::new(
                format!("instruments[{idx}]"),
                FieldCode::Invalid,
                format!("{raw:?} is not a symbol: use letters, digits and . _ / : - (at most 32)."),
            ));
            continue;
        }
        if seen.insert(s.clone()) {
            instruments.push(s);
        }
    }
    if instruments.len() > MAX_INSTRUMENTS {
        errs.push(FieldError::new(
            "instruments",
            FieldCode::TooMany,
            format!("At most {MAX_INSTRUMENTS} instruments."),
        ));
    }
    input.instruments = instruments;
    let mut tf_seen = HashSet::new();
    input.timeframes.retain(|t| tf_seen.insert(*t));
    input
        .timeframes
        .sort_by_key(|t| super::model::Timeframe::ALL.iter().position(|x| x == t));

    if let Some(h) = &mut input.trading_hours {
        check_hours(h, &mut errs);
    }

    input.status_reason = normalise_opt(input.status_reason.take());
    if input
        .status_reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        errs.push(FieldError::new(
            "statusReason",
            FieldCode::TooLong,
            format!("Use at most {MAX_REASON_CHARS} characters."),
        ));
    }

    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

/// A label as it reads inside a sentence: "Account number" → "account number", while
/// acronyms stay as they are ("API access token", "v20 account ID").
pub fn in_sentence(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => {
            first.to_lowercase().chain(label.chars().skip(1)).collect()
        }
        _ => label.to_string(),
    }
}

fn normalise_opt(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn check_secret(path: &str, label: &str, s: &Secret) -> Option<FieldError> {
    let v = s.expose();
    if v.is_empty() {
        return Some(FieldError::new(
            path,
            FieldCode::Required,
            format!("The {} is empty.", in_sentence(label)),
        ));
    }
    if v.trim() != v {
        return Some(FieldError::new(
            path,
            FieldCode::Whitespace,
            format!(
                "The {} has spaces or a line break at its start or end; paste it again.",
                in_sentence(label)
            ),
        ));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(FieldError::new(
            path,
            FieldCode::Invalid,
            format!(
                "The {} cannot contain spaces or control characters.",
                in_sentence(label)
            ),
        ));
    }
    if !v.is_ascii() {
        return Some(FieldError::new(
            path,
            FieldCode::Invalid,
            format!(
                "The {} must be plain ASCII: check for a stray character from copying.",
                in_sentence(label)
            ),
        ));
    }
    if s.char_len() > MAX_SECRET_CHARS {
        return Some(FieldError::new(
            path,
            FieldCode::TooLong,
            format!(
                "The {} is longer than {MAX_SECRET_CHARS} characters.",
                in_sentence(label)
            ),
        ));
    }
    None
}

/// Checks an endpoint URL: allowed scheme, a host, no credentials in it, and plain
/// (unencrypted) schemes only towards this machine, so a token never crosses a network in
/// clear text.
pub fn check_url(raw: &str, schemes: &[&str]) -> Result<(), String> {
    let u = Url::parse(raw).map_err(|e| format!("Not a valid URL ({e})."))?;
    if !schemes.contains(&u.scheme()) {
        return Err(format!(
            "Use one of: {}.",
            schemes
                .iter()
                .map(|s| format!("{s}://"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let host = u.host_str().ok_or("The URL has no host.")?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err("Do not put credentials in the URL; use the credential fields.".into());
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err("The URL cannot have a query or fragment.".into());
    }
    let plain = matches!(u.scheme(), "http" | "ws");
    if plain && !is_loopback(host) {
        return Err(format!(
            "Unencrypted {}:// is allowed only for this machine (localhost); use {}s://.",
            u.scheme(),
            u.scheme()
        ));
    }
    Ok(())
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_pct(errs: &mut Vec<FieldError>, path: &str, v: Option<Decimal>, label: &str) {
    if let Some(x) = v {
        if x <= Decimal::ZERO || x > Decimal::ONE_HUNDRED {
            errs.push(FieldError::new(
                path,
                FieldCode::OutOfRange,
                format!("{label} must be more than 0 and at most 100 (%)."),
            ));
        }
    }
}

fn check_prop_firm(input: &mut AccountInput, errs: &mut Vec<FieldError>) {
    let r = &mut input.prop_firm;
    check_pct(
        errs,
        "propFirm.maxDailyLossPct",
        r.max_daily_loss_pct,
        "Max daily loss",
    );
    check_pct(
        errs,
        "propFirm.maxTotalLossPct",
        r.max_total_loss_pct,
        "Max total loss",
    );
    check_pct(
        errs,
        "propFirm.profitTargetPct",
        r.profit_target_pct,
        "Profit target",
    );
    if let (Some(d), Some(t)) = (r.max_daily_loss_pct, r.max_total_loss_pct) {
        if d > t {
            errs.push(FieldError::new(
                "propFirm.maxDailyLossPct",
                FieldCode::Inconsistent,
                "Max daily loss cannot exceed max total loss.",
            ));
        }
    }
    r.reset_time = r.reset_time.trim().to_string();
    r.reset_timezone = r.reset_timezone.trim().to_string();
    if parse_hhmm(&r.reset_time).is_none() {
        errs.push(FieldError::new(
            "propFirm.resetTime",
            FieldCode::Invalid,
            "Use HH:MM, 24-hour (e.g. 00:00 or 17:00).",
        ));
    }
    if chrono_tz::Tz::from_str(&r.reset_timezone).is_err() {
        errs.push(FieldError::new(
            "propFirm.resetTimezone",
            FieldCode::Invalid,
            format!(
                "{:?} is not an IANA time zone (e.g. Europe/Prague, America/New_York, UTC).",
                r.reset_timezone
            ),
        ));
    }
    if let Some(b) = r.initial_balance {
        if b <= Decimal::ZERO || b > Decimal::from(1_000_000_000_000i64) {
            errs.push(FieldError::new(
                "propFirm.initialBalance",
                FieldCode::OutOfRange,
                "The initial balance must be a positive amount.",
            ));
        }
    }
    check_pct(
        errs,
        "propFirm.safetyBufferPct",
        r.safety_buffer_pct,
        "The safety buffer",
    );
    if let Some(b) = r.safety_buffer_pct {
        if b < Decimal::from(50) && b > Decimal::ZERO {
            errs.push(FieldError::new(
                "propFirm.safetyBufferPct",
                FieldCode::OutOfRange,
                "The safety buffer acts at 50 to 100% of a limit.",
            ));
        }
    }
    r.warn_levels.sort_unstable();
    r.warn_levels.dedup();
    if r.warn_levels.iter().any(|l| *l == 0 || *l >= 100) || r.warn_levels.len() > 5 {
        errs.push(FieldError::new(
            "propFirm.warnLevels",
            FieldCode::OutOfRange,
            "Up to five warning levels, each between 1 and 99 (%).",
        ));
    }
    fill_preset(r);
}

/// Makes a rule set what it will be stored as: a preset with its numbers unset takes the
/// preset's numbers and clock; a preset whose numbers or clock were changed becomes custom;
/// numbers without a preset are custom.
pub fn fill_preset(r: &mut PropFirmRules) {
    match r.preset {
        PropFirmPreset::None => {
            if r.max_daily_loss_pct.is_some()
                || r.max_total_loss_pct.is_some()
                || r.profit_target_pct.is_some()
            {
                // Values without a preset are a custom rule set.
                r.preset = PropFirmPreset::Custom;
            }
        }
        PropFirmPreset::Custom => {}
        preset => {
            // A preset is the firm's numbers and clock. Unset numbers take the preset's; any
            // other value makes the rules custom (the preset's name would lie otherwise).
            let p = prop_firm_preset(preset);
            let unset = r.max_daily_loss_pct.is_none()
                && r.max_total_loss_pct.is_none()
                && r.profit_target_pct.is_none();
            if unset {
                r.max_daily_loss_pct = p.max_daily_loss_pct;
                r.max_total_loss_pct = p.max_total_loss_pct;
                r.profit_target_pct = p.profit_target_pct;
                r.daily_base = p.daily_base;
                r.reset_time = p.reset_time.clone();
                r.reset_timezone = p.reset_timezone.clone();
                r.max_loss_mode = p.max_loss_mode;
                r.daily_breach = p.daily_breach;
            } else if !matches_preset(r, &p) {
                // The firm's numbers with the default clock (an older client that knew only
                // the numbers): the firm's clock is meant.
                let numbers_match = r.max_daily_loss_pct == p.max_daily_loss_pct
                    && r.max_total_loss_pct == p.max_total_loss_pct
                    && r.profit_target_pct == p.profit_target_pct;
                let default_clock = r.reset_time == "00:00"
                    && r.reset_timezone == "UTC"
                    && r.daily_base == DailyBase::InitialBalance
                    && r.max_loss_mode == MaxLossMode::Static
                    && r.daily_breach == BreachAction::Pause;
                if numbers_match && default_clock {
                    r.daily_base = p.daily_base;
                    r.reset_time = p.reset_time.clone();
                    r.reset_timezone = p.reset_timezone.clone();
                    r.max_loss_mode = p.max_loss_mode;
                    r.daily_breach = p.daily_breach;
                } else {
                    r.preset = PropFirmPreset::Custom;
                }
            }
        }
    }
}

/// Whether a rule set is exactly a preset's numbers and clock.
pub fn matches_preset(r: &PropFirmRules, p: &PropFirmPresetInfo) -> bool {
    r.max_daily_loss_pct == p.max_daily_loss_pct
        && r.max_total_loss_pct == p.max_total_loss_pct
        && r.profit_target_pct == p.profit_target_pct
        && r.daily_base == p.daily_base
        && r.reset_time == p.reset_time
        && r.reset_timezone == p.reset_timezone
        && r.max_loss_mode == p.max_loss_mode
        && r.daily_breach == p.daily_breach
}

fn check_risk(input: &mut AccountInput, errs: &mut Vec<FieldError>) {
    for i in &mut input.risk.allowed_instruments {
        *i = i.trim().to_string();
    }
    input.risk.allowed_instruments.dedup();
    let r = &input.risk;
    check_pct(
        errs,
        "risk.maxPositionSizePct",
        r.max_position_size_pct,
        "Max position size",
    );
    if let Some(n) = r.max_open_positions {
        if n == 0 || n > 10_000 {
            errs.push(FieldError::new(
                "risk.maxOpenPositions",
                FieldCode::OutOfRange,
                "Max open positions must be between 1 and 10000.",
            ));
        }
    }
    if let Some(q) = r.max_qty {
        if q <= Decimal::ZERO || q > Decimal::from(1_000_000_000) {
            errs.push(FieldError::new(
                "risk.maxQty",
                FieldCode::OutOfRange,
                "Max quantity must be a positive number.",
            ));
        }
    }
    if let Some(l) = r.max_leverage {
        if !(Decimal::ONE..=Decimal::ONE_THOUSAND).contains(&l) {
            errs.push(FieldError::new(
                "risk.maxLeverage",
                FieldCode::OutOfRange,
                "Max leverage must be between 1 and 1000 (e.g. 30 for 30:1).",
            ));
        }
    }
    check_pct(
        errs,
        "risk.maxRiskPerTradePct",
        r.max_risk_per_trade_pct,
        "Max risk per trade",
    );
    if r.allowed_instruments.len() > 500
        || r.allowed_instruments
            .iter()
            .any(|i| i.trim().is_empty() || i.len() > 32)
    {
        errs.push(FieldError::new(
            "risk.allowedInstruments",
            FieldCode::Invalid,
            "Allowed instruments: up to 500 symbols of at most 32 characters.",
        ));
    }
    if let Some(c) = r.max_correlation {
        if !(Decimal::ZERO..=Decimal::ONE).contains(&c) {
            errs.push(FieldError::new(
                "risk.maxCorrelation",
                FieldCode::OutOfRange,
                "Max correlation must be between 0 and 1.",
            ));
        }
    }
}

fn check_hours(h: &mut TradingHours, errs: &mut Vec<FieldError>) {
    h.start = h.start.trim().to_string();
    h.end = h.end.trim().to_string();
    h.timezone = h.timezone.trim().to_string();
    let start = parse_hhmm(&h.start);
    let end = parse_hhmm(&h.end);
    if start.is_none() {
        errs.push(FieldError::new(
            "tradingHours.start",
            FieldCode::Invalid,
            "Use HH:MM, 24-hour (e.g. 08:00).",
        ));
    }
    if end.is_none() {
        errs.push(FieldError::new(
            "tradingHours.end",
            FieldCode::Invalid,
            "Use HH:MM, 24-hour (e.g. 17:30).",
        ));
    }
    if start.is_some() && start == end {
        errs.push(FieldError::new(
            "tradingHours.end",
            FieldCode::EmptyWindow,
            "Start and end are equal: the window would be empty.",
        ));
    }
    if chrono_tz::Tz::from_str(&h.timezone).is_err() {
        errs.push(FieldError::new(
            "tradingHours.timezone",
            FieldCode::Invalid,
            format!(
                "{:?} is not an IANA time zone (e.g. America/New_York, Europe/London, UTC).",
                h.timezone
            ),
        ));
    }
}

/// Parses `HH:MM` into minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests;
