//! The development server as the commands' host: notifications and the clipboard are
//! recorded (the browser tests read them through `/dev/…`), exports go to the profile's
//! `exports/` folder, and starting at login is a flag in memory (nothing is registered with
//! the OS).

use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use brokerdesk_core::api::commands::Host;
use brokerdesk_core::api::desktop::Autostart;
use brokerdesk_core::runtime::Notice;
use brokerdesk_core::{ApiError, Code, Secret};

/// What the "desktop" was asked to show or hold.
#[derive(Default)]
pub struct DevHost {
    notices: Mutex<Vec<Notice>>,
    clipboard: Mutex<Option<Secret>>,
    /// While set, the "notification service" refuses every notification with this reason
    /// (what a desktop without a notification daemon answers).
    refuse_notifications: Mutex<Option<String>>,
    /// "Start at login", kept in memory only.
    autostart: Mutex<bool>,
}

/// Where the development server says it keeps "start at login".
pub const AUTOSTART_LOCATION: &str =
    "development server: kept in memory, nothing is registered with the OS";

impl DevHost {
    /// Records a notification the runtime sent.
    pub fn record(&self, notice: Notice) {
        tracing::info!(title = %notice.title, body = %notice.body, "notification");
        self.notices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(notice);
    }

    /// Returns every notification so far, oldest first.
    pub fn notices(&self) -> Vec<Notice> {
        self.notices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Makes the notification service refuse notifications with `reason` (`None`: accept).
    pub fn refuse_notifications(&self, reason: Option<String>) {
        *self
            .refuse_notifications
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = reason;
    }

    /// Returns whether the clipboard holds text that passes `test` (the text itself never
    /// leaves).
    pub fn clipboard_holds(&self, test: impl FnOnce(&str) -> bool) -> bool {
        self.clipboard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|s| test(s.expose()))
    }
}

#[async_trait]
impl Host for DevHost {
    fn notify(&self, notice: &Notice) -> Result<(), ApiError> {
        let refused = self
            .refuse_notifications
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(reason) = refused {
            return Err(ApiError::new(
                Code::NotificationFailed,
                format!("could not send the notification: {reason}"),
            ));
        }
        self.record(notice.clone());
        Ok(())
    }

    async fn clipboard_write_secret(&self, text: Secret) -> Result<(), ApiError> {
        if text.is_empty() {
            return Err(ApiError::new(Code::Validation, "there is nothing to copy"));
        }
        *self.clipboard.lock().unwrap_or_else(|e| e.into_inner()) = Some(text);
        Ok(())
    }

    fn downloads_dir(&self) -> Option<PathBuf> {
        None
    }

    fn autostart(&self) -> Result<Autostart, ApiError> {
        Ok(Autostart {
            enabled: *self.autostart.lock().unwrap_or_else(|e| e.into_inner()),
            available: true,
            location: AUTOSTART_LOCATION.to_string(),
        })
    }

    fn set_autostart(&self, enabled: bool) -> Result<Autostart, ApiError> {
        *self.autostart.lock().unwrap_or_else(|e| e.into_inner()) = enabled;
        self.autostart()
    }
}
