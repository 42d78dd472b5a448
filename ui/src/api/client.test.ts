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
});
