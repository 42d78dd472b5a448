import { useState } from "react";
import type { FormEvent } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import { Banner } from "../../components/Banner";
import { PasswordField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { StrengthMeter } from "../../components/StrengthMeter";
import { MIN_PASSWORD_LENGTH } from "../../lib/password";
import { useVault, useVaultStatus } from "./VaultProvider";
import { AuthLayout } from "./AuthLayout";

type Choice = "keychain" | "password";

export function FirstRun() {
  const status = useVaultStatus();
  const { setStatus } = useVault();
  const [choice, setChoice] = useState<Choice>(status.keychainAvailable ? "keychain" : "password");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<{ password?: string; confirm?: string; general?: string }>({});
  const [busy, setBusy] = useState(false);
  const keychainOff = !status.keychainAvailable;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (choice === "password") {
      const next: typeof errors = {};
      if (password.length < MIN_PASSWORD_LENGTH) next.password = `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
      if (confirm !== password) next.confirm = "The two passwords don't match.";
      setErrors(next);
      if (next.password || next.confirm) return;
    }
    setBusy(true);
    setErrors({});
    try {
      setStatus(await api.vaultInit(choice === "password" ? password : null));
    } catch (err) {
      const error = err as BrokerdeskError;
      if (error.code === Code.WeakPassword) setErrors({ password: error.message });
      else if (error.code === Code.KeychainUnavailable || error.code === Code.PasswordRequired) {
        setChoice("password");
        setErrors({ general: error.message });
      } else setErrors({ general: error.message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout wide footer={<DataDir dir={status.dataDir} version={status.version} />}>
      <form onSubmit={submit} noValidate>
        <h1 className="auth-title">Welcome to Brokerdesk</h1>
        <p className="auth-lead">
          Your broker credentials are encrypted on this computer with a random 256-bit key. They never leave it except to
          reach your brokers. Choose where that key is kept.
        </p>

        {errors.general ? <Banner tone="danger" title="The vault could not be created">{errors.general}</Banner> : null}

        <fieldset className="choice-group">
          <legend className="sr-only">Key protection</legend>
          <label className={`choice${choice === "keychain" ? " is-selected" : ""}${keychainOff ? " is-disabled" : ""}`}>
            <input
              type="radio"
              name="protection"
              value="keychain"
              checked={choice === "keychain"}
              disabled={keychainOff}
              onChange={() => setChoice("keychain")}
              aria-labelledby="choice-keychain-title"
              aria-describedby="choice-keychain-help"
            />
            <span className="choice-icon" aria-hidden="true">
              <Icon name="key" />
            </span>
            <span className="choice-body">
              <span className="choice-title" id="choice-keychain-title">
                Protect with the OS keychain
              </span>
              <span className="choice-help" id="choice-keychain-help">
                {keychainOff ? (
                  <>
                    {status.keychainError ? (
                      <>
                        Unavailable: <span className="choice-error">{status.keychainError}</span>.
                      </>
                    ) : (
                      "No OS keychain is reachable on this computer."
                    )}{" "}
                    Set a master password instead.
                  </>
                ) : (
                  "The key is stored in your system keychain. Brokerdesk opens without a password while you are signed in to this computer. You can add a master password later."
                )}
              </span>
            </span>
          </label>
          <label className={`choice${choice === "password" ? " is-selected" : ""}`}>
            <input
              type="radio"
              name="protection"
              value="password"
              checked={choice === "password"}
              onChange={() => setChoice("password")}
              aria-labelledby="choice-password-title"
              aria-describedby="choice-password-help"
            />
            <span className="choice-icon" aria-hidden="true">
              <Icon name="lock" />
            </span>
            <span className="choice-body">
              <span className="choice-title" id="choice-password-title">
                Set a master password
              </span>
              <span className="choice-help" id="choice-password-help">
                The key is sealed with your password (Argon2id) and kept nowhere else. Brokerdesk starts locked and asks for it. If you
                forget it, the stored credentials cannot be recovered.
              </span>
            </span>
          </label>
        </fieldset>

        {choice === "password" ? (
          <div className="stack">
            <PasswordField
              id="new-password"
              label="Master password"
              value={password}
              onChange={(v) => {
                setPassword(v);
                setErrors((e) => ({ ...e, password: undefined }));
              }}
              autoComplete="new-password"
              error={errors.password}
              required
            />
            <StrengthMeter password={password} />
            <PasswordField
              id="confirm-password"
              label="Confirm master password"
              value={confirm}
              onChange={(v) => {
                setConfirm(v);
                setErrors((e) => ({ ...e, confirm: undefined }));
              }}
              autoComplete="new-password"
              error={errors.confirm}
              required
            />
          </div>
        ) : null}

        <div className="form-actions">
          <button type="submit" className="button button-primary button-lg" disabled={busy}>
            {busy ? "Creating…" : "Create vault"}
          </button>
        </div>
      </form>
    </AuthLayout>
  );
}

export function DataDir({ dir, version }: { dir: string; version: string }) {
  return (
    <span>
      Data folder <span className="mono">{dir}</span> · version {version}
    </span>
  );
}
