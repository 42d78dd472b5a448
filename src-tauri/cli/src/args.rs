//! The command line, as clap types (value parsers in [`crate::values`]).

use std::path::PathBuf;

use brokerdesk_core::accounts::model::{
    AccountStatus, BreachAction, BrokerKind, DailyBase, Environment, MaxLossMode, PropFirmPreset,
    Timeframe, TradingMode,
};
use brokerdesk_core::audit::AuditEvent;
use brokerdesk_core::{Decimal, Secret};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::values::{
    audit_event_parser, breach_parser, broker_parser, daily_base_parser, env_parser, limit_decimal,
    limit_u32, max_loss_mode_parser, mode_parser, parse_hours, parse_levels, prop_firm_parser,
    secret_parser, status_parser, timeframe_parser, Hours, Levels, Limit,
};

const EXIT_CODES: &str = "\
Master password: the first line of stdin with --password-stdin, else $BROKERDESK_PASSWORD.
Data directory: --data-dir, else $BROKERDESK_DATA_DIR, else the platform default.

Two-factor step-up: once two-factor authentication is on (`brokerdesk twofa`), storing or
changing credentials, removing an account, changing the master password, disabling 2FA,
regenerating backup codes, going live, reactivating an account (`account status ID active`),
loosening its risk rules or limits and trusting a new gateway certificate (`account
trust-certificate`) need a two-factor code: pass --totp CODE to that very
command (a code from the authenticator app or a backup code; `-` reads it from stdin). A code
opens a window in the memory of the process that verified it, never in the profile, so one
command's code serves no other command or process. The emergency actions need none, even
during a lockout: `kill-switch` and `credentials purge`.

Exit codes:
  0  success
  1  runtime or storage error (database, keychain failure, damaged data, audit_tampered,
     qr_failed, io, cancelled, ...)
  2  usage error (unknown flag or value, missing argument)
  3  invalid input or state conflict (validation, duplicate_name, weak_password, ambiguous,
     already_initialized, no_master_password, twofa_not_enabled, twofa_already_enabled,
     twofa_not_set_up, illegal_status_transition), and an order refused by a risk rule or
     limit (risk_max_qty, risk_daily_loss, risk_account_suspended, ... : the human message
     ends with the code in parentheses)
  4  not found (not_found, not_initialized)
  5  authentication or locked vault (wrong_password, locked, password_missing,
     password_required, keychain_*, step_up_required, wrong_code, code_replayed,
     twofa_locked_out, broker_auth, certificate_changed)

