/**
 * What the dashboard's risk cards and the kill switch say: the statuses' meanings, a gauge's
 * tone, the countdown to a firm's reset and the reset time in the firm's zone, and the kill
 * switch's outcomes. Pure, so the words are tested without rendering.
 */
import type { Account } from "../bindings/Account";
import type { AccountStatus } from "../bindings/AccountStatus";
import type { Budget } from "../bindings/Budget";
import type { KillSwitchReport } from "../bindings/KillSwitchReport";

/** What each status allows (the core's pre-trade checks, `risk::check`). */
export const STATUS_MEANING: Record<AccountStatus, string> = {
  active: "Trading allowed within the account's rules.",
  suspended: "No new positions: only orders that reduce a position are allowed.",
  in_drawdown: "Close-only until the next daily reset (or until the day's loss is recovered).",
  terminated: "No orders at all. A terminated account stays terminated.",
};

/** Whether the account has loss rules (a daily or a total loss limit): the core then measures its budgets. */
export const hasLossRules = (a: Pick<Account, "propFirm">) => a.propFirm.maxDailyLossPct !== null || a.propFirm.maxTotalLossPct !== null;

/** At this much of a budget used the gauge turns amber, and at `DANGER_PCT` red. */
export const WARN_PCT = 80;
export const DANGER_PCT = 95;

export type GaugeTone = "ok" | "warn" | "danger";

/** A budget's colour by how much of it is used (percent, a decimal string). */
export function gaugeTone(usedPct: string): GaugeTone {
  const pct = Number(usedPct);
  if (!Number.isFinite(pct)) return "ok";
  if (pct >= DANGER_PCT) return "danger";
  if (pct >= WARN_PCT) return "warn";
  return "ok";
}

/** The bar's fill, 0–100 (a loss past the limit fills it). */
export function gaugeFill(usedPct: string): number {
  const pct = Number(usedPct);
  if (!Number.isFinite(pct) || pct <= 0) return 0;
  return Math.min(pct, 100);
}

/**
 * Where Brokerdesk acts, as a percentage of the limit, when a safety buffer sets it before the
 * firm's limit; null when it acts at the limit itself. Read from the budget (limit and the
 * distance from reference to trigger), so it is what the core measures with.
 */
export function triggerPct(b: Budget): number | null {
  const limit = Number(b.limit);
  const actAt = Number(b.reference) - Number(b.trigger);
  if (!(limit > 0) || !Number.isFinite(actAt)) return null;
  const pct = (actAt / limit) * 100;
  if (pct >= 99.995) return null;
  return Math.max(0, Math.round(pct * 100) / 100);
}

/** A duration as a countdown in whole seconds, rounded up: "2d 03:04:05", "03:04:05", "04:05"; never negative. */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  const clock = h > 0 || d > 0 ? `${two(h)}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
  return d > 0 ? `${d}d ${clock}` : clock;
}

/**
 * A moment as the wall-clock time in `timeZone` ("00:00"), with the weekday when it is not
 * the same calendar day there as `now` ("Mon 00:00"). Falls back to UTC for an unknown zone.
 */
export function zoneTime(iso: string, timeZone: string, now: number = Date.now()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const fmt = (opts: Intl.DateTimeFormatOptions, date: Date) => {
    try {
      return new Intl.DateTimeFormat("en-GB", { ...opts, timeZone }).format(date);
    } catch {
      return new Intl.DateTimeFormat("en-GB", { ...opts, timeZone: "UTC" }).format(date);
    }
  };
  const time = fmt({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, at);
  const day = (date: Date) => fmt({ year: "numeric", month: "2-digit", day: "2-digit" }, date);
  return day(at) === day(new Date(now)) ? time : `${fmt({ weekday: "short" }, at)} ${time}`;
}

/** The same moment in the user's own time zone ("23:00"). */
export function localTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

/** The kill switch's outcome of an order, in words (else the status it ended in). */
export const ORDER_OUTCOME: Record<string, string> = {
  cancelled: "Cancelled",
  filled: "Filled before the cancel landed",
  partially_filled: "Partly filled, still working",
  not_open: "Was no longer open",
  failed: "Could not be cancelled",
  needs_review: "Needs review",
  unknown: "Cancel sent, result not known yet",
  open: "Still open",
  pending: "Still pending",
  rejected: "Rejected",
};

/** The kill switch's outcome of a position, in words. */
export const POSITION_OUTCOME: Record<string, string> = {
  closed: "Closed",
  open: "Left open",
  failed: "Could not be closed",
};

export const outcomeText = (words: Record<string, string>, outcome: string) => words[outcome] ?? outcome.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

/**
 * How an outcome reads: `bad` is a failure (counted in the report's `failures`, the order in
 * Needs review), `warn` is something still at risk (an order still working, a position left
 * open), `ok` is done.
 */
export function outcomeTone(outcome: string): "ok" | "warn" | "bad" {
  if (outcome === "failed" || outcome === "needs_review") return "bad";
  if (outcome === "cancelled" || outcome === "closed" || outcome === "not_open" || outcome === "rejected") return "ok";
  return "warn";
}

/** The kill switch report's totals: orders cancelled, positions closed and left open, failures. */
export function killTotals(r: KillSwitchReport): { accounts: number; orders: number; cancelled: number; closed: number; open: number; failures: number } {
  let orders = 0;
  let cancelled = 0;
  let closed = 0;
  let open = 0;
  for (const a of r.accounts) {
    orders += a.orders.length;
    cancelled += a.orders.filter((o) => o.outcome === "cancelled").length;
    closed += a.positions.filter((p) => p.outcome === "closed").length;
    open += a.positions.filter((p) => p.outcome === "open").length;
  }
  return { accounts: r.accounts.length, orders, cancelled, closed, open, failures: r.failures };
}
