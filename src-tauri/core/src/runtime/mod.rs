//! The runtime: everything that runs while a profile is open, owned in one place and shared
//! by every surface (the desktop app, the development server, a CLI command that needs live
//! connections).
//!
//! It owns the connection manager ([`crate::connection::manager`]), the price pumps, the
//! outage notifications, the auto-lock loop, the backup schedule and the change watcher, and reacts to the API's
//! domain events ([`crate::api::DomainEvent`]): an account added, edited, removed or purged
//! re-syncs its connections; a vault, two-factor or settings change is told to the window.
//! No command has to remember to do any of it. A change made by another process on the same
//! profile (the CLI while the app runs) moves a counter in the database that the watcher
//! polls every half second; the runtime then re-reads everything.
//!
//! Surfaces subscribe to [`RuntimeEvent`]s: [`UiEvent`]s go to the window by name, [`Notice`]s
//! to the desktop's notification server. Every loop has a [`CancellationToken`];
//! [`Runtime::shutdown`] cancels them, waits for them and stops every connection.

pub mod alerts;
pub mod autolock;
pub mod backups;
pub mod clipboard;
mod connections;
pub mod diagnostics;
pub mod events;
mod order_events;
mod orders;
mod prices;
mod risk;
pub mod safe;
pub mod trading;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::autolock::{AutoLock, CoreLock};
use self::connections::Connections;
pub use self::events::{AccountsChanged, ChannelStats, Notice, RuntimeEvent, UiEvent};
use self::prices::Prices;
pub use self::risk::{KillAccount, KillOrder, KillPosition, KillSwitchReport};
use self::safe::SafeGate;
pub use self::trading::{AccountMoney, OrderEstimate, PositionRow, TradingSummary};
use crate::api::{Brokerdesk, DomainEvent};
use crate::connection::manager::{
    AccountConnections, ConnectionManager, ManagerError, ManagerOptions, WorstState,
};
use crate::error::{ApiError, ErrorCode};
use crate::store::StoreError;
use crate::stream::Tick;

/// How many events a slow surface may fall behind before it misses some.
const EVENT_BUFFER: usize = 4096;

/// How long shutdown waits for the connections to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// What the runtime can be tuned with (tests shorten the intervals).
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub manager: ManagerOptions,
    /// How often the change counter is read.
    pub watch_every: Duration,
    /// How often the live facts of the connections are published.
    pub stats_every: Duration,
    /// How long an account must be down before "connection lost" is notified.
    pub lost_after: Duration,
    /// Whether the auto-lock loop runs (the app's; a CLI command does not need it).
    pub auto_lock: bool,
    /// Whether the risk watcher runs (the app's and the development server's: loss budgets,
    /// breaches, resets; a CLI command checks its own order and exits).
    pub risk_watch: bool,
    /// Connect accounts only when something needs them (a CLI command trading on one
    /// account), instead of every account at start.
    pub lazy_connections: bool,
    /// When an order whose outcome is unknown is looked up by its client order id, counted
    /// from when it was sent ([`crate::trading::oms::LOOKUP_AFTER`]; tests shorten it).
    pub lookup_after: Vec<Duration>,
    /// How often the backup schedule is looked at (`None`: never — a CLI command makes no
    /// scheduled backups).
    pub backup_every: Option<Duration>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            manager: ManagerOptions::default(),
            watch_every: Duration::from_millis(500),
            stats_every: Duration::from_secs(1),
            lost_after: alerts::LOST_AFTER,
            auto_lock: true,
            risk_watch: true,
            lazy_connections: false,
            lookup_after: crate::trading::oms::LOOKUP_AFTER.to_vec(),
            backup_every: Some(backups::CHECK_EVERY),
        }
    }
}

