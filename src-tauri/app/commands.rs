//! The Tauri commands: thin wrappers that convert arguments and call the core.
//!
//! Every command returns `Result<_, ApiError>`; Tauri rejects the UI's `invoke` with the
//! serialized `{code, message, fields}`. Secrets arrive as [`Secret`] (deserialize-only, so
//! nothing here can send one back). Commands that change the vault's state also emit
//! `vault-status` and update the tray, through [`events::vault_changed`]; two-factor commands
//! emit `twofa-status` ([`events::twofa_changed`]).

use brokerdesk_core::accounts::catalog::{BrokerInfo, PropFirmPresetInfo};
use brokerdesk_core::accounts::model::{Account, AccountInput};
use brokerdesk_core::accounts::PurgeReport;
use brokerdesk_core::api::{CheckOutcome, SavedAccount};
use brokerdesk_core::audit::{AuditEntry, AuditFilter, AuditVerification};
use brokerdesk_core::brokers::{AccountSummary, BrokerAccountRef};
use brokerdesk_core::connection::manager::AccountConnections;
use brokerdesk_core::settings::AppSettings;
use brokerdesk_core::stream::{InstrumentInfo, Tick};
use brokerdesk_core::twofa::{BackupCodes, TwoFactorSetup, TwoFactorStatus};
use brokerdesk_core::{ApiError, Brokerdesk, Secret, VaultStatus};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::autolock::AutoLock;
use crate::clipboard::SecretClipboard;
use crate::connections::{self, Connections};
use crate::events;
use crate::export;
use crate::notify::{Notice, Notifier};
use crate::state::{app_error, CoreState};

type Res<T> = Result<T, ApiError>;

/// The error code of a two-factor lockout (the core's).
const TWOFA_LOCKED_OUT: &str = "twofa_locked_out";

/// Emits `vault-status` for a successful vault change, then hands the result back. A vault
/// change is the user's doing (unlock, new password, …), so the auto-lock countdown restarts.
fn changed<R: Runtime>(app: &AppHandle<R>, result: Res<VaultStatus>) -> Res<VaultStatus> {
    if let Ok(status) = &result {
        if let Some(autolock) = app.try_state::<AutoLock>() {
            autolock.touch();
        }
        events::vault_changed(app, status);
    }
    result
}

#[tauri::command]
pub async fn vault_status(state: State<'_, CoreState>) -> Res<VaultStatus> {
    state.core().await?.status().await
}

#[tauri::command]
pub async fn vault_init<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    password: Option<Secret>,
) -> Res<VaultStatus> {
    let result = changed(&app, state.core().await?.init(password).await);
    if result.as_ref().is_ok_and(|s| !s.locked) {
        connections::sync_all(&app);
    }
    result
}

#[tauri::command]
pub async fn vault_unlock<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    password: Option<Secret>,
) -> Res<VaultStatus> {
    // `None` retries the OS keychain (keychain-protected vaults that did not unlock at start).
    let result = changed(&app, state.core().await?.unlock(password).await);
    if result.is_ok() {
        connections::sync_all(&app);
    }
    result
}

#[tauri::command]
pub async fn vault_lock<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
) -> Res<VaultStatus> {
    changed(&app, state.core().await?.lock().await)
}

#[tauri::command]
pub async fn vault_change_password<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    current: Option<Secret>,
    new_password: Secret,
) -> Res<VaultStatus> {
    changed(
        &app,
        state
            .core()
            .await?
            .change_password(current, new_password)
            .await,
    )
}

#[tauri::command]
pub async fn vault_rotate_key<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
) -> Res<VaultStatus> {
    changed(&app, state.core().await?.rotate_key().await)
}

#[tauri::command]
pub async fn broker_catalog(state: State<'_, CoreState>) -> Res<Vec<BrokerInfo>> {
    Ok(state.core().await?.broker_catalog())
}

#[tauri::command]
pub async fn prop_firm_presets(state: State<'_, CoreState>) -> Res<Vec<PropFirmPresetInfo>> {
    Ok(state.core().await?.prop_firm_presets())
}

#[tauri::command]
pub async fn accounts_list(state: State<'_, CoreState>) -> Res<Vec<Account>> {
    state.core().await?.accounts_list().await
}

#[tauri::command]
pub async fn account_get(state: State<'_, CoreState>, id: String) -> Res<Account> {
    state.core().await?.account_get(&id).await
}

