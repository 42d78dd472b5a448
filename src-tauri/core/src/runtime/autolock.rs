//! Auto-lock: locks a password-protected vault after the user has been idle for the number of
//! minutes set in Settings.
//!
//! [`AutoLock`] is managed state that owns one background loop ([`run`]) and the
//! [`CancellationToken`] that stops it; shutdown cancels and awaits it before the store closes,
//! and dropping the owner cancels it too. Every [`CHECK_EVERY`] the loop reads the setting and
//! the vault's state afresh (so a change made by the CLI is picked up as well) and asks the pure
//! [`lock_due`] whether to lock. "Activity" ([`Activity`]) is the later of the app's start, the
//! last unlock (or other vault change) and the UI's last `app_activity` call.
//!
//! Idle time is measured on two clocks and the larger wins: the monotonic clock does not jump
//! when the wall clock is changed, but on Linux and macOS it stops while the machine sleeps —
//! and a laptop that slept through the idle limit must come back locked.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::api::{Brokerdesk, VaultStatus};
use crate::settings::AppSettings;

/// How often the loop checks whether the vault has been idle long enough.
pub const CHECK_EVERY: Duration = Duration::from_secs(15);
/// The longest shutdown waits for a check that is under way.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// Returns whether the vault must be locked now: auto-lock is on, the vault is unlocked and
/// protected by a master password (a keychain vault cannot lock), and the user has been idle
/// for at least the configured minutes.
pub fn lock_due(settings: &AppSettings, status: &VaultStatus, idle: Duration) -> bool {
    match settings.auto_lock_minutes {
        Some(minutes) if minutes > 0 => {
            status.can_lock() && idle >= Duration::from_secs(u64::from(minutes) * 60)
        }
        _ => false,
    }
}

/// When the user last did something.
pub struct Activity {
    last: Mutex<(Instant, SystemTime)>,
}

impl Default for Activity {
    fn default() -> Self {
        Self::new()
    }
}

impl Activity {
    /// Returns a tracker whose last activity is now (the app's start).
    pub fn new() -> Self {
        Self {
            last: Mutex::new((Instant::now(), SystemTime::now())),
        }
    }

    /// Records that the user did something now.
    pub fn touch(&self) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
            (Instant::now(), SystemTime::now());
    }

    /// Returns how long ago the user last did something.
    pub fn idle(&self) -> Duration {
        let (mono, wall) = *self.last.lock().unwrap_or_else(PoisonError::into_inner);
        idle_since(mono, Instant::now(), wall, SystemTime::now())
    }
}

/// Returns the larger of the two clocks' elapsed times. A wall clock set backwards counts as
/// no time (the monotonic clock still counts); one set forwards can only lock early.
fn idle_since(
    mono_last: Instant,
    mono_now: Instant,
    wall_last: SystemTime,
    wall_now: SystemTime,
) -> Duration {
    let mono = mono_now.saturating_duration_since(mono_last);
    let wall = wall_now.duration_since(wall_last).unwrap_or_default();
    mono.max(wall)
}

/// What the loop needs from the vault; [`CoreLock`] in the runtime, a fake in tests.
pub trait LockTarget: Send + Sync + 'static {
    /// Returns the settings and the vault's state, or `None` while they cannot be read (the
    /// profile is not open, or failed to open).
    fn snapshot(&self) -> impl Future<Output = Option<(AppSettings, VaultStatus)>> + Send;

    /// Locks the vault after `idle` without activity, and tells whoever must know.
    fn lock(&self, idle: Duration) -> impl Future<Output = ()> + Send;
}

/// Checks every [`CHECK_EVERY`] and locks when [`lock_due`] says so. Returns when `cancel` is
/// cancelled; a check under way finishes first, so the store is never closed under it.
pub async fn run<T: LockTarget>(target: T, activity: Arc<Activity>, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(CHECK_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let Some((settings, status)) = target.snapshot().await else {
            continue;
        };
        let idle = activity.idle();
        if lock_due(&settings, &status, idle) {
            target.lock(idle).await;
        }
    }
}

/// The auto-lock loop's owner (the runtime keeps one).
pub struct AutoLock {
    activity: Arc<Activity>,
    cancel: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Default for AutoLock {
    fn default() -> Self {
        Self::new()
    }
}

impl AutoLock {
    /// Returns an owner with no loop running yet; activity counts from now.
    pub fn new() -> Self {
        Self {
            activity: Arc::new(Activity::new()),
            cancel: CancellationToken::new(),
            task: Mutex::new(None),
        }
    }

    /// Records user activity (the UI's `app_activity`, an unlock).
    pub fn touch(&self) {
        self.activity.touch();
    }

    /// Restarts the idle countdown after the settings changed: the new limit counts from now.
    pub fn rearm(&self) {
        self.activity.touch();
    }

    /// Starts the loop on the current tokio runtime. A second call does nothing.
    pub fn start<T: LockTarget>(&self, target: T) {
        let mut task = self.task.lock().unwrap_or_else(PoisonError::into_inner);
        if task.is_none() && !self.cancel.is_cancelled() {
            let fut = run(target, self.activity.clone(), self.cancel.clone());
            *task = Some(tokio::spawn(fut));
        }
    }

    /// Stops the loop and waits (briefly) for a check under way to finish.
    pub async fn stop(&self) {
        self.cancel.cancel();
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            if tokio::time::timeout(STOP_TIMEOUT, task).await.is_err() {
                tracing::warn!("the auto-lock check did not finish in time");
            }
        }
    }
}

impl Drop for AutoLock {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The real target: the open profile, and a callback told about each auto-lock (the lock
/// itself publishes the domain event that tells the UI and the tray).
pub struct CoreLock<C, L> {
    core: C,
    on_locked: L,
}

impl<C, L> CoreLock<C, L>
where
    C: Fn() -> Option<Arc<Brokerdesk>> + Send + Sync + 'static,
    L: Fn(&VaultStatus) + Send + Sync + 'static,
{
    /// `core` returns the profile if it is open (without opening it).
    pub fn new(core: C, on_locked: L) -> Self {
        Self { core, on_locked }
    }
}

impl<C, L> LockTarget for CoreLock<C, L>
where
    C: Fn() -> Option<Arc<Brokerdesk>> + Send + Sync + 'static,
    L: Fn(&VaultStatus) + Send + Sync + 'static,
{
    async fn snapshot(&self) -> Option<(AppSettings, VaultStatus)> {
        let core = (self.core)()?;
        let settings = core.settings().await;
        let status = core.status().await;
        match (settings, status) {
            (Ok(settings), Ok(status)) => Some((settings, status)),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(code = %e.code, error = %e.message, "auto-lock could not read the vault");
                None
            }
        }
    }

    async fn lock(&self, idle: Duration) {
        let Some(core) = (self.core)() else {
            return;
        };
        let minutes = idle.as_secs() / 60;
        match core.lock().await {
            Ok(status) => {
                tracing::info!(
                    idle_minutes = minutes,
                    "vault auto-locked after {minutes} idle minutes"
                );
                (self.on_locked)(&status);
            }
            Err(e) => tracing::warn!(code = %e.code, error = %e.message, "auto-lock failed"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;
