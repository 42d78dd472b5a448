/**
 * Fixtures for the unit and component tests, typed by the generated bindings. The broker
 * catalog and the prop-firm presets are the core's own (`bindings/catalog.json`, written by
 * `cargo test -p brokerdesk-core export_bindings`); accounts and connections are small
 * hand-written examples of what the core sends.
 */
import type { Account } from "../bindings/Account";
import type { AccountConnections } from "../bindings/AccountConnections";
import type { ApiError } from "../bindings/ApiError";
import type { BrokerInfo } from "../bindings/BrokerInfo";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { Channel } from "../bindings/Channel";
import type { ChannelStatus } from "../bindings/ChannelStatus";
import type { ConnState } from "../bindings/ConnState";
import type { PropFirmPresetInfo } from "../bindings/PropFirmPresetInfo";
import type { StateChange } from "../bindings/StateChange";
import catalog from "../bindings/catalog.json";
import { Code } from "../api/errors";
import { linkQuality } from "../lib/connections";

/** The core's broker catalog. */
export const BROKERS = catalog.brokers as BrokerInfo[];
/** The core's prop-firm presets. */
export const PRESETS = catalog.presets as PropFirmPresetInfo[];

/** The catalog entry of `kind`. */
export function broker(kind: BrokerKind): BrokerInfo {
  const found = BROKERS.find((b) => b.kind === kind);
  if (!found) throw new Error(`no ${kind} in the catalog`);
  return found;
}

/** What unlocking from the OS keychain fails with when the key is gone (the core's words). */
export const KEYCHAIN_KEY_MISSING: ApiError = {
  code: Code.KeychainKeyMissing,
  message:
    "the OS keychain has no Brokerdesk key for this vault (it may have been deleted, or this data directory was copied from another user or machine)",
  fields: [],
};

/** A stored secret whose seal no longer opens (the core's words). */
export const TAMPERED_ALPACA_KEY: ApiError = {
  code: Code.CiphertextTampered,
  message: "the sealed value for account:acc_alpaca:api_key has been tampered with or corrupted",
  fields: [],
};

const NOTIFY = { connectionLost: true, connectionRestored: true, authFailure: true, orderFilled: false, riskBreach: true };
const NO_RISK = {
  maxPositionSizePct: null,
  maxOpenPositions: null,
  maxQty: null,
  maxLeverage: null,
  requireStopLoss: false,
  maxCorrelation: null,
  maxRiskPerTradePct: null,
  allowedInstruments: [],
};
/** The core's defaults for what a rule set adds to its preset's numbers (`PropFirmRules::default`). */
const RULE_DEFAULTS = {
  initialBalance: null,
  dailyBase: "initial_balance",
  resetTime: "00:00",
  resetTimezone: "UTC",
  maxLossMode: "static",
  dailyBreach: "pause",
  safetyBufferPct: null,
  closeOnBreach: true,
  warnLevels: [50, 80, 95],
} as const;
const CREATED = "2026-11-02T09:15:00Z";

const base = {
  restUrl: null,
  streamUrl: null,
  tradingHours: null,
  weekendTrading: false,
  notifications: NOTIFY,
  mode: "paper",
  tlsPin: null,
  createdAt: CREATED,
  updatedAt: CREATED,
} as const;

/** "FTMO challenge": OANDA practice, FTMO rules, in drawdown. */
export const FTMO: Account = {
  ...base,
  id: "acc_ftmo",
  name: "FTMO challenge",
  broker: "oanda",
  environment: "practice",
  brokerAccountId: "101-004-2718281-001",
  credentials: [{ field: "api_key", label: "API access token", masked: "••••9f3a", error: null }],
  propFirm: {
    ...RULE_DEFAULTS,
    preset: "ftmo",
    maxDailyLossPct: "5",
    maxTotalLossPct: "10",
    profitTargetPct: "10",
    initialBalance: "100000",
    resetTimezone: "Europe/Prague",
    dailyBreach: "terminate",
    warnLevels: [50, 80, 95],
  },
  risk: { ...NO_RISK, maxOpenPositions: 3, maxLeverage: "30", requireStopLoss: true },
  instruments: ["EUR_USD", "GBP_USD", "XAU_USD"],
  timeframes: ["M15", "H1", "H4"],
  status: "in_drawdown",
  statusHistory: [
    { status: "active", reason: "created", changedAt: CREATED },
    { status: "in_drawdown", reason: "Down 4.1% on the day", changedAt: "2026-11-14T16:40:00Z" },
  ],
};

