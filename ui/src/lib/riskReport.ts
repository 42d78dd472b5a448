import type { Budget } from "../bindings/Budget";
import { formatMoney } from "./accountCheck";
import { compareDecimal, signOf } from "./decimal";

/** An amount in the report's currency; plain when the currency is not known yet (no money read). */
export function money(amount: string, currency: string): string {
  return formatMoney(amount, currency).trim();
}

/** A budget's figures as the account page shows them. */
export interface BudgetView {
  limit: string;
  used: string;
  remaining: string;
  /** Of the limit, 0–100 (for the meter). */
  usedPct: number;
  /** Where Brokerdesk acts, as an equity level. */
  trigger: string;
  /** The firm's floor, as an equity level. */
  floor: string;
  /** Brokerdesk acts before the firm's limit (a safety buffer). */
  buffered: boolean;
  /** Where Brokerdesk acts, as a share of the limit (0–100), for the meter's marker. */
  actAtPct: number;
  /** Nothing more may be lost before Brokerdesk acts. */
  exhausted: boolean;
}

const clamp = (n: number) => Math.min(100, Math.max(0, Number.isFinite(n) ? n : 0));

export function budgetView(b: Budget, currency: string): BudgetView {
  const limit = Number(b.limit);
  const actAt = Number(b.reference) - Number(b.trigger);
  return {
    limit: money(b.limit, currency),
    used: money(b.used, currency),
    remaining: money(b.remaining, currency),
    usedPct: clamp(Number(b.usedPct)),
    trigger: money(b.trigger, currency),
    floor: money(b.floor, currency),
    buffered: compareDecimal(b.trigger, b.floor) > 0,
    actAtPct: limit > 0 ? clamp((actAt / limit) * 100) : 100,
    exhausted: signOf(b.remaining) <= 0,
  };
}

const formats = new Map<string, Intl.DateTimeFormat | null>();

function format(zone: string | undefined): Intl.DateTimeFormat | null {
  const key = zone ?? "";
  if (!formats.has(key)) {
    try {
      formats.set(
        key,
        new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short", timeZone: zone }),
      );
    } catch {
      formats.set(key, null);
    }
  }
  return formats.get(key) ?? null;
}

/** A moment in the user's own time zone ("Mon, 7 Dec, 01:00 CET"). */
export function localTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : (format(undefined)?.format(d) ?? iso);
}

/** A moment in a named IANA zone, or null when the zone is unknown to this system. */
export function zoneTime(iso: string, zone: string): string | null {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  return format(zone)?.format(d) ?? null;
}

/** How long until a moment: "in 3 h 20 min", "in 12 min", "now". */
export function untilText(iso: string, now: number): string {
  const ms = new Date(iso).getTime() - now;
  if (!Number.isFinite(ms)) return "";
  if (ms < 60_000) return "now";
  const minutes = Math.floor(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h >= 24) {
    const d = Math.floor(h / 24);
    return `in ${d} d ${h % 24} h`;
  }
  return h > 0 ? `in ${h} h ${m} min` : `in ${m} min`;
}