With --json, stdout carries exactly one JSON document; errors (usage errors included) are
{\"error\": {\"code\": \"...\", \"message\": \"...\", \"fields\": [...]}}.";

/// brokerdesk: your broker accounts, with credentials encrypted on this machine.
#[derive(Parser)]
#[command(name = "brokerdesk", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    /// Use this data directory (default: $BROKERDESK_DATA_DIR, else the platform's).
    #[arg(long, global = true, value_name = "DIR", display_order = 900)]
    pub data_dir: Option<PathBuf>,
    /// Print one JSON document on stdout (errors too) instead of human output.
    #[arg(long, global = true, display_order = 901)]
    pub json: bool,
    /// Read the master password from the first line of stdin (else $BROKERDESK_PASSWORD).
    #[arg(long, global = true, display_order = 902)]
    pub password_stdin: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create the vault: protected by a master password when one is given (stdin or
    /// $BROKERDESK_PASSWORD), else by the OS keychain.
    Init,
    /// Show the vault's state (needs no password).
    Status,
    /// Show what each broker needs (environments, endpoints, credentials) and the prop-firm presets.
    Brokers,
    /// Add, list, show, edit and remove broker accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Lock the vault, change the master password, rotate the encryption key.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Two-factor authentication (TOTP): set up, turn on and off, verify a code, backup codes.
    #[command(subcommand)]
    Twofa(TwofaCommand),
    /// The audit log of security events: list or export entries, check none was altered.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Stored broker credentials: the emergency purge.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// Settings kept in the profile, shared with the desktop app.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Export the configuration — every account's settings, rules, limits and watchlist, and
    /// the app settings — as JSON or YAML (the format is described in docs/export-format.md).
    /// Credentials are not exported: each stored field is listed as "not exported", unless
    /// --with-credentials seals them with a passphrase. Printed on stdout, or written to a
    /// new file (mode 0600) with --out.
    Export(ExportArgs),
    /// Import a configuration file made by `export` (JSON or YAML): checked strictly first
    /// (every problem reported by its path), then applied all or nothing after a snapshot of
    /// what it replaces. New accounts arrive in paper mode, credentials unverified; accounts
    /// are matched by name. --dry-run shows what would change and changes nothing.
    #[command(after_help = IMPORT_HELP)]
    Import(ImportArgs),
    /// The configuration's history: every change to an account's settings (created, edited,
    /// rolled back) and to the app settings is a numbered version, with who, when and what
    /// changed. Roll back to a version to apply it again as a new edit.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Encrypted backups of the whole profile: set the backup passphrase, back up now, list,
    /// check and restore backups, and the daily schedule (made while the app runs). A backup
    /// is sealed with a key derived from the backup passphrase (Argon2id, XChaCha20-Poly1305);
    /// the passphrase is asked for, never taken from the command line.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Check the profile's health: the database, its schema, the vault, the OS keychain, free
    /// disk space, the logs, the audit log and each account's stored state; with --deep, each
    /// account's broker sign-in too. Prints each check's code, status (ok, skipped, warn,
    /// fail), what was found and what to do; `ok` is false when any check failed.
    Health {
        /// Also sign in at each account's broker (brokers allow a few checks a minute).
        #[arg(long)]
        deep: bool,
    },
    /// Print live prices of an account as they arrive: one JSON line per tick (instrument,
    /// bid, ask, last, sizes, time, receivedAt), or aligned text with --text. Reconnects and
    /// re-subscribes by itself; stops after --count ticks or --seconds, or on Ctrl-C.
    Stream(StreamArgs),
    /// Run Brokerdesk's runtime in this terminal — the same one the desktop app runs: every
    /// account's connections and price streams, kept in step with the profile (changes made
    /// by another process included) — and print its events as JSON lines
    /// (`{"event": "connection-event", "payload": {...}}`). Stops after --count events or
    /// --seconds, or on Ctrl-C.
    Watch(WatchArgs),
    /// Place, list, show and cancel orders; the Needs-review list. Orders of an account in
    /// paper mode (and of the built-in paper broker) are filled by Brokerdesk's paper engine
    /// against the account's own quotes and never reach the broker; in live mode they go to
    /// the broker, their intent stored first and never sent twice.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Open positions: list, close.
    #[command(subcommand)]
    Position(PositionCommand),
    /// The paper account: reset.
    #[command(subcommand)]
    Paper(PaperCommand),
    /// An account's risk: its limits, the daily and total loss budgets (limit, used,
    /// remaining, floor, and the equity at which Brokerdesk acts) measured on its equity now,
    /// and the firm's clock (when the trading day started, the next reset, the zone).
    #[command(subcommand)]
    Risk(RiskCommand),
    /// Stop all trading at once: every account to paper mode and suspended (stored first),
    /// every open order cancelled (live ones at their brokers), and with --flatten every live
    /// position closed at market. Prints what happened to each account, order and position.
    #[command(after_help = "\
Without --yes, asks you to type `yes` when stdin is a terminal; with --json, or without a
terminal (scripts, pipes), --yes is required. Paper positions are left as they are; without
--flatten live positions are too (listed as `open`). Suspended accounts stay suspended until
`brokerdesk account status ID active` (a step-up when two-factor authentication is on).

Exit status: 0 when every order and position was handled; 1 when something failed (the
report, `failures` in --json, says what; failed orders are in `brokerdesk order review`).")]
    KillSwitch {
        /// Also close every live position with a market order.
        #[arg(long)]
        flatten: bool,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Switch an account between paper and live trading. Live needs two-factor
    /// authentication turned on, a fresh step-up (--totp), an active account, and its
    /// credentials accepted by its broker in the last 5 minutes (checked now when older).
    /// Paper is always allowed; it leaves open live orders at the broker (`order cancel`).
    Mode {
        /// Account id, unique id prefix (4+ characters) or name.
        id: String,
        /// The trading mode.
        #[arg(value_parser = mode_parser(), ignore_case = true)]
        mode: TradingMode,
        #[command(flatten)]
        step_up: StepUp,
    },
}

#[derive(Subcommand)]
pub enum RiskCommand {
    /// Show an account's risk now (with --json, the risk report document).
    #[command(after_help = "\
Budgets are measured on equity. `used %` is the loss so far as a share of the limit; `floor`
is the firm's equity floor; `acts at` is the equity at which Brokerdesk acts (the floor, or
earlier with a safety buffer). When the budgets cannot be measured (no money figures, no
fresh quote for an open position) the report says why under `unmeasured`.")]
    Show {
        /// Account id, unique id prefix (4+ characters) or exact name.
        id: String,
    },
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// List versions, newest first: of one account (name or id; a removed account by its
    /// id), of `settings`, or of everything.
    History {
        /// Account, or `settings`.
        of: Option<String>,
    },
    /// Show one version whole: what changed and the whole configuration it became.
    Show {
        #[arg(value_name = "VERSION")]
        number: i64,
    },
    /// Apply a version again, as a new edit (the account keeps its status, mode and stored
    /// credentials). Loosening a rule or moving the endpoints needs the step-up, as any edit.
    #[command(after_help = "Exit status: 4 (not_found) for a version of a removed account.")]
    Rollback {
        #[arg(value_name = "VERSION")]
        number: i64,
        #[command(flatten)]
        step_up: StepUp,
    },
}

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Where backups stand: the passphrase, the schedule, the folder, the last backup.
    Status,
    /// Set or change the backup passphrase (at least 10 characters): typed twice at a hidden
    /// prompt, or the next stdin line. Whoever knows it can open the backups made after, so
    /// it needs the two-factor step-up. If it is lost, the backups made with it cannot be
    /// opened by anyone: keep it somewhere safe, apart from the backups.
    Passphrase {
        #[command(flatten)]
        step_up: StepUp,
    },
    /// Back up now, into the backup folder or to --out (a new file).
    Create {
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// The backups in the backup folder, newest first (read without the passphrase).
    List,
    /// Check a backup completely: its seal, its checksum and SQLite's integrity check of the
    /// profile inside. Uses the kept backup key when the file was made with it; otherwise
    /// asks for the passphrase it was made with (hidden prompt, or the next stdin line).
    Verify {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Restore a backup into the data directory (--data-dir, or the default one), replacing
    /// the profile there; the replaced profile is kept in <data dir>/pre-restore/. Asks for the
    /// backup's passphrase (hidden prompt, or the first stdin line). Close the app first: a
    /// profile that is open elsewhere is refused (profile_in_use). The restored profile opens
    /// with the master password it had when it was backed up.
    #[command(
        after_help = "Exit status: 5 (wrong_passphrase), 3 (backup_damaged: not a backup, truncated or edited), 1 (profile_in_use)."
    )]
    Restore {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
        /// Replace an existing profile without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Show or change the schedule, the folder and the retention.
    Config(BackupConfigArgs),
}

#[derive(Args)]
pub struct BackupConfigArgs {
    /// `daily` (made while the app runs and is unlocked) or `off` (by hand only).
    #[arg(long, value_parser = ["daily", "off"])]
    pub schedule: Option<String>,
    /// The folder (absolute); `default` for <data dir>/backups.
    #[arg(long, value_name = "DIR|default")]
    pub folder: Option<String>,
    /// Scheduled backups kept: the newest of each of this many days (1-365).
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<u32>,
    /// ... and of each of this many weeks (0-520).
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<u32>,
}

#[derive(Args)]
pub struct ExportArgs {
    /// json or yaml.
    #[arg(long, value_enum, default_value = "json")]
    pub format: ExportFormatArg,
    /// Write to this new file (refused if it exists) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Only these accounts (names or ids, comma-separated or repeated).
    #[arg(long = "accounts", value_name = "A,B", value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// Also export the accounts' credentials, sealed with a passphrase (at least 10
    /// characters) asked twice at a hidden prompt, or read from the next two stdin lines;
    /// never on the command line. Needs the two-factor step-up (--totp).
    #[arg(long)]
    pub with_credentials: bool,
    #[command(flatten)]
    pub step_up: StepUp,
}

const IMPORT_HELP: &str = "\
Conflicts: an account in the file whose name an existing account has (with another
configuration) is a conflict. Without --on-conflict the import is refused, listing them
(exit 3, import_conflict); skip leaves the existing account, replace gives it the file's
configuration (it keeps its status and, unless the file brings new ones, its credentials,
and moves to paper mode), rename adds the file's as \"Name (imported)\".

