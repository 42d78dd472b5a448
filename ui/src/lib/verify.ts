/**
 * "Verify with broker" (`account_verify`): checks a saved account's stored credentials with its
 * broker. A success is what lets the account trade live: the backend wants a successful check
 * within the last 24 hours before it switches an account to live mode.
 */
import { Code } from "../api/errors";
import type { AccountSummary } from "../bindings/AccountSummary";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { Code as CodeName } from "../bindings/Code";

/** How long a successful check counts for the switch to live trading. */
export const LIVE_UNLOCK_MS = 24 * 60 * 60 * 1000;

export type VerifyState =
  | { phase: "idle" }
  | { phase: "checking" }
  | { phase: "verified"; summary: AccountSummary; at: number }
  | { phase: "failed"; code: CodeName; message: string };

/** Whether a broker has anything to verify (the built-in paper broker does not). */
export const canVerify = (broker: BrokerKind) => broker !== "paper";

/** Codes after which trying again soon may well work. */
const RETRYABLE: ReadonlySet<CodeName> = new Set<CodeName>([
  Code.BrokerNetwork,
  Code.BrokerTimeout,
  Code.BrokerUnavailable,
  Code.BrokerRateLimited,
  Code.Internal,
]);

export interface VerifyFailure {
  title: string;
  /** What to do about it. */
  advice: string;
  /** Offer "Try again" (the broker could not be reached, or was busy). */
  retry: boolean;
  /** The broker (or the check's limit) refused, rather than could not answer. */
  refused: boolean;
  /** The fix is in the account's settings (credentials, account ID, endpoints). */
  edit: boolean;
}

/** Codes whose fix is editing the account. */
const EDIT: ReadonlySet<CodeName> = new Set<CodeName>([
  Code.BrokerAuth,
  Code.BrokerNotFound,
  Code.BrokerConfig,
  Code.BrokerRejected,
  Code.CiphertextTampered,
  Code.CiphertextMisbound,
]);

/** The heading and advice for a failed verification, by error code. */
export function verifyFailure(code: CodeName, broker: string): VerifyFailure {
  const retry = RETRYABLE.has(code);
  const f = (title: string, advice: string, refused = false): VerifyFailure => ({ title, advice, retry, refused, edit: EDIT.has(code) });
  switch (code) {
    case Code.BrokerAuth:
      return f(`${broker} refused the stored credentials`, "Edit the account and enter its credentials again (keys are issued per environment), then verify.", true);
    case Code.BrokerNetwork:
      return f(`${broker} could not be reached`, "Check this computer's internet connection and the account's endpoints, then try again.");
    case Code.BrokerTimeout:
      return f(`${broker} did not answer in time`, "The broker may be slow right now. Try again in a moment.");
    case Code.BrokerUnavailable:
      return f(`${broker} is unavailable right now`, "Brokers are sometimes down for maintenance. Try again later.");
    case Code.BrokerRateLimited:
      return f(`${broker} is limiting requests`, "Wait a minute, then try again.");
    case Code.VerifyRateLimited:
      return f("Too many checks in the last minute", "Wait a minute before verifying again: brokers lock out clients that sign in too often.", true);
    case Code.BrokerNotFound:
      return f(`${broker} does not know this account`, "Check the account ID in the account's settings.", true);
    case Code.BrokerConfig:
      return f(`These settings cannot be used with ${broker}`, "Check the account ID, the credentials and the endpoints in the account's settings.", true);
    case Code.BrokerRejected:
      return f(`${broker} rejected the request`, "Check the account's settings, then try again.", true);
    case Code.BrokerUnsupported:
      return f(`${broker} accounts cannot be verified`, "This broker has nothing to check credentials against.", true);
    case Code.CiphertextTampered:
    case Code.CiphertextMisbound:
      return f("The stored credentials cannot be read", "Edit the account and enter its credentials again.", true);
    case Code.NotFound:
      return f("This account no longer exists", "It may have been removed from the command line.", true);
    default:
      return f("The check failed", "Try again. If it keeps failing, the message above says why.");
  }
}

/** "Nov 22, 2026, 3:04 PM": until when a check made at `at` lets the account switch to live trading. */
export function liveUnlockUntil(at: number): string {
  return new Date(at + LIVE_UNLOCK_MS).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
