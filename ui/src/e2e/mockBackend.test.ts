// The browser tests trust the fake backend to behave like the contract; these pin that down.
import { describe, expect, it } from "vitest";
import type { Account } from "../bindings/Account";
import type { AccountInput } from "../bindings/AccountInput";
import { emptyForm, toAccountInput } from "../lib/accountForm";
import type { SavedAccount } from "../bindings/SavedAccount";
import { FakeBackend, MOCK_PASSWORD, MockApiError } from "./mockBackend";
import { MOCK_MULTI_ACCOUNTS } from "./mockCheck";
import { seedConnections } from "./mockConnections";
import type { WireAccountConnections } from "./mockConnections";
import { KEYCHAIN_KEY_MISSING, scenarioState } from "./scenarios";

const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof MockApiError) return e.body;
    throw e;
  }
  throw new Error("expected an ApiError");
};

const oandaInput = (patch: Partial<AccountInput> = {}): AccountInput => {
  const r = toAccountInput({ ...emptyForm(), name: "Swing", broker: "oanda", brokerAccountId: "101-004-1-001", credentials: { apiKey: "0123456789abcdef1234", apiSecret: "" } });
  if (!r.ok) throw new Error("bad fixture");
  return { ...r.input, ...patch };
};

describe("FakeBackend", () => {
  it("guards the vault: not_initialized, keychain_unavailable, weak_password, wrong_password, locked", () => {
    const b = new FakeBackend(scenarioState("fresh-no-keychain"));
    expect(errorOf(() => b.handle("accounts_list")).code).toBe("not_initialized");
    expect(errorOf(() => b.handle("vault_init", { password: null })).code).toBe("keychain_unavailable");
    expect(errorOf(() => b.handle("vault_init", { password: "short" })).code).toBe("weak_password");
    expect(b.handle("vault_init", { password: MOCK_PASSWORD })).toMatchObject({ initialized: true, locked: false, protection: "password" });
    b.handle("vault_lock");
    expect(errorOf(() => b.handle("accounts_list")).code).toBe("locked");
    expect(errorOf(() => b.handle("vault_unlock", { password: "nope" })).code).toBe("wrong_password");
    expect(b.handle("vault_unlock", { password: MOCK_PASSWORD })).toMatchObject({ locked: false });
  });

  it("refuses to lock a keychain-only vault", () => {
    const b = new FakeBackend(scenarioState("keychain"));
    expect(errorOf(() => b.handle("vault_lock")).code).toBe("no_master_password");
  });

  it("keychain-missing: locked at start with autoUnlockError; retrying with password null unlocks once the key is back", () => {
    const b = new FakeBackend(scenarioState("keychain-missing"));
    expect(b.handle("vault_status")).toMatchObject({ initialized: true, locked: true, protection: "keychain", autoUnlockError: KEYCHAIN_KEY_MISSING });
    expect(errorOf(() => b.handle("accounts_list")).code).toBe("locked");
    expect(errorOf(() => b.handle("vault_unlock", { password: null }))).toEqual(KEYCHAIN_KEY_MISSING);
    b.state.keychainUnlockError = null;
    expect(b.handle("vault_unlock", { password: null })).toMatchObject({ locked: false, autoUnlockError: null });
    expect(b.handle("accounts_list")).toHaveLength(2);
  });

  it("a password vault needs its password (password_missing for null)", () => {
    const b = new FakeBackend(scenarioState("locked"));
    expect(b.handle("vault_status")).toMatchObject({ locked: true, autoUnlockError: null });
    expect(errorOf(() => b.handle("vault_unlock", { password: null })).code).toBe("password_missing");
  });

  it("reports a stored secret it cannot open as unreadable, until it is entered again", () => {
    const b = new FakeBackend(scenarioState("unlocked"));
    const alpaca = () => (b.handle("account_get", { id: "acc_alpaca" }) as Account).credentials;
    expect(alpaca()).toEqual([
      { field: "api_key", label: "API key ID", masked: "unreadable", error: expect.objectContaining({ code: "ciphertext_tampered" }) },
      { field: "api_secret", label: "Secret key", masked: "••••k2Lw", error: null },
    ]);
    const input = (apiKey: string | null): AccountInput => ({
      ...oandaInput({ name: "Alpaca swing", broker: "alpaca", brokerAccountId: null, instruments: [] }),
      credentials: { apiKey, apiSecret: null },
    });
    b.handle("account_update", { id: "acc_alpaca", input: input(null) });
    expect(alpaca()[0]).toMatchObject({ masked: "unreadable" });
    b.handle("account_update", { id: "acc_alpaca", input: input("AKNEWKEY0042") });
    expect(alpaca()).toEqual([
      { field: "api_key", label: "API key ID", masked: "••••0042", error: null },
      { field: "api_secret", label: "Secret key", masked: "••••k2Lw", error: null },
    ]);
  });

  it("reports a taken name inside a validation error when other fields are invalid too", () => {
    const b = new FakeBackend(scenarioState("unlocked"));
    const both = errorOf(() => b.handle("account_add", { input: oandaInput({ name: "FTMO challenge", brokerAccountId: "x" }) }));
    expect(both.code).toBe("validation");
    expect(both.fields.map((f) => [f.field, f.code])).toEqual([
      ["name", "duplicate"],
      ["brokerAccountId", "format"],
    ]);
  });

  it("answers notify_test with null and refuses endpoints for the paper broker", () => {
    const b = new FakeBackend(scenarioState("unlocked"));
    expect(b.handle("notify_test")).toBeNull();
    const paper = { ...oandaInput({ broker: "paper", brokerAccountId: null, instruments: [] }), credentials: { apiKey: null, apiSecret: null } };
    expect(b.handle("account_add", { input: paper })).toMatchObject({
      account: { broker: "paper", credentials: [] },
      check: { status: "skipped", reason: "the built-in paper broker has no credentials to check" },
    });
    const withUrl = errorOf(() => b.handle("account_add", { input: { ...paper, name: "Sim 2", restUrl: "https://x.test" } }));
    expect(withUrl.fields).toEqual([expect.objectContaining({ field: "restUrl", code: "not_applicable" })]);
  });

  it("validates accounts with field paths and rejects duplicate names", () => {
    const b = new FakeBackend(scenarioState("unlocked"));
    const bad = errorOf(() => b.handle("account_add", { input: oandaInput({ brokerAccountId: "x", instruments: ["EUR_USD", "EURUSD"] }) }));
    expect(bad.code).toBe("validation");
    expect(bad.fields.map((f) => f.field)).toEqual(["brokerAccountId", "instruments[1]"]);
    const dup = errorOf(() => b.handle("account_add", { input: oandaInput({ name: "ftmo CHALLENGE" }) }));
    expect(dup).toMatchObject({ code: "duplicate_name", fields: [{ field: "name" }] });
  });

  it("masks secrets, keeps them on update when null, and asks for new ones when the environment changes", () => {
    const b = new FakeBackend(scenarioState("unlocked"), () => "2026-11-20T10:00:00Z");
    const added = (b.handle("account_add", { input: oandaInput() }) as { account: { id: string; credentials: unknown[]; statusHistory: unknown[] } }).account;
    expect(added.credentials).toEqual([{ field: "api_key", label: "Personal access token", masked: "••••1234", error: null }]);
    expect(added.statusHistory).toEqual([{ status: "active", reason: null, changedAt: "2026-11-20T10:00:00Z" }]);
    const kept = (b.handle("account_update", { id: added.id, input: oandaInput({ credentials: { apiKey: null, apiSecret: null }, status: "suspended", statusReason: "news" }) }) as { account: { credentials: unknown[]; statusHistory: unknown[] } }).account;
    expect(kept.credentials).toEqual(added.credentials);
    expect(kept.statusHistory).toHaveLength(2);
    const env = errorOf(() => b.handle("account_update", { id: added.id, input: oandaInput({ environment: "live", credentials: { apiKey: null, apiSecret: null } }) }));
    expect(env.fields).toEqual([expect.objectContaining({ field: "credentials.apiKey", code: "required" })]);
    const broker = errorOf(() => b.handle("account_update", { id: added.id, input: oandaInput({ broker: "tradier" }) }));
    expect(broker.fields.map((f) => f.field)).toContain("broker");
    b.handle("account_remove", { id: added.id });
    expect(errorOf(() => b.handle("account_get", { id: added.id })).code).toBe("not_found");
  });

  it("checks with the broker before saving: verified, refused (nothing saved), unreachable (saved unverified), skipped", () => {
    const b = new FakeBackend(scenarioState("unlocked"));
    const before = b.state.accounts.length;
    const verified = b.handle("account_add", { input: oandaInput() }) as SavedAccount;
    expect(verified.check).toEqual({
      status: "verified",
      summary: { accountId: "101-004-1-001", accountLast4: "-001", accountType: "margin", currency: "USD", balance: "100000", equity: "100412.57", buyingPower: "97240.18" },
    });

    const refused = errorOf(() => b.handle("account_add", { input: oandaInput({ name: "Wrong", credentials: { apiKey: "wrong-token-0123456789", apiSecret: null } }) }));
    expect(refused.code).toBe("broker_auth");
    expect(refused.message).toMatch(/^the broker refused the credentials: .*; nothing was saved$/);
    expect(b.state.accounts).toHaveLength(before + 1);

    const offline = b.handle("account_add", { input: oandaInput({ name: "Offline", restUrl: "https://offline.invalid" }) }) as SavedAccount;
    expect(offline.check).toMatchObject({ status: "unreachable", code: "broker_network" });
    expect(b.state.accounts).toHaveLength(before + 2);

    const unchecked = b.handle("account_add", { input: oandaInput({ name: "Unchecked", credentials: { apiKey: "wrong-but-unchecked-0001", apiSecret: null } }), check: false }) as SavedAccount;
    expect(unchecked.check).toEqual({ status: "skipped", reason: "not checked, as asked" });

    // An edit that changes nothing the broker checks is not checked.
    const same = b.handle("account_update", { id: verified.account.id, input: oandaInput({ credentials: { apiKey: null, apiSecret: null }, status: "suspended" }) }) as SavedAccount;
    expect(same.check).toEqual({ status: "skipped", reason: "nothing the broker checks has changed" });
  });

  it("validates before checking, and checks before asking for the step-up", () => {
    const b = new FakeBackend(scenarioState("unlocked-2fa"));
    expect(errorOf(() => b.handle("account_add", { input: oandaInput({ name: "" }) })).code).toBe("validation");
    expect(errorOf(() => b.handle("account_add", { input: oandaInput({ credentials: { apiKey: "wrong-token-0123456789", apiSecret: null } }) })).code).toBe("broker_auth");
    expect(errorOf(() => b.handle("account_add", { input: oandaInput() })).code).toBe("step_up_required");
  });

  it("asks which account a token reaching several is for, and lists them", () => {
    const b = new FakeBackend(scenarioState("unlocked"));
    const multi = oandaInput({ brokerAccountId: null, credentials: { apiKey: "multi-token-0123456789", apiSecret: null } });
    const choose = errorOf(() => b.handle("account_add", { input: multi }));
    expect(choose).toMatchObject({ code: "choose_broker_account", fields: [{ field: "brokerAccountId", code: "choose_broker_account" }] });
    expect(b.handle("broker_accounts", { input: multi })).toEqual(MOCK_MULTI_ACCOUNTS);
    const saved = b.handle("account_add", { input: { ...multi, brokerAccountId: MOCK_MULTI_ACCOUNTS[1]!.accountId } }) as SavedAccount;
    expect(saved.account.brokerAccountId).toBe("101-004-5550100-002");
    expect(saved.check).toMatchObject({ status: "verified", summary: { accountLast4: "-002" } });
    // A token reaching one account fills its id in.
    const single = b.handle("account_add", { input: oandaInput({ name: "Single", brokerAccountId: null }) }) as SavedAccount;
    expect(single.account.brokerAccountId).toMatch(/^101-004-\d+-001$/);
    expect(errorOf(() => b.handle("broker_accounts", { input: oandaInput({ credentials: { apiKey: "wrong-token-0123456789", apiSecret: null } }) })).code).toBe("broker_auth");
  });

  it("tests a connection without saving; an existing account's empty credentials are the stored ones; at most 5 checks a minute", () => {
    const b = new FakeBackend(scenarioState("unlocked"));
    const before = structuredClone(b.state.accounts);
    const draft = oandaInput({ name: "Draft" });
    expect(b.handle("account_check", { id: null, input: draft })).toMatchObject({ status: "verified" });
    const ftmo = oandaInput({ name: "FTMO challenge", brokerAccountId: "101-004-2718281-001", credentials: { apiKey: null, apiSecret: null } });
    expect(b.handle("account_check", { id: "acc_ftmo", input: ftmo })).toMatchObject({ status: "verified", summary: { accountId: "101-004-2718281-001" } });
    const gateway = { ...oandaInput({ name: "Gateway", broker: "ibkr", brokerAccountId: "DU1234567", instruments: [] }), credentials: { apiKey: null, apiSecret: null } };
    expect(b.handle("account_check", { id: null, input: gateway })).toEqual({ status: "skipped", reason: "no credentials to check" });
    expect(errorOf(() => b.handle("account_check", { id: null, input: { ...ftmo, name: "Other" } })).code).toBe("validation");
    expect(b.state.accounts).toEqual(before);
    for (let i = 0; i < 4; i++) b.handle("account_check", { id: null, input: draft });
    expect(errorOf(() => b.handle("account_check", { id: null, input: draft })).code).toBe("verify_rate_limited");
    b.advanceClock(61);
    expect(b.handle("account_check", { id: null, input: draft })).toMatchObject({ status: "verified" });
  });

  it("sets watchlists (deduplicated, validated), searches OANDA's instruments, and streams prices of connected price channels", () => {
    const b = new FakeBackend(scenarioState("connections"), undefined, undefined, () => 0.5);
    const account = b.handle("watchlist_set", { id: "acc_ftmo", instruments: ["EUR_USD", " USD_JPY ", "EUR_USD", "FOO_BAR"] }) as Account;
    expect(account.instruments).toEqual(["EUR_USD", "USD_JPY", "FOO_BAR"]);
    expect(errorOf(() => b.handle("watchlist_set", { id: "acc_ftmo", instruments: ["eurusd"] })).fields[0]).toMatchObject({ field: "instruments[0]" });
    expect((b.handle("instruments_search", { id: "acc_ftmo", query: "usd_j" }) as { symbol: string }[]).map((i) => i.symbol)).toEqual(["USD_JPY"]);
    expect((b.handle("instruments_search", { id: "acc_ftmo", query: "gold" }) as { symbol: string }[]).map((i) => i.symbol)).toEqual(["XAU_USD"]);
    expect(errorOf(() => b.handle("instruments_search", { id: "acc_alpaca", query: "aa" })).code).toBe("search_unsupported");

    const round = b.priceStep();
    // Tastytrade streams too (its own instruments).
    expect(round.updates.map((u) => u.accountId)).toEqual(["acc_ftmo", "acc_tasty"]);
    expect(round.updates[0]!.ticks.map((t) => t.instrument)).toEqual(["EUR_USD", "USD_JPY"]);
    expect(round.notices).toEqual([expect.objectContaining({ accountId: "acc_ftmo", instrument: "FOO_BAR", code: "unknown_instrument" })]);
    expect(b.priceStep().notices).toEqual([]);
    const snapshot = b.handle("prices_snapshot", { id: "acc_ftmo" }) as { instrument: string; bid: number }[];
    expect(snapshot.map((t) => t.instrument)).toEqual(["EUR_USD", "USD_JPY"]);
    expect(b.handle("prices_snapshot", { id: "acc_alpaca" })).toEqual([]);

    // A dropped price channel stops the feed until it is connected again.
    const ftmoUpdates = () => b.priceStep().updates.filter((u) => u.accountId === "acc_ftmo");
    b.connections.push("acc_ftmo", "price", { state: "reconnecting", attempt: 1, nextRetryMs: 1000, lastError: "closed" });
    expect(ftmoUpdates()).toEqual([]);
    b.connections.push("acc_ftmo", "price", { state: "connected" });
    expect(ftmoUpdates()).toHaveLength(1);

    // A first watchlist on an account without a price channel starts one.
    b.handle("watchlist_set", { id: "acc_alpaca", instruments: ["AAPL"] });
    expect(b.streaming("acc_alpaca")).toBe(true);
    expect(b.pushPrices("acc_alpaca", [{ instrument: "AAPL", bid: "229.5" }]).ticks[0]).toMatchObject({ instrument: "AAPL", bid: "229.5", ask: null });
  });

  it("verifies saved accounts with the broker: summary, refusal (audited), unreachable, unreadable, paper, rate limit", () => {
    const b = new FakeBackend(scenarioState("connections"));
    expect(b.handle("account_verify", { id: "acc_ftmo" })).toEqual({
      accountId: "101-004-2718281-001",
      accountLast4: "-001",
      accountType: "margin",
      currency: "USD",
      balance: "100000",
      equity: "100412.57",
      buyingPower: "97240.18",
    });
    expect(b.handle("account_verify", { id: "acc_tasty" })).toMatchObject({ accountId: "5WT00001", accountType: "Individual Margin" });
    // Alpaca's stored key cannot be opened: the vault's error, before the broker is asked.
    expect(errorOf(() => b.handle("account_verify", { id: "acc_alpaca" })).code).toBe("ciphertext_tampered");

    const wrong = b.handle("account_add", { input: oandaInput({ name: "Wrong", credentials: { apiKey: "wrong-token-0123456789", apiSecret: null } }), check: false }) as SavedAccount;
    const refused = errorOf(() => b.handle("account_verify", { id: wrong.account.id }));
    expect(refused.code).toBe("broker_auth");
    expect(refused.message).not.toContain("nothing was saved");
    expect(b.state.audit.at(-1)).toMatchObject({ event: "connection_auth_failed", accountId: wrong.account.id });

    const offline = b.handle("account_add", { input: oandaInput({ name: "Away", restUrl: "https://offline.invalid" }), check: false }) as SavedAccount;
    expect(errorOf(() => b.handle("account_verify", { id: offline.account.id }))).toMatchObject({
      code: "broker_network",
      message: "network error: could not connect to offline.invalid (connection refused)",
    });

    const paper = toAccountInput({ ...emptyForm(), name: "Sim", broker: "paper" });
    if (!paper.ok) throw new Error("bad fixture");
    const sim = b.handle("account_add", { input: paper.input }) as SavedAccount;
    expect(errorOf(() => b.handle("account_verify", { id: sim.account.id })).code).toBe("broker_unsupported");
    expect(errorOf(() => b.handle("account_verify", { id: "nope" })).code).toBe("not_found");

    // Five checks per account per minute (this one was checked once above).
    for (let i = 0; i < 4; i++) b.handle("account_verify", { id: "acc_ftmo" });
    const limited = errorOf(() => b.handle("account_verify", { id: "acc_ftmo" }));
    expect(limited).toMatchObject({ code: "verify_rate_limited" });
    expect(limited.message).toMatch(/^FTMO challenge was checked 5 times in the last minute/);
    expect(b.handle("account_verify", { id: "acc_tasty" })).toMatchObject({ accountId: "5WT00001" });
    b.advanceClock(61);
    expect(b.handle("account_verify", { id: "acc_ftmo" })).toMatchObject({ accountLast4: "-001" });
  });

  it("connections: quality from latency and drops, and a session renewed when it nears its expiry", () => {
    let wall = Date.parse("2026-11-21T12:00:00Z");
    const state = scenarioState("connections");
    state.connections = seedConnections(wall);
    const b = new FakeBackend(state, undefined, () => wall);
    const channel = (account: string, which: "order" | "price") =>
      (b.handle("connections_snapshot") as WireAccountConnections[]).find((a) => a.accountId === account)!.channels.find((c) => c.channel === which)!;
    expect(channel("acc_ftmo", "order")).toMatchObject({ quality: "good", dropsLastHour: 0, sessionExpiresAt: null });
    const alpaca = channel("acc_alpaca", "order");
    expect(alpaca).toMatchObject({ quality: "fair", dropsLastHour: 1 });
    expect(alpaca.history.map((h) => h.state.state)).toEqual(["connecting", "connected", "reconnecting", "connected"]);
    expect(channel("acc_tradier", "order")).toMatchObject({ quality: "down" });
    expect(channel("acc_tasty", "order").sessionExpiresAt).toBe("2026-11-21T12:12:34.000Z");

    wall += 740_000; // 14 s left: the connector renews it
    expect(channel("acc_tasty", "order").sessionExpiresAt).toBe("2026-11-21T12:27:20.000Z");

    b.connections.patch("acc_ftmo", "order", { latencyMs: 450 });
    expect(channel("acc_ftmo", "order").quality).toBe("fair");
    b.connections.patch("acc_ftmo", "order", { dropsLastHour: 3 });
    expect(channel("acc_ftmo", "order").quality).toBe("poor");
    b.connections.push("acc_ftmo", "price", { state: "reconnecting", attempt: 1, nextRetryMs: 1000, lastError: "closed" });
    expect(channel("acc_ftmo", "price")).toMatchObject({ quality: "poor", dropsLastHour: 1 });
  });
});
