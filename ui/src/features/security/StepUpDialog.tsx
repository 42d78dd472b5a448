import { useEffect, useState } from "react";
import type { FormEvent } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { TwoFactorStatus } from "../../bindings/TwoFactorStatus";
import { Banner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { Icon } from "../../components/Icon";
import { CodeField, LockoutNotice, codeProblem, useLockedOut } from "../../components/TwoFactorCode";
import { asSentence } from "../../lib/labels";

/**
 * "Confirm with two-factor authentication": asks for a code from the authenticator app (or a
 * backup code) and verifies it, which opens the 15-minute step-up window.
 */
export function StepUpDialog({ onVerified, onCancel }: { onVerified: (status: TwoFactorStatus) => void; onCancel: () => void }) {
  const [backup, setBackup] = useState(false);
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [general, setGeneral] = useState<string | null>(null);
  const [lockedUntil, setLockedUntil] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const locked = useLockedOut(lockedUntil);

  // A lockout may already be running (from an earlier attempt, or another window or the CLI).
  useEffect(() => {
    let live = true;
    api
      .twofaStatus()
      .then((s) => live && setLockedUntil(s.lockedUntil))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || locked) return;
    const problem = codeProblem(code, backup);
    setError(problem ?? undefined);
    setGeneral(null);
    if (problem) return;
    setBusy(true);
    try {
      onVerified(await api.twofaVerify(code));
      return;
    } catch (err) {
      const failure = err as BrokerdeskError;
      setCode("");
      if (failure.code === Code.TwofaLockedOut) {
        setError(undefined);
        const status = await api.twofaStatus().catch(() => null);
        setLockedUntil(status?.lockedUntil ?? null);
        if (!status?.lockedUntil) setGeneral(failure.message);
      } else if (failure.code === Code.WrongCode || failure.code === Code.CodeReplayed) {
        setError(asSentence(failure.message));
      } else {
        setGeneral(failure.message);
      }
    }
    setBusy(false);
    document.getElementById("step-up-code")?.focus();
  };

  const toggle = () => {
    setBackup(!backup);
    setCode("");
    setError(undefined);
  };

  return (
    <Dialog
      title="Confirm with two-factor authentication"
      onClose={onCancel}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" form="step-up-form" className="button button-primary" disabled={busy || locked}>
            {busy ? "Checking…" : "Confirm"}
          </button>
        </>
      }
    >
      <div className="step-up-lead">
        <span className="step-up-icon" aria-hidden="true">
          <Icon name="security" size={20} />
        </span>
        <p>
          {backup
            ? "Enter one of the backup codes you saved when you turned on two-factor authentication."
            : "This change needs a fresh code from your authenticator app. After that, most sensitive changes in this app need no code for 15 minutes; turning two-factor off and new backup codes always ask again."}
        </p>
      </div>
      {lockedUntil ? <LockoutNotice key={lockedUntil} lockedUntil={lockedUntil} /> : null}
      {general ? <Banner tone="danger">{general}</Banner> : null}
      <form id="step-up-form" className="stack" onSubmit={submit} noValidate>
        <CodeField id="step-up-code" key={backup ? "backup" : "totp"} value={code} onChange={setCode} backup={backup} error={error} disabled={locked} />
        <button type="button" className="link-button step-up-toggle" onClick={toggle}>
          {backup ? "Use the code from your app instead" : "Use a backup code"}
        </button>
      </form>
    </Dialog>
  );
}
