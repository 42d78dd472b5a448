//! The connection manager: one supervised connection per account channel (the REST
//! session, the price stream), each owned by its own task (see [`super::spawn`]). The
//! manager keeps their handles, and a follower task per connection publishes every state
//! change as a [`ConnectionEvent`] (broadcast), a log line and a `connection_events` row.
//!
//! Nothing here knows Tauri: the app shell forwards [`ConnectionManager::subscribe`] to the
//! UI and the tray ([`ConnectionManager::worst_state`]); a CLI can print the same events.
//! [`ConnectionManager::shutdown`] stops every connection and waits for every task.

mod publish;
mod types;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::publish::Sink;
pub use self::types::{
    AccountConnections, Channel, ChannelStatus, ConnectionEvent, LinkQuality, ManagerOptions,
    WorstState,
};
use super::links::{LinkMetrics, OrderLink};
use super::{spawn, ConnState, ConnectionHandle, Link};
use crate::accounts::model::BrokerKind;
use crate::brokers::{self, Broker, BrokerError, ConnectorConfig};
use crate::error::{Code, ErrorCode};
use crate::store::Store;
use crate::stream::feed::{Feed, PriceLink};

/// How many events a slow subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 1024;

/// A connection manager failure.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error("no connections are managed for account {0}")]
    UnknownAccount(String),
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

impl ErrorCode for ManagerError {
    fn code(&self) -> Code {
        match self {
            ManagerError::UnknownAccount(_) => Code::ConnectionUnknownAccount,
            ManagerError::Broker(e) => e.code(),
        }
    }
}

/// One supervised connection.
struct Conn {
    channel: Channel,
    handle: Arc<ConnectionHandle>,
    metrics: Arc<LinkMetrics>,
    stop: CancellationToken,
    follower: JoinHandle<()>,
}

impl Conn {
    /// Stops the connection and waits until its task and its follower have ended.
    async fn shutdown(self) {
        self.stop.cancel();
        drop(self.handle);
        let _ = self.follower.await;
    }

    fn status(&self, now: DateTime<Utc>) -> ChannelStatus {
        let state = self.handle.state();
        let history = self.handle.history();
        let metrics = self.metrics.get();
        let connected_since = match state {
            ConnState::Connected => history
                .iter()
                .rev()
                .find(|c| c.state == ConnState::Connected)
                .and_then(|c| DateTime::parse_from_rfc3339(&c.at).ok())
                .map(|t| t.with_timezone(&Utc)),
            _ => None,
        };
        let uptime_ms = connected_since
            .map(|t| u64::try_from((now - t).num_milliseconds().max(0)).unwrap_or_default());
        let attempt = match &state {
            ConnState::Reconnecting { attempt, .. } => *attempt,
            _ => 0,
        };
        let rfc = |t: DateTime<Utc>| t.to_rfc3339();
        let hour_ago = now - chrono::Duration::hours(1);
        let drops_last_hour = history
            .iter()
            .filter(|c| matches!(c.state, ConnState::Reconnecting { attempt: 1, .. }))
            .filter_map(|c| DateTime::parse_from_rfc3339(&c.at).ok())
            .filter(|t| *t >= hour_ago)
            .count();
        let drops_last_hour = u32::try_from(drops_last_hour).unwrap_or(u32::MAX);
        let quality = LinkQuality::of(&state, metrics.latency_ms, drops_last_hour);
        ChannelStatus {
            session_expires_at: metrics.session_expires_at.map(rfc),
            drops_last_hour,
            quality,
            channel: self.channel,
            connected_since: connected_since.map(rfc),
            last_message_at: metrics.last_message_at.map(rfc),
            last_heartbeat_at: metrics.last_heartbeat_at.map(rfc),
            latency_ms: metrics.latency_ms,
            uptime_ms,
            attempt,
            messages: metrics.messages,
            history,
            state,
        }
    }
}

struct Account {
    name: String,
    broker: BrokerKind,
    connector: Arc<dyn Broker>,
    feed: Option<Arc<Feed>>,
    conns: Vec<Conn>,
}

impl Account {
    async fn shutdown(self) {
        for c in self.conns {
            c.shutdown().await;
        }
    }
}

