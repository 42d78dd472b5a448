import { useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { TwoFactorStatus } from "../../bindings/TwoFactorStatus";
import { Banner, Spinner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { Icon } from "../../components/Icon";
import { LockoutNotice } from "../../components/TwoFactorCode";
import { changeFailure } from "../../lib/errorHints";
import { LOW_BACKUP_CODES } from "../../lib/twofa";
import { useTwoFactor } from "./StepUpProvider";
import { useToast } from "../../state/ToastProvider";
import { BackupCodesPanel } from "./BackupCodesPanel";
import { TwoFactorSetupDialog } from "./TwoFactorSetupDialog";

type Open = null | "setup" | "resume" | "regenerate" | "disable";

export function TwoFactorCard() {
  const { status, refresh } = useTwoFactor();
  const [open, setOpen] = useState<Open>(null);
  const close = () => {
    setOpen(null);
    void refresh();
  };
  return (
    <section className="card" aria-labelledby="sec-twofa">
      <div className="card-heading">
        <h2 className="card-title" id="sec-twofa">
          Two-factor authentication
        </h2>
        {status ? (
          <span className={`pill ${status.enabled ? "pill-status-active" : status.pending ? "pill-warning" : "pill-neutral"}`} data-testid="twofa-state">
            {status.enabled ? "On" : status.pending ? "Setup not finished" : "Off"}
          </span>
        ) : null}
      </div>
      <p className="muted">
        Asks for a code from an authenticator app (or a backup code) before sensitive changes: storing or replacing
        credentials, removing an account, changing the master password, going live. One code covers 15 minutes in this
        app (a code given to the command line counts for that one command); turning two-factor off and new backup codes
        each need a code of their own.
        The kill switch and the credential purge never wait for a code.
      </p>
      {status === null ? <Spinner /> : <CardBody status={status} onOpen={setOpen} />}
      {open === "setup" || open === "resume" ? <TwoFactorSetupDialog resume={open === "resume"} onClose={close} /> : null}
      {open === "regenerate" && status ? <RegenerateDialog remaining={status.backupCodesRemaining} onClose={close} /> : null}
      {open === "disable" ? <DisableDialog onClose={close} /> : null}
    </section>
  );
}

function CardBody({ status, onOpen }: { status: TwoFactorStatus; onOpen: (open: Open) => void }) {
  const lockout = status.lockedUntil ? <LockoutNotice key={status.lockedUntil} lockedUntil={status.lockedUntil} /> : null;
  if (!status.enabled) {
    return (
      <>
        {status.pending ? (
          <Banner tone="warning" title="Setup was started but not finished">
            Two-factor authentication stays off until you enter a code from your app.
          </Banner>
        ) : null}
        {lockout}
        <div className="card-actions">
          {status.pending ? (
            <>
              <button type="button" className="button button-primary" onClick={() => onOpen("resume")}>
                Continue setup
              </button>
              <button type="button" className="button button-secondary" onClick={() => onOpen("setup")}>
                Start over
              </button>
            </>
          ) : (
            <button type="button" className="button button-primary" onClick={() => onOpen("setup")}>
              <Icon name="security" size={16} />
              Turn on
            </button>
          )}
        </div>
      </>
    );
  }
  const low = status.backupCodesRemaining <= LOW_BACKUP_CODES;
  return (
    <>
      <dl className="meta-list">
        <div>
          <dt>Backup codes</dt>
          <dd data-testid="backup-codes-remaining" className={low ? "text-warning" : undefined}>
            {status.backupCodesRemaining} of 10 left
          </dd>
        </div>
      </dl>
      {low ? (
        <Banner tone="warning" title={status.backupCodesRemaining === 0 ? "No backup codes left" : `Only ${status.backupCodesRemaining} backup codes left`}>
          Make new ones so you can still get in if you lose your authenticator app.
        </Banner>
      ) : null}
      {lockout}
      <div className="card-actions">
        <button type="button" className="button button-secondary" onClick={() => onOpen("regenerate")}>
          <Icon name="refresh" size={16} />
          Regenerate backup codes…
        </button>
        <button type="button" className="button button-secondary" onClick={() => onOpen("disable")}>
          Turn off…
        </button>
      </div>
    </>
  );
}

function RegenerateDialog({ remaining, onClose }: { remaining: number; onClose: () => void }) {
  const { refresh } = useTwoFactor();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [saved, setSaved] = useState(false);

  const regenerate = async () => {
    setBusy(true);
    setError(null);
    try {
      setCodes((await api.twofaRegenerateBackupCodes()).codes);
    } catch (e) {
      setError(changeFailure(e as BrokerdeskError));
    } finally {
      setBusy(false);
      void refresh();
    }
  };

  if (codes) {
    return (
      <Dialog
        title="New backup codes"
        subtitle="The previous codes no longer work."
        size="wide"
        onClose={() => saved && onClose()}
        actions={
          <button type="button" className="button button-primary" onClick={onClose} disabled={!saved}>
            Done
          </button>
        }
      >
        <BackupCodesPanel codes={codes} saved={saved} onSavedChange={setSaved} />
      </Dialog>
    );
  }
  return (
    <Dialog
      title="Regenerate backup codes?"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button type="button" className="button button-primary" onClick={() => void regenerate()} disabled={busy}>
            {busy ? "Making codes…" : "Regenerate"}
          </button>
        </>
      }
    >
      <p>
        You get 10 new codes, shown once. Your {remaining === 1 ? "remaining code stops" : `${remaining} remaining codes stop`} working
        at once.
      </p>
      {error ? <Banner tone="danger">{error}</Banner> : null}
    </Dialog>
  );
}

function DisableDialog({ onClose }: { onClose: () => void }) {
  const { setStatus, refresh } = useTwoFactor();
  const notify = useToast();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const disable = async () => {
    setBusy(true);
    setError(null);
    try {
      setStatus(await api.twofaDisable());
      notify("Two-factor authentication is off.");
      onClose();
    } catch (e) {
      setError(changeFailure(e as BrokerdeskError));
      setBusy(false);
      void refresh();
    }
  };

  return (
    <Dialog
      tone="danger"
      title="Turn off two-factor authentication?"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button type="button" className="button button-danger" onClick={() => void disable()} disabled={busy}>
            {busy ? "Turning off…" : "Turn off"}
          </button>
        </>
      }
    >
      <p>
        Sensitive changes will no longer ask for a code, and your backup codes are deleted. To turn it on again you set up
        your authenticator app from the start.
      </p>
      {error ? <Banner tone="danger">{error}</Banner> : null}
    </Dialog>
  );
}
