import { describe, expect, test } from "vitest";
import { Code } from "../api/errors";
import type { AccountConnections } from "../bindings/AccountConnections";
import type { ChannelStats } from "../bindings/ChannelStats";
import type { ChannelStatus } from "../bindings/ChannelStatus";
import type { ConnState } from "../bindings/ConnState";
import {
  connectionsReducer,
  formatAge,
  formatClock,
  formatCountdown,
  formatDuration,
  linkQuality,
  foldEvent,
  foldStats,
  qualityReason,
  retryDeadline,
  secondsLeft,
  sessionView,
  uptimeMs,
} from "./connections";
import type { ConnectionsState } from "./connections";

const T0 = Date.parse("2026-11-21T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

const reconnecting = (attempt: number, nextRetryMs: number): ConnState => ({ state: "reconnecting", attempt, nextRetryMs, lastError: "stream closed" });

function channel(over: Partial<ChannelStatus> = {}): ChannelStatus {
  return {
    channel: "order",
    state: { state: "connected" },
    connectedSince: iso(T0 - 60_000),
    lastMessageAt: iso(T0 - 2_000),
    lastHeartbeatAt: null,
    latencyMs: 40,
    uptimeMs: 60_000,
    attempt: 0,
    messages: 10,
    sessionExpiresAt: null,
    dropsLastHour: 0,
    quality: "good",
    history: [{ at: iso(T0 - 60_000), state: { state: "connected" } }],
    ...over,
  };
}

const ready = (channels: ChannelStatus[]): ConnectionsState => ({
  phase: "ready",
  receivedAt: T0,
  accounts: [{ accountId: "a1", name: "OANDA", broker: "oanda", channels } satisfies AccountConnections],
});

describe("formatting", () => {
  test("durations", () => {
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(1_999)).toBe("1 s");
    expect(formatDuration(59_000)).toBe("59 s");
    expect(formatDuration(65_000)).toBe("1 min 05 s");
    expect(formatDuration(3_725_000)).toBe("1 h 02 min");
    expect(formatDuration(2 * 86_400_000 + 4 * 3_600_000)).toBe("2 d 4 h");
    expect(formatDuration(-5)).toBe("0 s");
  });

  test("ages tick with now", () => {
    const at = iso(T0);
    expect(formatAge(null, T0)).toBe("never");
    expect(formatAge(at, T0 + 400)).toBe("just now");
    expect(formatAge(at, T0 + 2_000)).toBe("2 s ago");
    expect(formatAge(at, T0 + 3_000)).toBe("3 s ago");
    expect(formatAge(at, T0 + 190_000)).toBe("3 min 10 s ago");
    expect(formatAge("not a date", T0)).toBe("—");
  });

  test("countdown rounds up and stops at zero", () => {
    const deadline = T0 + 5_000;
    expect(secondsLeft(deadline, T0)).toBe(5);
    expect(secondsLeft(deadline, T0 + 100)).toBe(5);
    expect(formatCountdown(deadline, T0 + 1_000)).toBe("next try in 4 s");
    expect(formatCountdown(deadline, T0 + 4_999)).toBe("next try in 1 s");
    expect(formatCountdown(deadline, T0 + 5_000)).toBe("retrying now");
    expect(formatCountdown(deadline, T0 + 9_000)).toBe("retrying now");
  });

  test("the retry deadline counts from when the state was entered", () => {
    const c = channel({ state: reconnecting(2, 8_000), history: [{ at: iso(T0 - 3_000), state: reconnecting(2, 8_000) }] });
    expect(retryDeadline(c, T0)).toBe(T0 + 5_000);
    // No matching history entry: from when the snapshot arrived.
    expect(retryDeadline({ ...c, history: [] }, T0)).toBe(T0 + 8_000);
    expect(retryDeadline(channel(), T0)).toBeNull();
  });

  test("uptime runs from connectedSince while connected", () => {
    expect(uptimeMs(channel(), T0 + 5_000)).toBe(65_000);
    expect(uptimeMs(channel({ connectedSince: null }), T0)).toBe(60_000);
    expect(uptimeMs(channel({ state: { state: "disconnected" } }), T0)).toBeNull();
  });
});

