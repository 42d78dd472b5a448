/**
 * The fake backend's audit log: append-only and hash-chained like the real one (each entry's
 * hash covers the previous hash and its own fields), so editing an entry breaks the chain there.
 */
import type { AuditEntry } from "../bindings/AuditEntry";
import type { AuditEvent } from "../bindings/AuditEvent";
import type { AuditFilter } from "../bindings/AuditFilter";
import type { AuditVerification } from "../bindings/AuditVerification";
import { fail } from "./mockErrors";
import { sha256Hex } from "./sha256";

export interface AuditRow {
  id: number;
  at: string;
  event: AuditEvent;
  actor: string;
  accountId: string | null;
  detail: string;
  prevHash: string;
  hash: string;
}

/**
 * What crosses IPC. ts-rs types the i64 ids as `bigint`, but serde_json sends plain JSON
 * numbers, which is what the UI really receives; the mock sends numbers too.
 */
export type WireAuditEntry = Omit<AuditEntry, "id"> & { id: number };
export type WireAuditVerification = Omit<AuditVerification, "firstBrokenId"> & { firstBrokenId: number | null };

const GENESIS = "0".repeat(64);

function entryHash(prev: string, row: Omit<AuditRow, "id" | "prevHash" | "hash">): string {
  const fields = [row.at, row.event, row.actor, row.accountId ?? "\u0000none", row.detail];
  return sha256Hex(`brokerdesk-audit-v1${prev}${fields.map((f) => `${f.length}:${f}`).join("")}`);
}

export function appendAudit(rows: AuditRow[], entry: Omit<AuditRow, "id" | "prevHash" | "hash">): AuditRow {
  const last = rows[rows.length - 1];
  const prevHash = last ? last.hash : GENESIS;
  const row: AuditRow = { ...entry, id: (last?.id ?? 0) + 1, prevHash, hash: entryHash(prevHash, entry) };
  rows.push(row);
  return row;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Lists entries newest first, like `audit_list`. */
export function listAudit(rows: AuditRow[], filter: AuditFilter): WireAuditEntry[] {
  for (const [name, value] of [
    ["since", filter.since],
    ["until", filter.until],
  ] as const) {
    if (value !== null && (!RFC3339.test(value) || Number.isNaN(Date.parse(value)))) {
      fail("validation", `invalid audit filter: ${name}: not an RFC 3339 date and time`);
    }
  }
  const since = filter.since === null ? null : Date.parse(filter.since);
  const until = filter.until === null ? null : Date.parse(filter.until);
  const search = filter.search?.trim().toLowerCase() || null;
  const limit = Math.min(Math.max(filter.limit ?? 500, 1), 10_000);
  const matches = rows.filter((r) => {
    const at = Date.parse(r.at);
    if (filter.events.length > 0 && !filter.events.includes(r.event)) return false;
    if (filter.accountId !== null && r.accountId !== filter.accountId) return false;
    if (since !== null && at < since) return false;
    if (until !== null && at > until) return false;
    if (search !== null) {
      const haystack = [r.event, r.detail, r.actor, r.accountId ?? ""].map((s) => s.toLowerCase());
      if (!haystack.some((s) => s.includes(search))) return false;
    }
    return true;
  });
  return matches
    .reverse()
    .slice(0, limit)
    .map(({ id, at, event, actor, accountId, detail, hash }) => ({ id, at, event, actor, accountId, detail, hash }));
}

/** Walks the chain from the first entry and names the first one that breaks it. */
export function verifyAudit(rows: AuditRow[]): WireAuditVerification {
  let prev = GENESIS;
  let count = 0;
  for (const row of rows) {
    if (row.prevHash !== prev || row.hash !== entryHash(prev, row)) {
      const why =
        row.prevHash !== prev
          ? "it does not follow from the entry before it (an entry was removed or inserted)"
          : "its contents were changed after it was written";
      return { ok: false, entries: count, firstBrokenId: row.id, message: `the audit log was tampered with at entry ${row.id}: ${why}` };
    }
    prev = row.hash;
    count += 1;
  }
  return { ok: true, entries: count, firstBrokenId: null, message: `all ${count} entries are intact` };
}

function csvCell(value: string): string {
  const defused = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(defused) ? `"${defused.replace(/"/g, '""')}"` : defused;
}

/** The matching entries as CSV (RFC 4180), oldest first, like the backend writes them. */
export function auditCsv(rows: AuditRow[], filter: AuditFilter): string {
  const lines = listAudit(rows, filter)
    .reverse()
    .map((e) => [String(e.id), e.at, e.event, e.actor, e.accountId ?? "", e.detail, e.hash].map(csvCell).join(","));
  return ["id,at,event,actor,account_id,detail,hash", ...lines].map((l) => `${l}\r\n`).join("");
}
