/**
 * An in-memory stand-in for the Rust backend, for browser tests of the UI (mock builds only).
 * It implements every command of the IPC contract with the same error codes, so the UI can be
 * driven end to end without Tauri: the vault, accounts (checked with a fake broker before they
 * are saved, see `mockCheck`), two-factor step-up (real RFC 6238 codes), the hash-chained audit
 * log, settings, the emergency purge, connections, watchlists and a price feed (`mockPrices`).
 * Secrets are kept in plain objects: nothing here is sealed.
 */
import type { Account } from "../bindings/Account";
import type { AccountInput } from "../bindings/AccountInput";
import type { AccountSummary } from "../bindings/AccountSummary";
import type { ApiError } from "../bindings/ApiError";
import type { AppSettings } from "../bindings/AppSettings";
import type { AuditEvent } from "../bindings/AuditEvent";
import type { CheckOutcome } from "../bindings/CheckOutcome";
import type { FeedNotice } from "../bindings/FeedNotice";
import type { PriceUpdate } from "../bindings/PriceUpdate";
import type { SavedAccount } from "../bindings/SavedAccount";
import type { Tick } from "../bindings/Tick";
import type { VaultProtection } from "../bindings/VaultProtection";
import type { VaultStatus } from "../bindings/VaultStatus";
import { MOCK_BROKERS, MOCK_PRESETS } from "./catalog";
import { checkInput, credentialFields, describeAccount, materialize } from "./mockAccounts";
import type { StoredAccount } from "./mockAccounts";
import { appendAudit } from "./mockAudit";
import type { AuditRow } from "./mockAudit";
import { MockConnections } from "./mockConnections";
import type { WireAccountConnections, WireConnectionEvent } from "./mockConnections";
import { mockBrokerAccounts, mockCheck, mockVerify } from "./mockCheck";
import type { CheckTarget } from "./mockCheck";
import { MockApiError, fail } from "./mockErrors";
import { MockPrices, SEARCHABLE, searchInstruments } from "./mockPrices";
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
/** Checks with the broker per credential (drafts) or per account per minute, like `VERIFY_PER_MINUTE`. */
export const CHECKS_PER_MINUTE = 5;