describe("connectionsReducer", () => {
  test("a snapshot replaces the state; an error only shows without one", () => {
    const s = connectionsReducer({ phase: "loading" }, { type: "snapshot", accounts: [], at: T0 });
    expect(s).toEqual({ phase: "ready", accounts: [], receivedAt: T0 });
    expect(connectionsReducer(s, { type: "error", message: "boom" })).toBe(s);
    expect(connectionsReducer({ phase: "loading" }, { type: "error", message: "boom" })).toEqual({ phase: "error", message: "boom" });
  });

  test("Connected → Reconnecting → Connected", () => {
    let s = ready([channel(), channel({ channel: "price" })]);
    const lost = iso(T0 + 1_000);
    s = connectionsReducer(s, { type: "event", event: { accountId: "a1", channel: "order", state: reconnecting(1, 2_000), at: lost } });
    if (s.phase !== "ready") throw new Error("not ready");
    const order = s.accounts[0]!.channels[0]!;
    expect(order.state.state).toBe("reconnecting");
    expect(order.attempt).toBe(1);
    expect(order.connectedSince).toBeNull();
    expect(order.latencyMs).toBeNull();
    expect(order.history.map((h) => h.state.state)).toEqual(["connected", "reconnecting"]);
    // Quality and drops follow at once (the next snapshot brings the backend's own).
    expect(order.quality).toBe("poor");
    expect(order.dropsLastHour).toBe(1);
    expect(retryDeadline(order, 0)).toBe(T0 + 3_000);
    expect(s.accounts[0]!.channels[1]!.state.state).toBe("connected"); // the price channel is untouched

    const back = iso(T0 + 3_500);
    s = connectionsReducer(s, { type: "event", event: { accountId: "a1", channel: "order", state: { state: "connected" }, at: back } });
    if (s.phase !== "ready") throw new Error("not ready");
    const again = s.accounts[0]!.channels[0]!;
    expect(again.state).toEqual({ state: "connected" });
    expect(again.attempt).toBe(0);
    expect(again.connectedSince).toBe(back);
    expect(again.history).toHaveLength(3);
    expect(again.quality).toBe("fair"); // a drop in the last hour
    expect(again.dropsLastHour).toBe(1);
  });

  test("ignores events it has no channel for, and events before the snapshot", () => {
    const s = ready([channel()]);
    const event = { accountId: "a1", channel: "price" as const, state: { state: "connected" as const }, at: iso(T0) };
    expect(connectionsReducer(s, { type: "event", event })).toBe(s);
    expect(connectionsReducer(s, { type: "event", event: { ...event, accountId: "nope", channel: "order" } })).toBe(s);
    expect(connectionsReducer({ phase: "loading" }, { type: "event", event })).toEqual({ phase: "loading" });
  });

  test("keeps a bounded history", () => {
    let s = ready([channel()]);
    for (let i = 0; i < 80; i++) {
      s = connectionsReducer(s, { type: "event", event: { accountId: "a1", channel: "order", state: { state: i % 2 ? "connected" : "connecting" }, at: iso(T0 + i) } });
    }
    if (s.phase !== "ready") throw new Error("not ready");
    expect(s.accounts[0]!.channels[0]!.history).toHaveLength(50);
  });
});

describe("link quality", () => {
  const latency = (ms: number) => ms;

  test("the backend's rule", () => {
    const up: ConnState = { state: "connected" };
    expect(linkQuality(up, latency(40), 0)).toBe("good");
    expect(linkQuality(up, latency(300), 0)).toBe("good");
    expect(linkQuality(up, latency(301), 0)).toBe("fair");
    expect(linkQuality(up, latency(40), 1)).toBe("fair");
    expect(linkQuality(up, latency(1001), 0)).toBe("poor");
    expect(linkQuality(up, null, 3)).toBe("poor");
    expect(linkQuality(reconnecting(1, 1000), null, 0)).toBe("poor");
    expect(linkQuality({ state: "connecting" }, null, 0)).toBe("poor");
    expect(linkQuality({ state: "failed", code: Code.BrokerAuth, reason: "y" }, latency(1), 0)).toBe("down");
    expect(linkQuality({ state: "disconnected" }, null, 0)).toBe("down");
  });

  test("explains the backend's level with the facts past its thresholds", () => {
    expect(qualityReason(channel())).toBe("latency 40 ms, no drop in the last hour");
    expect(qualityReason(channel({ quality: "fair", latencyMs: latency(420) }))).toBe("latency 420 ms");
    expect(qualityReason(channel({ quality: "fair", dropsLastHour: 1 }))).toBe("1 drop in the last hour");
    expect(qualityReason(channel({ quality: "fair", latencyMs: latency(420), dropsLastHour: 2 }))).toBe("latency 420 ms, 2 drops in the last hour");
    expect(qualityReason(channel({ quality: "poor", latencyMs: latency(1500) }))).toBe("latency 1.5 s");
    expect(qualityReason(channel({ quality: "poor", latencyMs: latency(1450) }))).toBe("latency 1.5 s");
    expect(qualityReason(channel({ quality: "poor", latencyMs: latency(2000) }))).toBe("latency 2 s");
    expect(qualityReason(channel({ quality: "poor", dropsLastHour: 3 }))).toBe("3 drops in the last hour");
    expect(qualityReason(channel({ quality: "poor", state: reconnecting(1, 1000), latencyMs: null }))).toBe("reconnecting");
    expect(qualityReason(channel({ quality: "down", state: { state: "failed", code: "broker_auth", reason: "401" } }))).toBe("the connection failed");
    expect(qualityReason(channel({ quality: "down", state: { state: "disconnected" } }))).toBe("the connection is stopped");
    // A level the facts do not explain (the backend knows more): all the facts, never nothing.
    expect(qualityReason(channel({ quality: "fair" }))).toBe("latency 40 ms, no drop in the last hour");
    expect(qualityReason(channel({ quality: "good", latencyMs: null }))).toBe("no drop in the last hour");
  });
});

