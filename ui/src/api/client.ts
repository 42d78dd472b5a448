/**
 * The typed client for the backend: one function per command of the core's IPC contract
 * (`bindings/contract.ts`, generated from Rust), and subscriptions to its events. Commands go
 * through [`transport`](./transport.ts): Tauri's IPC in the app, the development server in a
 * browser. Nothing else in the UI talks to the backend.
 */
import type { AccountInput } from "../bindings/AccountInput";
import type { AccountStatus } from "../bindings/AccountStatus";
import type { AppSettings } from "../bindings/AppSettings";
import type { AuditFilter } from "../bindings/AuditFilter";
import type { BackupConfig } from "../bindings/BackupConfig";
import type { ClipboardItem } from "../bindings/ClipboardItem";
import type { Commands, Events } from "../bindings/contract";
import type { ExportFormat } from "../bindings/ExportFormat";
import type { OnConflict } from "../bindings/OnConflict";
import type { OrderDraft } from "../bindings/OrderDraft";
import type { OrderModify } from "../bindings/OrderModify";
import type { OrderSide } from "../bindings/OrderSide";
import type { TradingMode } from "../bindings/TradingMode";
import { type BrokerdeskError, Code, SESSION_CODES, toBrokerdeskError } from "./errors";
import { transport } from "./transport";

export { BrokerdeskError, Code } from "./errors";

type SessionErrorHandler = (error: BrokerdeskError) => void;
let sessionErrorHandler: SessionErrorHandler | null = null;

/**
 * Registers the handler told about errors that change what screen the app must show
 * (`locked`, `not_initialized`, `vault_changed`). Returns a function that unregisters it.
 */
export function onSessionError(handler: SessionErrorHandler): () => void {
  sessionErrorHandler = handler;
  return () => {
    if (sessionErrorHandler === handler) sessionErrorHandler = null;
  };
}

/**
 * Asked when a command fails with `step_up_required`: resolves true once the user has verified
 * a two-factor code (the command is then retried), false when they cancelled.
 */
export type StepUpHandler = (error: BrokerdeskError) => Promise<boolean>;
let stepUpHandler: StepUpHandler | null = null;

/** Registers the step-up prompt (one for the app). Returns a function that unregisters it. */
export function onStepUpRequired(handler: StepUpHandler): () => void {
  stepUpHandler = handler;
  return () => {
    if (stepUpHandler === handler) stepUpHandler = null;
  };
}

type Args<K extends keyof Commands> = Commands[K]["args"];
type Result<K extends keyof Commands> = Commands[K]["result"];

async function invokeOnce<K extends keyof Commands>(command: K, args: Args<K>): Promise<Result<K>> {
  try {
    return (await transport().invoke(command, args as Record<string, unknown>)) as Result<K>;
  } catch (raw) {
    const error = toBrokerdeskError(raw);
    if (SESSION_CODES.has(error.code)) sessionErrorHandler?.(error);
    throw error;
  }
}

/**
 * Calls a command. When it needs a fresh two-factor step-up, the registered handler asks for a
 * code and the command is retried once, so callers simply get its result; if the user cancels,
 * the original `step_up_required` error is thrown.
 */
export async function call<K extends keyof Commands>(command: K, ...rest: Args<K> extends Record<string, never> ? [] : [Args<K>]): Promise<Result<K>> {
  const args = (rest[0] ?? {}) as Args<K>;
  try {
    return await invokeOnce(command, args);
  } catch (e) {
    const error = e as BrokerdeskError;
    const handler = stepUpHandler;
    if (error.code !== Code.StepUpRequired || !handler || command === "twofa_verify") throw error;
    const verified = await Promise.resolve()
      .then(() => handler(error))
      .catch(() => false);
    if (!verified) throw error;
    return await invokeOnce(command, args);
  }
}

export const vaultStatus = () => call("vault_status");
/** `password` null keeps the key in the OS keychain only. */
export const vaultInit = (password: string | null) => call("vault_init", { password });
export const vaultUnlock = (password: string) => call("vault_unlock", { password });
/**
 * Asks a keychain-protected vault to unlock itself from the OS keychain again (after it failed
 * to at start, see `VaultStatus.autoUnlockError`). Such a vault has no password: `null`.
 */
export const vaultRetryKeychain = () => call("vault_unlock", { password: null });
export const vaultLock = () => call("vault_lock");
/** `current` is null when the vault is keychain-protected (setting a first master password). */
export const vaultChangePassword = (current: string | null, newPassword: string) =>
  call("vault_change_password", { current, newPassword });
