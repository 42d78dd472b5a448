//! Events the shell sends to the UI, and the native surfaces (tray) that follow the same state.

use brokerdesk_core::twofa::TwoFactorStatus;
use brokerdesk_core::VaultStatus;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::tray::Tray;

/// Sent with a [`VaultStatus`] payload after every vault state change, whoever caused it (a
/// command, or the tray's "Lock").
pub const VAULT_STATUS: &str = "vault-status";

/// Tells the UI and the tray that the vault changed.
pub fn vault_changed<R: Runtime>(app: &AppHandle<R>, status: &VaultStatus) {
    if let Some(tray) = app.try_state::<Tray<R>>() {
        tray.set_vault(status);
    }
    if let Err(e) = app.emit(VAULT_STATUS, status) {
        tracing::warn!(error = %e, "could not emit {VAULT_STATUS}");
    }
}

/// Sent with a [`TwoFactorStatus`] payload after every two-factor change (setup, enable,
/// verify — including a failed code, which moves the failure count or starts a lockout —,
/// disable, new backup codes).
pub const TWOFA_STATUS: &str = "twofa-status";

/// Tells the UI that the two-factor state changed.
pub fn twofa_changed<R: Runtime>(app: &AppHandle<R>, status: &TwoFactorStatus) {
    if let Err(e) = app.emit(TWOFA_STATUS, status) {
        tracing::warn!(error = %e, "could not emit {TWOFA_STATUS}");
    }
}

/// Sent with a core `ConnectionEvent` payload (`{accountId, channel, state, at}`) after every
/// state change of every broker connection; `connections_snapshot` returns the full picture.
pub const CONNECTION_EVENT: &str = "connection-event";
