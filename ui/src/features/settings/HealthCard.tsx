import { useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { HealthCode } from "../../bindings/HealthCode";
import type { HealthReport } from "../../bindings/HealthReport";
import type { HealthStatus } from "../../bindings/HealthStatus";
import { Banner } from "../../components/Banner";
import { Icon } from "../../components/Icon";
import { asSentence } from "../../lib/labels";

export const HEALTH_LABELS: Record<HealthCode, string> = {
  database: "Database",
  migrations: "Schema",
  vault: "Vault",
  keychain: "OS keychain",
  disk_space: "Disk space",
  logs: "Logs",
  backups: "Backups",
  audit_log: "Audit log",
  accounts: "Accounts",
  broker: "Broker sign-in",
};

const STATUS_TEXT: Record<HealthStatus, string> = { ok: "OK", skipped: "Skipped", warn: "Warning", fail: "Failed" };

/**
 * Settings → Health: the core's checks of this profile (the database, its schema, the vault,
 * the keychain, disk space, logs, the audit chain, each account's stored state), and with
 * "Check brokers too" each account's sign-in at its broker.
 */
export function HealthCard() {
  const [report, setReport] = useState<HealthReport | null>(null);
  const [busy, setBusy] = useState<"shallow" | "deep" | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const run = async (deep: boolean) => {
    setBusy(deep ? "deep" : "shallow");
    setFailure(null);
    try {
      setReport(await api.health(deep));
    } catch (e) {
      setFailure(asSentence((e as BrokerdeskError).message));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="card" aria-labelledby="set-health">
      <h2 className="card-title" id="set-health">
        Health
      </h2>
      <p className="muted">
        Checks the database, its schema, the vault and keychain, free disk space, the logs, the audit log and every
        account&apos;s stored settings and credentials. &ldquo;Check brokers too&rdquo; also signs in at each
        account&apos;s broker (brokers allow a few checks a minute).
      </p>
      <div className="card-actions">
        <button type="button" className="button button-secondary" onClick={() => void run(false)} disabled={busy !== null}>
          <Icon name="refresh" size={16} />
          {busy === "shallow" ? "Checking…" : "Check now"}
        </button>
        <button type="button" className="button button-secondary" onClick={() => void run(true)} disabled={busy !== null}>
          {busy === "deep" ? "Checking brokers…" : "Check brokers too"}
        </button>
      </div>
      {failure ? <Banner tone="danger">{failure}</Banner> : null}
      {report ? (
        <div data-testid="health-report">
          <Banner tone={report.ok ? (report.worst === "warn" ? "warning" : "success") : "danger"}>
            {report.ok ? (report.worst === "warn" ? "Healthy, with warnings below." : "Everything checked is healthy.") : "Something needs attention: see below."}
          </Banner>
          <ul className="health-list" aria-label="Health checks">
            {report.checks.map((c, i) => (
              <li key={`${c.code}-${c.subject ?? ""}-${i}`} className={`health-${c.status}`} data-testid={`health-${c.code}`}>
                <span className={`pill health-pill health-pill-${c.status}`}>{STATUS_TEXT[c.status]}</span>
                <span className="health-what">
                  {HEALTH_LABELS[c.code]}
                  {c.subject ? ` — ${c.subject}` : ""}
                </span>
                <span className="health-detail">
                  {c.detail}
                  {c.fix ? <span className="health-fix">{c.fix}</span> : null}
                </span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
