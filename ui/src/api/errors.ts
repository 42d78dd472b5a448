import type { ApiError } from "../bindings/ApiError";
import type { Code as CodeName } from "../bindings/Code";
import { Code, FieldCode } from "../bindings/codes";
import type { FieldCode as FieldCodeName } from "../bindings/FieldCode";
import type { FieldError } from "../bindings/FieldError";

export { Code, CODE_INFO, FieldCode } from "../bindings/codes";

/** Codes after which the vault state must be re-read (the app may need the unlock or first-run screen). */
export const SESSION_CODES: ReadonlySet<CodeName> = new Set<CodeName>([Code.Locked, Code.NotInitialized, Code.VaultChanged]);

/** An error returned by a backend command, in the `ApiError` shape. */
export class BrokerdeskError extends Error {
  readonly code: CodeName;
  readonly fields: FieldError[];

  constructor(code: CodeName, message: string, fields: FieldError[] = []) {
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
 * Commands reject with an `ApiError` object; the transport itself rejects with a plain string
 * for its own failures (unknown command, bad arguments, no server), which become code `internal`.
 */
export function toBrokerdeskError(raw: unknown): BrokerdeskError {
  if (raw instanceof BrokerdeskError) return raw;
  if (isApiError(raw)) {
    const fields = Array.isArray(raw.fields)
      ? raw.fields.filter(isFieldError).map((f) => ({
          field: f.field,
          // A field error always has its code; one that came without is still a problem with that field.
          code: typeof f.code === "string" ? (f.code as FieldCodeName) : FieldCode.Invalid,
          message: f.message,
        }))
      : [];
    return new BrokerdeskError(raw.code, raw.message, fields);
  }
  if (typeof raw === "string") {
    return new BrokerdeskError(Code.Internal, raw || "The app's backend returned an error.");
  }
  if (raw instanceof Error) {
    return new BrokerdeskError(Code.Internal, raw.message || "Unexpected error.");
  }
  return new BrokerdeskError(Code.Internal, "Unexpected error from the app's backend.");
}