Sealed credentials (a file made with `export --with-credentials`): the passphrase is asked
at a hidden prompt, or read from the next stdin line (after the master password line with
--password-stdin); never on the command line. A wrong one is refused (wrong_passphrase).
Importing credentials, or a configuration that loosens an existing account's risk rules,
needs the two-factor step-up (--totp, read after the passphrase when `-`).

Refused files change nothing: larger than 5 MiB (import_too_large), not UTF-8, not JSON or
YAML, truncated, nested deeper than 16 levels or expanding past 200000 values through YAML
aliases (import_unreadable), a newer or unknown schemaVersion (import_unsupported_version),
unknown fields, wrong types or invalid values (import_invalid, with every field's path).";

#[derive(Args)]
pub struct ImportArgs {
    /// The file to import (`-` reads it from stdin; then no passphrase can be typed).
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
    /// Show what would change, per account and field, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// What to do with accounts whose names exist: skip, replace or rename.
    #[arg(long, value_enum, value_name = "MODE")]
    pub on_conflict: Option<OnConflictArg>,
    /// Apply without asking (a terminal is asked to confirm after the preview).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub step_up: StepUp,
}

/// Conflict handling.
#[derive(Clone, Copy, ValueEnum)]
pub enum OnConflictArg {
    Skip,
    Replace,
    Rename,
}

/// The export's format.
#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    Json,
    Yaml,
}

#[derive(Args)]
pub struct StreamArgs {
    /// Account id, unique id prefix (4+ characters) or exact name.
    pub id: String,
    /// Instruments as the broker names them (EUR_USD for OANDA, AAPL for stock brokers).
    #[arg(required = true, value_name = "SYMBOL")]
    pub symbols: Vec<String>,
    /// Stop after N ticks.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop after S seconds (fractions allowed).
    #[arg(long, value_name = "S")]
    pub seconds: Option<f64>,
    /// Human-readable lines instead of JSON lines.
    #[arg(long)]
    pub text: bool,
}

