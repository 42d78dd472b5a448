/**
 * An in-memory stand-in for the Rust backend, for browser tests of the UI (mock builds only).
 * It implements every command of the IPC contract with the same error codes, so the UI can be
 * driven end to end without Tauri. It is deliberately simple: no crypto, plain objects.
 */
import type { Account } from "../bindings/Account";
import type { AccountInput } from "../bindings/AccountInput";
import type { ApiError } from "../bindings/ApiError";
import type { FieldError } from "../bindings/FieldError";
import type { VaultProtection } from "../bindings/VaultProtection";
import type { VaultStatus } from "../bindings/VaultStatus";
import { MOCK_BROKERS, MOCK_PRESETS } from "./catalog";
import { validateAccountInput } from "./mockValidation";

type SecretKey = "apiKey" | "apiSecret";

interface StoredAccount {
  account: Account;
  secrets: Record<SecretKey, string | null>;
  /** Stored secrets that "cannot be opened" (tampered with or moved), and the vault's error for each. */
  unreadable?: Partial<Record<SecretKey, ApiError>>;
}

export interface FakeState {
  initialized: boolean;
  locked: boolean;
  protection: VaultProtection | null;
  password: string | null;
  keychainAvailable: boolean;
  keychainError: string | null;
  /** What unlocking from the OS keychain fails with right now (null: the key is there). */
  keychainUnlockError: ApiError | null;
  /** Why the keychain vault did not unlock itself at start, if it did not. */
  autoUnlockError: ApiError | null;
  keyGeneration: number;
  accounts: StoredAccount[];
  nextId: number;
}

export type Scenario = "fresh" | "fresh-no-keychain" | "locked" | "unlocked" | "keychain" | "keychain-missing";

export const MOCK_PASSWORD = "correct horse battery";
export const MOCK_DATA_DIR = "/home/trader/.local/share/brokerdesk";
export const MOCK_VERSION = "0.1.0";

export class MockApiError extends Error {
  constructor(readonly body: ApiError) {
    super(body.message);
  }
}

const fail = (code: string, message: string, fields: FieldError[] = []): never => {
  throw new MockApiError({ code, message, fields });
};

const mask = (secret: string) => `••••${secret.slice(-4)}`;

export class FakeBackend {
  private failures = new Map<string, ApiError>();

