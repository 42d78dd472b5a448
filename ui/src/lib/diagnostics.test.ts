import { describe, expect, test } from "vitest";
import type { Account } from "../bindings/Account";
import type { AccountConnections } from "../bindings/AccountConnections";
import type { ChannelStatus } from "../bindings/ChannelStatus";
import type { ConnState } from "../bindings/ConnState";
import { LIVE_ACCOUNTS, broker } from "../test/fixtures";
import { accountEndpoints, accountFacts, channelFacts, redactUrl } from "./diagnostics";

const T0 = Date.parse("2026-11-21T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();
const oanda = broker("oanda");
const seeded = (id: string): Account => {
  const found = LIVE_ACCOUNTS.find((a) => a.id === id);
  if (!found) throw new Error(`no seeded ${id}`);
  return found;
};

function channel(over: Partial<ChannelStatus> = {}): ChannelStatus {
  return {
    channel: "order",
    state: { state: "connected" },
    connectedSince: iso(T0 - 3_725_000),
    lastMessageAt: iso(T0 - 2_000),
    lastHeartbeatAt: iso(T0 - 7_000),
    latencyMs: 38,
    uptimeMs: 3_725_000,
    attempt: 0,
    messages: 18_204,
    sessionExpiresAt: null,
    dropsLastHour: 0,
    quality: "good",
    history: [
      { at: iso(T0 - 3_727_000), state: { state: "connecting" } },
      { at: iso(T0 - 3_725_000), state: { state: "connected" } },
    ],
    ...over,
  };
}

const facts = (c: ChannelStatus, now = T0) => Object.fromEntries(channelFacts(c, now, T0).map((f) => [f.key, f.value]));

describe("channel facts", () => {
  test("a connected channel", () => {
    expect(facts(channel())).toMatchObject({
      state: "Connected",
      attempt: "—",
      nextRetry: "—",
      latency: "38 ms",
      messages: "18,204",
      lastMessage: "2 s ago",
      lastHeartbeat: "7 s ago",
      uptime: "1 h 02 min",
      drops: "0",
      quality: "Good — latency 38 ms, no drop in the last hour",
      session: "—",
    });
    expect(facts(channel()).connectedSince).not.toBe("—");
  });

  test("reconnecting: the attempt, the retry countdown and the last error", () => {
    const state = { state: "reconnecting", attempt: 3, nextRetryMs: 8_000, lastError: "heartbeat timeout" } as unknown as ConnState;
    const c = channel({ state, quality: "poor", latencyMs: null, connectedSince: null, dropsLastHour: 3, history: [{ at: iso(T0 - 3_000), state }] });
    expect(facts(c)).toMatchObject({
      state: "Reconnecting — last error: heartbeat timeout",
      attempt: "3",
      nextRetry: "in 5 s",
      latency: "—",
      uptime: "—",
      connectedSince: "—",
      drops: "3",
      quality: "Poor — reconnecting",
    });
    expect(facts(c, T0 + 6_000).nextRetry).toBe("now");
    expect(channelFacts(c, T0, T0).find((f) => f.key === "state")?.tone).toBe("warn");
  });

  test("failed: the code and the reason", () => {
    const c = channel({ state: { state: "failed", code: "broker_auth", reason: "401 Unauthorized" }, quality: "down" });
    expect(facts(c).state).toBe("Failed (broker_auth): 401 Unauthorized");
    expect(channelFacts(c, T0, T0).find((f) => f.key === "state")?.tone).toBe("bad");
  });

  test("the session's expiry", () => {
    expect(facts(channel({ sessionExpiresAt: iso(T0 + 754_000) })).session).toBe("expires in 12:34");
    expect(facts(channel({ sessionExpiresAt: iso(T0 - 60_000) })).session).toBe("expired 1 min 00 s ago");
  });
});

describe("endpoints", () => {
  test("the account's own, else the catalog's for its environment", () => {
    const ftmo = seeded("acc_ftmo");
    expect(accountEndpoints(ftmo, oanda)).toEqual({
      rest: { url: "https://api-fxpractice.oanda.com", source: "default" },
      stream: { url: "https://stream-fxpractice.oanda.com", source: "default" },
    });
    const custom = { ...ftmo, environment: "live" as const, restUrl: "http://127.0.0.1:8080/v3" };
    expect(accountEndpoints(custom, oanda)).toEqual({
      rest: { url: "http://127.0.0.1:8080/v3", source: "custom" },
      stream: { url: "https://stream-fxtrade.oanda.com", source: "default" },
    });
    expect(accountEndpoints(undefined, undefined).rest).toEqual({ url: null, source: "none" });
  });

  test("URLs lose user-info, query and fragment", () => {
    expect(redactUrl("https://api.example.com/v1")).toBe("https://api.example.com/v1");
    expect(redactUrl("https://user:hunter2@api.example.com/v1?token=abc#x")).toBe("https://api.example.com/v1?…");
    expect(redactUrl("not a url?token=abc")).toBe("not a url");
  });
});

describe("the account side without its settings", () => {
  const connections: AccountConnections = {
    accountId: "acc_ftmo",
    name: "FTMO challenge",
    broker: "oanda",
    channels: [channel({ channel: "price", messages: 5 }), channel()],
  };

  test("account facts without the saved account", () => {
    const f = Object.fromEntries(accountFacts(connections, undefined, undefined).map((x) => [x.key, x.value]));
    expect(f).toMatchObject({ broker: "oanda (oanda)", environment: "—", rest: "—", credentials: "—" });
  });
});
