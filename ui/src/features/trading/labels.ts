import type { OrderStatus } from "../../bindings/OrderStatus";
import type { OrderType } from "../../bindings/OrderType";
import type { TimeInForce } from "../../bindings/TimeInForce";

export const ORDER_STATUS_LABELS: Record<OrderStatus, string> = {
  pending: "Pending",
  open: "Open",
  partially_filled: "Partially filled",
  filled: "Filled",
  cancelled: "Cancelled",
  rejected: "Rejected",
  unknown: "Unknown — looking up",
  needs_review: "Needs review",
};

export const ORDER_STATUS_TONE: Record<OrderStatus, "ok" | "warn" | "bad" | "muted" | "info"> = {
  pending: "info",
  open: "info",
  partially_filled: "info",
  filled: "ok",
  cancelled: "muted",
  rejected: "bad",
  unknown: "warn",
  needs_review: "bad",
};

export const ORDER_TYPE_LABELS: Record<OrderType, string> = { market: "Market", limit: "Limit", stop: "Stop" };
export const TIF_LABELS: Record<TimeInForce, string> = { day: "Day", gtc: "Good till cancelled" };

/** Whether an order may still fill or be cancelled. */
export const isWorking = (status: OrderStatus) => status === "pending" || status === "open" || status === "partially_filled" || status === "unknown";

/** A decimal string without trailing zeros ("1000.000" → "1000"); null → "—". */
export function num(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  if (!value.includes(".")) return value;
  return value.replace(/0+$/, "").replace(/\.$/, "");
}

/** Money with two decimals and grouping, sign kept ("-1234.5" → "-1,234.50"). */
export function money(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const negative = value.startsWith("-");
  const [int = "0", frac = ""] = value.replace(/^[-+]/, "").split(".");
  const cents = (frac + "00").slice(0, 2);
  // Round half up on the third decimal without floating point.
  let digits = `${int}${cents}`;
  if ((frac[2] ?? "0") >= "5") {
    const arr = digits.split("").map(Number);
    let i = arr.length - 1;
    while (i >= 0) {
      if (arr[i] === 9) {
        arr[i] = 0;
        i -= 1;
      } else {
        arr[i] = (arr[i] ?? 0) + 1;
        break;
      }
    }
    digits = (i < 0 ? "1" : "") + arr.join("");
  }
  const whole = digits.slice(0, -2).replace(/^0+(?=\d)/, "") || "0";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const out = `${grouped}.${digits.slice(-2)}`;
  return negative && out !== "0.00" ? `-${out}` : out;
}

/** "up" / "down" / "flat" for a signed decimal string. */
export function tone(value: string | null | undefined): "up" | "down" | "flat" {
  if (!value) return "flat";
  if (value.startsWith("-")) return /[1-9]/.test(value) ? "down" : "flat";
  return /[1-9]/.test(value) ? "up" : "flat";
}

/** A time of today as "14:03:07", an older one with its date too. */
export function timeOf(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  return d.toDateString() === now.toDateString() ? time : `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${time}`;
}
