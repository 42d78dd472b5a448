import { useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { ExportFormat } from "../../bindings/ExportFormat";
import { Banner } from "../../components/Banner";
import { Icon } from "../../components/Icon";
import { asSentence } from "../../lib/labels";

const FORMATS: { value: ExportFormat; label: string }[] = [
  { value: "json", label: "JSON" },
  { value: "yaml", label: "YAML" },
];

/**
 * Settings → Data: export the configuration of every account and the settings (the core
 * writes the file to Downloads; credentials are never included). Importing is not built yet, and the card says so; backups have a card of their own.
 */
export function DataCard() {
  const [format, setFormat] = useState<ExportFormat>("json");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ tone: "success" | "danger"; text: string } | null>(null);

  const exportNow = async () => {
    setBusy(true);
    setResult(null);
    try {
      const path = await api.configExport(format, []);
      setResult({ tone: "success", text: `Saved to ${path}. No credentials are included.` });
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
        notifications) and these settings, to review it or to set up another computer. Credentials are never exported:
        each stored one is listed as &ldquo;not exported&rdquo;. The file is saved in your Downloads folder (or, if there is none, in the data folder&apos;s exports folder).
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
      <div className="card-actions">
        <button type="button" className="button button-secondary" onClick={() => void exportNow()} disabled={busy}>
          <Icon name="download" size={16} />
          {busy ? "Exporting…" : "Export configuration"}
        </button>
      </div>
      {result ? (
        <div role="status" data-testid="export-result">
          <Banner tone={result.tone}>{result.text}</Banner>
        </div>
      ) : null}
      <p className="field-help">
        Every change to an account&apos;s settings and to these settings is kept as a numbered version: an
        account&apos;s are under History on its page, where you can roll back; the app settings&apos; are in the command
        line (<code>brokerdesk config history settings</code>). Not built yet: importing a file.
        Keep exported files private: they name your accounts and endpoints.
      </p>
    </section>
  );
}
