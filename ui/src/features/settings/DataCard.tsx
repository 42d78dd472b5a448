import { useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { ExportFormat } from "../../bindings/ExportFormat";
import { Banner } from "../../components/Banner";
import { PasswordField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { asSentence } from "../../lib/labels";
import { ImportDialog } from "./ImportDialog";

const FORMATS: { value: ExportFormat; label: string }[] = [
  { value: "json", label: "JSON" },
  { value: "yaml", label: "YAML" },
];

/** The shortest passphrase the core seals with. */
const MIN_PASSPHRASE = 10;

/**
 * Settings → Data: export the configuration of every account and the settings (the core
 * writes the file to Downloads; credentials only when asked, sealed with a passphrase typed
 * twice, after the step-up), and import such a file (the Import dialog). Backups have a card of
 * their own.
 */
export function DataCard() {
  const [format, setFormat] = useState<ExportFormat>("json");
  const [withCredentials, setWithCredentials] = useState(false);
  const [passphrase, setPassphrase] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);
  const [importing, setImporting] = useState(false);
  const [result, setResult] = useState<{ tone: "success" | "danger"; text: string } | null>(null);

  const passphraseError = !withCredentials
    ? undefined
    : passphrase.length > 0 && passphrase.length < MIN_PASSPHRASE
      ? `Use at least ${MIN_PASSPHRASE} characters.`
      : again.length > 0 && again !== passphrase
        ? "The two passphrases differ."
        : undefined;
  const canExport = !withCredentials || (passphrase.length >= MIN_PASSPHRASE && again === passphrase);

  const exportNow = async () => {
    setBusy(true);
    setResult(null);
    try {
      const path = await api.configExport(format, [], withCredentials ? passphrase : null);
      setResult({
        tone: "success",
        text: withCredentials
          ? `Saved to ${path}. The credentials are in it, sealed with your passphrase: without it they cannot be read, and it cannot be recovered.`
          : `Saved to ${path}. No credentials are included.`,
      });
      setPassphrase("");
      setAgain("");
    } catch (e) {
      setResult({ tone: "danger", text: asSentence((e as BrokerdeskError).message) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="set-data">
      <h2 className="card-title" id="set-data">
        Data
      </h2>
      <p className="muted">
        Export the configuration of every account (broker, environment, endpoints, rules, limits, watchlist,
        notifications) and these settings, to review it or to set up another computer. Credentials are not exported
        unless you include them: each stored one is listed as &ldquo;not exported&rdquo;. The file is saved in your Downloads folder (or, if there is none, in the data folder&apos;s exports folder).
      </p>
      <fieldset className="fieldset">
        <legend className="field-label">Format</legend>
        <div className="segmented">
          {FORMATS.map((f) => (
            <label key={f.value} className={`segment${format === f.value ? " is-selected" : ""}`}>
              <input type="radio" name="export-format" value={f.value} checked={format === f.value} onChange={() => setFormat(f.value)} />
              {f.label}
            </label>
          ))}
        </div>
      </fieldset>
      <label className="checkbox-row">
        <input type="checkbox" checked={withCredentials} onChange={(e) => setWithCredentials(e.target.checked)} /> Include credentials, sealed with a
        passphrase (needs your two-factor code when two-factor is on)
      </label>
      {withCredentials ? (
        <div>
          <PasswordField
            id="export-passphrase"
            label="Passphrase"
            value={passphrase}
            onChange={setPassphrase}
            autoComplete="new-password"
            help="At least 10 characters. The credentials are sealed with it (Argon2id and XChaCha20-Poly1305); it is needed to import them and cannot be recovered."
          />
          <PasswordField id="export-passphrase-again" label="Repeat the passphrase" value={again} onChange={setAgain} autoComplete="new-password" error={passphraseError} />
        </div>
      ) : null}
      <div className="card-actions">
        <button type="button" className="button button-secondary" onClick={() => void exportNow()} disabled={busy || !canExport}>
          <Icon name="download" size={16} />
          {busy ? "Exporting…" : "Export configuration"}
        </button>
        <button type="button" className="button button-secondary" onClick={() => setImporting(true)}>
          Import configuration…
        </button>
      </div>
      {result ? (
        <div role="status" data-testid="export-result">
          <Banner tone={result.tone}>{result.text}</Banner>
        </div>
      ) : null}
      {importing ? <ImportDialog onClose={() => setImporting(false)} /> : null}
      <p className="field-help">
        Import shows what a file would change, account by account and setting by setting, and changes nothing until you
        apply; then it applies all of it or nothing, after keeping a snapshot of what it replaces. Every change to an
        account&apos;s settings and to these settings is kept as a numbered version: an account&apos;s are under History on
        its page, where you can roll back; the app settings&apos; are in the command line (<code>brokerdesk config history settings</code>).
        Keep exported files private: they name your accounts and endpoints.
      </p>
    </section>
  );
}
