//! What the core's commands need from the desktop: native notifications, the clipboard and
//! the Downloads folder ([`brokerdesk_core::api::commands::Host`]).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use brokerdesk_core::api::commands::Host;
use brokerdesk_core::runtime::Notice;
use brokerdesk_core::{ApiError, Secret};
use tauri::{AppHandle, Manager, Runtime};

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
}
