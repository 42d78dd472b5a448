//! Which accounts run, kept in step with the profile: [`Connections::sync`] compares what
//! should be connected (every account with a real broker and usable credentials) with what
//! is, and starts, restarts (the connection-relevant configuration changed), re-subscribes
//! (only the watchlist changed) or stops accounts accordingly. Idempotent: the runtime calls
//! it after every account change, whoever made it.
//!
//! [`forward`] publishes every connection state change for the window and turns outages
//! into debounced native notifications ([`super::alerts`]); [`stats`] publishes every
//! running connection's live facts once a second, so a widget's "last message" and latency
//! are never older than that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::alerts::{Alert, Debounce};
use super::events::{ChannelStats, Notice, RuntimeEvent, UiEvent};
use super::prices::Prices;
use crate::accounts::model::{Account, NotificationSettings};
use crate::api::Brokerdesk;
use crate::brokers::pin::TlsPin;
use crate::brokers::ConnectorConfig;
use crate::connection::manager::ConnectionManager;
use crate::error::{Code, ErrorCode};

/// What the runtime remembers of a running account.
#[derive(Debug, Clone)]
struct Running {
    name: String,
    notifications: NotificationSettings,
    /// A digest of what the connection depends on (endpoints, credentials, ids): a change
    /// means reconnecting; anything else (the watchlist) does not.
    fingerprint: [u8; 32],
    instruments: Vec<String>,
    /// The running connector's certificate pin (IBKR's gateway on this machine): what it
    /// pinned, perhaps on first use, is compared with the stored pin (see [`same_pin`]).
    tls_pin: Option<Arc<TlsPin>>,
}

/// Whether a running connector's pin agrees with the stored one: no stored pin yet (the
/// runtime's own first use may be on its way to the store), or the same certificate. A pin
/// trusted by hand (or recorded by another process) restarts the connection with it.
fn same_pin(running: Option<&Arc<TlsPin>>, stored: Option<&Arc<TlsPin>>) -> bool {
    match (running, stored) {
        (None, None) => true,
        (Some(r), Some(s)) => {
            r.origin() == s.origin() && (s.pinned().is_none() || s.pinned() == r.pinned())
        }
        _ => false,
    }
}

/// The connection side of the runtime.
pub(super) struct Connections {
    pub(super) manager: Arc<ConnectionManager>,
    running: Mutex<HashMap<String, Running>>,
    /// Serialises syncs; `true` once stopped (no sync starts anything afterwards).
    gate: tokio::sync::Mutex<bool>,
    /// Symbols an account must stream beyond its watchlist (its paper desk's open orders
    /// and positions), by account.
    pub(super) extra: std::sync::Mutex<HashMap<String, Vec<String>>>,
    /// Connect only accounts asked for by name (a whole-profile sync re-checks the running ones).
    lazy: bool,
    /// While held (the safe state), nothing is wanted: a sync stops every connection.
    safe: Arc<super::safe::SafeGate>,
}

fn fingerprint(cfg: &ConnectorConfig) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        cfg.broker.to_string().as_str(),
        cfg.environment.to_string().as_str(),
        cfg.account_id.as_deref().unwrap_or_default(),
        cfg.rest_url.as_str(),
        cfg.stream_url.as_str(),
        cfg.api_key.as_ref().map(|s| s.expose()).unwrap_or_default(),
        cfg.api_secret
            .as_ref()
            .map(|s| s.expose())
            .unwrap_or_default(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().into()
}

