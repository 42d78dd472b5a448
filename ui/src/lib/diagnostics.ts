/**
 * The connection widget's Diagnostics: the facts of each channel and the account's endpoints, as
 * the panel shows them. The plain-text report "Copy diagnostics" puts on the clipboard is the
 * core's (`runtime::diagnostics`): the window only names the account. URLs shown here lose any
 * user-info and query string.
 */
import type { Account } from "../bindings/Account";
import type { AccountConnections } from "../bindings/AccountConnections";
import type { BrokerInfo } from "../bindings/BrokerInfo";
import type { ChannelStatus } from "../bindings/ChannelStatus";
import {
  CHANNEL_ORDER,
  QUALITY_LABELS,
  STATE_LABELS,
  formatAge,
  formatDuration,
  formatLatency,
  num,
  qualityReason,
  retryDeadline,
  secondsLeft,
  sessionView,
  stateSince,
  uptimeMs,
} from "./connections";
import { ENVIRONMENT_LABELS, MODE_LABELS, STATUS_LABELS } from "./labels";

export type FactKey =
  | "state"
  | "attempt"
  | "nextRetry"
  | "latency"
  | "messages"
  | "lastMessage"
  | "lastHeartbeat"
  | "uptime"
  | "connectedSince"
  | "drops"
  | "quality"
  | "session";

export interface Fact {
  key: FactKey;
  label: string;
  value: string;
  /** The exact instant behind the value (RFC 3339), for the copied report. */
  at?: string | null;
  tone?: "bad" | "warn";
}

/** An instant in the user's locale, with seconds ("Nov 21, 2026, 11:19:58 AM"). */
export function formatInstant(rfc3339: string): string {
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? rfc3339 : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** The state with its reason: "Failed (broker_auth): …", "Reconnecting — last error: …". */
export function stateText(status: ChannelStatus): string {
  const { state } = status;
  switch (state.state) {
    case "reconnecting":
      return `Reconnecting — last error: ${state.lastError}`;
    case "failed":
      return `Failed (${state.code}): ${state.reason}`;
    default:
      return STATE_LABELS[state.state];
  }
}

/**
 * Everything the backend reports about a channel, formatted at `now` (ages, countdowns and the
 * uptime tick). `receivedAt` is when the snapshot arrived (the retry countdown's fallback start).
 */
export function channelFacts(status: ChannelStatus, now: number, receivedAt: number): Fact[] {
  const { state } = status;
  const reconnecting = state.state === "reconnecting";
  let nextRetry = "—";
  const deadline = retryDeadline(status, receivedAt);
  if (deadline !== null) {
    const since = stateSince(status);
    const left = secondsLeft(deadline, Math.max(now, since === null ? receivedAt : Date.parse(since)));
    nextRetry = left === 0 ? "now" : `in ${left} s`;
  }
  const up = uptimeMs(status, now);
  const session = sessionView(status.sessionExpiresAt, now);
  const messages = num(status.messages) ?? 0;
  return [
    { key: "state", label: "State", value: stateText(status), tone: state.state === "failed" ? "bad" : reconnecting ? "warn" : undefined },
    { key: "attempt", label: "Reconnect attempt", value: reconnecting ? String(state.attempt) : "—" },
    { key: "nextRetry", label: "Next retry", value: nextRetry },
    { key: "latency", label: "Latency", value: formatLatency(status.latencyMs) },
    { key: "messages", label: "Messages", value: messages.toLocaleString("en-US") },
    { key: "lastMessage", label: "Last message", value: formatAge(status.lastMessageAt, now), at: status.lastMessageAt },
    { key: "lastHeartbeat", label: "Last heartbeat", value: formatAge(status.lastHeartbeatAt, now), at: status.lastHeartbeatAt },
    { key: "uptime", label: "Uptime", value: up === null ? "—" : formatDuration(up) },
    {
      key: "connectedSince",
      label: "Connected since",
      value: status.connectedSince === null ? "—" : formatInstant(status.connectedSince),
      at: status.connectedSince,
    },
    { key: "drops", label: "Drops in the last hour", value: String(status.dropsLastHour), tone: status.dropsLastHour >= 3 ? "warn" : undefined },
    { key: "quality", label: "Quality", value: `${QUALITY_LABELS[status.quality]} — ${qualityReason(status)}` },
    {
      key: "session",
      label: "Session expires",
      value: session === null ? "—" : session.text.replace(/^Session /, ""),
      at: status.sessionExpiresAt,
      tone: session?.kind === "expired" ? "warn" : undefined,
    },
  ];
}

/** A URL without user-info, query or fragment (where a token could hide); otherwise as written. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === "" && u.password === "" && u.search === "" && u.hash === "") return url;
    const query = u.search !== "" ? "?…" : "";
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return `${u.toString()}${query}`;
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//").replace(/[?#].*$/, "");
  }
}

export interface Endpoint {
  url: string | null;
  /** `custom`: the account overrides it; `default`: the broker catalog's for the environment. */
  source: "custom" | "default" | "none";
}

