/** The gateway certificate pinned for an IBKR account (core: `brokers/pin.rs`), without React. */
import { Code } from "../api/errors";
import type { Account } from "../bindings/Account";
import type { AccountConnections } from "../bindings/AccountConnections";

/** How a pinned fingerprint is shown: `SHA-256 AA:BB:…`. */
export function shownFingerprint(sha256: string): string {
  return `SHA-256 ${sha256}`;
}

/** Whether one of the account's connections failed because the gateway presented another certificate. */
export function connectionRefusedCertificate(connections: AccountConnections[] | null, accountId: string): boolean {
  const account = (connections ?? []).find((a) => a.accountId === accountId);
  return (account?.channels ?? []).some((c) => c.state.state === "failed" && c.state.code === Code.CertificateChanged);
}

/** What the account page offers about the gateway's certificate. */
export type CertificateView =
  | { kind: "none" }
  | { kind: "unpinned" }
  | { kind: "pinned"; pinned: string; origin: string; pinnedAt: string }
  /** A connection failed with `certificate_changed`; `presented` is null until core has recorded it. */
  | { kind: "changed"; pinned: string; origin: string; pinnedAt: string; presented: string | null };

/**
 * The certificate part of an account's page: nothing for other brokers; "pinned on the first
 * connection" before one; the pin; or, while a connection of the account has failed with
 * `certificate_changed`, the offer to trust the certificate it refused (core records the
 * refused fingerprint with the account, and forgets it when a certificate is trusted).
 */
export function certificateView(account: Account, connectionRefused: boolean): CertificateView {
  if (account.broker !== "ibkr") return { kind: "none" };
  const pin = account.tlsPin;
  if (!pin) return { kind: "unpinned" };
  const base = { pinned: pin.sha256, origin: pin.origin, pinnedAt: pin.pinnedAt };
  if (connectionRefused) return { kind: "changed", ...base, presented: pin.refusedSha256 };
  return { kind: "pinned", ...base };
}
