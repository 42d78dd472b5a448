//! The one API over the engine. The Tauri shell and the CLI are thin adapters over
//! [`Brokerdesk`]: every method returns the serializable [`ApiError`] on failure, so both
//! surfaces report the same codes and messages.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use crate::accounts::catalog::{self, BrokerInfo, PropFirmPresetInfo};
use crate::accounts::model::{Account, AccountInput};
use crate::accounts::{Accounts, Credentials};
use crate::error::{ApiError, ErrorCode};
use crate::secret::Secret;
use crate::store::Store;
use crate::vault::keychain::{KeyStore, NoKeychain, OsKeychain};
use crate::vault::{Vault, VaultProtection};

/// Setting this environment variable to `1` makes Brokerdesk behave as if no OS keychain
/// existed (a master password is then required).
pub const NO_KEYCHAIN_ENV: &str = "BROKERDESK_NO_KEYCHAIN";

/// Returns the keychain to use: the OS keychain unless `BROKERDESK_NO_KEYCHAIN=1`.
pub fn default_keystore() -> Arc<dyn KeyStore> {
    match std::env::var(NO_KEYCHAIN_ENV) {
        Ok(v) if v == "1" || v.eq_ignore_ascii_case("true") => Arc::new(NoKeychain),
        _ => Arc::new(OsKeychain),
    }
}

/// The vault's state as the UI and the CLI see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct VaultStatus {
    pub initialized: bool,
    pub locked: bool,
    pub protection: Option<VaultProtection>,
    pub keychain_available: bool,
    /// Why the OS keychain cannot be used, when it cannot.
    pub keychain_error: Option<String>,
    /// Why the vault did not unlock itself from the keychain at start, if it did not.
    pub auto_unlock_error: Option<ApiError>,
    pub key_generation: u32,
    pub data_dir: String,
    pub version: String,
}

/// An open Brokerdesk profile (one data directory).
pub struct Brokerdesk {
    data_dir: PathBuf,
    store: Store,
    vault: Arc<Vault>,
    accounts: Accounts,
    keychain_error: std::sync::RwLock<Option<String>>,
    auto_unlock_error: std::sync::RwLock<Option<ApiError>>,
}

fn api<E: ErrorCode>(e: E) -> ApiError {
    e.to_api_error()
}

impl Brokerdesk {
    /// Opens the profile in `data_dir` (created if missing), runs migrations, and unlocks a
    /// keychain-protected vault.
    pub async fn open(data_dir: &Path, keystore: Arc<dyn KeyStore>) -> Result<Self, ApiError> {
        let store = Store::open(data_dir).await.map_err(api)?;
        let vault = Arc::new(Vault::new(store.clone(), keystore));
        let accounts = Accounts::new(store.clone(), vault.clone());
        let bd = Self {
            data_dir: data_dir.to_path_buf(),
            store,
            vault,
            accounts,
            keychain_error: std::sync::RwLock::new(None),
            auto_unlock_error: std::sync::RwLock::new(None),
        };
        bd.refresh_keychain().await;
        let state = bd.vault.state().await.map_err(api)?;
        if state.protection == Some(VaultProtection::Keychain) {
            if let Err(e) = bd.vault.unlock(None).await {
                tracing::warn!(
                    code = e.code(),
                    "could not unlock the vault from the OS keychain"
                );
                set(&bd.auto_unlock_error, Some(e.to_api_error()));
            }
        }
        Ok(bd)
    }

