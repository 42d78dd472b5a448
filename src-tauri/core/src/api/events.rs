//! Domain events: what the API changed, published after the change committed. The runtime
//! ([`crate::runtime`]) reacts to them (re-syncs connections, tells the UI), so no caller
//! has to remember to. Changes made by another process on the same profile arrive as
//! [`DomainEvent::ProfileChanged`] from the runtime's change watcher.

use tokio::sync::broadcast;

use super::Brokerdesk;

/// How many events a slow subscriber may fall behind before it misses some (it then
/// re-syncs everything, see [`DomainEvent::ProfileChanged`]).
pub(super) const EVENT_BUFFER: usize = 256;

/// Something the API changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    /// The vault was created, unlocked, locked, re-keyed or got a new password.
    VaultChanged,
    /// An account was added or its configuration changed (credentials and watchlist included).
    AccountChanged { account_id: String },
    /// An account was removed.
    AccountRemoved { account_id: String },
    /// An account moved between paper and live.
    ModeChanged { account_id: String },
    /// Every stored credential was deleted.
    CredentialsPurged,
    /// The app settings changed.
    SettingsChanged,
    /// The two-factor state changed (setup, enable, verify — a wrong code too —, disable,
    /// new backup codes, a lockout).
    TwofaChanged,
    /// Orders changed in another process (the CLI placed or cancelled one).
    OrdersChanged,
    /// Something changed that this process did not see happen (another process wrote the
    /// profile, or events were missed): re-read everything.
    ProfileChanged,
}

impl Brokerdesk {
    /// Subscribes to the domain events of this profile.
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.events.subscribe()
    }

    /// Publishes a domain event (nobody listening is fine: the CLI often has no runtime).
    pub fn publish(&self, event: DomainEvent) {
        let _ = self.events.send(event);
    }
}
