/**
 * The typed client for the Rust backend: one function per Tauri command, plus the
 * `vault-status`, `connection-event`, `price-update` and `price-notice` events. This is the only module that imports `@tauri-apps/*`, so the rest of
 * the UI can be tested against a mock of the IPC layer.
 */
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { Account } from "../bindings/Account";
import type { AccountConnections } from "../bindings/AccountConnections";
import type { AccountInput } from "../bindings/AccountInput";
import type { AccountSummary } from "../bindings/AccountSummary";
import type { AppSettings } from "../bindings/AppSettings";
import type { AuditEntry } from "../bindings/AuditEntry";
import type { AuditFilter } from "../bindings/AuditFilter";
import type { AuditVerification } from "../bindings/AuditVerification";
import type { BackupCodes } from "../bindings/BackupCodes";
import type { BrokerAccountRef } from "../bindings/BrokerAccountRef";
import type { BrokerInfo } from "../bindings/BrokerInfo";
import type { CheckOutcome } from "../bindings/CheckOutcome";
import type { ConnectionEvent } from "../bindings/ConnectionEvent";
import type { FeedNotice } from "../bindings/FeedNotice";
import type { InstrumentInfo } from "../bindings/InstrumentInfo";
import type { PriceUpdate } from "../bindings/PriceUpdate";
import type { PropFirmPresetInfo } from "../bindings/PropFirmPresetInfo";
import type { PurgeReport } from "../bindings/PurgeReport";
import type { SavedAccount } from "../bindings/SavedAccount";
import type { Tick } from "../bindings/Tick";
import type { TwoFactorSetup } from "../bindings/TwoFactorSetup";
import type { TwoFactorStatus } from "../bindings/TwoFactorStatus";
import type { VaultStatus } from "../bindings/VaultStatus";
import { type BrokerdeskError, ErrorCodes, SESSION_CODES, toBrokerdeskError } from "./errors";

export { BrokerdeskError, ErrorCodes } from "./errors";

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

async function invokeOnce<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
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
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invokeOnce<T>(command, args);
  } catch (e) {
    const error = e as BrokerdeskError;
    const handler = stepUpHandler;
    if (error.code !== ErrorCodes.stepUpRequired || !handler || command === "twofa_verify") throw error;
    const verified = await Promise.resolve()
      .then(() => handler(error))
      .catch(() => false);
    if (!verified) throw error;
    return await invokeOnce<T>(command, args);
  }
}

export const vaultStatus = () => call<VaultStatus>("vault_status");
/** `password` null keeps the key in the OS keychain only. */
export const vaultInit = (password: string | null) => call<VaultStatus>("vault_init", { password });
export const vaultUnlock = (password: string) => call<VaultStatus>("vault_unlock", { password });
/**
 * Asks a keychain-protected vault to unlock itself from the OS keychain again (after it failed
 * to at start, see `VaultStatus.autoUnlockError`). Such a vault has no password: `null`.
 */
export const vaultRetryKeychain = () => call<VaultStatus>("vault_unlock", { password: null });
export const vaultLock = () => call<VaultStatus>("vault_lock");
/** `current` is null when the vault is keychain-protected (setting a first master password). */
export const vaultChangePassword = (current: string | null, newPassword: string) =>
  call<VaultStatus>("vault_change_password", { current, newPassword });
export const vaultRotateKey = () => call<VaultStatus>("vault_rotate_key");

export const brokerCatalog = () => call<BrokerInfo[]>("broker_catalog");
export const propFirmPresets = () => call<PropFirmPresetInfo[]>("prop_firm_presets");

export const accountsList = () => call<Account[]>("accounts_list");
export const accountGet = (id: string) => call<Account>("account_get", { id });
/**
 * Adds an account. With `check` (the default) the backend first checks the credentials with the
 * broker: a refusal (`broker_auth`, `choose_broker_account`, `broker_rejected`…) rejects and
 * saves nothing; an unreachable broker saves the account unverified (see `SavedAccount.check`).
 */
export const accountAdd = (input: AccountInput, check = true) => call<SavedAccount>("account_add", { input, check });
/** Replaces an account's configuration; checked with the broker like `accountAdd` when what the broker checks changed. */
export const accountUpdate = (id: string, input: AccountInput, check = true) =>
  call<SavedAccount>("account_update", { id, input, check });
/**
 * "Test connection": checks a draft with the broker, saving nothing. For an existing account
 * (`id`), credentials left empty are the stored ones.
 */