export const vaultRotateKey = () => call("vault_rotate_key");
/** The core's verdict on a candidate master password (nothing is stored; works while locked). */
export const vaultPasswordStrength = (password: string) => call("vault_password_strength", { password });

export const brokerCatalog = () => call("broker_catalog");
export const propFirmPresets = () => call("prop_firm_presets");

export const accountsList = () => call("accounts_list");
export const accountGet = (id: string) => call("account_get", { id });
/**
 * Adds an account. With `check` (the default) the backend first checks the credentials with the
 * broker: a refusal (`broker_auth`, `choose_broker_account`, `broker_rejected`…) rejects and
 * saves nothing; an unreachable broker saves the account unverified (see `SavedAccount.check`).
 */
export const accountAdd = (input: AccountInput, check = true) => call("account_add", { input, check });
/** Replaces an account's configuration; checked with the broker like `accountAdd` when what the broker checks changed. */
export const accountUpdate = (id: string, input: AccountInput, check = true) =>
  call("account_update", { id, input, check });
/**
 * "Test connection": checks a draft with the broker, saving nothing. For an existing account
 * (`id`), credentials left empty are the stored ones.
 */
export const accountCheck = (id: string | null, input: AccountInput) => call("account_check", { id, input });
/** The broker accounts a draft's credentials reach (OANDA tokens may reach several). */
export const brokerAccounts = (input: AccountInput) => call("broker_accounts", { input });
/**
 * "Verify with broker": checks a saved account's stored credentials with its broker and returns
 * what the broker reports. A success is what unlocks live trading (the backend wants one within
 * 24 hours). Rejects with `broker_auth`, `broker_network`, `broker_timeout`, `broker_unavailable`,
 * `verify_rate_limited` (5 checks per account per minute)…
 */
export const accountVerify = (id: string) => call("account_verify", { id });
export const accountRemove = (id: string) => call("account_remove", { id });
/** Trusts a new certificate for an IBKR account's gateway (pins its SHA-256 fingerprint; needs a step-up). */
export const accountTrustCertificate = (id: string, fingerprint: string) => call("account_trust_certificate", { id, fingerprint });

export const twofaStatus = () => call("twofa_status");
/** Starts (or restarts, with a new secret) two-factor setup. */
export const twofaSetup = () => call("twofa_setup");
/** Confirms setup with a code from the app; returns the 10 backup codes (shown once). */
export const twofaEnable = (code: string) => call("twofa_enable", { code });
/** Verifies a TOTP or backup code; opens the 15-minute step-up window. */
export const twofaVerify = (code: string) => call("twofa_verify", { code });
export const twofaDisable = () => call("twofa_disable");
export const twofaRegenerateBackupCodes = () => call("twofa_regenerate_backup_codes");

export const auditList = (filter: AuditFilter) => call("audit_list", { filter });
export const auditVerify = () => call("audit_verify");
/** Saves the matching entries as CSV in the user's Downloads folder; returns the file's path. */
export const auditExportCsv = (filter: AuditFilter) => call("audit_export_csv", { filter });
/**
 * Saves the configuration as JSON or YAML in Downloads; returns the path. No credentials, unless
 * `passphrase` is given: then they travel sealed with it (the core asks for the step-up).
 */
export const configExport = (format: ExportFormat, accounts: string[], passphrase: string | null = null) =>
  call("config_export", { format, accounts, passphrase });
/** What importing a configuration file (its text) would change, per account and field; changes nothing. */
export const configImportPreview = (text: string, passphrase: string | null, onConflict: OnConflict | null) =>
  call("config_import_preview", { text, passphrase, onConflict });
/** Imports a configuration file (its text), all or nothing; step-ups for credentials and loosened rules. */
export const configImportApply = (text: string, passphrase: string | null, onConflict: OnConflict | null) =>
  call("config_import_apply", { text, passphrase, onConflict });
