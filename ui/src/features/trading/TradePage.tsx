import { useMemo, useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import { BrokerBadge, ModePill, StatusPill } from "../../components/Badges";
import { Banner, ErrorText, Spinner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { Icon } from "../../components/Icon";
import { EmptyState, PageHeader } from "../../components/PageHeader";
import { useAccounts, useMoney, useOrders } from "../../data/resources";
import { ENVIRONMENT_LABELS } from "../../lib/labels";
import { navigate } from "../../state/router";
import { useToast } from "../../state/ToastProvider";
import { MoneyStrip, OrdersTable, PositionsTable } from "./Blotter";
import { ModeSwitch } from "./ModeSwitch";
import { OrderTicket, emptyTicket } from "./OrderTicket";
import type { TicketState } from "./OrderTicket";
import { ReviewPanel } from "./ReviewPanel";
import { isWorking } from "./labels";
import "./trading.css";

/** Trade: one account's money, positions, orders and ticket; orders that need review on top. */
export function TradePage({ id, symbol }: { id?: string | undefined; symbol?: string | undefined }) {
  const { state } = useAccounts();
  if (state.phase === "loading") return <Spinner label="Loading accounts…" />;
  if (state.phase === "error")
    return (
      <div className="page">
        <Banner tone="danger" title="The accounts could not be read">
          <ErrorText error={state.error} />
        </Banner>
      </div>
    );
  const accounts = state.accounts;
  if (accounts.length === 0)
    return (
      <div className="page">
        <PageHeader title="Trade" />
        <EmptyState
          title="No accounts yet"
          action={
            <a className="button button-primary" href="#/accounts/new">
              <Icon name="plus" size={16} />
              Add an account
            </a>
          }
        >
          Start with the built-in paper broker: it needs no credentials and streams a simulated market at once.
        </EmptyState>
      </div>
    );
  const account = accounts.find((a) => a.id === id) ?? accounts[0];
  if (!account) return null;
  return <TradeAccount key={account.id} accounts={accounts} account={account} symbol={symbol} />;
}

function TradeAccount({ accounts, account, symbol }: { accounts: Account[]; account: Account; symbol: string | undefined }) {
  const [ticket, setTicket] = useState<TicketState>(() => emptyTicket(symbol ?? account.instruments[0] ?? ""));
  const money = useMoney(account.id);
  const orders = useOrders(account.id);
  const all = useMemo(() => orders.data ?? [], [orders.data]);
  const open = all.filter((o) => isWorking(o.status));
  const history = all.filter((o) => !isWorking(o.status)).slice(0, 100);
  const openLive = open.filter((o) => o.mode === "live").length;
  const simulated = account.broker === "paper";

  return (
    <div className={`page trade-page trade-${account.mode === "live" ? (account.environment === "live" ? "real_money" : "broker_practice") : "paper"}`}>
      <PageHeader title="Trade" description="Place orders, watch fills, positions and P&L." />
      <ReviewPanel />
      <div className="trade-accounts" role="tablist" aria-label="Accounts">
        {accounts.map((a) => (
          <button
            key={a.id}
            type="button"
            role="tab"
            aria-selected={a.id === account.id}
            className={`trade-account-tab${a.id === account.id ? " is-active" : ""}`}
            onClick={() => navigate({ page: "trade", id: a.id })}
          >
            {a.name} <ModePill mode={a.mode} environment={a.environment} />
          </button>
        ))}
      </div>
      <div className="card trade-header" data-testid="trade-header">
        <div className="trade-header-main">
          <h2 className="trade-account-name">{account.name}</h2>
          <BrokerBadge broker={account.broker} />
          <span className="muted">{ENVIRONMENT_LABELS[account.environment]} environment</span>
          <StatusPill status={account.status} />
          {simulated ? <span className="pill pill-simulated">SIMULATED PRICES</span> : null}
        </div>
        <div className="trade-header-mode">
          <ModePill mode={account.mode} environment={account.environment} size="lg" />
          <ModeSwitch account={account} openLiveOrders={openLive} />
          {account.mode === "paper" ? <PaperReset account={account} /> : null}
        </div>
      </div>
      <div className="trade-grid">
        <div className="trade-main">
          {money.data ? <MoneyStrip money={money.data} simulated={simulated} /> : null}
          {money.error ? <Banner tone="warning" title="Money and positions are not available">{(money.error as BrokerdeskError).message}</Banner> : null}
          {money.data ? <PositionsTable account={account} money={money.data} onTrade={(s) => setTicket({ ...emptyTicket(s), side: "sell" })} /> : null}
        </div>
        <aside className="trade-side">
          <OrderTicket account={account} ticket={ticket} onChange={setTicket} />
          {account.instruments.length > 0 ? (
            <div className="card quick-symbols">
              <h2 className="card-eyebrow">Watchlist</h2>
              <div className="quick-symbol-list">
                {account.instruments.map((s) => (
                  <button key={s} type="button" className={`chip${ticket.symbol === s ? " is-selected" : ""}`} onClick={() => setTicket({ ...ticket, symbol: s })}>
                    {s}
                  </button>
                ))}
              </div>
            </div>
          ) : null}
        </aside>
      </div>
      <div className="trade-blotter">
        {orders.error ? <Banner tone="danger">{(orders.error as BrokerdeskError).message}</Banner> : null}
        <OrdersTable account={account} orders={open} title={`Open orders (${open.length})`} empty="No open orders." testid="open-orders" />
        <OrdersTable account={account} orders={history} title="Order history" empty="No orders yet." testid="order-history" />
      </div>
    </div>
  );
}

function PaperReset({ account }: { account: Account }) {
  const notify = useToast();
  const [open, setOpen] = useState(false);
  const [balance, setBalance] = useState("100000");
  const [error, setError] = useState<BrokerdeskError | null>(null);
  const reset = async () => {
    setError(null);
    try {
      await api.paperReset(account.id, balance.trim() === "" ? null : balance.trim());
      notify(`${account.name}: paper account reset`, "success");
      setOpen(false);
    } catch (e) {
      setError(e as BrokerdeskError);
    }
  };
  return (
    <>
      <button type="button" className="button button-secondary button-sm" onClick={() => setOpen(true)}>
        Reset paper account…
      </button>
      {open ? (
        <Dialog
          title="Reset the paper account?"
          tone="danger"
          onClose={() => setOpen(false)}
          actions={
            <>
              <button type="button" className="button button-secondary" onClick={() => setOpen(false)}>
                Cancel
              </button>
              <button type="button" className="button button-danger" onClick={() => void reset()} data-testid="paper-reset-confirm">
                Reset
              </button>
            </>
          }
        >
          <p>Every paper position and working paper order of {account.name} is dropped, and the balance starts over. Live orders are not touched.</p>
          <label className="field">
            <span className="field-label">Starting balance</span>
            <input className="input mono" inputMode="decimal" value={balance} onChange={(e) => setBalance(e.target.value)} />
          </label>
          {error ? <Banner tone="danger">{error.message}</Banner> : null}
        </Dialog>
      ) : null}
    </>
  );
}