/** "Alpaca swing": Alpaca paper; its stored key no longer opens. */
export const ALPACA: Account = {
  ...base,
  id: "acc_alpaca",
  name: "Alpaca swing",
  broker: "alpaca",
  environment: "practice",
  brokerAccountId: null,
  credentials: [
    { field: "api_key", label: "API key ID", masked: "unreadable", error: TAMPERED_ALPACA_KEY },
    { field: "api_secret", label: "API secret key", masked: "••••k2Lw", error: null },
  ],
  propFirm: { ...RULE_DEFAULTS, preset: "none", maxDailyLossPct: null, maxTotalLossPct: null, profitTargetPct: null, warnLevels: [50, 80, 95] },
  risk: { ...NO_RISK, maxPositionSizePct: "10" },
  instruments: ["AAPL", "SPY"],
  timeframes: ["D1"],
  tradingHours: { start: "09:30", end: "16:00", timezone: "America/New_York" },
  status: "active",
  statusHistory: [{ status: "active", reason: "created", changedAt: CREATED }],
};

/** "Tradier income": Tradier sandbox, live. */
export const TRADIER: Account = {
  ...ALPACA,
  id: "acc_tradier",
  name: "Tradier income",
  broker: "tradier",
  brokerAccountId: "VA00000042",
  mode: "live",
  credentials: [{ field: "api_key", label: "Access token", masked: "••••77c1", error: null }],
  instruments: ["SPY", "QQQ"],
  tradingHours: null,
};

/** "Tasty options": Tastytrade production, live. */
export const TASTY: Account = {
  ...TRADIER,
  id: "acc_tasty",
  name: "Tasty options",
  broker: "tastytrade",
  environment: "live",
  brokerAccountId: "5WT00001",
  credentials: [
    { field: "api_key", label: "Refresh token", masked: "••••c0de", error: null },
    { field: "api_secret", label: "Client secret", masked: "••••91ab", error: null },
  ],
};

/** The two accounts of a fresh profile in most tests (both paper). */
export const ACCOUNTS: Account[] = [FTMO, ALPACA];
/** Four live accounts with connections (see `connectionsFixture`). */
export const LIVE_ACCOUNTS: Account[] = [FTMO, ALPACA, TRADIER, TASTY].map((a) => ({ ...a, mode: "live" }));

const ago = (now: number, ms: number) => new Date(now - ms).toISOString();

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

function channel(now: number, which: Channel, state: ConnState, opts: ChannelOpts = {}): ChannelStatus {
  const connected = state.state === "connected";
  const up = opts.upMs ?? 3_725_000;
  const drops = opts.drops ?? 0;
  const earlier: StateChange[] = [];
  for (let i = drops; i > 0; i--) {
    const lost = up + i * 240_000;
    earlier.push(
      { at: ago(now, lost + 600_000), state: { state: "connected" } },
      { at: ago(now, lost), state: { state: "reconnecting", attempt: 1, nextRetryMs: 1000, lastError: "stream closed by the broker (1006)" } },
    );
  }
  const history: StateChange[] = connected
    ? [
        { at: ago(now, up + 2_000 + (drops > 0 ? drops * 240_000 + 602_000 : 0)), state: { state: "connecting" } },
        ...earlier,
        { at: ago(now, up), state: { state: "connected" } },
      ]
    : [
        { at: ago(now, 95_000), state: { state: "connecting" } },
        { at: ago(now, 94_000), state },
      ];
  const latencyMs = connected ? (opts.latencyMs ?? 42) : null;
  return {
    channel: which,
    state,
    connectedSince: connected ? ago(now, up) : null,
    lastMessageAt: opts.lastMsgMs === undefined ? null : ago(now, opts.lastMsgMs),
    lastHeartbeatAt: opts.lastMsgMs === undefined ? null : ago(now, opts.lastMsgMs),
    latencyMs,
    uptimeMs: connected ? up : null,
    attempt: 0,
    messages: opts.messages ?? 0,
    sessionExpiresAt: opts.sessionLeftMs === undefined ? null : new Date(now + opts.sessionLeftMs).toISOString(),
    dropsLastHour: drops,
    quality: linkQuality(state, latencyMs, drops),
    history,
  };
}

/** A channel in `state` with nothing measured yet and no history. */
export function bareChannel(which: Channel, state: ConnState, quality: ChannelStatus["quality"]): ChannelStatus {
  return {
    channel: which,
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
    quality,
    history: [],
  };
}

/**
 * The connections of `LIVE_ACCOUNTS` at `now`: OANDA with orders and prices; Alpaca orders
 * only, fair after a drop in the last hour; Tradier failed on auth; Tastytrade with orders and
 * prices and a 15-minute access token (12:34 left).
 */
export function connectionsFixture(now = Date.now()): AccountConnections[] {
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
          code: Code.BrokerAuth,
          reason: "the broker refused the credentials: Invalid Access Token",
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
