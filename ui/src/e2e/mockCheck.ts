/**
 * The fake backend's "check with the broker" (browser tests only), following the policy of
 * core's `api/check.rs`: a refusal is an error and nothing is saved; an unreachable broker is an
 * outcome (saved unverified); the paper broker and accounts without credentials are skipped.
 *
 * Magic inputs drive it:
 * - a key or secret containing `wrong` → `broker_auth` (the broker refuses it);
 * - a REST URL containing `offline` → `unreachable`;
 * - an OANDA token containing `multi` reaches two accounts (`MOCK_MULTI_ACCOUNTS`): without an
 *   account id, `choose_broker_account`; any other OANDA token reaches one account.
 *
 * `mockVerify` is `account_verify` of a saved account: the same broker, but every failure is an
 * error (an unreachable broker too) and nothing is saved either way.
 */
import type { AccountSummary } from "../bindings/AccountSummary";
import type { BrokerAccountRef } from "../bindings/BrokerAccountRef";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { CheckOutcome } from "../bindings/CheckOutcome";
import type { Environment } from "../bindings/Environment";
import { fail } from "./mockErrors";

export const WRONG_MARK = "wrong";
export const OFFLINE_MARK = "offline";
export const MULTI_MARK = "multi";

/** The accounts the `multi` OANDA token reaches (OANDA sends no labels; the mock labels one to show both). */
export const MOCK_MULTI_ACCOUNTS: BrokerAccountRef[] = [
  { accountId: "101-004-5550100-001", label: "Primary (USD)" },
  { accountId: "101-004-5550100-002", label: null },
];

/** What a check looks at: the draft, with stored credentials filled in for an existing account. */
export interface CheckTarget {
  broker: BrokerKind;
  environment: Environment;
  brokerAccountId: string | null;
  restUrl: string | null;
  apiKey: string | null;
  apiSecret: string | null;
}

export interface CheckResult {
  outcome: CheckOutcome;
  /** The account id to save: an OANDA token reaching one account fills it in. */
  brokerAccountId: string | null;
}

const hasMark = (value: string | null, mark: string) => (value ?? "").toLowerCase().includes(mark);
const isWrong = (t: CheckTarget) => hasMark(t.apiKey, WRONG_MARK) || hasMark(t.apiSecret, WRONG_MARK);
const isOffline = (t: CheckTarget) => hasMark(t.restUrl, OFFLINE_MARK);

function hostOf(url: string | null): string {
  try {
    return url ? new URL(url).host : "the broker";
  } catch {
    return url ?? "the broker";
  }
}

/** The error `BrokerError::Auth` becomes; `refused` adds what the check's policy adds. */
function authError(refused: boolean): never {
  const message = "the broker refused the credentials: HTTP 401: Insufficient authorization to perform request.";
  return fail("broker_auth", refused ? `${message}; nothing was saved` : message);
}

function networkMessage(t: CheckTarget): string {
  return `network error: could not connect to ${hostOf(t.restUrl)} (connection refused)`;
}

/** The single OANDA account any other token reaches, derived from the token so it is stable. */
function singleOandaAccount(token: string): BrokerAccountRef {
  let h = 0;
  for (const c of token) h = (h * 31 + c.charCodeAt(0)) % 9_000_000;
  return { accountId: `101-004-${1_000_000 + h}-001`, label: null };
}

/** The accounts a credential reaches (`broker_accounts`). */
export function mockBrokerAccounts(t: CheckTarget): BrokerAccountRef[] {
  if (t.broker === "paper") return fail("broker_config", "configuration error: the built-in paper broker has no broker accounts");
  if (isOffline(t)) return fail("broker_network", networkMessage(t));
  if (t.apiKey === null && t.apiSecret === null) return fail("broker_config", "configuration error: enter the credentials first");
  if (isWrong(t)) return authError(false);
  if (t.broker === "oanda") return hasMark(t.apiKey, MULTI_MARK) ? structuredClone(MOCK_MULTI_ACCOUNTS) : [singleOandaAccount(t.apiKey ?? "")];
  return [{ accountId: defaultAccountId(t), label: null }];
}