/// The running engine of one open profile.
pub struct Runtime {
    core: Arc<Brokerdesk>,
    conns: Arc<Connections>,
    prices: Arc<Prices>,
    autolock: AutoLock,
    out: broadcast::Sender<RuntimeEvent>,
    cancel: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Wakes the order worker (an order changed elsewhere).
    orders_nudge: Arc<tokio::sync::Notify>,
    trading: trading::Trading,
    /// The OMS's lookup schedule ([`RuntimeOptions::lookup_after`]).
    lookup_after: Arc<[Duration]>,
    risk: risk::RiskMemory,
    /// The accounts as last read (the risk watcher's list; dropped on every account change).
    accounts_cache: tokio::sync::Mutex<Option<Vec<crate::accounts::model::Account>>>,
    /// The safe state ([`safe`]): set by the start-up checks, read by every loop that would
    /// send, connect or back up.
    safe: Arc<SafeGate>,
}

impl Runtime {
    /// Starts the runtime over an open profile: runs the start-up checks (a failure holds it
    /// in the safe state, see [`safe`]), connects every account that should be (if the vault
    /// is unlocked and nothing failed) and starts reacting to changes. Call from within a
    /// tokio runtime.
    pub async fn start(core: Arc<Brokerdesk>, options: RuntimeOptions) -> Arc<Self> {
        let (out, _) = broadcast::channel(EVENT_BUFFER);
        let manager = Arc::new(ConnectionManager::new(options.manager, Some(core.store())));
        let safe = Arc::new(SafeGate::default());
        let rt = Arc::new(Self {
            conns: Arc::new(Connections::new(
                manager,
                options.lazy_connections,
                safe.clone(),
            )),
            prices: Arc::new(Prices::new(out.clone())),
            autolock: AutoLock::new(),
            out,
            cancel: CancellationToken::new(),
            tasks: Mutex::new(Vec::new()),
            orders_nudge: Arc::new(tokio::sync::Notify::new()),
            trading: trading::Trading::default(),
            lookup_after: options.lookup_after.clone().into(),
            risk: risk::RiskMemory::default(),
            accounts_cache: tokio::sync::Mutex::new(None),
            safe,
            core,
        });
        // Subscribe before the first sync, so nothing published from now on is missed.
        let domain = rt.core.subscribe();
        if let Ok(settings) = rt.core.settings().await {
            rt.prices.set_rate(settings.price_updates_per_second);
        }
        // Before anything connects or sends: a failure holds the runtime.
        rt.first_check().await;
        rt.conns.sync(&rt.core, &rt.prices, None).await;
        if !rt.is_held() {
            rt.start_desks().await;
        }
        let tasks = vec![
            tokio::spawn(react(rt.clone(), domain)),
            tokio::spawn(watch(
                rt.core.clone(),
                options.watch_every,
                rt.cancel.clone(),
            )),
            tokio::spawn(connections::forward(
                rt.core.clone(),
                rt.conns.clone(),
                rt.out.clone(),
                options.lost_after,
                rt.cancel.clone(),
            )),
            tokio::spawn(connections::stats(
                rt.conns.clone(),
                rt.out.clone(),
                options.stats_every,
                rt.cancel.clone(),
            )),
            tokio::spawn({
                let out = rt.out.clone();
                let core = rt.core.clone();
                orders::work(
                    rt.core.clone(),
                    rt.conns.manager.clone(),
                    rt.orders_nudge.clone(),
                    rt.lookup_after.clone(),
                    rt.safe.clone(),
                    move |o| trading::tell_orders(&core, &out, std::slice::from_ref(o)),
                    rt.cancel.clone(),
                )
            }),
        ];
        let mut tasks = tasks;
        if options.risk_watch {
            tasks.push(tokio::spawn(risk::watch(rt.clone(), rt.cancel.clone())));
        }
        if let Some(every) = options.backup_every {
            tasks.push(tokio::spawn(backups::run(
                rt.core.clone(),
                rt.safe.clone(),
                rt.out.clone(),
                every,
                rt.cancel.clone(),
            )));
        }
        *rt.tasks.lock().unwrap_or_else(|e| e.into_inner()) = tasks;
        if options.auto_lock {
            let core = rt.core.clone();
            rt.autolock
                .start(CoreLock::new(move || Some(core.clone()), |_status| {}));
        }
        rt
    }

    /// Returns the profile this runtime runs.
    pub fn core(&self) -> &Arc<Brokerdesk> {
        &self.core
    }