#[derive(Subcommand)]
pub enum OrderCommand {
    /// Place an order; prints it (id, clientOrderId, brokerOrderId, status, filledQty,
    /// avgFillPrice, mode…). A market order on paper fills on the next fresh quote
    /// (`no_quote` when none comes within 5 s); a live one whose answer never came is
    /// looked up by its client order id before this returns (`unknown` → found, or
    /// `needs_review`).
    Place(Box<PlaceArgs>),
    /// An account's orders, newest first.
    List {
        /// Account id, unique id prefix or name.
        id: String,
        /// Only the working ones (pending, open, partially filled, unknown, needs review).
        #[arg(long)]
        open: bool,
    },
    /// One order with its history and fills.
    Show {
        /// Account id, unique id prefix or name.
        id: String,
        /// Order id (or 8+ character prefix), client order id or broker order id.
        order: String,
    },
    /// Cancel an open order (never refused by a rule: cancelling only reduces risk).
    Cancel {
        /// Account id, unique id prefix or name.
        id: String,
        /// Order id (or 8+ character prefix), client order id or broker order id.
        order: String,
    },
    /// Change an open limit or stop order's quantity or price. Paper orders change in the
    /// paper engine; Tradier and IBKR change the order in place; OANDA, Alpaca and Tastytrade
    /// replace it with a new order (the command prints the replacement). A larger quantity
    /// is checked by the account's rules.
    Modify {
        /// Account id, unique id prefix or name.
        id: String,
        /// Order id (or 8+ character prefix), client order id or broker order id.
        order: String,
        /// The new total quantity.
        #[arg(long)]
        qty: Option<String>,
        /// The new limit price (limit orders) or trigger price (stop orders).
        #[arg(long)]
        price: Option<String>,
    },
    /// The Needs-review list (without a subcommand), or resolve one entry.
    Review {
        #[command(subcommand)]
        action: Option<ReviewCommand>,
    },
}

#[derive(Subcommand)]
pub enum ReviewCommand {
    /// Say what happened to an order Brokerdesk could not find out about: it was placed at
    /// the broker (its order id there), or it was not (nothing is sent again).
    Resolve {
        /// Order id (or 8+ character prefix) or client order id.
        order: String,
        /// It was placed: the broker's order id.
        #[arg(
            long,
            value_name = "BROKER_ID",
            conflicts_with = "not_placed",
            required_unless_present = "not_placed"
        )]
        placed: Option<String>,
        /// It was not placed.
        #[arg(long)]
        not_placed: bool,
    },
}

#[derive(Args)]
pub struct PlaceArgs {
    /// Account id, unique id prefix or name.
    pub id: String,
    /// The instrument as the broker names it (EUR_USD, AAPL).
    #[arg(long)]
    pub symbol: String,
    #[arg(long, value_parser = crate::values::side_parser(), ignore_case = true)]
    pub side: brokerdesk_core::brokers::OrderSide,
    /// Quantity (units for FX, shares for stocks), a plain decimal.
    #[arg(long = "qty", value_name = "Q")]
    pub qty: String,
    #[arg(long = "type", value_parser = crate::values::order_type_parser(), ignore_case = true, default_value = "market")]
    pub order_type: brokerdesk_core::brokers::OrderType,
    /// The limit price (limit orders) or the trigger price (stop orders).
    #[arg(long, value_name = "P")]
    pub price: Option<String>,
    /// A stop-loss attached to the order.
    #[arg(long, value_name = "P")]
    pub stop_loss: Option<String>,
    /// A take-profit attached to the order.
    #[arg(long, value_name = "P")]
    pub take_profit: Option<String>,
    #[arg(long, value_parser = crate::values::tif_parser(), ignore_case = true, default_value = "day")]
    pub tif: brokerdesk_core::trading::TimeInForce,
}

#[derive(Subcommand)]
pub enum PositionCommand {
    /// An account's open positions (and its money).
    List {
        /// Account id, unique id prefix or name.
        id: String,
    },
    /// Close a position with a market order for its whole quantity.
    Close {
        /// Account id, unique id prefix or name.
        id: String,
        symbol: String,
    },
}

