/**
 * Risk fixtures for the unit and component tests, typed by the generated bindings: what the
 * core's `risk_report(s)` and `kill_switch` send.
 */
import type { Budget } from "../bindings/Budget";
import type { KillSwitchReport } from "../bindings/KillSwitchReport";
import type { RiskReport } from "../bindings/RiskReport";

export const RISK_AT = "2026-11-21T12:00:00Z";

/** A budget of `limit` measured from `reference`, `used` of it lost, acting at `buffer`% of the limit. */
export function budget(limit: number, reference: number, used: number, buffer = 100): Budget {
  const actAt = (limit * buffer) / 100;
  return {
    limit: limit.toFixed(2),
    used: used.toFixed(2),
    remaining: Math.max(actAt - used, 0).toFixed(2),
    usedPct: ((used / limit) * 100).toFixed(2),
    reference: reference.toFixed(2),
    floor: (reference - limit).toFixed(2),
    trigger: (reference - actAt).toFixed(2),
  };
}

/** "FTMO challenge": FTMO 2-Step on 100,000, down 2,000 today; resets at midnight Prague (23:00 UTC in winter). */
export const FTMO_RISK: RiskReport = {
  accountId: "acc_ftmo",
  name: "FTMO challenge",
  status: "active",
  mode: "paper",
  preset: "ftmo",
  currency: "USD",
  balance: "100000.00",
  equity: "98000.00",
  initialBalance: "100000",
  initialBalanceSource: "configured",
  daily: budget(5000, 100000, 2000),
  total: budget(10000, 100000, 2000),
  dayStartedAt: "2026-11-20T23:00:00Z",
  nextResetAt: "2026-11-21T23:00:00Z",
  resetTimezone: "Europe/Prague",
  unmeasured: null,
  at: RISK_AT,
};

/** "Alpaca swing": no loss rules. */
export const ALPACA_RISK: RiskReport = {
  accountId: "acc_alpaca",
  name: "Alpaca swing",
  status: "active",
  mode: "paper",
  preset: "none",
  currency: "USD",
  balance: "25000.00",
  equity: "25000.00",
  initialBalance: null,
  initialBalanceSource: "first_seen",
  daily: null,
  total: null,
  dayStartedAt: null,
  nextResetAt: null,
  resetTimezone: "UTC",
  unmeasured: null,
  at: RISK_AT,
};

/** A kill switch that cancelled FTMO's order, could not cancel Tasty's, and left a position open. */
export const KILL_REPORT: KillSwitchReport = {
  flatten: false,
  startedAt: RISK_AT,
  elapsedMs: 412,
  failures: 1,
  accounts: [
    {
      accountId: "acc_ftmo",
      name: "FTMO challenge",
      wasLive: false,
      status: "suspended",
      // The core gives the order's reason as the detail: here the status again.
      orders: [{ orderId: "ord_1", symbol: "EUR_USD", outcome: "cancelled", detail: "cancelled" }],
      positions: [],
      error: null,
    },
    {
      accountId: "acc_tasty",
      name: "Tasty options",
      wasLive: true,
      status: "suspended",
      orders: [{ orderId: "ord_2", symbol: "SPY", outcome: "failed", detail: "the broker did not answer in 10 s" }],
      positions: [{ symbol: "QQQ", quantity: "10", outcome: "open", orderId: null, detail: null }],
      error: null,
    },
  ],
};
