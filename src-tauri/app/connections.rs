//! Live broker connections: the core's [`ConnectionManager`] as managed state.
//!
//! The manager is created (with the profile's store, where it persists its events) the first
//! time the vault is found unlocked: at start for a keychain vault, after `vault_unlock` /
//! `vault_init` otherwise. Every account with a real broker and stored credentials is then
//! connected; account commands re-sync the account they changed. Locking the vault leaves
//! the connections running (by design). Shutdown stops the forwarding task, then every
//! connection, before the store closes.
//!
//! One task forwards every [`ConnectionEvent`] to the UI (`connection-event`), keeps the
//! tray's icon current, rebuilds the tray's account list (at most every 500 ms) and sends
//! the native notifications each account asked for ([`crate::alerts`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use brokerdesk_core::accounts::model::NotificationSettings;
use brokerdesk_core::connection::manager::{
    AccountConnections, ConnectionManager, ManagerError, ManagerOptions, WorstState,
};
use brokerdesk_core::{ApiError, Brokerdesk, ErrorCode};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::alerts::{Alert, Debounce};
use crate::events::CONNECTION_EVENT;
use crate::notify::{Notice, Notifier};
use crate::prices::Prices;
use crate::state::CoreState;
use crate::tray::{Tray, TrayState};

/// The shortest interval between two rebuilds of the tray's account list.
pub const MENU_THROTTLE: Duration = Duration::from_millis(500);

/// How long shutdown waits for the connections to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// What the notifications need to know about a connected account.
#[derive(Debug, Clone)]
struct Meta {
    name: String,
    notifications: NotificationSettings,
}

/// The live connections (managed state).
#[derive(Default)]
pub struct Connections {
    manager: OnceLock<Arc<ConnectionManager>>,
    /// The connected accounts' names and notification settings.
    meta: Mutex<HashMap<String, Meta>>,
    /// Serialises syncs, so two never add or remove the same account at once.
    gate: tokio::sync::Mutex<bool>,
    cancel: CancellationToken,
    forwarder: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

impl Connections {
    /// Returns the manager, if the connections have started.
    pub fn manager(&self) -> Option<Arc<ConnectionManager>> {
        self.manager.get().cloned()
    }

    /// Returns every account's connections (empty until started).
    pub fn snapshot(&self) -> Vec<AccountConnections> {
        self.manager().map(|m| m.snapshot()).unwrap_or_default()
    }

    /// Reconnects one account now.
    pub fn reconnect(&self, account_id: &str) -> Result<(), ApiError> {
        match self.manager() {
            Some(m) => m.reconnect(account_id),
            None => Err(ManagerError::UnknownAccount(account_id.to_string())),
        }
        .map_err(|e| e.to_api_error())
    }

    /// Reconnects every connection now.
    pub fn reconnect_all(&self) {
        if let Some(m) = self.manager() {
            m.reconnect_all();
        }
    }

    fn meta(&self) -> std::sync::MutexGuard<'_, HashMap<String, Meta>> {
        self.meta.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notice_for(&self, account_id: &str, alert: Alert) -> Option<Notice> {
        let meta = self.meta().get(account_id).cloned()?;
        let (wanted, body) = match alert {
            Alert::Lost => (meta.notifications.connection_lost, "connection lost"),
            Alert::Restored => (
                meta.notifications.connection_restored,
                "connection restored",
            ),
            Alert::AuthFailed => (
                meta.notifications.auth_failure,
                "the broker refused the credentials",
            ),
        };
        wanted.then(|| Notice::new("Brokerdesk", format!("{}: {body}", meta.name)))
    }

    /// Returns the manager, creating it and starting the forwarder the first time.
    fn ensure_manager<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        core: &Brokerdesk,
    ) -> Arc<ConnectionManager> {
        let mut created = false;
        let manager = self
            .manager
            .get_or_init(|| {
                created = true;
                Arc::new(ConnectionManager::new(
                    ManagerOptions::default(),
                    Some(core.store()),
                ))
            })
            .clone();
        if created {
            let task = tauri::async_runtime::spawn(forward(
                app.clone(),
                manager.clone(),
                self.cancel.clone(),
            ));
            *self.forwarder.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        }
        manager
    }

