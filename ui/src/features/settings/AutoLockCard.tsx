import { useState } from "react";
import type { BrokerdeskError } from "../../api/client";
import type { AppSettings } from "../../bindings/AppSettings";
import { Banner, Spinner } from "../../components/Banner";
import { SelectField } from "../../components/Field";
import { autoLockLabel, autoLockOptions, parseAutoLock } from "../../lib/autoLock";
import type { SettingsState } from "../../data/resources";
import { useToast } from "../../state/ToastProvider";
import { useVaultStatus } from "../vault/VaultProvider";

interface Props {
  state: SettingsState;
  save: (patch: Partial<AppSettings>) => Promise<AppSettings>;
}

/** Settings → Security: lock the vault after a number of idle minutes (password vaults only). */
export function AutoLockCard({ state, save }: Props) {
  const status = useVaultStatus();
  const notify = useToast();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const canLock = status.protection === "password";
  const minutes = state.phase === "ready" ? state.settings.autoLockMinutes : undefined;

  const change = async (value: string) => {
    setBusy(true);
    setError(null);
    try {
      const saved = await save({ autoLockMinutes: parseAutoLock(value) });
      notify(saved.autoLockMinutes === null ? "Auto-lock turned off." : `Brokerdesk now locks after ${autoLockLabel(saved.autoLockMinutes)} without activity.`);
    } catch (e) {
      setError((e as BrokerdeskError).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="set-security">
      <h2 className="card-title" id="set-security">
        Security
      </h2>
      {state.phase === "loading" ? <Spinner /> : null}
      {minutes !== undefined ? (
        <SelectField
          id="auto-lock"
          className="field-narrow"
          label="Auto-lock"
          value={minutes === null ? "off" : String(minutes)}
          options={autoLockOptions(minutes)}
          onChange={(v) => void change(v)}
          disabled={!canLock || busy}
          help={
            canLock
              ? "Locks Brokerdesk after this long without keyboard or mouse activity. Unlocking needs the master password."
              : "Auto-lock needs a master password: this vault's key is kept in the OS keychain, so there would be nothing to unlock it with. Set a master password under Security to use it."
          }
        />
      ) : null}
      {state.phase === "error" ? <Banner tone="danger">{state.error.message}</Banner> : null}
      {error ? <Banner tone="danger">{error}</Banner> : null}
    </section>
  );
}
