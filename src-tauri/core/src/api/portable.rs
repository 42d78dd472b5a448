//! Exporting the configuration over the API (`portable`): the document, its text, and a
//! file in Downloads. Needs the vault unlocked (accounts are read through it); audited.

use super::{api, Brokerdesk};
use crate::accounts::model::Account;
use crate::audit::AuditEvent;
use crate::error::{ApiError, Code};
use crate::portable::{render, ExportFormat, ExportedAccount, ProfileExport, SCHEMA_VERSION};
use crate::store::StoreError;

impl Brokerdesk {
    /// The configuration of every account, or of those named (by name or id; an unknown one
    /// is `not_found`), and the app settings. Each export takes the profile's next serial and
    /// is audited.
    pub async fn config_export(&self, only: &[String]) -> Result<ProfileExport, ApiError> {
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
        let key = self.vault.unlocked().await.map_err(api)?;
        let mut tx = self.store.begin_write().await.map_err(api)?;
        let (lineage, serial): (String, i64) = sqlx::query_as(
            "UPDATE vault SET export_serial = export_serial + 1 WHERE id = 1
             RETURNING vault_id, export_serial",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| api(StoreError::from(e)))?;
        let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
        crate::audit::append(
            &mut tx,
            Some(&key),
            self.audit.actor(),
            AuditEvent::ConfigExported,
            None,
            &format!(
                "export #{serial}: {} account(s) ({}) and the settings; no credentials",
                names.len(),
                names.join(", ")
            ),
        )
        .await
        .map_err(api)?;
        tx.commit().await.map_err(|e| api(StoreError::from(e)))?;
        Ok(ProfileExport {
            schema_version: SCHEMA_VERSION,
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            exported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            lineage,
            serial: u64::try_from(serial).unwrap_or_default(),
            settings,
            accounts: accounts.into_iter().map(ExportedAccount::of).collect(),
        })
    }

    /// [`Brokerdesk::config_export`] as JSON or YAML text.
    pub async fn config_export_text(
        &self,
        format: ExportFormat,
        only: &[String],
    ) -> Result<String, ApiError> {
        let doc = self.config_export(only).await?;
        render(&doc, format).map_err(|e| {
            ApiError::new(
                Code::ExportFailed,
                format!("could not write the export: {e}"),
            )
        })
    }

    /// Saves the export in `downloads` when it is an existing folder, else in
    /// `<data dir>/exports/` (a new file, mode 0600); returns its path.
    pub async fn config_export_file(
        &self,
        format: ExportFormat,
        only: &[String],
        downloads: Option<std::path::PathBuf>,
    ) -> Result<String, ApiError> {
        let text = self.config_export_text(format, only).await?;
        let name = format!(
            "brokerdesk-config-{}.{}",
            chrono::Local::now().format("%Y%m%d-%H%M%S"),
            format.extension()
        );
        self.save_export(downloads, name, text, "configuration")
            .await
    }
}
