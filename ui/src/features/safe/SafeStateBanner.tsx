import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import { keys } from "../../data/keys";
import { useStartupReport } from "../../data/resources";
import { Icon } from "../../components/Icon";
import { asSentence } from "../../lib/labels";
import { HEALTH_LABELS } from "../settings/HealthCard";

/** Why a trading control is off while the profile runs in the safe state. */
export const HELD_REASON = "Trading is held: a start-up check failed (see the banner at the top). No order is sent until it passes.";

/**
 * The safe state's banner, above every page: which start-up check failed, what was found, how to
 * fix it, and "Check again". While it shows the core sends no order, connects no account and makes
 * no scheduled backup; reading, exports, the audit log, health and every fix keep working.
 */
export function SafeStateBanner() {
  const report = useStartupReport();
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [checked, setChecked] = useState(false);
  if (!report?.safeMode) return null;

  const checkAgain = async () => {
    setBusy(true);
    setFailure(null);
    try {
      qc.setQueryData(keys.startup, await api.startupCheck());
      setChecked(true);
    } catch (e) {
      setFailure(asSentence((e as BrokerdeskError).message));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="safe-state-wrap">
    <section className="safe-state" role="alert" aria-labelledby="safe-state-title" data-testid="safe-state">
      <div className="safe-state-head">
        <Icon name="alert" size={22} className="safe-state-icon" />
        <div>
          <h2 className="safe-state-title" id="safe-state-title">
            Safe state: trading is held
          </h2>
          <p className="safe-state-lead">
            A start-up check failed. Until it passes, Brokerdesk sends no order (live or paper), connects no account and makes no scheduled
            backup. You can still read everything, export, verify the audit log, run health checks and fix what is listed below.
          </p>
        </div>
      </div>
      <ul className="safe-state-list" aria-label="Failed start-up checks">
        {report.failed.map((c, i) => (
          <li key={`${c.code}-${c.subject ?? ""}-${i}`} data-testid={`safe-state-${c.code}`}>
            <p className="safe-state-what">
              {HEALTH_LABELS[c.code]}
              {c.subject ? ` — ${c.subject}` : ""} <code className="mono safe-state-code">{c.code}</code>
            </p>
            <p className="safe-state-found">{asSentence(c.detail)}</p>
            {c.fix ? (
              <p className="safe-state-fix">
                <strong>How to fix it:</strong> {asSentence(c.fix)}
              </p>
            ) : null}
          </li>
        ))}
      </ul>
      <div className="safe-state-actions">
        <button type="button" className="button button-primary" onClick={() => void checkAgain()} disabled={busy} data-testid="safe-state-check">
          <Icon name="refresh" size={16} />
          {busy ? "Checking…" : "Check again"}
        </button>
        <span className="muted" aria-live="polite">
          {failure ?? (checked ? `Still failing (checked ${new Date(report.at).toLocaleTimeString()}).` : "Brokerdesk also checks again by itself when you save or remove an account.")}
        </span>
      </div>
    </section>
    </div>
  );
}
