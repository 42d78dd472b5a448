import { useState } from "react";
import type { FormEvent } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import { Banner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { PasswordField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { PageHeader } from "../../components/PageHeader";
import { asSentence } from "../../lib/labels";
import { StrengthMeter } from "../../components/StrengthMeter";
import { MIN_PASSWORD_LENGTH } from "../../lib/password";
import { KEYCHAIN_LOCK_HINT } from "../../app/Sidebar";
import { useToast } from "../../state/ToastProvider";
import { useVault, useVaultStatus } from "../vault/VaultProvider";
import { DangerZoneCard } from "./DangerZoneCard";
import { TwoFactorCard } from "./TwoFactorCard";
import { changeFailure } from "../../lib/errorHints";
import "./security.css";

export function SecurityPage() {
  const status = useVaultStatus();
  const { setStatus } = useVault();
  const notify = useToast();
  const [rotating, setRotating] = useState(false);
  const [lockError, setLockError] = useState<string | null>(null);
  const hasPassword = status.protection === "password";

  const lockNow = async () => {
    if (!hasPassword) return;
    try {
      setStatus(await api.vaultLock());
    } catch (e) {
      setLockError((e as BrokerdeskError).message);
    }
  };

  return (
    <div className="page">
      <PageHeader title="Security" description="How the encryption key of this vault is protected, and who may change what." />

      <section className="card" aria-labelledby="sec-protection">
        <h2 className="card-title" id="sec-protection">
          Vault protection
        </h2>
        <div className="protection">
          <span className="protection-icon" aria-hidden="true">
            <Icon name={hasPassword ? "lock" : "key"} size={22} />
          </span>
          <div>
            <p className="protection-title" data-testid="protection-title">
              {hasPassword ? "Master password" : "OS keychain"}
            </p>
            <p className="muted">
              {hasPassword
                ? "The data key is sealed with your master password (Argon2id). Brokerdesk starts locked and can be locked at any time."
                : "The data key is kept in the OS keychain, so Brokerdesk opens without a password while you are signed in. Set a master password to be able to lock it: the key then moves out of the keychain and is kept only sealed with the password."}
            </p>
            <dl className="meta-list">
              <div>
                <dt>OS keychain</dt>
                <dd>{status.keychainAvailable ? "Available" : `Not available${status.keychainError ? ` — ${status.keychainError}` : ""}`}</dd>
              </div>
              <div>
                <dt>Data key generation</dt>
                <dd data-testid="key-generation">{status.keyGeneration}</dd>
              </div>
            </dl>
          </div>
        </div>
      </section>

      <TwoFactorCard />

      <PasswordCard hasPassword={hasPassword} />

      <section className="card" aria-labelledby="sec-rotate">
        <h2 className="card-title" id="sec-rotate">
          Rotate the data key
        </h2>
        <p className="muted">
          Makes a new data-encryption key and re-seals every stored secret with it in one step, then discards the old key.
          Do this if you think the key or a backup of this vault may have been exposed. Your accounts and passwords stay
          as they are.
        </p>
        <div className="card-actions">
          <button type="button" className="button button-secondary" onClick={() => setRotating(true)}>
            <Icon name="refresh" size={16} />
            Rotate data key…
          </button>
        </div>
      </section>

      <section className="card" aria-labelledby="sec-lock">
        <h2 className="card-title" id="sec-lock">
          Lock now
        </h2>
        <p className="muted">{hasPassword ? "Closes the vault until the master password is entered again." : KEYCHAIN_LOCK_HINT}</p>
        {lockError ? <Banner tone="danger">{lockError}</Banner> : null}
        <div className="card-actions">
          <button type="button" className="button button-secondary" onClick={lockNow} disabled={!hasPassword}>
            <Icon name="lock" size={16} />
            Lock Brokerdesk
          </button>
        </div>
      </section>

      <DangerZoneCard />

      {rotating ? (
        <RotateDialog
          onClose={() => setRotating(false)}
          onDone={(generation) => {
            setRotating(false);
            notify(`Data key rotated. Now on generation ${generation}.`);
          }}
        />
      ) : null}
    </div>
  );
}

function RotateDialog({ onClose, onDone }: { onClose: () => void; onDone: (generation: number) => void }) {
  const { setStatus } = useVault();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rotate = async () => {
    setBusy(true);
    setError(null);
    try {
      const status = await api.vaultRotateKey();
      setStatus(status);
      onDone(status.keyGeneration);
    } catch (e) {
      setError((e as BrokerdeskError).message);
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Rotate the data key?"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button type="button" className="button button-primary" onClick={rotate} disabled={busy}>
            {busy ? "Rotating…" : "Rotate key"}
          </button>
        </>
      }
    >
      <p>Every stored secret is re-encrypted with a new key. It takes a moment; keep the app open until it finishes.</p>
      {error ? <Banner tone="danger">{error}</Banner> : null}
    </Dialog>
  );
}

function PasswordCard({ hasPassword }: { hasPassword: boolean }) {
  const { setStatus } = useVault();
  const notify = useToast();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<{ current?: string; next?: string; confirm?: string; general?: string }>({});
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found: typeof errors = {};
    if (hasPassword && current === "") found.current = "Enter your current master password.";
    if (next.length < MIN_PASSWORD_LENGTH) found.next = `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
    if (confirm !== next) found.confirm = "The two passwords don't match.";
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      setStatus(await api.vaultChangePassword(hasPassword ? current : null, next));
      setCurrent("");
      setNext("");
      setConfirm("");
      notify(hasPassword ? "Master password changed." : "Master password set. Brokerdesk will start locked from now on.");
    } catch (err) {
      const error = err as BrokerdeskError;
      if (error.code === Code.WrongPassword) setErrors({ current: asSentence(error.message) });
      else if (error.code === Code.WeakPassword) setErrors({ next: asSentence(error.message) });
      else setErrors({ general: changeFailure(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="sec-password">
      <h2 className="card-title" id="sec-password">
        {hasPassword ? "Change master password" : "Set a master password"}
      </h2>
      <form onSubmit={submit} noValidate className="stack narrow">
        {errors.general ? <Banner tone="danger">{errors.general}</Banner> : null}
        {hasPassword ? (
          <PasswordField id="current-password" label="Current master password" value={current} onChange={setCurrent} autoComplete="current-password" error={errors.current} required />
        ) : null}
        <PasswordField id="next-password" label="New master password" value={next} onChange={setNext} autoComplete="new-password" error={errors.next} required />
        <StrengthMeter password={next} />
        <PasswordField id="next-password-confirm" label="Confirm new master password" value={confirm} onChange={setConfirm} autoComplete="new-password" error={errors.confirm} required />
        <div className="card-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? "Saving…" : hasPassword ? "Change password" : "Set password"}
          </button>
        </div>
      </form>
    </section>
  );
}
