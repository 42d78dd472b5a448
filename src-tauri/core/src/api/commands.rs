//! The IPC contract: every command the window may call, declared once with its argument and
//! result types.
//!
//! From this one list come
//! - [`dispatch`]: runs a command by name with JSON arguments — the Tauri shell's invoke
//!   handler and the development server's `POST /api/<command>` both call it, so the browser
//!   tests exercise exactly what the app runs;
//! - [`COMMANDS`]: the names, which the shell registers;
//! - [`typescript_contract`]: `ui/src/bindings/contract.ts`, the `Commands` and `Events` maps
//!   the UI's client is typed by (written by `cargo test -p brokerdesk-core export_bindings`
//!   and checked for drift by the test command).
//!
//! What only the surface can do (native notifications, the clipboard, the Downloads folder,
//! starting at login) comes through [`Host`].

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use ts_rs::{Config, Dependency, TypeVisitor, TS};

use crate::accounts::catalog::{BrokerInfo, PropFirmPresetInfo};
use crate::accounts::model::{Account, AccountInput, AccountStatus, TradingMode};
use crate::accounts::PurgeReport;
use crate::api::backup::BackupStatus;
use crate::api::desktop::Autostart;
use crate::api::{CheckOutcome, SavedAccount, VaultStatus};
use crate::audit::{AuditEntry, AuditFilter, AuditVerification};
use crate::backup::{BackupConfig, BackupFile, BackupVerification};
use crate::brokers::OrderSide;
use crate::brokers::{AccountSummary, BrokerAccountRef};
use crate::connection::manager::AccountConnections;
use crate::error::{ApiError, Code};
use crate::health::{HealthReport, StartupReport};
use crate::history::{ConfigVersion, Rollback};
use crate::import::{ImportPreview, OnConflict};
use crate::portable::ExportFormat;
use crate::risk::RiskReport;
use crate::runtime::clipboard::ClipboardItem;
use crate::runtime::events::Notice;
use crate::runtime::KillSwitchReport;
use crate::runtime::{AccountMoney, OrderEstimate};
use crate::runtime::{Runtime, UiEvent};
use crate::secret::Secret;
use crate::settings::AppSettings;
use crate::stream::{InstrumentInfo, Tick};
use crate::trading::model::{Order, OrderDetail};
use crate::trading::modify::OrderModify;
use crate::trading::OrderDraft;
use crate::twofa::{BackupCodes, TwoFactorSetup, TwoFactorStatus};
use crate::vault::PasswordStrength;

/// The body of the test notification sent from Settings.
pub const TEST_NOTIFICATION: &str = "Brokerdesk notifications work";

/// What a surface provides that the core cannot do itself.
#[async_trait]
pub trait Host: Send + Sync {
    /// Shows a native notification.
    fn notify(&self, notice: &Notice) -> Result<(), ApiError>;

    /// Puts a secret on the clipboard, marked secret for clipboard managers, and clears it
    /// 30 s later if it still holds it.
    async fn clipboard_write_secret(&self, text: Secret) -> Result<(), ApiError>;

    /// Returns the user's Downloads folder, if there is one.
    fn downloads_dir(&self) -> Option<PathBuf>;

    /// Returns whether the app starts at login, as the OS has it now (a surface without
    /// such a mechanism: not available).
    fn autostart(&self) -> Result<Autostart, ApiError> {
        Ok(Autostart::unavailable("this surface cannot start at login"))
    }

    /// Turns starting at login on or off with the OS's own mechanism; returns the state
    /// afterwards. Only [`crate::Brokerdesk::autostart_set`] calls it (guarded, audited).
    fn set_autostart(&self, enabled: bool) -> Result<Autostart, ApiError> {
        let _ = enabled;
        Err(ApiError::new(
            Code::AutostartFailed,
            "this surface cannot start at login",
        ))
    }
}

