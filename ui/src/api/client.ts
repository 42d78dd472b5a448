/**
 * The typed client for the Rust backend: one function per Tauri command, plus the
 * `vault-status` event. This is the only module that imports `@tauri-apps/*`, so the rest of
 * the UI can be tested against a mock of the IPC layer.
 */
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type { Account } from "../bindings/Account";
import type { AccountInput } from "../bindings/AccountInput";
import type { BrokerInfo } from "../bindings/BrokerInfo";
import type { PropFirmPresetInfo } from "../bindings/PropFirmPresetInfo";
import type { VaultStatus } from "../bindings/VaultStatus";
import { type BrokerdeskError, SESSION_CODES, toBrokerdeskError } from "./errors";

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

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    const error = toBrokerdeskError(raw);
    if (SESSION_CODES.has(error.code)) sessionErrorHandler?.(error);
    throw error;
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
export const accountAdd = (input: AccountInput) => call<Account>("account_add", { input });
export const accountUpdate = (id: string, input: AccountInput) => call<Account>("account_update", { id, input });
export const accountRemove = (id: string) => call<null>("account_remove", { id });

/** Shows a native test notification, to check the OS lets Brokerdesk show them. */
export const notifyTest = () => call<null>("notify_test");

/** Subscribes to `vault-status` (e.g. the tray's "Lock"). Returns a function that unsubscribes. */
export function onVaultStatus(callback: (status: VaultStatus) => void): () => void {
  let disposed = false;
  let unlisten: (() => void) | null = null;
  listen<VaultStatus>("vault-status", (event) => callback(event.payload))
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
