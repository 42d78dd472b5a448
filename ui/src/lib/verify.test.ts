import { describe, expect, test } from "vitest";
import { LIVE_UNLOCK_MS, canVerify, verifyFailure } from "./verify";

describe("verify", () => {
  test("only real brokers can be verified", () => {
    expect(canVerify("paper")).toBe(false);
    expect(canVerify("oanda")).toBe(true);
    expect(canVerify("ibkr")).toBe(true);
  });

  test("refusals say what to do and offer no retry; an unreachable broker offers one", () => {
    expect(verifyFailure("broker_auth", "OANDA")).toMatchObject({ title: "OANDA refused the stored credentials", retry: false, refused: true, edit: true });
    expect(verifyFailure("broker_network", "OANDA").edit).toBe(false);
    expect(verifyFailure("verify_rate_limited", "OANDA")).toMatchObject({ title: "Too many checks in the last minute", retry: false, refused: true });
    for (const code of ["broker_network", "broker_timeout", "broker_unavailable"]) {
      expect(verifyFailure(code, "OANDA")).toMatchObject({ retry: true, refused: false });
    }
    expect(verifyFailure("broker_network", "OANDA").title).toBe("OANDA could not be reached");
    expect(verifyFailure("broker_timeout", "OANDA").title).toBe("OANDA did not answer in time");
    expect(verifyFailure("broker_unavailable", "OANDA").title).toBe("OANDA is unavailable right now");
    expect(verifyFailure("ciphertext_tampered", "Alpaca").title).toBe("The stored credentials cannot be read");
    expect(verifyFailure("something_new", "OANDA")).toMatchObject({ title: "The check failed", refused: false });
    expect(LIVE_UNLOCK_MS).toBe(86_400_000);
  });
});
