//! What each broker needs: environments and their default endpoints, credential fields, and
//! the account-id field. The UI builds its forms from this, so nothing is duplicated in
//! TypeScript. Hosts follow the brokers' documentation (see each connector's
//! `brokers/<broker>/PROTOCOL.md`).

use serde::Serialize;
use ts_rs::TS;

use super::model::{
    BreachAction, BrokerKind, CredentialField, DailyBase, Environment, MaxLossMode, PropFirmPreset,
};
use crate::money::Decimal;

/// One credential field a broker needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CredentialFieldSpec {
    pub field: CredentialField,
    pub label: String,
    pub help: String,
    pub required: bool,
}

/// One environment of a broker, with its default endpoints (`None` for the in-app paper broker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EnvironmentInfo {
    pub environment: Environment,
    pub label: String,
    pub rest_url: Option<String>,
    pub stream_url: Option<String>,
}

/// Everything the UI needs to render a broker's account form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BrokerInfo {
    pub kind: BrokerKind,
    pub label: String,
    pub description: String,
    pub environments: Vec<EnvironmentInfo>,
    pub credential_fields: Vec<CredentialFieldSpec>,
    pub account_id_required: bool,
    pub account_id_label: String,
    pub account_id_placeholder: String,
    pub account_id_help: String,
    /// How an open order is changed at this broker (the paper engine changes in place).
    pub modify_style: crate::brokers::ModifyStyle,
}

/// A prop-firm preset's rules: the firm's published numbers and clock, and where a trader can
/// check them.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PropFirmPresetInfo {
    pub preset: PropFirmPreset,
    pub label: String,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub max_daily_loss_pct: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub max_total_loss_pct: Option<Decimal>,
    #[serde(with = "crate::money::json_opt")]
    #[ts(type = "string | null")]
    pub profit_target_pct: Option<Decimal>,
    pub daily_base: DailyBase,
    pub reset_time: String,
    pub reset_timezone: String,
    pub max_loss_mode: MaxLossMode,
    /// The firm's consequence of reaching the daily limit.
    pub daily_breach: BreachAction,
    /// The rules in one sentence, as the firm states them.
    pub summary: String,
    /// The firm's page that states these rules.
    pub source: Option<String>,
}

fn env(
    environment: Environment,
    label: &str,
    rest: Option<&str>,
    stream: Option<&str>,
) -> EnvironmentInfo {
    EnvironmentInfo {
        environment,
        label: label.to_string(),
        rest_url: rest.map(str::to_string),
        stream_url: stream.map(str::to_string),
    }
}

fn cred(field: CredentialField, label: &str, help: &str) -> CredentialFieldSpec {
    CredentialFieldSpec {
        field,
        label: label.to_string(),
        help: help.to_string(),
        required: true,
    }
}

