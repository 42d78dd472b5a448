import { useEffect, useState } from "react";
import type { FormEvent } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { TwoFactorSetup } from "../../bindings/TwoFactorSetup";
import { Banner, Spinner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { Icon } from "../../components/Icon";
import { CodeField, LockoutNotice, codeProblem, useLockedOut } from "../../components/TwoFactorCode";
import { asSentence } from "../../lib/labels";
import { groupSecret, svgDataUri } from "../../lib/twofa";
import { useTwoFactor } from "./StepUpProvider";
import { BackupCodesPanel } from "./BackupCodesPanel";

type Step = "scan" | "verify" | "codes";
const STEP_TITLES: Record<Step, string> = {
  scan: "Step 1 of 3 · Add Brokerdesk to your authenticator app",
  verify: "Step 2 of 3 · Enter the code your app shows",
  codes: "Step 3 of 3 · Save your backup codes",
};

/**
 * Turning on two-factor authentication: scan the QR code (or type the secret), confirm with a
 * code, then save the backup codes, which are shown once. `resume` continues a setup started
 * earlier at the code step (its secret cannot be shown again; a new one can be made).
 */
export function TwoFactorSetupDialog({ resume, onClose }: { resume: boolean; onClose: () => void }) {
  const { refresh } = useTwoFactor();
  const [step, setStep] = useState<Step>(resume ? "verify" : "scan");
  const [setup, setSetup] = useState<TwoFactorSetup | null>(null);
  const [setupError, setSetupError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(resume ? 0 : 1);
  const [code, setCode] = useState("");
  const [codeError, setCodeError] = useState<string | undefined>();
  const [lockedUntil, setLockedUntil] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [saved, setSaved] = useState(false);
  const locked = useLockedOut(lockedUntil);

  // Each attempt (> 0) makes a new secret; an earlier one stops working.
  useEffect(() => {
    if (attempt === 0) return;
    let live = true;
    api
      .twofaSetup()
      .then((s) => live && setSetup(s))
      .catch((e: BrokerdeskError) => live && setSetupError(e.message));
    return () => {
      live = false;
    };
  }, [attempt]);

  const enable = async (e: FormEvent) => {
    e.preventDefault();
    const problem = codeProblem(code, false);
    setCodeError(problem ?? undefined);
    if (problem || busy || locked) return;
    setBusy(true);
    try {
      setCodes((await api.twofaEnable(code)).codes);
      setStep("codes");
      void refresh();
    } catch (err) {
      const error = err as BrokerdeskError;
      setCode("");
      if (error.code === Code.TwofaLockedOut) {
        setCodeError(undefined);
        setLockedUntil((await api.twofaStatus().catch(() => null))?.lockedUntil ?? null);
      } else {
        setCodeError(asSentence(error.message));
      }
    } finally {
      setBusy(false);
    }
  };

  const newSecret = () => {
    setSetup(null);
    setSetupError(null);
    setStep("scan");
    setAttempt((n) => n + 1);
  };

  // The codes exist only in this dialog: it closes only once they are saved.
  const close = () => {
    if (step !== "codes") onClose();
    else if (saved) onClose();
  };

  const actions =
    step === "scan" ? (
      <>
        <button type="button" className="button button-secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="button button-primary" onClick={() => setStep("verify")} disabled={!setup}>
          Next
        </button>
      </>
    ) : step === "verify" ? (
      <>
        <button type="button" className="button button-secondary" onClick={resume && !setup ? onClose : () => setStep("scan")}>
          {resume && !setup ? "Cancel" : "Back"}
        </button>
        <button type="submit" form="twofa-enable-form" className="button button-primary" disabled={busy || locked}>
          {busy ? "Checking…" : "Turn on"}
        </button>
      </>
    ) : (
      <button type="button" className="button button-primary" onClick={onClose} disabled={!saved}>
        Done
      </button>
    );

  return (
    <Dialog title="Turn on two-factor authentication" subtitle={STEP_TITLES[step]} onClose={close} actions={actions} size="wide">
      {step === "scan" ? (
        setupError ? (
          <Banner tone="danger" title="Setup could not start">
            {setupError}
          </Banner>
        ) : setup ? (
          <ScanStep setup={setup} />
        ) : (
          <Spinner label="Making a new secret…" />
        )
      ) : null}
      {step === "verify" ? (
        <form id="twofa-enable-form" className="stack" onSubmit={enable} noValidate>
          <p>
            Open your authenticator app and enter the 6-digit code it shows for <strong>Brokerdesk</strong>. Codes change every
            30 seconds.
          </p>
          {lockedUntil ? <LockoutNotice key={lockedUntil} lockedUntil={lockedUntil} /> : null}
          <div className="field-narrow">
            <CodeField id="twofa-enable-code" value={code} onChange={setCode} error={codeError} disabled={locked} />
          </div>
          {resume && !setup ? (
            <p className="muted">
              Setup was started earlier. Lost the entry in your app?{" "}
              <button type="button" className="link-button" onClick={newSecret}>
                Show a new QR code
              </button>{" "}
              (the earlier one stops working).
            </p>
          ) : null}
        </form>
      ) : null}
      {step === "codes" && codes ? <BackupCodesPanel codes={codes} saved={saved} onSavedChange={setSaved} /> : null}
    </Dialog>
  );
}

function ScanStep({ setup }: { setup: TwoFactorSetup }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copySecret = async () => {
    try {
      await api.clipboardCopy({ kind: "twofaSecret" });
      setCopied("Copied. The clipboard is cleared in 30 s.");
    } catch (e) {
      setCopied(`Not copied: ${(e as BrokerdeskError).message}`);
    }
  };
  return (
    <div className="scan-step">
      <img className="qr-image" src={svgDataUri(setup.qrSvg)} alt="QR code to add Brokerdesk to an authenticator app" width={184} height={184} />
      <div className="stack">
        <p>
          Scan this QR code with an authenticator app: Google Authenticator, Authy, 1Password, or any app that supports
          time-based codes (TOTP, RFC 6238).
        </p>
        <div>
          <p className="field-label" id="twofa-secret-label">
            Can't scan? Enter this key instead
          </p>
          <div className="secret-row">
            <code className="secret-key" aria-labelledby="twofa-secret-label" data-testid="twofa-secret">
              {groupSecret(setup.secret)}
            </code>
            <button type="button" className="button button-secondary button-sm" onClick={() => void copySecret()}>
              <Icon name="copy" size={16} />
              Copy key
            </button>
          </div>
          {copied ? (
            <p className="field-help" role="status">
              {copied}
            </p>
          ) : null}
        </div>
      </div>
    </div>
  );
}
