import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { VaultStatus } from "../bindings/VaultStatus";
import * as api from "./client";
import { BrokerdeskError } from "./client";

const status: VaultStatus = {
  initialized: true,
  locked: false,
  protection: "password",
  keychainAvailable: false,
  keychainError: "no dbus",
  autoUnlockError: null,
  keyGeneration: 2,
  dataDir: "/data",
  version: "0.1.0",
};

afterEach(() => clearMocks());

describe("client", () => {
  it("calls each command by its name with camelCase arguments", async () => {
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      return cmd === "accounts_list" ? [] : cmd === "notify_test" ? null : status;
    });
    await api.vaultInit(null);
    await api.vaultChangePassword(null, "new password");
    await api.vaultUnlock("pw");
    await api.vaultRetryKeychain();
    await api.accountRemove("acc_1");
    await api.accountsList();
    expect(await api.notifyTest()).toBeNull();
    expect(seen).toEqual([
      ["vault_init", { password: null }],
      ["vault_change_password", { current: null, newPassword: "new password" }],
      ["vault_unlock", { password: "pw" }],
      // A keychain vault has no password: null asks the backend to use the keychain again.
      ["vault_unlock", { password: null }],
      ["account_remove", { id: "acc_1" }],
      ["accounts_list", {}],
      ["notify_test", {}],
    ]);
  });

  it("rethrows an ApiError rejection as a BrokerdeskError with code, message and fields", async () => {
    mockIPC(() => {
      throw { code: "duplicate_name", message: "Taken.", fields: [{ field: "name", code: "duplicate", message: "Taken." }] };
    });
    const error = await api.accountAdd({} as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerdeskError);
    expect(error).toMatchObject({ code: "duplicate_name", message: "Taken.", fields: [{ field: "name", code: "duplicate", message: "Taken." }] });
  });

  it("tells the session handler about locked / not_initialized / vault_changed, and only those", async () => {
    const handler = vi.fn();
    const stop = api.onSessionError(handler);
    let code = "locked";
    mockIPC(() => {
      throw { code, message: code, fields: [] };
    });
    await expect(api.accountsList()).rejects.toMatchObject({ code: "locked" });
    code = "storage";
    await expect(api.accountsList()).rejects.toMatchObject({ code: "storage" });
    code = "vault_changed";
    await expect(api.accountsList()).rejects.toMatchObject({ code: "vault_changed" });
    expect(handler.mock.calls.map(([e]) => (e as BrokerdeskError).code)).toEqual(["locked", "vault_changed"]);
    stop();
    code = "locked";
    await expect(api.accountsList()).rejects.toBeInstanceOf(BrokerdeskError);
    expect(handler).toHaveBeenCalledTimes(2);
  });

  it("delivers vault-status events until unsubscribed", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const seen: VaultStatus[] = [];
    const stop = api.onVaultStatus((s) => seen.push(s));
    await vi.waitFor(async () => {
      await emit("vault-status", status);
      expect(seen.length).toBeGreaterThan(0);
    });
    expect(seen[0]).toEqual(status);
    stop();
    const before = seen.length;
    await emit("vault-status", { ...status, locked: true });
    expect(seen.length).toBe(before);
  });

  it("passes the new commands' arguments as the shell expects", async () => {
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      return null;
    });
    const filter = { events: [], accountId: null, since: null, until: null, search: "x", limit: 500 };
    await api.twofaEnable("123456");
    await api.twofaVerify("k7m2p-x9qrt");
    await api.auditList(filter);
    await api.auditExportCsv(filter);
    await api.settingsUpdate({ autoLockMinutes: 15, priceUpdatesPerSecond: 30 });
    await api.clipboardCopy({ kind: "diagnostics", accountId: "acc_1" });
    await api.appActivity();
    const input = { name: "Swing" } as never;
    await api.accountAdd(input);
    await api.accountAdd(input, false);
    await api.accountUpdate("acc_1", input);
    await api.accountUpdate("acc_1", input, false);
    await api.accountCheck(null, input);
    await api.accountCheck("acc_1", input);
    await api.brokerAccounts(input);
    await api.accountVerify("acc_1");
    await api.watchlistSet("acc_1", ["EUR_USD", "GBP_USD"]);
    await api.instrumentsSearch("acc_1", "eur");
    await api.pricesSnapshot("acc_1");
    expect(seen).toEqual([
      ["twofa_enable", { code: "123456" }],
      ["twofa_verify", { code: "k7m2p-x9qrt" }],
      ["audit_list", { filter }],
      ["audit_export_csv", { filter }],
      ["settings_update", { settings: { autoLockMinutes: 15, priceUpdatesPerSecond: 30 } }],
      ["clipboard_copy", { item: { kind: "diagnostics", accountId: "acc_1" } }],
      ["app_activity", {}],
      // `check` defaults to true: the backend checks with the broker before saving.
      ["account_add", { input: { name: "Swing" }, check: true }],
      ["account_add", { input: { name: "Swing" }, check: false }],
      ["account_update", { id: "acc_1", input: { name: "Swing" }, check: true }],
      ["account_update", { id: "acc_1", input: { name: "Swing" }, check: false }],
      ["account_check", { id: null, input: { name: "Swing" } }],
      ["account_check", { id: "acc_1", input: { name: "Swing" } }],
      ["broker_accounts", { input: { name: "Swing" } }],
      ["account_verify", { id: "acc_1" }],
      ["watchlist_set", { id: "acc_1", instruments: ["EUR_USD", "GBP_USD"] }],
      ["instruments_search", { id: "acc_1", query: "eur" }],
      ["prices_snapshot", { id: "acc_1" }],
    ]);
  });
});