/// Returns the catalog entry of one broker.
pub fn broker_info(kind: BrokerKind) -> BrokerInfo {
    use CredentialField::{ApiKey, ApiSecret};
    use Environment::{Live, Practice};
    let (label, description, environments, credential_fields, acct): (_, _, _, _, (bool, &str, &str, &str)) = match kind {
        BrokerKind::Paper => (
            "Paper (built in)",
            "Brokerdesk's own paper broker: fills simulated orders against streamed prices. Needs no credentials.",
            vec![env(Practice, "Paper", None, None)],
            vec![],
            (false, "Account ID", "", "Not needed for the built-in paper broker."),
        ),
        BrokerKind::Oanda => (
            "OANDA",
            "Forex and CFDs through the OANDA v20 REST API and its pricing stream.",
            vec![
                env(Practice, "fxTrade Practice", Some("https://api-fxpractice.oanda.com"), Some("https://stream-fxpractice.oanda.com")),
                env(Live, "fxTrade Live", Some("https://api-fxtrade.oanda.com"), Some("https://stream-fxtrade.oanda.com")),
            ],
            vec![cred(ApiKey, "API access token", "A personal access token from OANDA's hub (Manage API Access). Practice and live tokens are separate.")],
            (false, "v20 account ID", "101-004-1234567-001", "Leave empty to pick one of the token's accounts once connected."),
        ),
        BrokerKind::Alpaca => (
            "Alpaca",
            "US stocks and ETFs through Alpaca's Trading API v2 and market-data stream.",
            vec![
                env(Practice, "Paper trading", Some("https://paper-api.alpaca.markets"), Some("wss://stream.data.alpaca.markets/v2/iex")),
                env(Live, "Live trading", Some("https://api.alpaca.markets"), Some("wss://stream.data.alpaca.markets/v2/iex")),
            ],
            vec![
                cred(ApiKey, "API key ID", "From Alpaca's dashboard (API Keys). Paper and live keys are separate."),
                cred(ApiSecret, "API secret key", "Shown once by Alpaca when the key is created."),
            ],
            (false, "Account number", "PA1234567890", "Optional: one Alpaca key belongs to exactly one account."),
        ),
        BrokerKind::Tradier => (
            "Tradier",
            "US stocks and options through Tradier's brokerage API.",
            vec![
                env(Practice, "Sandbox (delayed data)", Some("https://sandbox.tradier.com/v1"), Some("wss://ws.tradier.com/v1/markets/events")),
                env(Live, "Production", Some("https://api.tradier.com/v1"), Some("wss://ws.tradier.com/v1/markets/events")),
            ],
            vec![cred(ApiKey, "Access token", "From Tradier's dashboard (API Access). The sandbox has its own token.")],
            (true, "Account number", "VA12345678", "Your Tradier account number, as shown in the dashboard."),
        ),
        BrokerKind::Tastytrade => (
            "Tastytrade",
            "US stocks, options and futures through Tastytrade's Open API (OAuth2).",
            vec![
                env(Practice, "Sandbox (cert)", Some("https://api.cert.tastyworks.com"), Some("wss://streamer.cert.tastyworks.com")),
                env(Live, "Production", Some("https://api.tastyworks.com"), Some("wss://streamer.tastyworks.com")),
            ],
            vec![
                cred(ApiKey, "Refresh token", "From your OAuth application at my.tastytrade.com (it does not expire)."),
                cred(ApiSecret, "Client secret", "Your OAuth application's client secret."),
            ],
            (false, "Account number", "5WT00001", "Optional: leave empty to choose once connected."),
        ),
        BrokerKind::Ibkr => (
            "Interactive Brokers",
            "IBKR through the Client Portal Web API gateway running on this machine; you log in at the gateway, Brokerdesk stores no IBKR password.",
            vec![
                env(Practice, "Paper account (paper login)", Some("https://localhost:5000/v1/api"), Some("wss://localhost:5000/v1/api/ws")),
                env(Live, "Live account", Some("https://localhost:5000/v1/api"), Some("wss://localhost:5000/v1/api/ws")),
            ],
            vec![],
            (true, "Account ID", "DU1234567", "Paper accounts start with DU; live ones with U."),
        ),
    };
    BrokerInfo {
        kind,
        label: label.to_string(),
        description: description.to_string(),
        environments,
        credential_fields,
        account_id_required: acct.0,
        account_id_label: acct.1.to_string(),
        account_id_placeholder: acct.2.to_string(),
        account_id_help: acct.3.to_string(),
        modify_style: modify_style(kind),
    }
}

/// How each broker changes an open order; the connectors say the same
/// (`Broker::modify_style`, checked by a test).
pub fn modify_style(kind: BrokerKind) -> crate::brokers::ModifyStyle {
    use crate::brokers::ModifyStyle::{InPlace, Replace};
    match kind {
        BrokerKind::Paper | BrokerKind::Tradier | BrokerKind::Ibkr => InPlace,
        BrokerKind::Oanda | BrokerKind::Alpaca | BrokerKind::Tastytrade => Replace,
    }
}

/// Returns every broker's catalog entry.
pub fn broker_catalog() -> Vec<BrokerInfo> {
    BrokerKind::ALL.iter().map(|k| broker_info(*k)).collect()
}

