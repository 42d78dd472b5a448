import { describe, expect, test } from "vitest";
import { Code } from "../api/errors";
import { LIVE_UNLOCK_MS, canVerify, verifyFailure } from "./verify";

describe("verify", () => {
  test("only real brokers can be verified", () => {
    expect(canVerify("paper")).toBe(false);
    expect(canVerify("oanda")).toBe(true);
    expect(canVerify("ibkr")).toBe(true);
  });

  test("refusals say what to do and offer no retry; an unreachable broker offers one", () => {
    expect(verifyFailure(Code.BrokerAuth, "OANDA")).toMatchObject({ title: "OANDA refused the stored credentials", retry: false, refused: true, edit: true });
    expect(verifyFailure(Code.BrokerNetwork, "OANDA").edit).toBe(false);
    expect(verifyFailure(Code.VerifyRateLimited, "OANDA")).toMatchObject({ title: "Too many checks in the last minute", retry: false, refused: true });
    for (const code of [Code.BrokerNetwork, Code.BrokerTimeout, Code.BrokerUnavailable]) {
      expect(verifyFailure(code, "OANDA")).toMatchObject({ retry: true, refused: false });
    }
    expect(verifyFailure(Code.BrokerNetwork, "OANDA").title).toBe("OANDA could not be reached");
    expect(verifyFailure(Code.BrokerTimeout, "OANDA").title).toBe("OANDA did not answer in time");
    expect(verifyFailure(Code.BrokerUnavailable, "OANDA").title).toBe("OANDA is unavailable right now");
    expect(verifyFailure(Code.CiphertextTampered, "Alpaca").title).toBe("The stored credentials cannot be read");
    // A code without its own wording.
    expect(verifyFailure(Code.Storage, "OANDA")).toMatchObject({ title: "The check failed", refused: false });
    expect(LIVE_UNLOCK_MS).toBe(86_400_000);
  });
});
