/**
 * An in-memory stand-in for the Rust backend, for browser tests of the UI (mock builds only).
 * It implements every command of the IPC contract with the same error codes, so the UI can be
 * driven end to end without Tauri: the vault, accounts, two-factor step-up (real RFC 6238
 * codes), the hash-chained audit log, settings and the emergency purge. Secrets are kept in
 * plain objects: nothing here is sealed.
 */
import type { AccountInput } from "../bindings/AccountInput";
import type { ApiError } from "../bindings/ApiError";
import type { AppSettings } from "../bindings/AppSettings";
import type { AuditEvent } from "../bindings/AuditEvent";
import type { VaultProtection } from "../bindings/VaultProtection";
import type { VaultStatus } from "../bindings/VaultStatus";
import { MOCK_BROKERS, MOCK_PRESETS } from "./catalog";
import { checkInput, credentialFields, describeAccount, materialize } from "./mockAccounts";
import type { StoredAccount } from "./mockAccounts";
import { appendAudit } from "./mockAudit";
import type { AuditRow } from "./mockAudit";
import { MockConnections } from "./mockConnections";
import type { WireAccountConnections, WireConnectionEvent } from "./mockConnections";
import { MockApiError, fail } from "./mockErrors";
import { handleSecurityCommand } from "./mockSecurity";
import { MockTwoFactor, iso } from "./mockTwofa";
import type { MockClock, TwofaState } from "./mockTwofa";

export { MockApiError } from "./mockErrors";
export type { StoredAccount } from "./mockAccounts";

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
  twofa: TwofaState;
  audit: AuditRow[];
  settings: AppSettings;
  /** How far tests moved the mock's clock ahead of the real one (ms). */
  clockOffsetMs: number;
  /** The last user activity, on the mock's clock (auto-lock counts from here). */
  lastActivityMs: number;
  /** The live connections (`connections` scenario); absent means none. */
  connections?: WireAccountConnections[];
}

export type Scenario = "fresh" | "fresh-no-keychain" | "locked" | "unlocked" | "unlocked-2fa" | "keychain" | "keychain-missing" | "connections";

export const MOCK_PASSWORD = "correct horse battery";
export const MOCK_DATA_DIR = "/home/trader/.local/share/brokerdesk";
export const MOCK_VERSION = "0.1.0";


export class FakeBackend {
  private failures = new Map<string, ApiError>();
  /** The last CSV export and the last text put on the clipboard (test hooks). */
  lastExport: { path: string; csv: string } | null = null;
  clipboard: string | null = null;
  /** The backend's clock; instants it reports are converted back to the UI's real clock. */
  readonly clock: MockClock = {
    now: () => this.wallMs() + this.state.clockOffsetMs,
    stamp: (ms) => iso(ms - this.state.clockOffsetMs),
  };
  readonly twofa: MockTwoFactor;
  /** Where the connection manager's `connection-event`s go (the installer emits them). */
  onConnectionEvent: (event: WireConnectionEvent) => void = () => {};
  readonly connections = new MockConnections(
    () => (this.state.connections ??= []),
    (event) => this.onConnectionEvent(event),
  );

  constructor(
    public state: FakeState,
    readonly now: () => string = () => new Date().toISOString(),
    readonly wallMs: () => number = () => Date.now(),
  ) {
    this.twofa = new MockTwoFactor(state.twofa, this.clock, (event, detail) => this.record(event, null, detail));
    state.lastActivityMs = this.clock.now();
  }

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

  /** Moves the mock's clock forward; returns true if that made the vault auto-lock. */
  advanceClock(seconds: number): boolean {
    this.state.clockOffsetMs += seconds * 1000;
    const s = this.state;
    const minutes = s.settings.autoLockMinutes;
    if (minutes === null || !s.initialized || s.locked || s.protection !== "password") return false;
    if (this.clock.now() - s.lastActivityMs < minutes * 60_000) return false;
    this.lock();
    return true;
  }