    /// Returns whether the window may be sent `event` now: while the vault is locked it sees
    /// only `vault-status` (the unlock screen), never prices, accounts or connections, though
    /// the connections keep running (see the README's app lock).
    pub fn window_may_see(&self, event: &UiEvent) -> bool {
        matches!(event, UiEvent::VaultStatus(_)) || self.core.is_unlocked()
    }

    /// Subscribes to everything the runtime publishes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<RuntimeEvent> {
        self.out.subscribe()
    }

    /// Returns the connection manager (read-only uses: snapshots, feeds, the worst state).
    pub fn manager(&self) -> &Arc<ConnectionManager> {
        &self.conns.manager
    }

    /// Returns every account's connections.
    pub fn connections(&self) -> Vec<AccountConnections> {
        self.conns.manager.snapshot()
    }

    /// Returns the worst state of all connections (what the tray shows).
    pub fn worst_state(&self) -> WorstState {
        self.conns.manager.worst_state()
    }

    /// Reconnects one account now (skipping the backoff, or retrying refused credentials).
    pub fn reconnect(&self, account_id: &str) -> Result<(), ApiError> {
        self.conns
            .manager
            .reconnect(account_id)
            .map_err(|e: ManagerError| e.to_api_error())
    }

    /// Reconnects every connection now.
    pub fn reconnect_all(&self) {
        self.conns.manager.reconnect_all();
    }

    /// Returns the latest price of every instrument an account streams (empty when it
    /// does not).
    pub fn prices_snapshot(&self, account_id: &str) -> Vec<Tick> {
        self.conns
            .manager
            .feed(account_id)
            .map(|f| f.book().snapshot())
            .unwrap_or_default()
    }

    /// Records that the user did something (holds off the auto-lock).
    pub fn touch(&self) {
        self.autolock.touch();
    }

    /// Stops every loop and connection, waiting for them. The profile stays open (the
    /// caller closes it).
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.autolock.stop().await;
        let tasks: Vec<JoinHandle<()>> =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
        self.stop_trading().await;
        self.prices.stop().await;
        self.conns.stop(STOP_TIMEOUT).await;
    }

    fn ui(&self, event: UiEvent) {
        let _ = self.out.send(RuntimeEvent::Ui(event));
    }

    async fn tell_vault(&self) {
        match self.core.status().await {
            Ok(status) => self.ui(UiEvent::VaultStatus(status)),
            Err(e) => tracing::warn!(code = %e.code, "could not read the vault state"),
        }
    }

    async fn tell_twofa(&self, was_locked_out: &mut bool) {
        match self.core.twofa_status().await {
            Ok(status) => {
                let locked_out = status.locked_until.is_some();
                if locked_out && !*was_locked_out {
                    let _ = self
                        .out
                        .send(RuntimeEvent::Notify(Notice::twofa_locked_out()));
                }
                *was_locked_out = locked_out;
                self.ui(UiEvent::TwofaStatus(status));
            }
            Err(e) => tracing::warn!(code = %e.code, "could not read the two-factor state"),
        }
    }

    async fn tell_settings(&self, rearm: bool) {
        match self.core.settings().await {
            Ok(settings) => {
                self.prices.set_rate(settings.price_updates_per_second);
                if rearm {
                    // A new auto-lock limit counts from now.
                    self.autolock.rearm();
                }
                self.ui(UiEvent::SettingsChanged(settings));
            }
            Err(e) => tracing::warn!(code = %e.code, "could not read the settings"),
        }
    }

    /// Every account, from a cache dropped whenever accounts change.
    pub(super) async fn risk_accounts(
        &self,
    ) -> Result<Vec<crate::accounts::model::Account>, ApiError> {
        let mut cache = self.accounts_cache.lock().await;
        if let Some(a) = cache.as_ref() {
            return Ok(a.clone());
        }
        self.core.require_unlocked().await?;
        let list = self.core.accounts_list().await?;
        *cache = Some(list.clone());
        Ok(list)
    }

    async fn forget_accounts(&self) {
        *self.accounts_cache.lock().await = None;
    }

    fn tell_accounts(&self, ids: Vec<String>) {
        self.ui(UiEvent::AccountsChanged(AccountsChanged {
            account_ids: ids,
        }));
    }

    /// Brings the connections in line with the profile; tells the windows which accounts'
    /// channels changed.
    async fn sync(&self, only: Option<&str>) {
        let changed = self.conns.sync(&self.core, &self.prices, only).await;
        if !changed.is_empty() {
            self.ui(UiEvent::ConnectionsChanged(AccountsChanged {
                account_ids: changed,
            }));
        }
    }
}

