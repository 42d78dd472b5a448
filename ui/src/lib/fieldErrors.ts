import type { FieldError } from "../bindings/FieldError";

/** Every input path of the account form, as the backend names them in `FieldError.field`. */
export const FORM_FIELDS = [
  "name",
  "broker",
  "environment",
  "brokerAccountId",
  "restUrl",
  "streamUrl",
  "credentials",
  "credentials.apiKey",
  "credentials.apiSecret",
  "propFirm",
  "propFirm.preset",
  "propFirm.maxDailyLossPct",
  "propFirm.maxTotalLossPct",
  "propFirm.profitTargetPct",
  "propFirm.resetTime",
  "propFirm.resetTimezone",
  "propFirm.dailyBase",
  "propFirm.maxLossMode",
  "propFirm.dailyBreach",
  "propFirm.initialBalance",
  "propFirm.safetyBufferPct",
  "propFirm.closeOnBreach",
  "propFirm.warnLevels",
  "risk",
  "risk.maxPositionSizePct",
  "risk.maxOpenPositions",
  "risk.maxQty",
  "risk.maxLeverage",
  "risk.maxRiskPerTradePct",
  "risk.allowedInstruments",
  "risk.requireStopLoss",
  "risk.maxCorrelation",
  "instruments",
  "timeframes",
  "tradingHours",
  "tradingHours.start",
  "tradingHours.end",
  "tradingHours.timezone",
  "weekendTrading",
  "notifications",
  "status",
  "statusReason",
] as const;

export type FormField = (typeof FORM_FIELDS)[number];

const KNOWN: ReadonlySet<string> = new Set(FORM_FIELDS);

const LABELS: Record<FormField, string> = {
  name: "Account name",
  broker: "Broker",
  environment: "Environment",
  brokerAccountId: "Broker account ID",
  restUrl: "REST URL",
  streamUrl: "Stream URL",
  credentials: "Credentials",
  "credentials.apiKey": "API key",
  "credentials.apiSecret": "API secret",
  propFirm: "Prop firm rules",
  "propFirm.preset": "Prop firm preset",
  "propFirm.maxDailyLossPct": "Max daily loss",
  "propFirm.maxTotalLossPct": "Max total loss",
  "propFirm.profitTargetPct": "Profit target",
  "propFirm.dailyBase": "Daily loss is a % of",
  "propFirm.resetTime": "Daily reset time",
  "propFirm.resetTimezone": "Reset time zone",
  "propFirm.maxLossMode": "Max loss floor",
  "propFirm.dailyBreach": "When the daily limit is reached",
  "propFirm.initialBalance": "Initial balance",
  "propFirm.safetyBufferPct": "Safety buffer",
  "propFirm.closeOnBreach": "Close positions on a breach",
  "propFirm.warnLevels": "Warning levels",
  risk: "Risk limits",
  "risk.maxPositionSizePct": "Max position size",
  "risk.maxOpenPositions": "Max open positions",
  "risk.maxQty": "Max quantity",
  "risk.maxLeverage": "Max leverage",
  "risk.maxRiskPerTradePct": "Max risk per trade",
  "risk.requireStopLoss": "Require stop-loss",
  "risk.allowedInstruments": "Allowed instruments",
  "risk.maxCorrelation": "Max correlation",
  instruments: "Instruments",
  timeframes: "Timeframes",
  tradingHours: "Trading hours",
  "tradingHours.start": "Trading hours start",
  "tradingHours.end": "Trading hours end",
  "tradingHours.timezone": "Time zone",
  weekendTrading: "Weekend trading",
  notifications: "Notifications",
  status: "Status",
  statusReason: "Status reason",
};

const snakeToCamel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Maps a backend field path to the form field that shows it, or null when no input matches.
 *
 * Accepts camelCase or snake_case segments and array indexes (`instruments[2]`,
 * `instruments.2`), and falls back to the nearest known parent (`tradingHours.foo` →
 * `tradingHours`).
 */
export function normalizeFieldPath(path: string): FormField | null {
  const segments = path
    .replace(/\[\d+\]/g, "")
    .split(".")
    .map((s) => s.trim())
    .filter((s) => s !== "" && !/^\d+$/.test(s))
    .map(snakeToCamel);
  for (let n = segments.length; n > 0; n--) {
    const candidate = segments.slice(0, n).join(".");
    if (KNOWN.has(candidate)) return candidate as FormField;
  }
  return null;
}

export type FieldErrorMap = Partial<Record<FormField, string>>;

export interface MappedErrors {
  /** One message per form field (several messages for the same field are joined). */
  byField: FieldErrorMap;
  /** Problems no input matches; shown only in the summary. */
  unmatched: FieldError[];
}

/** Groups backend field errors by the form field that should display them. */
export function mapFieldErrors(fields: readonly FieldError[]): MappedErrors {
  const byField: FieldErrorMap = {};
  const unmatched: FieldError[] = [];
  for (const fe of fields) {
    const key = normalizeFieldPath(fe.field);
    if (key === null) {
      unmatched.push(fe);
      continue;
    }
    const previous = byField[key];
    byField[key] = previous && previous !== fe.message ? `${previous} ${fe.message}` : fe.message;
  }
  return { byField, unmatched };
}

/**
 * Returns the items of a sent list that field errors point at by index (`instruments[2]` →
 * `sent[2]`), so the form can mark them. Indexes outside the list are ignored.
 */
export function itemsWithErrors(fields: readonly FieldError[], list: string, sent: readonly string[]): string[] {
  const pattern = new RegExp(`^${list}\\[(\\d+)\\]$`);
  const items: string[] = [];
  for (const fe of fields) {
    const match = pattern.exec(fe.field);
    const item = match ? sent[Number(match[1])] : undefined;
    if (item !== undefined && !items.includes(item)) items.push(item);
  }
  return items;
}

/** Returns the DOM id of the input for a form field (stable, used by labels and the summary). */
export function fieldDomId(field: FormField): string {
  return `field-${field.replace(/\./g, "-")}`;
}

/** Returns the id of the element holding a field's error message (for aria-describedby). */
export function fieldErrorId(field: FormField): string {
  return `${fieldDomId(field)}-error`;
}

export function fieldLabel(field: FormField): string {
  return LABELS[field];
}

/** Returns the summary entries, in form order; `labels` overrides the generic labels (e.g. from the broker catalog). */
export function errorSummary(
  byField: FieldErrorMap,
  labels: Partial<Record<FormField, string>> = {},
): { field: FormField; label: string; message: string }[] {
  return FORM_FIELDS.filter((f) => byField[f] !== undefined).map((f) => ({
    field: f,
    label: labels[f] ?? LABELS[f],
    message: byField[f] as string,
  }));
}