/** The account's REST and stream endpoints: its own overrides, else the catalog's defaults. */
export function accountEndpoints(account: Account | undefined, broker: BrokerInfo | undefined): { rest: Endpoint; stream: Endpoint } {
  const defaults = broker?.environments.find((e) => e.environment === account?.environment);
  const pick = (own: string | null | undefined, fallback: string | null | undefined): Endpoint =>
    own ? { url: redactUrl(own), source: "custom" } : fallback ? { url: redactUrl(fallback), source: "default" } : { url: null, source: "none" };
  return { rest: pick(account?.restUrl, defaults?.restUrl), stream: pick(account?.streamUrl, defaults?.streamUrl) };
}

export interface AccountFact {
  key: string;
  label: string;
  value: string;
  mono?: boolean;
  /** Long values (URLs) take a whole row. */
  wide?: boolean;
  /** A short note beside the value ("default", "custom"). */
  note?: string;
}

function endpointFact(key: string, label: string, e: Endpoint): AccountFact {
  if (e.url === null) return { key, label, value: "—", wide: true };
  return { key, label, value: e.url, mono: true, wide: true, note: e.source === "custom" ? "custom" : "broker default" };
}

/** The account's side of the diagnostics: broker, environment, broker account, mode, endpoints, stored credential fields. */
export function accountFacts(connections: AccountConnections, account: Account | undefined, broker: BrokerInfo | undefined): AccountFact[] {
  const brokerName = broker?.label ?? connections.broker;
  const environment = account
    ? `${broker?.environments.find((e) => e.environment === account.environment)?.label ?? ENVIRONMENT_LABELS[account.environment]} (${account.environment})`
    : "—";
  const { rest, stream } = accountEndpoints(account, broker);
  const credentials =
    account === undefined
      ? "—"
      : account.credentials.length === 0
        ? "none stored"
        : account.credentials.map((c) => `${c.label}: ${c.error ? `unreadable (${c.error.code})` : "stored"}`).join("; ");
  return [
    { key: "broker", label: "Broker", value: `${brokerName} (${connections.broker})` },
    { key: "environment", label: "Environment", value: environment },
    { key: "brokerAccount", label: "Broker account", value: account?.brokerAccountId ?? "—", mono: true },
    { key: "mode", label: "Trading mode", value: account ? `${MODE_LABELS[account.mode]} · ${STATUS_LABELS[account.status]}` : "—" },
    endpointFact("rest", "REST endpoint", rest),
    endpointFact("stream", "Stream endpoint", stream),
    { key: "credentials", label: "Credentials", value: credentials, wide: true },
  ];
}

export const sortedChannels = (connections: AccountConnections): ChannelStatus[] =>
  [...connections.channels].sort((a, b) => CHANNEL_ORDER.indexOf(a.channel) - CHANNEL_ORDER.indexOf(b.channel));
