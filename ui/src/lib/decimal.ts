/**
 * Exact decimals as text. The core sends prices, sizes, balances and limits as decimal strings
 * ("1.08235", "-0.5", "30"), never as JSON numbers, because a JavaScript number is a binary
 * float: 1.08235 - 1.0823 is 0.00004999999999994942 there. This module does the little
 * arithmetic the UI needs (a mid price, a spread, a change) on scaled BigInts, and formats
 * without ever going through a float. `Number(x)` is for drawing (the sparkline) only.
 */

/** Plain decimal notation, what the core writes and accepts: an optional sign, digits, one point. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** The most digits the core's decimals hold (rust_decimal's 96-bit mantissa). */
export const MAX_DIGITS = 28;

/** A decimal as an integer count of 10^-scale units. */
interface Scaled {
  units: bigint;
  scale: number;
}

/** Whether `text` is a decimal in plain notation (surrounding spaces allowed). */
export function isDecimal(text: string): boolean {
  return DECIMAL.test(text.trim());
}

/**
 * Checks user input the way the core's `money::parse` does: plain notation only (no `1e3`,
 * `1_000`, `0x10`, `Infinity`), at most 28 digits. Returns the trimmed text, or why it is not one.
 */
export function checkDecimal(text: string): { ok: true; value: string } | { ok: false; reason: "not_a_number" | "too_many_digits" } {
  const t = text.trim();
  if (!DECIMAL.test(t)) return { ok: false, reason: "not_a_number" };
  const body = t.replace(/^[+-]/, "");
  const [int = "", frac = ""] = body.split(".");
  if ((int + frac).replace(/^0+/, "").length > MAX_DIGITS || frac.length > MAX_DIGITS) {
    return { ok: false, reason: "too_many_digits" };
  }
  return { ok: true, value: t };
}

function parse(text: string): Scaled | null {
  const t = text.trim();
  if (!DECIMAL.test(t)) return null;
  const negative = t.startsWith("-");
  const body = t.replace(/^[+-]/, "");
  const [int = "", frac = ""] = body.split(".");
  const units = BigInt((int || "0") + frac);
  return { units: negative ? -units : units, scale: frac.length };
}

function rescale(a: Scaled, scale: number): bigint {
  return a.units * 10n ** BigInt(scale - a.scale);
}

function toText({ units, scale }: Scaled): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return `${negative ? "-" : ""}${int}${scale > 0 ? `.${frac}` : ""}`;
}

function combine(a: string, b: string, op: (x: bigint, y: bigint) => bigint): string | null {
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return null;
  const scale = Math.max(x.scale, y.scale);
  return toText({ units: op(rescale(x, scale), rescale(y, scale)), scale });
}

/** a + b, exactly; null when either is not a decimal. */
export function addDecimal(a: string, b: string): string | null {
  return combine(a, b, (x, y) => x + y);
}

/** a − b, exactly ("1.08425" − "1.0841" = "0.00015"). */
export function subDecimal(a: string, b: string): string | null {
  return combine(a, b, (x, y) => x - y);
}

/** (a + b) / 2, exactly: one more decimal place when the sum is odd. */
export function midDecimal(a: string, b: string): string | null {
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return null;
  const scale = Math.max(x.scale, y.scale);
  const sum = rescale(x, scale) + rescale(y, scale);
  return sum % 2n === 0n ? toText({ units: sum / 2n, scale }) : toText({ units: sum * 5n, scale: scale + 1 });
}

/** The sign of a decimal: -1, 0 or 1 (0 for text that is not one). */
export function signOf(a: string): -1 | 0 | 1 {
  const x = parse(a);
  if (!x || x.units === 0n) return 0;
  return x.units < 0n ? -1 : 1;
}

/** Compares two decimals exactly (0 when either is not one). */
export function compareDecimal(a: string, b: string): -1 | 0 | 1 {
  const d = subDecimal(a, b);
  return d === null ? 0 : signOf(d);
}

/** The digits after the point as written ("1.08230" → 5, "2650" → 0). */
export function placesOf(a: string): number {
  const t = a.trim();
  const dot = t.indexOf(".");
  return dot < 0 ? 0 : t.length - dot - 1;
}

/** Rounds to `decimals` places, half away from zero (what a price board shows). */
export function roundDecimal(a: string, decimals: number): string | null {
  const x = parse(a);
  if (!x) return null;
  if (x.scale <= decimals) return toText({ units: rescale(x, decimals), scale: decimals });
  const drop = 10n ** BigInt(x.scale - decimals);
  const negative = x.units < 0n;
  const abs = negative ? -x.units : x.units;
  let kept = abs / drop;
  if ((abs % drop) * 2n >= drop) kept += 1n;
  return toText({ units: negative ? -kept : kept, scale: decimals });
}

/** Groups thousands: "2650.45" → "2,650.45". */
function group(text: string): string {
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const [int = "", frac] = body.split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${frac !== undefined ? `.${frac}` : ""}`;
}

/** A decimal with exactly `decimals` places and thousands separators ("2,650.40"); null if not one. */
export function formatDecimal(a: string, decimals: number): string | null {
  const r = roundDecimal(a, decimals);
  return r === null ? null : group(r);
}

/** The absolute value. */
export function absDecimal(a: string): string {
  return a.trim().replace(/^[+-]/, "");
}
