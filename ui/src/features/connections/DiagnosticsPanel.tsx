import { useState } from "react";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import type { AccountConnections } from "../../bindings/AccountConnections";
import type { StateChange } from "../../bindings/StateChange";
import { Icon } from "../../components/Icon";
import * as api from "../../api/client";
import { CHANNEL_LABELS, describeState, stateTone } from "../../lib/connections";
import { accountFacts, channelFacts, sortedChannels } from "../../lib/diagnostics";
import type { FactKey } from "../../lib/diagnostics";
import { useCatalog } from "../../data/resources";
import { SignalBars } from "./QualityIndicator";

/** A channel's state changes, newest first. */
export function HistoryTimeline({ history, label, full = false }: { history: readonly StateChange[]; label: string; full?: boolean }) {
  if (history.length === 0) return <p className="muted conn-history-empty">No state changes yet.</p>;
  return (
    <ol className={`conn-timeline${full ? " is-full" : ""}`} aria-label={label}>
      {[...history].reverse().map((h, i) => (
        <li key={`${h.at}-${i}`} className={`conn-${stateTone(h.state)}`}>
          <span className="conn-dot" aria-hidden="true" />
          <time dateTime={h.at}>{new Date(h.at).toLocaleTimeString()}</time>
          <span>{describeState(h.state)}</span>
        </li>
      ))}
    </ol>
  );
}

type CopyState = { tone: "success" | "danger"; text: string } | null;

interface Props {
  id: string;
  connections: AccountConnections;
  account: Account | undefined;
  now: number;
  receivedAt: number;
}

/**
 * Everything about an account's connections in one place, and a plain-text copy of it for a
 * support request: the account's broker, environment and endpoints, then per channel the state
 * and its reason, retries, latency, counters, ages, uptime, drops, quality, session expiry, and
 * the full history.
 */
export function DiagnosticsPanel({ id, connections, account, now, receivedAt }: Props) {
  const catalog = useCatalog();
  const broker = catalog.broker(connections.broker);
  const channels = sortedChannels(connections);
  const facts = channels.map((c) => channelFacts(c, now, receivedAt));
  const rows = facts[0]?.map((f) => ({ key: f.key, label: f.label })) ?? [];
  const [copy, setCopy] = useState<CopyState>(null);
  const [copying, setCopying] = useState(false);

  const copyReport = async () => {
    setCopying(true);
    try {
      // The core writes the report from its own snapshot; the window only names the account.
      await api.clipboardCopy({ kind: "diagnostics", accountId: connections.accountId });
      setCopy({ tone: "success", text: "Copied. The clipboard is cleared in 30 s." });
    } catch (e) {
      setCopy({ tone: "danger", text: `The diagnostics could not be copied: ${(e as BrokerdeskError).message}` });
    } finally {
      setCopying(false);
    }
  };

  const cell = (key: FactKey, i: number) => {
    const fact = facts[i]?.find((f) => f.key === key);
    if (!fact) return "—";
    if (key === "quality") {
      const quality = channels[i]!.quality;
      return (
        <span className={`diag-quality conn-q-${quality}`}>
          <SignalBars quality={quality} />
          <span>{fact.value}</span>
        </span>
      );
    }
    return fact.at ? <span title={fact.at}>{fact.value}</span> : fact.value;
  };

  return (
    <section id={id} className="diag" aria-label={`Diagnostics for ${connections.name}`} data-testid="diagnostics">
      <div className="diag-head">
        <p className="diag-asof muted">
          As of <time dateTime={new Date(receivedAt).toISOString()}>{new Date(receivedAt).toLocaleTimeString()}</time> · the backend
          sends these facts every second
        </p>
        <div className="diag-copy">
          <span className={`diag-copy-status${copy?.tone === "danger" ? " is-bad" : ""}`} role="status" data-testid="diag-copy-status">
            {copy?.text ?? ""}
          </span>
          <button type="button" className="button button-secondary button-sm" onClick={copyReport} disabled={copying}>
            <Icon name="copy" size={14} />
            Copy diagnostics
          </button>
        </div>
      </div>

      <dl className="diag-account" aria-label="Account">
        {accountFacts(connections, account, broker).map((f) => (
          <div key={f.key} className={f.wide ? "is-wide" : undefined} data-testid={`diag-account-${f.key}`}>
            <dt>{f.label}</dt>
            <dd>
              <span className={f.mono ? "mono" : undefined}>{f.value}</span>
              {f.note ? <span className="diag-note">{f.note}</span> : null}
            </dd>
          </div>
        ))}
      </dl>

      <div className="diag-table-wrap">
        <table className="diag-table">
          <caption className="sr-only">{connections.name}: channel details</caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="sr-only">Detail</span>
              </th>
              {channels.map((c) => (
                <th scope="col" key={c.channel}>
                  {CHANNEL_LABELS[c.channel]}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key}>
                <th scope="row">{row.label}</th>
                {channels.map((c, i) => {
                  const tone = facts[i]?.find((f) => f.key === row.key)?.tone;
                  return (
                    <td key={c.channel} className={tone ? `is-${tone}` : undefined} data-testid={`diag-${c.channel}-${row.key}`}>
                      {cell(row.key, i)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <div className="diag-histories">
        {channels.map((c) => (
          <div key={c.channel} className="diag-history">
            <h4 className="diag-subtitle">
              {CHANNEL_LABELS[c.channel]} history <span className="muted">({c.history.length})</span>
            </h4>
            <HistoryTimeline history={c.history} label={`${CHANNEL_LABELS[c.channel]} full history`} full />
          </div>
        ))}
      </div>
    </section>
  );
}
