//! The Tauri commands: thin wrappers that convert arguments and call the core.
//!
//! Every command returns `Result<_, ApiError>`; Tauri rejects the UI's `invoke` with the
//! serialized `{code, message, fields}`. Secrets arrive as [`Secret`] (deserialize-only, so
//! nothing here can send one back). Commands that change the vault's state also emit
//! `vault-status` and update the tray, through [`events::vault_changed`].

use brokerdesk_core::accounts::catalog::{BrokerInfo, PropFirmPresetInfo};
use brokerdesk_core::accounts::model::{Account, AccountInput};
use brokerdesk_core::{ApiError, Secret, VaultStatus};
use tauri::{AppHandle, Runtime, State};

use crate::events;
use crate::notify::{Notice, Notifier};
use crate::state::CoreState;

type Res<T> = Result<T, ApiError>;

/// Emits `vault-status` for a successful vault change, then hands the result back.
fn changed<R: Runtime>(app: &AppHandle<R>, result: Res<VaultStatus>) -> Res<VaultStatus> {
    if let Ok(status) = &result {
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
    changed(&app, state.core().await?.init(password).await)
}

#[tauri::command]
pub async fn vault_unlock<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, CoreState>,
    password: Option<Secret>,
) -> Res<VaultStatus> {
    // `None` retries the OS keychain (keychain-protected vaults that did not unlock at start).
    changed(&app, state.core().await?.unlock(password).await)
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

#[tauri::command]
pub async fn account_add(state: State<'_, CoreState>, input: AccountInput) -> Res<Account> {
    state.core().await?.account_add(input).await
}

#[tauri::command]
pub async fn account_update(
    state: State<'_, CoreState>,
    id: String,
    input: AccountInput,
) -> Res<Account> {
    state.core().await?.account_update(&id, input).await
}

#[tauri::command]
pub async fn account_remove(state: State<'_, CoreState>, id: String) -> Res<()> {
    state.core().await?.account_remove(&id).await.map(drop)
}

/// Sends "Brokerdesk notifications work", so a user can check their setup from Settings.
#[tauri::command]
pub fn notify_test<R: Runtime>(app: AppHandle<R>) -> Res<()> {
    Notifier::new(app).send(&Notice::test())
}
