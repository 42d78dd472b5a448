//! The backup schedule: while the profile is open and unlocked, every
//! [`super::RuntimeOptions::backup_every`] the runtime asks whether the daily backup is due
//! ([`Brokerdesk::backup_due`]: scheduled, a passphrase set, the last backup 24 h old) and
//! makes it, pruning old scheduled ones. A failure is recorded (Settings → Backups and the
//! health check show it) and notified once, not again until a backup succeeds. Nothing is
//! made while the runtime is held in the safe state ([`super::safe`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::events::{Notice, RuntimeEvent};
use crate::api::Brokerdesk;

/// How often the schedule is looked at.
pub const CHECK_EVERY: Duration = Duration::from_secs(15 * 60);

/// The schedule loop; the first look is one `every` after start, so opening the app does
/// not compete with connecting every account.
pub async fn run(
    core: Arc<Brokerdesk>,
    safe: Arc<super::safe::SafeGate>,
    out: broadcast::Sender<RuntimeEvent>,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut told_failure = false;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        // In the safe state no scheduled backup is made: its pruning would delete the older,
        // good backups a restore needs.
        if safe.is_held() || !core.is_unlocked() || !matches!(core.backup_due().await, Ok(true)) {
            continue;
        }
        match core.backup_scheduled().await {
            Ok(file) => {
                told_failure = false;
                tracing::info!(path = %file.path, "scheduled backup written");
            }
            Err(e) => {
                tracing::warn!(code = %e.code, "the scheduled backup failed");
                if !told_failure {
                    told_failure = true;
                    let _ = out.send(RuntimeEvent::Notify(Notice::new(
                        "Backup failed",
                        format!("{} (Settings → Backups)", e.message),
                    )));
                }
            }
        }
    }
}