    /// Connects every account that should be and is not, and disconnects those that should
    /// not be. Does nothing while the vault is locked, or after shutdown.
    pub async fn sync_all<R: Runtime>(&self, app: &AppHandle<R>, core: &Brokerdesk) {
        let stopped = self.gate.lock().await;
        if *stopped {
            return;
        }
        let configs = match core.connection_configs().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(code = %e.code, "not syncing connections");
                return;
            }
        };
        let manager = self.ensure_manager(app, core);
        if let (Ok(settings), Some(prices)) = (core.settings().await, app.try_state::<Prices>()) {
            prices.set_rate(app, settings.price_updates_per_second);
        }
        let running: Vec<String> = manager
            .snapshot()
            .into_iter()
            .map(|a| a.account_id)
            .collect();
        let wanted: Vec<&str> = configs.iter().map(|(a, _)| a.id.as_str()).collect();
        for id in running.iter().filter(|id| !wanted.contains(&id.as_str())) {
            self.meta().remove(id);
            let _ = manager.remove_account(id).await;
        }
        for (account, cfg) in configs {
            self.meta().insert(
                account.id.clone(),
                Meta {
                    name: account.name.clone(),
                    notifications: account.notifications.clone(),
                },
            );
            if running.contains(&account.id) {
                continue;
            }
            match manager
                .add_account(&account.id, &account.name, cfg, &account.instruments)
                .await
            {
                Ok(()) => {
                    tracing::info!(account = %account.id, "connecting");
                    attach_prices(app, &manager, &account.id);
                }
                Err(e) => {
                    tracing::warn!(account = %account.id, code = e.code(), "could not connect")
                }
            }
        }
        drop(stopped);
        refresh_tray(app, &manager);
    }

    /// (Re)starts one account's connections after it changed, or stops them when it should
    /// no longer be connected (or is gone).
    pub async fn sync_account<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        core: &Brokerdesk,
        account_id: &str,
    ) {
        let stopped = self.gate.lock().await;
        if *stopped {
            return;
        }
        let config = match core.connection_config(account_id).await {
            Ok(c) => c,
            Err(e) if e.code == "not_found" => None,
            Err(e) => {
                tracing::debug!(code = %e.code, "not syncing the account's connections");
                return;
            }
        };
        let manager = self.ensure_manager(app, core);
        match config {
            Some((account, cfg)) => {
                self.meta().insert(
                    account.id.clone(),
                    Meta {
                        name: account.name.clone(),
                        notifications: account.notifications.clone(),
                    },
                );
                match manager
                    .add_account(&account.id, &account.name, cfg, &account.instruments)
                    .await
                {
                    Ok(()) => {
                        tracing::info!(account = %account.id, "connecting");
                        attach_prices(app, &manager, &account.id);
                    }
                    Err(e) => {
                        tracing::warn!(account = %account.id, code = e.code(), "could not connect")
                    }
                }
            }
            None => {
                self.meta().remove(account_id);
                if let Some(prices) = app.try_state::<Prices>() {
                    prices.detach(account_id);
                }
                if manager.remove_account(account_id).await.is_ok() {
                    tracing::info!(account = %account_id, "disconnected");
                }
            }
        }
        drop(stopped);
        refresh_tray(app, &manager);
    }

    /// Sets the instruments an account streams (its watchlist) on its running connection,
    /// starting its price channel if needed. Nothing to do for an account not connected.
    pub fn set_instruments<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        account_id: &str,
        instruments: &[String],
    ) {
        let Some(manager) = self.manager() else {
            return;
        };
        if manager.set_instruments(account_id, instruments).is_ok() {
            attach_prices(app, &manager, account_id);
            refresh_tray(app, &manager);
        }
    }

    /// Stops forwarding and every connection; no sync starts any afterwards.
    pub async fn stop(&self) {
        let mut stopped = self.gate.lock().await;
        *stopped = true;
        self.cancel.cancel();
        let forwarder = self
            .forwarder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(f) = forwarder {
            let _ = f.await;
        }
        if let Some(m) = self.manager() {
            if tokio::time::timeout(STOP_TIMEOUT, m.shutdown())
                .await
                .is_err()
            {
                tracing::warn!("the connections did not stop in time");
            }
        }
    }
}