  /** Handles one command; throws (or rejects with) `MockApiError` with the `ApiError` body on failure. */
  handle(command: string, args: Record<string, unknown> = {}): unknown {
    const injected = this.failures.get(command);
    if (injected) {
      this.failures.delete(command);
      throw new MockApiError(injected);
    }
    const s = this.state;
    const open = () => this.requireOpen();
    const stepUp = () => this.requireStepUp();
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
        stepUp();
        return this.changePassword(args.current as string | null, String(args.newPassword ?? ""));
      case "vault_rotate_key":
        open();
        s.keyGeneration += 1;
        this.record("key_rotated", null, `now at generation ${s.keyGeneration}`);
        return this.status();
      case "broker_catalog":
        return structuredClone(MOCK_BROKERS);
      case "prop_firm_presets":
        return structuredClone(MOCK_PRESETS);
      case "accounts_list":
        open();
        return s.accounts.map((a) => structuredClone(a.account));
      case "account_get":
        open();
        return structuredClone(this.find(String(args.id)).account);
      case "account_add": {
        const input = args.input as AccountInput;
        if (input.credentials.apiKey !== null || input.credentials.apiSecret !== null) stepUp();
        open();
        return this.add(input);
      }
      case "account_update": {
        const input = args.input as AccountInput;
        if (input.credentials.apiKey !== null || input.credentials.apiSecret !== null) stepUp();
        open();
        return this.update(String(args.id), input);
      }
      case "account_remove": {
        stepUp();
        const stored = this.find(String(args.id));
        s.accounts = s.accounts.filter((a) => a !== stored);
        this.record("account_removed", stored.account.id, describeAccount(stored.account));
        return null;
      }
      case "notify_test":
        return null;
      case "connections_snapshot":
        open();
        return this.connections.snapshot();
      case "connection_reconnect":
        open();
        return this.connections.reconnect(String(args.accountId));
      case "connections_reconnect_all":
        open();
        return this.connections.reconnectAll();
      default:
        return handleSecurityCommand(this, command, args);
    }
  }

  /** Appends an audit entry, as the backend does after each change (actor `app`). */
  record(event: AuditEvent, accountId: string | null = null, detail = ""): void {
    appendAudit(this.state.audit, { at: this.now(), event, actor: "app", accountId, detail });
  }

  requireOpen(): void {
    if (!this.state.initialized) fail("not_initialized", "The vault has not been created yet.");
    if (this.state.locked) fail("locked", "The vault is locked.");
  }

  /** For the changes that need a fresh two-factor verification once 2FA is on. */
  requireStepUp(): void {
    this.requireOpen();
    this.twofa.requireStepUp();
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
    this.record("vault_created", null, `protected by the ${password === null ? "OS keychain" : "master password"}`);
    return this.status();
  }

  /** `password` null unlocks a keychain vault from the OS keychain (it has no password). */
  private unlock(password: string | null): VaultStatus {
    if (!this.state.initialized) fail("not_initialized", "The vault has not been created yet.");
    if (this.state.protection === "keychain") {
      const keychainError = this.state.keychainUnlockError;
      if (keychainError) {
        this.record("vault_unlock_failed", null, keychainError.code);
        throw new MockApiError(structuredClone(keychainError));
      }
    } else {
      if (password === null) fail("password_missing", "the master password is required for this vault");
      if (password !== this.state.password) {
        this.record("vault_unlock_failed", null, "wrong_password");
        fail("wrong_password", "That master password is not correct.");
      }
    }
    this.state.locked = false;
    this.state.autoUnlockError = null;
    this.state.lastActivityMs = this.clock.now();
    this.record("vault_unlocked", null, password === null ? "from the OS keychain" : "with the master password");
    return this.status();
  }

  lock(): VaultStatus {
    if (!this.state.initialized) fail("not_initialized", "The vault has not been created yet.");
    if (this.state.protection !== "password") {
      fail("no_master_password", "The vault has no master password, so there is nothing to unlock it with. Set one first.");
    }
    this.state.locked = true;
    this.record("vault_locked");
    return this.status();
  }

  private changePassword(current: string | null, next: string): VaultStatus {
    if (this.state.protection === "password" && current !== this.state.password) {
      fail("wrong_password", "The current master password is not correct.");
    }
    if (next.length < 8) fail("weak_password", "The master password needs at least 8 characters.");
    this.state.password = next;
    this.state.protection = "password";
    this.record("master_password_changed");
    return this.status();
  }

  private find(id: string): StoredAccount {
    const found = this.state.accounts.find((a) => a.account.id === id);
    return found ?? fail("not_found", `No account with id ${id}.`);
  }

  private newId = () => `acc_${(this.state.nextId++).toString(36).padStart(4, "0")}`;

  private add(input: AccountInput) {
    checkInput(this.state.accounts, input, null);
    const secrets = { apiKey: input.credentials.apiKey, apiSecret: input.credentials.apiSecret };
    const account = materialize(input, null, secrets, {}, this.now(), this.newId);
    this.state.accounts.push({ account, secrets });
    this.record("account_created", account.id, describeAccount(account));
    if (secrets.apiKey !== null || secrets.apiSecret !== null) this.record("credentials_stored", account.id, credentialFields(account));
    return structuredClone(account);
  }

  private update(id: string, input: AccountInput) {
    const stored = this.find(id);
    checkInput(this.state.accounts, input, stored);
    const secrets = {
      apiKey: input.credentials.apiKey ?? stored.secrets.apiKey,
      apiSecret: input.credentials.apiSecret ?? stored.secrets.apiSecret,
    };
    // A secret entered again replaces the one that could not be opened.
    const unreadable = { ...stored.unreadable };
    if (input.credentials.apiKey !== null) delete unreadable.apiKey;
    if (input.credentials.apiSecret !== null) delete unreadable.apiSecret;
    stored.account = materialize(input, stored, secrets, unreadable, this.now(), this.newId);
    stored.secrets = secrets;
    stored.unreadable = unreadable;
    this.record("account_edited", id, stored.account.name);
    if (input.credentials.apiKey !== null || input.credentials.apiSecret !== null) {
      this.record("credentials_rotated", id, credentialFields(stored.account));
    }
    return structuredClone(stored.account);
  }
}