/// Adds an account, checking its credentials with the broker first unless `check` is
/// false (see core's `account_add_checked` for the policy).
#[tauri::command]
pub async fn account_add<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    input: AccountInput,
    check: Option<bool>,
) -> Res<SavedAccount> {
    let saved = state
        .core()
        .await?
        .account_add_checked(input, check.unwrap_or(true))
        .await?;
    connections::sync_account(&app, saved.account.id.clone());
    Ok(saved)
}

/// Updates an account, checking changed credentials or endpoints with the broker first
/// unless `check` is false.
#[tauri::command]
pub async fn account_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    id: String,
    input: AccountInput,
    check: Option<bool>,
) -> Res<SavedAccount> {
    let saved = state
        .core()
        .await?
        .account_update_checked(&id, input, check.unwrap_or(true))
        .await?;
    connections::sync_account(&app, saved.account.id.clone());
    Ok(saved)
}

/// Checks a saved account's credentials with its broker (unlocks live trading when they
/// are accepted); at most 5 checks per account per minute.
#[tauri::command]
pub async fn account_verify(state: State<'_, CoreState>, id: String) -> Res<AccountSummary> {
    state.core().await?.account_verify(&id).await
}

/// "Test connection": checks a draft (of a new account, or of `id`) with the broker,
/// saving nothing.
#[tauri::command]
pub async fn account_check(
    state: State<'_, CoreState>,
    id: Option<String>,
    input: AccountInput,
) -> Res<CheckOutcome> {
    state
        .core()
        .await?
        .account_check(id.as_deref(), &input)
        .await
}

/// The broker accounts a draft's credentials reach (the OANDA picker).
#[tauri::command]
pub async fn broker_accounts(
    state: State<'_, CoreState>,
    input: AccountInput,
) -> Res<Vec<BrokerAccountRef>> {
    state.core().await?.broker_accounts(&input).await
}

/// Sets an account's watchlist (the instruments it streams) and applies it live.
#[tauri::command]
pub async fn watchlist_set<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    id: String,
    instruments: Vec<String>,
) -> Res<Account> {
    let account = state
        .core()
        .await?
        .account_set_instruments(&id, instruments)
        .await?;
    if let Some(c) = app.try_state::<Connections>() {
        c.set_instruments(&app, &account.id, &account.instruments);
    }
    Ok(account)
}

/// Searches an account's broker for instruments (watchlist autocomplete).
#[tauri::command]
pub async fn instruments_search(
    state: State<'_, CoreState>,
    id: String,
    query: String,
) -> Res<Vec<InstrumentInfo>> {
    state.core().await?.instruments_search(&id, &query).await
}

/// The latest price of every instrument an account streams (empty when it does not).
#[tauri::command]
pub fn prices_snapshot(connections: State<'_, Connections>, id: String) -> Res<Vec<Tick>> {
    Ok(connections
        .manager()
        .and_then(|m| m.feed(&id))
        .map(|f| f.book().snapshot())
        .unwrap_or_default())
}

#[tauri::command]
pub async fn account_remove<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    id: String,
) -> Res<()> {
    let removed = state.core().await?.account_remove(&id).await?;
    connections::sync_account(&app, removed.id);
    Ok(())
}

/// Sends "Brokerdesk notifications work", so a user can check their setup from Settings.
#[tauri::command]
pub fn notify_test<R: Runtime>(app: AppHandle<R>) -> Res<()> {
    Notifier::new(app).send(&Notice::test())
}

/// Records that the user did something (the UI calls this at most every 30 s while the user
/// types or clicks), which holds off the auto-lock.
#[tauri::command]
pub fn app_activity(autolock: State<'_, AutoLock>) -> Res<()> {
    autolock.touch();
    Ok(())
}

/// After a two-factor call: emits the fresh `twofa-status` whatever the outcome (a wrong code
/// moves the failure count too), and notifies when the call ended in a lockout.
async fn after_twofa<R: Runtime, T>(app: &AppHandle<R>, core: &Brokerdesk, result: &Res<T>) {
    if let Err(e) = result {
        if e.code == TWOFA_LOCKED_OUT {
            // Best effort: a failed notification is logged by the notifier.
            let _ = Notifier::new(app.clone()).send(&Notice::twofa_locked_out());
        }
    }
    match core.twofa_status().await {
        Ok(status) => events::twofa_changed(app, &status),
        Err(e) => tracing::warn!(code = %e.code, "could not read the two-factor state"),
    }
}

#[tauri::command]
pub async fn twofa_status(state: State<'_, CoreState>) -> Res<TwoFactorStatus> {
    state.core().await?.twofa_status().await
}

/// Starts setup: the secret and its QR code, shown once; 2FA is pending until enabled.
#[tauri::command]
pub async fn twofa_setup<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
) -> Res<TwoFactorSetup> {
    let core = state.core().await?;
    let result = core.twofa_setup().await;
    after_twofa(&app, &core, &result).await;
    result
}

