import { useState } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import { ModePill } from "../../components/Badges";
import { Banner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { BROKER_SHORT, ENVIRONMENT_LABELS, MODE_LABEL_TEXT, modeLabelOf } from "../../lib/labels";
import { useToast } from "../../state/ToastProvider";

/**
 * The paper/live switch of an account. Going live asks the core, which refuses without 2FA, a
 * fresh code (asked for here when needed), an active account and credentials the broker
 * accepted in the last minutes (it checks them itself when older). For real money the trader
 * types the account's name. Going back to paper is immediate, and offers to cancel the
 * account's open live orders.
 */
export function ModeSwitch({ account, openLiveOrders }: { account: Account; openLiveOrders: number }) {
  const [dialog, setDialog] = useState<"live" | "paper" | null>(null);
  if (account.broker === "paper") return null;
  return (
    <>
      {account.mode === "paper" ? (
        <button type="button" className="button button-secondary" onClick={() => setDialog("live")} data-testid="go-live">
          Switch to live…
        </button>
      ) : (
        <button type="button" className="button button-secondary" onClick={() => setDialog("paper")} data-testid="go-paper">
          Switch to paper
        </button>
      )}
      {dialog === "live" ? <GoLiveDialog account={account} onClose={() => setDialog(null)} /> : null}
      {dialog === "paper" ? <GoPaperDialog account={account} openLiveOrders={openLiveOrders} onClose={() => setDialog(null)} /> : null}
    </>
  );
}

function GoLiveDialog({ account, onClose }: { account: Account; onClose: () => void }) {
  const notify = useToast();
  const realMoney = account.environment === "live";
  const label = modeLabelOf("live", account.environment);
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<BrokerdeskError | null>(null);
  const confirmed = !realMoney || typed === account.name;

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.accountSetMode(account.id, "live");
      notify(`${account.name} is now ${MODE_LABEL_TEXT[label]}`, realMoney ? "danger" : "success");
      onClose();
    } catch (e) {
      setError(e as BrokerdeskError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={realMoney ? "Trade with real money?" : "Send orders to the broker's practice environment?"}
      tone={realMoney ? "danger" : "default"}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className={`button ${realMoney ? "button-danger" : "button-primary"}`} disabled={!confirmed || busy} onClick={() => void submit()} data-testid="go-live-confirm">
            {busy ? "Checking with the broker…" : realMoney ? "Trade with real money" : "Switch to broker practice"}
          </button>
        </>
      }
    >
      <dl className="facts">
        <dt>Account</dt>
        <dd>{account.name}</dd>
        <dt>Broker</dt>
        <dd>{BROKER_SHORT[account.broker]}</dd>
        <dt>Environment</dt>
        <dd>{ENVIRONMENT_LABELS[account.environment]}</dd>
        <dt>Orders will be</dt>
        <dd>
          <ModePill mode="live" environment={account.environment} />
        </dd>
      </dl>
      <p>
        {realMoney
          ? "Every order from now on goes to the broker's live environment and trades real money."
          : "Orders go to the broker's practice environment (the broker's own simulated money), not to Brokerdesk's paper engine."}{" "}
        Brokerdesk first checks that two-factor authentication is on, asks for a fresh code, and has the broker accept the credentials if they were not checked in the last
        five minutes.
      </p>
      {realMoney ? (
        <label className="field">
          <span className="field-label">
            Type the account name <strong>{account.name}</strong> to confirm
          </span>
          <input className="input" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={false} data-testid="go-live-name" />
        </label>
      ) : null}
      {error ? (
        <Banner tone="danger" title="Still in paper mode">
          {error.message}
          {error.code === Code.LiveNeedsTwofa ? (
            <>
              {" "}
              <a className="link" href="#/security" onClick={onClose}>
                Turn on two-factor authentication
              </a>
            </>
          ) : null}
        </Banner>
      ) : null}
    </Dialog>
  );
}

function GoPaperDialog({ account, openLiveOrders, onClose }: { account: Account; openLiveOrders: number; onClose: () => void }) {
  const notify = useToast();
  const [cancelOrders, setCancelOrders] = useState(openLiveOrders > 0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<BrokerdeskError | null>(null);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.accountSetMode(account.id, "paper");
      if (cancelOrders && openLiveOrders > 0) {
        const cancelled = await api.ordersCancelLive(account.id);
        notify(`${account.name} is in paper mode; ${cancelled.length} live order${cancelled.length === 1 ? "" : "s"} cancelled`, "success");
      } else notify(`${account.name} is in paper mode`, "success");
      onClose();
    } catch (e) {
      setError(e as BrokerdeskError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Switch to paper?"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="button button-primary" onClick={() => void submit()} disabled={busy} data-testid="go-paper-confirm">
            Switch to paper
          </button>
        </>
      }
    >
      <p>New orders of {account.name} will be filled by Brokerdesk&apos;s paper engine against the account&apos;s prices; nothing more is sent to the broker.</p>
      {openLiveOrders > 0 ? (
        <label className="checkbox">
          <input type="checkbox" checked={cancelOrders} onChange={(e) => setCancelOrders(e.target.checked)} />
          Also cancel its {openLiveOrders} open live order{openLiveOrders === 1 ? "" : "s"} at the broker (otherwise they keep working there)
        </label>
      ) : (
        <p className="muted">It has no open live orders.</p>
      )}
      {error ? <Banner tone="danger">{error.message}</Banner> : null}
    </Dialog>
  );
}
