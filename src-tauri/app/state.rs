//! The engine as managed Tauri state.
//!
//! The core opens in the background while the window appears, so a slow keychain (a Secret
//! Service being D-Bus-activated) never delays the first paint. Commands wait for that open
//! through the same gate; whichever caller comes first runs it. A failed open (corrupt
//! database, newer schema, busy or unreadable data dir) is logged and returned as the
//! [`ApiError`] of the command that triggered it, so the UI can show why instead of the app
//! dying at start; the next command tries again (the UI's "Try again", after the user freed
//! the disk or closed the other process). A successful open is kept for the app's lifetime.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use brokerdesk_core::{ApiError, Brokerdesk};
use tokio::sync::Mutex;

/// How the audit log names changes made through the app (the CLI's are `cli`).
pub const AUDIT_ACTOR: &str = "app";

/// Builds an [`ApiError`] raised by the shell itself (not by the core).
pub fn app_error(code: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        code: code.to_string(),
        message: message.into(),
        fields: Vec::new(),
    }
}

/// The open profile, or what is needed to open it.
pub struct CoreState {
    data_dir: Result<PathBuf, ApiError>,
    core: OnceLock<Arc<Brokerdesk>>,
    /// Serialises opening attempts, so two first calls never open the database twice.
    opening: Mutex<()>,
}

impl CoreState {
    /// Returns a state that opens the profile in `data_dir` on first use. An `Err` data dir
    /// (none could be resolved) becomes the error of every command.
    pub fn new(data_dir: Result<PathBuf, ApiError>) -> Self {
        Self {
            data_dir,
            core: OnceLock::new(),
            opening: Mutex::new(()),
        }
    }

    /// Returns the open engine, opening it first if it is not open yet.
    pub async fn core(&self) -> Result<Arc<Brokerdesk>, ApiError> {
        if let Some(core) = self.core.get() {
            return Ok(core.clone());
        }
        let _gate = self.opening.lock().await;
        if let Some(core) = self.core.get() {
            return Ok(core.clone());
        }
        let core = self.open().await?;
        Ok(self.core.get_or_init(|| core).clone())
    }

    /// Returns the engine if it is open, without waiting or opening it.
    pub fn opened(&self) -> Option<Arc<Brokerdesk>> {
        self.core.get().cloned()
    }

    async fn open(&self) -> Result<Arc<Brokerdesk>, ApiError> {
        let dir = self.data_dir.clone()?;
        let keystore = brokerdesk_core::api::default_keystore();
        match Brokerdesk::open_as(&dir, keystore, AUDIT_ACTOR).await {
            Ok(core) => {
                tracing::info!(data_dir = %dir.display(), "profile opened");
                Ok(Arc::new(core))
            }
            Err(e) => {
                tracing::error!(code = %e.code, error = %e.message, data_dir = %dir.display(),
                    "could not open the profile; the window will show the error");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_data_dir_is_every_call_s_error() {
        let state = CoreState::new(Err(app_error("no_data_dir", "no home directory")));
        let err = state.core().await.err().map(|e| e.code);
        assert_eq!(err.as_deref(), Some("no_data_dir"));
        assert!(state.opened().is_none());
    }

    #[tokio::test]
    async fn opens_once_and_keeps_the_engine() {
        std::env::set_var(brokerdesk_core::api::NO_KEYCHAIN_ENV, "1");
        let dir = tempfile::tempdir().unwrap();
        let state = CoreState::new(Ok(dir.path().to_path_buf()));
        let (a, b) = tokio::join!(state.core(), state.core());
        assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
        let status = state.opened().unwrap().status().await.unwrap();
        assert!(!status.initialized);
        state.opened().unwrap().close().await;
    }

    #[tokio::test]
    async fn a_corrupt_database_is_reported_then_retried() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(brokerdesk_core::store::DB_FILE);
        std::fs::write(&db, vec![0x42u8; 8192]).unwrap();
        let state = CoreState::new(Ok(dir.path().to_path_buf()));
        for _ in 0..2 {
            let err = state.core().await.err().map(|e| e.code);
            assert_eq!(err.as_deref(), Some("corrupt_database"));
            assert!(state.opened().is_none());
        }
        // The user moves the broken file away and presses "Try again".
        std::fs::rename(&db, dir.path().join("broken.db")).unwrap();
        let core = state.core().await.unwrap();
        assert!(state.opened().is_some());
        core.close().await;
    }
}