describe("session countdown", () => {
  test("clock format rounds up to whole seconds", () => {
    expect(formatClock(0)).toBe("0:00");
    expect(formatClock(9_001)).toBe("0:10");
    expect(formatClock(754_000)).toBe("12:34");
    expect(formatClock(3_723_000)).toBe("1:02:03");
    expect(formatClock(-5)).toBe("0:00");
  });

  test("counts down, says renewing just after the expiry, then expired", () => {
    const at = iso(T0 + 754_000);
    expect(sessionView(null, T0)).toBeNull();
    expect(sessionView("soon", T0)).toBeNull();
    expect(sessionView(at, T0)).toEqual({ kind: "expires", leftMs: 754_000, text: "Session expires in 12:34" });
    expect(sessionView(at, T0 + 1_000)?.text).toBe("Session expires in 12:33");
    expect(sessionView(at, T0 + 753_500)?.text).toBe("Session expires in 0:01");
    expect(sessionView(at, T0 + 754_000)).toEqual({ kind: "renewing", text: "Session renewing…" });
    expect(sessionView(at, T0 + 754_000 + 130_000)).toEqual({ kind: "expired", agoMs: 130_000, text: "Session expired 2 min 10 s ago" });
    // A day-long session (a gateway's) reads as a duration.
    expect(sessionView(iso(T0 + 26 * 3_600_000), T0)?.text).toBe("Session expires in 1 d 2 h");
  });

});

describe("connection-stats", () => {
  const accounts: AccountConnections[] = [
    { accountId: "a", name: "A", broker: "tastytrade", channels: [channel(), channel({ channel: "price", lastMessageAt: iso(T0 - 29_000), latencyMs: null })] },
    { accountId: "b", name: "B", broker: "oanda", channels: [channel()] },
  ];
  const stat = (over: Partial<ChannelStats> = {}): ChannelStats => ({
    accountId: "a",
    channel: "price",
    lastMessageAt: iso(T0 - 40),
    lastHeartbeatAt: iso(T0 - 900),
    latencyMs: 12,
    uptimeMs: 61_000,
    messages: 1_234,
    dropsLastHour: 1,
    quality: "fair",
    sessionExpiresAt: iso(T0 + 900_000),
    ...over,
  });

  test("bring every live fact of the channels they name; the others keep theirs", () => {
    const { accounts: next, known } = foldStats(accounts, [stat()]);
    expect(known).toBe(true);
    const price = next[0]!.channels[1]!;
    expect(price).toMatchObject({ lastMessageAt: iso(T0 - 40), lastHeartbeatAt: iso(T0 - 900), latencyMs: 12, messages: 1_234, dropsLastHour: 1, quality: "fair", sessionExpiresAt: iso(T0 + 900_000) });
    // State and history are the events' business.
    expect(price.state).toEqual({ state: "connected" });
    expect(price.history).toBe(accounts[0]!.channels[1]!.history);
    expect(next[0]!.channels[0]).toBe(accounts[0]!.channels[0]);
    expect(next[1]).toBe(accounts[1]);
    expect(formatAge(price.lastMessageAt, T0)).toBe("just now");
  });

  test("name an account or channel the list lacks: not known (the snapshot is read again)", () => {
    expect(foldStats(accounts, [stat({ accountId: "new" })])).toEqual({ accounts, known: false });
    expect(foldStats(accounts, [stat(), stat({ accountId: "b", channel: "price" })]).known).toBe(false);
    expect(foldEvent(accounts, { accountId: "zz", channel: "order", state: { state: "connected" }, at: iso(T0) })).toEqual({ accounts, known: false });
    expect(foldEvent(accounts, { accountId: "b", channel: "order", state: { state: "failed", code: Code.BrokerAuth, reason: "refused" }, at: iso(T0) }).accounts[1]!.channels[0]!.quality).toBe("down");
  });
});