/// Reacts to the API's domain events until the runtime is cancelled.
async fn react(rt: Arc<Runtime>, mut domain: broadcast::Receiver<DomainEvent>) {
    let mut locked_out = false;
    loop {
        let event = tokio::select! {
            () = rt.cancel.cancelled() => break,
            e = domain.recv() => match e {
                Ok(e) => e,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "domain events were missed; re-reading everything");
                    DomainEvent::ProfileChanged
                }
                Err(RecvError::Closed) => break,
            },
        };
        if !matches!(
            event,
            DomainEvent::SettingsChanged | DomainEvent::OrdersChanged
        ) {
            rt.forget_accounts().await;
        }
        if rt.is_held()
            && matches!(
                event,
                DomainEvent::AccountChanged { .. }
                    | DomainEvent::AccountRemoved { .. }
                    | DomainEvent::CredentialsPurged
                    | DomainEvent::ProfileChanged
            )
        {
            // Held: an account saved or removed (here or elsewhere) may be the fix.
            rt.startup_recheck().await;
        }
        match event {
            DomainEvent::VaultChanged => {
                rt.autolock.touch();
                rt.tell_vault().await;
                // The first unlock runs the checks that need the key, before connecting.
                rt.check_if_incomplete().await;
                // The first unlock starts the connections; locking leaves them running.
                rt.sync(None).await;
            }
            DomainEvent::AccountChanged { account_id }
            | DomainEvent::AccountRemoved { account_id } => {
                rt.sync(Some(&account_id)).await;
                rt.tell_accounts(vec![account_id]);
            }
            DomainEvent::ModeChanged { account_id } => rt.tell_accounts(vec![account_id]),
            DomainEvent::CredentialsPurged => {
                rt.sync(None).await;
                rt.tell_accounts(Vec::new());
            }
            DomainEvent::SettingsChanged => rt.tell_settings(true).await,
            DomainEvent::TwofaChanged => rt.tell_twofa(&mut locked_out).await,
            DomainEvent::OrdersChanged => {
                rt.orders_nudge.notify_one();
                rt.reload_desks().await;
                rt.ui(UiEvent::OrdersChanged(AccountsChanged {
                    account_ids: Vec::new(),
                }));
            }
            DomainEvent::ProfileChanged => {
                rt.tell_vault().await;
                rt.tell_twofa(&mut locked_out).await;
                rt.tell_settings(false).await;
                rt.sync(None).await;
                rt.tell_accounts(Vec::new());
            }
        }
    }
}

/// Reads the profile's change counters every `every`; when the configuration counter moved,
/// publishes [`DomainEvent::ProfileChanged`], when the orders counter moved,
/// [`DomainEvent::OrdersChanged`] (another process changed them — or this one did, which
/// costs one idempotent re-read).
async fn watch(core: Arc<Brokerdesk>, every: Duration, cancel: CancellationToken) {
    let read = |core: Arc<Brokerdesk>| async move {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT (SELECT n FROM profile_changes WHERE id = 1), (SELECT n FROM order_changes WHERE id = 1)",
        )
        .fetch_one(core.store().pool())
        .await
        .map_err(StoreError::from)
    };
    let mut last = read(core.clone()).await.ok();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = ticks.tick() => {}
        }
        match read(core.clone()).await {
            Ok(now) if Some(now) != last => {
                if let Some((profile, orders)) = last {
                    if now.0 != profile {
                        core.publish(DomainEvent::ProfileChanged);
                    }
                    if now.1 != orders {
                        core.publish(DomainEvent::OrdersChanged);
                    }
                }
                last = Some(now);
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(code = %e.code(), "could not read the change counters"),
        }
    }
}
