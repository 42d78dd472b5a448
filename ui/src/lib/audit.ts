/** The audit log without React: event labels and categories, and the filter form ↔ `AuditFilter`. */
import type { AuditEntry } from "../bindings/AuditEntry";
import type { AuditEvent } from "../bindings/AuditEvent";
import type { AuditFilter } from "../bindings/AuditFilter";

export type AuditCategory = "vault" | "twofa" | "account" | "risk" | "credentials" | "connection" | "settings";

export const CATEGORY_LABELS: Record<AuditCategory, string> = {
  vault: "Vault",
  twofa: "Two-factor",
  account: "Accounts",
  risk: "Risk",
  credentials: "Credentials",
  connection: "Connections",
  settings: "Settings",
};

export const CATEGORIES = Object.keys(CATEGORY_LABELS) as AuditCategory[];

/** Every event, with a readable label and its category (the Record keeps this list complete). */
export const EVENT_INFO: Record<AuditEvent, { label: string; category: AuditCategory; failure?: boolean }> = {
  vault_created: { label: "Vault created", category: "vault" },
  vault_unlocked: { label: "Vault unlocked", category: "vault" },
  vault_unlock_failed: { label: "Unlock failed", category: "vault", failure: true },
  vault_locked: { label: "Vault locked", category: "vault" },
  master_password_changed: { label: "Master password changed", category: "vault" },
  key_rotated: { label: "Data key rotated", category: "vault" },
  twofa_setup_started: { label: "2FA setup started", category: "twofa" },
  twofa_enabled: { label: "2FA turned on", category: "twofa" },
  twofa_disabled: { label: "2FA turned off", category: "twofa" },
  twofa_verified: { label: "2FA code verified", category: "twofa" },
  twofa_failed: { label: "2FA code rejected", category: "twofa", failure: true },
  twofa_locked_out: { label: "2FA locked out", category: "twofa", failure: true },
  backup_code_used: { label: "Backup code used", category: "twofa" },
  backup_codes_regenerated: { label: "Backup codes regenerated", category: "twofa" },
  account_created: { label: "Account created", category: "account" },
  account_edited: { label: "Account edited", category: "account" },
  account_removed: { label: "Account removed", category: "account" },
  mode_switched: { label: "Mode switched", category: "account" },
  status_changed: { label: "Status changed", category: "risk" },
  risk_refused: { label: "Order refused by a risk rule", category: "risk", failure: true },
  risk_warning: { label: "Loss budget warning", category: "risk" },
  kill_switch: { label: "Kill switch", category: "risk" },
  credentials_stored: { label: "Credentials stored", category: "credentials" },
  credentials_rotated: { label: "Credentials rotated", category: "credentials" },
  credentials_purged: { label: "All credentials purged", category: "credentials" },
  connection_auth_failed: { label: "Broker sign-in failed", category: "connection", failure: true },
  certificate_pinned: { label: "Gateway certificate pinned", category: "connection" },
  certificate_refused: { label: "Changed gateway certificate refused", category: "connection", failure: true },
  certificate_trusted: { label: "New gateway certificate trusted", category: "connection" },
  settings_changed: { label: "Settings changed", category: "settings" },
  config_exported: { label: "Configuration exported", category: "settings" },
  backup_passphrase_set: { label: "Backup passphrase set", category: "settings" },
  backup_settings_changed: { label: "Backup settings changed", category: "settings" },
  backup_created: { label: "Backup made", category: "settings" },
  profile_restored: { label: "Profile restored from a backup", category: "settings" },
  config_imported: { label: "Configuration imported", category: "settings" },
  autostart_changed: { label: "Start at login changed", category: "settings" },
};

export const ALL_EVENTS = Object.keys(EVENT_INFO) as AuditEvent[];

export const eventsIn = (category: AuditCategory) => ALL_EVENTS.filter((e) => EVENT_INFO[e].category === category);

export const PAGE_SIZE = 500;
export const MAX_LIMIT = 10_000;

/** What the filter bar holds. Dates are the `<input type="date">` values (local days). */
export interface AuditFilterForm {
  events: AuditEvent[];
  accountId: string;
  since: string;
  until: string;
  search: string;
  limit: number;
}

export const emptyAuditFilter = (): AuditFilterForm => ({ events: [], accountId: "", since: "", until: "", search: "", limit: PAGE_SIZE });

/** The start (or, with `endOfDay`, the last millisecond) of a local day, as RFC 3339 UTC. */
export function localDayBound(date: string, endOfDay: boolean): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const day = endOfDay
    ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999)
    : new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 0, 0, 0, 0);
  return Number.isNaN(day.getTime()) ? null : day.toISOString();
}

/** Returns a problem with the date range, or null. */
export function dateRangeError(form: AuditFilterForm): string | null {
  if (form.since && form.until && form.since > form.until) return "The start date is after the end date.";
  return null;
}

/** The filter bar → the backend's `AuditFilter`. Picking every event is the same as picking none. */
export function toAuditFilter(form: AuditFilterForm): AuditFilter {
  const events = form.events.length === ALL_EVENTS.length ? [] : ALL_EVENTS.filter((e) => form.events.includes(e));
  const search = form.search.trim();
  return {
    events,
    accountId: form.accountId || null,
    since: form.since ? localDayBound(form.since, false) : null,
    until: form.until ? localDayBound(form.until, true) : null,
    search: search === "" ? null : search,
    limit: Math.min(Math.max(form.limit, 1), MAX_LIMIT),
  };
}

/** How the events picker sums up a choice ("All events", "Two-factor", "3 events"). */
export function eventsSummary(events: readonly AuditEvent[]): string {
  if (events.length === 0 || events.length === ALL_EVENTS.length) return "All events";
  const whole = CATEGORIES.filter((c) => eventsIn(c).every((e) => events.includes(e)));
  const covered = whole.flatMap(eventsIn).length;
  if (whole.length > 0 && covered === events.length) return whole.map((c) => CATEGORY_LABELS[c]).join(", ");
  if (events.length === 1) return EVENT_INFO[events[0] as AuditEvent].label;
  return `${events.length} events`;
}

/** The first block of a UUID (or the id itself when short), for accounts no longer in the list. */
export const shortId = (id: string) => (id.length > 12 ? id.split("-")[0]?.slice(0, 8) || id.slice(0, 8) : id);

/**
 * ts-rs types the entry ids as `bigint`, but they cross IPC as JSON numbers; this works for either.
 */
export const entryId = (entry: Pick<AuditEntry, "id">) => Number(entry.id);