#[derive(Subcommand)]
pub enum PaperCommand {
    /// Start a paper account over: open paper orders cancelled, positions gone, cash back to
    /// the starting balance (or --balance).
    Reset {
        /// Account id, unique id prefix or name.
        id: String,
        /// The new starting balance.
        #[arg(long, value_name = "AMOUNT")]
        balance: Option<String>,
        /// Confirm the reset (required with --json or without a terminal; a terminal asks).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Args)]
pub struct WatchArgs {
    /// Stop after N events.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop after S seconds (fractions allowed).
    #[arg(long, value_name = "S")]
    pub seconds: Option<f64>,
}

/// `--totp`, on every command that needs a fresh two-factor step-up.
#[derive(Args)]
pub struct StepUp {
    /// Two-factor code: from the authenticator app, or a single-use backup code (`-` reads it
    /// from stdin). Verified first, for this command only, when two-factor authentication is
    /// on. Without 2FA it is not needed (and ignored).
    #[arg(long, value_name = "CODE", value_parser = secret_parser())]
    pub totp: Option<Secret>,
}

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Add an account. The credentials are checked with the broker first: refused ones are
    /// not saved; when the broker cannot be reached the account is saved unverified, with a
    /// warning (live trading stays locked until `account verify` succeeds).
    #[command(after_help = SECRETS_HELP)]
    Add(Box<AddArgs>),
    /// List every account (credentials masked).
    List,
    /// Show one account.
    Show {
        /// Account id, unique id prefix (4+ characters) or exact name.
        id: String,
    },
    /// Check the account's stored credentials with its broker and show what the broker
    /// reports (account number, type, currency, balance, equity, buying power). At most 5
    /// checks per account per minute. (The built-in paper broker has nothing to check.)
    Verify {
        /// Account id, unique id prefix (4+ characters) or exact name.
        id: String,
    },
    /// Change an account: only the flags given change; credentials not given are kept.
    /// Changed credentials, environment or endpoints are checked with the broker first.
    #[command(after_help = SECRETS_HELP)]
    Edit(Box<EditArgs>),
    /// Change an account's status by hand: `suspended` (no new positions; reducing orders
    /// allowed), `in_drawdown` (close-only), `terminated` (no orders at all; final), or back
    /// to `active` (needs a fresh step-up when two-factor authentication is on: --totp).
    #[command(after_help = "\
Allowed: active → suspended | in_drawdown | terminated; in_drawdown → active | suspended |
terminated; suspended → active | terminated. A terminated account stays terminated
(illegal_status_transition, exit 3). Terminating asks you to type `yes` on a terminal; with
--json or without a terminal it needs --yes. `terminated --purge-credentials` also deletes the
account's stored credentials (only a terminated account's: account_not_terminated, exit 3).")]
    Status {
        /// Account id, unique id prefix (4+ characters) or exact name.
        id: String,
        /// The new status.
        #[arg(value_parser = status_parser(), ignore_case = true)]
        status: AccountStatus,
        /// Why (kept in the status history and the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// With `terminated`: also delete the account's stored credentials (it can never
        /// trade again); the data key is replaced so the deleted values open nowhere.
        #[arg(long)]
        purge_credentials: bool,
        /// Do not ask for confirmation (terminating).
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        step_up: StepUp,
    },
    /// Trust a new TLS certificate for an IBKR account's gateway on this machine: pin its
    /// SHA-256 fingerprint (after a connection was refused with certificate_changed, whose
    /// message names the new fingerprint). Needs a fresh step-up (--totp) with 2FA on.
    #[command(
        name = "trust-certificate",
        after_help = "\
The gateway's certificate is pinned on the first connection (`account verify`, or the app
connecting); a different certificate is refused with certificate_changed (exit 5), nothing
sent. Compare the fingerprint with the gateway's own before trusting it, e.g.
`openssl s_client -connect localhost:5000 </dev/null | openssl x509 -noout -fingerprint -sha256`.
The fingerprint may be written `AA:BB:…`, in plain hex, or with a `SHA-256 ` prefix."
    )]
    TrustCertificate {
        /// Account id, unique id prefix (4+ characters) or exact name.
        id: String,
        /// The certificate's SHA-256 fingerprint (`AA:BB:…`, 32 pairs).
        fingerprint: String,
        #[command(flatten)]
        step_up: StepUp,
    },
    /// Remove an account and its stored credentials.
    #[command(after_help = "\
Without --yes, asks for confirmation when stdin is a terminal. With --json, or when stdin is
not a terminal (scripts, pipes), no question is asked and --yes is not needed.")]
    Remove {
        /// Account id, unique id prefix (4+ characters) or exact name.
        id: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        step_up: StepUp,
    },
}

const SECRETS_HELP: &str = "\
Secrets: pass `-` as the value of --api-key, --api-secret or --totp to read it from the next
line of stdin, which keeps it out of the process list and the shell history. Lines are read in
this order: the master password (with --password-stdin), --api-key, --api-secret, --totp.
Values shown back are always masked (••••1234).

Two-factor: once 2FA is on, storing or changing credentials and removing an account need a
code: pass --totp CODE to the command itself.";

#[derive(Subcommand)]
pub enum VaultCommand {
    /// Forget the key in this process (needs a master password; mostly meaningful for the app,
    /// since every CLI invocation starts locked anyway).
    Lock,
    /// Change (or, on a keychain vault, set) the master password. The current one comes from
    /// --password-stdin / $BROKERDESK_PASSWORD; the new one from $BROKERDESK_NEW_PASSWORD or
    /// the next line of stdin (then `--totp -` reads the line after it).
    ChangePassword {
        #[command(flatten)]
        step_up: StepUp,
    },
    /// Replace the data-encryption key and re-seal every stored secret.
    RotateKey,
}