/// The manager. Share it behind an `Arc`; every method takes `&self`.
pub struct ConnectionManager {
    options: ManagerOptions,
    /// The HTTP clients every connector of this manager shares.
    pool: Arc<brokers::http::ClientPool>,
    sink: Sink,
    // A std `Mutex`: held only to look up or swap entries, never across an `.await`.
    accounts: Mutex<HashMap<String, Account>>,
}

impl ConnectionManager {
    /// Returns a manager that persists events to `store` when one is given.
    pub fn new(options: ManagerOptions, store: Option<Store>) -> Self {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Self {
            sink: Sink {
                events,
                store,
                keep: options.keep_events.max(1),
            },
            options,
            pool: Arc::default(),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    pub fn options(&self) -> &ManagerOptions {
        &self.options
    }

    /// The HTTP clients shared by this manager's connectors.
    pub fn client_pool(&self) -> &brokers::http::ClientPool {
        &self.pool
    }

    /// Starts supervising an account's connections: the order link always, and the price
    /// stream of `instruments` when there are any (more can come later through
    /// [`ConnectionManager::set_instruments`]). Replaces (after stopping) the account's
    /// previous connections.
    pub async fn add_account(
        &self,
        account_id: &str,
        name: &str,
        mut cfg: ConnectorConfig,
        instruments: &[String],
    ) -> Result<(), ManagerError> {
        let kind = cfg.broker;
        if cfg.stream_heartbeat.is_none() {
            cfg.stream_heartbeat = self.options.price_heartbeat;
        }
        if let Some(t) = self.options.request_timeout {
            cfg.timeout = t;
        }
        let broker: Arc<dyn Broker> = Arc::from(brokers::http::with_pool(&self.pool, || {
            brokers::connector(cfg)
        })?);
        let mut conns = Vec::new();
        // The built-in paper broker has no session to keep: only its price channel runs.
        if kind != BrokerKind::Paper {
            let order_metrics = LinkMetrics::new();
            let order = OrderLink::new(
                broker.clone(),
                self.options.keepalive,
                order_metrics.clone(),
            );
            conns.push(Box::new((order, order_metrics)).start(account_id, Channel::Order, self));
        }
        let feed = (!instruments.is_empty()).then(|| Feed::new(account_id, instruments));
        if let Some(feed) = &feed {
            conns.push(self.start_price(account_id, &broker, feed));
        }
        let account = Account {
            name: name.to_string(),
            broker: kind,
            connector: broker,
            feed,
            conns,
        };
        let previous = self.lock().insert(account_id.to_string(), account);
        if let Some(p) = previous {
            p.shutdown().await;
        }
        Ok(())
    }

    fn start_price(&self, account_id: &str, broker: &Arc<dyn Broker>, feed: &Arc<Feed>) -> Conn {
        let metrics = LinkMetrics::new();
        let link = PriceLink::new(broker.clone(), feed.clone(), metrics.clone());
        Box::new((link, metrics)).start(account_id, Channel::Price, self)
    }

    /// Sets the instruments an account streams (its watchlist): applied to the open
    /// stream, or starts the price channel if the account had none.
    pub fn set_instruments(
        &self,
        account_id: &str,
        instruments: &[String],
    ) -> Result<Arc<Feed>, ManagerError> {
        let mut accounts = self.lock();
        let account = accounts
            .get_mut(account_id)
            .ok_or_else(|| ManagerError::UnknownAccount(account_id.to_string()))?;
        if let Some(feed) = &account.feed {
            feed.set_instruments(instruments);
            return Ok(feed.clone());
        }
        let feed = Feed::new(account_id, instruments);
        let conn = self.start_price(account_id, &account.connector, &feed);
        account.conns.push(conn);
        account.feed = Some(feed.clone());
        Ok(feed)
    }

    /// The connector of a managed account (its session, its pooled client), for orders.
    pub fn connector(&self, account_id: &str) -> Option<Arc<dyn Broker>> {
        self.lock().get(account_id).map(|a| a.connector.clone())
    }

    /// The price feed of an account, when it streams.
    pub fn feed(&self, account_id: &str) -> Option<Arc<Feed>> {
        self.lock().get(account_id).and_then(|a| a.feed.clone())
    }

    /// Supervises `link` as `channel` of an account already added (the streams of other
    /// brokers plug in here). Replaces the channel's previous connection.
    pub async fn add_link<L: Link>(
        &self,
        account_id: &str,
        channel: Channel,
        link: L,
        metrics: Arc<LinkMetrics>,
    ) -> Result<(), ManagerError> {
        let conn = Box::new((link, metrics)).start(account_id, channel, self);
        let previous = {
            let mut accounts = self.lock();
            let Some(account) = accounts.get_mut(account_id) else {
                drop(accounts);
                conn.shutdown_detached();
                return Err(ManagerError::UnknownAccount(account_id.to_string()));
            };
            let old = account
                .conns
                .iter()
                .position(|c| c.channel == channel)
                .map(|i| account.conns.remove(i));
            account.conns.push(conn);
            old
        };
        if let Some(old) = previous {
            old.shutdown().await;
        }
        Ok(())
    }

    /// Stops an account's connections and waits for their tasks.
    pub async fn remove_account(&self, account_id: &str) -> Result<(), ManagerError> {
        let account = self
            .lock()
            .remove(account_id)
            .ok_or_else(|| ManagerError::UnknownAccount(account_id.to_string()))?;
        account.shutdown().await;
        Ok(())
    }

    /// Reconnects an account's connections now (skipping backoff, or retrying after a
    /// failure such as refused credentials).
    pub fn reconnect(&self, account_id: &str) -> Result<(), ManagerError> {
        let accounts = self.lock();
        let account = accounts
            .get(account_id)
            .ok_or_else(|| ManagerError::UnknownAccount(account_id.to_string()))?;
        account.conns.iter().for_each(|c| c.handle.reconnect_now());
        Ok(())
    }

    /// Reconnects every connection now.
    pub fn reconnect_all(&self) {
        for account in self.lock().values() {
            account.conns.iter().for_each(|c| c.handle.reconnect_now());
        }
    }

    /// Returns every account's connections, sorted by account id.
    pub fn snapshot(&self) -> Vec<AccountConnections> {
        let now = Utc::now();
        let mut out: Vec<AccountConnections> = self
            .lock()
            .iter()
            .map(|(id, a)| AccountConnections {
                account_id: id.clone(),
                name: a.name.clone(),
                broker: a.broker,
                channels: a.conns.iter().map(|c| c.status(now)).collect(),
            })
            .collect();
        out.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        out
    }

    /// Returns the state of one connection, if managed.
    pub fn state(&self, account_id: &str, channel: Channel) -> Option<ConnState> {
        let accounts = self.lock();
        let account = accounts.get(account_id)?;
        let conn = account.conns.iter().find(|c| c.channel == channel)?;
        Some(conn.handle.state())
    }

    /// Returns a receiver of every state change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ConnectionEvent> {
        self.sink.events.subscribe()
    }

    /// Returns the worst state of all connections (what the tray shows).
    pub fn worst_state(&self) -> WorstState {
        self.lock()
            .values()
            .flat_map(|a| a.conns.iter())
            .map(|c| WorstState::of(&c.handle.state()))
            .max()
            .unwrap_or(WorstState::Idle)
    }

    /// Stops every connection and waits for every task to end.
    pub async fn shutdown(&self) {
        let accounts: Vec<Account> = self.lock().drain().map(|(_, a)| a).collect();
        // Cancel everything first so the connections wind down together.
        for c in accounts.iter().flat_map(|a| a.conns.iter()) {
            c.stop.cancel();
        }
        for a in accounts {
            a.shutdown().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Account>> {
        // A panic while holding the lock leaves a consistent map (entries are swapped
        // whole), so a poisoned lock is still usable.
        self.accounts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A link of any type with its metrics, ready to start (lets links of different types sit
/// in one list).
trait LinkBox: Send {
    fn start(self: Box<Self>, account_id: &str, channel: Channel, m: &ConnectionManager) -> Conn;
}

impl<L: Link> LinkBox for (L, Arc<LinkMetrics>) {
    fn start(self: Box<Self>, account_id: &str, channel: Channel, m: &ConnectionManager) -> Conn {
        let (link, metrics) = *self;
        let handle = Arc::new(spawn(link, m.options.backoff));
        let stop = CancellationToken::new();
        let follower = tokio::spawn(publish::follow(
            account_id.to_string(),
            channel,
            handle.clone(),
            stop.clone(),
            m.sink.clone(),
        ));
        Conn {
            channel,
            handle,
            metrics,
            stop,
            follower,
        }
    }
}

impl Conn {
    /// Stops a connection that was never registered, without waiting.
    fn shutdown_detached(self) {
        tokio::spawn(self.shutdown());
    }
}
