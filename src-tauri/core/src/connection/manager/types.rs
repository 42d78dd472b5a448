//! What the connection manager shows: its events, snapshots and options.

use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use crate::accounts::model::BrokerKind;
use crate::connection::links::DEFAULT_KEEPALIVE;
use crate::connection::{Backoff, ConnState, StateChange};

/// Which connection of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Channel {
    /// The REST session orders go through.
    Order,
    /// The price stream.
    Price,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Order => "order",
            Channel::Price => "price",
        }
    }
}

/// One state change of one connection, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConnectionEvent {
    pub account_id: String,
    pub channel: Channel,
    pub state: ConnState,
    /// RFC 3339, UTC.
    pub at: String,
}

/// One connection of an account, for the UI.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChannelStatus {
    pub channel: Channel,
    pub state: ConnState,
    /// RFC 3339: when the current session connected (only while connected).
    pub connected_since: Option<String>,
    pub last_message_at: Option<String>,
    pub last_heartbeat_at: Option<String>,
    pub latency_ms: Option<u64>,
    pub uptime_ms: Option<u64>,
    /// The current reconnect attempt (0 unless reconnecting).
    pub attempt: u32,
    pub messages: u64,
    /// RFC 3339: when the broker session / access token expires (the connector refreshes
    /// it before then), for brokers that have one.
    pub session_expires_at: Option<String>,
    /// Times the link was lost in the last hour.
    pub drops_last_hour: u32,
    /// A summary of latency and stability.
    pub quality: LinkQuality,
    /// The most recent state changes, oldest first.
    pub history: Vec<StateChange>,
}

/// How healthy a link is: `good` (connected, quick, stable), `fair` (connected, but slow
/// — over 300 ms — or dropped in the last hour), `poor` (reconnecting, over 1 s, or 3+
/// drops in the last hour), `down` (failed or stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LinkQuality {
    Good,
    Fair,
    Poor,
    Down,
}

impl LinkQuality {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkQuality::Good => "good",
            LinkQuality::Fair => "fair",
            LinkQuality::Poor => "poor",
            LinkQuality::Down => "down",
        }
    }

    pub fn of(state: &ConnState, latency_ms: Option<u64>, drops_last_hour: u32) -> Self {
        match state {
            ConnState::Failed { .. } | ConnState::Disconnected => LinkQuality::Down,
            ConnState::Connecting | ConnState::Reconnecting { .. } => LinkQuality::Poor,
            ConnState::Connected => {
                let latency = latency_ms.unwrap_or_default();
                if latency > 1_000 || drops_last_hour >= 3 {
                    LinkQuality::Poor
                } else if latency > 300 || drops_last_hour >= 1 {
                    LinkQuality::Fair
                } else {
                    LinkQuality::Good
                }
            }
        }
    }
}

/// An account's connections, for the UI.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AccountConnections {
    pub account_id: String,
    pub name: String,
    pub broker: BrokerKind,
    pub channels: Vec<ChannelStatus>,
}

/// The summary the tray shows: the worst state of all connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum WorstState {
    /// No connection is supervised.
    Idle,
    Connected,
    /// Some connection is connecting or reconnecting.
    Reconnecting,
    /// Some connection is down for good (failed, e.g. refused credentials) or stopped.
    Disconnected,
}

impl WorstState {
    /// The tray state of one connection.
    pub fn of(state: &ConnState) -> Self {
        match state {
            ConnState::Connected => WorstState::Connected,
            ConnState::Connecting | ConnState::Reconnecting { .. } => WorstState::Reconnecting,
            ConnState::Disconnected | ConnState::Failed { .. } => WorstState::Disconnected,
        }
    }
}

/// How the manager runs its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagerOptions {
    pub backoff: Backoff,
    /// The interval between keepalives of order links.
    pub keepalive: Duration,
    /// The price streams' heartbeat interval (the watchdog allows twice as much); `None`
    /// = each broker's own (OANDA 5 s, DXLink keepalives, WebSocket pings).
    pub price_heartbeat: Option<Duration>,
    /// How many persisted events each account keeps.
    pub keep_events: u32,
    /// The connectors' per-request timeout; `None` = the config's (10 s). Tests shorten it
    /// to reach an order answer "too slow" quickly.
    pub request_timeout: Option<Duration>,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        Self {
            backoff: Backoff::default(),
            keepalive: DEFAULT_KEEPALIVE,
            price_heartbeat: None,
            keep_events: 1_000,
            request_timeout: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn quality_follows_state_latency_and_drops() {
        let up = ConnState::Connected;
        assert_eq!(LinkQuality::of(&up, Some(40), 0), LinkQuality::Good);
        assert_eq!(LinkQuality::of(&up, Some(400), 0), LinkQuality::Fair);
        assert_eq!(LinkQuality::of(&up, Some(40), 1), LinkQuality::Fair);
        assert_eq!(LinkQuality::of(&up, Some(1_500), 0), LinkQuality::Poor);
        assert_eq!(LinkQuality::of(&up, None, 3), LinkQuality::Poor);
        let retrying = ConnState::Reconnecting {
            attempt: 2,
            next_retry_ms: 100,
            last_error: "x".into(),
        };
        assert_eq!(LinkQuality::of(&retrying, None, 0), LinkQuality::Poor);
        let failed = ConnState::Failed {
            code: Code::BrokerAuth,
            reason: "refused".into(),
        };
        assert_eq!(LinkQuality::of(&failed, Some(1), 0), LinkQuality::Down);
    }
}
