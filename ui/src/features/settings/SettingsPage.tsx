import { useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import { Icon } from "../../components/Icon";
import { PageHeader } from "../../components/PageHeader";
import { asSentence } from "../../lib/labels";
import type { ThemePreference } from "../../lib/theme";
import { useTheme } from "../../state/ThemeProvider";
import { useSettings } from "../../data/resources";
import { useToast } from "../../state/ToastProvider";
import { useVaultStatus } from "../vault/VaultProvider";
import { AutoLockCard } from "./AutoLockCard";
import { BackupsCard } from "./BackupsCard";
import { DataCard } from "./DataCard";
import { DesktopCard } from "./DesktopCard";
import { HealthCard } from "./HealthCard";
import { PricesCard } from "./PricesCard";

const THEME_OPTIONS: { value: ThemePreference; label: string }[] = [
  { value: "system", label: "System" },
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
];

export function SettingsPage() {
  const status = useVaultStatus();
  const { preference, setPreference } = useTheme();
  const settings = useSettings();
  return (
    <div className="page">
      <PageHeader title="Settings" />
      <section className="card" aria-labelledby="set-appearance">
        <h2 className="card-title" id="set-appearance">
          Appearance
        </h2>
        <fieldset className="fieldset">
          <legend className="field-label">Theme</legend>
          <div className="segmented">
            {THEME_OPTIONS.map((o) => (
              <label key={o.value} className={`segment${preference === o.value ? " is-selected" : ""}`}>
                <input type="radio" name="theme" value={o.value} checked={preference === o.value} onChange={() => setPreference(o.value)} />
                {o.label}
              </label>
            ))}
          </div>
          <p className="field-help">System follows your operating system&apos;s light or dark setting.</p>
        </fieldset>
      </section>
      <AutoLockCard state={settings.state} save={settings.save} />
      <PricesCard state={settings.state} save={settings.save} />
      <NotificationsCard />
      <DesktopCard />
      <DataCard />
      <BackupsCard />
      <HealthCard />
      <section className="card" aria-labelledby="set-about">
        <h2 className="card-title" id="set-about">
          About
        </h2>
        <dl className="meta-list">
          <div>
            <dt>Data folder</dt>
            <dd className="mono" data-testid="data-dir">
              {status.dataDir}
            </dd>
          </div>
          <div>
            <dt>Version</dt>
            <dd data-testid="version">{status.version}</dd>
          </div>
        </dl>
      </section>
    </div>
  );
}

function NotificationsCard() {
  const notify = useToast();
  const [busy, setBusy] = useState(false);
  const sendTest = async () => {
    setBusy(true);
    try {
      await api.notifyTest();
      notify("Test notification sent");
    } catch (e) {
      // The core says what failed ("could not send the notification: …").
      notify(asSentence((e as BrokerdeskError).message), "danger");
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="set-notifications">
      <h2 className="card-title" id="set-notifications">
        Notifications
      </h2>
      <p className="muted">
        Brokerdesk sends native desktop notifications for connection and order events, such as a lost broker connection
        or a filled order. Choose which events per account in its settings. Send a test to check that your operating
        system shows them; if nothing appears, allow notifications for Brokerdesk in the system settings.
      </p>
      <div className="card-actions">
        <button type="button" className="button button-secondary" onClick={() => void sendTest()} disabled={busy}>
          <Icon name="bell" size={16} />
          {busy ? "Sending…" : "Send a test notification"}
        </button>
      </div>
    </section>
  );
}
