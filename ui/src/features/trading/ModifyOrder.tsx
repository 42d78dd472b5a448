import { useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import type { ModifyStyle } from "../../bindings/ModifyStyle";
import type { Order } from "../../bindings/Order";
import { Banner } from "../../components/Banner";
import { ModePill } from "../../components/Badges";
import { Dialog } from "../../components/Dialog";
import { TextField } from "../../components/Field";
import { useCatalog } from "../../data/resources";
import { useToast } from "../../state/ToastProvider";
import { ORDER_STATUS_LABELS, ORDER_TYPE_LABELS, num } from "./labels";

/** How `order` is changed: the paper engine changes in place; a live order as its broker does. */
export function useModifyStyle(account: Account): (order: Order) => ModifyStyle {
  const { broker } = useCatalog();
  return (order) => (order.mode === "paper" ? "in_place" : (broker(account.broker)?.modifyStyle ?? "unsupported"));
}

/** Whether the Modify button shows for `order`: an open limit or stop order whose broker can change it. */
export function canModify(order: Order, style: ModifyStyle): boolean {
  const atBroker = order.mode === "paper" || order.brokerOrderId !== null;
  return (order.status === "open" || order.status === "partially_filled") && order.orderType !== "market" && style !== "unsupported" && atBroker;
}

const WHAT_HAPPENS: Record<ModifyStyle, string> = {
  in_place: "The order keeps its id and takes the new terms.",
  replace: "The broker replaces an order to change it: the original is cancelled and a new order with the new terms takes its place (Brokerdesk stores it before sending, like any order).",
  unsupported: "This broker cannot change an order from Brokerdesk: cancel it and place a new one.",
};

/** The dialog that changes an open order's quantity or price. */
export function ModifyOrderDialog({ account, order, style, onClose }: { account: Account; order: Order; style: ModifyStyle; onClose: () => void }) {
  const notify = useToast();
  const current = num(order.limitPrice ?? order.stopPrice ?? "0");
  const [quantity, setQuantity] = useState(num(order.quantity));
  const [price, setPrice] = useState(current);
  const [error, setError] = useState<BrokerdeskError | null>(null);
  const [busy, setBusy] = useState(false);
  const live = order.mode === "live";
  const realMoney = live && account.environment === "live";
  const priceLabel = order.orderType === "limit" ? "Limit price" : "Stop (trigger) price";
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const changed = await api.orderModify(account.id, order.id, {
        quantity: quantity.trim() === num(order.quantity) ? null : quantity,
        price: price.trim() === current ? null : price,
      });
      const replaced = changed.id !== order.id;
      notify(`${order.symbol}: ${replaced ? "replaced by a new order" : "changed"} (${ORDER_STATUS_LABELS[changed.status]})`, changed.status === "rejected" ? "danger" : "success");
      onClose();
    } catch (e) {
      setError(e as BrokerdeskError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Change ${order.side} ${num(order.quantity)} ${order.symbol}`}
      subtitle={`${ORDER_TYPE_LABELS[order.orderType]} @ ${current} · ${order.timeInForce.toUpperCase()}`}
      tone={realMoney ? "danger" : "default"}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onClose}>
            Keep it
          </button>
          <button type="button" className={`button ${realMoney ? "button-danger" : "button-primary"}`} onClick={() => void submit()} disabled={busy} data-testid="modify-confirm">
            {busy ? "Changing…" : live ? "Send the change" : "Change order"}
          </button>
        </>
      }
    >
      <p>
        <ModePill mode={order.mode} environment={account.environment} /> {live ? WHAT_HAPPENS[style] : "The paper engine changes the order; it then fills only on prices that arrive after the change."}
      </p>
      <form
        className="modify-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <TextField id="modify-quantity" label="Quantity" value={quantity} onChange={setQuantity} inputMode="decimal" mono help={order.filledQty !== "0" ? `${num(order.filledQty)} filled already` : undefined} />
        <TextField id="modify-price" label={priceLabel} value={price} onChange={setPrice} inputMode="decimal" mono />
      </form>
      {error ? (
        <Banner tone="danger" title={error.code}>
          {error.message}
        </Banner>
      ) : null}
    </Dialog>
  );
}
