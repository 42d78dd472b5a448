import type { Account } from "../bindings/Account";
import type { AccountInput } from "../bindings/AccountInput";
import type { FieldError } from "../bindings/FieldError";
import { MOCK_BROKERS } from "./catalog";

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function isUrl(text: string, schemes: string[]): boolean {
  try {
    return schemes.includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/**
 * Validates an account input the way the real backend is specified to, returning field errors
 * with the same paths (`credentials.apiKey`, `risk.maxLeverage`, `instruments[1]`, …).
 */
export function validateAccountInput(
  input: AccountInput,
  existing: Account | null,
  stored: { apiKey: string | null; apiSecret: string | null } | null,
): FieldError[] {
  const errors: FieldError[] = [];
  const add = (field: string, code: string, message: string) => errors.push({ field, code, message });
  const broker = MOCK_BROKERS.find((b) => b.kind === input.broker);

  const name = input.name.trim();
  if (name === "") add("name", "required", "Give the account a name.");
  else if (name.length > 64) add("name", "too_long", "Use at most 64 characters.");

  if (!broker) {
    add("broker", "unknown", "Unknown broker.");
    return errors;
  }
  if (existing && existing.broker !== input.broker) add("broker", "immutable", "The broker of an account cannot be changed.");
  if (!broker.environments.some((e) => e.environment === input.environment)) {
    add("environment", "unsupported", `${broker.label} has no ${input.environment} environment.`);
  }

  const accountId = input.brokerAccountId?.trim() ?? "";
  if (broker.accountIdRequired && accountId === "") add("brokerAccountId", "required", `${broker.accountIdLabel} is required.`);
  else if (broker.kind === "oanda" && accountId !== "" && !/^\d{3}-\d{3}-\d{1,10}-\d{3}$/.test(accountId)) {
    add("brokerAccountId", "format", "Use the form 101-004-1234567-001.");
  }

  const envChanged = existing !== null && existing.environment !== input.environment;
  for (const spec of broker.credentialFields) {
    const key = spec.field === "api_key" ? "apiKey" : "apiSecret";
    const given = input.credentials[key];
    const keep = existing !== null && !envChanged && stored?.[key];
    if (spec.required && !given && !keep) {
      add(`credentials.${key}`, "required", envChanged ? `Enter the ${spec.label.toLowerCase()} for the ${input.environment} environment.` : `${spec.label} is required.`);
    } else if (given && broker.kind === "oanda" && given.length < 16) {
      add(`credentials.${key}`, "format", "That is too short for an OANDA access token.");
    }
  }

  if (broker.kind === "paper" && (input.restUrl || input.streamUrl)) {
    add("restUrl", "not_applicable", "The built-in paper broker has no endpoints.");
  } else {
    if (input.restUrl && !isUrl(input.restUrl, ["http:", "https:"])) add("restUrl", "url", "Enter a full http(s) URL.");
    if (input.streamUrl && !isUrl(input.streamUrl, ["http:", "https:", "ws:", "wss:"])) {
      add("streamUrl", "url", "Enter a full http(s) or ws(s) URL.");
    }
  }

  // Limits arrive as decimal text; the ranges are checked on their values.
  const num = (v: string | null) => (v === null ? null : Number(v));
  const pct = (field: string, text: string | null) => {
    const v = num(text);
    if (v !== null && !(v > 0 && v <= 100)) add(field, "range", "Use a percentage above 0 and at most 100.");
  };
  pct("propFirm.maxDailyLossPct", input.propFirm.maxDailyLossPct);
  pct("propFirm.maxTotalLossPct", input.propFirm.maxTotalLossPct);
  pct("propFirm.profitTargetPct", input.propFirm.profitTargetPct);
  pct("risk.maxPositionSizePct", input.risk.maxPositionSizePct);

  const r = input.risk;
  if (r.maxOpenPositions !== null && !(Number.isInteger(r.maxOpenPositions) && r.maxOpenPositions >= 1)) {
    add("risk.maxOpenPositions", "range", "Use a whole number of at least 1.");
  }
  const [maxQty, maxLeverage, maxCorrelation] = [num(r.maxQty), num(r.maxLeverage), num(r.maxCorrelation)];
  if (maxQty !== null && !(maxQty > 0)) add("risk.maxQty", "range", "Use a quantity above 0.");
  if (maxLeverage !== null && !(maxLeverage >= 1 && maxLeverage <= 500)) add("risk.maxLeverage", "range", "Use a leverage between 1 and 500.");
  if (maxCorrelation !== null && !(maxCorrelation >= 0 && maxCorrelation <= 1)) {
    add("risk.maxCorrelation", "range", "Use a value between 0 and 1.");
  }

  input.instruments.forEach((symbol, i) => {
    if (broker.kind === "oanda" && !/^[A-Z0-9]+_[A-Z0-9]+$/.test(symbol)) {
      add(`instruments[${i}]`, "format", `“${symbol}” is not an OANDA instrument name; write it like EUR_USD.`);
    }
  });

  const h = input.tradingHours;
  if (h) {
    if (!HHMM.test(h.start)) add("tradingHours.start", "format", "Use HH:MM.");
    if (!HHMM.test(h.end)) add("tradingHours.end", "format", "Use HH:MM.");
    else if (h.start === h.end) add("tradingHours.end", "range", "The end must differ from the start.");
    if (!(h.timezone === "UTC" || /^[A-Za-z_]+\/[A-Za-z_/+-]+$/.test(h.timezone))) {
      add("tradingHours.timezone", "unknown", "Use an IANA time zone such as Europe/London.");
    }
  }

  if ((input.statusReason ?? "").length > 200) add("statusReason", "too_long", "Use at most 200 characters.");
  return errors;
}
