//! The connection state machine. One task owns each link (a broker session, a price
//! stream); everything else watches its state through a `watch` channel and asks for a
//! reconnect through the handle. State changes happen in one place ([`Supervisor::set`]),
//! each one is kept in a bounded history and published.
//!
//! `Disconnected → Connecting → Connected → Reconnecting(attempt) → … → Failed(reason)`.
//! Authentication failures go to `Failed` and wait for the user (a reconnect request);
//! network faults retry with [`Backoff`] (immediate first retry, full jitter, cap); a 429
//! waits at least its `Retry-After`. Dropping the [`ConnectionHandle`] cancels the task.

pub mod backoff;
pub mod breaker;
pub mod links;
pub mod manager;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde::Serialize;
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

pub use self::backoff::Backoff;
pub use self::breaker::CircuitBreaker;
use crate::brokers::BrokerError;
use crate::error::ErrorCode;

/// How many state changes each connection remembers.
pub const HISTORY_LEN: usize = 100;

/// A connection's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(
    tag = "state",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
#[ts(export)]
pub enum ConnState {
    Disconnected,
    Connecting,
    Connected,
    Reconnecting {
        attempt: u32,
        /// Milliseconds until the next try, when the state was entered.
        next_retry_ms: u64,
        last_error: String,
    },
    Failed {
        code: crate::error::Code,
        reason: String,
    },
}

/// One entry of a connection's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StateChange {
    /// RFC 3339, UTC.
    pub at: String,
    pub state: ConnState,
}

/// A link the supervisor keeps up: a REST session or a stream.
#[async_trait]
pub trait Link: Send + 'static {
    /// Establishes the link (authenticate, subscribe).
    async fn connect(&mut self) -> Result<(), BrokerError>;

    /// Serves the established link until it ends, and returns why. Detecting a dead link
    /// (no message or heartbeat for two intervals, see [`within`]) is the link's job.
    async fn serve(&mut self, cancel: &CancellationToken) -> Result<(), BrokerError>;
}

/// Awaits `fut`, failing with a network error when nothing arrives within `limit` — the
/// heartbeat watchdog of every stream: a half-open socket sends nothing and never closes.
pub async fn within<T>(
    limit: Duration,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, BrokerError> {
    tokio::time::timeout(limit, fut).await.map_err(|_| {
        BrokerError::Network(format!(
            "no message or heartbeat for {} ms: the link is dead",
            limit.as_millis()
        ))
    })
}

/// The owner's side of a running connection.
pub struct ConnectionHandle {
    state: watch::Receiver<ConnState>,
    history: Arc<Mutex<VecDeque<StateChange>>>,
    /// How many state changes there have been (counted under the history's lock).
    changes: Arc<std::sync::atomic::AtomicU64>,
    reconnect: Arc<Notify>,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ConnectionHandle {
    /// Returns a receiver of state changes.
    pub fn watch(&self) -> watch::Receiver<ConnState> {
        self.state.clone()
    }

    pub fn state(&self) -> ConnState {
        self.state.borrow().clone()
    }

    /// Returns the state changes so far, oldest first.
    pub fn history(&self) -> Vec<StateChange> {
        self.history
            .lock()
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The state changes after the first `seen` (as many as the history still holds), and
    /// how many there have been in all: a watcher that wakes late (a [`watch`] receiver
    /// keeps only the latest state) still sees a reconnect that came and went.
    pub fn changes_since(&self, seen: u64) -> (u64, Vec<StateChange>) {
        let Ok(h) = self.history.lock() else {
            return (seen, Vec::new());
        };
        let total = self.changes.load(std::sync::atomic::Ordering::SeqCst);
        let new = usize::try_from(total.saturating_sub(seen))
            .unwrap_or(usize::MAX)
            .min(h.len());
        (total, h.iter().skip(h.len() - new).cloned().collect())
    }

    /// Reconnects now: skips a pending backoff, or retries a failed connection.
    pub fn reconnect_now(&self) {
        self.reconnect.notify_one();
    }

    /// Stops the connection and waits for its task to end.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for ConnectionHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

struct Supervisor {
    tx: watch::Sender<ConnState>,
    history: Arc<Mutex<VecDeque<StateChange>>>,
    changes: Arc<std::sync::atomic::AtomicU64>,
}

impl Supervisor {
    /// The one place a connection's state changes.
    fn set(&self, state: ConnState) {
        if let Ok(mut h) = self.history.lock() {
            if h.len() == HISTORY_LEN {
                h.pop_front();
            }
            h.push_back(StateChange {
                at: Utc::now().to_rfc3339(),
                state: state.clone(),
            });
            self.changes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        self.tx.send_replace(state);
    }
}

/// Starts supervising `link`.
pub fn spawn<L: Link>(mut link: L, backoff: Backoff) -> ConnectionHandle {
    let (tx, rx) = watch::channel(ConnState::Disconnected);
    let history = Arc::new(Mutex::new(VecDeque::with_capacity(HISTORY_LEN)));
    let reconnect = Arc::new(Notify::new());
    let cancel = CancellationToken::new();
    let changes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sup = Supervisor {
        tx,
        history: history.clone(),
        changes: changes.clone(),
    };
    let (token, wake) = (cancel.clone(), reconnect.clone());
    let task = tokio::spawn(async move {
        run(&mut link, &sup, backoff, &token, &wake).await;
        sup.set(ConnState::Disconnected);
    });
    ConnectionHandle {
        state: rx,
        history,
        changes,
        reconnect,
        cancel,
        task: Some(task),
    }
}

async fn run<L: Link>(
    link: &mut L,
    sup: &Supervisor,
    backoff: Backoff,
    cancel: &CancellationToken,
    wake: &Notify,
) {
    let mut attempt: u32 = 0;
    loop {
        if attempt == 0 {
            sup.set(ConnState::Connecting);
        }
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = link.connect() => r,
        };
        let err = match result {
            Ok(()) => {
                attempt = 0;
                sup.set(ConnState::Connected);
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = link.serve(cancel) => match r {
                        Err(e) => e,
                        Ok(()) if cancel.is_cancelled() => return,
                        Ok(()) => BrokerError::Network("the connection closed".into()),
                    },
                }
            }
            Err(e) => e,
        };
        if !err.retryable() {
            tracing::warn!(code = %err.code(), "connection failed; waiting for the user");
            sup.set(ConnState::Failed {
                code: err.code(),
                reason: err.text(),
            });
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = wake.notified() => {}
            }
            attempt = 0;
            continue;
        }
        attempt = attempt.saturating_add(1);
        let mut delay = backoff.delay(attempt);
        if let BrokerError::RateLimited {
            retry_after: Some(after),
        } = &err
        {
            delay = delay.max(*after);
        }
        sup.set(ConnState::Reconnecting {
            attempt,
            next_retry_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            last_error: err.text(),
        });
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
            _ = wake.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests;
