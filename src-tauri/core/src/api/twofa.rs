//! Two-factor authentication over the API: setup, enable, verify (the step-up), disable and
//! backup codes. Every call, failed ones included (a wrong code moves the failure count),
//! publishes [`DomainEvent::TwofaChanged`].

use super::guard::Sensitive;
use super::{api, Brokerdesk, DomainEvent};
use crate::error::ApiError;
use crate::secret::Secret;
use crate::twofa::{BackupCodes, TwoFactorSetup, TwoFactorStatus};

impl Brokerdesk {
    pub async fn twofa_status(&self) -> Result<TwoFactorStatus, ApiError> {
        self.twofa.status().await.map_err(api)
    }

    /// Starts two-factor setup: the otpauth URI, the secret and a QR code (shown once).
    pub async fn twofa_setup(&self) -> Result<TwoFactorSetup, ApiError> {
        let result = async {
            let key = self.vault.unlocked().await.map_err(api)?;
            self.twofa.setup(&key).await.map_err(api)
        }
        .await;
        self.publish(DomainEvent::TwofaChanged);
        result
    }

    /// The secret of the setup not yet confirmed, for the clipboard (`clipboard_copy`).
    pub async fn twofa_pending_secret(&self) -> Result<Secret, ApiError> {
        let key = self.vault.unlocked().await.map_err(api)?;
        self.twofa.pending_secret(&key).await.map_err(api)
    }

    /// The backup codes issued in the last 10 minutes, for the clipboard (`clipboard_copy`).
    pub fn twofa_issued_codes(&self) -> Result<Secret, ApiError> {
        self.twofa.issued_codes().map_err(api)
    }

    /// Returns the current setup's otpauth URI as a PNG QR code (`scale` pixels per module).
    pub async fn twofa_qr_png(&self, scale: u32) -> Result<Vec<u8>, ApiError> {
        let key = self.vault.unlocked().await.map_err(api)?;
        let uri = self.twofa.otpauth_uri(&key).await.map_err(api)?;
        crate::twofa::qr::png(&uri, scale.clamp(2, 32)).map_err(api)
    }

    /// Confirms setup with a code from the authenticator app; returns the 10 backup codes.
    pub async fn twofa_enable(&self, code: &str) -> Result<BackupCodes, ApiError> {
        let result = async {
            let key = self.vault.unlocked().await.map_err(api)?;
            self.twofa.enable(&key, code).await.map_err(api)
        }
        .await;
        self.publish(DomainEvent::TwofaChanged);
        result
    }

    /// Verifies a code (TOTP or backup) and opens the 15-minute step-up window.
    pub async fn twofa_verify(&self, code: &str) -> Result<TwoFactorStatus, ApiError> {
        let result = async {
            let key = self.vault.unlocked().await.map_err(api)?;
            self.twofa.verify(&key, code).await.map_err(api)
        }
        .await;
        self.publish(DomainEvent::TwofaChanged);
        result
    }

    /// Turns two-factor authentication off. Sensitive.
    pub async fn twofa_disable(&self) -> Result<TwoFactorStatus, ApiError> {
        self.guard(|g| async move {
            let auth = g.step_up(Sensitive::DisableTwofa).await?;
            // The audit entry is written in the same transaction as the change.
            self.twofa.disable(&auth).await.map_err(api)?;
            g.publish(DomainEvent::TwofaChanged);
            Ok(())
        })
        .await?;
        self.twofa_status().await
    }

    /// Issues 10 new backup codes (the old ones stop working). Sensitive.
    pub async fn twofa_regenerate_backup_codes(&self) -> Result<BackupCodes, ApiError> {
        self.guard(|g| async move {
            let auth = g.step_up(Sensitive::RegenerateBackupCodes).await?;
            let codes = self
                .twofa
                .regenerate_backup_codes(&auth)
                .await
                .map_err(api)?;
            g.publish(DomainEvent::TwofaChanged);
            Ok(codes)
        })
        .await
    }
}
