/**
 * The fake backend's connection manager: a fixed set of channels per account whose states tests
 * change through `window.__brokerdeskMock.pushConnectionEvent`, emitted as `connection-event`
 * like the shell does. ts-rs types the u64 counters as `bigint`, but serde_json sends plain
 * JSON numbers; the mock sends numbers too.
 */
import type { AccountConnections } from "../bindings/AccountConnections";
import type { Channel } from "../bindings/Channel";
import type { ChannelStatus } from "../bindings/ChannelStatus";
import type { ConnState } from "../bindings/ConnState";
import type { ConnectionEvent } from "../bindings/ConnectionEvent";
import type { LinkQuality } from "../bindings/LinkQuality";
import type { StateChange } from "../bindings/StateChange";
import { fail } from "./mockErrors";

type Numeric = "latencyMs" | "uptimeMs" | "messages";
export type WireConnState = Exclude<ConnState, { state: "reconnecting" }> | { state: "reconnecting"; attempt: number; nextRetryMs: number; lastError: string };
export type WireStateChange = Omit<StateChange, "state"> & { state: WireConnState };
export type WireChannelStatus = Omit<ChannelStatus, Numeric | "state" | "history"> & {
  state: WireConnState;
  history: WireStateChange[];
  latencyMs: number | null;
  uptimeMs: number | null;
  messages: number;
};
export type WireAccountConnections = Omit<AccountConnections, "channels"> & { channels: WireChannelStatus[] };
export type WireConnectionEvent = Omit<ConnectionEvent, "state"> & { state: WireConnState };

const ago = (now: number, ms: number) => new Date(now - ms).toISOString();

/** Roughly the backend's link quality: from the state, the latency and the drops of the last hour. */
export function qualityOf(state: WireConnState, latencyMs: number | null, drops: number): LinkQuality {
  switch (state.state) {
    case "connected":
      if ((latencyMs ?? 0) > 1000 || drops >= 3) return "poor";
      return (latencyMs ?? 0) > 300 || drops > 0 ? "fair" : "good";
    case "connecting":
    case "reconnecting":
      return "poor";
    default:
      return "down";
  }
}

function channel(now: number, which: Channel, state: WireConnState, opts: { upMs?: number; latencyMs?: number; lastMsgMs?: number; messages?: number } = {}): WireChannelStatus {
  const connected = state.state === "connected";
  const up = opts.upMs ?? 3_725_000;
  const history: WireStateChange[] = connected
    ? [
        { at: ago(now, up + 2_000), state: { state: "connecting" } },
        { at: ago(now, up), state: { state: "connected" } },
      ]
    : [
        { at: ago(now, 95_000), state: { state: "connecting" } },
        { at: ago(now, 94_000), state },
      ];
  return {
    channel: which,
    state,
    connectedSince: connected ? ago(now, up) : null,
    lastMessageAt: opts.lastMsgMs === undefined ? null : ago(now, opts.lastMsgMs),
    lastHeartbeatAt: opts.lastMsgMs === undefined ? null : ago(now, opts.lastMsgMs),
    latencyMs: connected ? (opts.latencyMs ?? 42) : null,
    uptimeMs: connected ? up : null,
    attempt: 0,
    messages: opts.messages ?? 0,
    sessionExpiresAt: null,
    dropsLastHour: 0,
    quality: qualityOf(state, connected ? (opts.latencyMs ?? 42) : null, 0),
    history,
  };
}

/** The `connections` scenario: OANDA with orders and prices, Alpaca orders only, Tradier failed on auth. */
export function seedConnections(now = Date.now()): WireAccountConnections[] {
  return [
    {
      accountId: "acc_ftmo",
      name: "FTMO challenge",
      broker: "oanda",
      channels: [
        channel(now, "order", { state: "connected" }, { upMs: 3_725_000, latencyMs: 38, lastMsgMs: 2_000, messages: 412 }),
        channel(now, "price", { state: "connected" }, { upMs: 3_722_000, latencyMs: 21, lastMsgMs: 1_000, messages: 18_204 }),
      ],
    },
    {
      accountId: "acc_alpaca",
      name: "Alpaca swing",
      broker: "alpaca",
      channels: [channel(now, "order", { state: "connected" }, { upMs: 912_000, latencyMs: 64, lastMsgMs: 4_000, messages: 57 })],
    },
    {
      accountId: "acc_tradier",
      name: "Tradier income",
      broker: "tradier",
      channels: [
        channel(now, "order", {
          state: "failed",
          code: "broker_auth",
          reason: "The broker rejected the credentials (401 Unauthorized). Update the API key and reconnect.",
        }),
      ],
    },
  ];
}

export class MockConnections {
  constructor(
    private readonly list: () => WireAccountConnections[],
    private readonly emit: (event: WireConnectionEvent) => void,
  ) {}

  snapshot(): WireAccountConnections[] {
    return structuredClone(this.list());
  }

  /** Applies a state change like the connection manager, and emits it. */
  push(accountId: string, which: Channel, state: WireConnState, at = new Date().toISOString()): WireConnectionEvent {
    const account = this.list().find((a) => a.accountId === accountId) ?? fail("not_found", `No connections for account ${accountId}.`);
    const c = account.channels.find((x) => x.channel === which) ?? fail("not_found", `Account ${accountId} has no ${which} channel.`);
    const connected = state.state === "connected";
    c.connectedSince = connected ? (c.state.state === "connected" ? c.connectedSince : at) : null;
    c.uptimeMs = connected ? (c.uptimeMs ?? 0) : null;
    c.latencyMs = connected ? (c.latencyMs ?? 40) : null;
    if (connected) {
      c.lastMessageAt = at;
      c.lastHeartbeatAt = at;
    }
    c.attempt = state.state === "reconnecting" ? state.attempt : 0;
    if (c.state.state === "connected" && !connected) c.dropsLastHour = (c.dropsLastHour ?? 0) + 1;
    c.quality = qualityOf(state, c.latencyMs, c.dropsLastHour ?? 0);
    c.state = state;
    c.history = [...c.history, { at, state }].slice(-50);
    const event = { accountId, channel: which, state, at };
    this.emit(structuredClone(event));
    return event;
  }

  /** Adds a (disconnected) channel to an account that has connections, e.g. a price channel for a first watchlist. */
  addChannel(accountId: string, which: Channel): void {
    const account = this.list().find((a) => a.accountId === accountId) ?? fail("not_found", `No connections for account ${accountId}.`);
    if (account.channels.some((c) => c.channel === which)) return;
    account.channels.push({
      channel: which,
      state: { state: "disconnected" },
      connectedSince: null,
      lastMessageAt: null,
      lastHeartbeatAt: null,
      latencyMs: null,
      uptimeMs: null,
      attempt: 0,
      messages: 0,
      sessionExpiresAt: null,
      dropsLastHour: 0,
      quality: "down",
      history: [],
    });
  }

  /** `connection_reconnect`: every channel of the account goes connecting, then connected. */
  reconnect(accountId: string): null {
    const account = this.list().find((a) => a.accountId === accountId) ?? fail("not_found", `No connections for account ${accountId}.`);
    for (const c of account.channels) {
      this.push(accountId, c.channel, { state: "connecting" });
      // A failed credential check stays failed, like the real broker would answer.
      const before = c.history[c.history.length - 2]?.state;
      if (before?.state === "failed") this.push(accountId, c.channel, structuredClone(before));
      else this.push(accountId, c.channel, { state: "connected" });
    }
    return null;
  }

  reconnectAll(): null {
    for (const a of this.list()) this.reconnect(a.accountId);
    return null;
  }
}
