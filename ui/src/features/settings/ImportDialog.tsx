import { useState } from "react";
import * as api from "../../api/client";
import { BrokerdeskError, Code } from "../../api/client";
import type { AccountPlan } from "../../bindings/AccountPlan";
import type { FieldChange } from "../../bindings/FieldChange";
import type { ImportPreview } from "../../bindings/ImportPreview";
import type { OnConflict } from "../../bindings/OnConflict";
import { Banner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { PasswordField } from "../../components/Field";
import { asSentence } from "../../lib/labels";
import "./settings.css";

/** The largest file the core imports (5 MiB); a larger one is refused before it is read. */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

const CONFLICTS: { value: OnConflict; label: string; help: string }[] = [
  { value: "skip", label: "Skip", help: "leave the existing account as it is" },
  { value: "replace", label: "Replace", help: "give it the file's configuration (it keeps its status; it moves to paper mode)" },
  { value: "rename", label: "Rename", help: "add the file's as a new account, “Name (imported)”" },
];

const ACTION_TEXT: Record<AccountPlan["action"], string> = {
  add: "New account, in paper mode",
  rename: "New account under another name, in paper mode",
  replace: "Replaced",
  skip: "Skipped: left as it is",
  unchanged: "Unchanged: it already has this configuration",
  conflict: "An account has this name: choose what to do below",
};

const KIND_MARK: Record<FieldChange["kind"], string> = { added: "Added", changed: "Changed", removed: "Removed" };

function Changes({ changes }: { changes: FieldChange[] }) {
  if (changes.length === 0) return null;
  return (
    <table className="table import-changes">
      <thead>
        <tr>
          <th scope="col">Setting</th>
          <th scope="col">Change</th>
          <th scope="col">Now</th>
          <th scope="col">From the file</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.path}>
            <td>
              <code>{c.path}</code>
            </td>
            <td>{KIND_MARK[c.kind]}</td>
            <td>{c.before}</td>
            <td>{c.after}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Settings → Data → Import: pick a file (read as text here, checked by the core), see what it
 * would change per account and field, choose what to do with names that exist, give the
 * passphrase when the file carries sealed credentials, then apply (all or nothing; the core
 * asks for the step-up when credentials are imported or a rule is loosened).
 */
export function ImportDialog({ onClose }: { onClose: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const [fileName, setFileName] = useState("");
  const [passphrase, setPassphrase] = useState("");
  const [onConflict, setOnConflict] = useState<OnConflict | null>(null);
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [error, setError] = useState<BrokerdeskError | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<ImportPreview | null>(null);

  const check = async (t: string, pass: string, conflict: OnConflict | null) => {
    setBusy(true);
    setError(null);
    try {
      setPreview(await api.configImportPreview(t, pass === "" ? null : pass, conflict));
    } catch (e) {
      setPreview(null);
      setError(e as BrokerdeskError);
    } finally {
      setBusy(false);
    }
  };

  const pick = async (file: File | undefined) => {
    if (!file) return;
    setFileName(file.name);
    setDone(null);
    if (file.size > MAX_IMPORT_BYTES) {
      setText(null);
      setPreview(null);
      setError(new BrokerdeskError(Code.ImportTooLarge, `The file is ${file.size} bytes; an import reads at most 5 MiB.`));
      return;
    }
    const t = await file.text();
    setText(t);
    await check(t, passphrase, onConflict);
  };

  const apply = async () => {
    if (text === null) return;
    setBusy(true);
    setError(null);
    try {
      setDone(await api.configImportApply(text, passphrase === "" ? null : passphrase, onConflict));
    } catch (e) {
      setError(e as BrokerdeskError);
    } finally {
      setBusy(false);
    }
  };

  const needsPassphrase = preview?.sealedCredentials === true && !preview.credentialsOpened;
  const blocked = preview === null || preview.conflicts.length > 0 || needsPassphrase || !preview.changesAnything;

  return (
    <Dialog
      title="Import a configuration"
      size="wide"
      onClose={onClose}
      actions={
        done ? (
          <button type="button" className="button button-primary" onClick={onClose}>
            Close
          </button>
        ) : (
          <>
            <button type="button" className="button button-secondary" onClick={onClose}>
              Cancel
            </button>
            <button type="button" className="button button-primary" onClick={() => void apply()} disabled={busy || blocked}>
              {busy ? "Working…" : "Apply import"}
            </button>
          </>
        )
      }
    >
      <p className="muted">
        Choose a file made by Export (JSON or YAML, at most 5 MiB). Nothing changes until you apply: the file is checked first and every
        difference is shown. Accounts are matched by name; new ones arrive in paper mode, their credentials (if the file carries them) unverified.
      </p>
      <div className="field">
        <label className="field-label" htmlFor="import-file">
          File
        </label>
        <input id="import-file" type="file" accept=".json,.yaml,.yml,application/json,text/yaml" onChange={(e) => void pick(e.target.files?.[0])} />
        {fileName ? <p className="field-help">{fileName}</p> : null}
      </div>
      {preview?.sealedCredentials || passphrase !== "" ? (
        <div>
          <PasswordField
            id="import-passphrase"
            label="Passphrase of the export"
            value={passphrase}
            onChange={setPassphrase}
            autoComplete="off"
            help="The file carries credentials sealed with a passphrase. Without it they cannot be imported."
          />
          <button type="button" className="button button-secondary" disabled={busy || text === null || passphrase === ""} onClick={() => text !== null && void check(text, passphrase, onConflict)}>
            Open the credentials
          </button>
        </div>
      ) : null}
      {preview && (preview.conflicts.length > 0 || onConflict !== null) ? (
        <fieldset className="fieldset">
          <legend className="field-label">Accounts whose names exist</legend>
          {CONFLICTS.map((c) => (
            <label key={c.value} className="radio-row">
              <input
                type="radio"
                name="import-conflict"
                value={c.value}
                checked={onConflict === c.value}
                onChange={() => {
                  setOnConflict(c.value);
                  if (text !== null) void check(text, passphrase, c.value);
                }}
              />{" "}
              <strong>{c.label}</strong>: {c.help}
            </label>
          ))}
        </fieldset>
      ) : null}
      {error ? (
        <div role="alert" data-testid="import-error">
          <Banner tone="danger" title={asSentence(error.message)}>
            {error.fields.length > 0 ? (
              <ul>
                {error.fields.map((f) => (
                  <li key={`${f.field}:${f.message}`}>
                    <code>{f.field}</code>: {f.message}
                  </li>
                ))}
              </ul>
            ) : null}
          </Banner>
        </div>
      ) : null}
      {done ? (
        <div role="status" data-testid="import-done">
          <Banner tone="success">Imported. A snapshot of what it replaced is in the configuration history.</Banner>
        </div>
      ) : null}
      {preview && !done ? (
        <div data-testid="import-preview">
          <p className="field-help">
            Export #{preview.serial} of profile <code>{preview.lineage}</code>, made {preview.exportedAt} by Brokerdesk {preview.appVersion}.
          </p>
          {preview.accounts.length === 0 ? <p className="muted">The file has no accounts.</p> : null}
          {preview.accounts.map((a) => (
            <section key={`${a.name}:${a.storedAs}`} className="import-account" aria-label={a.storedAs}>
              <h3 className="card-subtitle">
                {a.storedAs}
                {a.storedAs !== a.name ? ` (the file's “${a.name}”)` : ""} — {ACTION_TEXT[a.action]}
                {a.toPaper ? "; moves to paper mode" : ""}
              </h3>
              {a.action === "replace" || a.action === "conflict" ? (
                <p className="field-help">
                  {a.changes.length} setting(s) differ, {a.unchanged} unchanged.
                </p>
              ) : null}
              {a.action === "skip" || a.action === "unchanged" ? null : <Changes changes={a.changes} />}
              {a.credentials.length > 0 && a.action !== "skip" ? <p className="field-help">Credentials imported (unverified): {a.credentials.join(", ")}</p> : null}
              {a.credentialsMissing.length > 0 ? (
                <p className="field-warning">Credentials missing: {a.credentialsMissing.join(", ")}. It cannot connect until you enter them.</p>
              ) : null}
              {a.loosens.length > 0 ? <p className="field-warning">Loosens: {a.loosens.join(", ")}.</p> : null}
            </section>
          ))}
          <section className="import-account" aria-label="Settings">
            <h3 className="card-subtitle">Settings — {preview.settings.changes.length === 0 ? "unchanged" : "changed"}</h3>
            <Changes changes={preview.settings.changes} />
          </section>
          {preview.notInFile.length > 0 ? <p className="field-help">Not in the file (left as they are): {preview.notInFile.join(", ")}.</p> : null}
          {preview.stepUp.length > 0 ? <Banner tone="warning">Needs your two-factor code: {preview.stepUp.join("; ")}.</Banner> : null}
          {needsPassphrase ? <Banner tone="warning">Enter the passphrase and open the credentials to import this file.</Banner> : null}
          {!preview.changesAnything ? <Banner tone="info">Nothing to import: this profile already has this configuration.</Banner> : null}
        </div>
      ) : null}
    </Dialog>
  );
}