/// Returns the prop-firm presets: each firm's published rules as of 2026 (the first phase of
/// a challenge). Firms change them: a trader can check each against `source`, and changing a
/// firm's number or clock makes the rule set custom.
pub fn prop_firm_presets() -> Vec<PropFirmPresetInfo> {
    let pct = |n: i64| Some(Decimal::from(n));
    #[allow(clippy::too_many_arguments)]
    let p = |preset,
             label: &str,
             (daily, total, target): (Option<Decimal>, Option<Decimal>, Option<Decimal>),
             daily_base,
             (reset_time, reset_timezone): (&str, &str),
             max_loss_mode,
             daily_breach,
             summary: &str,
             source: Option<&str>| PropFirmPresetInfo {
        preset,
        label: label.to_string(),
        max_daily_loss_pct: daily,
        max_total_loss_pct: total,
        profit_target_pct: target,
        daily_base,
        reset_time: reset_time.into(),
        reset_timezone: reset_timezone.into(),
        max_loss_mode,
        daily_breach,
        summary: summary.into(),
        source: source.map(str::to_string),
    };
    use BreachAction::{Pause, Terminate};
    use DailyBase::{HigherOfEquityAndBalance, InitialBalance};
    use MaxLossMode::{Static, Trailing};
    vec![
        p(PropFirmPreset::None, "None", (None, None, None), InitialBalance, ("00:00", "UTC"), Static, Pause,
            "No prop-firm rules.", None),
        p(PropFirmPreset::Ftmo, "FTMO 2-Step", (pct(5), pct(10), pct(10)), InitialBalance, ("00:00", "Europe/Prague"), Static, Terminate,
            "Max daily loss: equity may not fall more than 5% of the initial balance below the balance at the previous midnight CE(S)T. Max loss: equity may never fall below 90% of the initial balance.",
            Some("https://academy.ftmo.com/lesson/maximum-daily-loss")),
        p(PropFirmPreset::Ftmo1Step, "FTMO 1-Step", (pct(3), pct(10), pct(10)), InitialBalance, ("00:00", "Europe/Prague"), Trailing, Terminate,
            "Max daily loss: 3% of the initial balance below the balance at the previous midnight CE(S)T. Max loss: the highest end-of-day balance (or the initial balance, if higher) minus 10% of the initial balance, recalculated at midnight CE(S)T; it never decreases.",
            Some("https://ftmo.com/en/trading-objectives/")),
        p(PropFirmPreset::FundedNext, "FundedNext 2-Step", (pct(5), pct(10), pct(8)), InitialBalance, ("00:00", "Europe/Athens"), Static, Terminate,
            "Daily loss: 5% of the initial balance, reset at midnight server time (GMT+2, GMT+3 in summer). Max loss: 10% of the initial balance.",
            Some("https://help.fundednext.com/en/articles/8394309-when-does-the-daily-loss-limit-reset-with-fundednext-cfd")),
        p(PropFirmPreset::FundedNext1Step, "FundedNext 1-Step", (pct(3), pct(6), pct(10)), InitialBalance, ("00:00", "Europe/Athens"), Static, Terminate,
            "Daily loss: 3% of the initial balance, reset at midnight server time (GMT+2, GMT+3 in summer). Max loss: 6% of the initial balance.",
            Some("https://help.fundednext.com/en/articles/8394309-when-does-the-daily-loss-limit-reset-with-fundednext-cfd")),
        p(PropFirmPreset::The5ers, "The5ers High Stakes", (pct(5), pct(10), pct(8)), HigherOfEquityAndBalance, ("17:00", "America/New_York"), Static, Terminate,
            "Daily loss: 5% of the higher of the day's starting equity and balance, reset at 17:00 New York (00:00 server time). Max loss: 10% of the initial balance. Reaching either ends the account.",
            Some("https://help.the5ers.com/what-is-the-maximum-loss-and-the-maximum-daily-loss-in-the-high-stakes-program")),
        p(PropFirmPreset::Custom, "Custom", (None, None, None), InitialBalance, ("00:00", "UTC"), Static, Pause,
            "Every rule set by you.", None),
    ]
}

/// Returns one preset's rules.
pub fn prop_firm_preset(preset: PropFirmPreset) -> PropFirmPresetInfo {
    prop_firm_presets()
        .into_iter()
        .find(|p| p.preset == preset)
        .unwrap_or(PropFirmPresetInfo {
            preset,
            label: preset.to_string(),
            max_daily_loss_pct: None,
            max_total_loss_pct: None,
            profit_target_pct: None,
            daily_base: DailyBase::InitialBalance,
            reset_time: "00:00".into(),
            reset_timezone: "UTC".into(),
            max_loss_mode: MaxLossMode::Static,
            daily_breach: BreachAction::Pause,
            summary: String::new(),
            source: None,
        })
}
