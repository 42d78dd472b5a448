//! Account configuration types. These cross to the UI (generated TypeScript, see ts-rs) and
//! to the CLI's JSON output. Secrets appear only as [`MaskedCredential`]; inputs carry them
//! as [`Secret`], which has no `Serialize`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::ApiError;
use crate::money::Decimal;
use crate::secret::Secret;

/// Declares a closed string enum: serde and ts-rs forms, `ALL`, `as_str`, `Display`, `FromStr`.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
        #[ts(export)]
        pub enum $name { $( #[serde(rename = $s)] $variant ),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Returns the stable string form (as stored and as the CLI takes it).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $(x if x == $s.to_ascii_lowercase() => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown {} {s:?} (expected one of: {})",
                        stringify!($name),
                        [$($s),+].join(", ")
                    )),
                }
            }
        }
    };
}

pub(crate) use string_enum;

string_enum!(
    /// The broker an account belongs to. `paper` is Brokerdesk's built-in paper broker.
    BrokerKind { Paper => "paper", Oanda => "oanda", Alpaca => "alpaca", Tradier => "tradier", Tastytrade => "tastytrade", Ibkr => "ibkr" }
);
string_enum!(
    /// The broker environment: `practice` is the broker's practice / paper / sandbox system.
    Environment { Practice => "practice", Live => "live" }
);
string_enum!(
    /// Whether orders go to Brokerdesk's paper engine or to the broker for real.
    TradingMode { Paper => "paper", Live => "live" }
);
string_enum!(
    /// Account standing; restricts what may be traded (rules arrive with trading).
    AccountStatus { Active => "active", Suspended => "suspended", InDrawdown => "in_drawdown", Terminated => "terminated" }
);
string_enum!(
    /// A prop-firm rule preset (see `risk::presets` for each firm's rules and where they are
    /// published). `ftmo` is FTMO's 2-Step, `funded_next` FundedNext's 2-Step and `the5ers`
    /// The5ers' High Stakes program (their stored names predate the 1-Step variants).
    PropFirmPreset { None => "none", Ftmo => "ftmo", Ftmo1Step => "ftmo_1step", FundedNext => "funded_next", FundedNext1Step => "funded_next_1step", The5ers => "the5ers", Custom => "custom" }
);
string_enum!(
    /// What the daily loss limit's percentage is taken of. The loss is measured from the
    /// day's starting level: the balance at the reset, or (for `higher_of_equity_and_balance`)
    /// the higher of the equity and the balance at the reset.
    DailyBase { InitialBalance => "initial_balance", PreviousDayBalance => "previous_day_balance", HigherOfEquityAndBalance => "higher_of_equity_and_balance" }
);
string_enum!(
    /// How the maximum (total) loss floor moves: `static` = initial balance − limit;
    /// `trailing` = highest end-of-day balance − limit, never decreasing; `trailing_then_locked`
    /// = trailing until the floor reaches the initial balance, then fixed there.
    MaxLossMode { Static => "static", Trailing => "trailing", TrailingThenLocked => "trailing_then_locked" }
);
string_enum!(
    /// What a breach of the daily limit does: `pause` = close-only (in drawdown) until the next
    /// reset; `terminate` = the account is terminated (a firm's hard rule).
    BreachAction { Pause => "pause", Terminate => "terminate" }
);
string_enum!(
    /// A chart timeframe the account may trade on.
    Timeframe { M1 => "M1", M5 => "M5", M15 => "M15", M30 => "M30", H1 => "H1", H4 => "H4", D1 => "D1", W1 => "W1", MN1 => "MN1" }
);
string_enum!(
    /// A stored secret field of an account.
    CredentialField { ApiKey => "api_key", ApiSecret => "api_secret" }
);

/// Prop-firm drawdown and target rules, in percent of the starting balance. Exact decimals
/// (strings over IPC, TEXT in the store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PropFirmRules {
    pub preset: PropFirmPreset,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub max_daily_loss_pct: Option<Decimal>,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub max_total_loss_pct: Option<Decimal>,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub profit_target_pct: Option<Decimal>,
    /// The account's starting balance the percentages refer to. Unset: the first balance
    /// Brokerdesk sees for the account is taken (and shown as such).
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub initial_balance: Option<Decimal>,
    #[serde(default = "default_daily_base")]
    pub daily_base: DailyBase,
    /// `HH:MM` in `reset_timezone`: when the firm's trading day starts.
    #[serde(default = "default_reset_time")]
    pub reset_time: String,
    /// IANA time zone of the daily reset (FTMO: `Europe/Prague`).
    #[serde(default = "default_reset_timezone")]
    pub reset_timezone: String,
    #[serde(default = "default_max_loss_mode")]
    pub max_loss_mode: MaxLossMode,
    /// Brokerdesk's response to the daily limit (the firm's own rule for presets).
    #[serde(default = "default_breach_action")]
    pub daily_breach: BreachAction,
    /// Act at this percentage of a limit (e.g. 90), before the firm's own limit is reached:
    /// the daily budget then pauses the account for the day, the total budget suspends it.
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub safety_buffer_pct: Option<Decimal>,
    /// On a breach, cancel the account's open orders and close its positions.
    #[serde(default = "default_true")]
    pub close_on_breach: bool,
    /// Notify when this much of a budget is used (percent, ascending).
    #[serde(default = "default_warn_levels")]
    pub warn_levels: Vec<u8>,
}