/** An account's configuration as a full-replacement input (credentials kept), like core's `AccountInput::from_account`. */
export function inputFromAccount(a: Account): AccountInput {
  return {
    name: a.name,
    broker: a.broker,
    environment: a.environment,
    brokerAccountId: a.brokerAccountId,
    restUrl: a.restUrl,
    streamUrl: a.streamUrl,
    credentials: { apiKey: null, apiSecret: null },
    propFirm: { ...a.propFirm },
    risk: { ...a.risk },
    instruments: [...a.instruments],
    timeframes: [...a.timeframes],
    tradingHours: a.tradingHours ? { ...a.tradingHours } : null,
    weekendTrading: a.weekendTrading,
    notifications: { ...a.notifications },
    status: a.status,
    statusReason: null,
  };
}

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
    () => this.wallMs(),
  );
  /** The price feed of the accounts that stream (not persisted: a reload starts new prices). */
  readonly prices: MockPrices;
  /** Recent broker checks (mock-clock ms) by credential fingerprint or account id. */
  private checks = new Map<string, number[]>();

  constructor(
    public state: FakeState,
    readonly now: () => string = () => new Date().toISOString(),
    readonly wallMs: () => number = () => Date.now(),
    random: () => number = Math.random,
  ) {
    this.prices = new MockPrices(random);
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
      case "account_add":
        open();
        return this.addChecked(args.input as AccountInput, args.check !== false);
      case "account_update":
        open();
        return this.updateChecked(String(args.id), args.input as AccountInput, args.check !== false);
      case "account_check": {
        open();
        const existing = typeof args.id === "string" ? this.find(args.id) : null;
        const input = args.input as AccountInput;
        checkInput(s.accounts, input, existing);
        return this.check(existing, input).outcome;
      }
      case "account_verify":
        open();
        return this.verify(String(args.id));
      case "broker_accounts": {
        open();
        const target = this.target(null, args.input as AccountInput);
        this.allowCheck(this.fingerprint(target));
        return mockBrokerAccounts(target);
      }
      case "watchlist_set":
        open();
        return this.setWatchlist(String(args.id), (args.instruments as string[]) ?? []);
      case "instruments_search":
        open();
        return this.search(String(args.id), String(args.query ?? ""));
      case "prices_snapshot": {
        const stored = s.accounts.find((a) => a.account.id === String(args.id));
        if (!stored || !this.priceChannel(stored.account.id)) return [];
        return this.prices.snapshot(stored.account.id, stored.account.instruments);
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

  /** The draft as the broker sees it: for an existing account, credentials left empty are the stored ones. */
  private target(existing: StoredAccount | null, input: AccountInput): CheckTarget {
    return {
      broker: input.broker,
      environment: input.environment,
      brokerAccountId: input.brokerAccountId?.trim() ? input.brokerAccountId.trim() : null,
      restUrl: input.restUrl,
      apiKey: input.credentials.apiKey ?? existing?.secrets.apiKey ?? null,
      apiSecret: input.credentials.apiSecret ?? existing?.secrets.apiSecret ?? null,
    };
  }

  private fingerprint(t: CheckTarget): string {
    return `${t.broker}\u0000${t.apiKey ?? ""}\u0000${t.apiSecret ?? ""}`;
  }

  /** Rate-limits checks: `verify_rate_limited` after CHECKS_PER_MINUTE in a minute. */
  private allowCheck(key: string, what = "This credential"): void {
    const now = this.clock.now();
    const recent = (this.checks.get(key) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= CHECKS_PER_MINUTE) {
      fail("verify_rate_limited", `${what} was checked ${CHECKS_PER_MINUTE} times in the last minute; wait a minute before checking again`);
    }
    recent.push(now);
    this.checks.set(key, recent);
  }

  /** Checks a (validated) draft with the fake broker; throws its refusals. */
  private check(existing: StoredAccount | null, input: AccountInput): { outcome: CheckOutcome; brokerAccountId: string | null } {
    const target = this.target(existing, input);
    if (target.broker !== "paper" && (target.apiKey !== null || target.apiSecret !== null)) {
      this.allowCheck(existing ? existing.account.id : this.fingerprint(target));
    }
    return mockCheck(target);
  }

  /**
   * `account_verify`: checks the stored credentials with the broker (sharing the account's check
   * budget with `account_check`); a refusal is audited like the backend does.
   */
  private verify(id: string): AccountSummary {
    const stored = this.find(id);
    const a = stored.account;
    if (a.broker !== "paper") this.allowCheck(a.id, a.name);
    const unreadable = Object.values(stored.unreadable ?? {})[0];
    if (unreadable) throw new MockApiError(structuredClone(unreadable));
    try {
      return mockVerify(this.target(stored, inputFromAccount(a)));
    } catch (e) {
      if (e instanceof MockApiError && e.body.code === "broker_auth") {
        this.record("connection_auth_failed", a.id, `${a.name}: the broker refused the stored credentials`);
      }
      throw e;
    }
  }

  private addChecked(input: AccountInput, check: boolean): SavedAccount {
    let outcome: CheckOutcome = { status: "skipped", reason: "not checked, as asked" };
    let toSave = input;
    if (check) {
      checkInput(this.state.accounts, input, null);
      const result = this.check(null, input);
      outcome = result.outcome;
      toSave = { ...input, brokerAccountId: result.brokerAccountId };
    }
    // Like the backend: storing credentials needs the step-up, asked for after the check.
    if (input.credentials.apiKey !== null || input.credentials.apiSecret !== null) this.requireStepUp();
    return { account: this.add(toSave), check: outcome };
  }

  private updateChecked(id: string, input: AccountInput, check: boolean): SavedAccount {
    const stored = this.find(id);
    const current = stored.account;
    const newCredentials = input.credentials.apiKey !== null || input.credentials.apiSecret !== null;
    const changed =
      newCredentials ||
      input.environment !== current.environment ||
      input.restUrl !== current.restUrl ||
      input.streamUrl !== current.streamUrl ||
      input.brokerAccountId !== current.brokerAccountId;
    let outcome: CheckOutcome;
    let toSave = input;
    if (!check) outcome = { status: "skipped", reason: "not checked, as asked" };
    else if (!changed) outcome = { status: "skipped", reason: "nothing the broker checks has changed" };
    else {
      checkInput(this.state.accounts, input, stored);
      const result = this.check(stored, input);
      outcome = result.outcome;
      toSave = { ...input, brokerAccountId: result.brokerAccountId };
    }
    if (newCredentials) this.requireStepUp();
    return { account: this.update(id, toSave), check: outcome };
  }

  /** `watchlist_set`: no step-up; applied to the running connection (a price channel starts if needed). */
  private setWatchlist(id: string, instruments: string[]): Account {
    const stored = this.find(id);
    const list: string[] = [];
    for (const raw of instruments) {
      const symbol = String(raw).trim();
      if (symbol !== "" && !list.includes(symbol)) list.push(symbol);
    }
    const input: AccountInput = { ...inputFromAccount(stored.account), instruments: list };
    checkInput(this.state.accounts, input, stored);
    stored.account = { ...stored.account, instruments: list, updatedAt: this.now() };
    this.prices.retain(id, list);
    const connected = this.state.connections?.find((c) => c.accountId === id);
    if (connected && list.length > 0 && !this.priceChannel(id)) {
      this.connections.addChannel(id, "price");
      this.connections.push(id, "price", { state: "connecting" });
      this.connections.push(id, "price", { state: "connected" });
    }
    return structuredClone(stored.account);
  }

  private search(id: string, query: string) {
    const stored = this.find(id);
    const a = stored.account;
    if (a.broker === "paper" || a.credentials.length === 0) {
      fail("stream_unavailable", `${a.name} has no price stream: the built-in paper broker streams nothing, and a broker account needs stored credentials`);
    }
    if (!SEARCHABLE.has(a.broker)) fail("search_unsupported", `${a.name}'s broker offers no instrument search; type the symbol`);
    return searchInstruments(a.broker, query);
  }

  /** The account's price channel, if it has one. */
  priceChannel(accountId: string) {
    return this.state.connections?.find((c) => c.accountId === accountId)?.channels.find((c) => c.channel === "price");
  }

  /** Whether the account's prices flow now (its price channel is connected). */
  streaming(accountId: string): boolean {
    return this.priceChannel(accountId)?.state.state === "connected";
  }

  /** One round of the feed: a batch for every account that streams, and any notices. */
  priceStep(): { updates: PriceUpdate[]; notices: FeedNotice[] } {
    const updates: PriceUpdate[] = [];
    const notices: FeedNotice[] = [];
    const at = new Date(this.wallMs()).toISOString();
    for (const { account } of this.state.accounts) {
      if (!this.streaming(account.id) || account.instruments.length === 0) continue;
      const step = this.prices.step(account.id, account.broker, account.instruments, at);
      if (step.ticks.length > 0) updates.push({ accountId: account.id, ticks: step.ticks });
      notices.push(...step.notices);
    }
    return { updates, notices };
  }

  /** Sets prices of an account as given (tests): the `price-update` to emit. */
  pushPrices(accountId: string, ticks: (Partial<Tick> & { instrument: string })[]): PriceUpdate {
    return { accountId, ticks: this.prices.push(accountId, ticks, new Date(this.wallMs()).toISOString()) };
  }

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
