//! The one API over the engine. The Tauri shell and the CLI are thin adapters over
//! [`Brokerdesk`]: every method returns the serializable [`ApiError`] on failure, so both
//! surfaces report the same codes and messages.

mod check;
mod streams;

pub use check::{CheckOutcome, SavedAccount};
use std::path::{Path, PathBuf};
use std::sync::Arc;
pub use streams::FeedSession;

use serde::Serialize;
use ts_rs::TS;

use crate::accounts::catalog::{self, BrokerInfo, PropFirmPresetInfo};
use crate::accounts::model::{Account, AccountInput, TradingMode};
use crate::accounts::{Accounts, Credentials, PurgeReport};
use crate::audit::{Audit, AuditEntry, AuditEvent, AuditFilter, AuditVerification};
use crate::brokers::{self, AccountSummary, BrokerError, ConnectorConfig};
use crate::error::{ApiError, ErrorCode};
use crate::secret::Secret;
use crate::settings::{self, AppSettings};
use crate::store::{Store, StoreError};
use crate::twofa::{BackupCodes, TwoFactor, TwoFactorSetup, TwoFactorStatus};
use crate::vault::keychain::{KeyStore, NoKeychain, OsKeychain};
use crate::vault::{Vault, VaultError, VaultProtection};

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

/// How many credential checks one account may make per minute.
pub const VERIFY_PER_MINUTE: i64 = 5;

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
    audit: Audit,
    twofa: TwoFactor,
    keychain_error: std::sync::RwLock<Option<String>>,
    auto_unlock_error: std::sync::RwLock<Option<ApiError>>,
    drafts: check::DraftLimiter,
}

fn api<E: ErrorCode>(e: E) -> ApiError {
    e.to_api_error()
}

impl Brokerdesk {
    /// Opens the profile in `data_dir` (created if missing), runs migrations, and unlocks a
    /// keychain-protected vault. Audit entries name the actor `app`.
    pub async fn open(data_dir: &Path, keystore: Arc<dyn KeyStore>) -> Result<Self, ApiError> {
        Self::open_as(data_dir, keystore, "app").await
    }

