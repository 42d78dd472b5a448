//! Exporting the configuration over the API (`portable`): the document, its text, and a
//! file in Downloads. Needs the vault unlocked (accounts are read through it); audited.
//! With a passphrase, the accounts' credentials travel sealed (a step-up first).

use std::collections::BTreeMap;

use base64::Engine as _;
use zeroize::Zeroizing;

use super::guard::Sensitive;
use super::{api, Brokerdesk};
use crate::accounts::model::Account;
use crate::audit::AuditEvent;
use crate::error::{ApiError, Code};
use crate::portable::{
    credentials_aad, render, ExportFormat, ExportedAccount, ProfileExport, SealedCredentials,
    SCHEMA_VERSION,
};
use crate::seal::{PassKey, SealError};
use crate::secret::Secret;
use crate::store::StoreError;

/// A sealing failure as the API reports it.
pub(crate) fn seal_error(e: SealError) -> ApiError {
    let code = match &e {
        SealError::WrongPassphrase => Code::WrongPassphrase,
        SealError::Damaged(_) => Code::ImportDamaged,
        SealError::TooShort | SealError::TooLong => Code::WeakPassword,
        SealError::Random => Code::RandomFailed,
        SealError::Kdf(_) => Code::KdfFailed,
    };
    ApiError::new(code, format!("passphrase: {e}"))
}

/// Runs the passphrase's key derivation (a third of a second, 64 MiB) off the async threads.
pub(crate) async fn derive<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SealError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::new(Code::Internal, format!("key derivation stopped: {e}")))?
        .map_err(seal_error)
}

impl Brokerdesk {
    /// The configuration of every account, or of those named (by name or id; an unknown one
    /// is `not_found`), and the app settings. Each export takes the profile's next serial and
    /// is audited.
    pub async fn config_export(&self, only: &[String]) -> Result<ProfileExport, ApiError> {
        self.export_doc(only, None).await
    }

    /// [`Brokerdesk::config_export`] with every exported account's credentials sealed with
    /// `passphrase` (at least 10 characters) in the document's `credentials` block. Needs the
    /// step-up ([`Sensitive::ExportCredentials`]); audited as an export with credentials.
    pub async fn config_export_with_credentials(
        &self,
        only: &[String],
        passphrase: Secret,
    ) -> Result<ProfileExport, ApiError> {
        crate::seal::check_new_passphrase(&passphrase).map_err(seal_error)?;
        self.guard(|g| async move {
            g.step_up(Sensitive::ExportCredentials).await?;
            let key = derive(move || PassKey::create(&passphrase)).await?;
            self.export_doc(only, Some(&key)).await
        })
        .await
    }

