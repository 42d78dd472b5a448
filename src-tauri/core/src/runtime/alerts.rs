//! When a connection change is worth a native notification: the pure debounce logic, kept
//! apart from Tauri so it can be tested with paused tokio time.
//!
//! An account is *down* while any of its channels is `Reconnecting` or `Disconnected` (a
//! `Connecting` in between does not end the outage; a first `Connecting` does not start
//! one). [`Alert::Lost`] fires once an outage has lasted longer than the delay (5 s in the
//! app), so a blip that heals in a second stays quiet; [`Alert::Restored`] fires when every
//! channel is connected again after a lost (or auth) alert. A `Failed` state with the
//! `broker_auth` code fires [`Alert::AuthFailed`] at once (it waits for the user: no retry
//! will fix it), and counts as the outage's notice.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::connection::manager::Channel;
use crate::connection::ConnState;
use crate::error::Code;

/// How long an account must be down before "connection lost" is shown.
pub const LOST_AFTER: Duration = Duration::from_secs(5);

/// A notification to show for an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    Lost,
    Restored,
    AuthFailed,
}

#[derive(Debug, Default)]
struct Watch {
    /// The channels that are down, and since when.
    down: HashMap<Channel, Instant>,
    /// Whether the user was told about the current outage.
    noticed: bool,
}

/// Tracks every account's outages.
#[derive(Debug)]
pub struct Debounce {
    delay: Duration,
    accounts: HashMap<String, Watch>,
}

impl Default for Debounce {
    fn default() -> Self {
        Self::new(LOST_AFTER)
    }
}

impl Debounce {
    pub fn new(delay: Duration) -> Self {
        Self {
            delay,
            accounts: HashMap::new(),
        }
    }

    /// Takes one state change; returns the alert it causes at once, if any.
    pub fn on_state(
        &mut self,
        account_id: &str,
        channel: Channel,
        state: &ConnState,
        now: Instant,
    ) -> Option<Alert> {
        let watch = self.accounts.entry(account_id.to_string()).or_default();
        match state {
            ConnState::Connecting => None,
            ConnState::Reconnecting { .. } | ConnState::Disconnected => {
                watch.down.entry(channel).or_insert(now);
                None
            }
            ConnState::Failed {
                code: Code::BrokerAuth,
                ..
            } => {
                watch.down.entry(channel).or_insert(now);
                let first = !watch.noticed;
                watch.noticed = true;
                first.then_some(Alert::AuthFailed)
            }
            ConnState::Failed { .. } => {
                watch.down.entry(channel).or_insert(now);
                None
            }
            ConnState::Connected => {
                watch.down.remove(&channel);
                if watch.down.is_empty() && watch.noticed {
                    watch.noticed = false;
                    Some(Alert::Restored)
                } else {
                    None
                }
            }
        }
    }

    /// Returns the accounts whose outage has now lasted longer than the delay (each once).
    pub fn due(&mut self, now: Instant) -> Vec<String> {
        let mut out = Vec::new();
        for (id, watch) in &mut self.accounts {
            if watch.noticed {
                continue;
            }
            if let Some(since) = watch.down.values().min() {
                if now.duration_since(*since) > self.delay {
                    watch.noticed = true;
                    out.push(id.clone());
                }
            }
        }
        out.sort();
        out
    }

