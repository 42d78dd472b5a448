import { useId, useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import type { AccountConnections } from "../../bindings/AccountConnections";
import type { ChannelStatus } from "../../bindings/ChannelStatus";
import { Banner, Spinner } from "../../components/Banner";
import { BrokerBadge } from "../../components/Badges";
import { Icon } from "../../components/Icon";
import {
  CHANNEL_LABELS,
  STATE_LABELS,
  formatAge,
  formatCountdown,
  formatDuration,
  formatLatency,
  retryDeadline,
  sessionView,
  stateSince,
  stateTone,
  uptimeMs,
} from "../../lib/connections";
import type { ConnectionsState } from "../../lib/connections";
import { sortedChannels } from "../../lib/diagnostics";
import { useCatalog } from "../../data/resources";
import { useNow } from "../../state/useNow";
import { useToast } from "../../state/ToastProvider";
import { DiagnosticsPanel, HistoryTimeline } from "./DiagnosticsPanel";
import { QualityIndicator } from "./QualityIndicator";
import "./connections.css";

interface SectionProps {
  accounts: readonly Account[];
  /**
   * Every account's connections, kept current by the resource cache: state changes at once
   * (`connection-event`), the live facts — last message, latency, counters, quality, session
   * expiry — every second (`connection-stats`).
   */
  state: ConnectionsState;
}

/** The Dashboard's live connections: one widget per account that has connections. */
export function ConnectionsSection({ accounts, state }: SectionProps) {
  const now = useNow(1000);
  const notify = useToast();
  const [busyAll, setBusyAll] = useState(false);
  /** The accounts whose Diagnostics are open. */
  const [diagnostics, setDiagnostics] = useState<ReadonlySet<string>>(() => new Set());
  const connected = state.phase === "ready" ? state.accounts : [];

  const toggleDiagnostics = (accountId: string, open: boolean) =>
    setDiagnostics((current) => {
      if (current.has(accountId) === open) return current;
      const next = new Set(current);
      if (open) next.add(accountId);
      else next.delete(accountId);
      return next;
    });

  const reconnectAll = async () => {
    setBusyAll(true);
    try {
      await api.connectionsReconnectAll();
      notify("Reconnecting every connection");
    } catch (e) {
      notify(`Could not reconnect: ${(e as BrokerdeskError).message}`, "danger");
    } finally {
      setBusyAll(false);
    }
  };

  const withConnections = new Set(connected.map((a) => a.accountId));
  const without = accounts.filter((a) => !withConnections.has(a.id));

  return (
    <section className="conn-section" aria-labelledby="conn-title" data-testid="connections">
      <div className="conn-section-header">
        <h2 className="conn-section-title" id="conn-title">
          Connections
        </h2>
        <button type="button" className="button button-secondary button-sm" onClick={reconnectAll} disabled={busyAll || connected.length === 0}>
          <Icon name="refresh" size={14} />
          Reconnect all
        </button>
      </div>
      {state.phase === "loading" ? <Spinner label="Loading connections…" /> : null}
      {state.phase === "error" ? (
        <Banner tone="danger" title="The connections could not be read">
          {state.message}
        </Banner>
      ) : null}
      {state.phase === "ready" && connected.length === 0 ? (
        <p className="muted">No account connects to a broker. Paper accounts trade on the built-in simulator.</p>
      ) : null}
      {connected.length > 0 ? (
        <div className="conn-grid">
          {connected.map((c) => (
            <AccountWidget
              key={c.accountId}
              connections={c}
              account={accounts.find((a) => a.id === c.accountId)}
              now={now}
              receivedAt={state.phase === "ready" ? state.receivedAt : now}
              diagnosticsOpen={diagnostics.has(c.accountId)}
              onDiagnostics={(open) => toggleDiagnostics(c.accountId, open)}
            />
          ))}
        </div>
      ) : null}
      {state.phase === "ready" && without.length > 0 ? (
        <ul className="conn-idle-list" aria-label="Accounts without a broker connection">
          {without.map((a) => (
            <li key={a.id}>
              <span className="conn-idle-name">{a.name}</span>
              <span className="muted">{idleReason(a)}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

/**
 * Why an account has no connection. The core connects every account of a real broker that
 * has readable credentials, paper or live; the rest say which of those it lacks.
 */
export function idleReason(account: Account): string {
  if (account.broker === "paper") return "Built-in paper broker — no connection needed";
  if (account.credentials.some((c) => c.error !== null)) return "Not connected — its stored credentials cannot be read";
  if (account.credentials.length === 0 && account.broker !== "ibkr") return "Not connected — no stored credentials";
  return "Not connected";
}

interface WidgetProps {
  connections: AccountConnections;
  /** The saved account (its environment and endpoints), when the accounts list has it. */
  account: Account | undefined;
  now: number;
  receivedAt: number;
  diagnosticsOpen: boolean;
  onDiagnostics: (open: boolean) => void;
}

function AccountWidget({ connections, account, now, receivedAt, diagnosticsOpen, onDiagnostics }: WidgetProps) {
  const catalog = useCatalog();
  const notify = useToast();
  const [busy, setBusy] = useState(false);
  const panelId = useId();
  const channels = sortedChannels(connections);

  const reconnect = async () => {
    setBusy(true);
    try {
      await api.connectionReconnect(connections.accountId);
      notify(`Reconnecting ${connections.name}`);
    } catch (e) {
      notify(`Could not reconnect ${connections.name}: ${(e as BrokerdeskError).message}`, "danger");
    } finally {
      setBusy(false);
    }
  };

  return (
    <article
      className={`card conn-card${diagnosticsOpen ? " is-expanded" : ""}`}
      aria-label={`${connections.name} connections`}
      data-testid={`conn-${connections.accountId}`}
    >
      <header className="conn-card-header">
        <div className="conn-card-title">
          <h3 className="card-title">{connections.name}</h3>
          <BrokerBadge broker={connections.broker} label={catalog.broker(connections.broker)?.label} />
        </div>
        <button
          type="button"
          className="button button-secondary button-sm"
          onClick={reconnect}
          disabled={busy}
          aria-label={`Reconnect ${connections.name}`}
        >
          <Icon name="refresh" size={14} />
          Reconnect
        </button>
      </header>
      <div className={diagnosticsOpen ? "conn-channels is-wide" : "conn-channels"}>
        {channels.map((c) => (
          <ChannelRow key={c.channel} status={c} now={now} receivedAt={receivedAt} />
        ))}
      </div>
      <div className="conn-diag-bar">
        <button
          type="button"
          className="conn-diag-toggle"
          aria-expanded={diagnosticsOpen}
          aria-controls={diagnosticsOpen ? panelId : undefined}
          onClick={() => onDiagnostics(!diagnosticsOpen)}
        >
          <Icon name="chevronDown" size={14} className={diagnosticsOpen ? "is-open" : undefined} />
          Diagnostics
        </button>
      </div>
      {diagnosticsOpen ? <DiagnosticsPanel id={panelId} connections={connections} account={account} now={now} receivedAt={receivedAt} /> : null}
    </article>
  );
}

function ChannelRow({ status, now, receivedAt }: { status: ChannelStatus; now: number; receivedAt: number }) {
  const label = CHANNEL_LABELS[status.channel];
  const { state } = status;
  const deadline = retryDeadline(status, receivedAt);
  const up = uptimeMs(status, now);
  let detail: string | null = null;
  if (state.state === "reconnecting" && deadline !== null) {
    // `now` ticks once a second, so it may be up to a second older than the event just applied.
    const since = stateSince(status);
    const clock = Math.max(now, since === null ? receivedAt : Date.parse(since));
    detail = `attempt ${state.attempt}, ${formatCountdown(deadline, clock)}`;
  }
  if (state.state === "failed") detail = state.reason;
  const session = sessionView(status.sessionExpiresAt, now);

  return (
    <div className="conn-channel" data-testid={`channel-${status.channel}`}>
      <div className="conn-channel-head">
        <span className="conn-channel-name">{label}</span>
        <span className={`pill conn-pill conn-${stateTone(state)}`} data-testid="conn-state">
          <span className="conn-dot" aria-hidden="true" />
          {STATE_LABELS[state.state]}
        </span>
        <QualityIndicator status={status} />
      </div>
      {detail !== null ? (
        <p className={`conn-detail${state.state === "failed" ? " is-bad" : ""}`} data-testid="conn-detail">
          {detail}
        </p>
      ) : null}
      <dl className="conn-stats">
        <div>
          <dt>Latency</dt>
          <dd data-testid="conn-latency">{formatLatency(status.latencyMs)}</dd>
        </div>
        <div>
          <dt>Last message</dt>
          <dd data-testid="conn-age">{formatAge(status.lastMessageAt, now)}</dd>
        </div>
        <div>
          <dt>Uptime</dt>
          <dd data-testid="conn-uptime">{up === null ? "—" : formatDuration(up)}</dd>
        </div>
      </dl>
      {session !== null ? (
        <p
          className={`conn-session${session.kind === "expired" ? " is-warn" : ""}`}
          data-testid="conn-session"
          title={`The broker session (access token) expires at ${new Date(status.sessionExpiresAt ?? "").toLocaleTimeString()}; Brokerdesk renews it before then, without dropping the connection.`}
        >
          <Icon name="key" size={13} />
          <span>{session.text}</span>
        </p>
      ) : null}
      <details className="conn-history">
        <summary>History ({status.history.length})</summary>
        <HistoryTimeline history={status.history} label={`${label} history`} />
      </details>
    </div>
  );
}
