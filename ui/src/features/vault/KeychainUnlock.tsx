import { useState } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { ApiError } from "../../bindings/ApiError";
import { Banner } from "../../components/Banner";
import { Icon } from "../../components/Icon";
import { asSentence } from "../../lib/labels";
import { useVault, useVaultStatus } from "./VaultProvider";
import { AuthLayout } from "./AuthLayout";
import { DataDir } from "./FirstRun";
import type { Code as CodeName } from "../../bindings/Code";

/** What the user can do about each reason the keychain did not give up the vault's key. */
function adviceFor(code: CodeName | undefined): string[] {
  switch (code) {
    case Code.KeychainKeyMissing:
      return [
        "If this data folder was copied or restored from another computer or user account, its key is still in that account's keychain. Open Brokerdesk there, or sign in here as that user.",
        "If you keep more than one Brokerdesk data folder, check that this is the one you meant to open.",
        "If the keychain entry was deleted, the stored credentials cannot be decrypted any more. Move the data folder aside and start Brokerdesk again to create a new vault.",
      ];
    case Code.KeychainKeyMismatch:
      return [
        "The keychain holds the key of another Brokerdesk vault, or of an older key of this one (for example after restoring an older copy of the data folder).",
        "Open the data folder that belongs to this keychain entry, or restore the copy of this folder that was in use when the key was last rotated.",
      ];
    case Code.KeychainUnavailable:
    case Code.KeychainFailed:
      return [
        "Make sure you are signed in to your desktop session and your keychain is unlocked. On Linux a Secret Service (GNOME Keyring or KWallet) must be running.",
        "Then choose Try again. Nothing has been changed or lost.",
      ];
    default:
      return ["Choose Try again. If this keeps happening, check that the data folder below is readable."];
  }
}

/**
 * Shown when a keychain-protected vault is initialized but still locked: it did not unlock
 * itself at start (`autoUnlockError` says why). There is no password to ask for, so the screen
 * explains the problem, says where the data lives, and offers to try the keychain again.
 */
export function KeychainUnlock() {
  const status = useVaultStatus();
  const { setStatus } = useVault();
  const [busy, setBusy] = useState(false);
  const [retryError, setRetryError] = useState<ApiError | null>(null);
  const [triedAt, setTriedAt] = useState<string | null>(null);
  const error = retryError ?? status.autoUnlockError;
  const steps = adviceFor(error?.code);

  const retry = async () => {
    setBusy(true);
    try {
      setStatus(await api.vaultRetryKeychain());
    } catch (e) {
      const err = e as BrokerdeskError;
      setRetryError({ code: err.code, message: err.message, fields: err.fields });
      setTriedAt(new Date().toLocaleTimeString());
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout wide footer={<DataDir dir={status.dataDir} version={status.version} />}>
      <div className="auth-icon auth-icon-warning" aria-hidden="true">
        <Icon name="key" size={22} />
      </div>
      <h1 className="auth-title">Brokerdesk could not open your vault</h1>
      <p className="auth-lead">
        This vault&apos;s key is kept in the OS keychain instead of behind a master password, and Brokerdesk could not
        get it from there.
      </p>
      <Banner tone="warning">
        <p data-testid="keychain-error" data-code={error?.code}>
          {error ? asSentence(error.message) : "The vault did not unlock itself from the OS keychain."}
        </p>
      </Banner>
      <div className="keychain-steps">
        <h2 className="auth-subtitle">What you can do</h2>
        <ul className="steps">
          {steps.map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ul>
      </div>
      <div className="data-dir-box">
        <p className="field-label" id="data-dir-label">
          Your data folder
        </p>
        <p className="data-dir-path mono" aria-labelledby="data-dir-label" data-testid="data-dir">
          {status.dataDir}
        </p>
        <p className="field-help">
          Your accounts are stored here, encrypted with the key from the keychain. Keep a copy of this folder before
          moving or deleting anything.
        </p>
      </div>
      <p className="retry-status" role="status">
        {triedAt && !busy ? `Tried again at ${triedAt}: the vault is still locked.` : ""}
      </p>
      <div className="form-actions">
        <button type="button" className="button button-primary button-lg" onClick={() => void retry()} disabled={busy}>
          <Icon name="refresh" size={16} />
          {busy ? "Trying…" : "Try again"}
        </button>
      </div>
    </AuthLayout>
  );
}
