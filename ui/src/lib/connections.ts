/**
 * Live connection state for the Dashboard: formatting of ages, countdowns and uptimes, and how
 * the window events are folded into the last `connections_snapshot`: each `connection-event`
 * (a state change, at once) and each second's `connection-stats` (last message, heartbeat,
 * latency, counters, quality, session expiry of every running channel).
 */
import type { AccountConnections } from "../bindings/AccountConnections";
import type { Channel } from "../bindings/Channel";
import type { ChannelStats } from "../bindings/ChannelStats";
import type { ChannelStatus } from "../bindings/ChannelStatus";
import type { ConnState } from "../bindings/ConnState";
import type { ConnectionEvent } from "../bindings/ConnectionEvent";
import type { LinkQuality } from "../bindings/LinkQuality";

/** How many history entries a channel keeps in the UI (the backend sends its most recent ones). */
export const HISTORY_LIMIT = 50;

export const CHANNEL_LABELS: Record<Channel, string> = { order: "Orders", price: "Prices" };
export const CHANNEL_ORDER: readonly Channel[] = ["order", "price"];

export function num(value: number | null | undefined): number | null {
  return value === null || value === undefined ? null : value;
}

/** "2 s", "4 min 05 s", "3 h 12 min", "2 d 4 h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** The age of an RFC 3339 instant at `now`: "just now", "2 s ago", "3 min 10 s ago"; "never" when null. */
export function formatAge(at: string | null, now: number): string {
  if (at === null) return "never";
  const then = Date.parse(at);
  if (Number.isNaN(then)) return "—";
  const ms = now - then;
  if (ms < 1000) return "just now";
  return `${formatDuration(ms)} ago`;
}

/** Whole seconds left until `deadline` (rounded up, never negative). */
export function secondsLeft(deadline: number, now: number): number {
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}

/** "next try in 4 s", or "retrying now" once the countdown ran out. */
export function formatCountdown(deadline: number, now: number): string {
  const left = secondsLeft(deadline, now);
  return left === 0 ? "retrying now" : `next try in ${left} s`;
}

export function formatLatency(ms: number | null): string {
  const v = num(ms);
  return v === null ? "—" : `${v} ms`;
}

/** When the channel entered its current state: the last history entry, if it is that state. */
export function stateSince(status: ChannelStatus): string | null {
  const last = status.history[status.history.length - 1];
  return last && last.state.state === status.state.state ? last.at : null;
}

/** The instant the next reconnect attempt is due (ms), or null when not reconnecting. */
export function retryDeadline(status: ChannelStatus, fallbackSince: number): number | null {
  if (status.state.state !== "reconnecting") return null;
  const since = stateSince(status);
  const start = since === null ? fallbackSince : Date.parse(since);
  return start + (num(status.state.nextRetryMs) ?? 0);
}

/** Uptime at `now`: counted from `connectedSince` while connected, else what the backend reported. */
export function uptimeMs(status: ChannelStatus, now: number): number | null {
  if (status.state.state !== "connected") return null;
  if (status.connectedSince !== null) return Math.max(0, now - Date.parse(status.connectedSince));
  return num(status.uptimeMs);
}

export type Tone = "ok" | "warn" | "off" | "bad";

export function stateTone(state: ConnState): Tone {
  switch (state.state) {
    case "connected":
      return "ok";
    case "connecting":
    case "reconnecting":
      return "warn";
    case "disconnected":
      return "off";
    case "failed":
      return "bad";
  }
}

export const STATE_LABELS: Record<ConnState["state"], string> = {
  connected: "Connected",
  connecting: "Connecting",
  reconnecting: "Reconnecting",
  disconnected: "Disconnected",
  failed: "Failed",
};

/** One line describing a state, for the history timeline. */
export function describeState(state: ConnState): string {
  switch (state.state) {
    case "reconnecting":
      return `Reconnecting (attempt ${state.attempt}, retry after ${formatDuration(num(state.nextRetryMs) ?? 0)}): ${state.lastError}`;
    case "failed":
      return `Failed: ${state.reason} (${state.code})`;
    default:
      return STATE_LABELS[state.state];
  }
}

export const QUALITY_LABELS: Record<LinkQuality, string> = { good: "Good", fair: "Fair", poor: "Poor", down: "Down" };

