import type { AccountStatus } from "../bindings/AccountStatus";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { Environment } from "../bindings/Environment";
import type { ModeLabel } from "../bindings/ModeLabel";
import type { NotificationSettings } from "../bindings/NotificationSettings";
import type { Timeframe } from "../bindings/Timeframe";
import type { TradingMode } from "../bindings/TradingMode";

export const TIMEFRAMES: readonly Timeframe[] = ["M1", "M5", "M15", "M30", "H1", "H4", "D1", "W1", "MN1"];

export const STATUSES: readonly AccountStatus[] = ["active", "suspended", "in_drawdown", "terminated"];

export const STATUS_LABELS: Record<AccountStatus, string> = {
  active: "Active",
  suspended: "Suspended",
  in_drawdown: "In drawdown",
  terminated: "Terminated",
};

export const MODE_LABELS: Record<TradingMode, string> = { paper: "Paper", live: "Live" };

/** The three trading styles (core's `ModeLabel`): never "Live" alone. */
export const MODE_LABEL_TEXT: Record<ModeLabel, string> = {
  paper: "PAPER",
  broker_practice: "BROKER PRACTICE",
  real_money: "LIVE — REAL MONEY",
};

/** The label of an account's mode on its environment (core's `ModeLabel::of`). */
export function modeLabelOf(mode: TradingMode, environment: Environment): ModeLabel {
  if (mode === "paper") return "paper";
  return environment === "live" ? "real_money" : "broker_practice";
}

export const ENVIRONMENT_LABELS: Record<Environment, string> = { practice: "Practice", live: "Live" };

/** Short names used when the broker catalog is not at hand (badges, summaries). */
export const BROKER_SHORT: Record<BrokerKind, string> = {
  paper: "Paper",
  oanda: "OANDA",
  alpaca: "Alpaca",
  tradier: "Tradier",
  tastytrade: "Tastytrade",
  ibkr: "IBKR",
};

export const BROKER_ORDER: readonly BrokerKind[] = ["paper", "oanda", "alpaca", "tradier", "tastytrade", "ibkr"];

export const NOTIFICATION_LABELS: Record<keyof NotificationSettings, { label: string; help: string }> = {
  connectionLost: { label: "Connection lost", help: "When the link to the broker drops." },
  connectionRestored: { label: "Connection restored", help: "When a dropped link comes back." },
  authFailure: { label: "Authentication failure", help: "When the broker rejects the credentials." },
  orderFilled: { label: "Order filled", help: "When an order is filled, fully or partly." },
  riskBreach: { label: "Risk limit breached", help: "When an order or position hits a risk limit." },
};

/** Time zones offered for trading hours; any other IANA name can be typed in. */
export const TIMEZONES: readonly string[] = [
  "UTC",
  "America/New_York",
  "America/Chicago",
  "America/Los_Angeles",
  "America/Toronto",
  "Europe/London",
  "Europe/Berlin",
  "Europe/Zurich",
  "Asia/Dubai",
  "Asia/Singapore",
  "Asia/Hong_Kong",
  "Asia/Tokyo",
  "Australia/Sydney",
];

/** Formats an RFC 3339 timestamp for display, in the user's locale and time zone. */
export function formatDateTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * Turns a backend message ("the OS keychain has no key…") into a sentence for display: first
 * letter upper-case, ending with a full stop unless it already ends with punctuation.
 */
export function asSentence(message: string): string {
  const t = endSentence(message);
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** Ends a backend message with a full stop unless it already ends with punctuation. */
export function endSentence(message: string): string {
  const t = message.trim();
  return t === "" || /[.!?…]["”’)]?$/.test(t) ? t : `${t}.`;
}

/** Lower-cases a label's first letter for use inside a sentence ("Secret key" → "secret key", "API key ID" stays). */
export function inSentence(label: string): string {
  return /^[A-Z][a-z]/.test(label) ? label.charAt(0).toLowerCase() + label.slice(1) : label;
}

/** What the UI says about a stored secret the backend cannot open (`MaskedCredential.error`). */
export function unreadableCredentialText(label: string, message: string): string {
  return `This stored ${inSentence(label)} cannot be read: ${endSentence(message)} Enter it again to replace it.`;
}