impl Connections {
    pub(super) fn new(
        manager: Arc<ConnectionManager>,
        lazy: bool,
        safe: Arc<super::safe::SafeGate>,
    ) -> Self {
        Self {
            manager,
            running: Mutex::new(HashMap::new()),
            gate: tokio::sync::Mutex::new(false),
            extra: std::sync::Mutex::new(HashMap::new()),
            lazy,
            safe,
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the running connections in line with the profile: all accounts (`only` =
    /// `None`) or one. Does nothing while the vault is locked (the running ones keep
    /// running, by design), or after [`Connections::stop`]. Returns the accounts whose set of
    /// channels changed (started, stopped, restarted with a new configuration, renamed or given
    /// other instruments): only those make a window read the connections snapshot again.
    pub(super) async fn sync(
        &self,
        core: &Brokerdesk,
        prices: &Prices,
        only: Option<&str>,
    ) -> Vec<String> {
        let mut changed = Vec::new();
        if only.is_none() && self.lazy {
            let running: Vec<String> = self.running().keys().cloned().collect();
            for id in running {
                changed.extend(Box::pin(self.sync(core, prices, Some(&id))).await);
            }
            return changed;
        }
        let stopped = self.gate.lock().await;
        if *stopped {
            return changed;
        }
        let wanted: Vec<(Account, ConnectorConfig)> = match only {
            // Held in the safe state: no account connects (see `super::safe`).
            _ if self.safe.is_held() => Vec::new(),
            None => match core.connection_configs().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(code = %e.code, "not syncing connections");
                    return changed;
                }
            },
            Some(id) => match core.connection_config(id).await {
                Ok(c) => c.into_iter().collect(),
                Err(e) if e.code == Code::NotFound => Vec::new(),
                Err(e) => {
                    tracing::debug!(code = %e.code, "not syncing the account's connections");
                    return changed;
                }
            },
        };
        let running: Vec<String> = match only {
            None => self.running().keys().cloned().collect(),
            Some(id) => self
                .running()
                .contains_key(id)
                .then(|| id.to_string())
                .into_iter()
                .collect(),
        };
        for id in running
            .iter()
            .filter(|id| !wanted.iter().any(|(a, _)| &a.id == *id))
        {
            self.running().remove(id);
            prices.detach(id);
            if self.manager.remove_account(id).await.is_ok() {
                tracing::info!(account = %id, "disconnected");
            }
            changed.push(id.clone());
        }
        for (mut account, cfg) in wanted {
            if let Some(extra) = self
                .extra
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&account.id)
            {
                for s in extra {
                    if !account.instruments.contains(s) {
                        account.instruments.push(s.clone());
                    }
                }
            }
            let print = fingerprint(&cfg);
            let current = self.running().get(&account.id).cloned();
            let mut entry = Running {
                name: account.name.clone(),
                notifications: account.notifications.clone(),
                fingerprint: print,
                instruments: account.instruments.clone(),
                tls_pin: cfg.tls_pin.clone(),
            };
            match current {
                Some(c)
                    if c.fingerprint == print
                        && same_pin(c.tls_pin.as_ref(), cfg.tls_pin.as_ref()) =>
                {
                    entry.tls_pin = c.tls_pin.clone();
                    if c.instruments != account.instruments || c.name != account.name {
                        changed.push(account.id.clone());
                    }
                    if c.instruments != account.instruments {
                        if let Ok(feed) = self
                            .manager
                            .set_instruments(&account.id, &account.instruments)
                        {
                            prices.attach(feed);
                        }
                    }
                    self.running().insert(account.id.clone(), entry);
                }
                _ => {
                    match self
                        .manager
                        .add_account(&account.id, &account.name, cfg, &account.instruments)
                        .await
                    {
                        Ok(()) => {
                            tracing::info!(account = %account.id, "connecting");
                            changed.push(account.id.clone());
                            self.running().insert(account.id.clone(), entry);
                            if let Some(feed) = self.manager.feed(&account.id) {
                                prices.attach(feed);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(account = %account.id, code = %e.code(), "could not connect")
                        }
                    }
                }
            }
        }
        changed
    }

    /// Returns the notice for an alert on an account, if its settings want one.
    fn notice_for(&self, account_id: &str, alert: Alert) -> Option<Notice> {
        let r = self.running().get(account_id).cloned()?;
        let (wanted, body) = match alert {
            Alert::Lost => (r.notifications.connection_lost, "connection lost"),
            Alert::Restored => (r.notifications.connection_restored, "connection restored"),
            Alert::AuthFailed => (
                r.notifications.auth_failure,
                "the broker refused the credentials",
            ),
        };
        wanted.then(|| Notice::new("Brokerdesk", format!("{}: {body}", r.name)))
    }

    /// Stops every connection; no sync starts any afterwards.
    pub(super) async fn stop(&self, timeout: Duration) {
        let mut stopped = self.gate.lock().await;
        *stopped = true;
        if tokio::time::timeout(timeout, self.manager.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("the connections did not stop in time");
        }
    }
}

/// Publishes every connection event and the debounced outage notifications until cancelled.
pub(super) async fn forward(
    core: Arc<Brokerdesk>,
    conns: Arc<Connections>,
    out: broadcast::Sender<RuntimeEvent>,
    lost_after: Duration,
    cancel: CancellationToken,
) {
    let mut rx = conns.manager.subscribe();
    let mut debounce = Debounce::new(lost_after);
    let notify = |id: &str, alert: Alert| {
        if let Some(notice) = conns.notice_for(id, alert) {
            let _ = out.send(RuntimeEvent::Notify(notice));
        }
    };
    loop {
        let wake = debounce.next_deadline();
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
                    if matches!(event.state, crate::connection::ConnState::Failed { code: Code::BrokerAuth, .. }) {
                        drop_to_paper(core.clone(), conns.clone(), out.clone(), event.account_id.clone());
                    }
                    if let Some(alert) =
                        debounce.on_state(&event.account_id, event.channel, &event.state, Instant::now())
                    {
                        notify(&event.account_id, alert);
                    }
                    let _ = out.send(RuntimeEvent::Ui(UiEvent::Connection(event)));
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "connection events were missed");
                }
                Err(RecvError::Closed) => break,
            },
            () = sleep => {}
        }
        for id in debounce.due(Instant::now()) {
            notify(&id, Alert::Lost);
        }
        // Forget accounts that are no longer connected (removed), so a re-add starts clean.
        let known: Vec<String> = conns.running().keys().cloned().collect();
        debounce.retain(|id| known.iter().any(|k| k == id));
    }
}