    async fn refresh_keychain(&self) {
        let err = self
            .vault
            .keychain_probe()
            .await
            .err()
            .map(|e| e.to_string());
        set(&self.keychain_error, err);
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Returns the vault's state.
    pub async fn status(&self) -> Result<VaultStatus, ApiError> {
        let s = self.vault.state().await.map_err(api)?;
        let keychain_error = get(&self.keychain_error);
        Ok(VaultStatus {
            initialized: s.initialized,
            locked: s.locked,
            protection: s.protection,
            keychain_available: keychain_error.is_none(),
            keychain_error,
            auto_unlock_error: if s.locked {
                get(&self.auto_unlock_error)
            } else {
                None
            },
            key_generation: s.key_generation,
            data_dir: self.data_dir.display().to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    /// Creates the vault, protected by `password`, or by the OS keychain when `None`.
    pub async fn init(&self, password: Option<Secret>) -> Result<VaultStatus, ApiError> {
        self.refresh_keychain().await;
        self.vault.init(password.as_ref()).await.map_err(api)?;
        self.status().await
    }

    /// Unlocks with the master password, or from the keychain when `None`.
    pub async fn unlock(&self, password: Option<Secret>) -> Result<VaultStatus, ApiError> {
        self.vault.unlock(password.as_ref()).await.map_err(api)?;
        set(&self.auto_unlock_error, None);
        self.status().await
    }

    /// Unlocks only if the vault is locked (the CLI calls this before every command).
    pub async fn ensure_unlocked(&self, password: Option<Secret>) -> Result<(), ApiError> {
        let s = self.status().await?;
        if !s.initialized {
            return Err(api(crate::vault::VaultError::NotInitialized));
        }
        if s.locked {
            if s.protection == Some(VaultProtection::Password) && password.is_none() {
                return Err(api(crate::vault::VaultError::Locked));
            }
            self.unlock(password).await?;
        }
        Ok(())
    }

    /// Locks the vault (needs a master password).
    pub async fn lock(&self) -> Result<VaultStatus, ApiError> {
        self.vault.lock().await.map_err(api)?;
        self.status().await
    }

    /// Sets (when `current` is `None` under keychain protection) or changes the master password.
    pub async fn change_password(
        &self,
        current: Option<Secret>,
        new: Secret,
    ) -> Result<VaultStatus, ApiError> {
        self.vault
            .change_password(current.as_ref(), &new)
            .await
            .map_err(api)?;
        self.status().await
    }

    /// Rotates the data-encryption key, re-sealing every secret.
    pub async fn rotate_key(&self) -> Result<VaultStatus, ApiError> {
        self.vault.rotate_key().await.map_err(api)?;
        self.status().await
    }

    /// Returns what each broker needs.
    pub fn broker_catalog(&self) -> Vec<BrokerInfo> {
        catalog::broker_catalog()
    }

    /// Returns the prop-firm presets.
    pub fn prop_firm_presets(&self) -> Vec<PropFirmPresetInfo> {
        catalog::prop_firm_presets()
    }

    pub async fn accounts_list(&self) -> Result<Vec<Account>, ApiError> {
        self.accounts.list().await.map_err(api)
    }

    /// Returns an account by id, unique id prefix or exact name.
    pub async fn account_get(&self, key: &str) -> Result<Account, ApiError> {
        self.accounts.get(key).await.map_err(api)
    }

    pub async fn account_add(&self, input: AccountInput) -> Result<Account, ApiError> {
        self.accounts.add(input).await.map_err(api)
    }

    pub async fn account_update(
        &self,
        key: &str,
        input: AccountInput,
    ) -> Result<Account, ApiError> {
        self.accounts.update(key, input).await.map_err(api)
    }

    /// Removes an account; returns what was removed.
    pub async fn account_remove(&self, key: &str) -> Result<Account, ApiError> {
        self.accounts.remove(key).await.map_err(api)
    }

    /// Opens an account's credentials (for connectors; never sent to the UI).
    pub async fn account_credentials(&self, key: &str) -> Result<Credentials, ApiError> {
        self.accounts.open_credentials(key).await.map_err(api)
    }

    /// Closes the database cleanly (checkpointing the WAL).
    pub async fn close(&self) {
        self.store.close().await;
    }
}

fn set<T>(lock: &std::sync::RwLock<T>, v: T) {
    match lock.write() {
        Ok(mut g) => *g = v,
        Err(p) => *p.into_inner() = v,
    }
}

fn get<T: Clone>(lock: &std::sync::RwLock<T>) -> T {
    match lock.read() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    }
}
