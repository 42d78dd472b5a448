import { useCallback, useEffect, useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { BackupConfig } from "../../bindings/BackupConfig";
import type { BackupFile } from "../../bindings/BackupFile";
import type { BackupStatus } from "../../bindings/BackupStatus";
import type { BackupVerification } from "../../bindings/BackupVerification";
import { Banner } from "../../components/Banner";
import { PasswordField, Switch, TextField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { asSentence } from "../../lib/labels";
import "./settings.css";

type Message = { tone: "success" | "danger" | "warning"; text: string };

const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—");

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const failed = (e: unknown) => asSentence((e as BrokerdeskError).message);

/**
 * Settings → Backups: the backup passphrase (set once, with its recovery warning), the daily
 * schedule, the folder and retention, "Back up now", and the backups in the folder with a full
 * check of each. Restoring runs with the app closed (`brokerdesk backup restore`), and the card
 * says so.
 */
export function BackupsCard() {
  const [status, setStatus] = useState<BackupStatus | null>(null);
  const [files, setFiles] = useState<BackupFile[]>([]);
  const [message, setMessage] = useState<Message | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [editingPassphrase, setEditingPassphrase] = useState(false);
  const [verified, setVerified] = useState<Record<string, BackupVerification | string>>({});

  const reload = useCallback(async () => {
    try {
      const s = await api.backupStatus();
      setStatus(s);
      setFiles(await api.backupList());
    } catch (e) {
      setMessage({ tone: "danger", text: failed(e) });
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  const act = async (what: string, run: () => Promise<Message | null>) => {
    setBusy(what);
    setMessage(null);
    try {
      const m = await run();
      if (m) setMessage(m);
      await reload();
    } catch (e) {
      setMessage({ tone: "danger", text: failed(e) });
    } finally {
      setBusy(null);
    }
  };

  const backUpNow = () =>
    act("create", async () => {
      const f = await api.backupCreate();
      return { tone: "success", text: `Backup written to ${f.path} (${size(f.bytes)}).` };
    });

  const verify = (name: string) =>
    act(`verify:${name}`, async () => {
      try {
        const v = await api.backupVerify(name);
        setVerified((old) => ({ ...old, [name]: v }));
      } catch (e) {
        setVerified((old) => ({ ...old, [name]: failed(e) }));
      }
      return null;
    });

  if (!status) {
    return (
      <section className="card" aria-labelledby="set-backups">
        <h2 className="card-title" id="set-backups">
          Backups
        </h2>
        {message ? <Banner tone={message.tone}>{message.text}</Banner> : <p className="muted">Loading…</p>}
      </section>
    );
  }

  return (
    <section className="card" aria-labelledby="set-backups" data-testid="backups-card">
      <h2 className="card-title" id="set-backups">
        Backups
      </h2>
      <p className="muted">
        An encrypted copy of the whole profile — every account, its credentials (still sealed), rules, orders, history
        and the audit log — sealed with a backup passphrase. Restore it on this or another computer with that passphrase;
        the restored profile opens with the master password it had.
      </p>

      {!status.passphraseSet || editingPassphrase ? (
        <PassphraseForm
          replacing={status.passphraseSet}
          busy={busy === "passphrase"}
          onCancel={status.passphraseSet ? () => setEditingPassphrase(false) : undefined}
          onSave={(p) =>
            act("passphrase", async () => {
              await api.backupSetPassphrase(p);
              setEditingPassphrase(false);
              return { tone: "success", text: "Backup passphrase set. Keep it safe, apart from the backups." };
            })
          }
        />
      ) : (
        <>
          <dl className="meta-list" data-testid="backup-summary">
            <div>
              <dt>Passphrase</dt>
              <dd>Set</dd>
            </div>
            <div>
              <dt>Last backup</dt>
              <dd data-testid="backup-last">
                {status.lastBackup ? `${when(status.lastBackup.at)} (${status.lastBackup.trigger === "scheduled" ? "daily" : "by hand"})` : "None yet"}
              </dd>
            </div>
            <div>
              <dt>Next daily backup</dt>
              <dd>{status.config.scheduled ? (status.nextDue && new Date(status.nextDue) > new Date() ? when(status.nextDue) : "Due now (within 15 minutes while the app is open and unlocked)") : "Off — by hand only"}</dd>
            </div>
            <div>
              <dt>Folder</dt>
              <dd className="mono">{status.folder}</dd>
            </div>
          </dl>
          {status.lastFailure ? (
            <Banner tone="danger">
              The last backup attempt ({when(status.lastFailure.at)}) failed: {status.lastFailure.error}
            </Banner>
          ) : null}
          <div className="card-actions">
            <button type="button" className="button button-primary" onClick={() => void backUpNow()} disabled={busy !== null}>
              <Icon name="download" size={16} />
              {busy === "create" ? "Backing up…" : "Back up now"}
            </button>
            <button type="button" className="button button-secondary" onClick={() => setEditingPassphrase(true)} disabled={busy !== null}>
              Change passphrase
            </button>
          </div>
        </>
      )}

      {message ? (
        <div role="status" data-testid="backup-message">
          <Banner tone={message.tone}>{message.text}</Banner>
        </div>
      ) : null}

      <ScheduleForm
        key={JSON.stringify(status.config)}
        config={status.config}
        defaultFolder={status.defaultFolder}
        busy={busy === "config"}
        onSave={(c) =>
          act("config", async () => {
            await api.backupConfigure(c);
            return { tone: "success", text: "Backup settings saved." };
          })
        }
      />

      <h3 className="backup-subtitle">In the backup folder</h3>
      {files.length === 0 ? (
        <p className="muted" data-testid="backup-list-empty">
          No backups in the folder yet.
        </p>
      ) : (
        <ul className="backup-list" aria-label="Backups" data-testid="backup-list">
          {files.map((f) => {
            const v = verified[f.name];
            return (
              <li key={f.path} data-testid={`backup-${f.name}`}>
                <span className="backup-name mono">{f.name}</span>
                <span className="backup-detail">
                  {f.problem
                    ? `Unreadable: ${f.problem}`
                    : `${when(f.createdAt)} · ${f.trigger === "scheduled" ? "daily" : "by hand"} · ${size(f.bytes)}${f.currentKey ? "" : " · made with an earlier passphrase"}`}
                  {v ? (
                    <span className={typeof v === "string" ? "backup-bad" : "backup-good"} data-testid="backup-verified">
                      {typeof v === "string"
                        ? ` — ${v}`
                        : ` — intact: ${v.accounts} account(s), ${v.auditEntries} audit entries`}
                    </span>
                  ) : null}
                </span>
                {f.currentKey && !f.problem ? (
                  <button type="button" className="button button-secondary button-sm" onClick={() => void verify(f.name)} disabled={busy !== null}>
                    {busy === `verify:${f.name}` ? "Checking…" : "Verify"}
                  </button>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
      <p className="field-help">
        Restoring replaces the whole profile, so it runs with Brokerdesk closed: quit the app and run{" "}
        <code>brokerdesk backup restore FILE</code> (add <code>--data-dir DIR</code> to restore into another data
        folder). The profile it replaces is kept in the data folder&apos;s <code>pre-restore</code> folder. Restoring from
        inside the app is not built yet.
      </p>
    </section>
  );
}

function PassphraseForm({
  replacing,
  busy,
  onSave,
  onCancel,
}: {
  replacing: boolean;
  busy: boolean;
  onSave: (passphrase: string) => void;
  onCancel: (() => void) | undefined;
}) {
  const [first, setFirst] = useState("");
  const [again, setAgain] = useState("");
  const mismatch = again.length > 0 && again !== first;
  const short = first.length > 0 && [...first].length < 10;
  return (
    <form
      className="stack backup-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!mismatch && !short && first) onSave(first);
      }}
    >
      <Banner tone="warning">
        Without this passphrase no one — Brokerdesk included — can open your backups, and there is no way to recover
        it. It is not your master password: choose a different one and keep it somewhere safe, apart from the backups.
        {replacing ? " Backups made before keep needing the passphrase they were made with." : ""}
      </Banner>
      <PasswordField id="backup-passphrase" label={replacing ? "New backup passphrase" : "Backup passphrase"} value={first} onChange={setFirst} autoComplete="new-password" error={short ? "At least 10 characters." : undefined} />
      <PasswordField id="backup-passphrase-again" label="Repeat it" value={again} onChange={setAgain} autoComplete="new-password" error={mismatch ? "The two entries differ." : undefined} />
      <div className="card-actions">
        <button type="submit" className="button button-primary" disabled={busy || !first || mismatch || short || again !== first}>
          {busy ? "Setting…" : replacing ? "Change passphrase" : "Set backup passphrase"}
        </button>
        {onCancel ? (
          <button type="button" className="button button-secondary" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

function ScheduleForm({
  config,
  defaultFolder,
  busy,
  onSave,
}: {
  config: BackupConfig;
  defaultFolder: string;
  busy: boolean;
  onSave: (config: BackupConfig) => void;
}) {
  const [scheduled, setScheduled] = useState(config.scheduled);
  const [folder, setFolder] = useState(config.folder ?? "");
  const [daily, setDaily] = useState(String(config.keepDaily));
  const [weekly, setWeekly] = useState(String(config.keepWeekly));
  const next: BackupConfig = {
    scheduled,
    folder: folder.trim() === "" ? null : folder.trim(),
    keepDaily: Number(daily),
    keepWeekly: Number(weekly),
  };
  const changed = JSON.stringify(next) !== JSON.stringify(config);
  return (
    <form
      className="stack backup-form"
      data-testid="backup-schedule"
      onSubmit={(e) => {
        e.preventDefault();
        onSave(next);
      }}
    >
      <Switch id="backup-scheduled" label="Back up every day" help="While Brokerdesk is open and unlocked, a backup is made when the last one is 24 hours old." checked={scheduled} onChange={setScheduled} />
      <TextField id="backup-folder" label="Folder" value={folder} onChange={setFolder} placeholder={defaultFolder} mono help="An absolute path, e.g. on an external disk; empty for the default shown." />
      <div className="backup-keep">
        <TextField id="backup-keep-daily" className="field-narrow" label="Keep daily" value={daily} onChange={setDaily} inputMode="numeric" help="The newest backup of each of this many days." />
        <TextField id="backup-keep-weekly" className="field-narrow" label="Keep weekly" value={weekly} onChange={setWeekly} inputMode="numeric" help="And of each of this many weeks. Backups made by hand are never deleted." />
      </div>
      <div className="card-actions">
        <button type="submit" className="button button-secondary" disabled={busy || !changed}>
          {busy ? "Saving…" : "Save backup settings"}
        </button>
      </div>
    </form>
  );
}
