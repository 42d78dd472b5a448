//! The error shape that crosses process boundaries (Tauri IPC, the development server, the
//! CLI's `--json`), and the closed set of codes it carries.
//!
//! Every module has its own `thiserror` enum; each implements [`ErrorCode`] so it maps to one
//! [`Code`] plus a human message. [`Code`] is the only place a code is named: it serializes
//! as the stable snake_case string (`step_up_required`), knows the CLI exit class it belongs
//! to and whether retrying can help, and is exported to TypeScript (`ui/src/bindings/codes.ts`)
//! so the UI compares against generated constants, never against free strings.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How the CLI exits for a code (`brokerdesk --help` documents the classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExitClass {
    /// Exit 1: a runtime, storage or network failure.
    Runtime,
    /// Exit 2: the command line itself is wrong.
    Usage,
    /// Exit 3: invalid input, or a state that conflicts with the request.
    Invalid,
    /// Exit 4: the thing asked for does not exist.
    NotFound,
    /// Exit 5: authentication, the vault's lock or a two-factor check.
    Auth,
}

impl ExitClass {
    /// Returns the process exit code of this class.
    pub fn exit_code(self) -> u8 {
        match self {
            ExitClass::Runtime => 1,
            ExitClass::Usage => 2,
            ExitClass::Invalid => 3,
            ExitClass::NotFound => 4,
            ExitClass::Auth => 5,
        }
    }
}

/// Declares [`Code`] once: variant, wire string, exit class, and whether retrying can help.
macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $wire:literal, $class:ident, $retry:literal; )*) => {
        /// Every error code Brokerdesk reports, anywhere. A closed set: adding one is a change
        /// here, which the generated TypeScript and the CLI's exit classes follow.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
        #[serde(rename_all = "snake_case")]
        #[ts(export)]
        pub enum Code {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// Returns the stable wire string (`step_up_required`).
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $wire,)* }
            }

            /// Returns the CLI exit class.
            pub fn exit_class(self) -> ExitClass {
                match self { $(Code::$variant => ExitClass::$class,)* }
            }

            /// Returns true when trying the same thing again later, unchanged, can succeed.
            pub fn retryable(self) -> bool {
                match self { $(Code::$variant => $retry,)* }
            }

            /// Returns the PascalCase name (the generated TypeScript constant's key).
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => stringify!($variant),)* }
            }
        }
    };
}

