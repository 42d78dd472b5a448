import { useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import type { AccountMoney } from "../../bindings/AccountMoney";
import type { Order } from "../../bindings/Order";
import { Banner, Spinner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { useOrderDetail, useTradingHeld } from "../../data/resources";
import { HELD_REASON } from "../safe/SafeStateBanner";
import { useToast } from "../../state/ToastProvider";
import { ModifyOrderDialog, canModify, useModifyStyle } from "./ModifyOrder";
import { ORDER_STATUS_LABELS, ORDER_STATUS_TONE, ORDER_TYPE_LABELS, isWorking, money, num, timeOf, tone } from "./labels";

export function StatusTag({ order }: { order: Order }) {
  return (
    <span className={`order-status order-status-${ORDER_STATUS_TONE[order.status]}`} data-testid="order-status">
      {ORDER_STATUS_LABELS[order.status]}
    </span>
  );
}

/** Balance, equity, P&L and margin of an account, from the paper engine or the broker. */
export function MoneyStrip({ money: m, simulated }: { money: AccountMoney; simulated: boolean }) {
  const cell = (label: string, value: string | null, signed = false, testid?: string) => (
    <div className="money-cell">
      <dt>{label}</dt>
      <dd className={`mono${signed ? ` pnl-${tone(value)}` : ""}`} data-testid={testid}>
        {money(value)}
      </dd>
    </div>
  );
  return (
    <section className="card money-strip" aria-label="Account money" data-testid="money-strip">
      <dl>
        {cell(`Balance (${m.currency})`, m.balance, false, "money-balance")}
        {cell("Equity", m.equity, false, "money-equity")}
        {cell("Unrealised P&L", m.unrealizedPnl, true)}
        {cell("Realised P&L", m.realizedPnl, true)}
        {cell("Day P&L", m.dayPnl, true)}
        {cell("Margin used", m.marginUsed)}
      </dl>
      <p className="money-source muted">
        {m.source === "paper" ? (simulated ? "Paper engine · SIMULATED PRICES" : "Paper engine · this account's streamed prices") : "As reported by the broker"}
        {m.complete ? "" : " · some figures are unknown (a position without a quote or a conversion rate)"}
      </p>
    </section>
  );
}

export function PositionsTable({ account, money: m, onTrade }: { account: Account; money: AccountMoney; onTrade: (symbol: string) => void }) {
  const notify = useToast();
  const [closing, setClosing] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const close = async (symbols: string[]) => {
    setBusy(true);
    try {
      for (const s of symbols) {
        const o = await api.positionClose(account.id, s);
        notify(`Close ${s}: ${ORDER_STATUS_LABELS[o.status]}`, o.status === "rejected" ? "danger" : "success");
      }
    } catch (e) {
      notify((e as BrokerdeskError).message, "danger");
    } finally {
      setBusy(false);
      setClosing(null);
    }
  };
  const live = account.mode === "live";
  // The safe state: closing a position is an order, which the core refuses.
  const held = useTradingHeld();
  const heldTitle = held ? HELD_REASON : undefined;
  return (
    <section className="card table-card" aria-labelledby="positions-title" data-testid="positions">
      <div className="table-card-head">
        <h2 className="card-title" id="positions-title">
          Positions
        </h2>
        {m.positions.length > 1 ? (
          <button type="button" className="button button-secondary button-sm" onClick={() => setClosing(m.positions.map((p) => p.symbol))} disabled={busy || held} title={heldTitle}>
            Close all
          </button>
        ) : null}
      </div>
      {m.positions.length === 0 ? (
        <p className="muted table-empty">No open positions.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Symbol</th>
              <th scope="col" className="num">Quantity</th>
              <th scope="col" className="num">Avg</th>
              <th scope="col" className="num">Mark</th>
              <th scope="col" className="num">P&amp;L</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {m.positions.map((p) => (
              <tr key={p.symbol} data-testid="position-row">
                <th scope="row" className="mono">
                  <button type="button" className="link-button mono" onClick={() => onTrade(p.symbol)} title={`Trade ${p.symbol}`}>
                    {p.symbol}
                  </button>
                </th>
                <td className="num mono">{num(p.quantity)}</td>
                <td className="num mono">{num(p.averagePrice)}</td>
                <td className="num mono">{num(p.markPrice)}</td>
                <td className={`num mono pnl-${tone(p.unrealizedPnl)}`}>{money(p.unrealizedPnl)}</td>
                <td className="actions-cell">
                  <button type="button" className="button button-secondary button-sm" onClick={() => (live ? setClosing([p.symbol]) : void close([p.symbol]))} disabled={busy || held} title={heldTitle}>
                    Close
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {closing ? (
        <Dialog
          title={closing.length === 1 ? `Close ${closing[0]}?` : `Close ${closing.length} positions?`}
          tone={live ? "danger" : "default"}
          onClose={() => setClosing(null)}
          actions={
            <>
              <button type="button" className="button button-secondary" onClick={() => setClosing(null)}>
                Cancel
              </button>
              <button type="button" className="button button-danger" onClick={() => void close(closing)} disabled={busy} data-testid="close-confirm">
                Close at market
              </button>
            </>
          }
        >
          <p>
            {live ? "Market orders are sent to the broker" : "Market orders are filled by the paper engine"} for {closing.join(", ")}.
          </p>
        </Dialog>
      ) : null}
    </section>
  );
}

export function OrdersTable({ account, orders, title, empty, testid }: { account: Account; orders: Order[]; title: string; empty: string; testid: string }) {
  const notify = useToast();
  const [shown, setShown] = useState<string | null>(null);
  const [changing, setChanging] = useState<Order | null>(null);
  const styleOf = useModifyStyle(account);
  // The safe state refuses a change (it may add risk); a cancel is always allowed.
  const held = useTradingHeld();
  const cancel = async (o: Order) => {
    try {
      const c = await api.orderCancel(account.id, o.id);
      notify(`Cancel ${o.symbol}: ${ORDER_STATUS_LABELS[c.status]}`, "success");
    } catch (e) {
      notify((e as BrokerdeskError).message, "danger");
    }
  };
  return (
    <section className="card table-card" aria-label={title} data-testid={testid}>
      <div className="table-card-head">
        <h2 className="card-title">{title}</h2>
      </div>
      {orders.length === 0 ? (
        <p className="muted table-empty">{empty}</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Symbol</th>
              <th scope="col">Side</th>
              <th scope="col">Order</th>
              <th scope="col" className="num">Qty</th>
              <th scope="col" className="num">Filled</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.id} data-testid="order-row">
                <td className="muted">{timeOf(o.createdAt)}</td>
                <th scope="row" className="mono">
                  {o.symbol}
                  {o.parentId ? <span className="muted"> (SL/TP)</span> : null}
                  {o.origin === "external" ? <span className="pill pill-sm">external</span> : null}
                </th>
                <td className={`side-${o.side}`}>{o.side === "buy" ? "Buy" : "Sell"}</td>
                <td>
                  {ORDER_TYPE_LABELS[o.orderType]}
                  {o.limitPrice ?? o.stopPrice ? <span className="mono"> @ {num(o.limitPrice ?? o.stopPrice)}</span> : null}
                </td>
                <td className="num mono">{num(o.quantity)}</td>
                <td className="num mono">
                  {num(o.filledQty)}
                  {o.avgFillPrice ? ` @ ${num(o.avgFillPrice)}` : ""}
                </td>
                <td>
                  <StatusTag order={o} />
                </td>
                <td className="actions-cell">
                  <button type="button" className="button button-secondary button-sm" onClick={() => setShown(o.id)} aria-label={`Details of ${o.side} ${num(o.quantity)} ${o.symbol}`}>
                    Details
                  </button>
                  {canModify(o, styleOf(o)) ? (
                    <>
                      {" "}
                      <button type="button" className="button button-secondary button-sm" onClick={() => setChanging(o)} disabled={held} title={held ? HELD_REASON : `Change the quantity or price of ${o.symbol}`} data-testid="order-modify">
                        Modify
                      </button>
                    </>
                  ) : null}
                  {isWorking(o.status) && o.status !== "unknown" ? (
                    <>
                      {" "}
                      <button type="button" className="button button-secondary button-sm" onClick={() => void cancel(o)} data-testid="order-cancel">
                        Cancel
                      </button>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown ? <OrderDetailDialog accountId={account.id} orderId={shown} onClose={() => setShown(null)} /> : null}
      {changing ? <ModifyOrderDialog account={account} order={changing} style={styleOf(changing)} onClose={() => setChanging(null)} /> : null}
    </section>
  );
}

function OrderDetailDialog({ accountId, orderId, onClose }: { accountId: string; orderId: string; onClose: () => void }) {
  const q = useOrderDetail(accountId, orderId);
  const o = q.data;
  return (
    <Dialog
      title="Order details"
      size="wide"
      onClose={onClose}
      actions={
        <button type="button" className="button button-secondary" onClick={onClose}>
          Close
        </button>
      }
    >
      {q.isPending ? <Spinner /> : null}
      {q.error ? <Banner tone="danger">{(q.error as BrokerdeskError).message}</Banner> : null}
      {o ? (
        <>
          <dl className="facts">
            <dt>Order</dt>
            <dd className="mono">
              {o.side.toUpperCase()} {num(o.quantity)} {o.symbol} · {ORDER_TYPE_LABELS[o.orderType]}
              {o.limitPrice ? ` @ ${num(o.limitPrice)}` : ""}
              {o.stopPrice ? ` stop ${num(o.stopPrice)}` : ""} · {o.timeInForce.toUpperCase()}
            </dd>
            <dt>Status</dt>
            <dd>
              {ORDER_STATUS_LABELS[o.status]}
              {o.brokerStatus ? <span className="muted"> (broker: {o.brokerStatus})</span> : null}
              {o.reason ? <span className="muted"> — {o.reason}</span> : null}
            </dd>
            <dt>Mode</dt>
            <dd>{o.mode === "paper" ? "Paper (filled by Brokerdesk)" : "Sent to the broker"}</dd>
            <dt>Client order id</dt>
            <dd className="mono">{o.clientOrderId}</dd>
            <dt>Broker order id</dt>
            <dd className="mono">{o.brokerOrderId ?? "—"}</dd>
            {o.replaces ? (
              <>
                <dt>Replaces</dt>
                <dd className="mono">order {o.replaces}</dd>
              </>
            ) : null}
            {o.stopLoss || o.takeProfit ? (
              <>
                <dt>Bracket</dt>
                <dd className="mono">
                  SL {num(o.stopLoss)} · TP {num(o.takeProfit)}
                </dd>
              </>
            ) : null}
          </dl>
          <h3 className="history-title">History</h3>
          <ol className="order-events">
            {o.events.map((e, i) => (
              <li key={i}>
                <span className="muted">{timeOf(e.at)}</span> <strong>{ORDER_STATUS_LABELS[e.status]}</strong> {e.detail}
              </li>
            ))}
          </ol>
          <h3 className="history-title">Fills</h3>
          {o.fills.length === 0 ? (
            <p className="muted">No fills.</p>
          ) : (
            <ol className="order-events">
              {o.fills.map((f, i) => (
                <li key={f.fillId || i}>
                  <span className="muted">{timeOf(f.at)}</span>{" "}
                  <span className="mono">
                    {num(f.quantity)} @ {num(f.price)}
                    {f.fee && /[1-9]/.test(f.fee) ? ` · fee ${num(f.fee)}` : ""}
                  </span>
                </li>
              ))}
            </ol>
          )}
        </>
      ) : null}
    </Dialog>
  );
}