    async fn export_doc(
        &self,
        only: &[String],
        seal_with: Option<&PassKey>,
    ) -> Result<ProfileExport, ApiError> {
        let all = self.accounts_list().await?;
        let accounts: Vec<&Account> = if only.is_empty() {
            all.iter().collect()
        } else {
            let mut picked: Vec<&Account> = Vec::new();
            for want in only {
                let want = want.trim();
                let found = all
                    .iter()
                    .find(|a| a.id == want || a.name.eq_ignore_ascii_case(want))
                    .ok_or_else(|| {
                        ApiError::new(Code::NotFound, format!("no account matches {want:?}"))
                    })?;
                if !picked.iter().any(|a| a.id == found.id) {
                    picked.push(found);
                }
            }
            picked
        };
        let settings = self.settings().await?;
        // Opened before anything is written: an account whose credentials do not open
        // fails the export, which then takes no serial.
        let mut plain: BTreeMap<String, BTreeMap<String, Secret>> = BTreeMap::new();
        if seal_with.is_some() {
            for a in accounts.iter().filter(|a| !a.credentials.is_empty()) {
                let c = self.accounts.open_credentials(&a.id).await.map_err(api)?;
                let mut fields = BTreeMap::new();
                if let Some(k) = c.api_key {
                    fields.insert("api_key".to_string(), k);
                }
                if let Some(s) = c.api_secret {
                    fields.insert("api_secret".to_string(), s);
                }
                if !fields.is_empty() {
                    plain.insert(a.name.clone(), fields);
                }
            }
        }
        let key = self.vault.unlocked().await.map_err(api)?;
        let mut tx = self.store.begin_write().await.map_err(api)?;
        let (lineage, serial): (String, i64) = sqlx::query_as(
            "UPDATE vault SET export_serial = export_serial + 1 WHERE id = 1
             RETURNING vault_id, export_serial",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| api(StoreError::from(e)))?;
        let serial = u64::try_from(serial).unwrap_or_default();
        let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
        let credentials = match seal_with {
            None => "no credentials".to_string(),
            Some(_) => format!(
                "with the credentials of {} account(s), sealed with a passphrase",
                plain.len()
            ),
        };
        crate::audit::append(
            &mut tx,
            Some(&key),
            self.audit.actor(),
            AuditEvent::ConfigExported,
            None,
            &format!(
                "export #{serial}: {} account(s) ({}) and the settings; {credentials}",
                names.len(),
                names.join(", ")
            ),
        )
        .await
        .map_err(api)?;
        let sealed = match seal_with {
            None => None,
            Some(k) => {
                let view: BTreeMap<&str, BTreeMap<&str, &str>> = plain
                    .iter()
                    .map(|(name, f)| {
                        (
                            name.as_str(),
                            f.iter().map(|(k, v)| (k.as_str(), v.expose())).collect(),
                        )
                    })
                    .collect();
                let bytes = Zeroizing::new(serde_json::to_vec(&view).map_err(|e| {
                    ApiError::new(
                        Code::ExportFailed,
                        format!("cannot seal the credentials: {e}"),
                    )
                })?);
                let sealed = k
                    .seal(&credentials_aad(&lineage, serial), &bytes)
                    .map_err(seal_error)?;
                Some(SealedCredentials {
                    key: k.spec(),
                    sealed: base64::engine::general_purpose::STANDARD.encode(sealed),
                })
            }
        };
        tx.commit().await.map_err(|e| api(StoreError::from(e)))?;
        let exported = |a: &Account| match seal_with {
            Some(_) if plain.contains_key(&a.name) => ExportedAccount::of_sealed(a),
            _ => ExportedAccount::of(a),
        };
        Ok(ProfileExport {
            schema_version: SCHEMA_VERSION,
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            exported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            lineage,
            serial,
            settings,
            accounts: accounts.into_iter().map(exported).collect(),
            credentials: sealed,
        })
    }

    /// [`Brokerdesk::config_export`] as JSON or YAML text.
    pub async fn config_export_text(
        &self,
        format: ExportFormat,
        only: &[String],
        passphrase: Option<Secret>,
    ) -> Result<String, ApiError> {
        let doc = match passphrase {
            None => self.config_export(only).await?,
            Some(p) => self.config_export_with_credentials(only, p).await?,
        };
        render(&doc, format).map_err(|e| {
            ApiError::new(
                Code::ExportFailed,
                format!("could not write the export: {e}"),
            )
        })
    }

    /// Saves the export in `downloads` when it is an existing folder, else in
    /// `<data dir>/exports/` (a new file, mode 0600); returns its path. With `passphrase`,
    /// the credentials travel sealed ([`Brokerdesk::config_export_with_credentials`]).
    pub async fn config_export_file(
        &self,
        format: ExportFormat,
        only: &[String],
        passphrase: Option<Secret>,
        downloads: Option<std::path::PathBuf>,
    ) -> Result<String, ApiError> {
        let text = self.config_export_text(format, only, passphrase).await?;
        let name = format!(
            "brokerdesk-config-{}.{}",
            chrono::Local::now().format("%Y%m%d-%H%M%S"),
            format.extension()
        );
        self.save_export(downloads, name, text, "configuration")
            .await
    }
}
