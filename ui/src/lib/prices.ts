/**
 * Live prices for the Dashboard's watchlists: merging coalesced ticks, the precision an
 * instrument is quoted with, change since the first price of the session, a bounded history of
 * mid prices for the sparkline, and whether an account's feed is stale.
 *
 * Prices are exact decimal strings (see `./decimal`): mid, spread and change are computed on
 * them exactly, and formatted without passing through a float. Only the sparkline draws
 * `Number(mid)`.
 */
import type { ChannelStatus } from "../bindings/ChannelStatus";
import type { Tick } from "../bindings/Tick";
import { stateSince } from "./connections";
import { absDecimal, formatDecimal, midDecimal, placesOf, roundDecimal, signOf, subDecimal } from "./decimal";

/** The most decimals shown for a price (brokers quote at most 5–6). */
export const MAX_DECIMALS = 8;

/**
 * Merges a tick into the previous one field by field: a field the broker did not send (null)
 * keeps its previous value, so a bid-only update does not blank the ask.
 */
export function mergeTick(prev: Tick | undefined, next: Tick): Tick {
  if (!prev) return next;
  return {
    instrument: next.instrument,
    bid: next.bid ?? prev.bid,
    ask: next.ask ?? prev.ask,
    last: next.last ?? prev.last,
    bidSize: next.bidSize ?? prev.bidSize,
    askSize: next.askSize ?? prev.askSize,
    lastSize: next.lastSize ?? prev.lastSize,
    exchangeTime: next.exchangeTime ?? prev.exchangeTime,
    receivedAt: next.receivedAt,
  };
}

/**
 * The decimals a price was sent with (`"1.08412"` → 5, `"151.20"` → 2, `"2650"` → 0), capped at
 * `MAX_DECIMALS`. A broker may drop trailing zeros now and then, so callers keep the most seen
 * for an instrument.
 */
export function decimalsOf(value: string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return Math.min(MAX_DECIMALS, placesOf(value));
}

/** The precision of a tick: the most decimals among its prices. */
export function tickDecimals(tick: Tick): number {
  return Math.max(decimalsOf(tick.bid), decimalsOf(tick.ask), decimalsOf(tick.last));
}

/** The mid price (bid and ask, exactly), else the last trade, else whichever side is known. */
export function midOf(tick: Tick): string | null {
  if (tick.bid !== null && tick.ask !== null) return midDecimal(tick.bid, tick.ask);
  return tick.last ?? tick.bid ?? tick.ask;
}

/** The spread (ask − bid, exactly), or null unless both sides are known. */
export function spreadOf(tick: Tick): string | null {
  return tick.bid !== null && tick.ask !== null ? subDecimal(tick.ask, tick.bid) : null;
}

/** A price with the instrument's decimals ("1.08412", "2,650.45"); "—" when unknown. */
export function formatPrice(value: string | null | undefined, decimals: number): string {
  if (value === null || value === undefined) return "—";
  return formatDecimal(value, decimals) ?? "—";
}

const MINUS = "\u2212";

/** A signed difference with the instrument's decimals: "+0.00021", "−1.250", "0.00000". */
export function formatSigned(value: string | null, decimals: number): string {
  if (value === null) return "—";
  const text = formatDecimal(absDecimal(value), decimals);
  if (text === null) return "—";
  const rounded = roundDecimal(value, decimals);
  const sign = rounded === null ? 0 : signOf(rounded);
  if (sign === 0) return text;
  return `${sign > 0 ? "+" : MINUS}${text}`;
}

/** A signed percentage with 2 decimals: "+0.02%", "−1.25%", "0.00%" (a ratio, not money: a number). */
export function formatPercent(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "—";
  const text = Math.abs(value).toFixed(2);
  if (Number(text) === 0) return `${text}%`;
  return `${value > 0 ? "+" : MINUS}${text}%`;
}

/** The sign of a change once rounded to what is shown: a move too small to display is flat. */
export function changeTone(value: string | null, decimals: number): "up" | "down" | "flat" {
  if (value === null) return "flat";
  const rounded = roundDecimal(value, decimals);
  const sign = rounded === null ? 0 : signOf(rounded);
  return sign > 0 ? "up" : sign < 0 ? "down" : "flat";
}

/** The change from `first` to `now` in percent of `first`: a ratio, computed as a number. */
export function percentChange(change: string | null, first: string | null): number | null {
  if (change === null || first === null || signOf(first) === 0) return null;
  return (Number(change) / Number(first)) * 100;
}

