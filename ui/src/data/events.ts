/**
 * Keeps the resource cache in step with the backend: every window event either carries the new
 * value (written into the cache) or says what changed (those queries are read again). This is
 * the only place that listens to them for the cache; components just read queries.
 *
 * - `vault-status` → the vault (a lock forgets the profile's data: it is read again after the
 *   next unlock)
 * - `twofa-status` → the two-factor state (changes from the CLI, a lockout, the window closing)
 * - `settings-changed` → the settings
 * - `accounts-changed` → those accounts and the list (all of them when `accountIds` is empty),
 *   their money (paper engine or broker, by mode) and their risk reports (status, mode, rules)
 * - `connections-changed` → the connections snapshot (channels started, stopped or restarted:
 *   the runtime says so only when the set really changed, not on every account edit)
 * - `connection-event` → the channel's state, history and quality, at once
 * - `connection-stats` → every running channel's live facts, once a second
 * - `order-update` → that order, its account's orders and money, and Needs review
 * - `orders-changed` → those accounts' orders and money (another process, a reset)
 * - `account-money` → that account's money and positions (carries the new value)
 * - `risk-update` → that account's risk report, and its entry in the list of every account's
 *   (carries the new value; several a second for accounts with loss rules; an older report than
 *   the one held is ignored, an account the list does not know re-reads the list)
 * - `safe-state` → the start-up checks' outcome (the safe state's banner; carries the new value)
 * - anything that writes the audit log → the Activity queries
 *
 * Prices (`price-update`, `price-notice`) go to the price store (`priceStore.ts`), not here:
 * tens of batches a second are better kept outside React's state.
 */
import type { QueryClient } from "@tanstack/react-query";
import * as api from "../api/client";
import type { AccountConnections } from "../bindings/AccountConnections";
import type { RiskReport } from "../bindings/RiskReport";
import type { VaultStatus } from "../bindings/VaultStatus";
import { foldEvent, foldStats } from "../lib/connections";
import { PROFILE_KEYS, keys } from "./keys";

/** At most one `connections_snapshot` per this many ms when events name something unknown. */
export const SNAPSHOT_THROTTLE_MS = 1000;

/** Reads the connections snapshot again, at most once per `SNAPSHOT_THROTTLE_MS` (leading and trailing). */
export function snapshotRefresher(qc: QueryClient, throttleMs = SNAPSHOT_THROTTLE_MS): { request: () => void; stop: () => void } {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    last = Date.now();
    void qc.invalidateQueries({ queryKey: keys.connections });
  };
  return {
    request() {
      if (timer !== null) return;
      const wait = last + throttleMs - Date.now();
      if (wait <= 0) run();
      else
        timer = setTimeout(() => {
          timer = null;
          run();
        }, wait);
    },
    stop() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}

/** Writes a vault status into the cache; a locked vault forgets the profile's data. */
export function setVaultStatus(qc: QueryClient, status: VaultStatus): void {
  qc.setQueryData(keys.vault, status);
  if (status.locked) {
    for (const queryKey of PROFILE_KEYS) qc.removeQueries({ queryKey });
  }
}

/** Whether `next` is not older than `held` (both carry the time they were measured at). */
const notOlder = (next: RiskReport, held: RiskReport | undefined) => !held || Date.parse(next.at) >= Date.parse(held.at);

/**
 * Writes an account's risk report into the cache: its own query, and its entry in the list of
 * every account's (the list is not created when nobody read it; an account it does not hold
 * has it read again, so the accounts' order stays the core's). A report older than the one
 * held (a read that was overtaken by an event) is ignored.
 */
export function setRiskReport(qc: QueryClient, report: RiskReport): void {
  const one = keys.riskOf(report.accountId);
  if (notOlder(report, qc.getQueryData<RiskReport>(one))) qc.setQueryData(one, report);
  const list = qc.getQueryData<RiskReport[]>(keys.risk);
  if (list === undefined) return;
  const i = list.findIndex((r) => r.accountId === report.accountId);
  if (i < 0) {
    void qc.invalidateQueries({ queryKey: keys.risk, exact: true });
    return;
  }
  if (!notOlder(report, list[i])) return;
  qc.setQueryData(keys.risk, list.map((r, j) => (j === i ? report : r)));
}

/** Subscribes the cache to the backend's events. Returns a function that unsubscribes. */
export function connectCacheToEvents(qc: QueryClient): () => void {
  const snapshot = snapshotRefresher(qc);
  const auditChanged = () => void qc.invalidateQueries({ queryKey: keys.audit });
  /** Folds into the cached connections; re-reads the snapshot when something is unknown. */
  const foldConnections = (fold: (accounts: AccountConnections[]) => { accounts: AccountConnections[]; known: boolean }) => {
    const current = qc.getQueryData<AccountConnections[]>(keys.connections);
    if (current === undefined) return; // nobody shows connections, or the first read is under way
    const { accounts, known } = fold(current);
    if (accounts !== current) qc.setQueryData(keys.connections, accounts);
    if (!known) snapshot.request();
  };

  const stops = [
    api.onVaultStatus((status) => {
      setVaultStatus(qc, status);
      auditChanged();
    }),
    api.onTwofaStatus((status) => {
      qc.setQueryData(keys.twofa, status);
      auditChanged();
    }),
    api.onSettingsChanged((settings) => {
      qc.setQueryData(keys.settings, settings);
      auditChanged();
    }),
    api.onAccountsChanged(({ accountIds }) => {
      // An account's money comes from the paper engine or the broker by its mode: read again.
      // Its risk report carries its status, mode and rules: read again too.
      if (accountIds.length === 0) {
        void qc.invalidateQueries({ queryKey: keys.accounts });
        void qc.invalidateQueries({ queryKey: keys.trading });
        void qc.invalidateQueries({ queryKey: keys.risk });
      } else {
        void qc.invalidateQueries({ queryKey: keys.accountList });
        void qc.invalidateQueries({ queryKey: keys.risk, exact: true });
        for (const id of accountIds) {
          void qc.invalidateQueries({ queryKey: keys.account(id) });
          void qc.invalidateQueries({ queryKey: keys.money(id) });
          void qc.invalidateQueries({ queryKey: keys.riskOf(id) });
        }
      }
      auditChanged();
    }),
    api.onConnectionsChanged(() => snapshot.request()),
    api.onOrderUpdate((order) => {
      void qc.invalidateQueries({ queryKey: keys.orders(order.accountId) });
      void qc.invalidateQueries({ queryKey: keys.order(order.accountId, order.id) });
      void qc.invalidateQueries({ queryKey: keys.money(order.accountId) });
      void qc.invalidateQueries({ queryKey: keys.review });
    }),
    api.onOrdersChanged(({ accountIds }) => {
      if (accountIds.length === 0) void qc.invalidateQueries({ queryKey: keys.trading });
      else {
        for (const id of accountIds) {
          void qc.invalidateQueries({ queryKey: keys.orders(id) });
          void qc.invalidateQueries({ queryKey: keys.money(id) });
        }
        void qc.invalidateQueries({ queryKey: keys.review });
      }
    }),
    api.onAccountMoney((money) => qc.setQueryData(keys.money(money.accountId), money)),
    api.onRiskUpdate((report) => setRiskReport(qc, report)),
    api.onSafeState((report) => qc.setQueryData(keys.startup, report)),
    api.onConnectionEvent((event) => foldConnections((accounts) => foldEvent(accounts, event))),
    api.onConnectionStats((stats) => foldConnections((accounts) => foldStats(accounts, stats))),
  ];
  return () => {
    snapshot.stop();
    stops.forEach((stop) => stop());
  };
}
