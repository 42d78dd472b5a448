import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { KillAccount } from "../../bindings/KillAccount";
import type { KillSwitchReport } from "../../bindings/KillSwitchReport";
import { StatusPill } from "../../components/Badges";
import { Banner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { Icon } from "../../components/Icon";
import { keys } from "../../data/keys";
import { useTradingHeld } from "../../data/resources";
import { asSentence } from "../../lib/labels";
import { ORDER_OUTCOME, POSITION_OUTCOME, killTotals, outcomeTone, outcomeText } from "../../lib/risk";
import { routeHref } from "../../state/router";
import { num } from "../trading/labels";
import "./killswitch.css";

/**
 * The kill switch in the app header: one red button, a dialog saying exactly what it does
 * (every account to paper and suspended, every open order cancelled at every broker; live
 * positions closed only with the second, explicit choice), then the core's report of each
 * account, order and position, failures highlighted.
 */
export function KillSwitchButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="button button-danger kill-switch" onClick={() => setOpen(true)} data-testid="kill-switch" aria-haspopup="dialog">
        <Icon name="alert" size={16} />
        Kill switch
      </button>
      {open ? <KillSwitchDialog onClose={() => setOpen(false)} /> : null}
    </>
  );
}

export function KillSwitchDialog({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const [flatten, setFlatten] = useState(false);
  // The safe state: closing positions takes orders, which the core refuses; the rest still runs.
  const held = useTradingHeld();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<BrokerdeskError | null>(null);
  const [report, setReport] = useState<KillSwitchReport | null>(null);

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setReport(await api.killSwitch(flatten));
      // The events say so too; read again at once what the report changed.
      void qc.invalidateQueries({ queryKey: keys.accounts });
      void qc.invalidateQueries({ queryKey: keys.trading });
      void qc.invalidateQueries({ queryKey: keys.risk });
    } catch (e) {
      setError(e as BrokerdeskError);
    } finally {
      setBusy(false);
    }
  };
  // While it runs the dialog stays: its report is the only account of what was done.
  const close = () => {
    if (!busy) onClose();
  };

  if (report) return <KillReportDialog report={report} onClose={onClose} />;

  return (
    <Dialog
      title="Stop all trading now?"
      subtitle="The kill switch acts on every account at once."
      tone="danger"
      size="wide"
      onClose={close}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={close} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="button button-danger" onClick={() => void run()} disabled={busy} data-testid="kill-switch-confirm">
            {busy ? "Stopping…" : flatten ? "Stop trading and close positions" : "Stop all trading"}
          </button>
        </>
      }
    >
      <ol className="kill-steps">
        <li>
          <strong>Every account goes to paper and is suspended.</strong> Live accounts stop sending orders to their brokers, and no account can open a new position
          until you make it active again on its account page.
        </li>
        <li>
          <strong>Every open order is cancelled, at every broker</strong> (and every resting paper order). An order that cannot be cancelled is put in Needs review.
        </li>
        {flatten ? (
          <li data-testid="kill-step-positions">
            <strong>Every live position is closed</strong> at its broker, as you chose below. Paper positions stay.
          </li>
        ) : (
          <li data-testid="kill-step-positions">
            <strong>Positions stay open</strong>, unless you also choose to close them below.
          </li>
        )}
      </ol>
      <label className={`kill-flatten${flatten ? " is-on" : ""}`}>
        <input type="checkbox" checked={flatten} onChange={(e) => setFlatten(e.target.checked)} disabled={busy || held} data-testid="kill-switch-flatten" />
        <span>
          <strong>Also close every live position (flatten)</strong>
          <span className="kill-flatten-help">
            A market order at its broker for each live position, at whatever price the market gives. Paper positions stay as they are.
          </span>
          {held ? (
            <span className="kill-flatten-help" data-testid="kill-switch-held">
              Not available in the safe state: closing a position is an order, and no order is sent until the start-up checks pass.
            </span>
          ) : null}
        </span>
      </label>
      {error ? (
        <Banner tone="danger" title="The kill switch did not run">
          <p>{asSentence(error.message)}</p>
          <p className="muted">
            Code <code className="mono">{error.code}</code>
          </p>
        </Banner>
      ) : null}
    </Dialog>
  );
}

