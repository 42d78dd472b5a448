//! The audit log over the API: listing, verifying the chain, CSV export.

use super::{api, Brokerdesk};
use crate::audit::{AuditEntry, AuditFilter, AuditVerification};
use crate::error::{ApiError, Code};
use crate::exports;

impl Brokerdesk {
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
}

impl Brokerdesk {
    /// Saves the matching entries as CSV in `downloads` when it is an existing folder, else
    /// in `<data dir>/exports/` (new file, mode 0600); returns the file's path.
    pub async fn audit_export_file(
        &self,
        filter: &AuditFilter,
        downloads: Option<std::path::PathBuf>,
    ) -> Result<String, ApiError> {
        let csv = self.audit_export_csv(filter).await?;
        let name = exports::audit_file_name(chrono::Local::now());
        self.save_export(downloads, name, csv, "audit log").await
    }

    /// Saves `text` as a new file `name` (mode 0600) in `downloads` when it is an existing
    /// folder, else in `<data dir>/exports/`; returns its path (`export_failed` if it cannot).
    pub(super) async fn save_export(
        &self,
        downloads: Option<std::path::PathBuf>,
        name: String,
        text: String,
        what: &'static str,
    ) -> Result<String, ApiError> {
        let dir = exports::export_dir(downloads, self.data_dir());
        let written =
            tokio::task::spawn_blocking(move || exports::write_new(&dir, &name, &text)).await;
        let failed = |e: String| {
            tracing::warn!(error = %e, what, "could not write an export");
            ApiError::new(
                Code::ExportFailed,
                format!("could not save the export: {e}"),
            )
        };
        match written {
            Ok(Ok(path)) => {
                tracing::info!(path = %path.display(), what, "exported");
                Ok(path.display().to_string())
            }
            Ok(Err(e)) => Err(failed(e.to_string())),
            Err(e) => Err(failed(e.to_string())),
        }
    }
}

impl Brokerdesk {
    /// Records what the system did by itself (a risk refusal, a warning, the kill switch),
    /// through the guard like every change (refused while locked; a failure to write is
    /// logged, since the action itself already happened).
    pub async fn audit_system(
        &self,
        event: crate::audit::AuditEvent,
        account_id: Option<&str>,
        detail: String,
    ) {
        let r = self
            .guard(|g| async move {
                g.audit(event, account_id, detail);
                Ok(())
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(code = %e.code, event = event.as_str(), "could not audit");
        }
    }
}
