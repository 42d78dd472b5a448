//! Exporting a profile's configuration (issue 12, part 1): every account's settings, rules,
//! limits and watchlist, and the app settings, as a documented, versioned JSON or YAML
//! document ([`ProfileExport`], described in `docs/export-format.md`) to move to a new
//! machine or to review. Credentials are not exported by default: each stored field is
//! listed as `"not exported"`. With credentials (`export --with-credentials`: a step-up and a
//! passphrase), each field reads `"sealed"` and every exported account's credentials travel
//! in one [`SealedCredentials`] block, sealed with the passphrase ([`crate::seal`]) and bound
//! to the document's lineage and serial. Reading such a document back is `crate::import`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::accounts::model::{
    Account, AccountStatus, BrokerKind, Environment, NotificationSettings, PropFirmRules,
    RiskLimits, Timeframe, TradingHours,
};
use crate::settings::AppSettings;

/// The version of the export format this Brokerdesk writes.
pub const SCHEMA_VERSION: u32 = 1;

/// What a stored credential field says in an export.
pub const NOT_EXPORTED: &str = "not exported";

/// What a credential field says when its value travels in the sealed block.
pub const SEALED: &str = "sealed";

/// The sealed block's associated data: what it is bound to (a block moved into another
/// document does not open).
pub fn credentials_aad(lineage: &str, serial: u64) -> Vec<u8> {
    format!("brokerdesk/export/credentials/v1\n{lineage}\n{serial}").into_bytes()
}

/// Every exported account's credentials, sealed with a passphrase. The plaintext is a JSON
/// object: account name → credential field (`api_key`, `api_secret`) → value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct SealedCredentials {
    /// How to derive the key from the passphrase (Argon2id parameters, salt, key check value).
    #[ts(type = "{ kdf: string, mKib: number, t: number, p: number, salt: string, kcv: string }")]
    pub key: crate::seal::KeySpec,
    /// Base64 of nonce ‖ XChaCha20-Poly1305 ciphertext and tag.
    pub sealed: String,
}

/// The format of an export file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ExportFormat {
    Json,
    Yaml,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Yaml => "yaml",
        }
    }
}

/// A profile's configuration, as exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct ProfileExport {
    /// The format's version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The Brokerdesk that wrote it.
    pub app_version: String,
    /// RFC 3339, UTC.
    pub exported_at: String,
    /// The profile it came from (its vault id: the same for every export of one profile).
    pub lineage: String,
    /// Grows by one with every export of that profile.
    pub serial: u64,
    pub settings: AppSettings,
    pub accounts: Vec<ExportedAccount>,
    /// Present only in an export made with credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub credentials: Option<SealedCredentials>,
}

/// One account's configuration. Its mode is not exported: an imported account starts in
/// paper mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct ExportedAccount {
    pub name: String,
    pub broker: BrokerKind,
    pub environment: Environment,
    pub broker_account_id: Option<String>,
    pub rest_url: Option<String>,
    pub stream_url: Option<String>,
    /// Each stored credential field (`api_key`, `api_secret`) → `"not exported"`, or
    /// `"sealed"` when its value is in the document's sealed block.
    pub credentials: BTreeMap<String, String>,
    pub prop_firm: PropFirmRules,
    pub risk: RiskLimits,
    pub instruments: Vec<String>,
    pub timeframes: Vec<Timeframe>,
    pub trading_hours: Option<TradingHours>,
    pub weekend_trading: bool,
    pub notifications: NotificationSettings,
    pub status: AccountStatus,
}

impl ExportedAccount {
    /// The account's configuration with its credential fields marked as `"sealed"`.
    pub fn of_sealed(a: &Account) -> Self {
        let mut me = Self::of(a);
        for v in me.credentials.values_mut() {
            *v = SEALED.to_string();
        }
        me
    }

    pub fn of(a: &Account) -> Self {
        Self {
            name: a.name.clone(),
            broker: a.broker,
            environment: a.environment,
            broker_account_id: a.broker_account_id.clone(),
            rest_url: a.rest_url.clone(),
            stream_url: a.stream_url.clone(),
            credentials: a
                .credentials
                .iter()
                .map(|c| (c.field.as_str().to_string(), NOT_EXPORTED.to_string()))
                .collect(),
            prop_firm: a.prop_firm.clone(),
            risk: a.risk.clone(),
            instruments: a.instruments.clone(),
            timeframes: a.timeframes.clone(),
            trading_hours: a.trading_hours.clone(),
            weekend_trading: a.weekend_trading,
            notifications: a.notifications.clone(),
            status: a.status,
        }
    }
}

impl ExportedAccount {
    /// The account's settings as an edit would give them (no credential: stored ones stay).
    pub fn into_input(self) -> crate::accounts::model::AccountInput {
        let mut input =
            crate::accounts::model::AccountInput::new(self.name, self.broker, self.environment);
        input.broker_account_id = self.broker_account_id;
        input.rest_url = self.rest_url;
        input.stream_url = self.stream_url;
        input.prop_firm = self.prop_firm;
        input.risk = self.risk;
        input.instruments = self.instruments;
        input.timeframes = self.timeframes;
        input.trading_hours = self.trading_hours;
        input.weekend_trading = self.weekend_trading;
        input.notifications = self.notifications;
        input.status = self.status;
        input
    }
}

/// Writes `doc` in `format` (JSON pretty-printed; YAML as a block document).
pub fn render(doc: &ProfileExport, format: ExportFormat) -> Result<String, String> {
    match format {
        ExportFormat::Json => serde_json::to_string_pretty(doc)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| e.to_string()),
        ExportFormat::Yaml => serde_norway::to_string(doc).map_err(|e| e.to_string()),
    }
}
