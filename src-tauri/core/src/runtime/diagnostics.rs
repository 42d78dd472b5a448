//! The plain-text connection report an account's Diagnostics copies for a support request
//! (the `connections_diagnostics` command returns it too): the account's broker, environment,
//! endpoints and stored credential fields, then per channel its state and reason, counters,
//! instants, quality and full history.
//!
//! The core writes it from its own snapshot, so the clipboard only ever receives text the
//! core made (`clipboard_copy` takes a reference, never text from the window). It carries no
//! secret: credentials are named by field only, and URLs lose any user-info, query and
//! fragment.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use super::Runtime;
use crate::accounts::catalog::broker_info;
use crate::accounts::model::Account;
use crate::connection::manager::{AccountConnections, Channel, ChannelStatus};
use crate::connection::ConnState;
use crate::error::{ApiError, Code};
use crate::text::redact_url;

fn state_text(state: &ConnState) -> String {
    match state {
        ConnState::Disconnected => "Disconnected".into(),
        ConnState::Connecting => "Connecting".into(),
        ConnState::Connected => "Connected".into(),
        ConnState::Reconnecting {
            attempt,
            next_retry_ms,
            last_error,
        } => format!(
            "Reconnecting (attempt {attempt}, retry after {next_retry_ms} ms): {last_error}"
        ),
        ConnState::Failed { code, reason } => format!("Failed ({code}): {reason}"),
    }
}

fn or_dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "—".to_string(), |v| v.to_string())
}

fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Order => "Orders",
        Channel::Price => "Prices",
    }
}

/// The report for one account's connections at `now` (`account`: its stored settings, when
/// it still exists).
pub fn report(
    conns: &AccountConnections,
    account: Option<&Account>,
    now: DateTime<Utc>,
    app_version: &str,
) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line("Brokerdesk connection diagnostics".into());
    line(format!(
        "Generated: {}",
        now.to_rfc3339_opts(SecondsFormat::Millis, true)
    ));
    line(format!("App version: {app_version}"));
    line(String::new());
    line(format!("Account: {} ({})", conns.name, conns.account_id));
    let info = broker_info(conns.broker);
    line(format!("Broker: {} ({})", info.label, conns.broker));
    match account {
        None => line("The account's settings are no longer stored.".into()),
        Some(a) => {
            let env = info
                .environments
                .iter()
                .find(|e| e.environment == a.environment);
            line(format!(
                "Environment: {} ({})",
                env.map_or(a.environment.as_str(), |e| e.label.as_str()),
                a.environment
            ));
            line(format!(
                "Broker account: {}",
                or_dash(a.broker_account_id.as_deref())
            ));
            line(format!("Trading mode: {} · {}", a.mode, a.status));
            let endpoint = |own: Option<&str>, default: Option<&str>| match (own, default) {
                (Some(u), _) => format!("{} (custom)", redact_url(u)),
                (None, Some(u)) => format!("{} (broker default)", redact_url(u)),
                (None, None) => "—".into(),
            };
            let (rest, stream) = (
                env.and_then(|e| e.rest_url.as_deref()),
                env.and_then(|e| e.stream_url.as_deref()),
            );
            line(format!(
                "REST endpoint: {}",
                endpoint(a.rest_url.as_deref(), rest)
            ));
            line(format!(
                "Stream endpoint: {}",
                endpoint(a.stream_url.as_deref(), stream)
            ));
            let credentials = if a.credentials.is_empty() {
                "none stored".to_string()
            } else {
                a.credentials
                    .iter()
                    .map(|c| match &c.error {
                        Some(e) => format!("{}: unreadable ({})", c.label, e.code),
                        None => format!("{}: stored", c.label),
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            line(format!("Credentials: {credentials}"));
        }
    }
    let mut channels: Vec<&ChannelStatus> = conns.channels.iter().collect();
    channels.sort_by_key(|c| c.channel != Channel::Order);
    for c in channels {
        line(String::new());
        line(format!(
            "== {} ({}) ==",
            channel_label(c.channel),
            c.channel.as_str()
        ));
        line(format!("State: {}", state_text(&c.state)));
        line(format!(
            "Latency: {}",
            or_dash(c.latency_ms.map(|ms| format!("{ms} ms")))
        ));
        line(format!("Messages: {}", c.messages));
        line(format!(
            "Last message: {}",
            or_dash(c.last_message_at.as_deref())
        ));
        line(format!(
            "Last heartbeat: {}",
            or_dash(c.last_heartbeat_at.as_deref())
        ));
        line(format!(
            "Uptime: {}",
            or_dash(c.uptime_ms.map(|ms| format!("{} s", ms / 1000)))
        ));
        line(format!(
            "Connected since: {}",
            or_dash(c.connected_since.as_deref())
        ));
        line(format!("Drops in the last hour: {}", c.drops_last_hour));
        line(format!("Quality: {}", c.quality.as_str()));
        line(format!(
            "Session expires: {}",
            or_dash(c.session_expires_at.as_deref())
        ));
        line(format!("History ({}, oldest first):", c.history.len()));
        if c.history.is_empty() {
            line("  (no state changes yet)".into());
        }
        for h in &c.history {
            let mut s = String::new();
            let _ = write!(s, "  {}  {}", h.at, state_text(&h.state));
            line(s);
        }
    }
    out
}

impl Runtime {
    /// The diagnostics report of one account's connections (`key`: its id or name).
    pub async fn diagnostics_report(&self, key: &str) -> Result<String, ApiError> {
        let account = self.core.account_get(key).await?;
        let conns = self
            .connections()
            .into_iter()
            .find(|c| c.account_id == account.id)
            .ok_or_else(|| {
                ApiError::new(
                    Code::NotFound,
                    format!(
                        "{} has no connections: it is not connected (connect it first)",
                        account.name
                    ),
                )
            })?;
        Ok(report(
            &conns,
            Some(&account),
            Utc::now(),
            env!("CARGO_PKG_VERSION"),
        ))
    }
}
