//! The vault over the API: status, first run, unlock and lock, the master password and key
//! rotation.

use serde::Serialize;
use ts_rs::TS;

use super::guard::Sensitive;
use super::{api, get, set, Brokerdesk, DomainEvent};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ErrorCode};
use crate::secret::Secret;
use crate::vault::{VaultError, VaultProtection};

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

impl VaultStatus {
    /// Returns whether this vault can be locked now (the tray's "Lock", auto-lock): unlocked
    /// and protected by a master password (a keychain vault would unlock itself again).
    pub fn can_lock(&self) -> bool {
        self.initialized && !self.locked && self.protection == Some(VaultProtection::Password)
    }
}

impl Brokerdesk {
    pub(super) async fn refresh_keychain(&self) {
        let err = self
            .vault
            .keychain_probe()
            .await
            .err()
            .map(|e| e.to_string());
        set(&self.keychain_error, err);
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
        self.publish(DomainEvent::VaultChanged);
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
                    .record(AuditEvent::VaultUnlockFailed, None, e.code().as_str())
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
        self.publish(DomainEvent::VaultChanged);
        self.status().await
    }

    /// Fails with `locked` (or `not_initialized`) unless the vault is unlocked.
    pub async fn require_unlocked(&self) -> Result<(), ApiError> {
        self.vault.unlocked().await.map(drop).map_err(api)
    }

    /// Returns whether the vault is unlocked in this process.
    pub fn is_unlocked(&self) -> bool {
        self.vault.is_unlocked()
    }

    /// Unlocks only if the vault is locked (the CLI calls this before every command).
    pub async fn ensure_unlocked(&self, password: Option<Secret>) -> Result<(), ApiError> {
        let s = self.status().await?;
        if !s.initialized {
            return Err(api(VaultError::NotInitialized));
        }
        if s.locked {
            if s.protection == Some(VaultProtection::Password) && password.is_none() {
                return Err(api(VaultError::Locked));
            }
            self.unlock(password).await?;
        }
        Ok(())
    }

    /// Locks the vault (needs a master password).
    pub async fn lock(&self) -> Result<VaultStatus, ApiError> {
        self.vault.lock().await.map_err(api)?;
        // Locking also revokes this process's two-factor verification.
        self.twofa.end_step_up();
        self.audit.record(AuditEvent::VaultLocked, None, "").await;
        self.publish(DomainEvent::VaultChanged);
        self.status().await
    }

    /// Sets (when `current` is `None` under keychain protection) or changes the master
    /// password. Sensitive: needs a fresh step-up.
    pub async fn change_password(
        &self,
        current: Option<Secret>,
        new: Secret,
    ) -> Result<VaultStatus, ApiError> {
        self.guard(|g| async move {
            let auth = g.step_up(Sensitive::ChangePassword).await?;
            let first = self.vault.state().await.map_err(api)?.protection
                == Some(VaultProtection::Keychain);
            // The new password comes with a new data key: make sure every secret can move
            // to it before the password changes.
            self.vault.check_all_readable().await.map_err(api)?;
            self.vault
                .change_password(&auth, current.as_ref(), &new)
                .await
                .map_err(api)?;
            // A new password gets a new data key: the old password with an old copy of the
            // vault row (or the key a keychain held) must open nothing sealed from now on.
            let generation = self.vault.rotate_key().await.map_err(api)?;
            let detail = if first {
                format!("master password set; the key left the OS keychain and was replaced (generation {generation})")
            } else {
                format!("the data key was replaced (generation {generation})")
            };
            g.audit(AuditEvent::MasterPasswordChanged, None, detail);
            g.publish(DomainEvent::VaultChanged);
            Ok(())
        })
        .await?;
        self.status().await
    }

    /// Rotates the data-encryption key, re-sealing every secret.
    pub async fn rotate_key(&self) -> Result<VaultStatus, ApiError> {
        self.guard(|g| async move {
            let generation = self.vault.rotate_key().await.map_err(api)?;
            g.audit(
                AuditEvent::KeyRotated,
                None,
                format!("now at generation {generation}"),
            );
            g.publish(DomainEvent::VaultChanged);
            Ok(())
        })
        .await?;
        self.status().await
    }
}
