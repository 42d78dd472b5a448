//! Publishing one connection's state changes: a task per connection follows the
//! supervisor's `watch` channel, takes the new entries from its history (a `watch` keeps
//! only the latest value; the history keeps every change), and for each one broadcasts a
//! [`ConnectionEvent`], logs it, and persists it to `connection_events`.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::types::{Channel, ConnectionEvent};
use crate::connection::{ConnState, ConnectionHandle, StateChange};
use crate::store::Store;

/// Where the events go.
#[derive(Clone)]
pub(super) struct Sink {
    pub events: broadcast::Sender<ConnectionEvent>,
    pub store: Option<Store>,
    pub keep: u32,
}

/// Returns the state's tag (`connected`, `reconnecting`, …) and its detail.
pub(super) fn describe(state: &ConnState) -> (&'static str, Option<String>) {
    match state {
        ConnState::Disconnected => ("disconnected", None),
        ConnState::Connecting => ("connecting", None),
        ConnState::Connected => ("connected", None),
        ConnState::Reconnecting {
            attempt,
            next_retry_ms,
            last_error,
        } => (
            "reconnecting",
            Some(format!(
                "attempt {attempt}, next try in {next_retry_ms} ms: {last_error}"
            )),
        ),
        ConnState::Failed { code, reason } => ("failed", Some(format!("{code}: {reason}"))),
    }
}

/// Follows a connection's state, publishing every change, until the connection's task
/// has ended. When `stop` is cancelled it lets go of its `handle` (the last owner dropping
/// it cancels the task), publishes the final `Disconnected` and returns once the task's end
/// closes the `watch` channel.
pub(super) async fn follow(
    account_id: String,
    channel: Channel,
    handle: Arc<ConnectionHandle>,
    stop: CancellationToken,
    sink: Sink,
) {
    let mut rx = handle.watch();
    let mut handle = Some(handle);
    let mut last: Option<StateChange> = None;
    loop {
        let open = tokio::select! {
            r = rx.changed() => r.is_ok(),
            _ = stop.cancelled(), if handle.is_some() => true,
        };
        match &handle {
            Some(h) => {
                let all = h.history();
                let start = last
                    .as_ref()
                    .and_then(|l| all.iter().rposition(|c| c == l))
                    .map_or(0, |i| i + 1);
                for change in &all[start..] {
                    publish(&account_id, channel, change, &sink).await;
                }
                last = all.last().cloned().or(last);
                rx.borrow_and_update();
            }
            None if open => {
                let state = rx.borrow_and_update().clone();
                let change = StateChange {
                    at: Utc::now().to_rfc3339(),
                    state,
                };
                publish(&account_id, channel, &change, &sink).await;
            }
            None => {}
        }
        if stop.is_cancelled() {
            handle = None;
        }
        if !open {
            return;
        }
    }
}

async fn publish(account_id: &str, channel: Channel, change: &StateChange, sink: &Sink) {
    let (state, detail) = describe(&change.state);
    tracing::info!(
        account_id,
        channel = channel.as_str(),
        state,
        "connection state changed"
    );
    // No receiver is fine: nobody is watching yet.
    let _ = sink.events.send(ConnectionEvent {
        account_id: account_id.to_string(),
        channel,
        state: change.state.clone(),
        at: change.at.clone(),
    });
    let Some(store) = &sink.store else { return };
    let written = async {
        sqlx::query(
            "INSERT INTO connection_events (account_id, channel, state, detail, at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(account_id)
        .bind(channel.as_str())
        .bind(state)
        .bind(detail)
        .bind(&change.at)
        .execute(store.pool())
        .await?;
        sqlx::query(
            "DELETE FROM connection_events WHERE account_id = ? AND id <= \
             (SELECT id FROM connection_events WHERE account_id = ? \
              ORDER BY id DESC LIMIT 1 OFFSET ?)",
        )
        .bind(account_id)
        .bind(account_id)
        .bind(sink.keep)
        .execute(store.pool())
        .await
    }
    .await;
    if let Err(e) = written {
        tracing::warn!(account_id, error = %e, "could not persist a connection event");
    }
}
