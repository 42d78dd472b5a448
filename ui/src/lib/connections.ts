/**
 * Live connection state for the Dashboard: formatting of ages, countdowns and uptimes, and the
 * reducer that folds `connection-event`s into the last `connections_snapshot`.
 *
 * ts-rs types the u64/i64 fields as `bigint`, but serde_json sends plain JSON numbers; `num`
 * works for either.
 */
import type { AccountConnections } from "../bindings/AccountConnections";
import type { Channel } from "../bindings/Channel";
import type { ChannelStatus } from "../bindings/ChannelStatus";
import type { ConnState } from "../bindings/ConnState";
import type { ConnectionEvent } from "../bindings/ConnectionEvent";

/** How many history entries a channel keeps in the UI (the backend sends its most recent ones). */
export const HISTORY_LIMIT = 50;

export const CHANNEL_LABELS: Record<Channel, string> = { order: "Orders", price: "Prices" };
export const CHANNEL_ORDER: readonly Channel[] = ["order", "price"];

export function num(value: bigint | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return typeof value === "bigint" ? Number(value) : value;
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

export function formatLatency(ms: bigint | number | null): string {
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

export type ConnectionsState =
  | { phase: "loading" }
  | { phase: "error"; message: string }
  | { phase: "ready"; accounts: AccountConnections[]; receivedAt: number };

export type ConnectionsAction =
  | { type: "snapshot"; accounts: AccountConnections[]; at: number }
  | { type: "error"; message: string }
  | { type: "event"; event: ConnectionEvent };

function applyEvent(status: ChannelStatus, event: ConnectionEvent): ChannelStatus {
  const { state, at } = event;
  const history = [...status.history, { at, state }].slice(-HISTORY_LIMIT);
  const connected = state.state === "connected";
  return {
    ...status,
    state,
    history,
    attempt: state.state === "reconnecting" ? state.attempt : 0,
    connectedSince: connected ? (status.state.state === "connected" ? status.connectedSince : at) : null,
    uptimeMs: connected ? status.uptimeMs : null,
    latencyMs: connected ? status.latencyMs : null,
  };
}

/**
 * Folds actions into the state. An event for an account or channel the snapshot does not have
 * is ignored (the throttled snapshot that follows brings it); an error keeps the last snapshot.
 */
export function connectionsReducer(state: ConnectionsState, action: ConnectionsAction): ConnectionsState {
  switch (action.type) {
    case "snapshot":
      return { phase: "ready", accounts: action.accounts, receivedAt: action.at };
    case "error":
      return state.phase === "ready" ? state : { phase: "error", message: action.message };
    case "event": {
      if (state.phase !== "ready") return state;
      const { event } = action;
      let changed = false;
      const accounts = state.accounts.map((account) => {
        if (account.accountId !== event.accountId) return account;
        const channels = account.channels.map((c) => {
          if (c.channel !== event.channel) return c;
          changed = true;
          return applyEvent(c, event);
        });
        return { ...account, channels };
      });
      return changed ? { ...state, accounts } : state;
    }
  }
}
