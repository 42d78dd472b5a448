//! What the core's commands need from the desktop: native notifications, the clipboard, the
//! Downloads folder and starting at login ([`brokerdesk_core::api::commands::Host`]).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use brokerdesk_core::api::commands::Host;
use brokerdesk_core::api::desktop::Autostart;
use brokerdesk_core::runtime::Notice;
use brokerdesk_core::{ApiError, Code, Secret};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_autostart::AutoLaunchManager;

use crate::clipboard::SecretClipboard;
use crate::notify::Notifier;

/// The desktop as the commands' host.
pub struct AppHost<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> AppHost<R> {
    pub fn new(app: AppHandle<R>) -> Self {
        Self { app }
    }
}

#[async_trait]
impl<R: Runtime> Host for AppHost<R> {
    fn notify(&self, notice: &Notice) -> Result<(), ApiError> {
        Notifier::new(self.app.clone()).send(notice)
    }

    async fn clipboard_write_secret(&self, text: Secret) -> Result<(), ApiError> {
        let clipboard = self.app.state::<SecretClipboard>();
        clipboard.write(self.app.clone(), text).await
    }

    fn downloads_dir(&self) -> Option<PathBuf> {
        directories::UserDirs::new().and_then(|d| d.download_dir().map(Path::to_path_buf))
    }

    fn autostart(&self) -> Result<Autostart, ApiError> {
        let Some(manager) = self.app.try_state::<AutoLaunchManager>() else {
            return Ok(Autostart::unavailable(
                "the start-at-login plugin did not start (see the log)",
            ));
        };
        let enabled = manager.is_enabled().map_err(|e| failed("read", e))?;
        Ok(Autostart {
            enabled,
            available: true,
            location: crate::autostart::location(),
        })
    }

    fn set_autostart(&self, enabled: bool) -> Result<Autostart, ApiError> {
        let Some(manager) = self.app.try_state::<AutoLaunchManager>() else {
            return Err(ApiError::new(
                Code::AutostartFailed,
                "the start-at-login plugin did not start (see the log)",
            ));
        };
        let result = if enabled {
            manager.enable()
        } else {
            manager.disable()
        };
        result.map_err(|e| failed(if enabled { "turn on" } else { "turn off" }, e))?;
        self.autostart()
    }
}

fn failed(what: &str, e: tauri_plugin_autostart::Error) -> ApiError {
    tracing::warn!(error = %e, "start at login: could not {what}");
    ApiError::new(
        Code::AutostartFailed,
        format!("could not {what} starting at login: {e}"),
    )
}