#[derive(Subcommand)]
pub enum TwofaCommand {
    /// Show whether two-factor authentication is on, the backup codes left, the step-up
    /// window and any lockout (needs no password).
    Status,
    /// Start (or restart) the setup: prints the otpauth URI and the secret to add to an
    /// authenticator app. Nothing is enforced until `twofa enable CODE` confirms it.
    #[command(after_help = "\
The URI, the secret and the QR code all hold the TOTP key: add them to the authenticator app,
then delete the PNG; do not keep or share them. Running setup again replaces the secret.")]
    Setup {
        /// Also write the URI as a QR code (PNG, readable only by you) to FILE.
        #[arg(long, value_name = "FILE")]
        qr_png: Option<PathBuf>,
    },
    /// Turn two-factor authentication on with a code from the app; prints 10 single-use
    /// backup codes, once.
    Enable {
        /// The 6-digit code the authenticator app shows (`-` reads it from stdin).
        #[arg(value_name = "CODE", value_parser = secret_parser())]
        code: Secret,
    },
    /// Check a code (from the app, or a backup code): counts as a use of the code. A change
    /// that needs one takes it itself (--totp CODE): a verification here opens nothing for
    /// later commands.
    Verify {
        /// A code from the authenticator app or a backup code (`-` reads it from stdin).
        #[arg(value_name = "CODE", value_parser = secret_parser())]
        code: Secret,
    },
    /// Turn two-factor authentication off (needs a code given to this command: --totp CODE).
    Disable {
        #[command(flatten)]
        step_up: StepUp,
    },
    /// Issue 10 new backup codes; the old ones stop working (needs a code given to this
    /// command: --totp CODE).
    BackupCodes {
        #[command(flatten)]
        step_up: StepUp,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// List audit entries, newest first (filters combine with AND).
    List(AuditListArgs),
    /// Check the audit log's hash chain: every entry must follow from the one before it.
    #[command(after_help = "\
Exit status: 0 when every entry is intact (prints \"intact: N entries\"). When the chain is
broken: exit 1, error code audit_tampered, and the message names the first broken entry. With
--json the one document is then the verification result ({\"ok\": false, \"entries\": N,
\"firstBrokenId\": ID, \"message\": \"...\"}) with the usual {\"error\": {\"code\":
\"audit_tampered\", ...}} member added, so a script may test either `.ok` or `.error`.")]
    Verify,
}

#[derive(Args)]
pub struct AuditListArgs {
    /// Only this event (repeatable, or comma-separated), e.g. account_created.
    #[arg(long = "event", value_name = "E", value_delimiter = ',', value_parser = audit_event_parser(), ignore_case = true)]
    pub events: Vec<AuditEvent>,
    /// Only entries about this account: id, unique id prefix or name (a removed account by
    /// its full id).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Only entries at or after this time (RFC 3339, e.g. 2025-01-31T00:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    pub since: Option<String>,
    /// Only entries at or before this time (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub until: Option<String>,
    /// Only entries whose event, detail, actor or account id contain TEXT (any case).
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// At most N entries, the newest (default 500).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: Option<u32>,
    /// Print the entries as CSV (RFC 4180, oldest first) instead of a table; not with --json.
    #[arg(long)]
    pub csv: bool,
}

#[derive(Subcommand)]
pub enum CredentialsCommand {
    /// Emergency: delete every stored credential and put every account in paper mode.
    /// Accounts and their settings are kept.
    #[command(after_help = "\
Without --yes, asks for confirmation when stdin is a terminal. With --json, or when stdin is
not a terminal (scripts, pipes), no question is asked and --yes is not needed.")]
    Purge {
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        step_up: StepUp,
    },
}

#[derive(Subcommand)]
pub enum SettingsCommand {
    /// Show the settings (needs no password).
    Show,
    /// Lock the vault after MINUTES (1-1440) without activity in the app, or `off`. Only a
    /// vault with a master password can lock.
    AutoLock {
        /// Idle minutes (1-1440), or `off`.
        #[arg(value_name = "MINUTES|off", value_parser = limit_u32)]
        minutes: Limit<u32>,
    },
}

#[derive(Args)]
pub struct AddArgs {
    /// Account name (unique).
    #[arg(long)]
    pub name: String,
    /// Broker (`brokerdesk brokers` shows what each needs).
    #[arg(long, value_parser = broker_parser(), ignore_case = true)]
    pub broker: BrokerKind,
    /// Broker environment; `paper` and `sandbox` mean practice.
    #[arg(long, value_parser = env_parser(), ignore_case = true)]
    pub env: Environment,
    #[command(flatten)]
    pub fields: AccountFields,
    /// Save without checking the credentials with the broker first.
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub step_up: StepUp,
}

#[derive(Args)]
pub struct EditArgs {
    /// Account id, unique id prefix (4+ characters) or exact name.
    pub id: String,
    /// New name.
    #[arg(long)]
    pub name: Option<String>,
    /// New environment (practice and live credentials differ: give new ones with it).
    #[arg(long, value_parser = env_parser(), ignore_case = true)]
    pub env: Option<Environment>,
    #[command(flatten)]
    pub fields: AccountFields,
    #[command(flatten)]
    pub clear: ClearFlags,
    /// Save without checking changed credentials or endpoints with the broker first.
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub step_up: StepUp,
}

/// Flags shared by `add` and `edit`. On edit, a flag not given keeps the stored value.
#[derive(Args)]
pub struct AccountFields {
    /// API key / access token / refresh token (`-` reads it from stdin).
    #[arg(long, value_name = "KEY", value_parser = secret_parser())]
    pub api_key: Option<Secret>,
    /// API secret / client secret (`-` reads it from stdin).
    #[arg(long, value_name = "SECRET", value_parser = secret_parser())]
    pub api_secret: Option<Secret>,
    /// The broker's account id/number (e.g. 101-004-1234567-001, DU1234567).
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
    /// Override the broker's REST endpoint (https, or http to localhost only).
    #[arg(long, value_name = "URL")]
    pub rest_url: Option<String>,
    /// Override the broker's streaming endpoint.
    #[arg(long, value_name = "URL")]
    pub stream_url: Option<String>,
    /// Prop-firm rule preset: the firm's loss limits, profit target and clock (`brokerdesk
    /// brokers` lists them with their sources). Changing one of its numbers or its clock
    /// below makes the rules `custom`; `custom` keeps the current values to adjust; `none`
    /// removes them.
    #[arg(long, value_name = "P", value_parser = prop_firm_parser(), ignore_case = true)]
    pub prop_firm: Option<PropFirmPreset>,
    /// Instruments to trade, comma-separated (e.g. EUR_USD,GBP_USD); replaces the list on edit.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub pairs: Option<Vec<String>>,
    /// Timeframes, comma-separated; replaces the list on edit.
    #[arg(long, value_name = "M5,H1", value_delimiter = ',', value_parser = timeframe_parser(), ignore_case = true)]
    pub timeframes: Option<Vec<Timeframe>>,
    /// Prop-firm max daily loss, % (`none` removes it).
    #[arg(long, value_name = "PCT", value_parser = limit_decimal)]
    pub max_daily_loss: Option<Limit<Decimal>>,
    /// Prop-firm max total loss, % (`none` removes it).
    #[arg(long, value_name = "PCT", value_parser = limit_decimal)]
    pub max_total_loss: Option<Limit<Decimal>>,
    /// Prop-firm profit target, % (`none` removes it).
    #[arg(long, value_name = "PCT", value_parser = limit_decimal)]
    pub profit_target: Option<Limit<Decimal>>,
    /// The starting balance the loss percentages refer to (`none`: the first balance
    /// Brokerdesk sees for the account).
    #[arg(long, value_name = "AMOUNT", value_parser = limit_decimal)]
    pub initial_balance: Option<Limit<Decimal>>,
    /// What the daily loss % is taken of.
    #[arg(long, value_name = "BASE", value_parser = daily_base_parser(), ignore_case = true)]
    pub daily_base: Option<DailyBase>,
    /// When the firm's trading day starts, HH:MM 24-hour in --reset-timezone.
    #[arg(long, value_name = "HH:MM")]
    pub reset_time: Option<String>,
    /// IANA time zone of the daily reset, e.g. Europe/Prague.
    #[arg(long, value_name = "TZ")]
    pub reset_timezone: Option<String>,
    /// How the maximum loss floor moves.
    #[arg(long, value_name = "MODE", value_parser = max_loss_mode_parser(), ignore_case = true)]
    pub max_loss_mode: Option<MaxLossMode>,
    /// What reaching the daily loss limit does: pause (close-only until the next reset) or
    /// terminate the account.
    #[arg(long, value_name = "ACTION", value_parser = breach_parser(), ignore_case = true)]
    pub daily_breach: Option<BreachAction>,
    /// Act at this % of a loss limit (50-100), before the firm's limit is reached (`none`:
    /// at the limit).
    #[arg(long, value_name = "PCT", value_parser = limit_decimal)]
    pub safety_buffer: Option<Limit<Decimal>>,
    /// On a breach, cancel the account's open orders and close its positions (the default).
    #[arg(long)]
    pub close_on_breach: bool,
    /// On a breach, only change the status: leave orders and positions alone.
    #[arg(long, conflicts_with = "close_on_breach")]
    pub no_close_on_breach: bool,
    /// Notify when these % of a loss budget are used, comma-separated (up to 5, 1-99;
    /// `none`: no warnings).
    #[arg(long, value_name = "50,80,95", value_parser = parse_levels)]
    pub warn_levels: Option<Levels>,
    /// Largest position, % of equity (`none` removes it).
    #[arg(long, value_name = "PCT", value_parser = limit_decimal)]
    pub max_position_size: Option<Limit<Decimal>>,
    /// Most positions open at once (`none` removes it).
    #[arg(long, value_name = "N", value_parser = limit_u32)]
    pub max_open_positions: Option<Limit<u32>>,
    /// Largest order size in lots or shares (`none` removes it).
    #[arg(long, value_name = "Q", value_parser = limit_decimal)]
    pub max_qty: Option<Limit<Decimal>>,
    /// Highest leverage, e.g. 30 for 30:1 (`none` removes it).
    #[arg(long, value_name = "L", value_parser = limit_decimal)]
    pub max_leverage: Option<Limit<Decimal>>,
    /// Require a stop loss on every order.
    #[arg(long)]
    pub require_stop_loss: bool,
    /// Highest correlation (0-1) between open positions (`none` removes it; not enforced).
    #[arg(long, value_name = "C", value_parser = limit_decimal)]
    pub max_correlation: Option<Limit<Decimal>>,
    /// Largest loss one order may risk, entry to stop-loss, % of equity (`none` removes it;
    /// orders then need a stop-loss).
    #[arg(long, value_name = "PCT", value_parser = limit_decimal)]
    pub max_risk_per_trade: Option<Limit<Decimal>>,
    /// The only instruments orders may be placed in, comma-separated; replaces the list on
    /// edit (an empty value, "", allows any).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub allowed_instruments: Option<Vec<String>>,
    /// Daily trading window, 24-hour (an end before the start crosses midnight).
    #[arg(long, value_name = "HH:MM-HH:MM", value_parser = parse_hours)]
    pub hours: Option<Hours>,
    /// IANA time zone of the trading window (default UTC), e.g. America/New_York.
    #[arg(long, value_name = "TZ")]
    pub timezone: Option<String>,
    /// Allow trading at weekends.
    #[arg(long)]
    pub weekend_trading: bool,
    /// Account status.
    #[arg(long, value_name = "S", value_parser = status_parser(), ignore_case = true)]
    pub status: Option<AccountStatus>,
    /// Why the status changes (kept in the status history).
    #[arg(long, value_name = "TEXT", requires = "status")]
    pub status_reason: Option<String>,
}

/// Edit-only flags that remove a setting.
#[derive(Args)]
pub struct ClearFlags {
    /// Remove the broker account id.
    #[arg(long, conflicts_with = "account_id")]
    pub clear_account_id: bool,
    /// Go back to the broker's default REST endpoint.
    #[arg(long, conflicts_with = "rest_url")]
    pub clear_rest_url: bool,
    /// Go back to the broker's default streaming endpoint.
    #[arg(long, conflicts_with = "stream_url")]
    pub clear_stream_url: bool,
    /// Remove every instrument.
    #[arg(long, conflicts_with = "pairs")]
    pub clear_pairs: bool,
    /// Remove every timeframe.
    #[arg(long, conflicts_with = "timeframes")]
    pub clear_timeframes: bool,
    /// Remove the trading window (trade at any hour).
    #[arg(long, conflicts_with_all = ["hours", "timezone"])]
    pub no_hours: bool,
    /// Stop requiring a stop loss.
    #[arg(long, conflicts_with = "require_stop_loss")]
    pub no_require_stop_loss: bool,
    /// Forbid trading at weekends.
    #[arg(long, conflicts_with = "weekend_trading")]
    pub no_weekend_trading: bool,
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn aliases_map_to_core_values() {
        let cli = Cli::try_parse_from([
            "brokerdesk",
            "account",
            "add",
            "--name",
            "a",
            "--broker",
            "OANDA",
            "--env",
            "sandbox",
            "--prop-firm",
            "fundednext",
            "--timeframes",
            "m5,H1",
            "--max-leverage",
            "none",
        ])
        .expect("parses");
        let Command::Account(AccountCommand::Add(a)) = cli.command else {
            panic!("not add")
        };
        assert_eq!(a.broker, BrokerKind::Oanda);
        assert_eq!(a.env, Environment::Practice);
        assert_eq!(a.fields.prop_firm, Some(PropFirmPreset::FundedNext));
        assert_eq!(
            a.fields.timeframes,
            Some(vec![Timeframe::M5, Timeframe::H1])
        );
        assert_eq!(a.fields.max_leverage, Some(Limit::Clear));
    }

    #[test]
    fn every_preset_and_the_risk_flags_parse() {
        for (typed, want) in [
            ("ftmo", PropFirmPreset::Ftmo),
            ("ftmo_1step", PropFirmPreset::Ftmo1Step),
            ("funded_next", PropFirmPreset::FundedNext),
            ("funded_next_1step", PropFirmPreset::FundedNext1Step),
            ("the5ers", PropFirmPreset::The5ers),
            ("custom", PropFirmPreset::Custom),
            ("none", PropFirmPreset::None),
        ] {
            let cli =
                Cli::try_parse_from(["brokerdesk", "account", "edit", "a", "--prop-firm", typed])
                    .expect("parses");
            let Command::Account(AccountCommand::Edit(e)) = cli.command else {
                panic!("not edit")
            };
            assert_eq!(e.fields.prop_firm, Some(want), "{typed}");
        }
        let cli = Cli::try_parse_from([
            "brokerdesk",
            "account",
            "edit",
            "a",
            "--daily-base",
            "previous_day_balance",
            "--max-loss-mode",
            "trailing_then_locked",
            "--daily-breach",
            "terminate",
            "--warn-levels",
            "50, 80,95%",
            "--initial-balance",
            "none",
            "--no-close-on-breach",
            "--allowed-instruments",
            "",
        ])
        .expect("parses");
        let Command::Account(AccountCommand::Edit(e)) = cli.command else {
            panic!("not edit")
        };
        let f = e.fields;
        assert_eq!(f.daily_base, Some(DailyBase::PreviousDayBalance));
        assert_eq!(f.max_loss_mode, Some(MaxLossMode::TrailingThenLocked));
        assert_eq!(f.daily_breach, Some(BreachAction::Terminate));
        assert_eq!(f.warn_levels, Some(Levels(vec![50, 80, 95])));
        assert_eq!(f.initial_balance, Some(Limit::Clear));
        assert!(f.no_close_on_breach && !f.close_on_breach);
        assert_eq!(f.allowed_instruments, Some(vec![String::new()]));
        assert!(Cli::try_parse_from([
            "brokerdesk",
            "account",
            "edit",
            "a",
            "--close-on-breach",
            "--no-close-on-breach"
        ])
        .is_err());
        let cli = Cli::try_parse_from(["brokerdesk", "account", "status", "a", "in-drawdown"])
            .expect("parses");
        let Command::Account(AccountCommand::Status { status, .. }) = cli.command else {
            panic!("not status")
        };
        assert_eq!(status, AccountStatus::InDrawdown);
    }

    #[test]
    fn unknown_broker_is_a_usage_error() {
        let e = Cli::try_parse_from([
            "brokerdesk",
            "account",
            "add",
            "--name",
            "a",
            "--broker",
            "nope",
            "--env",
            "live",
        ])
        .err()
        .expect("fails");
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
    }
}
