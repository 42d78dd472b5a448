import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import type { ConfigVersion } from "../../bindings/ConfigVersion";
import { Banner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { keys } from "../../data/keys";
import { changeFailure } from "../../lib/errorHints";
import { formatDateTime } from "../../lib/labels";
import { useToast } from "../../state/ToastProvider";

/** How many versions the card shows (the CLI lists up to 500). */
const SHOWN = 20;

/**
 * An account's configuration history: each change as a numbered version with who, when and
 * what changed (before → after), newest first; "Roll back" applies an earlier version again as
 * a new edit (the core asks for the step-ups any edit would).
 */
export function ConfigHistoryCard({ account }: { account: Account }) {
  const q = useQuery({ queryKey: keys.configHistory(account.id), queryFn: () => api.configHistory(account.id) });
  const [confirm, setConfirm] = useState<ConfigVersion | null>(null);

  return (
    <section className="card config-history" aria-labelledby="config-history-title">
      <h2 className="card-title" id="config-history-title">
        History
      </h2>
      <p className="muted">
        Every change to this account&apos;s settings is kept as a version. Rolling back applies an earlier version as a new
        change: the account keeps its status, trading mode and stored credentials.
      </p>
      {q.isError ? <Banner tone="danger">{(q.error as BrokerdeskError).message}</Banner> : null}
      {q.data && q.data.length === 0 ? <p className="muted">No versions yet.</p> : null}
      {q.data && q.data.length > 0 ? (
        <ol className="config-versions" aria-label="Configuration versions">
          {q.data.slice(0, SHOWN).map((v, i) => (
            <li key={v.version} data-testid={`config-version-${v.version}`}>
              <div className="config-version-head">
                <span className="config-version-number">Version {v.version}</span>
                <span className="muted">
                  {formatDateTime(v.at)} · {v.actor === "cli" ? "command line" : "app"}
                </span>
                {i === 0 ? (
                  <span className="pill pill-sm">Current</span>
                ) : (
                  <button type="button" className="link-button" onClick={() => setConfirm(v)}>
                    Roll back to this
                  </button>
                )}
              </div>
              <ul className="config-changes">
                {v.changes.map((c) => (
                  <li key={c} className="mono">
                    {c}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      ) : null}
      {confirm ? <RollbackDialog account={account} version={confirm} onClose={() => setConfirm(null)} /> : null}
    </section>
  );
}

function RollbackDialog({ account, version, onClose }: { account: Account; version: ConfigVersion; onClose: () => void }) {
  const qc = useQueryClient();
  const notify = useToast();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const rollback = async () => {
    setBusy(true);
    setFailure(null);
    try {
      const done = await api.configRollback(version.version);
      void qc.invalidateQueries({ queryKey: keys.accounts });
      notify(
        done.changed
          ? `${account.name} is back to version ${version.version}'s settings (now version ${done.now.version}).`
          : `${account.name} already has version ${version.version}'s settings.`,
      );
      onClose();
    } catch (e) {
      setFailure(changeFailure(e as BrokerdeskError));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Roll back to version ${version.version}?`}
      onClose={onClose}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="button button-primary" onClick={() => void rollback()} disabled={busy}>
            {busy ? "Rolling back…" : "Roll back"}
          </button>
        </>
      }
    >
      <p>
        {account.name}&apos;s settings go back to how they were in version {version.version} ({formatDateTime(version.at)}).
        Its status, trading mode and stored credentials stay as they are. Loosening a rule or moving the endpoints asks for
        a two-factor code when two-factor is on.
      </p>
      {failure ? <Banner tone="danger">{failure}</Banner> : null}
    </Dialog>
  );
}
