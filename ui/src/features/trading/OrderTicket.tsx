import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import type { OrderDraft } from "../../bindings/OrderDraft";
import type { OrderEstimate } from "../../bindings/OrderEstimate";
import type { OrderSide } from "../../bindings/OrderSide";
import type { OrderType } from "../../bindings/OrderType";
import type { TimeInForce } from "../../bindings/TimeInForce";
import { ModePill } from "../../components/Badges";
import { useOrders, useTradingHeld } from "../../data/resources";
import { HELD_REASON } from "../safe/SafeStateBanner";
import { Banner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { SelectField, TextField } from "../../components/Field";
import { MODE_LABEL_TEXT, modeLabelOf } from "../../lib/labels";
import { useToast } from "../../state/ToastProvider";
import { ORDER_STATUS_LABELS, ORDER_TYPE_LABELS, TIF_LABELS, money, num } from "./labels";

type Errors = Partial<Record<"symbol" | "quantity" | "price" | "stopLoss" | "takeProfit" | "form", string>>;

const TYPES: OrderType[] = ["market", "limit", "stop"];
const TIFS: TimeInForce[] = ["day", "gtc"];

/** What the ticket holds while the trader types. */
export interface TicketState {
  symbol: string;
  side: OrderSide;
  quantity: string;
  orderType: OrderType;
  price: string;
  timeInForce: TimeInForce;
  stopLoss: string;
  takeProfit: string;
}

export const emptyTicket = (symbol = ""): TicketState => ({
  symbol,
  side: "buy",
  quantity: "",
  orderType: "market",
  price: "",
  timeInForce: "day",
  stopLoss: "",
  takeProfit: "",
});

const blank = (s: string) => (s.trim() === "" ? null : s.trim());

/** The draft the core validates (numbers stay text: the core says what is wrong with them). */
export function draftOf(t: TicketState): OrderDraft {
  return {
    symbol: t.symbol.trim(),
    side: t.side,
    quantity: t.quantity.trim(),
    orderType: t.orderType,
    price: t.orderType === "market" ? null : blank(t.price),
    timeInForce: t.timeInForce,
    stopLoss: blank(t.stopLoss),
    takeProfit: blank(t.takeProfit),
    clientOrderId: null,
  };
}

/**
 * The order ticket: symbol, side, quantity, market / limit / stop with its price, time in force,
 * an optional stop-loss and take-profit attached to the order, an estimate of the cost and
 * margin, and (for orders that reach a broker) a confirmation step naming where they go.
 */
export function OrderTicket({ account, ticket, onChange }: { account: Account; ticket: TicketState; onChange: (t: TicketState) => void }) {
  const notify = useToast();
  const id = useId();
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<OrderDraft | null>(null);
  const [lastId, setLastId] = useState<string | null>(null);
  // The last order as it stands now (a market order fills a moment after it is placed).
  const orders = useOrders(account.id);
  const last = orders.data?.find((o) => o.id === lastId) ?? null;
  const estimate = useEstimate(account.id, ticket);
  // The safe state: the core refuses every order (`safe_mode`); say so before the click.
  const held = useTradingHeld();
  const label = modeLabelOf(account.mode, account.environment);
  const set = (patch: Partial<TicketState>) => onChange({ ...ticket, ...patch });

  const place = async (draft: OrderDraft) => {
    setBusy(true);
    setErrors({});
    try {
      const order = await api.orderPlace(account.id, draft);
      setLastId(order.id);
      const tone = order.status === "rejected" || order.status === "needs_review" || order.status === "unknown" ? "danger" : "success";
      notify(`${draft.side === "buy" ? "Buy" : "Sell"} ${num(order.quantity)} ${order.symbol}: ${ORDER_STATUS_LABELS[order.status]}`, tone);
    } catch (e) {
      const err = e as BrokerdeskError;
      const next: Errors = {};
      for (const f of err.fields) {
        if (f.field === "symbol" || f.field === "quantity" || f.field === "price" || f.field === "stopLoss" || f.field === "takeProfit") next[f.field] ??= f.message;
        else next.form ??= f.message;
      }
      if (err.fields.length === 0) next.form = err.message;
      setErrors(next);
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const draft = draftOf(ticket);
    if (account.mode === "live") setConfirming(draft);
    else void place(draft);
  };

  return (
    <section className={`card ticket ticket-${label}`} aria-labelledby={`${id}-title`} data-testid="order-ticket">
      <div className="ticket-head">
        <h2 className="card-title" id={`${id}-title`}>
          Order ticket
        </h2>
        <ModePill mode={account.mode} environment={account.environment} />
      </div>
      <form onSubmit={submit} noValidate>
        <div className="segmented ticket-side" role="radiogroup" aria-label="Side">
          {(["buy", "sell"] as const).map((s) => (
            <label key={s} className={`segment segment-${s}${ticket.side === s ? " is-selected" : ""}`}>
              <input type="radio" name={`${id}-side`} value={s} checked={ticket.side === s} onChange={() => set({ side: s })} />
              {s === "buy" ? "Buy" : "Sell"}
            </label>
          ))}
        </div>
        <TextField id={`${id}-symbol`} label="Symbol" value={ticket.symbol} onChange={(symbol) => set({ symbol: symbol.toUpperCase() })} error={errors.symbol} mono placeholder="e.g. EUR_USD" />
        <div className="ticket-row">
          <TextField id={`${id}-qty`} label="Quantity" value={ticket.quantity} onChange={(quantity) => set({ quantity })} error={errors.quantity} inputMode="decimal" mono placeholder="Units / shares" />
          <SelectField id={`${id}-type`} label="Type" value={ticket.orderType} options={TYPES.map((t) => ({ value: t, label: ORDER_TYPE_LABELS[t] }))} onChange={(orderType) => set({ orderType })} />
        </div>
        <div className="ticket-row">
          {ticket.orderType !== "market" ? (
            <TextField
              id={`${id}-price`}
              label={ticket.orderType === "limit" ? "Limit price" : "Stop price"}
              value={ticket.price}
              onChange={(price) => set({ price })}
              error={errors.price}
              inputMode="decimal"
              mono
            />
          ) : null}
          <SelectField id={`${id}-tif`} label="Time in force" value={ticket.timeInForce} options={TIFS.map((t) => ({ value: t, label: TIF_LABELS[t] }))} onChange={(timeInForce) => set({ timeInForce })} />
        </div>
        <div className="ticket-row">
          <TextField id={`${id}-sl`} label="Stop-loss" value={ticket.stopLoss} onChange={(stopLoss) => set({ stopLoss })} error={errors.stopLoss} inputMode="decimal" mono placeholder="Optional" />
          <TextField id={`${id}-tp`} label="Take-profit" value={ticket.takeProfit} onChange={(takeProfit) => set({ takeProfit })} error={errors.takeProfit} inputMode="decimal" mono placeholder="Optional" />
        </div>
        <EstimateView estimate={estimate} />
        {errors.form ? <Banner tone="danger">{errors.form}</Banner> : null}
        <button type="submit" className={`button button-block ${ticket.side === "buy" ? "button-buy" : "button-sell"}`} disabled={busy || held} aria-describedby={held ? `${id}-held` : undefined} data-testid="ticket-submit">
          {busy ? "Placing…" : `${ticket.side === "buy" ? "Buy" : "Sell"}${account.mode === "live" ? " — review" : ""}`}
        </button>
        {held ? (
          <p className="held-reason" id={`${id}-held`} data-testid="ticket-held">
            {HELD_REASON}
          </p>
        ) : null}
        <p className="field-help ticket-where">
          {account.mode === "paper"
            ? account.broker === "paper"
              ? "Filled by Brokerdesk's paper engine against the simulated market."
              : "Filled by Brokerdesk's paper engine against this account's streamed prices. Nothing is sent to the broker."
            : `Sent to the broker (${MODE_LABEL_TEXT[label]}). Brokerdesk stores the order before sending it and never sends it twice.`}
        </p>
      </form>
      {last ? (
        <p className="ticket-last" data-testid="ticket-last">
          Last order: {last.side} {num(last.quantity)} {last.symbol} — <strong>{ORDER_STATUS_LABELS[last.status]}</strong>
          {last.avgFillPrice ? ` at ${num(last.avgFillPrice)}` : ""}
          {last.reason ? <span className="muted"> ({last.reason})</span> : null}
        </p>
      ) : null}
      {confirming ? (
        <Dialog
          title="Send this order to the broker?"
          tone={label === "real_money" ? "danger" : "default"}
          onClose={() => setConfirming(null)}
          actions={
            <>
              <button type="button" className="button button-secondary" onClick={() => setConfirming(null)}>
                Cancel
              </button>
              <button
                type="button"
                className={`button ${label === "real_money" ? "button-danger" : "button-primary"}`}
                data-testid="ticket-confirm"
                onClick={() => {
                  const d = confirming;
                  setConfirming(null);
                  void place(d);
                }}
              >
                Send order
              </button>
            </>
          }
        >
          <dl className="facts">
            <dt>Account</dt>
            <dd>{account.name}</dd>
            <dt>Mode</dt>
            <dd>
              <ModePill mode={account.mode} environment={account.environment} />
            </dd>
            <dt>Order</dt>
            <dd className="mono">
              {confirming.side.toUpperCase()} {confirming.quantity} {confirming.symbol} · {ORDER_TYPE_LABELS[confirming.orderType]}
              {confirming.price ? ` @ ${confirming.price}` : ""} · {TIF_LABELS[confirming.timeInForce]}
            </dd>
            {confirming.stopLoss ? (
              <>
                <dt>Stop-loss</dt>
                <dd className="mono">{confirming.stopLoss}</dd>
              </>
            ) : null}
            {confirming.takeProfit ? (
              <>
                <dt>Take-profit</dt>
                <dd className="mono">{confirming.takeProfit}</dd>
              </>
            ) : null}
            <dt>Estimate</dt>
            <dd className="mono">{estimate?.notional ? `${money(estimate.notional)} ${estimate.currency}` : "—"}</dd>
          </dl>
        </Dialog>
      ) : null}
    </section>
  );
}

/** The core's estimate for the ticket: asked 300 ms after the trader stops typing, then every 2 s (prices move). */
function useEstimate(accountId: string, t: TicketState): OrderEstimate | null {
  const symbol = t.symbol.trim();
  const quantity = t.quantity.trim();
  const price = t.orderType === "market" ? null : blank(t.price);
  const args = useDebounced(JSON.stringify([symbol, t.side, quantity, price]), 300);
  const [s, side, q, p] = JSON.parse(args) as [string, OrderSide, string, string | null];
  const valid = s !== "" && /^\d*\.?\d+$/.test(q);
  const query = useQuery({
    queryKey: ["estimate", accountId, s, side, q, p],
    queryFn: () => api.orderEstimate(accountId, s, side, q, p),
    enabled: valid,
    refetchInterval: 2000,
    retry: false,
  });
  return valid ? (query.data ?? null) : null;
}

function useDebounced<T>(value: T, ms: number): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setCurrent(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return current;
}

function EstimateView({ estimate }: { estimate: OrderEstimate | null }) {
  if (!estimate) return <p className="ticket-estimate-empty muted">Enter a symbol and a quantity for an estimate.</p>;
  return (
    <dl className="ticket-estimate" data-testid="ticket-estimate">
      <div>
        <dt>Bid / Ask</dt>
        <dd className="mono">
          {num(estimate.bid)} / {num(estimate.ask)}
        </dd>
      </div>
      <div>
        <dt>Est. price</dt>
        <dd className="mono">{num(estimate.price)}</dd>
      </div>
      <div>
        <dt>Notional</dt>
        <dd className="mono">
          {money(estimate.notional)} {estimate.currency}
        </dd>
      </div>
      <div>
        <dt>Margin</dt>
        <dd className="mono">{estimate.margin ? `${money(estimate.margin)} ${estimate.currency}` : "—"}</dd>
      </div>
    </dl>
  );
}