fn default_daily_base() -> DailyBase {
    DailyBase::InitialBalance
}
pub(crate) fn default_reset_time() -> String {
    "00:00".into()
}
pub(crate) fn default_reset_timezone() -> String {
    "UTC".into()
}
fn default_max_loss_mode() -> MaxLossMode {
    MaxLossMode::Static
}
fn default_breach_action() -> BreachAction {
    BreachAction::Pause
}
fn default_true() -> bool {
    true
}
pub(crate) fn default_warn_levels() -> Vec<u8> {
    vec![50, 80, 95]
}

impl Default for PropFirmRules {
    fn default() -> Self {
        Self {
            preset: PropFirmPreset::None,
            max_daily_loss_pct: None,
            max_total_loss_pct: None,
            profit_target_pct: None,
            initial_balance: None,
            daily_base: default_daily_base(),
            reset_time: default_reset_time(),
            reset_timezone: default_reset_timezone(),
            max_loss_mode: default_max_loss_mode(),
            daily_breach: default_breach_action(),
            safety_buffer_pct: None,
            close_on_breach: true,
            warn_levels: default_warn_levels(),
        }
    }
}

/// Pre-trade risk limits. `None` means no limit. Exact decimals (strings over IPC, TEXT in the
/// store).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RiskLimits {
    /// Largest position as a percentage of equity.
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub max_position_size_pct: Option<Decimal>,
    pub max_open_positions: Option<u32>,
    /// Largest order size in lots (FX) or shares/contracts.
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub max_qty: Option<Decimal>,
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub max_leverage: Option<Decimal>,
    pub require_stop_loss: bool,
    /// Highest allowed correlation (0–1) between open positions. Not enforced: Brokerdesk
    /// has no price history to measure correlation with (the form says so).
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub max_correlation: Option<Decimal>,
    /// Largest loss one order may risk, entry to stop-loss, as a percentage of equity.
    #[serde(default, with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub max_risk_per_trade_pct: Option<Decimal>,
    /// The only instruments orders may be placed in; empty = any.
    #[serde(default)]
    pub allowed_instruments: Vec<String>,
}

/// The daily window in which trading is allowed, in a named time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TradingHours {
    /// `HH:MM`, 24-hour.
    pub start: String,
    /// `HH:MM`, 24-hour; earlier than `start` means the window crosses midnight.
    pub end: String,
    /// IANA time zone, e.g. `America/New_York`.
    pub timezone: String,
}

/// Which events raise a native notification for this account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NotificationSettings {
    pub connection_lost: bool,
    pub connection_restored: bool,
    pub auth_failure: bool,
    pub order_filled: bool,
    pub risk_breach: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            connection_lost: true,
            connection_restored: true,
            auth_failure: true,
            order_filled: true,
            risk_breach: true,
        }
    }
}

/// A stored credential as the UI may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MaskedCredential {
    pub field: CredentialField,
    pub label: String,
    /// `••••1234` (or `••••` for short secrets); `unreadable` when it cannot be opened.
    pub masked: String,
    /// Why the stored value cannot be opened (tampered or moved), if it cannot.
    pub error: Option<ApiError>,
}

/// The TLS certificate pinned for an account's gateway on this machine (IBKR; see
/// `brokers/pin.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CertificatePin {
    /// SHA-256 of the pinned certificate, `AA:BB:…` (shown as `SHA-256 AA:BB:…`).
    pub sha256: String,
    /// The gateway it belongs to, `host:port`.
    pub origin: String,
    /// When it was pinned (on first use, or trusted by hand); RFC 3339, UTC.
    pub pinned_at: String,
    /// The last certificate the gateway presented instead, refused (the connection failed
    /// with `certificate_changed`); `null` since the pin was set.
    pub refused_sha256: Option<String>,
}

