import { useState } from "react";
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
  CHANNEL_ORDER,
  STATE_LABELS,
  describeState,
  formatAge,
  formatCountdown,
  formatDuration,
  formatLatency,
  retryDeadline,
  stateSince,
  stateTone,
  uptimeMs,
} from "../../lib/connections";
import type { ConnectionsState } from "../../lib/connections";
import { useCatalog } from "../../state/CatalogProvider";
import { useNow } from "../../state/useNow";
import { useToast } from "../../state/ToastProvider";

/** The Dashboard's live connections: one widget per account that has connections. */
export function ConnectionsSection({ accounts, state }: { accounts: readonly Account[]; state: ConnectionsState }) {
  const now = useNow(1000);
  const notify = useToast();
  const [busyAll, setBusyAll] = useState(false);

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

  const connected = state.phase === "ready" ? state.accounts : [];
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
          {connected.map((account) => (
            <AccountWidget key={account.accountId} account={account} now={now} receivedAt={state.phase === "ready" ? state.receivedAt : now} />
          ))}
        </div>
      ) : null}
      {state.phase === "ready" && without.length > 0 ? (
        <ul className="conn-idle-list" aria-label="Accounts without a broker connection">
          {without.map((a) => (
            <li key={a.id}>
              <span className="conn-idle-name">{a.name}</span>
              <span className="muted">{a.mode === "paper" ? "Paper — no broker connection" : "Not connected"}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function AccountWidget({ account, now, receivedAt }: { account: AccountConnections; now: number; receivedAt: number }) {
  const catalog = useCatalog();
  const notify = useToast();
  const [busy, setBusy] = useState(false);
  const channels = [...account.channels].sort((a, b) => CHANNEL_ORDER.indexOf(a.channel) - CHANNEL_ORDER.indexOf(b.channel));

  const reconnect = async () => {
    setBusy(true);
    try {
      await api.connectionReconnect(account.accountId);
      notify(`Reconnecting ${account.name}`);
    } catch (e) {
      notify(`Could not reconnect ${account.name}: ${(e as BrokerdeskError).message}`, "danger");
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="card conn-card" aria-label={`${account.name} connections`} data-testid={`conn-${account.accountId}`}>
      <header className="conn-card-header">
        <div className="conn-card-title">
          <h3 className="card-title">{account.name}</h3>
          <BrokerBadge broker={account.broker} label={catalog.broker(account.broker)?.label} />
        </div>
        <button
          type="button"
          className="button button-secondary button-sm"
          onClick={reconnect}
          disabled={busy}
          aria-label={`Reconnect ${account.name}`}
        >
          <Icon name="refresh" size={14} />
          Reconnect
        </button>
      </header>
      {channels.map((c) => (
        <ChannelRow key={c.channel} status={c} now={now} receivedAt={receivedAt} />
      ))}
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

  return (
    <div className="conn-channel" data-testid={`channel-${status.channel}`}>
      <div className="conn-channel-head">
        <span className="conn-channel-name">{label}</span>
        <span className={`pill conn-pill conn-${stateTone(state)}`} data-testid="conn-state">
          <span className="conn-dot" aria-hidden="true" />
          {STATE_LABELS[state.state]}
        </span>
        {detail !== null ? (
          <span className={`conn-detail${state.state === "failed" ? " is-bad" : ""}`} data-testid="conn-detail">
            {detail}
          </span>
        ) : null}
      </div>
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
      <details className="conn-history">
        <summary>History ({status.history.length})</summary>
        {status.history.length === 0 ? (
          <p className="muted">No state changes yet.</p>
        ) : (
          <ol className="conn-timeline" aria-label={`${label} history`}>
            {[...status.history].reverse().map((h, i) => (
              <li key={`${h.at}-${i}`} className={`conn-${stateTone(h.state)}`}>
                <span className="conn-dot" aria-hidden="true" />
                <time dateTime={h.at}>{new Date(h.at).toLocaleTimeString()}</time>
                <span>{describeState(h.state)}</span>
              </li>
            ))}
          </ol>
        )}
      </details>
    </div>
  );
}
