//! Native notifications, sent from Rust (the webview has no notification permission).
//!
//! Everything that alerts the user (connection lost or restored, auth failures, fills, risk
//! breaches) goes through [`Notifier`], so the wording and the failure handling live in one
//! place. Delivery is asynchronous: on Linux the plugin hands the message to the desktop's
//! notification server over D-Bus on a background task, so `Ok` means "handed over", not
//! "seen". Without a notification server nothing is shown and nothing fails.

use brokerdesk_core::runtime::Notice;
use brokerdesk_core::{ApiError, Code};
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

/// Sends native notifications for the app.
pub struct Notifier<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> Notifier<R> {
    pub fn new(app: AppHandle<R>) -> Self {
        Self { app }
    }

    /// Hands a notification to the OS.
    pub fn send(&self, notice: &Notice) -> Result<(), ApiError> {
        self.app
            .notification()
            .builder()
            .title(&notice.title)
            .body(&notice.body)
            .show()
            .map_err(|e| {
                tracing::warn!(error = %e, "could not send a notification");
                ApiError::new(
                    Code::NotificationFailed,
                    format!("could not send the notification: {e}"),
                )
            })
    }
}