/** How many of the indicator's three bars are lit. */
export const QUALITY_BARS: Record<LinkQuality, number> = { good: 3, fair: 2, poor: 1, down: 0 };

export const QUALITY_ORDER: readonly LinkQuality[] = ["good", "fair", "poor", "down"];

/** The backend's rule (`LinkQuality::of`), in words, for the indicator's tooltip. */
export const QUALITY_RULES: Record<LinkQuality, string> = {
  good: "connected, quick (300 ms or less) and stable (no drop in the last hour)",
  fair: "connected, but over 300 ms latency or a drop in the last hour",
  poor: "reconnecting, over 1 s latency, or 3 or more drops in the last hour",
  down: "failed or stopped",
};

/**
 * The backend's rule (`LinkQuality::of`), for applying an event before the next snapshot brings
 * the backend's own verdict: failed or stopped is down; connecting or reconnecting is poor;
 * connected is poor over 1 s or with 3+ drops in the last hour, fair over 300 ms or after a drop.
 */
export function linkQuality(state: ConnState, latencyMs: number | null, dropsLastHour: number): LinkQuality {
  switch (state.state) {
    case "failed":
    case "disconnected":
      return "down";
    case "connecting":
    case "reconnecting":
      return "poor";
    case "connected": {
      const latency = num(latencyMs) ?? 0;
      if (latency > 1000 || dropsLastHour >= 3) return "poor";
      return latency > 300 || dropsLastHour >= 1 ? "fair" : "good";
    }
  }
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "420 ms", "1.2 s". */
function latencyWords(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

/**
 * What makes this channel's quality what the backend says, from the facts it reports:
 * "latency 420 ms", "1 drop in the last hour", "reconnecting". The backend decides the level;
 * this only explains it.
 */
export function qualityReason(status: ChannelStatus): string {
  const latency = num(status.latencyMs);
  const drops = status.dropsLastHour;
  const latencyText = latency === null ? null : `latency ${latencyWords(latency)}`;
  const dropText = drops === 0 ? "no drop in the last hour" : `${plural(drops, "drop", "drops")} in the last hour`;
  const everything = [latencyText, dropText].filter(Boolean).join(", ");
  /** The facts past the level's thresholds, or everything when none is (the backend knows best). */
  const over = (latencyOver: number, dropsAtLeast: number) => {
    const facts = [latency !== null && latency > latencyOver ? latencyText : null, drops >= dropsAtLeast ? dropText : null].filter(Boolean);
    return facts.length > 0 ? facts.join(", ") : everything;
  };
  const { state } = status;
  switch (status.quality) {
    case "down":
      return state.state === "failed" ? "the connection failed" : state.state === "disconnected" ? "the connection is stopped" : "not connected";
    case "poor":
      return state.state === "reconnecting" || state.state === "connecting" ? state.state : over(1000, 3);
    case "fair":
      return over(300, 1);
    case "good":
      return everything;
  }
}

/** A countdown as a clock: "0:09", "12:34", "1:02:03"; whole seconds, rounded up. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** How long after the expiry the UI says "renewing…" rather than "expired" (the new expiry is being read). */
export const SESSION_GRACE_MS = 5_000;

export type SessionView =
  | { kind: "expires"; leftMs: number; text: string }
  | { kind: "renewing"; text: string }
  | { kind: "expired"; agoMs: number; text: string };

/**
 * The broker session / access token's countdown: "Session expires in 12:34" (the connector
 * renews it before then), "Session renewing…" just after, "Session expired 2 min 10 s ago" when
 * no new expiry came. Null when the broker has no session or the instant is unreadable.
 */
export function sessionView(expiresAt: string | null, now: number): SessionView | null {
  if (expiresAt === null) return null;
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return null;
  const left = at - now;
  if (left > 0) {
    // Long sessions (IBKR's gateway: a day) read better as a duration than as a clock.
    const text = left >= 86_400_000 ? formatDuration(left) : formatClock(left);
    return { kind: "expires", leftMs: left, text: `Session expires in ${text}` };
  }
  if (-left < SESSION_GRACE_MS) return { kind: "renewing", text: "Session renewing…" };
  return { kind: "expired", agoMs: -left, text: `Session expired ${formatDuration(-left)} ago` };
}

export type ConnectionsState =
  | { phase: "loading" }
  | { phase: "error"; message: string }
  | { phase: "ready"; accounts: AccountConnections[]; receivedAt: number };

export type ConnectionsAction =
  | { type: "snapshot"; accounts: AccountConnections[]; at: number }
  | { type: "error"; message: string }
  | { type: "event"; event: ConnectionEvent }
  | { type: "stats"; stats: readonly ChannelStats[] };

function applyEvent(status: ChannelStatus, event: ConnectionEvent): ChannelStatus {
  const { state, at } = event;
  const history = [...status.history, { at, state }].slice(-HISTORY_LIMIT);
  const connected = state.state === "connected";
  // The backend counts a drop for each first reconnect attempt in the last hour.
  const dropsLastHour = status.dropsLastHour + (state.state === "reconnecting" && state.attempt === 1 ? 1 : 0);
  const latencyMs = connected ? status.latencyMs : null;
  return {
    ...status,
    state,
    history,
    attempt: state.state === "reconnecting" ? state.attempt : 0,
    connectedSince: connected ? (status.state.state === "connected" ? status.connectedSince : at) : null,
    uptimeMs: connected ? status.uptimeMs : null,
    latencyMs,
    dropsLastHour,
    quality: linkQuality(state, latencyMs, dropsLastHour),
  };
}

/** The live facts of one second's `connection-stats`, over what the channel had. */
function applyStat(status: ChannelStatus, s: ChannelStats): ChannelStatus {
  return {
    ...status,
    lastMessageAt: s.lastMessageAt,
    lastHeartbeatAt: s.lastHeartbeatAt,
    latencyMs: s.latencyMs,
    uptimeMs: s.uptimeMs,
    messages: s.messages,
    dropsLastHour: s.dropsLastHour,
    quality: s.quality,
    sessionExpiresAt: s.sessionExpiresAt,
  };
}

/** What folding an event or stats into the accounts gave: the new list, and whether all of it was known. */
export interface Folded {
  accounts: AccountConnections[];
  /** False when the event or stats named an account or channel the list does not have (re-read the snapshot). */
  known: boolean;
}

/** Applies a `connection-event` to the channel it names. */
export function foldEvent(accounts: AccountConnections[], event: ConnectionEvent): Folded {
  let known = false;
  const next = accounts.map((account) => {
    if (account.accountId !== event.accountId) return account;
    const channels = account.channels.map((c) => {
      if (c.channel !== event.channel) return c;
      known = true;
      return applyEvent(c, event);
    });
    return { ...account, channels };
  });
  return { accounts: known ? next : accounts, known };
}

/** Applies one second's `connection-stats` to the channels they name; channels not named keep theirs. */
export function foldStats(accounts: AccountConnections[], stats: readonly ChannelStats[]): Folded {
  const byChannel = new Map(stats.map((s) => [`${s.accountId}\u0000${s.channel}`, s]));
  let matched = 0;
  const next = accounts.map((account) => {
    let touched = false;
    const channels = account.channels.map((c) => {
      const s = byChannel.get(`${account.accountId}\u0000${c.channel}`);
      if (!s) return c;
      matched += 1;
      touched = true;
      return applyStat(c, s);
    });
    return touched ? { ...account, channels } : account;
  });
  return { accounts: matched > 0 ? next : accounts, known: matched === byChannel.size };
}

/**
 * Folds actions into the state. An event or stats for an account or channel the snapshot does
 * not have are ignored (the snapshot read that follows brings it); an error keeps the last
 * snapshot.
 */
export function connectionsReducer(state: ConnectionsState, action: ConnectionsAction): ConnectionsState {
  switch (action.type) {
    case "snapshot":
      return { phase: "ready", accounts: action.accounts, receivedAt: action.at };
    case "error":
      return state.phase === "ready" ? state : { phase: "error", message: action.message };
    case "event": {
      if (state.phase !== "ready") return state;
      const { accounts, known } = foldEvent(state.accounts, action.event);
      return known ? { ...state, accounts } : state;
    }
    case "stats": {
      if (state.phase !== "ready") return state;
      const { accounts } = foldStats(state.accounts, action.stats);
      return accounts === state.accounts ? state : { ...state, accounts };
    }
  }
}