/// Pumps the account's price feed (if it streams) to the UI.
fn attach_prices<R: Runtime>(app: &AppHandle<R>, manager: &ConnectionManager, account_id: &str) {
    if let (Some(feed), Some(prices)) = (manager.feed(account_id), app.try_state::<Prices>()) {
        prices.attach(app, feed);
    }
}

/// Runs `f` with the open engine and the connections in the background.
fn in_background<R, F, Fut>(app: &AppHandle<R>, f: F)
where
    R: Runtime,
    F: FnOnce(AppHandle<R>, Arc<Brokerdesk>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let core = match app.state::<CoreState>().core().await {
            Ok(core) => core,
            Err(_) => return,
        };
        f(app, core).await;
    });
}

/// Syncs every account's connections in the background (after the vault unlocked, or a
/// purge).
pub fn sync_all<R: Runtime>(app: &AppHandle<R>) {
    in_background(app, |app, core| async move {
        if let Some(c) = app.try_state::<Connections>() {
            c.sync_all(&app, &core).await;
        }
    });
}

/// Syncs one account's connections in the background (after it was added, edited or
/// removed).
pub fn sync_account<R: Runtime>(app: &AppHandle<R>, account_id: String) {
    in_background(app, move |app, core| async move {
        if let Some(c) = app.try_state::<Connections>() {
            c.sync_account(&app, &core, &account_id).await;
        }
    });
}

/// Returns the tray state for the manager's worst state, counting the accounts in it.
pub fn tray_state(worst: WorstState, accounts: &[AccountConnections]) -> TrayState {
    let count = accounts
        .iter()
        .filter(|a| account_worst(a) == worst)
        .count()
        .max(1);
    match worst {
        WorstState::Idle => TrayState::Idle,
        WorstState::Connected => TrayState::Connected { count },
        WorstState::Reconnecting => TrayState::Reconnecting { count },
        WorstState::Disconnected => TrayState::Disconnected { count },
    }
}

fn account_worst(a: &AccountConnections) -> WorstState {
    a.channels
        .iter()
        .map(|c| WorstState::of(&c.state))
        .max()
        .unwrap_or(WorstState::Idle)
}

/// Returns the tray menu's line for an account: "Name — state".
pub fn menu_label(a: &AccountConnections) -> String {
    let state = match account_worst(a) {
        WorstState::Idle => "idle",
        WorstState::Connected => "connected",
        WorstState::Reconnecting => "reconnecting",
        WorstState::Disconnected => "disconnected",
    };
    format!("{} — {state}", a.name)
}

fn refresh_tray<R: Runtime>(app: &AppHandle<R>, manager: &ConnectionManager) {
    if let Some(tray) = app.try_state::<Tray<R>>() {
        let accounts = manager.snapshot();
        tray.set_state(tray_state(manager.worst_state(), &accounts));
        let labels: Vec<String> = accounts.iter().map(menu_label).collect();
        tray.set_connections(&labels);
    }
}