  constructor(
    public state: FakeState,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  status(): VaultStatus {
    const s = this.state;
    return {
      initialized: s.initialized,
      locked: s.initialized && s.locked,
      protection: s.protection,
      keychainAvailable: s.keychainAvailable,
      keychainError: s.keychainAvailable ? null : s.keychainError,
      // Like the backend: only reported while the vault is still locked.
      autoUnlockError: s.initialized && s.locked ? (s.autoUnlockError ?? null) : null,
      keyGeneration: s.keyGeneration,
      dataDir: MOCK_DATA_DIR,
      version: MOCK_VERSION,
    };
  }

  /** Makes the next call of `command` fail with the given error (tests of error handling). */
  failNext(command: string, error: ApiError): void {
    this.failures.set(command, error);
  }

  /** Handles one command; throws `MockApiError` with the `ApiError` body on failure. */
  handle(command: string, args: Record<string, unknown> = {}): unknown {
    const injected = this.failures.get(command);
    if (injected) {
      this.failures.delete(command);
      throw new MockApiError(injected);
    }
    switch (command) {
      case "vault_status":
        return this.status();
      case "vault_init":
        return this.init(args.password as string | null);
      case "vault_unlock":
        return this.unlock(typeof args.password === "string" ? args.password : null);
      case "vault_lock":
        return this.lock();
      case "vault_change_password":
        return this.changePassword(args.current as string | null, String(args.newPassword ?? ""));
      case "vault_rotate_key":
        this.requireOpen();
        this.state.keyGeneration += 1;
        return this.status();
      case "broker_catalog":
        return structuredClone(MOCK_BROKERS);
      case "prop_firm_presets":
        return structuredClone(MOCK_PRESETS);
      case "accounts_list":
        this.requireOpen();
        return this.state.accounts.map((a) => structuredClone(a.account));
      case "account_get":
        this.requireOpen();
        return structuredClone(this.find(String(args.id)).account);
      case "account_add":
        this.requireOpen();
        return this.add(args.input as AccountInput);
      case "account_update":
        this.requireOpen();
        return this.update(String(args.id), args.input as AccountInput);
      case "account_remove": {
        this.requireOpen();
        const stored = this.find(String(args.id));
        this.state.accounts = this.state.accounts.filter((a) => a !== stored);
        return null;
      }
      case "notify_test":
        return null;
      default:
        return fail("internal", `Unknown command ${command}.`);
    }
  }

  private requireOpen() {
    if (!this.state.initialized) fail("not_initialized", "The vault has not been created yet.");
    if (this.state.locked) fail("locked", "The vault is locked.");
  }

  private init(password: string | null): VaultStatus {
    if (this.state.initialized) fail("internal", "The vault already exists.");
    if (password === null) {
      if (!this.state.keychainAvailable) fail("keychain_unavailable", "No OS keychain is reachable; set a master password.");
      Object.assign(this.state, { initialized: true, locked: false, protection: "keychain", password: null, keyGeneration: 1 });
    } else {
      if (password.length < 8) fail("weak_password", "The master password needs at least 8 characters.");
      Object.assign(this.state, { initialized: true, locked: false, protection: "password", password, keyGeneration: 1 });
    }
    return this.status();
  }

  /** `password` null unlocks a keychain vault from the OS keychain (it has no password). */
  private unlock(password: string | null): VaultStatus {
    if (!this.state.initialized) fail("not_initialized", "The vault has not been created yet.");
    if (this.state.protection === "keychain") {
      const keychainError = this.state.keychainUnlockError;
      if (keychainError) throw new MockApiError(structuredClone(keychainError));
    } else {
      if (password === null) fail("password_missing", "the master password is required for this vault");
      if (password !== this.state.password) fail("wrong_password", "That master password is not correct.");
    }
    this.state.locked = false;
    this.state.autoUnlockError = null;
    return this.status();
  }

  lock(): VaultStatus {
    if (!this.state.initialized) fail("not_initialized", "The vault has not been created yet.");
    if (this.state.protection !== "password") {
      fail("no_master_password", "The vault has no master password, so there is nothing to unlock it with. Set one first.");
    }
    this.state.locked = true;
    return this.status();
  }

  private changePassword(current: string | null, next: string): VaultStatus {
    this.requireOpen();
    if (this.state.protection === "password" && current !== this.state.password) {
      fail("wrong_password", "The current master password is not correct.");
    }
    if (next.length < 8) fail("weak_password", "The master password needs at least 8 characters.");
    this.state.password = next;
    this.state.protection = "password";
    return this.status();
  }

  private find(id: string): StoredAccount {
    const found = this.state.accounts.find((a) => a.account.id === id);
    return found ?? fail("not_found", `No account with id ${id}.`);
  }

  /**
   * Like the backend: a taken name alone is `duplicate_name`; together with other problems it is
   * one more field error (`name`/`duplicate`, first) of a `validation` error.
   */
  private checkInput(input: AccountInput, existing: StoredAccount | null) {
    const problems = validateAccountInput(input, existing?.account ?? null, existing?.secrets ?? null);
    const name = input.name.trim().toLowerCase();
    const duplicate = name === "" ? undefined : this.state.accounts.find((a) => a !== existing && a.account.name.trim().toLowerCase() === name);
    const duplicateField: FieldError[] = duplicate
      ? [{ field: "name", code: "duplicate", message: `Another account is already called “${duplicate.account.name}”.` }]
      : [];
    if (problems.length > 0) fail("validation", "Some fields need attention.", [...duplicateField, ...problems]);
    if (duplicate) fail("duplicate_name", `An account named “${duplicate.account.name}” already exists.`, duplicateField);
  }

  private materialize(
    input: AccountInput,
    base: StoredAccount | null,
    secrets: StoredAccount["secrets"],
    unreadable: StoredAccount["unreadable"] = {},
  ): Account {
    const now = this.now();
    const broker = MOCK_BROKERS.find((b) => b.kind === input.broker);
    const credentials = (broker?.credentialFields ?? []).flatMap((spec) => {
      const key: SecretKey = spec.field === "api_key" ? "apiKey" : "apiSecret";
      const value = secrets[key];
      const error = unreadable[key] ?? null;
      return value ? [{ field: spec.field, label: spec.label, masked: error ? "unreadable" : mask(value), error }] : [];
    });
    const history = base ? [...base.account.statusHistory] : [];
    if (!base || base.account.status !== input.status) {
      history.push({ status: input.status, reason: input.statusReason, changedAt: now });
    }
    return {
      id: base?.account.id ?? `acc_${(this.state.nextId++).toString(36).padStart(4, "0")}`,
      name: input.name.trim(),
      broker: input.broker,
      environment: input.environment,
      brokerAccountId: input.brokerAccountId,
      restUrl: input.restUrl,
      streamUrl: input.streamUrl,
      credentials,
      propFirm: { ...input.propFirm },
      risk: { ...input.risk },
      instruments: [...input.instruments],
      timeframes: [...input.timeframes],
      tradingHours: input.tradingHours ? { ...input.tradingHours } : null,
      weekendTrading: input.weekendTrading,
      notifications: { ...input.notifications },
      status: input.status,
      statusHistory: history,
      mode: base?.account.mode ?? "paper",
      createdAt: base?.account.createdAt ?? now,
      updatedAt: now,
    };
  }

  private add(input: AccountInput): Account {
    this.checkInput(input, null);
    const secrets = { apiKey: input.credentials.apiKey, apiSecret: input.credentials.apiSecret };
    const account = this.materialize(input, null, secrets);
    this.state.accounts.push({ account, secrets });
    return structuredClone(account);
  }

  private update(id: string, input: AccountInput): Account {
    const stored = this.find(id);
    this.checkInput(input, stored);
    const secrets = {
      apiKey: input.credentials.apiKey ?? stored.secrets.apiKey,
      apiSecret: input.credentials.apiSecret ?? stored.secrets.apiSecret,
    };
    // A secret entered again replaces the one that could not be opened.
    const unreadable = { ...stored.unreadable };
    if (input.credentials.apiKey !== null) delete unreadable.apiKey;
    if (input.credentials.apiSecret !== null) delete unreadable.apiSecret;
    stored.account = this.materialize(input, stored, secrets, unreadable);
    stored.secrets = secrets;
    stored.unreadable = unreadable;
    return structuredClone(stored.account);
  }
}
