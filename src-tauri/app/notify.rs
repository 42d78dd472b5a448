//! Native notifications, sent from Rust (the webview has no notification permission).
//!
//! Everything that alerts the user (connection lost or restored, auth failures, fills, risk
//! breaches) goes through [`Notifier`], so the wording and the failure handling live in one
//! place. Delivery is asynchronous: on Linux the plugin hands the message to the desktop's
//! notification server over D-Bus on a background task, so `Ok` means "handed over", not
//! "seen". Without a notification server nothing is shown and nothing fails.

use brokerdesk_core::ApiError;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::state::app_error;

/// The body of the test notification sent from Settings.
pub const TEST_BODY: &str = "Brokerdesk notifications work";
/// The body of the notification sent when too many wrong two-factor codes lock 2FA out.
pub const TWOFA_LOCKED_BODY: &str = "Two-factor locked: too many wrong codes";

/// One notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

impl Notice {
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
        }
    }

    /// Returns the notification a user sends to check their setup.
    pub fn test() -> Self {
        Self::new("Brokerdesk", TEST_BODY)
    }

    /// Returns the notification of a two-factor lockout (the app's 2FA screen says until when).
    pub fn twofa_locked_out() -> Self {
        Self::new("Brokerdesk", TWOFA_LOCKED_BODY)
    }
}

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
                app_error(
                    "notification_failed",
                    format!("could not send the notification: {e}"),
                )
            })
    }
}
