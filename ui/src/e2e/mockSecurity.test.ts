// @vitest-environment node
// The browser tests trust the fake backend's two-factor, audit and purge to behave like the
// real ones; these pin that down (WebCrypto comes from Node here).
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../bindings/AuditEntry";
import type { TwoFactorStatus } from "../bindings/TwoFactorStatus";
import { FakeBackend, MockApiError } from "./mockBackend";
import { MOCK_BACKUP_CODES, scenarioState } from "./scenarios";
import { sha256Hex } from "./sha256";
import { base32Decode, base32Encode, hotp, matchingStep, totpAt } from "./totp";

const errorOf = async (fn: () => unknown) => {
  try {
    await fn();
  } catch (e) {
    if (e instanceof MockApiError) return e.body;
    throw e;
  }
  throw new Error("expected an ApiError");
};

/** A backend whose wall clock the test sets (ms). */
function backend(scenario: Parameters<typeof scenarioState>[0] = "unlocked-2fa") {
  const clock = { wall: Date.parse("2026-11-21T10:00:00Z") };
  const b = new FakeBackend(scenarioState(scenario), () => new Date(clock.wall).toISOString(), () => clock.wall);
  return { b, clock };
}

const events = (b: FakeBackend) => (b.handle("audit_list", { filter: {} }) as AuditEntry[]).map((e) => e.event);

describe("TOTP (RFC 6238, HMAC-SHA-1 on WebCrypto)", () => {
  it("matches the RFC's SHA-1 test vectors (8 digits, secret 12345678901234567890)", async () => {
    const secret = new TextEncoder().encode("12345678901234567890");
    const vectors: [number, string][] = [
      [59, "94287082"],
      [1111111109, "07081804"],
      [1111111111, "14050471"],
      [1234567890, "89005924"],
      [2000000000, "69279037"],
      [20000000000, "65353130"],
    ];
    for (const [time, code] of vectors) expect(await totpAt(secret, time, 8)).toBe(code);
    // RFC 4226 appendix D, for the counter encoding.
    expect(await hotp(secret, 1)).toBe("287082");
  });

  it("accepts one step either way and no more, ignoring spaces and dashes; base32 round-trips", async () => {
    const secret = base32Decode("JBSWY3DPEHPK3PXP");
    expect(base32Encode(secret)).toBe("JBSWY3DPEHPK3PXP");
    const now = 1_700_000_000;
    const prev = await totpAt(secret, now - 30);
    const next = await totpAt(secret, now + 30);
    expect(await matchingStep(secret, prev, now)).toBe(Math.floor(now / 30) - 1);
    expect(await matchingStep(secret, `${next.slice(0, 3)} ${next.slice(3)}`, now)).toBe(Math.floor(now / 30) + 1);
    expect(await matchingStep(secret, await totpAt(secret, now - 90), now)).toBeNull();
    expect(await matchingStep(secret, "12a456", now)).toBeNull();
  });

  it("hashes the audit chain with SHA-256", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex("a".repeat(1000))).toBe("41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
  });
});

