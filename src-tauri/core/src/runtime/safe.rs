//! The safe state: what the runtime does when a start-up check fails
//! ([`Brokerdesk::startup_check`]).
//!
//! The checks run when the runtime starts, and — for the ones that need the key (the audit
//! chain, the accounts) — at the first unlock. While one fails the runtime is **held**:
//!
//! - no order is placed, live or paper (`safe_mode`), and that includes closing a position
//!   and the kill switch's flatten: an order is exactly what a damaged or edited profile must
//!   not produce;
//! - no account connects (no prices either): a connection signs in with stored credentials
//!   and endpoints, which are what is in doubt;
//! - the order worker neither recovers (sends) never-sent orders nor asks brokers about
//!   working ones (queued cancels are still retried: a cancel only reduces risk);
//! - no scheduled backup is made: it would prune the older, good backups a restore needs
//!   (a backup made by hand still works, and prunes nothing);
//! - the paper desks' pumps do not run (no paper fill).
//!
//! Everything else stays: reading, the audit log and its verification, exports, health,
//! editing or removing accounts, cancelling orders (it only reduces risk), the kill switch
//! (minus its flatten). The state is left only when the checks pass: "Check again"
//! ([`Runtime::startup_recheck`]), or by itself after an account change while held (the user
//! saved or removed the account named).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::events::{Notice, RuntimeEvent, UiEvent};
use super::Runtime;
use crate::api::Brokerdesk;
use crate::error::{ApiError, Code};
use crate::health::StartupReport;

/// The safe state as the runtime's loops see it: one flag, and the last report.
#[derive(Default)]
pub struct SafeGate {
    held: AtomicBool,
    /// The last report; `None` until the first check ran. A tokio mutex: a check runs under
    /// it, so two never run at once.
    report: tokio::sync::Mutex<Option<StartupReport>>,
}

impl SafeGate {
    /// Whether the runtime is held (a start-up check failed).
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::SeqCst)
    }
}

/// The error an order (or anything else the safe state stops) is refused with.
pub fn refused(report: &StartupReport) -> ApiError {
    ApiError::new(
        Code::SafeMode,
        format!(
            "Brokerdesk is in the safe state: a start-up check failed ({}); no order is sent and no account connects until the checks pass. See what to fix in the app's banner or with `brokerdesk health`, then check again",
            report.failed_codes()
        ),
    )
}

/// Runs the checks and records the outcome in `gate`; returns the report and whether the
/// held state changed.
async fn run_check(core: &Brokerdesk, gate: &SafeGate) -> (StartupReport, bool) {
    let mut held = gate.report.lock().await;
    let report = core.startup_check().await;
    let was = gate.held.swap(report.safe_mode, Ordering::SeqCst);
    if report.safe_mode {
        tracing::warn!(failed = %report.failed_codes(), "start-up checks failed: the safe state holds trading");
    } else if was {
        tracing::info!("start-up checks pass again: the safe state is left");
    }
    let changed = was != report.safe_mode;
    *held = Some(report.clone());
    (report, changed)
}

impl Runtime {
    /// The first check, at start (before anything connects).
    pub(super) async fn first_check(&self) {
        let (report, _) = run_check(&self.core, &self.safe).await;
        if report.safe_mode {
            let _ = self.out.send(RuntimeEvent::Notify(Notice::new(
                "Brokerdesk — safe state",
                format!(
                    "A start-up check failed ({}): trading is held until it is fixed",
                    report.failed_codes()
                ),
            )));
        }
    }

    /// Returns whether the runtime is held in the safe state.
    pub fn is_held(&self) -> bool {
        self.safe.is_held()
    }

    /// Returns the current start-up report; runs the checks that need the key first if they
    /// have not run yet and the vault is now unlocked.
    pub async fn startup_report(self: &Arc<Self>) -> StartupReport {
        let current = self.safe.report.lock().await.clone();
        match current {
            Some(r) if r.complete || !self.core.is_unlocked() => r,
            _ => self.startup_recheck().await,
        }
    }

    /// Runs the start-up checks again ("Check again"): entering or leaving the safe state
    /// as they say, and telling the window.
    pub async fn startup_recheck(self: &Arc<Self>) -> StartupReport {
        let (report, changed) = run_check(&self.core, &self.safe).await;
        if changed {
            if report.safe_mode {
                // Held from now on: the connections stop, the paper desks' pumps too.
                self.sync(None).await;
                self.stop_trading().await;
                let _ = self.out.send(RuntimeEvent::Notify(Notice::new(
                    "Brokerdesk — safe state",
                    format!(
                        "A check failed ({}): trading is held until it is fixed",
                        report.failed_codes()
                    ),
                )));
            } else {
                self.sync(None).await;
                self.start_desks().await;
                self.orders_nudge.notify_one();
            }
        }
        self.ui(UiEvent::SafeState(report.clone()));
        report
    }

    /// Runs the checks that need the key if they have not run (the first unlock).
    pub(super) async fn check_if_incomplete(self: &Arc<Self>) {
        if !self.core.is_unlocked() {
            return;
        }
        let complete = self
            .safe
            .report
            .lock()
            .await
            .as_ref()
            .is_some_and(|r| r.complete);
        if !complete {
            self.startup_recheck().await;
        }
    }

    /// Refuses with `safe_mode` while held. Runs the checks that need the key first when
    /// they have not (an order placed right after the unlock, before the runtime heard of it).
    pub(super) async fn require_not_held(self: &Arc<Self>) -> Result<(), ApiError> {
        let report = self.startup_report().await;
        if report.safe_mode {
            Err(refused(&report))
        } else {
            Ok(())
        }
    }
}
