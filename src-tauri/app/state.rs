//! The engine as managed Tauri state: the open profile and its [`Runtime`].
//!
//! The core opens in the background while the window appears, so a slow keychain (a Secret
//! Service being D-Bus-activated) never delays the first paint. Commands wait for that open
//! through the same gate; whichever caller comes first runs it. A failed open (corrupt
//! database, newer schema, busy or unreadable data dir) is logged and returned as the
//! [`ApiError`] of the command that triggered it (its message naming the data folder), so the
//! UI can show why and how to fix it by the code instead of the app dying at start; the next command tries again (the UI's "Try again", after the user freed
//! the disk or closed the other process). A successful open starts the runtime and is kept
//! for the app's lifetime; `on_started` is told once (the shell starts forwarding events).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use brokerdesk_core::runtime::{Runtime, RuntimeOptions};
use brokerdesk_core::{ApiError, Brokerdesk};
use tokio::sync::Mutex;

/// How the audit log names changes made through the app (the CLI's are `cli`).
pub const AUDIT_ACTOR: &str = "app";

type OnStarted = Box<dyn Fn(Arc<Runtime>) + Send + Sync>;

/// The open profile and its runtime, or what is needed to open them.
pub struct CoreState {
    data_dir: Result<PathBuf, ApiError>,
    runtime: OnceLock<Arc<Runtime>>,
    /// Serialises opening attempts, so two first calls never open the database twice.
    opening: Mutex<()>,
    on_started: std::sync::Mutex<Option<OnStarted>>,
}

impl CoreState {
    /// Returns a state that opens the profile in `data_dir` on first use. An `Err` data dir
    /// (none could be resolved) becomes the error of every command.
    pub fn new(data_dir: Result<PathBuf, ApiError>) -> Self {
        Self {
            data_dir,
            runtime: OnceLock::new(),
            opening: Mutex::new(()),
            on_started: std::sync::Mutex::new(None),
        }
    }

    /// Sets what to do once the runtime has started (before any caller gets it).
    pub fn on_started(&self, f: impl Fn(Arc<Runtime>) + Send + Sync + 'static) {
        *self.on_started.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(f));
    }

    /// Returns the running engine, opening the profile and starting it first if needed.
    pub async fn runtime(&self) -> Result<Arc<Runtime>, ApiError> {
        if let Some(rt) = self.runtime.get() {
            return Ok(rt.clone());
        }
        let _gate = self.opening.lock().await;
        if let Some(rt) = self.runtime.get() {
            return Ok(rt.clone());
        }
        let core = Arc::new(self.open().await?);
        let rt = Runtime::start(core, RuntimeOptions::default()).await;
        if let Some(f) = self
            .on_started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            f(rt.clone());
        }
        Ok(self.runtime.get_or_init(|| rt).clone())
    }

    /// Returns the open engine, opening it first if it is not open yet.
    pub async fn core(&self) -> Result<Arc<Brokerdesk>, ApiError> {
        Ok(self.runtime().await?.core().clone())
    }

    /// Returns the runtime if it has started, without waiting or starting it.
    pub fn started(&self) -> Option<Arc<Runtime>> {
        self.runtime.get().cloned()
    }

    async fn open(&self) -> Result<Brokerdesk, ApiError> {
        let dir = self.data_dir.clone()?;
        let keystore = brokerdesk_core::api::default_keystore();
        match Brokerdesk::open_as(&dir, keystore, AUDIT_ACTOR).await {
            Ok(core) => {
                tracing::info!(data_dir = %dir.display(), "profile opened");
                Ok(core)
            }
            Err(e) => {
                tracing::error!(code = %e.code, error = %e.message, data_dir = %dir.display(),
                    "could not open the profile; the window will show the error");
                // The window's fix (restore a backup, check the permissions) needs the folder.
                let mut shown = ApiError::new(
                    e.code,
                    format!("{} (data folder: {})", e.message, dir.display()),
                );
                shown.fields = e.fields;
                Err(shown)
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use brokerdesk_core::Code;

    use super::*;

    #[tokio::test]
    async fn a_missing_data_dir_is_every_call_s_error() {
        let state = CoreState::new(Err(ApiError::new(Code::NoDataDir, "no home directory")));
        let err = state.core().await.err().map(|e| e.code);
        assert_eq!(err, Some(Code::NoDataDir));
        assert!(state.started().is_none());
    }

    #[tokio::test]
    async fn opens_once_and_keeps_the_engine() {
        std::env::set_var(brokerdesk_core::api::NO_KEYCHAIN_ENV, "1");
        let dir = tempfile::tempdir().unwrap();
        let state = CoreState::new(Ok(dir.path().to_path_buf()));
        let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = started.clone();
        state.on_started(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let (a, b) = tokio::join!(state.core(), state.core());
        assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
        assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 1);
        let rt = state.started().unwrap();
        let status = rt.core().status().await.unwrap();
        assert!(!status.initialized);
        rt.shutdown().await;
        rt.core().close().await;
    }

    #[tokio::test]
    async fn a_corrupt_database_is_reported_then_retried() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(brokerdesk_core::store::DB_FILE);
        std::fs::write(&db, vec![0x42u8; 8192]).unwrap();
        let state = CoreState::new(Ok(dir.path().to_path_buf()));
        for _ in 0..2 {
            let err = state.core().await.err().unwrap();
            assert_eq!(err.code, Code::CorruptDatabase);
            // The window's fix names the folder to restore into.
            assert!(
                err.message.contains(&dir.path().display().to_string()),
                "{err}"
            );
            assert!(state.started().is_none());
        }
        // The user moves the broken file away and presses "Try again".
        std::fs::rename(&db, dir.path().join("broken.db")).unwrap();
        let core = state.core().await.unwrap();
        assert!(state.started().is_some());
        state.started().unwrap().shutdown().await;
        core.close().await;
    }
}