/// The commands the window may call while the vault is locked (or before it exists): the
/// unlock screen's and the first run's. Every other command is refused with `locked` (or
/// `not_initialized`) here, whatever it would do itself.
pub const WHILE_LOCKED: &[&str] = &[
    "vault_status",
    "vault_init",
    "vault_unlock",
    "vault_password_strength",
    "app_activity",
];

/// What a command runs against.
pub struct Ctx<'a> {
    pub runtime: &'a Arc<Runtime>,
    pub host: &'a dyn Host,
}

/// Declares the commands once: name, arguments, result, body.
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident ( $($arg:ident : $ty:ty),* ) -> $out:ty => |$cx:ident, $a:ident| $body:expr;
    )*) => {
        /// Every command's name, in declaration order.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        $(
            #[allow(non_snake_case, unused_imports)]
            mod $name {
                use super::*;
                /// The command's arguments, as the window sends them (camelCase keys).
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase", deny_unknown_fields)]
                pub struct Args { $(pub $arg: $ty),* }
            }
        )*

        /// Runs the command `name` with `args` (a JSON object; `null` for none).
        pub async fn dispatch(
            cx: &Ctx<'_>,
            name: &str,
            args: serde_json::Value,
        ) -> Result<serde_json::Value, ApiError> {
            let args = if args.is_null() { serde_json::json!({}) } else { args };
            if !WHILE_LOCKED.contains(&name) {
                cx.runtime.core().require_unlocked().await?;
            }
            match name {
                $(stringify!($name) => {
                    let $a: $name::Args = serde_json::from_value(args).map_err(|e| {
                        ApiError::new(
                            Code::Internal,
                            format!("invalid arguments for {}: {e}", stringify!($name)),
                        )
                    })?;
                    let $cx = cx;
                    let out: $out = $body;
                    serde_json::to_value(out).map_err(|e| {
                        ApiError::new(Code::Internal, format!("cannot encode the result: {e}"))
                    })
                })*
                _ => Err(ApiError::new(Code::Internal, format!("no command named {name:?}"))),
            }
        }

        /// Returns each command's `(name, [(argument, TypeScript type)], result type)` and
        /// the exported types they use.
        fn typescript_commands(cfg: &Config, types: &mut BTreeSet<String>) -> Vec<(&'static str, Vec<(String, String)>, String)> {
            vec![$(
                {
                    $(let _ = stringify!($arg); collect::<$ty>(cfg, types);)*
                    collect::<$out>(cfg, types);
                    (
                        stringify!($name),
                        vec![$((camel(stringify!($arg)), <$ty as TS>::name(cfg))),*],
                        <$out as TS>::name(cfg),
                    )
                }
            ),*]
        }
    };
}