function defaultAccountId(t: CheckTarget): string {
  if (t.brokerAccountId) return t.brokerAccountId;
  switch (t.broker) {
    case "alpaca":
      return t.environment === "live" ? "3KX7Q2M9ZD41" : "PA3KX7Q2M9ZD";
    case "tastytrade":
      return "5WT00001";
    default:
      return "VA00000001";
  }
}

const last4 = (id: string) => id.slice(-4);

function summaryFor(t: CheckTarget, accountId: string): AccountSummary {
  switch (t.broker) {
    case "oanda":
      return { accountId, accountLast4: last4(accountId), accountType: "margin", currency: "USD", balance: "100000", equity: "100412.57", buyingPower: "97240.18" };
    case "alpaca":
      return { accountId, accountLast4: last4(accountId), accountType: "margin", currency: "USD", balance: "25000", equity: "25318.4", buyingPower: "101273.6" };
    case "tastytrade":
      return { accountId, accountLast4: last4(accountId), accountType: "Individual Margin", currency: "USD", balance: "15000", equity: "15120.75", buyingPower: "30241.5" };
    default:
      return { accountId, accountLast4: last4(accountId), accountType: "cash", currency: "USD", balance: "10000", equity: "10250.5", buyingPower: "10250.5" };
  }
}

/**
 * Checks a draft with the "broker". Throws the refusals (`broker_auth`, `choose_broker_account`,
 * `broker_not_found`) with the message suffix the real check adds.
 */
export function mockCheck(t: CheckTarget): CheckResult {
  if (t.broker === "paper") {
    return { outcome: { status: "skipped", reason: "the built-in paper broker has no credentials to check" }, brokerAccountId: t.brokerAccountId };
  }
  if (t.apiKey === null && t.apiSecret === null) {
    return { outcome: { status: "skipped", reason: "no credentials to check" }, brokerAccountId: t.brokerAccountId };
  }
  if (isOffline(t)) {
    return {
      outcome: {
        status: "unreachable",
        code: "broker_network",
        message: `${networkMessage(t)}; saved without checking — run \`account verify\` once the broker can be reached`,
      },
      brokerAccountId: t.brokerAccountId,
    };
  }
  if (isWrong(t)) return authError(true);
  let accountId = t.brokerAccountId;
  if (t.broker === "oanda") {
    const reached = mockBrokerAccounts(t);
    if (accountId === null) {
      if (reached.length > 1) {
        const ids = reached.map((a) => a.accountId);
        fail(
          "choose_broker_account",
          `this OANDA token reaches ${ids.length} accounts (${ids.join(", ")}); choose one with --account-id (the app shows a picker)`,
          [{ field: "brokerAccountId", code: "choose_broker_account", message: "choose which of the token's accounts to add" }],
        );
      }
      accountId = reached[0]?.accountId ?? null;
    } else if (hasMark(t.apiKey, MULTI_MARK) && !reached.some((a) => a.accountId === accountId)) {
      fail("broker_not_found", `not found at the broker: account ${accountId} is not reachable with this token; nothing was saved`);
    }
  }
  const id = accountId ?? defaultAccountId(t);
  return { outcome: { status: "verified", summary: summaryFor(t, id) }, brokerAccountId: accountId };
}

/**
 * Verifies a saved account's stored credentials (`account_verify`): the broker's summary, or its
 * refusal (`broker_auth`), `broker_network` when it cannot be reached, `broker_config` without
 * credentials (Interactive Brokers has none: its gateway holds the session).
 */
export function mockVerify(t: CheckTarget): AccountSummary {
  if (t.broker === "paper") return fail("broker_unsupported", "unsupported by this broker: the built-in paper broker has nothing to verify");
  if (isOffline(t)) return fail("broker_network", networkMessage(t));
  if (t.apiKey === null && t.apiSecret === null && t.broker !== "ibkr") {
    return fail("broker_config", "configuration error: this account has no stored credentials; edit it and enter them");
  }
  if (isWrong(t)) return authError(false);
  const id = t.brokerAccountId ?? (t.broker === "oanda" ? singleOandaAccount(t.apiKey ?? "").accountId : defaultAccountId(t));
  return summaryFor(t, id);
}