/// One entry of an account's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StatusChange {
    pub status: AccountStatus,
    pub reason: Option<String>,
    /// RFC 3339, UTC.
    pub changed_at: String,
}

/// A configured broker account, as shown to the UI and printed by the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub broker: BrokerKind,
    pub environment: Environment,
    pub broker_account_id: Option<String>,
    pub rest_url: Option<String>,
    pub stream_url: Option<String>,
    pub credentials: Vec<MaskedCredential>,
    pub prop_firm: PropFirmRules,
    pub risk: RiskLimits,
    pub instruments: Vec<String>,
    pub timeframes: Vec<Timeframe>,
    pub trading_hours: Option<TradingHours>,
    pub weekend_trading: bool,
    pub notifications: NotificationSettings,
    pub status: AccountStatus,
    pub status_history: Vec<StatusChange>,
    pub mode: TradingMode,
    /// The gateway certificate pinned for this account (IBKR's gateway on this machine over
    /// https); `null` until the first connection, and for every other broker.
    pub tls_pin: Option<CertificatePin>,
    pub created_at: String,
    pub updated_at: String,
    /// Set when the stored security state (mode, status, endpoints, rules) does not match
    /// its tag: it was changed outside Brokerdesk. The account is then shown in paper mode
    /// and suspended, and nothing opens its credentials until it is saved again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub integrity: Option<crate::error::ApiError>,
}

/// Credentials as typed by the user. On update, `None` keeps the stored value.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CredentialsInput {
    #[ts(as = "Option<String>")]
    #[serde(default)]
    pub api_key: Option<Secret>,
    #[ts(as = "Option<String>")]
    #[serde(default)]
    pub api_secret: Option<Secret>,
}

impl CredentialsInput {
    /// Returns the value typed for a field.
    pub fn get(&self, field: CredentialField) -> Option<&Secret> {
        match field {
            CredentialField::ApiKey => self.api_key.as_ref(),
            CredentialField::ApiSecret => self.api_secret.as_ref(),
        }
    }
}

/// Everything a user sets on an account (add, and edit as a full replacement).
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AccountInput {
    pub name: String,
    pub broker: BrokerKind,
    pub environment: Environment,
    #[serde(default)]
    pub broker_account_id: Option<String>,
    #[serde(default)]
    pub rest_url: Option<String>,
    #[serde(default)]
    pub stream_url: Option<String>,
    #[serde(default)]
    pub credentials: CredentialsInput,
    #[serde(default)]
    pub prop_firm: PropFirmRules,
    #[serde(default)]
    pub risk: RiskLimits,
    #[serde(default)]
    pub instruments: Vec<String>,
    #[serde(default)]
    pub timeframes: Vec<Timeframe>,
    #[serde(default)]
    pub trading_hours: Option<TradingHours>,
    #[serde(default)]
    pub weekend_trading: bool,
    #[serde(default)]
    pub notifications: NotificationSettings,
    #[serde(default = "default_status")]
    pub status: AccountStatus,
    /// Why the status changes; recorded in the history only when `status` differs from the
    /// stored one (or on creation).
    #[serde(default)]
    pub status_reason: Option<String>,
}

fn default_status() -> AccountStatus {
    AccountStatus::Active
}

impl AccountInput {
    /// Returns an input with defaults for everything but the identity fields.
    pub fn new(name: impl Into<String>, broker: BrokerKind, environment: Environment) -> Self {
        Self {
            name: name.into(),
            broker,
            environment,
            broker_account_id: None,
            rest_url: None,
            stream_url: None,
            credentials: CredentialsInput::default(),
            prop_firm: PropFirmRules::default(),
            risk: RiskLimits::default(),
            instruments: Vec::new(),
            timeframes: Vec::new(),
            trading_hours: None,
            weekend_trading: true,
            notifications: NotificationSettings::default(),
            status: AccountStatus::Active,
            status_reason: None,
        }
    }

    /// Returns the input that reproduces an existing account (credentials left unchanged).
    pub fn from_account(a: &Account) -> Self {
        Self {
            name: a.name.clone(),
            broker: a.broker,
            environment: a.environment,
            broker_account_id: a.broker_account_id.clone(),
            rest_url: a.rest_url.clone(),
            stream_url: a.stream_url.clone(),
            credentials: CredentialsInput::default(),
            prop_firm: a.prop_firm.clone(),
            risk: a.risk.clone(),
            instruments: a.instruments.clone(),
            timeframes: a.timeframes.clone(),
            trading_hours: a.trading_hours.clone(),
            weekend_trading: a.weekend_trading,
            notifications: a.notifications.clone(),
            status: a.status,
            status_reason: None,
        }
    }
}
