import type { Account } from "../bindings/Account";
import type { AccountStatus } from "../bindings/AccountStatus";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { ModeLabel } from "../bindings/ModeLabel";
import { BROKER_ORDER, STATUSES, modeLabelOf } from "./labels";

export interface AccountSummary {
  total: number;
  byBroker: { broker: BrokerKind; count: number }[];
  byMode: Record<ModeLabel, number>;
  byStatus: Record<AccountStatus, number>;
}

/** Counts accounts by broker (only brokers in use, in catalog order), by mode label (paper / broker practice / real money) and by status. */
export function summarizeAccounts(accounts: readonly Account[]): AccountSummary {
  const byMode: Record<ModeLabel, number> = { paper: 0, broker_practice: 0, real_money: 0 };
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<AccountStatus, number>;
  const brokers = new Map<BrokerKind, number>();
  for (const a of accounts) {
    byMode[modeLabelOf(a.mode, a.environment)] += 1;
    byStatus[a.status] += 1;
    brokers.set(a.broker, (brokers.get(a.broker) ?? 0) + 1);
  }
  const byBroker = BROKER_ORDER.filter((b) => brokers.has(b)).map((broker) => ({ broker, count: brokers.get(broker) ?? 0 }));
  return { total: accounts.length, byBroker, byMode, byStatus };
}
