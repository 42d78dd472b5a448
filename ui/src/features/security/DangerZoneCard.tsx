import { useState } from "react";
import type { FormEvent } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { PurgeReport } from "../../bindings/PurgeReport";
import { Banner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { TextField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { changeFailure } from "../../lib/errorHints";

const CONFIRM_WORD = "PURGE";

export function DangerZoneCard() {
  const [open, setOpen] = useState(false);
  return (
    <section className="card card-danger" aria-labelledby="sec-danger">
      <h2 className="card-title" id="sec-danger">
        Danger zone
      </h2>
      <div className="danger-row">
        <div>
          <p className="danger-title">Purge all stored credentials</p>
          <p className="muted">
            For emergencies, such as a lost or compromised computer: deletes every stored API key and secret at once and puts
            every account in paper mode. Your accounts and their settings stay.
          </p>
        </div>
        <button type="button" className="button button-danger" onClick={() => setOpen(true)}>
          <Icon name="trash" size={16} />
          Purge credentials…
        </button>
      </div>
      {open ? <PurgeDialog onClose={() => setOpen(false)} /> : null}
    </section>
  );
}

function PurgeDialog({ onClose }: { onClose: () => void }) {
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [report, setReport] = useState<PurgeReport | null>(null);
  const confirmed = typed === CONFIRM_WORD;

  const purge = async (e: FormEvent) => {
    e.preventDefault();
    if (!confirmed || busy) return;
    setBusy(true);
    setError(null);
    try {
      setReport(await api.credentialsPurge());
    } catch (err) {
      setError(changeFailure(err as BrokerdeskError));
    } finally {
      setBusy(false);
    }
  };

  if (report) {
    return (
      <Dialog
        title="Credentials purged"
        onClose={onClose}
        actions={
          <button type="button" className="button button-primary" onClick={onClose}>
            Close
          </button>
        }
      >
        <Banner tone="success" title={`${report.credentialsDeleted} ${report.credentialsDeleted === 1 ? "credential" : "credentials"} deleted`}>
          <span data-testid="purge-report">
            All {report.accounts} {report.accounts === 1 ? "account is" : "accounts are"} now in paper mode, with their settings kept.
          </span>
        </Banner>
        <p>
          If the keys may have been exposed, revoke them at each broker too. To trade live again, enter new credentials in
          each account.
        </p>
      </Dialog>
    );
  }

  return (
    <Dialog
      tone="danger"
      title="Purge all stored credentials?"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="purge-form" className="button button-danger" disabled={!confirmed || busy}>
            {busy ? "Purging…" : "Purge credentials"}
          </button>
        </>
      }
    >
      <ul className="consequences">
        <li>Every stored API key, secret and token is deleted from this computer.</li>
        <li>Every account is switched to paper mode, so nothing trades live.</li>
        <li>Accounts and their configuration (rules, risk limits, instruments, notifications) are kept.</li>
        <li>Nothing changes at the brokers: revoke the keys there if they may be exposed.</li>
      </ul>
      <p>This cannot be undone.</p>
      {error ? <Banner tone="danger">{error}</Banner> : null}
      <form id="purge-form" onSubmit={purge} noValidate>
        <TextField
          id="purge-confirm"
          label={
            <>
              Type <strong className="mono">{CONFIRM_WORD}</strong> to confirm
            </>
          }
          value={typed}
          onChange={setTyped}
          autoComplete="off"
          mono
          autoFocus
        />
      </form>
    </Dialog>
  );
}
