//! What the runtime tells the surfaces: [`UiEvent`]s for the window (sent by name, with a
//! payload type generated into TypeScript, `ui/src/bindings/contract.ts`), and the native
//! [`Notice`]s the shell shows.

use serde::Serialize;
use ts_rs::TS;

use super::trading::AccountMoney;
use crate::api::VaultStatus;
use crate::connection::manager::{Channel, ConnectionEvent, LinkQuality};
use crate::settings::AppSettings;
use crate::stream::feed::{FeedNotice, PriceUpdate};
use crate::trading::model::Order;
use crate::twofa::TwoFactorStatus;

/// Which accounts changed (added, edited, removed, mode switched); the UI re-reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AccountsChanged {
    /// The accounts concerned; empty means "re-read them all" (a purge, another process).
    pub account_ids: Vec<String>,
}

/// The live facts of one connection, refreshed every second while it runs (a state change
/// comes at once as a `connection-event`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChannelStats {
    pub account_id: String,
    pub channel: Channel,
    pub last_message_at: Option<String>,
    pub last_heartbeat_at: Option<String>,
    pub latency_ms: Option<u64>,
    pub uptime_ms: Option<u64>,
    pub messages: u64,
    pub drops_last_hour: u32,
    pub quality: LinkQuality,
    pub session_expires_at: Option<String>,
}

/// Declares [`UiEvent`] once: variant, event name, payload type.
macro_rules! ui_events {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal ($payload:ty); )*) => {
        /// An event for the window. Serialized as its payload, sent under [`UiEvent::name`].
        // Events are cloned into a broadcast channel once each; their size does not matter.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone)]
        pub enum UiEvent {
            $( $(#[doc = $doc])* $variant($payload), )*
        }

        impl UiEvent {
            /// Every event's name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// Returns the event's name (`vault-status`).
            pub fn name(&self) -> &'static str {
                match self { $(UiEvent::$variant(_) => $name,)* }
            }

            /// Returns the payload as JSON.
            pub fn payload(&self) -> serde_json::Value {
                match self {
                    $(UiEvent::$variant(p) => serde_json::to_value(p).unwrap_or(serde_json::Value::Null),)*
                }
            }

            /// Returns `(name, TypeScript payload type)` of every event, for the contract.
            pub fn typescript(cfg: &ts_rs::Config) -> Vec<(&'static str, String, Vec<ts_rs::Dependency>)> {
                vec![$(($name, <$payload as TS>::name(cfg), <$payload as TS>::dependencies(cfg)),)*]
            }
        }
    };
}

ui_events! {
    /// After every vault change, whoever caused it (a command, the tray, auto-lock, the CLI).
    VaultStatus = "vault-status" (VaultStatus);
    /// After every two-factor change (a wrong code and a lockout included).
    TwofaStatus = "twofa-status" (TwoFactorStatus);
    /// After accounts were added, edited, removed or switched mode.
    AccountsChanged = "accounts-changed" (AccountsChanged);
    /// After the settings changed.
    SettingsChanged = "settings-changed" (AppSettings);
    /// After accounts' sets of channels changed (started, stopped, restarted, renamed): the
    /// connections snapshot is worth reading again.
    ConnectionsChanged = "connections-changed" (AccountsChanged);
    /// Every state change of every broker connection.
    Connection = "connection-event" (ConnectionEvent);
    /// Every second: the live facts of every running connection.
    ConnectionStats = "connection-stats" (Vec<ChannelStats>);
    /// Coalesced prices of one account.
    PriceUpdate = "price-update" (PriceUpdate);
    /// A broker's notice about an instrument (unknown, not entitled, a limit).
    PriceNotice = "price-notice" (FeedNotice);
    /// An order changed (placed, filled, cancelled, rejected, unknown, needs review).
    OrderUpdate = "order-update" (Box<Order>);
    /// Orders changed in a way this process did not see (another process): re-read them.
    OrdersChanged = "orders-changed" (AccountsChanged);
    /// A paper account's money and positions, marked to the latest quotes (at most twice a
    /// second while it holds positions).
    AccountMoney = "account-money" (Box<AccountMoney>);
    /// An account's loss budgets measured again (several times a second while it is watched).
    RiskUpdate = "risk-update" (Box<crate::risk::RiskReport>);
    /// After the start-up checks ran again (the first unlock, "Check again", a fix while
    /// held): whether the profile runs in the safe state, and why.
    SafeState = "safe-state" (crate::health::StartupReport);
}

/// A native notification for the shell to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// The body of the notification sent when too many wrong two-factor codes lock 2FA out.
pub const TWOFA_LOCKED_BODY: &str = "Two-factor locked: too many wrong codes";

impl Notice {
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
        }
    }

    /// Returns the notification of a two-factor lockout (the app's 2FA screen says until when).
    pub fn twofa_locked_out() -> Self {
        Self::new("Brokerdesk", TWOFA_LOCKED_BODY)
    }
}

/// Everything the runtime publishes.
#[allow(clippy::large_enum_variant)] // see UiEvent
#[derive(Debug, Clone)]
pub enum RuntimeEvent {
    /// For the window.
    Ui(UiEvent),
    /// For the desktop's notification server.
    Notify(Notice),
}