/// Forwards every event until cancelled: UI event, tray, notifications.
async fn forward<R: Runtime>(
    app: AppHandle<R>,
    manager: Arc<ConnectionManager>,
    cancel: CancellationToken,
) {
    let mut rx = manager.subscribe();
    let mut debounce = Debounce::default();
    let notifier = Notifier::new(app.clone());
    let mut last_menu: Option<Instant> = None;
    let mut menu_due: Option<Instant> = None;
    let notify = |id: &str, alert: Alert| {
        if let Some(notice) = app
            .try_state::<Connections>()
            .and_then(|c| c.notice_for(id, alert))
        {
            // Best effort: a failed notification is logged by the notifier.
            let _ = notifier.send(&notice);
        }
    };
    loop {
        let wake = [debounce.next_deadline(), menu_due]
            .into_iter()
            .flatten()
            .min();
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = cancel.cancelled() => break,
            received = rx.recv() => match received {
                Ok(event) => {
                    if let Err(e) = app.emit(CONNECTION_EVENT, &event) {
                        tracing::warn!(error = %e, "could not emit {CONNECTION_EVENT}");
                    }
                    if let Some(alert) =
                        debounce.on_state(&event.account_id, event.channel, &event.state, Instant::now())
                    {
                        notify(&event.account_id, alert);
                    }
                    if let Some(tray) = app.try_state::<Tray<R>>() {
                        tray.set_state(tray_state(manager.worst_state(), &manager.snapshot()));
                    }
                    menu_due.get_or_insert_with(|| match last_menu {
                        Some(t) => (t + MENU_THROTTLE).max(Instant::now()),
                        None => Instant::now(),
                    });
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "connection events were missed");
                    menu_due.get_or_insert_with(Instant::now);
                }
                Err(RecvError::Closed) => break,
            },
            () = sleep => {}
        }
        let now = Instant::now();
        for id in debounce.due(now) {
            notify(&id, Alert::Lost);
        }
        // Forget accounts that are no longer connected (removed), so a later re-add starts clean.
        let known: Vec<String> = manager
            .snapshot()
            .into_iter()
            .map(|a| a.account_id)
            .collect();
        debounce.retain(|id| known.iter().any(|k| k == id));
        if menu_due.is_some_and(|at| at <= now) {
            menu_due = None;
            last_menu = Some(now);
            refresh_tray(&app, &manager);
        }
    }
}

#[cfg(test)]
mod tests {
    use brokerdesk_core::accounts::model::BrokerKind;
    use brokerdesk_core::connection::manager::{Channel, ChannelStatus, LinkQuality};
    use brokerdesk_core::connection::ConnState;

    use super::*;

    fn account(name: &str, states: &[ConnState]) -> AccountConnections {
        AccountConnections {
            account_id: name.to_lowercase(),
            name: name.to_string(),
            broker: BrokerKind::Oanda,
            channels: states
                .iter()
                .map(|s| ChannelStatus {
                    channel: Channel::Order,
                    state: s.clone(),
                    connected_since: None,
                    last_message_at: None,
                    last_heartbeat_at: None,
                    latency_ms: None,
                    uptime_ms: None,
                    attempt: 0,
                    messages: 0,
                    session_expires_at: None,
                    drops_last_hour: 0,
                    quality: LinkQuality::of(s, None, 0),
                    history: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_menu_shows_each_account_s_worst_state() {
        let a = account("Main", &[ConnState::Connected, ConnState::Connecting]);
        assert_eq!(menu_label(&a), "Main — reconnecting");
        let b = account("Prop", &[ConnState::Connected]);
        assert_eq!(menu_label(&b), "Prop — connected");
    }

    #[test]
    fn the_tray_counts_the_accounts_in_the_worst_state() {
        let up = account("A", &[ConnState::Connected]);
        let down = account("B", &[ConnState::Disconnected]);
        assert_eq!(tray_state(WorstState::Idle, &[]), TrayState::Idle);
        assert_eq!(
            tray_state(WorstState::Connected, &[up.clone(), up.clone()]),
            TrayState::Connected { count: 2 }
        );
        assert_eq!(
            tray_state(WorstState::Disconnected, &[up, down]),
            TrayState::Disconnected { count: 1 }
        );
    }
}
