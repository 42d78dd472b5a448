/**
 * The fake backend's two-factor step-up, following the real one: RFC 6238 codes (±1 step) and
 * single-use backup codes, replay rejection, a lockout after 5 failures in a row (60 s, then
 * doubling, up to a day), and a 15-minute step-up window, all on the mock's clock.
 */
import type { AuditEvent } from "../bindings/AuditEvent";
import type { BackupCodes } from "../bindings/BackupCodes";
import type { TwoFactorSetup } from "../bindings/TwoFactorSetup";
import type { TwoFactorStatus } from "../bindings/TwoFactorStatus";
import { fakeQrSvg } from "./fakeQr";
import { MockApiError, fail } from "./mockErrors";
import { base32Decode, base32Encode, matchingStep, totpAt } from "./totp";

export const STEP_UP_MINUTES = 15;
export const MAX_FAILURES = 5;
export const FIRST_LOCKOUT_SECONDS = 60;
const MAX_LOCKOUT_SECONDS = 24 * 3600;
const BACKUP_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";

export interface TwofaState {
  state: "off" | "pending" | "enabled";
  /** The TOTP secret, base32 (the real backend keeps it sealed by the vault). */
  secret: string | null;
  lastStep: number;
  failedAttempts: number;
  lockouts: number;
  /** Milliseconds on the mock's clock. */
  lockedUntil: number | null;
  stepUpUntil: number | null;
  /** The real backend keeps only salted hashes; the mock keeps the codes. */
  backupCodes: { code: string; used: boolean }[];
}

export const TWOFA_OFF: TwofaState = {
  state: "off",
  secret: null,
  lastStep: 0,
  failedAttempts: 0,
  lockouts: 0,
  lockedUntil: null,
  stepUpUntil: null,
  backupCodes: [],
};

/** The mock's clock: `now` in ms (tests can move it forward); `stamp` formats an instant for the UI. */
export interface MockClock {
  now: () => number;
  stamp: (ms: number) => string;
}

/** An instant as the backend formats it (RFC 3339, UTC, whole seconds). */
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

type Recorder = (event: AuditEvent, detail?: string) => void;

const normalise = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, "");
const looksLikeBackupCode = (code: string) => {
  const n = normalise(code);
  return n.length === 10 && [...n].every((c) => BACKUP_ALPHABET.includes(c));
};