/// Confirms setup with a code; returns the backup codes (shown once).
#[tauri::command]
pub async fn twofa_enable<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    code: Secret,
) -> Res<BackupCodes> {
    let core = state.core().await?;
    let result = core.twofa_enable(code.expose()).await;
    after_twofa(&app, &core, &result).await;
    result
}

/// Verifies a TOTP or backup code, opening the 15-minute step-up window.
#[tauri::command]
pub async fn twofa_verify<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    code: Secret,
) -> Res<TwoFactorStatus> {
    let core = state.core().await?;
    let result = core.twofa_verify(code.expose()).await;
    after_twofa(&app, &core, &result).await;
    result
}

#[tauri::command]
pub async fn twofa_disable<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
) -> Res<TwoFactorStatus> {
    let core = state.core().await?;
    let result = core.twofa_disable().await;
    after_twofa(&app, &core, &result).await;
    result
}

#[tauri::command]
pub async fn twofa_regenerate_backup_codes<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
) -> Res<BackupCodes> {
    let core = state.core().await?;
    let result = core.twofa_regenerate_backup_codes().await;
    after_twofa(&app, &core, &result).await;
    result
}

#[tauri::command]
pub async fn audit_list(state: State<'_, CoreState>, filter: AuditFilter) -> Res<Vec<AuditEntry>> {
    state.core().await?.audit_list(&filter).await
}

#[tauri::command]
pub async fn audit_verify(state: State<'_, CoreState>) -> Res<AuditVerification> {
    state.core().await?.audit_verify().await
}

/// Saves the matching entries as CSV in the user's Downloads folder (else
/// `<data dir>/exports/`); returns the file's path.
#[tauri::command]
pub async fn audit_export_csv(state: State<'_, CoreState>, filter: AuditFilter) -> Res<String> {
    let core = state.core().await?;
    let csv = core.audit_export_csv(&filter).await?;
    let dir = export::export_dir(export::downloads_dir(), core.data_dir());
    let name = export::audit_file_name(chrono::Local::now());
    let written = tokio::task::spawn_blocking(move || export::write_new(&dir, &name, &csv)).await;
    match written {
        Ok(Ok(path)) => {
            tracing::info!(path = %path.display(), "audit log exported");
            Ok(path.display().to_string())
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not write the audit export");
            Err(app_error(
                "export_failed",
                format!("could not save the export: {e}"),
            ))
        }
        Err(e) => Err(app_error(
            "export_failed",
            format!("could not save the export: {e}"),
        )),
    }
}

/// Returns the settings (readable while locked).
#[tauri::command]
pub async fn settings_get(state: State<'_, CoreState>) -> Res<AppSettings> {
    state.core().await?.settings().await
}

/// Saves the settings; a new auto-lock limit counts from now.
#[tauri::command]
pub async fn settings_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    autolock: State<'_, AutoLock>,
    prices: State<'_, crate::prices::Prices>,
    settings: AppSettings,
) -> Res<AppSettings> {
    let saved = state.core().await?.settings_update(settings).await?;
    autolock.rearm();
    prices.set_rate(&app, saved.price_updates_per_second);
    Ok(saved)
}

/// Emergency: deletes every stored credential and puts every account in paper mode.
#[tauri::command]
pub async fn credentials_purge<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
) -> Res<PurgeReport> {
    let report = state.core().await?.credentials_purge().await?;
    // Every credential is gone: every connection stops.
    connections::sync_all(&app);
    Ok(report)
}

/// Copies a secret to the OS clipboard and clears it 30 s later if it is still there.
#[tauri::command]
pub async fn clipboard_write_secret<R: Runtime>(
    app: AppHandle<R>,
    clipboard: State<'_, SecretClipboard>,
    text: Secret,
) -> Res<()> {
    clipboard.write(app, text).await
}

/// Returns every account's live connections (empty until the vault was first unlocked).
#[tauri::command]
pub fn connections_snapshot(connections: State<'_, Connections>) -> Res<Vec<AccountConnections>> {
    Ok(connections.snapshot())
}

/// Reconnects one account now (skipping the backoff, or retrying after refused credentials).
#[tauri::command]
pub fn connection_reconnect(connections: State<'_, Connections>, account_id: String) -> Res<()> {
    connections.reconnect(&account_id)
}

/// Reconnects every connection now.
#[tauri::command]
pub fn connections_reconnect_all(connections: State<'_, Connections>) -> Res<()> {
    connections.reconnect_all();
    Ok(())
}
