import { useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Order } from "../../bindings/Order";
import { Banner } from "../../components/Banner";
import { useAccounts, useReview } from "../../data/resources";
import { useToast } from "../../state/ToastProvider";
import { num, timeOf } from "./labels";

/** The sidebar's count of orders that need review (nothing when there are none). */
export function ReviewBadge() {
  const q = useReview();
  const n = q.data?.length ?? 0;
  if (n === 0) return null;
  return (
    <span className="nav-badge" data-testid="review-badge" title={`${n} order${n === 1 ? "" : "s"} need review`}>
      {n}
    </span>
  );
}

/**
 * Orders whose fate Brokerdesk could not learn from the broker (Needs review): never resent by
 * themselves. The trader says what happened: it was placed (the broker's order id, then
 * followed like any other order), or it was not (cancelled here; nothing is sent).
 */
export function ReviewPanel() {
  const q = useReview();
  const { state } = useAccounts();
  const orders = q.data ?? [];
  if (orders.length === 0) return null;
  const nameOf = (id: string) => (state.phase === "ready" ? state.accounts.find((a) => a.id === id)?.name : undefined) ?? id;
  return (
    <section className="card review-panel" aria-labelledby="review-title" data-testid="review-panel">
      <h2 className="card-title" id="review-title">
        Needs review ({orders.length})
      </h2>
      <p className="muted">
        Brokerdesk sent these orders but could not learn from the broker whether they were placed, even after looking them up by their client order id. They are never
        resent by themselves: check at the broker (search for the client order id), then say what happened.
      </p>
      <ul className="review-list">
        {orders.map((o) => (
          <ReviewItem key={o.id} order={o} accountName={nameOf(o.accountId)} />
        ))}
      </ul>
    </section>
  );
}

function ReviewItem({ order, accountName }: { order: Order; accountName: string }) {
  const notify = useToast();
  const [brokerId, setBrokerId] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<BrokerdeskError | null>(null);
  const resolve = async (placed: string | null) => {
    setBusy(true);
    setError(null);
    try {
      const o = await api.orderReviewResolve(order.id, placed);
      notify(placed ? `Order adopted: ${o.status}` : "Marked as not placed; nothing was sent", "success");
    } catch (e) {
      setError(e as BrokerdeskError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="review-item" data-testid="review-item">
      <div className="review-head">
        <strong>
          {order.side.toUpperCase()} {num(order.quantity)} {order.symbol}
        </strong>{" "}
        <span className="muted">
          · {accountName} · sent {order.sentAt ? timeOf(order.sentAt) : "—"}
        </span>
      </div>
      <div className="review-facts">
        Client order id <code className="mono">{order.clientOrderId}</code>
        {order.reason ? <span className="muted"> — {order.reason}</span> : null}
      </div>
      <div className="review-actions">
        <input
          className="input input-sm mono"
          placeholder="Broker's order id"
          aria-label={`Broker order id for ${order.clientOrderId}`}
          value={brokerId}
          onChange={(e) => setBrokerId(e.target.value)}
        />
        <button type="button" className="button button-secondary button-sm" disabled={busy || brokerId.trim() === ""} onClick={() => void resolve(brokerId.trim())}>
          It was placed
        </button>
        <button type="button" className="button button-secondary button-sm" disabled={busy} onClick={() => void resolve(null)}>
          It was not placed
        </button>
      </div>
      {error ? <Banner tone="danger">{error.message}</Banner> : null}
    </li>
  );
}
