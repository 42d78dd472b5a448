import { describe, expect, it } from "vitest";
import type { ChannelStatus } from "../bindings/ChannelStatus";
import type { Tick } from "../bindings/Tick";
import {
  RingBuffer,
  changeTone,
  decimalsOf,
  feedState,
  formatPercent,
  formatPrice,
  formatSigned,
  lastUpdateText,
  mergeTick,
  midOf,
  recordMid,
  sparklinePath,
  spreadOf,
} from "./prices";

const tick = (patch: Partial<Tick> & { instrument?: string } = {}): Tick => ({
  instrument: "EUR_USD",
  bid: null,
  ask: null,
  last: null,
  bidSize: null,
  askSize: null,
  lastSize: null,
  exchangeTime: null,
  receivedAt: "2026-11-20T10:00:00.000Z",
  ...patch,
});

describe("mergeTick", () => {
  it("keeps the previous value of every field the new tick leaves null", () => {
    const prev = tick({ bid: "1.1", ask: "1.2", bidSize: "1000000", exchangeTime: "2026-11-20T09:59:59Z" });
    const merged = mergeTick(prev, tick({ ask: "1.25", receivedAt: "2026-11-20T10:00:01.000Z" }));
    expect(merged).toEqual({ ...prev, ask: "1.25", receivedAt: "2026-11-20T10:00:01.000Z" });
    expect(mergeTick(undefined, prev)).toBe(prev);
  });

  it("takes zero as a value, not as missing", () => {
    expect(mergeTick(tick({ bidSize: "5" }), tick({ bidSize: "0" })).bidSize).toBe("0");
  });
});

describe("precision and formatting", () => {
  it("infers the decimals a price was sent with", () => {
    expect(decimalsOf("1.08412")).toBe(5);
    expect(decimalsOf("151.2")).toBe(1);
    expect(decimalsOf("2650")).toBe(0);
    expect(decimalsOf("-0.5")).toBe(1);
    expect(decimalsOf("0.0000001")).toBe(7);
    expect(decimalsOf("0.00000015")).toBe(8);
    expect(decimalsOf("0.30000000000000004")).toBe(8); // more than a board shows is capped
    expect(decimalsOf(null)).toBe(0);
    // Exact text keeps the scale a float would drop: a 5-decimal quote ending in 0.
    expect(decimalsOf("1.08230")).toBe(5);
  });

  it("formats prices, signed changes and percentages", () => {
    expect(formatPrice("1.0841", 5)).toBe("1.08410");
    expect(formatPrice("2650.4", 2)).toBe("2,650.40");
    expect(formatPrice(null, 2)).toBe("—");
    expect(formatSigned("0.00021", 5)).toBe("+0.00021");
    expect(formatSigned("-1.25", 3)).toBe("\u22121.250");
    expect(formatSigned("0.000001", 5)).toBe("0.00000");
    expect(formatSigned("-0.000001", 5)).toBe("0.00000");
    expect(formatPercent(0.0194)).toBe("+0.02%");
    expect(formatPercent(-1.254)).toBe("\u22121.25%");
    expect(formatPercent(0.001)).toBe("0.00%");
    expect(changeTone("0.000004", 5)).toBe("flat");
    expect(changeTone("-0.00002", 5)).toBe("down");
    // Digits beyond what a float holds are shown as sent, never rounded by binary.
    expect(formatPrice("123456789012.123456", 6)).toBe("123,456,789,012.123456");
  });

  it("computes mid and spread from what is known", () => {
    expect(midOf(tick({ bid: "1", ask: "2" }))).toBe("1.5");
    expect(midOf(tick({ last: "3", bid: "1" }))).toBe("3");
    expect(midOf(tick({ ask: "2" }))).toBe("2");
    expect(midOf(tick())).toBeNull();
    // Exact, where floats give 0.00014999999999987246.
    expect(spreadOf(tick({ bid: "1.0841", ask: "1.08425" }))).toBe("0.00015");
    expect(spreadOf(tick({ bid: "1" }))).toBeNull();
  });
});

describe("RingBuffer", () => {
  it("keeps at most its capacity, dropping the oldest", () => {
    const ring = new RingBuffer(3);
    for (let i = 1; i <= 5; i++) ring.push(i * 1000, i);
    expect(ring.length).toBe(3);
    expect(ring.toValues()).toEqual([3, 4, 5]);
    expect(ring.points().map((p) => p.t)).toEqual([3000, 4000, 5000]);
    ring.replaceLast(5500, 9);
    expect(ring.toValues()).toEqual([3, 4, 9]);
    expect(ring.lastTime()).toBe(5500);
    expect(() => new RingBuffer(0)).toThrow();
  });

  it("stays bounded under a long feed, one point per sample period", () => {
    const ring = new RingBuffer(300);
    // 10 minutes at 30 updates per second.
    for (let ms = 0; ms < 600_000; ms += 33) recordMid(ring, ms, ms);
    expect(ring.length).toBe(300);
    const points = ring.points();
    expect(points[0]!.t).toBeGreaterThanOrEqual(300_000);
    // The newest point follows the latest price of its second.
    expect(points.at(-1)!.v).toBe(Math.floor(599_999 / 33) * 33);
  });
});

describe("sparklinePath", () => {
  it("scales the values into the box, oldest on the left", () => {
    expect(sparklinePath([1], 100, 20)).toBe("");
    expect(sparklinePath([1, 3, 2], 100, 20)).toBe("M1.0,19.0L50.0,1.0L99.0,10.0");
    expect(sparklinePath([5, 5], 10, 20)).toBe("M1.0,10.0L9.0,10.0");
  });
});

describe("feed state", () => {
  const channel = (state: ChannelStatus["state"], history: ChannelStatus["history"] = []): ChannelStatus => ({
    channel: "price",
    state,
    connectedSince: null,
    lastMessageAt: null,
    lastHeartbeatAt: null,
    latencyMs: null,
    uptimeMs: null,
    attempt: 0,
    messages: 0,
    sessionExpiresAt: null,
    dropsLastHour: 0,
    quality: "good",
    history,
  });

  it("is live only while the price channel is connected", () => {
    expect(feedState(undefined, false)).toEqual({ kind: "unknown" });
    expect(feedState(undefined, true)).toEqual({ kind: "none" });
    expect(feedState(channel({ state: "connected" }), true)).toEqual({ kind: "live" });
    const reconnecting = { state: "reconnecting", attempt: 2, nextRetryMs: 1000, lastError: "stream closed" } as const;
    expect(feedState(channel(reconnecting, [{ at: "2026-11-20T10:00:00Z", state: reconnecting }]), true)).toEqual({
      kind: "stale",
      state: "reconnecting",
      detail: "stream closed",
      since: "2026-11-20T10:00:00Z",
    });
    expect(feedState(channel({ state: "failed", code: "broker_auth", reason: "refused" }), true)).toMatchObject({ kind: "stale", state: "failed", detail: "refused" });
    expect(feedState(channel({ state: "disconnected" }), true)).toMatchObject({ kind: "stale", state: "disconnected", detail: null });
  });

  it("says how long ago the last price arrived", () => {
    expect(lastUpdateText(null, 0)).toBe("no price received yet");
    expect(lastUpdateText(1000, 13_900)).toBe("last update 12 s ago");
    expect(lastUpdateText(0, 125_000)).toBe("last update 2 min 05 s ago");
    expect(lastUpdateText(0, 3_725_000)).toBe("last update 1 h 02 min ago");
    expect(lastUpdateText(5000, 4000)).toBe("last update 0 s ago");
  });
});