describe("FakeBackend two-factor", () => {
  it("setup → enable with the app's code → 10 backup codes; the step-up window opens for 15 minutes", async () => {
    const { b, clock } = backend("unlocked");
    expect(b.handle("account_remove", { id: "acc_alpaca" })).toBeNull(); // 2FA off: no step-up
    expect((await errorOf(() => b.handle("twofa_enable", { code: "123456" }))).code).toBe("twofa_not_set_up");
    const setup = b.handle("twofa_setup") as { secret: string; otpauthUri: string; qrSvg: string };
    expect(setup.otpauthUri).toBe(`otpauth://totp/Brokerdesk:main?secret=${setup.secret}&issuer=Brokerdesk`);
    expect(setup.qrSvg).toMatch(/^<\?xml[^]*<svg [^]*<\/svg>$/);
    expect(b.handle("twofa_status")).toMatchObject({ enabled: false, pending: true });
    expect((await errorOf(() => b.handle("twofa_verify", { code: "123456" }))).code).toBe("twofa_not_enabled");

    const { codes } = (await b.handle("twofa_enable", { code: await b.twofa.codeNow() })) as { codes: string[] };
    expect(codes).toHaveLength(10);
    codes.forEach((c) => expect(c).toMatch(/^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$/));
    expect(b.handle("twofa_status")).toEqual({
      enabled: true,
      pending: false,
      backupCodesRemaining: 10,
      stepUpUntil: "2026-11-21T10:15:00Z",
      lockedUntil: null,
      failedAttempts: 0,
    });
    expect((await errorOf(() => b.handle("twofa_setup"))).code).toBe("twofa_already_enabled");
    b.handle("account_remove", { id: "acc_ftmo" });

    b.advanceClock(15 * 60);
    expect((b.handle("twofa_status") as TwoFactorStatus).stepUpUntil).toBeNull();
    expect(clock.wall).toBe(Date.parse("2026-11-21T10:00:00Z")); // only the backend's clock moved
    expect((await errorOf(() => b.handle("credentials_purge"))).code).toBe("step_up_required");
    expect(events(b).slice(0, 4)).toEqual(["account_removed", "twofa_enabled", "twofa_verified", "twofa_setup_started"]);
  });

  it("rejects a replayed code, counts failures, locks out after 5 (60 s, then 120 s) and reports times on the UI's clock", async () => {
    const { b } = backend();
    const code = await b.twofa.codeNow();
    expect(await b.handle("twofa_verify", { code })).toMatchObject({ stepUpUntil: "2026-11-21T10:15:00Z" });
    expect(await errorOf(() => b.handle("twofa_verify", { code }))).toMatchObject({
      code: "code_replayed",
      message: "this two-factor code was already used; wait for the next one",
    });
    for (const left of [3, 2, 1]) {
      expect((await errorOf(() => b.handle("twofa_verify", { code: "000000" }))).message).toBe(
        `wrong two-factor code (${left} attempts left before a lockout)`,
      );
    }
    expect(await errorOf(() => b.handle("twofa_verify", { code: "000000" }))).toMatchObject({
      code: "twofa_locked_out",
      message: "too many wrong two-factor codes: try again after 2026-11-21T10:01:00Z",
    });
    expect(b.handle("twofa_status")).toMatchObject({ lockedUntil: "2026-11-21T10:01:00Z", failedAttempts: 0 });
    b.advanceClock(30);
    // Still locked, even for the right code; the time is reported on the UI's (unmoved) clock.
    expect((await errorOf(async () => b.handle("twofa_verify", { code: await b.twofa.codeNow() }))).message).toBe(
      "too many wrong two-factor codes: try again after 2026-11-21T10:00:30Z",
    );
    b.advanceClock(31);
    for (let i = 0; i < 4; i++) await errorOf(() => b.handle("twofa_verify", { code: "000000" }));
    expect((await errorOf(() => b.handle("twofa_verify", { code: "000000" }))).code).toBe("twofa_locked_out");
    // 120 s from now, on the UI's clock (the backend's is 61 s ahead).
    expect((b.handle("twofa_status") as TwoFactorStatus).lockedUntil).toBe("2026-11-21T10:02:00Z");
    expect(events(b).filter((e) => e === "twofa_locked_out")).toHaveLength(2);
  });

  it("accepts each backup code once (any case, with or without the dash); regenerating replaces them", async () => {
    const { b } = backend();
    const [first, second] = MOCK_BACKUP_CODES as [string, string];
    await b.handle("twofa_verify", { code: first.toUpperCase().replace("-", " ") });
    expect(b.handle("twofa_status")).toMatchObject({ backupCodesRemaining: 9 });
    expect((await errorOf(() => b.handle("twofa_verify", { code: first }))).code).toBe("wrong_code");
    const { codes } = b.handle("twofa_regenerate_backup_codes") as { codes: string[] };
    expect(codes).not.toContain(second);
    expect((await errorOf(() => b.handle("twofa_verify", { code: second }))).code).toBe("wrong_code");
    await b.handle("twofa_verify", { code: codes[0] });
    expect(events(b).slice(0, 5)).toEqual(["backup_code_used", "twofa_failed", "backup_codes_regenerated", "twofa_failed", "backup_code_used"]);
  });

  it("guards every sensitive change with the step-up window", async () => {
    const { b } = backend();
    const input = { ...(b.handle("account_get", { id: "acc_ftmo" }) as object) };
    for (const [command, args] of [
      ["account_remove", { id: "acc_ftmo" }],
      ["credentials_purge", {}],
      ["twofa_disable", {}],
      ["twofa_regenerate_backup_codes", {}],
      ["vault_change_password", { current: "x", newPassword: "y" }],
      // Like the backend, the broker check comes first (valid new credentials), then the step-up.
      ["account_update", { id: "acc_ftmo", input: { ...input, credentials: { apiKey: "new-token-0123456789", apiSecret: null } } }],
      ["account_add", { input: { ...input, name: "Another", credentials: { apiKey: "new-token-0123456789", apiSecret: null } } }],
    ] as const) {
      expect((await errorOf(() => b.handle(command, args))).code, command).toBe("step_up_required");
    }
    await b.handle("twofa_verify", { code: await b.twofa.codeNow() });
    expect(b.handle("twofa_disable")).toMatchObject({ enabled: false, stepUpUntil: null });
  });
});