commands! {
    /// The vault's state (readable while locked and before the first run).
    vault_status() -> VaultStatus => |cx, _a| cx.runtime.core().status().await?;
    /// Creates the vault; `password` null keeps the key in the OS keychain only.
    vault_init(password: Option<Secret>) -> VaultStatus => |cx, a| cx.runtime.core().init(a.password).await?;
    /// Unlocks; `password` null retries the OS keychain.
    vault_unlock(password: Option<Secret>) -> VaultStatus => |cx, a| cx.runtime.core().unlock(a.password).await?;
    vault_lock() -> VaultStatus => |cx, _a| cx.runtime.core().lock().await?;
    /// Sets (`current` null under keychain protection) or changes the master password.
    vault_change_password(current: Option<Secret>, new_password: Secret) -> VaultStatus =>
        |cx, a| cx.runtime.core().change_password(a.current, a.new_password).await?;
    /// Rates a master password by the policy `vault_init` and `vault_change_password`
    /// enforce (the first-run and password forms' meter); nothing is stored.
    vault_password_strength(password: Secret) -> PasswordStrength =>
        |_cx, a| crate::vault::password_strength(&a.password);
    vault_rotate_key() -> VaultStatus => |cx, _a| cx.runtime.core().rotate_key().await?;

    broker_catalog() -> Vec<BrokerInfo> => |cx, _a| cx.runtime.core().broker_catalog();
    prop_firm_presets() -> Vec<PropFirmPresetInfo> => |cx, _a| cx.runtime.core().prop_firm_presets();

    accounts_list() -> Vec<Account> => |cx, _a| cx.runtime.core().accounts_list().await?;
    account_get(id: String) -> Account => |cx, a| cx.runtime.core().account_get(&a.id).await?;
    /// Adds an account, checking its credentials with the broker first unless `check` is false.
    account_add(input: AccountInput, check: Option<bool>) -> SavedAccount =>
        |cx, a| cx.runtime.core().account_add_checked(a.input, a.check.unwrap_or(true)).await?;
    /// Updates an account, checking changed credentials or endpoints with the broker first
    /// unless `check` is false.
    account_update(id: String, input: AccountInput, check: Option<bool>) -> SavedAccount =>
        |cx, a| cx.runtime.core().account_update_checked(&a.id, a.input, a.check.unwrap_or(true)).await?;
    account_remove(id: String) -> () => |cx, a| { cx.runtime.core().account_remove(&a.id).await?; };
    /// Moves an account between paper and live trading.
    account_set_mode(id: String, mode: TradingMode) -> Account =>
        |cx, a| cx.runtime.core().account_set_mode(&a.id, a.mode).await?;
    /// Checks a saved account's stored credentials with its broker.
    account_verify(id: String) -> AccountSummary => |cx, a| cx.runtime.core().account_verify(&a.id).await?;
    /// "Test connection": checks a draft with the broker, saving nothing.
    account_check(id: Option<String>, input: AccountInput) -> CheckOutcome =>
        |cx, a| cx.runtime.core().account_check(a.id.as_deref(), &a.input).await?;
    /// The broker accounts a draft's credentials reach (the OANDA picker).
    broker_accounts(input: AccountInput) -> Vec<BrokerAccountRef> =>
        |cx, a| cx.runtime.core().broker_accounts(&a.input).await?;
    /// Trusts a new TLS certificate for an account's IBKR gateway on this machine: pins its
    /// SHA-256 `fingerprint` (`AA:BB:…`). Needs a step-up; audited.
    account_trust_certificate(id: String, fingerprint: String) -> Account =>
        |cx, a| cx.runtime.core().account_trust_certificate(&a.id, &a.fingerprint).await?;
    /// Emergency: deletes every stored credential and puts every account in paper mode.
    credentials_purge() -> PurgeReport => |cx, _a| cx.runtime.core().credentials_purge().await?;

    /// Sets an account's watchlist; the runtime applies it to the running stream.
    watchlist_set(id: String, instruments: Vec<String>) -> Account =>
        |cx, a| cx.runtime.core().account_set_instruments(&a.id, a.instruments).await?;
    /// Searches the account's broker for instruments (watchlist autocomplete).
    instruments_search(id: String, query: String) -> Vec<InstrumentInfo> =>
        |cx, a| cx.runtime.core().instruments_search(&a.id, &a.query).await?;
    /// The latest price of every instrument an account streams.
    prices_snapshot(id: String) -> Vec<Tick> => |cx, a| cx.runtime.prices_snapshot(&a.id);

    /// Every account's live connections.
    connections_snapshot() -> Vec<AccountConnections> => |cx, _a| cx.runtime.connections();
    /// Reconnects one account now (skipping the backoff, or after refused credentials).
    connection_reconnect(account_id: String) -> () => |cx, a| cx.runtime.reconnect(&a.account_id)?;
    connections_reconnect_all() -> () => |cx, _a| cx.runtime.reconnect_all();

    twofa_status() -> TwoFactorStatus => |cx, _a| cx.runtime.core().twofa_status().await?;
    twofa_setup() -> TwoFactorSetup => |cx, _a| cx.runtime.core().twofa_setup().await?;
    twofa_enable(code: Secret) -> BackupCodes => |cx, a| cx.runtime.core().twofa_enable(a.code.expose()).await?;
    /// Verifies a TOTP or backup code, opening the 15-minute step-up window.
    twofa_verify(code: Secret) -> TwoFactorStatus => |cx, a| cx.runtime.core().twofa_verify(a.code.expose()).await?;
    twofa_disable() -> TwoFactorStatus => |cx, _a| cx.runtime.core().twofa_disable().await?;
    twofa_regenerate_backup_codes() -> BackupCodes =>
        |cx, _a| cx.runtime.core().twofa_regenerate_backup_codes().await?;

    audit_list(filter: AuditFilter) -> Vec<AuditEntry> => |cx, a| cx.runtime.core().audit_list(&a.filter).await?;
    audit_verify() -> AuditVerification => |cx, _a| cx.runtime.core().audit_verify().await?;
    /// Saves the matching entries as CSV in Downloads (else `<data dir>/exports/`); returns the path.
    audit_export_csv(filter: AuditFilter) -> String =>
        |cx, a| cx.runtime.core().audit_export_file(&a.filter, cx.host.downloads_dir()).await?;
    /// Saves the configuration of every account (or of those named) and the settings as JSON
    /// or YAML in Downloads; returns the file's path. No credentials, unless `passphrase` is
    /// given: then they travel sealed with it (a step-up).
    config_export(format: ExportFormat, accounts: Vec<String>, passphrase: Option<Secret>) -> String =>
        |cx, a| cx.runtime.core().config_export_file(a.format, &a.accounts, a.passphrase, cx.host.downloads_dir()).await?;
    /// What importing a configuration file (its text) would do, per account and field,
    /// changing nothing. `passphrase` opens sealed credentials; `onConflict` says what to do
    /// with accounts whose names exist.
    config_import_preview(text: String, passphrase: Option<Secret>, on_conflict: Option<OnConflict>) -> ImportPreview =>
        |cx, a| cx.runtime.core().config_import_preview(a.text.as_bytes(), a.passphrase, a.on_conflict).await?;
    /// Imports a configuration file (its text): all or nothing, in one transaction, after a
    /// snapshot; new accounts in paper mode. Credentials or loosened rules need the step-up.
    config_import_apply(text: String, passphrase: Option<Secret>, on_conflict: Option<OnConflict>) -> ImportPreview =>
        |cx, a| cx.runtime.core().config_import_apply(a.text.as_bytes(), a.passphrase, a.on_conflict).await?;

    /// The configuration versions of one account (name or id), of `settings`, or of
    /// everything (`null`), newest first.
    config_history(of: Option<String>) -> Vec<ConfigVersion> =>
        |cx, a| cx.runtime.core().config_history(a.of.as_deref()).await?;
    /// Applies a configuration version again, as a new edit (the usual step-ups).
    config_rollback(version: u32) -> Rollback =>
        |cx, a| cx.runtime.core().config_rollback(i64::from(a.version)).await?;
    /// Where backups stand: the passphrase, the schedule, the folder, the last one.
    backup_status() -> BackupStatus => |cx, _a| cx.runtime.core().backup_status().await?;
    /// Sets or changes the backup passphrase (a step-up).
    backup_set_passphrase(passphrase: Secret) -> BackupStatus =>
        |cx, a| cx.runtime.core().backup_set_passphrase(a.passphrase).await?;
    /// Changes the schedule, the folder or the retention.
    backup_configure(config: BackupConfig) -> BackupStatus =>
        |cx, a| cx.runtime.core().backup_configure(a.config).await?;
    /// Makes a backup into the backup folder now.
    backup_create() -> BackupFile => |cx, _a| cx.runtime.core().backup_create(None).await?;
    /// The backups in the backup folder, newest first.
    backup_list() -> Vec<BackupFile> => |cx, _a| cx.runtime.core().backup_list().await?;
    /// Checks one backup in the backup folder (by file name) fully, with the kept key.
    backup_verify(name: String) -> BackupVerification =>
        |cx, a| cx.runtime.core().backup_verify_named(&a.name).await?;
    /// The profile's health checks; with `deep`, each account's broker sign-in too.
    health(deep: bool) -> HealthReport => |cx, a| cx.runtime.core().health(a.deep).await?;
    /// The start-up checks' last outcome: whether the profile runs in the safe state (no
    /// order, no connection, no scheduled backup), and what failed with how to fix it.
    startup_report() -> StartupReport => |cx, _a| cx.runtime.startup_report().await;
    /// Runs the start-up checks again ("Check again"); the safe state is left only when they pass.
    startup_check() -> StartupReport => |cx, _a| cx.runtime.startup_recheck().await;

    /// The settings (readable while locked).
    settings_get() -> AppSettings => |cx, _a| cx.runtime.core().settings().await?;
    settings_update(settings: AppSettings) -> AppSettings =>
        |cx, a| cx.runtime.core().settings_update(a.settings).await?;

    /// Places an order: paper (the paper desk, against the account's quotes) or live (the
    /// broker), per the account's mode.
    order_place(account_id: String, draft: OrderDraft) -> Order =>
        |cx, a| cx.runtime.order_place(&a.account_id, a.draft).await?;
    /// Cancels an open order.
    order_cancel(account_id: String, order_id: String) -> Order =>
        |cx, a| cx.runtime.order_cancel(&a.account_id, &a.order_id).await?;
    /// Changes an open limit or stop order's quantity or price (paper desk, in place at the
    /// broker, or by a replacement order); returns the order as it then stands.
    order_modify(account_id: String, order_id: String, change: OrderModify) -> Order =>
        |cx, a| cx.runtime.order_modify(&a.account_id, &a.order_id, a.change).await?;
    /// Cancels every working live order of an account (when it goes back to paper).
    orders_cancel_live(account_id: String) -> Vec<Order> =>
        |cx, a| cx.runtime.cancel_live_orders(&a.account_id).await?;
    /// An account's orders, newest first (`open`: only the working ones).
    orders_list(account_id: String, open: Option<bool>) -> Vec<Order> =>
        |cx, a| cx.runtime.orders_list(&a.account_id, a.open.unwrap_or(false)).await?;
    /// One order with its history and fills.
    order_show(account_id: String, order_id: String) -> OrderDetail =>
        |cx, a| cx.runtime.order_show(&a.account_id, &a.order_id).await?;
    /// An order ticket's estimate: the current quote, the fill price, cost and margin.
    order_estimate(account_id: String, symbol: String, side: OrderSide, quantity: String, price: Option<String>) -> OrderEstimate =>
        |cx, a| {
            let qty = decimal_arg("quantity", &a.quantity)?;
            let price = a.price.as_deref().filter(|p| !p.trim().is_empty()).map(|p| decimal_arg("price", p)).transpose()?;
            cx.runtime.order_estimate(&a.account_id, &a.symbol, a.side, qty, price).await?
        };
    /// An account's money and positions (paper desk, or the broker's report when live).
    account_money(account_id: String) -> AccountMoney => |cx, a| cx.runtime.account_money(&a.account_id).await?;
    /// Closes a position with a market order.
    position_close(account_id: String, symbol: String) -> Order =>
        |cx, a| cx.runtime.position_close(&a.account_id, &a.symbol).await?;
    /// Starts a paper account over (`balance`: the new starting balance; the current one if null).
    paper_reset(account_id: String, balance: Option<String>) -> AccountMoney =>
        |cx, a| {
            let balance = a.balance.as_deref().filter(|b| !b.trim().is_empty()).map(|b| decimal_arg("balance", b)).transpose()?;
            cx.runtime.paper_reset(&a.account_id, balance).await?
        };
    /// Every order that needs a person to decide (Needs review).
    orders_review() -> Vec<Order> => |cx, _a| cx.runtime.review_list().await?;
    /// Resolves an order in Needs review: placed at the broker (its order id) or not placed.
    order_review_resolve(order_id: String, placed_broker_id: Option<String>) -> Order =>
        |cx, a| cx.runtime.review_resolve(&a.order_id, a.placed_broker_id).await?;

    /// An account's loss budgets, limits and firm clock now.
    risk_report(account_id: String) -> RiskReport => |cx, a| cx.runtime.risk_report(&a.account_id).await?;
    /// Every account's risk now (the dashboard's gauges).
    risk_reports() -> Vec<RiskReport> => |cx, _a| cx.runtime.risk_reports().await?;
    /// Changes an account's status by hand (to active: a step-up; terminated is final).
    account_set_status(id: String, status: AccountStatus, reason: Option<String>) -> Account =>
        |cx, a| cx.runtime.core().account_set_status(&a.id, a.status, a.reason).await?;
    /// Deletes a terminated account's stored credentials (after the user confirmed).
    account_forget_credentials(id: String) -> Account =>
        |cx, a| cx.runtime.core().account_forget_credentials(&a.id).await?;
    /// The kill switch: every account to paper and suspended, every open order cancelled,
    /// with `flatten` every live position closed. No step-up (it only reduces risk).
    kill_switch(flatten: bool) -> KillSwitchReport => |cx, a| cx.runtime.kill_switch(a.flatten).await?;

    /// Records that the user did something (holds off the auto-lock).
    app_activity() -> () => |cx, _a| cx.runtime.touch();
    /// Whether Brokerdesk starts at login (the OS's state, read now).
    autostart_status() -> Autostart => |cx, _a| cx.host.autostart()?;
    /// Turns starting at login (hidden in the tray) on or off; audited, and announced with a
    /// notification when turned on.
    autostart_set(enabled: bool) -> Autostart =>
        |cx, a| cx.runtime.core().autostart_set(cx.host, a.enabled).await?;
    /// Shows a native test notification.
    notify_test() -> () => |cx, _a| cx.host.notify(&Notice::new("Brokerdesk", TEST_NOTIFICATION))?;
    /// Puts what `item` refers to on the clipboard (text the core makes, never the window's)
    /// and clears it 30 s later.
    clipboard_copy(item: ClipboardItem) -> () => |cx, a| {
        let text = cx.runtime.clipboard_text(&a.item).await?;
        cx.host.clipboard_write_secret(text).await?
    };
    /// An account's connection diagnostics report (plain text, no secrets).
    connections_diagnostics(account: String) -> String =>
        |cx, a| cx.runtime.diagnostics_report(&a.account).await?;
}