    /// Like [`Brokerdesk::open`], with the actor the audit log records (`app`, `cli`).
    pub async fn open_as(
        data_dir: &Path,
        keystore: Arc<dyn KeyStore>,
        actor: &str,
    ) -> Result<Self, ApiError> {
        let store = Store::open(data_dir).await.map_err(api)?;
        let vault = Arc::new(Vault::new(store.clone(), keystore));
        let accounts = Accounts::new(store.clone(), vault.clone());
        let profile = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "default".to_string());
        let bd = Self {
            data_dir: data_dir.to_path_buf(),
            audit: Audit::new(store.clone(), actor),
            twofa: TwoFactor::new(store.clone(), actor, profile),
            store,
            vault,
            accounts,
            keychain_error: std::sync::RwLock::new(None),
            auto_unlock_error: std::sync::RwLock::new(None),
            drafts: check::DraftLimiter::default(),
        };
        bd.refresh_keychain().await;
        let state = bd.vault.state().await.map_err(api)?;
        if state.protection == Some(VaultProtection::Keychain) {
            match bd.vault.unlock(None).await {
                Ok(()) => {
                    bd.audit
                        .record(AuditEvent::VaultUnlocked, None, "from the OS keychain")
                        .await
                }
                Err(e) => {
                    tracing::warn!(
                        code = e.code(),
                        "could not unlock the vault from the OS keychain"
                    );
                    bd.audit
                        .record(AuditEvent::VaultUnlockFailed, None, e.code())
                        .await;
                    set(&bd.auto_unlock_error, Some(e.to_api_error()));
                }
            }
        }
        Ok(bd)
    }

    /// Replaces the two-factor clock (tests of skew, replay, lockout and expiry).
    pub fn with_twofa_clock(mut self, clock: crate::twofa::Clock) -> Self {
        self.twofa = self.twofa.with_clock(clock);
        self
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
        let protection = if password.is_some() {
            "master password"
        } else {
            "OS keychain"
        };
        self.vault.init(password.as_ref()).await.map_err(api)?;
        self.audit
            .record(
                AuditEvent::VaultCreated,
                None,
                &format!("protected by the {protection}"),
            )
            .await;
        self.status().await
    }

    /// Unlocks with the master password, or from the keychain when `None`.
    pub async fn unlock(&self, password: Option<Secret>) -> Result<VaultStatus, ApiError> {
        if let Err(e) = self.vault.unlock(password.as_ref()).await {
            if matches!(
                e,
                VaultError::WrongPassword
                    | VaultError::KeychainKeyMissing
                    | VaultError::KeychainKeyMismatch
            ) {
                self.audit
                    .record(AuditEvent::VaultUnlockFailed, None, e.code())
                    .await;
            }
            return Err(api(e));
        }
        set(&self.auto_unlock_error, None);
        let how = if password.is_some() {
            "with the master password"
        } else {
            "from the OS keychain"
        };
        self.audit
            .record(AuditEvent::VaultUnlocked, None, how)
            .await;
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
        // Locking also revokes a fresh two-factor verification.
        if let Err(e) = self.twofa.end_step_up().await {
            tracing::warn!(code = e.code(), "could not close the step-up window");
        }
        self.audit.record(AuditEvent::VaultLocked, None, "").await;
        self.status().await
    }

    /// Sets (when `current` is `None` under keychain protection) or changes the master password.
    pub async fn change_password(
        &self,
        current: Option<Secret>,
        new: Secret,
    ) -> Result<VaultStatus, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        self.step_up().await?;
        let first =
            self.vault.state().await.map_err(api)?.protection == Some(VaultProtection::Keychain);
        self.vault
            .change_password(current.as_ref(), &new)
            .await
            .map_err(api)?;
        let detail = if first {
            "master password set; the key left the OS keychain"
        } else {
            ""
        };
        self.audit
            .record(AuditEvent::MasterPasswordChanged, None, detail)
            .await;
        self.status().await
    }

    /// Rotates the data-encryption key, re-sealing every secret.
    pub async fn rotate_key(&self) -> Result<VaultStatus, ApiError> {
        let generation = self.vault.rotate_key().await.map_err(api)?;
        self.audit
            .record(
                AuditEvent::KeyRotated,
                None,
                &format!("now at generation {generation}"),
            )
            .await;
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

    /// Adds an account. Storing credentials needs a fresh two-factor step-up (when 2FA is on).
    pub async fn account_add(&self, input: AccountInput) -> Result<Account, ApiError> {
        let has_credentials =
            input.credentials.api_key.is_some() || input.credentials.api_secret.is_some();
        self.vault.unlocked().await.map_err(api)?;
        if has_credentials {
            self.step_up().await?;
        }
        let a = self.accounts.add(input).await.map_err(api)?;
        let detail = format!("{} ({} {})", a.name, a.broker, a.environment);
        self.audit
            .record(AuditEvent::AccountCreated, Some(&a.id), &detail)
            .await;
        if has_credentials {
            self.audit
                .record(
                    AuditEvent::CredentialsStored,
                    Some(&a.id),
                    &credential_fields(&a),
                )
                .await;
        }
        Ok(a)
    }

    /// Replaces an account's configuration. New credentials need a fresh step-up.
    pub async fn account_update(
        &self,
        key: &str,
        input: AccountInput,
    ) -> Result<Account, ApiError> {
        let new_credentials =
            input.credentials.api_key.is_some() || input.credentials.api_secret.is_some();
        self.vault.unlocked().await.map_err(api)?;
        if new_credentials {
            self.step_up().await?;
        }
        let a = self.accounts.update(key, input).await.map_err(api)?;
        self.audit
            .record(AuditEvent::AccountEdited, Some(&a.id), &a.name)
            .await;
        if new_credentials {
            self.audit
                .record(
                    AuditEvent::CredentialsRotated,
                    Some(&a.id),
                    &credential_fields(&a),
                )
                .await;
        }
        Ok(a)
    }

    /// Removes an account; returns what was removed. Needs a fresh step-up.
    pub async fn account_remove(&self, key: &str) -> Result<Account, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        self.step_up().await?;
        let a = self.accounts.remove(key).await.map_err(api)?;
        let detail = format!("{} ({} {})", a.name, a.broker, a.environment);
        self.audit
            .record(AuditEvent::AccountRemoved, Some(&a.id), &detail)
            .await;
        Ok(a)
    }

    /// Sets an account's trading mode. Switching to live needs a fresh step-up (and a
    /// verified broker connection, which this release cannot make yet); back to paper is
    /// always allowed.
    pub async fn account_set_mode(
        &self,
        key: &str,
        mode: TradingMode,
    ) -> Result<Account, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        if mode == TradingMode::Live {
            self.step_up().await?;
        }
        let before = self.accounts.get(key).await.map_err(api)?;
        let a = self.accounts.set_mode(key, mode).await.map_err(api)?;
        if before.mode != a.mode {
            let detail = format!("{}: {} → {}", a.name, before.mode, a.mode);
            self.audit
                .record(AuditEvent::ModeSwitched, Some(&a.id), &detail)
                .await;
        }
        Ok(a)
    }

    /// Checks an account's stored credentials against its broker and returns what the
    /// broker reports (account number, type, currency, balance, equity, buying power). At most
    /// [`VERIFY_PER_MINUTE`] checks per account per minute: brokers block clients that retry
    /// logins too often (Tastytrade for hours).
    pub async fn account_verify(&self, key: &str) -> Result<AccountSummary, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let account = self.accounts.get(key).await.map_err(api)?;
        let recent = self.recent_checks(&account.id).await?;
        if recent >= VERIFY_PER_MINUTE {
            return Err(ApiError {
                code: "verify_rate_limited".into(),
                message: format!(
                    "{} was checked {recent} times in the last minute; wait a minute before checking again",
                    account.name
                ),
                fields: Vec::new(),
            });
        }
        let creds = self
            .accounts
            .open_credentials(&account.id)
            .await
            .map_err(api)?;
        let result = async {
            let cfg = ConnectorConfig::new(
                account.broker,
                account.environment,
                account.broker_account_id.clone(),
                account.rest_url.as_deref(),
                account.stream_url.as_deref(),
            )?
            .with_credentials(creds.api_key, creds.api_secret);
            brokers::connector(cfg)?.verify().await
        }
        .await;
        let code = result.as_ref().err().map(|e| e.code());
        self.record_verification(&account.id, result.is_ok(), code)
            .await?;
        if let Err(BrokerError::Auth(_)) = &result {
            let detail = format!(
                "{}: the broker refused the stored credentials",
                account.name
            );
            self.audit
                .record(AuditEvent::ConnectionAuthFailed, Some(&account.id), &detail)
                .await;
        }
        result.map_err(api)
    }

    /// Emergency: deletes every stored credential and forces every account to paper mode,
    /// in one transaction. Needs a fresh step-up.
    pub async fn credentials_purge(&self) -> Result<PurgeReport, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        self.step_up().await?;
        let report = self.accounts.purge_credentials().await.map_err(api)?;
        let detail = format!(
            "{} credentials deleted from {} accounts; every account is in paper mode",
            report.credentials_deleted, report.accounts
        );
        self.audit
            .record(AuditEvent::CredentialsPurged, None, &detail)
            .await;
        Ok(report)
    }

    /// Opens an account's credentials (for connectors; never sent to the UI).
    pub async fn account_credentials(&self, key: &str) -> Result<Credentials, ApiError> {
        self.accounts.open_credentials(key).await.map_err(api)
    }

    /// Returns the profile's store (the connection manager persists its events there).
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Returns every account the app should keep connected — a real broker (not the built-in
    /// paper broker) with stored credentials — with its connector configuration, credentials
    /// opened (they stay inside [`ConnectorConfig`]'s [`Secret`]s). Needs the unlocked vault.
    /// An account whose configuration is invalid is logged and left out.
    pub async fn connection_configs(&self) -> Result<Vec<(Account, ConnectorConfig)>, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let mut out = Vec::new();
        for account in self.accounts.list().await.map_err(api)? {
            if let Some(cfg) = self.connector_config(&account).await? {
                out.push((account, cfg));
            }
        }
        Ok(out)
    }

    /// Like [`Brokerdesk::connection_configs`] for one account: `None` when it should not be
    /// connected (paper broker, no credentials, invalid configuration).
    pub async fn connection_config(
        &self,
        key: &str,
    ) -> Result<Option<(Account, ConnectorConfig)>, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let account = self.accounts.get(key).await.map_err(api)?;
        Ok(self
            .connector_config(&account)
            .await?
            .map(|cfg| (account, cfg)))
    }

    async fn connector_config(
        &self,
        account: &Account,
    ) -> Result<Option<ConnectorConfig>, ApiError> {
        // IBKR stores nothing (the login lives at the gateway): connectable without secrets.
        let needs_secrets = !catalog::broker_info(account.broker)
            .credential_fields
            .is_empty();
        if account.broker == crate::accounts::model::BrokerKind::Paper
            || (needs_secrets && account.credentials.is_empty())
        {
            return Ok(None);
        }
        let creds = self
            .accounts
            .open_credentials(&account.id)
            .await
            .map_err(api)?;
        match ConnectorConfig::new(
            account.broker,
            account.environment,
            account.broker_account_id.clone(),
            account.rest_url.as_deref(),
            account.stream_url.as_deref(),
        ) {
            Ok(cfg) => Ok(Some(cfg.with_credentials(creds.api_key, creds.api_secret))),
            Err(e) => {
                tracing::warn!(account = %account.id, code = e.code(),
                    "the account's connector configuration is invalid; not connecting it");
                Ok(None)
            }
        }
    }

    /// Fails with `step_up_required` unless 2FA is off or was verified in the last 15 minutes.
    async fn step_up(&self) -> Result<(), ApiError> {
        self.twofa.require_step_up().await.map_err(api)
    }

    pub async fn twofa_status(&self) -> Result<TwoFactorStatus, ApiError> {
        self.twofa.status().await.map_err(api)
    }

    /// Starts two-factor setup: the otpauth URI, the secret and a QR code (shown once).
    pub async fn twofa_setup(&self) -> Result<TwoFactorSetup, ApiError> {
        let key = self.vault.unlocked().await.map_err(api)?;
        self.twofa.setup(&key).await.map_err(api)
    }

    /// Returns the current setup's otpauth URI as a PNG QR code (`scale` pixels per module).
    pub async fn twofa_qr_png(&self, scale: u32) -> Result<Vec<u8>, ApiError> {
        let key = self.vault.unlocked().await.map_err(api)?;
        let uri = self.twofa.otpauth_uri(&key).await.map_err(api)?;
        crate::twofa::qr::png(&uri, scale.clamp(2, 32)).map_err(api)
    }

    /// Confirms setup with a code from the authenticator app; returns the 10 backup codes.
    pub async fn twofa_enable(&self, code: &str) -> Result<BackupCodes, ApiError> {
        let key = self.vault.unlocked().await.map_err(api)?;
        self.twofa.enable(&key, code).await.map_err(api)
    }

    /// Verifies a code (TOTP or backup) and opens the 15-minute step-up window.
    pub async fn twofa_verify(&self, code: &str) -> Result<TwoFactorStatus, ApiError> {
        let key = self.vault.unlocked().await.map_err(api)?;
        self.twofa.verify(&key, code).await.map_err(api)
    }

    /// Turns two-factor authentication off. Needs a fresh step-up.
    pub async fn twofa_disable(&self) -> Result<TwoFactorStatus, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        self.step_up().await?;
        self.twofa.disable().await.map_err(api)?;
        self.twofa_status().await
    }

    /// Issues 10 new backup codes (the old ones stop working). Needs a fresh step-up.
    pub async fn twofa_regenerate_backup_codes(&self) -> Result<BackupCodes, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        self.step_up().await?;
        self.twofa.regenerate_backup_codes().await.map_err(api)
    }

    /// Lists audit entries, newest first.
    pub async fn audit_list(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        self.audit.list(filter).await.map_err(api)
    }

    /// Checks the audit log's hash chain.
    pub async fn audit_verify(&self) -> Result<AuditVerification, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        self.audit.verify().await.map_err(api)
    }

    /// Returns the matching audit entries as CSV, oldest first.
    pub async fn audit_export_csv(&self, filter: &AuditFilter) -> Result<String, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        self.audit.export_csv(filter).await.map_err(api)
    }

    /// Returns the app settings (readable while locked: the app needs auto-lock to run).
    pub async fn settings(&self) -> Result<AppSettings, ApiError> {
        settings::load(&self.store).await.map_err(api)
    }

    /// Saves the app settings.
    pub async fn settings_update(&self, new: AppSettings) -> Result<AppSettings, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let fields = new.validate();
        if !fields.is_empty() {
            return Err(ApiError {
                code: "validation".into(),
                message: fields[0].message.clone(),
                fields,
            });
        }
        let mut tx = self.store.begin_write().await.map_err(api)?;
        settings::save(&mut tx, &new).await.map_err(api)?;
        tx.commit().await.map_err(|e| api(StoreError::from(e)))?;
        let detail = match new.auto_lock_minutes {
            Some(m) => format!("auto-lock after {m} idle minutes"),
            None => "auto-lock off".to_string(),
        };
        let detail = format!(
            "{detail}; at most {} price updates per instrument per second",
            new.price_updates_per_second
        );
        self.audit
            .record(AuditEvent::SettingsChanged, None, &detail)
            .await;
        Ok(new)
    }

    /// Closes the database cleanly (checkpointing the WAL).
    pub async fn close(&self) {
        self.store.close().await;
    }
}

/// Names the credential fields an account has stored (never their values).
fn credential_fields(a: &Account) -> String {
    let names: Vec<&str> = a.credentials.iter().map(|c| c.field.as_str()).collect();
    format!("fields: {}", names.join(", "))
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