describe("FakeBackend audit, settings and purge", () => {
  it("chains entries, names the first tampered one, filters, and exports CSV oldest first", () => {
    const { b } = backend("unlocked");
    expect(b.handle("audit_verify")).toEqual({ ok: true, entries: 11, firstBrokenId: null, message: "all 11 entries are intact" });
    const all = b.handle("audit_list", { filter: {} }) as AuditEntry[];
    expect(all.map((e) => Number(e.id))).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const filtered = b.handle("audit_list", {
      filter: { events: ["account_created", "account_edited"], accountId: "acc_ftmo", since: "2026-11-02T00:00:00Z", until: null, search: "ftmo", limit: 1 },
    }) as AuditEntry[];
    expect(filtered.map((e) => [Number(e.id), e.event])).toEqual([[8, "account_edited"]]);
    expect((b.handle("audit_list", { filter: { until: "2026-11-02T09:15:00Z" } }) as AuditEntry[]).map((e) => Number(e.id))).toEqual([3, 2, 1]);
    const path = b.handle("audit_export_csv", { filter: { search: "CLI" } });
    expect(path).toBe("/home/trader/Downloads/brokerdesk-audit-20261121-100000.csv");
    expect(b.lastExport?.csv.split("\r\n").map((l) => l.split(",").slice(0, 4).join(","))).toEqual([
      "id,at,event,actor",
      "6,2026-11-10T18:02:11.000Z,account_created,cli",
      "7,2026-11-12T07:45:09.000Z,account_removed,cli",
      "",
    ]);
    expect(() => b.handle("audit_list", { filter: { since: "yesterday" } })).toThrow(MockApiError);

    b.state.audit[3]!.detail = "nothing to see";
    expect(b.handle("audit_verify")).toEqual({
      ok: false,
      entries: 3,
      firstBrokenId: 4,
      message: "the audit log was tampered with at entry 4: its contents were changed after it was written",
    });
  });

  it("validates and records settings; auto-locks a password vault after the idle minutes", async () => {
    const { b } = backend("unlocked");
    expect((await errorOf(() => b.handle("settings_update", { settings: { autoLockMinutes: 0, priceUpdatesPerSecond: 121 } }))).fields).toEqual([
      { field: "autoLockMinutes", code: "out_of_range", message: "Auto-lock must be between 1 and 1440 minutes (or off)." },
      { field: "priceUpdatesPerSecond", code: "out_of_range", message: "Price updates must be between 1 and 120 per second per instrument." },
    ]);
    expect(b.handle("settings_update", { settings: { autoLockMinutes: 5, priceUpdatesPerSecond: 30 } })).toEqual({ autoLockMinutes: 5, priceUpdatesPerSecond: 30 });
    expect(b.handle("settings_get")).toEqual({ autoLockMinutes: 5, priceUpdatesPerSecond: 30 });
    expect(b.advanceClock(4 * 60)).toBe(false);
    b.handle("app_activity");
    expect(b.advanceClock(4 * 60)).toBe(false);
    expect(b.advanceClock(60)).toBe(true);
    expect(b.status().locked).toBe(true);
    expect(b.state.audit.slice(-2).map((r) => r.event)).toEqual(["settings_changed", "vault_locked"]);
  });

  it("purges every credential, forces paper mode and keeps the configuration", () => {
    const { b } = backend("unlocked");
    expect(b.handle("credentials_purge")).toEqual({ accounts: 2, credentialsDeleted: 3 });
    const accounts = b.handle("accounts_list") as { credentials: unknown[]; mode: string; instruments: string[] }[];
    expect(accounts.map((a) => [a.credentials.length, a.mode])).toEqual([
      [0, "paper"],
      [0, "paper"],
    ]);
    expect(accounts[0]!.instruments).toEqual(["EUR_USD", "GBP_USD", "XAU_USD"]);
    expect(events(b)[0]).toBe("credentials_purged");
  });
});