codes! {
    // Input and usage.
    /// The command line is wrong (unknown flag or value).
    Usage = "usage", Usage, false;
    /// Some input fields are invalid; `fields` says which.
    Validation = "validation", Invalid, false;
    DuplicateName = "duplicate_name", Invalid, false;
    Ambiguous = "ambiguous", Invalid, false;
    NotFound = "not_found", NotFound, false;
    /// The user answered "no" to a confirmation.
    Cancelled = "cancelled", Runtime, false;

    // Profile, store and vault.
    NoDataDir = "no_data_dir", Runtime, false;
    DataDir = "data_dir", Runtime, false;
    NotInitialized = "not_initialized", NotFound, false;
    AlreadyInitialized = "already_initialized", Invalid, false;
    NewerSchema = "newer_schema", Runtime, false;
    MigrationFailed = "migration_failed", Runtime, false;
    DiskFull = "disk_full", Runtime, false;
    /// Another Brokerdesk process holds the write lock right now.
    Busy = "busy", Runtime, true;
    CorruptDatabase = "corrupt_database", Runtime, false;
    Storage = "storage", Runtime, false;
    Io = "io", Runtime, false;
    Locked = "locked", Auth, false;
    WrongPassword = "wrong_password", Auth, false;
    PasswordMissing = "password_missing", Auth, false;
    PasswordRequired = "password_required", Auth, false;
    WeakPassword = "weak_password", Invalid, false;
    NoMasterPassword = "no_master_password", Invalid, false;
    KeychainKeyMissing = "keychain_key_missing", Auth, false;
    KeychainKeyMismatch = "keychain_key_mismatch", Auth, false;
    KeychainUnavailable = "keychain_unavailable", Auth, true;
    KeychainFailed = "keychain_failed", Auth, true;
    CiphertextTampered = "ciphertext_tampered", Runtime, false;
    CiphertextMisbound = "ciphertext_misbound", Runtime, false;
    /// Another process rotated the key or changed the password: reopen.
    VaultChanged = "vault_changed", Runtime, false;
    VaultDamaged = "vault_damaged", Runtime, false;
    /// Security state (mode, status, endpoints, rules, 2FA) changed outside Brokerdesk.
    StateTampered = "state_tampered", Runtime, false;
    KdfFailed = "kdf_failed", Runtime, false;
    RandomFailed = "random_failed", Runtime, false;

    /// The profile runs in the safe state (a start-up check failed): no order is sent and no
    /// account connects until the checks pass again; the message names the failing checks.
    SafeMode = "safe_mode", Invalid, false;

    // Two-factor authentication and the audit log.
    TwofaNotEnabled = "twofa_not_enabled", Invalid, false;
    TwofaAlreadyEnabled = "twofa_already_enabled", Invalid, false;
    TwofaNotSetUp = "twofa_not_set_up", Invalid, false;
    WrongCode = "wrong_code", Auth, false;
    CodeReplayed = "code_replayed", Auth, false;
    TwofaLockedOut = "twofa_locked_out", Auth, false;
    /// A sensitive change needs a fresh two-factor code.
    StepUpRequired = "step_up_required", Auth, false;
    QrFailed = "qr_failed", Runtime, false;
    AuditTampered = "audit_tampered", Runtime, false;

    // Accounts and trading mode.
    LiveNeedsVerifiedConnection = "live_needs_verified_connection", Invalid, false;
    /// Live trading needs two-factor authentication turned on.
    LiveNeedsTwofa = "live_needs_twofa", Invalid, false;
    /// Only an active account may go live or open positions.
    AccountNotActive = "account_not_active", Invalid, false;
    ChooseBrokerAccount = "choose_broker_account", Invalid, false;
    /// Only a terminated account's credentials are purged on their own.
    AccountNotTerminated = "account_not_terminated", Invalid, false;
    /// The account status cannot change that way (terminated is final).
    IllegalStatusTransition = "illegal_status_transition", Invalid, false;

    // Risk: an order refused by a rule or limit (each names the limit, its value and the
    // order's figure). Cancels are never refused.
    /// The account is terminated: no orders at all.
    RiskAccountTerminated = "risk_account_terminated", Invalid, false;
    /// The account is suspended: no new positions.
    RiskAccountSuspended = "risk_account_suspended", Invalid, false;
    /// The account is in drawdown: close-only until the next reset.
    RiskCloseOnly = "risk_close_only", Invalid, true;
    RiskInstrumentNotAllowed = "risk_instrument_not_allowed", Invalid, false;
    RiskMaxQty = "risk_max_qty", Invalid, false;
    RiskPositionSize = "risk_position_size", Invalid, false;
    RiskMaxPositions = "risk_max_positions", Invalid, false;
    RiskLeverage = "risk_leverage", Invalid, false;
    RiskStopLossRequired = "risk_stop_loss_required", Invalid, false;
    RiskPerTrade = "risk_per_trade", Invalid, false;
    RiskTradingHours = "risk_trading_hours", Invalid, true;
    RiskWeekend = "risk_weekend", Invalid, true;
    /// Today's loss budget is used.
    RiskDailyLoss = "risk_daily_loss", Invalid, true;
    /// The maximum loss budget is used.
    RiskTotalLoss = "risk_total_loss", Invalid, false;
    /// No fresh quote to measure an open position or the order: no new risk.
    RiskNoQuote = "risk_no_quote", Invalid, true;
    VerifyRateLimited = "verify_rate_limited", Runtime, true;

    // Brokers.
    BrokerAuth = "broker_auth", Auth, false;
    BrokerRateLimited = "broker_rate_limited", Runtime, true;
    BrokerUnavailable = "broker_unavailable", Runtime, true;
    BrokerNetwork = "broker_network", Runtime, true;
    BrokerTimeout = "broker_timeout", Runtime, true;
    BrokerProtocol = "broker_protocol", Runtime, false;
    BrokerRejected = "broker_rejected", Invalid, false;
    BrokerNotFound = "broker_not_found", Invalid, false;
    BrokerConfig = "broker_config", Invalid, false;
    BrokerUnsupported = "broker_unsupported", Invalid, false;
    /// A gateway on this machine presented another TLS certificate than the pinned one:
    /// nothing was sent; trust the new one explicitly (`account trust-certificate`).
    CertificateChanged = "certificate_changed", Auth, false;

    // Connections and prices.
    ConnectionUnknownAccount = "connection_unknown_account", NotFound, false;
    StreamUnavailable = "stream_unavailable", Invalid, false;
    StreamUnknownInstrument = "stream_unknown_instrument", Invalid, false;
    SearchUnsupported = "search_unsupported", Invalid, false;

    // Paper trading.
    /// No price is available for the instrument right now.
    NoQuote = "no_quote", Invalid, true;
    /// The order is already filled, cancelled or expired.
    OrderNotOpen = "order_not_open", Invalid, false;
    /// The broker did not answer a cancel: it is queued and retried in the background.
    CancelPending = "cancel_pending", Runtime, false;
    /// The order cannot be changed: a market order, or a broker that cannot change orders
    /// (cancel it and place a new one).
    NotModifiable = "not_modifiable", Invalid, false;
    /// The broker did not answer a change made in place: the order is read back, and shows
    /// whichever terms the broker has.
    ModifyUnknown = "modify_unknown", Runtime, false;
    /// An amount cannot be converted to the account currency: no rate for the pair.
    NoConversionRate = "no_conversion_rate", Invalid, true;

    // Configuration import (and sealed credentials in an export).
    /// The file is larger than an import accepts (checked before it is read as a document).
    ImportTooLarge = "import_too_large", Invalid, false;
    /// The file cannot be read as a document: not UTF-8, not JSON or YAML, truncated, nested
    /// too deep, or expanding to too many values (YAML aliases).
    ImportUnreadable = "import_unreadable", Invalid, false;
    /// The document is not a valid configuration: every problem is in `fields`, by path.
    ImportInvalid = "import_invalid", Invalid, false;
    /// The document's `schemaVersion` is unknown or newer than this Brokerdesk reads.
    ImportUnsupportedVersion = "import_unsupported_version", Invalid, false;
    /// Accounts in the file have the names of existing ones and no conflict handling was chosen.
    ImportConflict = "import_conflict", Invalid, false;
    /// The sealed credentials in the file are damaged or were moved from another export.
    ImportDamaged = "import_damaged", Invalid, false;
    /// The file carries sealed credentials and no passphrase was given to open them.
    PassphraseRequired = "passphrase_required", Auth, false;
    /// The passphrase does not open the sealed file.
    WrongPassphrase = "wrong_passphrase", Auth, false;

    // The app shell and the CLI.
    ShuttingDown = "shutting_down", Runtime, false;
    ExportFailed = "export_failed", Runtime, false;

    // Backups.
    /// No backup passphrase is set yet, so no backup can be sealed.
    BackupNotSetUp = "backup_not_set_up", Invalid, false;
    /// The file is not a Brokerdesk backup, or it is truncated, edited or corrupted.
    BackupDamaged = "backup_damaged", Invalid, false;
    /// The backup could not be written (its folder, the disk).
    BackupFailed = "backup_failed", Runtime, true;
    /// Another Brokerdesk process (the app, a command) has the profile open.
    ProfileInUse = "profile_in_use", Runtime, true;
    NotificationFailed = "notification_failed", Runtime, true;
    ClipboardFailed = "clipboard_failed", Runtime, true;
    /// Starting at login could not be read or changed (the OS's autostart entry).
    AutostartFailed = "autostart_failed", Runtime, true;
    /// The async runtime could not start.
    Runtime = "runtime", Runtime, false;
    /// A bug: something that should not happen did.
    Internal = "internal", Runtime, false;
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with one input field (a closed set, like [`Code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FieldCode {
    Required,
    Invalid,
    OutOfRange,
    TooLong,
    TooMany,
    Duplicate,
    Whitespace,
    Inconsistent,
    Immutable,
    NotApplicable,
    Unsupported,
    EmptyWindow,
    ChooseBrokerAccount,
    NotAllowed,
    TooPrecise,
    WrongSide,
}

impl FieldCode {
    /// Returns the stable wire string (`out_of_range`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldCode::Required => "required",
            FieldCode::Invalid => "invalid",
            FieldCode::OutOfRange => "out_of_range",
            FieldCode::TooLong => "too_long",
            FieldCode::TooMany => "too_many",
            FieldCode::Duplicate => "duplicate",
            FieldCode::Whitespace => "whitespace",
            FieldCode::Inconsistent => "inconsistent",
            FieldCode::Immutable => "immutable",
            FieldCode::NotApplicable => "not_applicable",
            FieldCode::Unsupported => "unsupported",
            FieldCode::EmptyWindow => "empty_window",
            FieldCode::ChooseBrokerAccount => "choose_broker_account",
            FieldCode::NotAllowed => "not_allowed",
            FieldCode::TooPrecise => "too_precise",
            FieldCode::WrongSide => "wrong_side",
        }
    }

    /// Every field code, in declaration order.
    pub const ALL: &'static [FieldCode] = &[
        FieldCode::Required,
        FieldCode::Invalid,
        FieldCode::OutOfRange,
        FieldCode::TooLong,
        FieldCode::TooMany,
        FieldCode::Duplicate,
        FieldCode::Whitespace,
        FieldCode::Inconsistent,
        FieldCode::Immutable,
        FieldCode::NotApplicable,
        FieldCode::Unsupported,
        FieldCode::EmptyWindow,
        FieldCode::ChooseBrokerAccount,
        FieldCode::NotAllowed,
        FieldCode::TooPrecise,
        FieldCode::WrongSide,
    ];
}

/// One invalid input field, addressed by its path in the input (`name`, `credentials.apiKey`,
/// `risk.maxLeverage`, `instruments`, `tradingHours.start`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FieldError {
    pub field: String,
    pub code: FieldCode,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// The serializable error every command returns: a stable `code`, a human `message`, and the
/// per-field problems when the input was invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub fields: Vec<FieldError>,
}

/// The most characters an error message keeps (see [`ApiError::new`]).
pub const MAX_MESSAGE: usize = 2_000;

impl ApiError {
    /// Returns an error with no field details.
    /// A new error. The message is bounded ([`MAX_MESSAGE`] characters): it may quote a
    /// broker, and it crosses IPC, lands in logs and is printed by the CLI.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        let message = message.into();
        let message = if message.len() > MAX_MESSAGE {
            crate::text::cap(&message, MAX_MESSAGE)
        } else {
            message
        };
        Self {
            code,
            message,
            fields: Vec::new(),
        }
    }

    /// Returns a `validation` error for `fields`, its message the first field's.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields
            .first()
            .map(|f| f.message.clone())
            .unwrap_or_else(|| "invalid input".to_string());
        Self {
            code: Code::Validation,
            message,
            fields,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)?;
        for fe in &self.fields {
            write!(f, "\n  {}: {}", fe.field, fe.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Maps a module error to its [`Code`].
pub trait ErrorCode: std::error::Error {
    /// Returns the stable code.
    fn code(&self) -> Code;

    /// Returns the per-field problems, if this is a validation error.
    fn fields(&self) -> Vec<FieldError> {
        Vec::new()
    }

    /// Converts into the serializable shape.
    fn to_api_error(&self) -> ApiError {
        ApiError {
            code: self.code(),
            message: self.to_string(),
            fields: self.fields(),
        }
    }
}

/// Writes `codes.ts`: the codes as constants (`Code.StepUpRequired`), with each one's exit
/// class and whether retrying helps. Called by the binding export test.
pub fn typescript_codes() -> String {
    let mut out = String::from(
        "// Generated from src-tauri/core/src/error.rs by `cargo test -p brokerdesk-core export_bindings`. Do not edit.\n\
         import type { Code as CodeName } from \"./Code\";\n\
         import type { ExitClass } from \"./ExitClass\";\n\
         import type { FieldCode as FieldCodeName } from \"./FieldCode\";\n\n\
         /** Every error code, by name: compare `error.code === Code.StepUpRequired`. */\n\
         export const Code = {\n",
    );
    for c in Code::ALL {
        out.push_str(&format!("  {}: \"{}\",\n", c.name(), c.as_str()));
    }
    out.push_str("} as const satisfies Record<string, CodeName>;\n\n");
    out.push_str(
        "/** What each code means for a caller: the CLI's exit class and whether retrying later can help. */\n\
         export const CODE_INFO: Record<CodeName, { exitClass: ExitClass; retryable: boolean }> = {\n",
    );
    for c in Code::ALL {
        let class = serde_json::to_string(&c.exit_class()).unwrap_or_default();
        out.push_str(&format!(
            "  {}: {{ exitClass: {class}, retryable: {} }},\n",
            c.as_str(),
            c.retryable()
        ));
    }
    out.push_str("};\n\n/** Every field code, by name. */\nexport const FieldCode = {\n");
    for f in FieldCode::ALL {
        let wire = serde_json::to_string(f).unwrap_or_default();
        let name = format!("{f:?}");
        out.push_str(&format!("  {name}: {wire},\n"));
    }
    out.push_str("} as const satisfies Record<string, FieldCodeName>;\n");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {

    #[test]
    fn error_messages_and_broker_texts_are_bounded() {
        let huge = "x".repeat(6 * 1024 * 1024);
        let e = ApiError::new(Code::BrokerRejected, huge.clone());
        assert_eq!(
            e.message.chars().count(),
            MAX_MESSAGE + 1,
            "cut, with its mark"
        );
        assert!(e.message.ends_with('…'));
        let b = crate::brokers::BrokerError::Rejected {
            status: 400,
            code: "X".into(),
            message: huge,
        };
        assert!(b.text().chars().count() <= crate::text::MAX_EXTERNAL_TEXT + 1);
        assert_eq!(ApiError::new(Code::Io, "short").message, "short");
    }
    use super::*;

    #[test]
    fn an_error_crosses_ipc_as_code_message_fields() {
        let e = ApiError {
            code: Code::Validation,
            message: "the name is required".into(),
            fields: vec![FieldError::new(
                "name",
                FieldCode::Required,
                "the name is required",
            )],
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":"validation","message":"the name is required","fields":[{"field":"name","code":"required","message":"the name is required"}]}"#
        );
        let e = ApiError::new(Code::StepUpRequired, "this change needs a fresh code");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": "step_up_required", "message": "this change needs a fresh code", "fields": []})
        );
    }

    #[test]
    fn every_code_serializes_as_its_wire_string_and_back() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Code>(&json).unwrap(), *c);
            assert!(seen.insert(c.as_str()), "{c} twice");
        }
    }

    #[test]
    fn every_field_code_serializes_as_its_wire_string() {
        for c in FieldCode::ALL {
            assert_eq!(
                serde_json::to_string(c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
    }

    #[test]
    fn exit_classes_follow_the_documented_table() {
        assert_eq!(Code::Usage.exit_class().exit_code(), 2);
        assert_eq!(Code::Validation.exit_class().exit_code(), 3);
        assert_eq!(Code::NotFound.exit_class().exit_code(), 4);
        assert_eq!(Code::StepUpRequired.exit_class().exit_code(), 5);
        assert_eq!(Code::Storage.exit_class().exit_code(), 1);
        assert!(Code::BrokerTimeout.retryable());
        assert!(!Code::BrokerAuth.retryable());
    }
}