/** The kill switch's report: totals, then each account with its orders and positions. */
export function KillReportDialog({ report, onClose }: { report: KillSwitchReport; onClose: () => void }) {
  const t = killTotals(report);
  return (
    <Dialog
      title={report.failures === 0 ? "Trading stopped" : "Trading stopped, with failures"}
      subtitle={`Every account is on paper and suspended · ${report.elapsedMs} ms`}
      tone={report.failures === 0 ? "default" : "danger"}
      size="wide"
      onClose={onClose}
      actions={
        <>
          {report.failures > 0 ? (
            <a className="button button-secondary" href={routeHref({ page: "trade" })} onClick={onClose} data-testid="kill-report-review">
              Open Needs review
            </a>
          ) : null}
          <button type="button" className="button button-primary" onClick={onClose} data-autofocus data-testid="kill-report-close">
            Close
          </button>
        </>
      }
    >
      <div className="kill-report" data-testid="kill-report">
        <p className="kill-totals" data-testid="kill-totals">
          {t.accounts} account{t.accounts === 1 ? "" : "s"} to paper and suspended · {t.cancelled} of {t.orders} open order{t.orders === 1 ? "" : "s"} cancelled
          {report.flatten ? ` · ${t.closed} position${t.closed === 1 ? "" : "s"} closed` : t.open > 0 ? ` · ${t.open} live position${t.open === 1 ? "" : "s"} left open` : ""}
        </p>
        {report.failures > 0 ? (
          <Banner tone="danger" title={`${report.failures} thing${report.failures === 1 ? "" : "s"} could not be done`}>
            Orders that could not be cancelled are in <strong>Needs review</strong> on the{" "}
            <a className="link" href={routeHref({ page: "trade" })} onClick={onClose}>
              Trade page
            </a>
            : check each one at its broker. Positions that could not be closed are still open at the broker.
          </Banner>
        ) : null}
        {report.accounts.map((a) => (
          <KillAccountReport key={a.accountId} account={a} flatten={report.flatten} />
        ))}
      </div>
    </Dialog>
  );
}

/** Whether a detail adds to the outcome (the core's reason is often the status again: "cancelled"). */
const says = (detail: string | null, outcome: string): detail is string => detail !== null && detail.trim() !== "" && detail.trim().toLowerCase() !== outcome.replace(/_/g, " ");

/** An id short enough for a table (the whole one is in the title). */
const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id);

function KillAccountReport({ account: a, flatten }: { account: KillAccount; flatten: boolean }) {
  const failed = a.error !== null || a.orders.some((o) => outcomeTone(o.outcome) === "bad") || a.positions.some((p) => outcomeTone(p.outcome) === "bad");
  return (
    <section className={`kill-account${failed ? " has-failure" : ""}`} aria-label={`${a.name}: kill switch report`} data-testid="kill-account" data-account={a.accountId}>
      <header className="kill-account-head">
        <strong>{a.name}</strong>
        <StatusPill status={a.status} />
        <span className="muted">{a.wasLive ? "was live, now paper" : "was on paper"}</span>
      </header>
      {a.error ? (
        <Banner tone="danger" title="Not everything could be done for this account">
          {asSentence(a.error.message)} <code className="mono">{a.error.code}</code>
        </Banner>
      ) : null}
      {a.orders.length === 0 && a.positions.length === 0 ? (
        <p className="muted kill-nothing">{a.wasLive ? "No open orders and no live positions." : "No open orders."}</p>
      ) : (
        <table className="table kill-table">
          <tbody>
            {a.orders.map((o) => (
              <tr key={o.orderId} className={`kill-row kill-${outcomeTone(o.outcome)}`} data-testid="kill-order" data-outcome={o.outcome} data-order-id={o.orderId}>
                <th scope="row">Order</th>
                <td className="mono">{o.symbol}</td>
                <td>
                  <span className="kill-outcome">{outcomeText(ORDER_OUTCOME, o.outcome)}</span>
                  {says(o.detail, o.outcome) ? <span className="kill-detail"> — {o.detail}</span> : null}
                  <span className="kill-id mono" title={`Order ${o.orderId}`}>
                    {" "}
                    {shortId(o.orderId)}
                  </span>
                </td>
              </tr>
            ))}
            {a.positions.map((p) => (
              <tr key={p.symbol} className={`kill-row kill-${outcomeTone(p.outcome)}`} data-testid="kill-position" data-outcome={p.outcome}>
                <th scope="row">Position</th>
                <td className="mono">
                  {p.symbol} {num(p.quantity)}
                </td>
                <td>
                  <span className="kill-outcome">{outcomeText(POSITION_OUTCOME, p.outcome)}</span>
                  {p.outcome === "open" && !flatten ? <span className="kill-detail"> — flatten was not chosen</span> : null}
                  {says(p.detail, p.outcome) ? <span className="kill-detail"> — {p.detail}</span> : null}
                  {p.orderId ? (
                    <span className="kill-id mono" title={`Closing order ${p.orderId}`}>
                      {" "}
                      {shortId(p.orderId)}
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
