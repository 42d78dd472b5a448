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

/** How long a Tastytrade access token lasts; the mock renews it when less than SESSION_RENEW_MS is left. */
export const SESSION_MS = 15 * 60_000;
export const SESSION_RENEW_MS = 30_000;

interface ChannelOpts {
  upMs?: number;
  latencyMs?: number;
  lastMsgMs?: number;
  messages?: number;
  /** Drops in the last hour: the history gets a lost link (reconnecting, attempt 1) before the current session. */
  drops?: number;
  /** The broker session's time left (ms), for brokers with one. */
  sessionLeftMs?: number;
}

function channel(now: number, which: Channel, state: WireConnState, opts: ChannelOpts = {}): WireChannelStatus {
  const connected = state.state === "connected";
  const up = opts.upMs ?? 3_725_000;
  const drops = opts.drops ?? 0;
  const earlier: WireStateChange[] = [];
  for (let i = drops; i > 0; i--) {
    const lost = up + i * 240_000;
    earlier.push(
      { at: ago(now, lost + 600_000), state: { state: "connected" } },
      { at: ago(now, lost), state: { state: "reconnecting", attempt: 1, nextRetryMs: 1000, lastError: "stream closed by the broker (1006)" } },
    );
  }
  const history: WireStateChange[] = connected
    ? [
        { at: ago(now, up + 2_000 + (drops > 0 ? drops * 240_000 + 602_000 : 0)), state: { state: "connecting" } },
        ...earlier,
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
    sessionExpiresAt: opts.sessionLeftMs === undefined ? null : new Date(now + opts.sessionLeftMs).toISOString(),
    dropsLastHour: drops,
    quality: qualityOf(state, connected ? (opts.latencyMs ?? 42) : null, drops),
    history,
  };
}

/**
 * The `connections` scenario: OANDA with orders and prices; Alpaca orders only, fair after a drop
 * in the last hour; Tradier failed on auth; Tastytrade with orders and prices and a 15-minute
 * access token (12:34 left).
 */
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
      channels: [channel(now, "order", { state: "connected" }, { upMs: 912_000, latencyMs: 64, lastMsgMs: 4_000, messages: 57, drops: 1 })],
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
    {
      accountId: "acc_tasty",
      name: "Tasty options",
      broker: "tastytrade",
      channels: [
        channel(now, "order", { state: "connected" }, { upMs: 2_400_000, latencyMs: 96, lastMsgMs: 3_000, messages: 164, sessionLeftMs: 754_000 }),
        channel(now, "price", { state: "connected" }, { upMs: 2_398_000, latencyMs: 112, lastMsgMs: 1_000, messages: 9_318, sessionLeftMs: 754_000 }),
      ],
    },
  ];
}

export class MockConnections {
  constructor(
    private readonly list: () => WireAccountConnections[],
    private readonly emit: (event: WireConnectionEvent) => void,
    private readonly wallMs: () => number = () => Date.now(),
  ) {}

  /** The connections now; like the connector, a connected session close to its expiry is renewed first (no event). */
  snapshot(): WireAccountConnections[] {
    const now = this.wallMs();
    for (const account of this.list()) {
      for (const c of account.channels) {
        if (c.sessionExpiresAt === null || c.state.state !== "connected") continue;
        if (Date.parse(c.sessionExpiresAt) - now < SESSION_RENEW_MS) c.sessionExpiresAt = new Date(now + SESSION_MS).toISOString();
      }
    }
    return structuredClone(this.list());
  }

  /** Changes what a channel reports without a state change (metrics, session expiry); no event, like the backend. */
  patch(accountId: string, which: Channel, patch: Partial<Omit<WireChannelStatus, "channel" | "state" | "history">>): void {
    const c = this.find(accountId, which);
    Object.assign(c, patch);
    if (patch.quality === undefined) c.quality = qualityOf(c.state, c.latencyMs, c.dropsLastHour);
  }

  private find(accountId: string, which: Channel): WireChannelStatus {
    const account = this.list().find((a) => a.accountId === accountId) ?? fail("not_found", `No connections for account ${accountId}.`);
    return account.channels.find((x) => x.channel === which) ?? fail("not_found", `Account ${accountId} has no ${which} channel.`);
  }

  /** Applies a state change like the connection manager, and emits it. */
  push(accountId: string, which: Channel, state: WireConnState, at = new Date().toISOString()): WireConnectionEvent {
    const c = this.find(accountId, which);
    const connected = state.state === "connected";
    // Connecting again signs in again: a broker with sessions starts a new one.
    if (connected && c.state.state !== "connected" && c.sessionExpiresAt !== null) c.sessionExpiresAt = new Date(Date.parse(at) + SESSION_MS).toISOString();
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
