/**
 * What the account editor shows about checking credentials with the broker: on Save (the
 * backend checks before it stores anything) and on "Test connection" (nothing is saved).
 */
import type { Account } from "../bindings/Account";
import type { AccountSummary } from "../bindings/AccountSummary";
import type { CheckOutcome } from "../bindings/CheckOutcome";
import { Code } from "../api/errors";
import type { AccountFormState } from "./accountForm";
import type { Code as CodeName } from "../bindings/Code";
import { absDecimal, formatDecimal, roundDecimal, signOf } from "./decimal";

export type CheckAction = "test" | "save";

export type CheckView =
  | { kind: "idle" }
  | { kind: "checking"; action: CheckAction }
  | { kind: "verified"; action: CheckAction; summary: AccountSummary }
  | { kind: "unreachable"; action: CheckAction; code: CodeName; reason: string }
  | { kind: "skipped"; action: CheckAction; reason: string }
  /** The broker (or the check's rate limit) refused: nothing was saved. */
  | { kind: "refused"; action: CheckAction; code: CodeName; reason: string };

/** Errors that are the broker's (or the check's) answer rather than a problem with the form. */
const REFUSALS: ReadonlySet<CodeName> = new Set<CodeName>([
  Code.BrokerAuth,
  Code.BrokerRejected,
  Code.BrokerNotFound,
  Code.BrokerConfig,
  Code.VerifyRateLimited,
  Code.ChooseBrokerAccount,
]);

export function isRefusal(code: CodeName): boolean {
  return REFUSALS.has(code);
}

/** Ends a text with a full stop unless it already ends with punctuation. */
export function sentence(text: string): string {
  const t = text.trim();
  if (t === "") return t;
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

/**
 * The broker's reason as one sentence, without the policy's suffixes (the UI says what happened
 * in its own words: "; nothing was saved", "; saved without checking — run `account verify` …")
 * and without the "the broker refused the credentials:" lead-in the heading already says.
 */
export function brokerReason(message: string): string {
  const cut = message.search(/;\s*(nothing was saved|saved without checking)/i);
  let reason = (cut >= 0 ? message.slice(0, cut) : message).trim();
  reason = reason.replace(/^the broker refused the credentials:\s*/i, "");
  return sentence(reason);
}

export function outcomeView(outcome: CheckOutcome, action: CheckAction): CheckView {
  switch (outcome.status) {
    case "verified":
      return { kind: "verified", action, summary: outcome.summary };
    case "unreachable":
      return { kind: "unreachable", action, code: outcome.code, reason: brokerReason(outcome.message) };
    case "skipped":
      return { kind: "skipped", action, reason: outcome.reason };
  }
}

export function refusalView(error: { code: CodeName; message: string }, action: CheckAction): CheckView {
  return { kind: "refused", action, code: error.code, reason: brokerReason(error.message) };
}

/** The heading of a refusal, naming the broker. */
export function refusalTitle(code: CodeName, broker: string): string {
  switch (code) {
    case Code.BrokerAuth:
      return `${broker} refused the credentials`;
    case Code.BrokerNotFound:
      return `${broker} does not know this account`;
    case Code.BrokerConfig:
      return `These settings cannot be used with ${broker}`;
    case Code.VerifyRateLimited:
      return "Too many checks in the last minute";
    case Code.ChooseBrokerAccount:
      return "Choose one of the token's accounts";
    default:
      return `${broker} rejected the request`;
  }
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

/**
 * An amount in the account's currency ("$100,412.57", "€1,000.00"); plain with the code when the
 * currency is unknown. `amount` is the exact decimal text the backend sends: it is rounded to
 * the currency's digits as a decimal, and only the symbol's placement comes from `Intl`.
 */
export function formatMoney(amount: string, currency: string): string {
  let f = moneyFormats.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat("en-US", { style: "currency", currency, currencyDisplay: "narrowSymbol" });
    } catch {
      f = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    moneyFormats.set(currency, f);
  }
  const options = f.resolvedOptions();
  const digits = formatDecimal(absDecimal(amount), options.maximumFractionDigits ?? 2);
  if (digits === null) return `${amount} ${currency}`;
  const negative = signOf(roundDecimal(amount, options.maximumFractionDigits ?? 2) ?? "0") < 0;
  // The layout of a formatted 1 (or −1), with the exact digits in place of its number.
  let placed = false;
  const text = f
    .formatToParts(negative ? -1 : 1)
    .map((part) => {
      if (!["integer", "group", "decimal", "fraction"].includes(part.type)) return part.value;
      if (placed) return "";
      placed = true;
      return digits;
    })
    .join("");
  return options.style === "currency" ? text : `${text} ${currency}`;
}

/** "••••-001" for display (the backend sends only the last 4 characters). */
export const maskedAccount = (summary: AccountSummary) => `••••${summary.accountLast4}`;

/**
 * Whether saving will make the backend check with the broker: never for the paper broker or a
 * broker without credentials; on edit only when what the check depends on changed.
 */
export function saveWillCheck(account: Account | null, form: AccountFormState, credentialFields: number): boolean {
  if (form.broker === null || form.broker === "paper" || credentialFields === 0) return false;
  const typed = form.credentials.apiKey !== "" || form.credentials.apiSecret !== "";
  if (account === null) return typed;
  const orNull = (s: string) => (s.trim() === "" ? null : s.trim());
  return (
    typed ||
    form.environment !== account.environment ||
    orNull(form.restUrl) !== account.restUrl ||
    orNull(form.streamUrl) !== account.streamUrl ||
    orNull(form.brokerAccountId) !== account.brokerAccountId
  );
}