/**
 * A fixed-capacity ring of (time, value) points: pushing beyond the capacity drops the oldest,
 * so memory stays bounded however long the app runs.
 */
export class RingBuffer {
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error("a ring buffer needs a capacity of at least 1");
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(time: number, value: number): void {
    const end = (this.start + this.count) % this.capacity;
    this.times[end] = time;
    this.values[end] = value;
    if (this.count < this.capacity) this.count += 1;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Replaces the newest point (pushes when empty). */
  replaceLast(time: number, value: number): void {
    if (this.count === 0) {
      this.push(time, value);
      return;
    }
    const last = (this.start + this.count - 1) % this.capacity;
    this.times[last] = time;
    this.values[last] = value;
  }

  lastTime(): number | null {
    return this.count === 0 ? null : (this.times[(this.start + this.count - 1) % this.capacity] ?? null);
  }

  /** The values, oldest first. */
  toValues(): number[] {
    const out: number[] = new Array<number>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.values[(this.start + i) % this.capacity] ?? 0;
    return out;
  }

  /** The points, oldest first. */
  points(): { t: number; v: number }[] {
    const out: { t: number; v: number }[] = [];
    for (let i = 0; i < this.count; i++) {
      const j = (this.start + i) % this.capacity;
      out.push({ t: this.times[j] ?? 0, v: this.values[j] ?? 0 });
    }
    return out;
  }
}

/** One sparkline point per this many ms: the newest point follows the latest price within it. */
export const SPARK_SAMPLE_MS = 1000;
/** 300 one-second points: the last 5 minutes. */
export const SPARK_POINTS = 300;

/** Records a mid price in the history: a new point each sample period, else the newest point moves. */
export function recordMid(history: RingBuffer, time: number, mid: number, sampleMs = SPARK_SAMPLE_MS): void {
  const last = history.lastTime();
  if (last !== null && Math.floor(last / sampleMs) === Math.floor(time / sampleMs)) history.replaceLast(time, mid);
  else history.push(time, mid);
}

/**
 * An SVG path through `values` scaled into a `width`×`height` box (1 px padding), oldest at
 * the left; a flat series is drawn through the middle. Empty for fewer than 2 values.
 */
export function sparklinePath(values: readonly number[], width: number, height: number): string {
  if (values.length < 2) return "";
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const pad = 1;
  const h = height - 2 * pad;
  const step = (width - 2 * pad) / (values.length - 1);
  const range = max - min;
  const y = (v: number) => (range === 0 ? height / 2 : pad + h - ((v - min) / range) * h);
  let d = "";
  values.forEach((v, i) => {
    d += `${i === 0 ? "M" : "L"}${(pad + i * step).toFixed(1)},${y(v).toFixed(1)}`;
  });
  return d;
}

/** What the watchlist says about an account's price feed. */
export type FeedState =
  | { kind: "live" }
  | { kind: "stale"; state: "connecting" | "reconnecting" | "disconnected" | "failed"; detail: string | null; since: string | null }
  | { kind: "none" }
  | { kind: "unknown" };

/**
 * Live only while the account's price channel is connected; stale (greyed, with the age of the
 * last price) otherwise; `none` when the account has no price channel; `unknown` until the
 * connections are read.
 */
export function feedState(channel: ChannelStatus | undefined, connectionsKnown: boolean): FeedState {
  if (!connectionsKnown) return { kind: "unknown" };
  if (!channel) return { kind: "none" };
  const { state } = channel;
  switch (state.state) {
    case "connected":
      return { kind: "live" };
    case "reconnecting":
      return { kind: "stale", state: "reconnecting", detail: state.lastError, since: stateSince(channel) };
    case "failed":
      return { kind: "stale", state: "failed", detail: state.reason, since: stateSince(channel) };
    default:
      return { kind: "stale", state: state.state, detail: null, since: stateSince(channel) };
  }
}

/** "last update 12 s ago" / "no price received yet", for a stale feed. */
export function lastUpdateText(lastUpdateAt: number | null, now: number): string {
  if (lastUpdateAt === null) return "no price received yet";
  const s = Math.max(0, Math.floor((now - lastUpdateAt) / 1000));
  if (s < 60) return `last update ${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `last update ${m} min ${String(s % 60).padStart(2, "0")} s ago`;
  return `last update ${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min ago`;
}
