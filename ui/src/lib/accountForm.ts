import type { Account } from "../bindings/Account";
import type { AccountInput } from "../bindings/AccountInput";
import type { AccountStatus } from "../bindings/AccountStatus";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { Environment } from "../bindings/Environment";
import type { NotificationSettings } from "../bindings/NotificationSettings";
import type { PropFirmRules } from "../bindings/PropFirmRules";
import type { RiskLimits } from "../bindings/RiskLimits";
import type { Timeframe } from "../bindings/Timeframe";
import { MAX_DIGITS, checkDecimal } from "./decimal";
import type { FieldErrorMap, FormField } from "./fieldErrors";
import { emptyPropFirm, parseWarnLevels, propFirmFromRules } from "./propFirm";
import type { PropFirmFormState } from "./propFirm";

export type RiskNumberKey = "maxPositionSizePct" | "maxOpenPositions" | "maxQty" | "maxLeverage" | "maxRiskPerTradePct" | "maxCorrelation";

export const RISK_NUMBER_KEYS: readonly RiskNumberKey[] = [
  "maxPositionSizePct",
  "maxOpenPositions",
  "maxQty",
  "maxLeverage",
  "maxRiskPerTradePct",
  "maxCorrelation",
];

/** Risk limits whose value must be a whole number. */
const INTEGER_KEYS: ReadonlySet<RiskNumberKey> = new Set(["maxOpenPositions"]);

export interface AccountFormState {
  name: string;
  broker: BrokerKind | null;
  environment: Environment;
  brokerAccountId: string;
  restUrl: string;
  streamUrl: string;
  credentials: { apiKey: string; apiSecret: string };
  propFirm: PropFirmFormState;
  risk: Record<RiskNumberKey, string> & {
    requireStopLoss: boolean;
    /** The only instruments orders may be placed in; empty = any. */
    allowedInstruments: string[];
    /** Text typed in the allowed-instruments box and not yet turned into tags; included on save. */
    allowedDraft: string;
  };
  instruments: string[];
  /** Text typed in the instruments box and not yet turned into tags; included on save. */
  instrumentDraft: string;
  timeframes: Timeframe[];
  hours: { enabled: boolean; start: string; end: string; timezone: string };
  weekendTrading: boolean;
  notifications: NotificationSettings;
  /** The first status of a new account (an existing account's status changes on its own, not with a save). */
  status: AccountStatus;
  statusReason: string;
}

export const DEFAULT_NOTIFICATIONS: NotificationSettings = {
  connectionLost: true,
  connectionRestored: true,
  authFailure: true,
  orderFilled: true,
  riskBreach: true,
};

export function emptyForm(): AccountFormState {
  return {
    name: "",
    broker: null,
    environment: "practice",
    brokerAccountId: "",
    restUrl: "",
    streamUrl: "",
    credentials: { apiKey: "", apiSecret: "" },
    propFirm: emptyPropFirm(),
    risk: {
      maxPositionSizePct: "",
      maxOpenPositions: "",
      maxQty: "",
      maxLeverage: "",
      maxRiskPerTradePct: "",
      maxCorrelation: "",
      requireStopLoss: false,
      allowedInstruments: [],
      allowedDraft: "",
    },
    instruments: [],
    instrumentDraft: "",
    timeframes: [],
    hours: { enabled: false, start: "09:30", end: "16:00", timezone: "America/New_York" },
    weekendTrading: true,
    notifications: { ...DEFAULT_NOTIFICATIONS },
    status: "active",
    statusReason: "",
  };
}

/** A limit as editable text: decimals arrive as exact strings, the count as a number. */
const numText = (n: string | number | null) => (n === null ? "" : String(n));