    /// Returns when the next [`Debounce::due`] could return something.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.accounts
            .values()
            .filter(|w| !w.noticed)
            .filter_map(|w| w.down.values().min())
            .map(|since| *since + self.delay + Duration::from_millis(1))
            .min()
    }

    /// Keeps only the accounts `keep` accepts (the others were removed).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.accounts.retain(|id, _| keep(id));
    }

    /// Forgets an account (removed, or no longer connected).
    pub fn forget(&mut self, account_id: &str) {
        self.accounts.remove(account_id);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn reconnecting() -> ConnState {
        ConnState::Reconnecting {
            attempt: 1,
            next_retry_ms: 0,
            last_error: "reset".into(),
        }
    }

    fn auth_failed() -> ConnState {
        ConnState::Failed {
            code: Code::BrokerAuth,
            reason: "refused".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_blip_stays_quiet() {
        let mut d = Debounce::default();
        assert_eq!(
            d.on_state("a", Channel::Order, &ConnState::Connected, Instant::now()),
            None
        );
        assert_eq!(
            d.on_state("a", Channel::Order, &reconnecting(), Instant::now()),
            None
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(d.due(Instant::now()).is_empty());
        assert_eq!(
            d.on_state("a", Channel::Order, &ConnState::Connecting, Instant::now()),
            None
        );
        assert_eq!(
            d.on_state("a", Channel::Order, &ConnState::Connected, Instant::now()),
            None
        );
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(d.due(Instant::now()).is_empty());
        assert_eq!(d.next_deadline(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_outage_is_lost_once_then_restored() {
        let mut d = Debounce::default();
        d.on_state("a", Channel::Order, &ConnState::Connected, Instant::now());
        d.on_state("a", Channel::Order, &reconnecting(), Instant::now());
        let deadline = d.next_deadline().unwrap();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(
            d.due(Instant::now()).is_empty(),
            "exactly 5 s is not more than 5 s"
        );
        // A Connecting between retries does not end the outage.
        d.on_state("a", Channel::Order, &ConnState::Connecting, Instant::now());
        tokio::time::sleep_until(deadline).await;
        assert_eq!(d.due(Instant::now()), vec!["a".to_string()]);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(d.due(Instant::now()).is_empty(), "lost is told once");
        assert_eq!(d.next_deadline(), None);
        assert_eq!(
            d.on_state("a", Channel::Order, &ConnState::Connected, Instant::now()),
            Some(Alert::Restored)
        );
        assert_eq!(
            d.on_state("a", Channel::Order, &ConnState::Connected, Instant::now()),
            None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn restored_waits_for_every_channel() {
        let mut d = Debounce::default();
        d.on_state("a", Channel::Order, &reconnecting(), Instant::now());
        tokio::time::advance(Duration::from_secs(1)).await;
        d.on_state(
            "a",
            Channel::Price,
            &ConnState::Disconnected,
            Instant::now(),
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        // The order channel has been down 6 s: one notice for the account.
        assert_eq!(d.due(Instant::now()), vec!["a".to_string()]);
        assert_eq!(
            d.on_state("a", Channel::Order, &ConnState::Connected, Instant::now()),
            None
        );
        assert_eq!(
            d.on_state("a", Channel::Price, &ConnState::Connected, Instant::now()),
            Some(Alert::Restored)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refused_credentials_alert_at_once_and_replace_lost() {
        let mut d = Debounce::default();
        d.on_state("a", Channel::Order, &ConnState::Connecting, Instant::now());
        assert_eq!(
            d.on_state("a", Channel::Order, &auth_failed(), Instant::now()),
            Some(Alert::AuthFailed)
        );
        assert_eq!(
            d.on_state("a", Channel::Order, &auth_failed(), Instant::now()),
            None
        );
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(d.due(Instant::now()).is_empty());
        d.on_state("a", Channel::Order, &ConnState::Connecting, Instant::now());
        assert_eq!(
            d.on_state("a", Channel::Order, &ConnState::Connected, Instant::now()),
            Some(Alert::Restored)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn accounts_are_independent_and_can_be_forgotten() {
        let mut d = Debounce::default();
        d.on_state("a", Channel::Order, &reconnecting(), Instant::now());
        tokio::time::advance(Duration::from_secs(3)).await;
        d.on_state("b", Channel::Order, &reconnecting(), Instant::now());
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(d.due(Instant::now()), vec!["a".to_string()]);
        d.forget("b");
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(d.due(Instant::now()).is_empty());
    }
}