export function newBackupCodes(): string[] {
  return Array.from({ length: 10 }, () => {
    const raw = crypto.getRandomValues(new Uint8Array(10));
    const chars = Array.from(raw, (b) => BACKUP_ALPHABET[b % BACKUP_ALPHABET.length]).join("");
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

export class MockTwoFactor {
  constructor(
    private readonly s: TwofaState,
    private readonly clock: MockClock,
    private readonly record: Recorder,
  ) {}

  status(): TwoFactorStatus {
    const now = this.clock.now();
    const s = this.s;
    return {
      enabled: s.state === "enabled",
      pending: s.state === "pending",
      backupCodesRemaining: s.state === "enabled" ? s.backupCodes.filter((c) => !c.used).length : 0,
      stepUpUntil: s.state === "enabled" && s.stepUpUntil !== null && s.stepUpUntil > now ? this.clock.stamp(s.stepUpUntil) : null,
      lockedUntil: s.lockedUntil !== null && s.lockedUntil > now ? this.clock.stamp(s.lockedUntil) : null,
      failedAttempts: s.state === "off" ? 0 : s.failedAttempts,
    };
  }

  setup(profile: string): TwoFactorSetup {
    if (this.s.state === "enabled") fail("twofa_already_enabled", "two-factor authentication is already enabled; disable it first to set it up again");
    const secret = base32Encode(crypto.getRandomValues(new Uint8Array(20)));
    Object.assign(this.s, { state: "pending", secret, lastStep: 0 });
    this.record("twofa_setup_started");
    const otpauthUri = `otpauth://totp/Brokerdesk:${encodeURIComponent(profile)}?secret=${secret}&issuer=Brokerdesk`;
    return { otpauthUri, secret, qrSvg: fakeQrSvg(otpauthUri) };
  }

  async enable(code: string): Promise<BackupCodes> {
    if (this.s.state === "off") fail("twofa_not_set_up", "two-factor authentication has not been set up; start the setup first");
    if (this.s.state === "enabled") fail("twofa_already_enabled", "two-factor authentication is already enabled; disable it first to set it up again");
    await this.check(code, false);
    const codes = newBackupCodes();
    this.s.state = "enabled";
    this.s.backupCodes = codes.map((c) => ({ code: c, used: false }));
    this.record("twofa_enabled", "10 backup codes issued");
    return { codes };
  }

  async verify(code: string): Promise<TwoFactorStatus> {
    if (this.s.state !== "enabled") fail("twofa_not_enabled", "two-factor authentication is not enabled");
    await this.check(code, true);
    return this.status();
  }

  requireStepUp(): void {
    if (this.s.state !== "enabled") return;
    if (this.s.stepUpUntil === null || this.s.stepUpUntil <= this.clock.now()) {
      fail("step_up_required", "this change needs a fresh two-factor code (or a backup code)");
    }
  }

  disable(): TwoFactorStatus {
    if (this.s.state !== "enabled") fail("twofa_not_enabled", "two-factor authentication is not enabled");
    Object.assign(this.s, TWOFA_OFF, { backupCodes: [] });
    this.record("twofa_disabled");
    return this.status();
  }

  regenerate(): BackupCodes {
    if (this.s.state !== "enabled") fail("twofa_not_enabled", "two-factor authentication is not enabled");
    const codes = newBackupCodes();
    this.s.backupCodes = codes.map((c) => ({ code: c, used: false }));
    this.record("backup_codes_regenerated", "10 backup codes issued; the previous ones no longer work");
    return { codes };
  }

  /** The code an authenticator app shows right now (a test hook). */
  async codeNow(): Promise<string> {
    if (!this.s.secret) throw new Error("two-factor authentication is not set up");
    return totpAt(base32Decode(this.s.secret), Math.floor(this.clock.now() / 1000));
  }

  private async check(code: string, allowBackup: boolean): Promise<void> {
    const now = this.clock.now();
    const s = this.s;
    if (s.lockedUntil !== null && s.lockedUntil > now) {
      fail("twofa_locked_out", `too many wrong two-factor codes: try again after ${this.clock.stamp(s.lockedUntil)}`);
    }
    const step = await matchingStep(base32Decode(s.secret ?? ""), code, Math.floor(now / 1000));
    let outcome: { ok: AuditEvent } | { error: "wrong" | "replayed" };
    if (step !== null) {
      if (step <= s.lastStep) outcome = { error: "replayed" };
      else {
        s.lastStep = step;
        outcome = { ok: "twofa_verified" };
      }
    } else if (allowBackup && looksLikeBackupCode(code)) {
      const match = s.backupCodes.find((c) => !c.used && normalise(c.code) === normalise(code));
      if (match) match.used = true;
      outcome = match ? { ok: "backup_code_used" } : { error: "wrong" };
    } else {
      outcome = { error: "wrong" };
    }
    if ("ok" in outcome) {
      s.failedAttempts = 0;
      s.stepUpUntil = now + STEP_UP_MINUTES * 60_000;
      this.record(outcome.ok);
      return;
    }
    const failures = s.failedAttempts + 1;
    this.record("twofa_failed", outcome.error === "replayed" ? "a code was replayed" : "a wrong code");
    if (failures >= MAX_FAILURES) {
      const seconds = Math.min(FIRST_LOCKOUT_SECONDS * 2 ** Math.min(s.lockouts, 20), MAX_LOCKOUT_SECONDS);
      s.failedAttempts = 0;
      s.lockouts += 1;
      s.lockedUntil = now + seconds * 1000;
      const until = this.clock.stamp(s.lockedUntil);
      this.record("twofa_locked_out", `${MAX_FAILURES} failures in a row; locked until ${until}`);
      throw new MockApiError({ code: "twofa_locked_out", message: `too many wrong two-factor codes: try again after ${until}`, fields: [] });
    }
    s.failedAttempts = failures;
    if (outcome.error === "replayed") fail("code_replayed", "this two-factor code was already used; wait for the next one");
    fail("wrong_code", `wrong two-factor code (${MAX_FAILURES - failures} attempts left before a lockout)`);
  }
}
