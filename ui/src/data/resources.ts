/**
 * The backend's resources as queries of the one cache (`keys.ts`), with the shapes the pages
 * use. Reads happen once per resource however many components show it; `events.ts` keeps
 * them current.
 */
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import * as api from "../api/client";
import type { BrokerdeskError } from "../api/client";
import type { Account } from "../bindings/Account";
import type { AppSettings } from "../bindings/AppSettings";
import type { AuditFilter } from "../bindings/AuditFilter";
import type { BrokerInfo } from "../bindings/BrokerInfo";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { PropFirmPresetInfo } from "../bindings/PropFirmPresetInfo";
import type { StartupReport } from "../bindings/StartupReport";
import type { TwoFactorStatus } from "../bindings/TwoFactorStatus";
import type { ConnectionsState } from "../lib/connections";
import { keys } from "./keys";

export type Loadable<T> = { phase: "loading" } | { phase: "error"; error: BrokerdeskError } | ({ phase: "ready" } & T);

/** A query's result as the pages' `{ phase }` state. */
function loadable<T, R>(q: { data: T | undefined; error: unknown; isPending: boolean }, ready: (data: T) => R): Loadable<R> {
  if (q.data !== undefined) return { phase: "ready", ...ready(q.data) };
  if (q.error) return { phase: "error", error: q.error as BrokerdeskError };
  return { phase: "loading" };
}

export type AccountsState = Loadable<{ accounts: Account[] }>;

/** Every account; `reload` reads them again. */
export function useAccounts(): { state: AccountsState; reload: () => void } {
  const q = useQuery({ queryKey: keys.accountList, queryFn: api.accountsList });
  const { refetch } = q;
  const reload = useCallback(() => void refetch(), [refetch]);
  return { state: loadable(q, (accounts) => ({ accounts })), reload };
}

/** One account (the editor). */
export function useAccount(id: string | undefined) {
  return useQuery({ queryKey: keys.account(id ?? ""), queryFn: () => api.accountGet(id ?? ""), enabled: id !== undefined });
}

/** Every account's connections, kept current by `connection-event` and `connection-stats`. */
export function useConnections(): { state: ConnectionsState; refresh: () => void } {
  const q = useQuery({ queryKey: keys.connections, queryFn: api.connectionsSnapshot });
  const { refetch } = q;
  const refresh = useCallback(() => void refetch(), [refetch]);
  let state: ConnectionsState;
  if (q.data !== undefined) state = { phase: "ready", accounts: q.data, receivedAt: q.dataUpdatedAt };
  else if (q.error) state = { phase: "error", message: (q.error as BrokerdeskError).message };
  else state = { phase: "loading" };
  return { state, refresh };
}

export type SettingsState = Loadable<{ settings: AppSettings }>;

/**
 * The app settings. `save` sends the latest settings with the patch applied (the command
 * replaces them all), so two cards never overwrite each other's change with a stale copy; it
 * resolves with what the backend saved and rejects with its error.
 */
export function useSettings(): { state: SettingsState; save: (patch: Partial<AppSettings>) => Promise<AppSettings> } {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.settings, queryFn: api.settingsGet });
  const save = useCallback(
    async (patch: Partial<AppSettings>) => {
      const base = qc.getQueryData<AppSettings>(keys.settings);
      if (!base) throw new Error("the settings are not loaded yet");
      const saved = await api.settingsUpdate({ ...base, ...patch });
      qc.setQueryData(keys.settings, saved);
      return saved;
    },
    [qc],
  );
  return { state: loadable(q, (settings) => ({ settings })), save };
}

export type CatalogState = Loadable<{ brokers: BrokerInfo[]; presets: PropFirmPresetInfo[] }>;

/** The broker catalog and prop-firm presets: static for a run, so read once. */
export function useCatalog(): { state: CatalogState; reload: () => void; broker: (kind: BrokerKind) => BrokerInfo | undefined } {
  const q = useQuery({
    queryKey: keys.catalog,
    queryFn: async () => {
      const [brokers, presets] = await Promise.all([api.brokerCatalog(), api.propFirmPresets()]);
      return { brokers, presets };
    },
  });
  const { refetch, data, error, isPending } = q;
  const reload = useCallback(() => void refetch(), [refetch]);
  const broker = useCallback((kind: BrokerKind) => data?.brokers.find((b) => b.kind === kind), [data]);
  const state = useMemo(() => loadable({ data, error, isPending }, (d) => d), [data, error, isPending]);
  return useMemo(() => ({ state, reload, broker }), [state, reload, broker]);
}

/** The two-factor state (null until first read); `refresh` reads it again, `setStatus` stores one a command returned. */
export function useTwofaStatus(): { status: TwoFactorStatus | null; refresh: () => Promise<void>; setStatus: (status: TwoFactorStatus) => void } {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.twofa, queryFn: api.twofaStatus });
  const { refetch } = q;
  const refresh = useCallback(async () => {
    await refetch();
  }, [refetch]);
  const setStatus = useCallback((status: TwoFactorStatus) => qc.setQueryData(keys.twofa, status), [qc]);
  return { status: q.data ?? null, refresh, setStatus };
}

/** The audit entries matching `filter` (the previous ones stay shown while a new filter is read). */
export function useAuditList(filter: AuditFilter, enabled: boolean) {
  return useQuery({ queryKey: keys.auditList(filter), queryFn: () => api.auditList(filter), enabled, placeholderData: keepPreviousData });
}

/** The audit log's hash-chain check. */
export function useAuditChain() {
  return useQuery({ queryKey: keys.auditChain, queryFn: api.auditVerify });
}

/** An account's orders, newest first (`open`: only those still working). */
export function useOrders(accountId: string) {
  return useQuery({ queryKey: keys.orders(accountId), queryFn: () => api.ordersList(accountId, null), placeholderData: keepPreviousData });
}

/** One order with its history and fills. */
export function useOrderDetail(accountId: string, orderId: string | null) {
  return useQuery({
    queryKey: keys.order(accountId, orderId ?? ""),
    queryFn: () => api.orderShow(accountId, orderId ?? ""),
    enabled: orderId !== null,
  });
}

/** An account's balance, equity, P&L and positions (kept current by `account-money`). */
export function useMoney(accountId: string) {
  return useQuery({ queryKey: keys.money(accountId), queryFn: () => api.accountMoney(accountId), placeholderData: keepPreviousData, retry: false });
}

/** Orders in Needs review, across accounts. */
export function useReview() {
  return useQuery({ queryKey: keys.review, queryFn: api.ordersReview });
}

/** Every account's risk report, in the accounts' order (kept current by `risk-update`). */
export function useRiskReports() {
  return useQuery({ queryKey: keys.risk, queryFn: api.riskReports });
}

/** One account's risk report (kept current by `risk-update`). */
export function useRiskReport(accountId: string) {
  return useQuery({ queryKey: keys.riskOf(accountId), queryFn: () => api.riskReport(accountId) });
}

/** The start-up checks' outcome (kept current by `safe-state`); undefined until read. */
export function useStartupReport(): StartupReport | undefined {
  return useQuery({ queryKey: keys.startup, queryFn: api.startupReport }).data;
}

/** Whether the profile runs in the safe state (trading held). */
export function useTradingHeld(): boolean {
  return useStartupReport()?.safeMode === true;
}
