/** The fake backend's accounts: validation like the backend's, and masked stored secrets. */
import type { Account } from "../bindings/Account";
import type { AccountInput } from "../bindings/AccountInput";
import type { ApiError } from "../bindings/ApiError";
import type { FieldError } from "../bindings/FieldError";
import { MOCK_BROKERS } from "./catalog";
import { fail } from "./mockErrors";
import { validateAccountInput } from "./mockValidation";

export type SecretKey = "apiKey" | "apiSecret";

export interface StoredAccount {
  account: Account;
  secrets: Record<SecretKey, string | null>;
  /** Stored secrets that "cannot be opened" (tampered with or moved), and the vault's error for each. */
  unreadable?: Partial<Record<SecretKey, ApiError>>;
}

const mask = (secret: string) => `••••${secret.slice(-4)}`;

/**
 * Like the backend: a taken name alone is `duplicate_name`; together with other problems it is
 * one more field error (`name`/`duplicate`, first) of a `validation` error.
 */
export function checkInput(accounts: StoredAccount[], input: AccountInput, existing: StoredAccount | null): void {
  const problems = validateAccountInput(input, existing?.account ?? null, existing?.secrets ?? null);
  const name = input.name.trim().toLowerCase();
  const duplicate = name === "" ? undefined : accounts.find((a) => a !== existing && a.account.name.trim().toLowerCase() === name);
  const duplicateField: FieldError[] = duplicate
    ? [{ field: "name", code: "duplicate", message: `Another account is already called “${duplicate.account.name}”.` }]
    : [];
  if (problems.length > 0) fail("validation", "Some fields need attention.", [...duplicateField, ...problems]);
  if (duplicate) fail("duplicate_name", `An account named “${duplicate.account.name}” already exists.`, duplicateField);
}

/** The masked credentials an account shows for its stored secrets. */
export function maskedCredentials(broker: Account["broker"], secrets: StoredAccount["secrets"], unreadable: StoredAccount["unreadable"] = {}) {
  const info = MOCK_BROKERS.find((b) => b.kind === broker);
  return (info?.credentialFields ?? []).flatMap((spec) => {
    const key: SecretKey = spec.field === "api_key" ? "apiKey" : "apiSecret";
    const value = secrets[key];
    const error = unreadable[key] ?? null;
    return value ? [{ field: spec.field, label: spec.label, masked: error ? "unreadable" : mask(value), error }] : [];
  });
}

export function materialize(
  input: AccountInput,
  base: StoredAccount | null,
  secrets: StoredAccount["secrets"],
  unreadable: StoredAccount["unreadable"],
  now: string,
  newId: () => string,
): Account {
  const history = base ? [...base.account.statusHistory] : [];
  if (!base || base.account.status !== input.status) {
    history.push({ status: input.status, reason: input.statusReason, changedAt: now });
  }
  return {
    id: base?.account.id ?? newId(),
    name: input.name.trim(),
    broker: input.broker,
    environment: input.environment,
    brokerAccountId: input.brokerAccountId,
    restUrl: input.restUrl,
    streamUrl: input.streamUrl,
    credentials: maskedCredentials(input.broker, secrets, unreadable),
    propFirm: { ...input.propFirm },
    risk: { ...input.risk },
    instruments: [...input.instruments],
    timeframes: [...input.timeframes],
    tradingHours: input.tradingHours ? { ...input.tradingHours } : null,
    weekendTrading: input.weekendTrading,
    notifications: { ...input.notifications },
    status: input.status,
    statusHistory: history,
    mode: base?.account.mode ?? "paper",
    createdAt: base?.account.createdAt ?? now,
    updatedAt: now,
  };
}

/** What the audit log says about an account ("FTMO challenge (oanda practice)"). */
export const describeAccount = (a: Account) => `${a.name} (${a.broker} ${a.environment})`;
/** Which credential fields an account has stored ("fields: api_key, api_secret"). */
export const credentialFields = (a: Account) => `fields: ${a.credentials.map((c) => c.field).join(", ")}`;
