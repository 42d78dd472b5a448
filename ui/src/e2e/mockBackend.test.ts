// The browser tests trust the fake backend to behave like the contract; these pin that down.
import { describe, expect, it } from "vitest";
import type { Account } from "../bindings/Account";
import type { AccountInput } from "../bindings/AccountInput";
import { emptyForm, toAccountInput } from "../lib/accountForm";
import { FakeBackend, MOCK_PASSWORD, MockApiError } from "./mockBackend";
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
    expect(b.handle("account_add", { input: paper })).toMatchObject({ broker: "paper", credentials: [] });
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
    const added = b.handle("account_add", { input: oandaInput() }) as { id: string; credentials: unknown[]; statusHistory: unknown[] };
    expect(added.credentials).toEqual([{ field: "api_key", label: "Personal access token", masked: "••••1234", error: null }]);
    expect(added.statusHistory).toEqual([{ status: "active", reason: null, changedAt: "2026-11-20T10:00:00Z" }]);
    const kept = b.handle("account_update", { id: added.id, input: oandaInput({ credentials: { apiKey: null, apiSecret: null }, status: "suspended", statusReason: "news" }) }) as { credentials: unknown[]; statusHistory: unknown[] };
    expect(kept.credentials).toEqual(added.credentials);
    expect(kept.statusHistory).toHaveLength(2);
    const env = errorOf(() => b.handle("account_update", { id: added.id, input: oandaInput({ environment: "live", credentials: { apiKey: null, apiSecret: null } }) }));
    expect(env.fields).toEqual([expect.objectContaining({ field: "credentials.apiKey", code: "required" })]);
    const broker = errorOf(() => b.handle("account_update", { id: added.id, input: oandaInput({ broker: "tradier" }) }));
    expect(broker.fields.map((f) => f.field)).toContain("broker");
    b.handle("account_remove", { id: added.id });
    expect(errorOf(() => b.handle("account_get", { id: added.id })).code).toBe("not_found");
  });
});
