import { describe, expect, it } from "vitest";
import type { AccountConnections } from "../bindings/AccountConnections";
import type { ChannelStatus } from "../bindings/ChannelStatus";
import { FTMO, bareChannel } from "../test/fixtures";
import { Code } from "../api/errors";
import { certificateView, connectionRefusedCertificate, shownFingerprint } from "./certificate";

const A = "AA:".repeat(31) + "AA";
const B = "BB:".repeat(31) + "BB";
const IB = { ...FTMO, id: "acc_ib", broker: "ibkr" as const, tlsPin: null };

function channel(state: ChannelStatus["state"]): ChannelStatus {
  return bareChannel("order", state, "down");
}

describe("the gateway certificate", () => {
  it("is shown as SHA-256 pairs", () => {
    expect(shownFingerprint(A)).toBe(`SHA-256 ${A}`);
  });

  it("is nothing for other brokers, pinned on first use for IBKR", () => {
    expect(certificateView(FTMO, false)).toEqual({ kind: "none" });
    expect(certificateView(IB, false)).toEqual({ kind: "unpinned" });
    const pinned = { ...IB, tlsPin: { sha256: A, origin: "localhost:5000", pinnedAt: "2026-11-02T09:15:00Z", refusedSha256: null } };
    expect(certificateView(pinned, false)).toMatchObject({ kind: "pinned", pinned: A, origin: "localhost:5000" });
  });

  it("offers the refused certificate once a connection failed with certificate_changed", () => {
    const refused = { ...IB, tlsPin: { sha256: A, origin: "localhost:5000", pinnedAt: "2026-11-02T09:15:00Z", refusedSha256: B } };
    expect(certificateView(refused, true)).toMatchObject({ kind: "changed", pinned: A, presented: B });
    // No failing connection (the gateway is back on the pinned certificate): nothing to trust.
    expect(certificateView(refused, false)).toMatchObject({ kind: "pinned", pinned: A });
    // Failed, and the refused fingerprint not recorded yet.
    const notYet = { ...refused, tlsPin: { ...refused.tlsPin, refusedSha256: null } };
    expect(certificateView(notYet, true)).toMatchObject({ kind: "changed", presented: null });
    const connections: AccountConnections[] = [
      { accountId: "acc_ib", name: "IB", broker: "ibkr", channels: [channel({ state: "failed", code: Code.CertificateChanged, reason: "…" })] },
      { accountId: "acc_other", name: "X", broker: "ibkr", channels: [channel({ state: "failed", code: Code.BrokerAuth, reason: "…" })] },
    ];
    expect(connectionRefusedCertificate(connections, "acc_ib")).toBe(true);
    expect(connectionRefusedCertificate(connections, "acc_other")).toBe(false);
    expect(connectionRefusedCertificate(connections, "acc_none")).toBe(false);
  });
});