/// Parses a decimal argument the window sent as text.
fn decimal_arg(field: &str, v: &str) -> Result<rust_decimal::Decimal, ApiError> {
    v.trim().parse().map_err(|_| {
        ApiError::invalid(vec![crate::error::FieldError::new(
            field,
            crate::error::FieldCode::Invalid,
            format!("{v:?} is not a number"),
        )])
    })
}

/// Adds the exported types `T` refers to (itself included) to `types`.
fn collect<T: TS + 'static>(cfg: &Config, types: &mut BTreeSet<String>) {
    struct Names<'a>(&'a Config, &'a mut BTreeSet<String>);
    impl TypeVisitor for Names<'_> {
        fn visit<U: TS + 'static + ?Sized>(&mut self) {
            if let Some(d) = Dependency::from_ty::<U>(self.0) {
                self.1.insert(d.ts_name);
            }
        }
    }
    let mut names = Names(cfg, types);
    names.visit::<T>();
    T::visit_generics(&mut names);
}

/// `new_password` → `newPassword`.
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Returns `contract.ts`: the `Commands` map (arguments and result of each command) and the
/// `Events` map (payload of each event).
pub fn typescript_contract() -> String {
    let cfg = Config::from_env();
    let mut types = BTreeSet::new();
    let commands = typescript_commands(&cfg, &mut types);
    let events = UiEvent::typescript(&cfg);
    for (_, _, deps) in &events {
        for d in deps {
            types.insert(d.ts_name.clone());
        }
    }
    let mut events_types = BTreeSet::new();
    for (_, ts, _) in &events {
        events_types.insert(ts.clone());
    }
    // An event payload that is itself an exported type is imported too.
    for t in events_types {
        let bare = t
            .trim_start_matches("Array<")
            .trim_end_matches('>')
            .to_string();
        if bare.chars().next().is_some_and(char::is_uppercase) {
            types.insert(bare);
        }
    }
    let mut body = String::new();
    body.push_str("\n/** Every command: its arguments (camelCase) and what it resolves to. */\nexport interface Commands {\n");
    for (name, args, result) in &commands {
        let args = if args.is_empty() {
            "Record<string, never>".to_string()
        } else {
            let fields: Vec<String> = args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            format!("{{ {} }}", fields.join("; "))
        };
        body.push_str(&format!(
            "  {name}: {{ args: {args}; result: {result} }};\n"
        ));
    }
    body.push_str("}\n\n/** Every event the window receives: its name and payload. */\nexport interface Events {\n");
    for (name, payload, _) in &events {
        body.push_str(&format!("  \"{name}\": {payload};\n"));
    }
    body.push_str("}\n\n/** The command names. */\nexport const COMMANDS = [\n");
    for (name, _, _) in &commands {
        body.push_str(&format!("  \"{name}\",\n"));
    }
    body.push_str("] as const satisfies readonly (keyof Commands)[];\n\n/** The event names. */\nexport const EVENTS = [\n");
    for (name, _, _) in &events {
        body.push_str(&format!("  \"{name}\",\n"));
    }
    body.push_str("] as const satisfies readonly (keyof Events)[];\n");
    // Import the exported types the maps name (whole words only).
    let mut out = String::from(
        "// Generated from src-tauri/core/src/api/commands.rs and runtime/events.rs by\n\
         // `cargo test -p brokerdesk-core export_bindings`. Do not edit.\n",
    );
    for t in types.iter().filter(|t| names_word(&body, t)) {
        out.push_str(&format!("import type {{ {t} }} from \"./{t}\";\n"));
    }
    out.push_str(&body);
    out
}