/** Configuration versions of an account (name or id), of "settings", or of everything (null). */
export const configHistory = (of: string | null) => call("config_history", { of });
/** Applies a configuration version again, as a new edit (step-ups as any edit). */
export const configRollback = (version: number) => call("config_rollback", { version });
/** Where backups stand: the passphrase, the schedule, the folder, the last backup. */
export const backupStatus = () => call("backup_status");
/** Sets or changes the backup passphrase (needs a step-up). */
export const backupSetPassphrase = (passphrase: string) => call("backup_set_passphrase", { passphrase });
/** Changes the schedule, the folder or the retention. */
export const backupConfigure = (config: BackupConfig) => call("backup_configure", { config });
/** Makes a backup into the backup folder now. */
export const backupCreate = () => call("backup_create");
/** The backups in the backup folder, newest first. */
export const backupList = () => call("backup_list");
/** Checks one backup in the backup folder (by file name) fully. */
export const backupVerify = (name: string) => call("backup_verify", { name });
/** The profile's health checks; `deep` also signs in at each account's broker. */
export const health = (deep: boolean) => call("health", { deep });
/** The start-up checks' last outcome: whether the profile runs in the safe state, and why. */
export const startupReport = () => call("startup_report");
/** Runs the start-up checks again ("Check again"); the safe state is left only when they pass. */
export const startupCheck = () => call("startup_check");

export const settingsGet = () => call("settings_get");
export const settingsUpdate = (settings: AppSettings) => call("settings_update", { settings });

/** Emergency: deletes every stored credential and puts every account in paper mode. */
export const credentialsPurge = () => call("credentials_purge");

/** Tells the shell the user is active (it auto-locks after the idle minutes in the settings). */
export const appActivity = () => call("app_activity");
/**
 * Puts what `item` refers to on the OS clipboard: the core makes the text (the window cannot
 * choose it), and the shell clears it after 30 s if it still holds it.
 */
export const clipboardCopy = (item: ClipboardItem) => call("clipboard_copy", { item });

/** Shows a native test notification, to check the OS lets Brokerdesk show them. */
export const notifyTest = () => call("notify_test");

/** Whether Brokerdesk starts at login, as the OS has it now (read each time, never cached). */
export const autostartStatus = () => call("autostart_status");
/**
 * Turns starting at login (hidden in the tray) on or off with the OS's own mechanism; audited,
 * and announced with a native notification when turned on. Resolves to the OS's state after.
 */
export const autostartSet = (enabled: boolean) => call("autostart_set", { enabled });

/** The live connections of every account that has any (paper accounts have none). */
export const connectionsSnapshot = () => call("connections_snapshot");
/** Drops and re-opens an account's connections now (also ends a `failed` state). */
export const connectionReconnect = (accountId: string) => call("connection_reconnect", { accountId });
export const connectionsReconnectAll = () => call("connections_reconnect_all");

/** Sets an account's watchlist (`account.instruments`), applied live to its price stream. */
export const watchlistSet = (id: string, instruments: string[]) => call("watchlist_set", { id, instruments });
/** Searches the account's broker for instruments; rejects with `search_unsupported` when it has no search. */
export const instrumentsSearch = (id: string, query: string) => call("instruments_search", { id, query });
/** The latest price of every instrument an account streams (empty when it does not stream). */
export const pricesSnapshot = (id: string) => call("prices_snapshot", { id });

/**
 * Changes an account's status by hand: `suspended` (no new positions), `active` (reactivation:
 * needs a fresh two-factor code when 2FA is on, asked for by the step-up prompt) or
 * `terminated` (final). Refused with `illegal_status_transition` (e.g. from terminated).
 * `reason` is recorded in the status history ("changed by hand" when null).
 */
export const accountSetStatus = (id: string, status: AccountStatus, reason: string | null) => call("account_set_status", { id, status, reason });
/** Deletes a terminated account's stored credentials (after the user ticked it in the terminate dialog). */
export const accountForgetCredentials = (id: string) => call("account_forget_credentials", { id });

/** Moves an account between paper and live (live needs 2FA, a fresh code and a recent broker check). */
export const accountSetMode = (id: string, mode: TradingMode) => call("account_set_mode", { id, mode });

/** Places an order (the core validates it and stores its intent before anything is sent). */
export const orderPlace = (accountId: string, draft: OrderDraft) => call("order_place", { accountId, draft });
export const orderCancel = (accountId: string, orderId: string) => call("order_cancel", { accountId, orderId });
/**
 * Changes an open limit or stop order's quantity or price: in the paper engine, in place at
 * Tradier and IBKR, by a replacement order at OANDA, Alpaca and Tastytrade (the result is
 * then the replacement). A larger quantity is checked by the account's rules.
 */