/** Returns the form state for editing an existing account. Credentials start empty (= keep). */
export function formFromAccount(account: Account): AccountFormState {
  const base = emptyForm();
  return {
    ...base,
    name: account.name,
    broker: account.broker,
    environment: account.environment,
    brokerAccountId: account.brokerAccountId ?? "",
    restUrl: account.restUrl ?? "",
    streamUrl: account.streamUrl ?? "",
    propFirm: propFirmFromRules(account.propFirm),
    risk: {
      maxPositionSizePct: numText(account.risk.maxPositionSizePct),
      maxOpenPositions: numText(account.risk.maxOpenPositions),
      maxQty: numText(account.risk.maxQty),
      maxLeverage: numText(account.risk.maxLeverage),
      maxRiskPerTradePct: numText(account.risk.maxRiskPerTradePct),
      maxCorrelation: numText(account.risk.maxCorrelation),
      requireStopLoss: account.risk.requireStopLoss,
      allowedInstruments: [...account.risk.allowedInstruments],
      allowedDraft: "",
    },
    instruments: [...account.instruments],
    timeframes: [...account.timeframes],
    hours: account.tradingHours ? { enabled: true, ...account.tradingHours } : base.hours,
    weekendTrading: account.weekendTrading,
    notifications: { ...account.notifications },
    status: account.status,
  };
}

/** Splits typed text into instrument symbols: separated by commas or whitespace, trimmed, upper-cased. */
export function parseInstruments(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== "");
}

/** Adds the symbols in `text` to `existing`, keeping order and dropping duplicates. */
export function addInstruments(existing: readonly string[], text: string): string[] {
  const out = existing.map((s) => s.toUpperCase());
  for (const symbol of parseInstruments(text)) {
    if (!out.includes(symbol)) out.push(symbol);
  }
  return out;
}

type Parsed = { value: number | null; error?: string };

/** Parses an optional number input: empty means "no limit" (null). */
export function parseOptionalNumber(text: string, integer = false): Parsed {
  const t = text.trim();
  if (t === "") return { value: null };
  const n = Number(t);
  if (!Number.isFinite(n)) return { value: null, error: "Enter a number, or leave empty for no limit." };
  if (integer && !Number.isInteger(n)) return { value: null, error: "Enter a whole number." };
  return { value: n };
}

type ParsedDecimal = { value: string | null; error?: string };

/**
 * Parses an optional decimal input the way the backend reads it: the text typed, trimmed, in
 * plain notation ("0.75", "30"), sent as a string so no digit is lost; empty means "no limit".
 */
export function parseOptionalDecimal(text: string, emptyMeans = "no limit"): ParsedDecimal {
  const t = text.trim();
  if (t === "") return { value: null };
  const checked = checkDecimal(t);
  if (checked.ok) return { value: checked.value };
  return {
    value: null,
    error:
      checked.reason === "too_many_digits"
        ? `Use at most ${MAX_DIGITS} digits.`
        : `Enter a number (digits and one '.', e.g. 0.75), or leave empty for ${emptyMeans}.`,
  };
}

const orNull = (s: string) => (s.trim() === "" ? null : s.trim());

/**
 * Converts the form into the command input, or returns the client-side errors found.
 * `savedStatus` is the stored account's status when editing: a save sends it back unchanged (the
 * status changes only through the status actions — suspend, reactivate, terminate — or the
 * rules), so a save never reactivates an account that was suspended while the form was open.
 */
