import { useState } from "react";
import type { FormEvent } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import { Banner } from "../../components/Banner";
import { asSentence } from "../../lib/labels";
import { PasswordField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { useVault, useVaultStatus } from "./VaultProvider";
import { AuthLayout } from "./AuthLayout";
import { DataDir } from "./FirstRun";

export function Unlock() {
  const status = useVaultStatus();
  const { setStatus, notice, clearNotice } = useVault();
  const [password, setPassword] = useState("");
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [generalError, setGeneralError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password === "") {
      setFieldError("Enter your master password.");
      return;
    }
    setBusy(true);
    setFieldError(undefined);
    setGeneralError(null);
    try {
      const next = await api.vaultUnlock(password);
      clearNotice();
      setStatus(next);
    } catch (err) {
      const error = err as BrokerdeskError;
      if (error.code === Code.WrongPassword) {
        setFieldError(asSentence(error.message));
        setPassword("");
      } else setGeneralError(asSentence(error.message));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthLayout footer={<DataDir dir={status.dataDir} version={status.version} />}>
      <form onSubmit={submit} noValidate>
        <div className="auth-icon" aria-hidden="true">
          <Icon name="lock" size={22} />
        </div>
        <h1 className="auth-title">Brokerdesk is locked</h1>
        <p className="auth-lead">Enter your master password to open your accounts.</p>
        {notice ? <Banner tone="info">{notice}</Banner> : null}
        {generalError ? <Banner tone="danger" title="Could not unlock">{generalError}</Banner> : null}
        <PasswordField
          id="unlock-password"
          label="Master password"
          value={password}
          onChange={(v) => {
            setPassword(v);
            if (fieldError) setFieldError(undefined);
          }}
          autoComplete="current-password"
          error={fieldError}
          autoFocus
          required
        />
        <div className="form-actions">
          <button type="submit" className="button button-primary button-lg button-block" disabled={busy}>
            {busy ? "Unlocking…" : "Unlock"}
          </button>
        </div>
      </form>
    </AuthLayout>
  );
}