describe("price events", () => {
  it("delivers price-update and price-notice payloads until unsubscribed", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const updates: unknown[] = [];
    const notices: unknown[] = [];
    const stopUpdates = api.onPriceUpdate((u) => updates.push(u));
    const stopNotices = api.onPriceNotice((n) => notices.push(n));
    const update = { accountId: "acc_1", ticks: [{ instrument: "EUR_USD", bid: 1.1, ask: 1.2, last: null, bidSize: null, askSize: null, lastSize: null, exchangeTime: null, receivedAt: "2026-11-20T10:00:00Z" }] };
    const notice = { accountId: "acc_1", instrument: "FOO_BAR", code: "unknown_instrument", message: "unknown", at: "2026-11-20T10:00:00Z" };
    await vi.waitFor(async () => {
      await emit("price-update", update);
      await emit("price-notice", notice);
      expect(updates.length).toBeGreaterThan(0);
      expect(notices.length).toBeGreaterThan(0);
    });
    expect(updates[0]).toEqual(update);
    expect(notices[0]).toEqual(notice);
    stopUpdates();
    stopNotices();
    const before = updates.length;
    await emit("price-update", update);
    expect(updates.length).toBe(before);
  });
});

describe("step-up retry", () => {
  const STEP_UP = { code: "step_up_required", message: "this change needs a fresh two-factor code (or a backup code)", fields: [] };

  /** A backend whose sensitive command fails until `twofa_verify` was called. */
  function backend() {
    const seen: string[] = [];
    let verified = false;
    mockIPC((cmd) => {
      seen.push(cmd);
      if (cmd === "twofa_verify") {
        verified = true;
        return null;
      }
      if (cmd === "credentials_purge") {
        if (!verified) throw STEP_UP;
        return { accounts: 2, credentialsDeleted: 3 };
      }
      if (cmd === "account_remove") throw { code: "not_found", message: "No such account.", fields: [] };
      return null;
    });
    return seen;
  }

  it("asks the handler, then retries the original call once and resolves with its result", async () => {
    const seen = backend();
    const handler = vi.fn(async (error: BrokerdeskError) => {
      expect(error.code).toBe("step_up_required");
      await api.twofaVerify("123456");
      return true;
    });
    const stop = api.onStepUpRequired(handler);
    await expect(api.credentialsPurge()).resolves.toEqual({ accounts: 2, credentialsDeleted: 3 });
    expect(handler).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(["credentials_purge", "twofa_verify", "credentials_purge"]);
    stop();
  });

  it("rejects with the original error when the user cancels (or the handler fails)", async () => {
    const seen = backend();
    const stop = api.onStepUpRequired(async () => false);
    const error = await api.credentialsPurge().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerdeskError);
    expect(error).toMatchObject(STEP_UP);
    stop();
    const stopThrowing = api.onStepUpRequired(() => Promise.reject(new Error("dialog unmounted")));
    await expect(api.credentialsPurge()).rejects.toMatchObject({ code: "step_up_required" });
    stopThrowing();
    expect(seen).toEqual(["credentials_purge", "credentials_purge"]);
  });

  it("does not retry again when the retry fails too, and lets other errors through untouched", async () => {
    mockIPC(() => {
      throw STEP_UP;
    });
    const handler = vi.fn(async () => true);
    const stop = api.onStepUpRequired(handler);
    await expect(api.accountRemove("acc_1")).rejects.toMatchObject({ code: "step_up_required" });
    expect(handler).toHaveBeenCalledTimes(1);

    backend();
    await expect(api.accountRemove("acc_1")).rejects.toMatchObject({ code: "not_found" });
    expect(handler).toHaveBeenCalledTimes(1);
    stop();
  });

  it("without a handler, step_up_required is thrown as is", async () => {
    backend();
    await expect(api.credentialsPurge()).rejects.toMatchObject({ code: "step_up_required" });
  });
});