export function toAccountInput(
  form: AccountFormState,
  savedStatus: AccountStatus | null = null,
): { ok: true; input: AccountInput } | { ok: false; errors: FieldErrorMap } {
  const errors: FieldErrorMap = {};
  if (form.name.trim() === "") errors.name = "Give the account a name.";
  if (form.broker === null) errors.broker = "Choose a broker.";

  const num = (field: FormField, text: string, integer = false) => {
    const parsed = parseOptionalNumber(text, integer);
    if (parsed.error) errors[field] = parsed.error;
    return parsed.value;
  };
  const dec = (field: FormField, text: string, emptyMeans?: string) => {
    const parsed = parseOptionalDecimal(text, emptyMeans);
    if (parsed.error) errors[field] = parsed.error;
    return parsed.value;
  };

  const p = form.propFirm;
  const warn = parseWarnLevels(p.warnLevels);
  if (warn.value === null) errors["propFirm.warnLevels"] = warn.error;
  const propFirm: PropFirmRules = {
    preset: p.preset,
    maxDailyLossPct: dec("propFirm.maxDailyLossPct", p.maxDailyLossPct),
    maxTotalLossPct: dec("propFirm.maxTotalLossPct", p.maxTotalLossPct),
    profitTargetPct: dec("propFirm.profitTargetPct", p.profitTargetPct),
    initialBalance: dec("propFirm.initialBalance", p.initialBalance, "the first balance seen"),
    dailyBase: p.dailyBase,
    resetTime: p.resetTime.trim(),
    resetTimezone: p.resetTimezone.trim(),
    maxLossMode: p.maxLossMode,
    dailyBreach: p.dailyBreach,
    safetyBufferPct: dec("propFirm.safetyBufferPct", p.safetyBufferPct, "acting at the limit itself"),
    closeOnBreach: p.closeOnBreach,
    warnLevels: warn.value ?? [],
  };
  const risk: RiskLimits = {
    maxPositionSizePct: dec("risk.maxPositionSizePct", form.risk.maxPositionSizePct),
    maxOpenPositions: num("risk.maxOpenPositions", form.risk.maxOpenPositions, INTEGER_KEYS.has("maxOpenPositions")),
    maxQty: dec("risk.maxQty", form.risk.maxQty),
    maxLeverage: dec("risk.maxLeverage", form.risk.maxLeverage),
    requireStopLoss: form.risk.requireStopLoss,
    maxCorrelation: dec("risk.maxCorrelation", form.risk.maxCorrelation),
    maxRiskPerTradePct: dec("risk.maxRiskPerTradePct", form.risk.maxRiskPerTradePct),
    allowedInstruments: addInstruments(form.risk.allowedInstruments, form.risk.allowedDraft),
  };

  if (form.broker === null || Object.keys(errors).length > 0) return { ok: false, errors };

  return {
    ok: true,
    input: {
      name: form.name.trim(),
      broker: form.broker,
      environment: form.environment,
      brokerAccountId: orNull(form.brokerAccountId),
      restUrl: orNull(form.restUrl),
      streamUrl: orNull(form.streamUrl),
      // Secrets are sent exactly as typed (no trimming inside); empty means "none" or "keep".
      credentials: {
        apiKey: form.credentials.apiKey === "" ? null : form.credentials.apiKey,
        apiSecret: form.credentials.apiSecret === "" ? null : form.credentials.apiSecret,
      },
      propFirm,
      risk,
      instruments: addInstruments(form.instruments, form.instrumentDraft),
      timeframes: [...form.timeframes],
      tradingHours: form.hours.enabled
        ? { start: form.hours.start, end: form.hours.end, timezone: form.hours.timezone.trim() }
        : null,
      weekendTrading: form.weekendTrading,
      notifications: { ...form.notifications },
      status: savedStatus ?? form.status,
      statusReason: savedStatus === null ? orNull(form.statusReason) : null,
    },
  };
}

/** Returns the form's value for a field path, comparable with JSON (used to clear stale errors). */
export function formValueAt(form: AccountFormState, field: FormField): unknown {
  const [head, tail] = field.split(".") as [string, string | undefined];
  switch (head) {
    case "credentials":
      return tail ? form.credentials[tail as "apiKey" | "apiSecret"] : form.credentials;
    case "propFirm":
      return tail ? form.propFirm[tail as keyof PropFirmFormState] : form.propFirm;
    case "risk":
      if (tail === "allowedInstruments") return [form.risk.allowedInstruments, form.risk.allowedDraft];
      return tail ? form.risk[tail as keyof AccountFormState["risk"]] : form.risk;
    case "tradingHours":
      return tail ? form.hours[tail as "start" | "end" | "timezone"] : form.hours;
    case "instruments":
      return [form.instruments, form.instrumentDraft];
    default:
      return form[head as keyof AccountFormState];
  }
}

/** Drops the errors of fields whose value differs between two form states. */
export function clearChangedErrors(errors: FieldErrorMap, before: AccountFormState, after: AccountFormState): FieldErrorMap {
  let changed = false;
  const next: FieldErrorMap = {};
  for (const [field, message] of Object.entries(errors) as [FormField, string][]) {
    if (JSON.stringify(formValueAt(before, field)) !== JSON.stringify(formValueAt(after, field))) changed = true;
    else next[field] = message;
  }
  return changed ? next : errors;
}

/**
 * Editing an account that has stored credentials and typing a new value rotates them: saving
 * replaces the stored values (the backend then asks for a two-factor step-up when 2FA is on).
 */
export function rotatesCredentials(account: Account | null, form: AccountFormState): boolean {
  return account !== null && account.credentials.length > 0 && (form.credentials.apiKey !== "" || form.credentials.apiSecret !== "");
}
