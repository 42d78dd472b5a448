import { useId, useState } from "react";
import type { FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import { StatusPill } from "../../components/Badges";
import { Banner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { keys } from "../../data/keys";
import { ACTION_STATUS, STATUS_MEANINGS, historyNewestFirst, statusActions } from "../../lib/accountStatus";
import type { StatusAction } from "../../lib/accountStatus";
import { changeFailure } from "../../lib/errorHints";
import { STATUS_LABELS, asSentence, formatDateTime } from "../../lib/labels";
import { useToast } from "../../state/ToastProvider";
import { useTwoFactor } from "../security/StepUpProvider";
import { TradingModeNote } from "./form/StatusSections";

const ACTION_BUTTONS: Record<StatusAction, { label: string; className: string }> = {
  suspend: { label: "Suspend…", className: "button button-secondary" },
  reactivate: { label: "Reactivate…", className: "button button-primary" },
  terminate: { label: "Terminate…", className: "button button-secondary button-danger-outline" },
};

/** How many history entries show before "Show all". */
const HISTORY_SHOWN = 6;

/**
 * An existing account's status: what it means, why it is what it is, the changes a person may
 * make (suspend, reactivate, terminate; core's status machine decides) and the history.
 */
export function AccountStatusPanel({ account }: { account: Account }) {
  const [action, setAction] = useState<StatusAction | null>(null);
  const [allHistory, setAllHistory] = useState(false);
  const history = historyNewestFirst(account.statusHistory);
  const shown = allHistory ? history : history.slice(0, HISTORY_SHOWN);
  const latest = history[0];
  const actions = statusActions(account.status);

  return (
    <section className="card status-panel" aria-labelledby="status-panel-title" data-testid="status-panel" data-status={account.status}>
      <header className="form-section-header">
        <h2 className="form-section-title" id="status-panel-title">
          Status
        </h2>
        <p className="form-section-description">Core checks every order against the status, paper and live. The rules change it too: a breach, a new trading day.</p>
      </header>
      <div className="status-current">
        <StatusPill status={account.status} />
        <div className="status-current-text">
          <p className="status-meaning" data-testid="status-meaning">
            {STATUS_MEANINGS[account.status]}
          </p>
          {latest && latest.status === account.status ? (
            <p className="muted status-since">
              Since {formatDateTime(latest.changedAt)}
              {latest.reason ? <>: {latest.reason}</> : null}
            </p>
          ) : null}
        </div>
      </div>
      {actions.length > 0 ? (
        <div className="status-actions">
          {actions.map((a) => (
            <button key={a} type="button" className={ACTION_BUTTONS[a].className} onClick={() => setAction(a)} data-testid={`status-${a}`}>
              {ACTION_BUTTONS[a].label}
            </button>
          ))}
        </div>
      ) : null}
      <TradingModeNote account={account} />
      {history.length > 0 ? (
        <div className="history">
          <h3 className="history-title">Status history</h3>
          <ol className="timeline" aria-label="Status history">
            {shown.map((h, i) => (
              <li key={`${h.changedAt}-${i}`} className="timeline-item">
                <span className="timeline-dot" aria-hidden="true" />
                <div className="timeline-body">
                  <div className="timeline-head">
                    <StatusPill status={h.status} />
                    <time dateTime={h.changedAt} className="muted">
                      {formatDateTime(h.changedAt)}
                    </time>
                  </div>
                  {h.reason ? <p className="timeline-reason">{h.reason}</p> : null}
                </div>
              </li>
            ))}
          </ol>
          {history.length > HISTORY_SHOWN ? (
            <button type="button" className="link-button" onClick={() => setAllHistory(!allHistory)}>
              {allHistory ? "Show fewer" : `Show all ${history.length} changes`}
            </button>
          ) : null}
        </div>
      ) : null}
      {action ? <StatusDialog account={account} action={action} onClose={() => setAction(null)} /> : null}
    </section>
  );
}

const TITLES: Record<StatusAction, (name: string) => string> = {
  suspend: (name) => `Suspend “${name}”?`,
  reactivate: (name) => `Reactivate “${name}”?`,
  terminate: (name) => `Terminate “${name}”?`,
};

const CONFIRM: Record<StatusAction, { idle: string; busy: string; done: string }> = {
  suspend: { idle: "Suspend account", busy: "Suspending…", done: "is suspended: no new positions" },
  reactivate: { idle: "Reactivate", busy: "Reactivating…", done: "is active again" },
  terminate: { idle: "Terminate account", busy: "Terminating…", done: "is terminated" },
};

/** Confirms one status change, with an optional reason; terminating asks for the account's name. */
export function StatusDialog({ account, action, onClose }: { account: Account; action: StatusAction; onClose: () => void }) {
  const qc = useQueryClient();
  const notify = useToast();
  const twofaOn = useTwoFactor().status?.enabled === true;
  const formId = useId();
  const [reason, setReason] = useState("");
  const [typed, setTyped] = useState("");
  const [purge, setPurge] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<BrokerdeskError | null>(null);
  const terminating = action === "terminate";
  const confirmed = !terminating || typed === account.name;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!confirmed || busy) return;
    setBusy(true);
    setError(null);
    try {
      let updated = await api.accountSetStatus(account.id, ACTION_STATUS[action], reason.trim() === "" ? null : reason.trim());
      if (terminating && purge) updated = await api.accountForgetCredentials(account.id);
      qc.setQueryData(keys.account(account.id), updated);
      void qc.invalidateQueries({ queryKey: keys.accounts });
      void qc.invalidateQueries({ queryKey: keys.riskOf(account.id) });
      void qc.invalidateQueries({ queryKey: keys.risk, exact: true });
      notify(`${account.name} ${CONFIRM[action].done}.`, action === "terminate" ? "danger" : "success");
      onClose();
    } catch (err) {
      setError(err as BrokerdeskError);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={TITLES[action](account.name)}
      tone={terminating ? "danger" : "default"}
      onClose={busy ? () => {} : onClose}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy} data-autofocus={terminating ? undefined : true}>
            Cancel
          </button>
          <button
            type="submit"
            form={formId}
            className={`button ${terminating ? "button-danger" : "button-primary"}`}
            disabled={!confirmed || busy}
            data-testid="status-confirm"
          >
            {busy ? CONFIRM[action].busy : CONFIRM[action].idle}
          </button>
        </>
      }
    >
      <form id={formId} className="status-dialog" onSubmit={(e) => void submit(e)} noValidate>
        {action === "suspend" ? (
          <p>
            A suspended account opens no new positions: orders that would open or add to one are refused, paper and live. Orders that reduce or close a
            position still go through. Reactivating it later {twofaOn ? "needs a two-factor code" : "needs a two-factor code once two-factor authentication is on"}.
          </p>
        ) : null}
        {action === "reactivate" ? (
          <>
            <p>It may open new positions again, within its rules and limits.</p>
            {account.status === "in_drawdown" ? (
              <p>
                It is <strong>in drawdown</strong>: today&apos;s loss limit was reached, and it would become active again by itself at the next reset.
                Reactivating now lifts close-only early; the firm&apos;s limit still counts today.
              </p>
            ) : null}
            <p className="muted">
              {twofaOn
                ? "You will be asked for a two-factor code."
                : "Two-factor authentication is off, so no code is asked. Turn it on (Security) so that nobody at this computer can reactivate an account without one."}
            </p>
          </>
        ) : null}
        {terminating ? (
          <>
            <p>
              <strong>Terminating is final.</strong> Brokerdesk will send no order for this account again — not even one that closes a position — and it
              cannot be reactivated. To trade again, add a new account.
            </p>
            <p>Nothing changes at the broker: close its positions and cancel its orders first if you want them closed.</p>
          </>
        ) : null}
        <div className="field">
          <label className="field-label" htmlFor={`${formId}-reason`}>
            Reason (optional)
          </label>
          <input
            id={`${formId}-reason`}
            className="input"
            aria-describedby={`${formId}-reason-help`}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            maxLength={500}
            placeholder={action === "suspend" ? "e.g. News week" : action === "terminate" ? "e.g. Challenge failed" : "Optional"}
            data-testid="status-reason"
          />
          <p className="field-help" id={`${formId}-reason-help`}>
            Recorded in the status history and the activity log.
          </p>
        </div>
        {terminating ? (
          <label className="field">
            <span className="field-label">
              Type the account name <strong>{account.name}</strong> to confirm
            </span>
            <input
              className="input"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              data-autofocus
              data-testid="terminate-name"
            />
          </label>
        ) : null}
        {terminating && account.credentials.length > 0 ? (
          <label className="checkbox">
            <input type="checkbox" checked={purge} onChange={(e) => setPurge(e.target.checked)} data-testid="terminate-purge" />
            <span>
              Also delete its stored credentials ({account.credentials.map((c) => c.label).join(", ")}): a terminated account never trades again, so they have
              no use left. They cannot be recovered.
            </span>
          </label>
        ) : null}
        {error ? (
          <Banner tone={error.code === Code.StepUpRequired ? "info" : "danger"} title={error.code === Code.StepUpRequired ? undefined : `Still ${STATUS_LABELS[account.status].toLowerCase()}`}>
            {error.code === Code.StepUpRequired ? changeFailure(error) : asSentence(error.message)}
          </Banner>
        ) : null}
      </form>
    </Dialog>
  );
}
