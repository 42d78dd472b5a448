import type { AccountStatus } from "../bindings/AccountStatus";
import type { StatusChange } from "../bindings/StatusChange";

/** What each status lets the account do (core's pre-trade checks enforce it, paper and live). */
export const STATUS_MEANINGS: Record<AccountStatus, string> = {
  active: "Trading normally: every order is checked against the rules and limits before it is stored or sent.",
  suspended: "No new positions. Orders that reduce or close a position are still allowed.",
  in_drawdown: "Close-only until the next daily reset: the day's loss limit (or its safety buffer) was reached. Orders that reduce a position are allowed.",
  terminated: "No orders at all, not even closing ones. Terminated is final: add a new account to trade again.",
};

/** A status change a person can make by hand. */
export type StatusAction = "suspend" | "reactivate" | "terminate";

/** The status each action moves the account to. */
export const ACTION_STATUS: Record<StatusAction, AccountStatus> = {
  suspend: "suspended",
  reactivate: "active",
  terminate: "terminated",
};

/**
 * The actions allowed from a status (core's status machine, `risk::status`): suspended and in
 * drawdown may be reactivated (with a two-factor code when 2FA is on), active and in drawdown
 * suspended, anything but terminated terminated; terminated is final.
 */
export function statusActions(status: AccountStatus): StatusAction[] {
  switch (status) {
    case "active":
      return ["suspend", "terminate"];
    case "suspended":
      return ["reactivate", "terminate"];
    case "in_drawdown":
      return ["reactivate", "suspend", "terminate"];
    case "terminated":
      return [];
  }
}

/** The history, newest first (the store keeps it oldest first). */
export function historyNewestFirst(history: readonly StatusChange[]): StatusChange[] {
  return history
    .map((h, i) => ({ h, i }))
    .sort((a, b) => b.h.changedAt.localeCompare(a.h.changedAt) || b.i - a.i)
    .map(({ h }) => h);
}