export const accountCheck = (id: string | null, input: AccountInput) => call<CheckOutcome>("account_check", { id, input });
/** The broker accounts a draft's credentials reach (OANDA tokens may reach several). */
export const brokerAccounts = (input: AccountInput) => call<BrokerAccountRef[]>("broker_accounts", { input });
/**
 * "Verify with broker": checks a saved account's stored credentials with its broker and returns
 * what the broker reports. A success is what unlocks live trading (the backend wants one within
 * 24 hours). Rejects with `broker_auth`, `broker_network`, `broker_timeout`, `broker_unavailable`,
 * `verify_rate_limited` (5 checks per account per minute)…
 */
export const accountVerify = (id: string) => call<AccountSummary>("account_verify", { id });
export const accountRemove = (id: string) => call<null>("account_remove", { id });

export const twofaStatus = () => call<TwoFactorStatus>("twofa_status");
/** Starts (or restarts, with a new secret) two-factor setup. */
export const twofaSetup = () => call<TwoFactorSetup>("twofa_setup");
/** Confirms setup with a code from the app; returns the 10 backup codes (shown once). */
export const twofaEnable = (code: string) => call<BackupCodes>("twofa_enable", { code });
/** Verifies a TOTP or backup code; opens the 15-minute step-up window. */
export const twofaVerify = (code: string) => call<TwoFactorStatus>("twofa_verify", { code });
export const twofaDisable = () => call<TwoFactorStatus>("twofa_disable");
export const twofaRegenerateBackupCodes = () => call<BackupCodes>("twofa_regenerate_backup_codes");

export const auditList = (filter: AuditFilter) => call<AuditEntry[]>("audit_list", { filter });
export const auditVerify = () => call<AuditVerification>("audit_verify");
/** Saves the matching entries as CSV in the user's Downloads folder; returns the file's path. */
export const auditExportCsv = (filter: AuditFilter) => call<string>("audit_export_csv", { filter });

export const settingsGet = () => call<AppSettings>("settings_get");
export const settingsUpdate = (settings: AppSettings) => call<AppSettings>("settings_update", { settings });

/** Emergency: deletes every stored credential and puts every account in paper mode. */
export const credentialsPurge = () => call<PurgeReport>("credentials_purge");

/** Tells the shell the user is active (it auto-locks after the idle minutes in the settings). */
export const appActivity = () => call<null>("app_activity");
/** Puts a secret on the OS clipboard; the shell clears it after 30 s if it still holds it. */
export const clipboardWriteSecret = (text: string) => call<null>("clipboard_write_secret", { text });

/** Shows a native test notification, to check the OS lets Brokerdesk show them. */
export const notifyTest = () => call<null>("notify_test");

/** The live connections of every account that has any (paper accounts have none). */
export const connectionsSnapshot = () => call<AccountConnections[]>("connections_snapshot");
/** Drops and re-opens an account's connections now (also ends a `failed` state). */
export const connectionReconnect = (accountId: string) => call<null>("connection_reconnect", { accountId });
export const connectionsReconnectAll = () => call<null>("connections_reconnect_all");

/** Sets an account's watchlist (`account.instruments`), applied live to its price stream. */
export const watchlistSet = (id: string, instruments: string[]) => call<Account>("watchlist_set", { id, instruments });
/** Searches the account's broker for instruments; rejects with `search_unsupported` when it has no search. */
export const instrumentsSearch = (id: string, query: string) => call<InstrumentInfo[]>("instruments_search", { id, query });
/** The latest price of every instrument an account streams (empty when it does not stream). */
export const pricesSnapshot = (id: string) => call<Tick[]>("prices_snapshot", { id });

/** Subscribes to `vault-status` (e.g. the tray's "Lock"). Returns a function that unsubscribes. */
export function onVaultStatus(callback: (status: VaultStatus) => void): () => void {
  return subscribe<VaultStatus>("vault-status", callback);
}

/** Subscribes to `connection-event` (every state change of a connection). Returns a function that unsubscribes. */
export function onConnectionEvent(callback: (event: ConnectionEvent) => void): () => void {
  return subscribe<ConnectionEvent>("connection-event", callback);
}

/** Subscribes to `price-update` (coalesced prices of one account). Returns a function that unsubscribes. */
export function onPriceUpdate(callback: (update: PriceUpdate) => void): () => void {
  return subscribe<PriceUpdate>("price-update", callback);
}

/** Subscribes to `price-notice` (e.g. an unknown instrument). Returns a function that unsubscribes. */
export function onPriceNotice(callback: (notice: FeedNotice) => void): () => void {
  return subscribe<FeedNotice>("price-notice", callback);
}

function subscribe<T>(name: string, callback: (payload: T) => void): () => void {
  let disposed = false;
  let unlisten: (() => void) | null = null;
  listen<T>(name, (event) => callback(event.payload))
    .then((fn) => {
      if (disposed) fn();
      else unlisten = fn;
    })
    .catch(() => {
      // No event bridge (e.g. a plain browser): the UI still works, it just is not told.
    });
  return () => {
    disposed = true;
    unlisten?.();
  };
}