export const orderModify = (accountId: string, orderId: string, change: OrderModify) => call("order_modify", { accountId, orderId, change });
/** Cancels every open live order of an account (offered when it switches back to paper). */
export const ordersCancelLive = (accountId: string) => call("orders_cancel_live", { accountId });
export const ordersList = (accountId: string, open: boolean | null = null) => call("orders_list", { accountId, open });
export const orderShow = (accountId: string, orderId: string) => call("order_show", { accountId, orderId });
export const orderEstimate = (accountId: string, symbol: string, side: OrderSide, quantity: string, price: string | null) =>
  call("order_estimate", { accountId, symbol, side, quantity, price });
export const accountMoney = (accountId: string) => call("account_money", { accountId });
export const positionClose = (accountId: string, symbol: string) => call("position_close", { accountId, symbol });
export const paperReset = (accountId: string, balance: string | null) => call("paper_reset", { accountId, balance });
export const ordersReview = () => call("orders_review");
/** Resolves an order in Needs review: placed at the broker (its order id) or not placed (`null`). */
export const orderReviewResolve = (orderId: string, placedBrokerId: string | null) => call("order_review_resolve", { orderId, placedBrokerId });

/** Every account's risk now, in the accounts' order: loss budgets, the firm's clock, what is not measured. */
export const riskReports = () => call("risk_reports");
/** One account's risk now. */
export const riskReport = (accountId: string) => call("risk_report", { accountId });
/**
 * The kill switch: every account to paper and suspended, every open order cancelled at every
 * broker, and with `flatten` every live position closed. No step-up (it only reduces risk).
 * Resolves with what was done to each account, order and position, failures included.
 */
export const killSwitch = (flatten: boolean) => call("kill_switch", { flatten });

/** Subscribes to one event of the contract. Returns a function that unsubscribes. */
export function on<E extends keyof Events>(event: E, callback: (payload: Events[E]) => void): () => void {
  return transport().listen(event, (payload) => callback(payload as Events[E]));
}

/** `vault-status`: after every vault change, whoever caused it (the tray's "Lock", auto-lock, the CLI). */
export const onVaultStatus = (cb: (p: Events["vault-status"]) => void) => on("vault-status", cb);
/** `twofa-status`: after every two-factor change (a wrong code and a lockout included). */
export const onTwofaStatus = (cb: (p: Events["twofa-status"]) => void) => on("twofa-status", cb);
/** `accounts-changed`: accounts added, edited, removed or switched mode (by the app or the CLI). */
export const onAccountsChanged = (cb: (p: Events["accounts-changed"]) => void) => on("accounts-changed", cb);
/** `settings-changed`: the settings changed. */
export const onSettingsChanged = (cb: (p: Events["settings-changed"]) => void) => on("settings-changed", cb);
/** `connections-changed`: accounts' sets of channels changed (started, stopped, restarted, renamed). */
export const onConnectionsChanged = (cb: (p: Events["connections-changed"]) => void) => on("connections-changed", cb);
/** `connection-event`: every state change of a connection. */
export const onConnectionEvent = (cb: (p: Events["connection-event"]) => void) => on("connection-event", cb);
/** `connection-stats`: every second, the live facts of every running connection. */
export const onConnectionStats = (cb: (p: Events["connection-stats"]) => void) => on("connection-stats", cb);
/** `price-update`: coalesced prices of one account. */
export const onPriceUpdate = (cb: (p: Events["price-update"]) => void) => on("price-update", cb);
/** `price-notice`: a broker's notice about an instrument. */
export const onPriceNotice = (cb: (p: Events["price-notice"]) => void) => on("price-notice", cb);
/** `order-update`: an order changed (placed, filled, cancelled, looked up, resolved). */
export const onOrderUpdate = (cb: (p: Events["order-update"]) => void) => on("order-update", cb);
/** `orders-changed`: orders changed elsewhere (another process, a paper reset). */
export const onOrdersChanged = (cb: (p: Events["orders-changed"]) => void) => on("orders-changed", cb);
/** `account-money`: an account's money and positions now. */
export const onAccountMoney = (cb: (p: Events["account-money"]) => void) => on("account-money", cb);
/** `risk-update`: an account's risk report now (several times a second for accounts with loss rules). */
export const onRiskUpdate = (cb: (p: Events["risk-update"]) => void) => on("risk-update", cb);
/** `safe-state`: the start-up checks ran again (the first unlock, "Check again", a fix while held). */
export const onSafeState = (cb: (p: Events["safe-state"]) => void) => on("safe-state", cb);
