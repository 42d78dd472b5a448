/**
 * The fake backend's security commands: two-factor, the audit log, settings, the emergency
 * purge, and the shell's activity and clipboard commands.
 */
import type { AppSettings } from "../bindings/AppSettings";
import type { AuditFilter } from "../bindings/AuditFilter";
import type { PurgeReport } from "../bindings/PurgeReport";
import type { FakeBackend } from "./mockBackend";
import { auditCsv, listAudit, verifyAudit } from "./mockAudit";
import { fail } from "./mockErrors";
import { iso } from "./mockTwofa";

export const MOCK_DOWNLOADS = "/home/trader/Downloads";

const DEFAULT_FILTER: AuditFilter = { events: [], accountId: null, since: null, until: null, search: null, limit: null };

/** `AuditFilter` is deserialised with defaults for missing fields, like serde's `default`. */
const filterOf = (args: Record<string, unknown>): AuditFilter => ({ ...DEFAULT_FILTER, ...(args.filter as Partial<AuditFilter>) });

export function handleSecurityCommand(b: FakeBackend, command: string, args: Record<string, unknown>): unknown {
  const s = b.state;
  switch (command) {
    case "twofa_status":
      return b.twofa.status();
    case "twofa_setup":
      b.requireOpen();
      return b.twofa.setup("main");
    case "twofa_enable":
      b.requireOpen();
      return b.twofa.enable(String(args.code ?? ""));
    case "twofa_verify":
      b.requireOpen();
      return b.twofa.verify(String(args.code ?? ""));
    case "twofa_disable":
      b.requireStepUp();
      return b.twofa.disable();
    case "twofa_regenerate_backup_codes":
      b.requireStepUp();
      return b.twofa.regenerate();
    case "credentials_purge":
      b.requireStepUp();
      return purge(b);
    case "audit_list":
      b.requireOpen();
      return listAudit(s.audit, filterOf(args));
    case "audit_verify":
      b.requireOpen();
      return verifyAudit(s.audit);
    case "audit_export_csv": {
      b.requireOpen();
      const csv = auditCsv(s.audit, filterOf(args));
      const stamp = iso(b.wallMs()).replace(/[-:]/g, "").replace("T", "-").replace("Z", "");
      b.lastExport = { path: `${MOCK_DOWNLOADS}/brokerdesk-audit-${stamp}.csv`, csv };
      return b.lastExport.path;
    }
    case "settings_get":
      // Like serde's default for a setting saved before it existed (an old sessionStorage state).
      return { ...s.settings, priceUpdatesPerSecond: s.settings.priceUpdatesPerSecond ?? 30 };
    case "settings_update":
      b.requireOpen();
      return updateSettings(b, args.settings as AppSettings);
    case "app_activity":
      s.lastActivityMs = b.clock.now();
      return null;
    case "clipboard_write_secret":
      b.clipboard = String(args.text ?? "");
      return null;
    default:
      return fail("internal", `Unknown command ${command}.`);
  }
}

/** Deletes every stored secret and puts every account in paper mode; the configuration stays. */
function purge(b: FakeBackend): PurgeReport {
  let deleted = 0;
  for (const stored of b.state.accounts) {
    deleted += Object.values(stored.secrets).filter((v) => v !== null).length;
    stored.secrets = { apiKey: null, apiSecret: null };
    stored.unreadable = {};
    stored.account = { ...stored.account, credentials: [], mode: "paper", updatedAt: b.now() };
  }
  const report = { accounts: b.state.accounts.length, credentialsDeleted: deleted };
  b.record("credentials_purged", null, `${deleted} credentials deleted from ${report.accounts} accounts; every account is in paper mode`);
  return report;
}

function updateSettings(b: FakeBackend, settings: AppSettings): AppSettings {
  const m = settings.autoLockMinutes;
  const rate = settings.priceUpdatesPerSecond;
  const fields = [];
  if (m !== null && !(Number.isInteger(m) && m >= 1 && m <= 1440)) {
    fields.push({ field: "autoLockMinutes", code: "out_of_range", message: "Auto-lock must be between 1 and 1440 minutes (or off)." });
  }
  if (!(Number.isInteger(rate) && rate >= 1 && rate <= 120)) {
    fields.push({ field: "priceUpdatesPerSecond", code: "out_of_range" as const, message: "Price updates must be between 1 and 120 per second per instrument." });
  }
  if (fields.length > 0) fail("validation", fields.map((f) => f.message).join(" "), fields);
  const before = b.state.settings;
  b.state.settings = { autoLockMinutes: m, priceUpdatesPerSecond: rate };
  const rateChanged = (before.priceUpdatesPerSecond ?? 30) !== rate;
  if (!rateChanged || before.autoLockMinutes !== m) {
    b.record("settings_changed", null, m === null ? "auto-lock off" : `auto-lock after ${m} idle minutes`);
  }
  if (rateChanged) b.record("settings_changed", null, `at most ${rate} price updates per instrument per second`);
  return { ...b.state.settings };
}