/// A live account whose credentials the broker refuses goes back to paper by itself, with a
/// notification (and the audit entry the API writes).
fn drop_to_paper(
    core: Arc<Brokerdesk>,
    conns: Arc<Connections>,
    out: broadcast::Sender<RuntimeEvent>,
    account_id: String,
) {
    tokio::spawn(async move {
        match core
            .account_drop_to_paper(&account_id, "the broker refused the stored credentials")
            .await
        {
            Ok(true) => {
                let name = conns
                    .running()
                    .get(&account_id)
                    .map(|r| r.name.clone())
                    .unwrap_or_else(|| account_id.clone());
                let _ = out.send(RuntimeEvent::Notify(Notice::new(
                    "Brokerdesk",
                    format!("{name}: the broker refused the credentials; switched to PAPER"),
                )));
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(account = %account_id, code = %e.code, "could not put a refused live account on paper")
            }
        }
    });
}

/// Publishes the live facts of every running connection every `every` until cancelled.
pub(super) async fn stats(
    conns: Arc<Connections>,
    out: broadcast::Sender<RuntimeEvent>,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = ticks.tick() => {}
        }
        let stats: Vec<ChannelStats> = conns
            .manager
            .snapshot()
            .into_iter()
            .flat_map(|a| {
                let id = a.account_id;
                a.channels.into_iter().map(move |c| ChannelStats {
                    account_id: id.clone(),
                    channel: c.channel,
                    last_message_at: c.last_message_at,
                    last_heartbeat_at: c.last_heartbeat_at,
                    latency_ms: c.latency_ms,
                    uptime_ms: c.uptime_ms,
                    messages: c.messages,
                    drops_last_hour: c.drops_last_hour,
                    quality: c.quality,
                    session_expires_at: c.session_expires_at,
                })
            })
            .collect();
        if !stats.is_empty() {
            let _ = out.send(RuntimeEvent::Ui(UiEvent::ConnectionStats(stats)));
        }
    }
}
