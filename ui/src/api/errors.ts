import type { ApiError } from "../bindings/ApiError";
import type { FieldError } from "../bindings/FieldError";

/**
 * Error codes the backend is known to send. The UI branches on these, never on message text.
 * Unknown codes are still carried through (the type stays `string`).
 */
export const ErrorCodes = {
  validation: "validation",
  duplicateName: "duplicate_name",
  wrongPassword: "wrong_password",
  weakPassword: "weak_password",
  noMasterPassword: "no_master_password",
  locked: "locked",
  notInitialized: "not_initialized",
  keychainUnavailable: "keychain_unavailable",
  keychainFailed: "keychain_failed",
  keychainKeyMissing: "keychain_key_missing",
  keychainKeyMismatch: "keychain_key_mismatch",
  passwordMissing: "password_missing",
  passwordRequired: "password_required",
  notFound: "not_found",
  storage: "storage",
  internal: "internal",
  ciphertextTampered: "ciphertext_tampered",
  ciphertextMisbound: "ciphertext_misbound",
  vaultChanged: "vault_changed",
  stepUpRequired: "step_up_required",
  wrongCode: "wrong_code",
  codeReplayed: "code_replayed",
  twofaLockedOut: "twofa_locked_out",
  twofaNotEnabled: "twofa_not_enabled",
  twofaAlreadyEnabled: "twofa_already_enabled",
  twofaNotSetUp: "twofa_not_set_up",
  brokerAuth: "broker_auth",
  chooseBrokerAccount: "choose_broker_account",
  brokerRejected: "broker_rejected",
  brokerNotFound: "broker_not_found",
  brokerConfig: "broker_config",
  verifyRateLimited: "verify_rate_limited",
  brokerNetwork: "broker_network",
  brokerTimeout: "broker_timeout",
  brokerUnavailable: "broker_unavailable",
  brokerRateLimited: "broker_rate_limited",
  brokerUnsupported: "broker_unsupported",
  searchUnsupported: "search_unsupported",
  streamUnavailable: "stream_unavailable",
} as const;

/** Codes after which the vault state must be re-read (the app may need the unlock or first-run screen). */
export const SESSION_CODES: ReadonlySet<string> = new Set([
  ErrorCodes.locked,
  ErrorCodes.notInitialized,
  ErrorCodes.vaultChanged,
]);

/** An error returned by a backend command, in the `ApiError` shape. */
export class BrokerdeskError extends Error {
  readonly code: string;
  readonly fields: FieldError[];

  constructor(code: string, message: string, fields: FieldError[] = []) {
    super(message);
    this.name = "BrokerdeskError";
    this.code = code;
    this.fields = fields;
  }

  /** Returns true when the error carries per-field problems. */
  hasFieldErrors(): boolean {
    return this.fields.length > 0;
  }
}

function isFieldError(value: unknown): value is FieldError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.field === "string" && typeof v.message === "string";
}

function isApiError(value: unknown): value is ApiError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === "string" && typeof v.message === "string";
}

/**
 * Converts whatever `invoke` rejected with into a `BrokerdeskError`.
 *
 * Commands reject with an `ApiError` object; Tauri itself rejects with a plain string for
 * IPC-level failures (unknown command, bad arguments), which become code `internal`.
 */
export function toBrokerdeskError(raw: unknown): BrokerdeskError {
  if (raw instanceof BrokerdeskError) return raw;
  if (isApiError(raw)) {
    const fields = Array.isArray(raw.fields)
      ? raw.fields.filter(isFieldError).map((f) => ({ field: f.field, code: String(f.code ?? ""), message: f.message }))
      : [];
    return new BrokerdeskError(raw.code, raw.message, fields);
  }
  if (typeof raw === "string") {
    return new BrokerdeskError(ErrorCodes.internal, raw || "The app's backend returned an error.");
  }
  if (raw instanceof Error) {
    return new BrokerdeskError(ErrorCodes.internal, raw.message || "Unexpected error.");
  }
  return new BrokerdeskError(ErrorCodes.internal, "Unexpected error from the app's backend.");
}
