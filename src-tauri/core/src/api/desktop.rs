//! Desktop integration whose rules the core owns: starting at login.
//!
//! The mechanism is the surface's (the Tauri shell writes the platform's own autostart entry
//! through the official plugin; the development server keeps a flag in memory): it comes
//! through [`Host::autostart`] and [`Host::set_autostart`]. The state lives with the OS only,
//! never in the profile, so the switch always shows what the OS will do at the next login.
//! What the core adds: a change goes through the guard (refused while the vault is locked),
//! is audited (`autostart_changed`), and turning it on is announced with a native
//! notification, so a window cannot turn it on without the user seeing it.

use serde::Serialize;
use ts_rs::TS;

use super::commands::Host;
use super::Brokerdesk;
use crate::audit::AuditEvent;
use crate::error::{ApiError, Code};
use crate::runtime::Notice;

/// The notification sent when starting at login is turned on.
pub const AUTOSTART_ON_NOTICE: &str =
    "Brokerdesk will start when you log in, hidden in the tray. Turn it off in Settings → Desktop.";

/// Whether Brokerdesk starts when the user logs in, as the OS has it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Autostart {
    /// Whether the app starts at login (read from the OS each time).
    pub enabled: bool,
    /// Whether this surface can change it at all.
    pub available: bool,
    /// Where the OS keeps it (e.g. `~/.config/autostart/Brokerdesk.desktop`), or why it is
    /// not available; shown to the user as it is.
    pub location: String,
}

impl Autostart {
    /// What a surface without a start-at-login mechanism reports.
    pub fn unavailable(why: impl Into<String>) -> Self {
        Self {
            enabled: false,
            available: false,
            location: why.into(),
        }
    }
}

impl Brokerdesk {
    /// Turns starting at login on or off through `host`: unlocked only, audited when it
    /// changes, announced with a notification when turned on. Returns the state the OS has
    /// afterwards (`autostart_failed` if the OS refused, or did not take the change).
    pub async fn autostart_set(
        &self,
        host: &dyn Host,
        enabled: bool,
    ) -> Result<Autostart, ApiError> {
        self.guard(|g| async move {
            let before = host.autostart()?;
            if !before.available {
                return Err(ApiError::new(
                    Code::AutostartFailed,
                    format!(
                        "starting at login is not available here: {}",
                        before.location
                    ),
                ));
            }
            if before.enabled == enabled {
                return Ok(before);
            }
            let after = host.set_autostart(enabled)?;
            if after.enabled != enabled {
                return Err(ApiError::new(
                    Code::AutostartFailed,
                    format!(
                        "starting at login is still {} after turning it {}",
                        on_off(after.enabled),
                        on_off(enabled)
                    ),
                ));
            }
            g.audit(
                AuditEvent::AutostartChanged,
                None,
                format!(
                    "start at login turned {} ({})",
                    on_off(enabled),
                    after.location
                ),
            );
            if enabled {
                // Best effort: the change is made and audited either way.
                if let Err(e) = host.notify(&Notice::new("Brokerdesk", AUTOSTART_ON_NOTICE)) {
                    tracing::warn!(code = %e.code, "could not announce start at login");
                }
            }
            tracing::info!(enabled, location = %after.location, "start at login changed");
            Ok(after)
        })
        .await
    }
}

fn on_off(enabled: bool) -> &'static str {
    if enabled {
        "on"
    } else {
        "off"
    }
}