/// Whether `word` occurs in `text` as a whole identifier.
fn names_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Writes the generated contract and codes next to ts-rs's bindings (named like ts-rs's
    /// own export tests, so `cargo test export_bindings` writes everything).
    #[test]
    fn export_bindings_contract() {
        let dir = Config::from_env().out_dir().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("contract.ts"), typescript_contract()).unwrap();
        std::fs::write(dir.join("codes.ts"), crate::error::typescript_codes()).unwrap();
    }

    /// Writes the real broker catalog and prop-firm presets to `catalog.json` next to the
    /// bindings: the UI's unit tests take them as fixtures, so they test the forms against
    /// what the core serves (named `export_bindings_*` so `cargo test export_bindings` writes
    /// it with the rest, and the test command's drift check covers it).
    #[test]
    fn export_bindings_catalog() {
        let dir = Config::from_env().out_dir().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        let catalog = serde_json::json!({
            "brokers": crate::accounts::catalog::broker_catalog(),
            "presets": crate::accounts::catalog::prop_firm_presets(),
        });
        let text = serde_json::to_string_pretty(&catalog).unwrap() + "\n";
        std::fs::write(dir.join("catalog.json"), text).unwrap();
    }

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut seen = BTreeSet::new();
        for c in COMMANDS {
            assert!(seen.insert(*c), "{c} twice");
            assert!(c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
        }
        assert_eq!(camel("new_password"), "newPassword");
    }

    #[test]
    fn the_contract_types_every_command_and_event() {
        let ts = typescript_contract();
        assert!(ts.contains(
            "vault_change_password: { args: { current: string | null; newPassword: string }; result: VaultStatus };"
        ));
        assert!(ts.contains("\"connection-stats\": Array<ChannelStats>;"));
        assert!(ts.contains("import type { ChannelStats } from \"./ChannelStats\";"));
        assert!(ts.contains("account_remove: { args: { id: string }; result: null };"));
    }
}
