/**
 * The keys of the resource cache (TanStack Query). One key per backend resource; the
 * event wiring (`events.ts`) invalidates or updates them when the backend says they changed.
 */
import type { AuditFilter } from "../bindings/AuditFilter";

export const keys = {
  vault: ["vault"] as const,
  twofa: ["twofa"] as const,
  settings: ["settings"] as const,
  catalog: ["catalog"] as const,
  /** Every accounts query: the list and each account. */
  accounts: ["accounts"] as const,
  accountList: ["accounts", "list"] as const,
  account: (id: string) => ["accounts", "detail", id] as const,
  /** An account's configuration versions (under `accounts`: every account change refreshes them). */
  configHistory: (id: string) => ["accounts", "history", id] as const,
  /** Every account's connections (`connections_snapshot`, kept current by events). */
  connections: ["connections"] as const,
  /** Every audit query: lists by filter and the chain check. */
  audit: ["audit"] as const,
  auditList: (filter: AuditFilter) => ["audit", "list", filter] as const,
  auditChain: ["audit", "chain"] as const,
  /** Every trading query: orders, money and the Needs review list. */
  trading: ["trading"] as const,
  orders: (accountId: string) => ["trading", "orders", accountId] as const,
  order: (accountId: string, orderId: string) => ["trading", "order", accountId, orderId] as const,
  money: (accountId: string) => ["trading", "money", accountId] as const,
  review: ["trading", "review"] as const,
  /** Every account's risk report (`risk_reports`); also the prefix of every risk query. */
  risk: ["risk"] as const,
  /** One account's risk report (`risk_report`). */
  riskOf: (accountId: string) => ["risk", accountId] as const,
  /** The start-up checks' outcome: the safe state (`startup_report`, kept current by `safe-state`). */
  startup: ["startup"] as const,
};

/** What belongs to the open profile, forgotten when the vault locks (re-read at the next unlock). */
export const PROFILE_KEYS: readonly (readonly string[])[] = [keys.accounts, keys.connections, keys.audit, keys.twofa, keys.trading, keys.risk, keys.startup];
