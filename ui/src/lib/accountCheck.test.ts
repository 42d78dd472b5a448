import { describe, expect, it } from "vitest";
import { brokerReason, formatMoney, isRefusal, outcomeView, refusalTitle, saveWillCheck, sentence } from "./accountCheck";
import { emptyForm, formFromAccount } from "./accountForm";
import { FTMO } from "../test/fixtures";

const ftmo = FTMO;

describe("account check wording", () => {
  it("keeps the broker's reason and drops what the UI says in its own words", () => {
    expect(brokerReason("the broker refused the credentials: HTTP 401: Insufficient authorization to perform request.; nothing was saved")).toBe(
      "HTTP 401: Insufficient authorization to perform request.",
    );
    expect(brokerReason("network error: connection refused; saved without checking — run `account verify` once the broker can be reached")).toBe(
      "Network error: connection refused.",
    );
    expect(brokerReason("not found at the broker: account 1; nothing was saved")).toBe("Not found at the broker: account 1.");
    expect(sentence("done!")).toBe("Done!");
    expect(sentence("")).toBe("");
  });

  it("classifies refusals and names the broker in their headings", () => {
    expect(isRefusal("broker_auth")).toBe(true);
    expect(isRefusal("verify_rate_limited")).toBe(true);
    expect(isRefusal("validation")).toBe(false);
    expect(refusalTitle("broker_auth", "OANDA")).toBe("OANDA refused the credentials");
    expect(refusalTitle("broker_rejected", "Alpaca")).toBe("Alpaca rejected the request");
    expect(refusalTitle("verify_rate_limited", "Alpaca")).toBe("Too many checks in the last minute");
    expect(outcomeView({ status: "skipped", reason: "no credentials to check" }, "test")).toEqual({ kind: "skipped", action: "test", reason: "no credentials to check" });
  });

  it("formats amounts in the account's currency", () => {
    expect(formatMoney("100412.57", "USD")).toBe("$100,412.57");
    expect(formatMoney("1000", "EUR")).toBe("€1,000.00");
    expect(formatMoney("5", "XYZ")).toMatch(/5\.00/);
    // Exact: digits past a float's 17 survive, and rounding is decimal (…0.125 → …0.13).
    expect(formatMoney("123456789012345678.125", "USD")).toBe("$123,456,789,012,345,678.13");
    expect(formatMoney("-2.5", "USD")).toBe("-$2.50");
  });

  it("knows when saving makes the backend check with the broker", () => {
    const oanda = { ...emptyForm(), broker: "oanda" as const, name: "X" };
    expect(saveWillCheck(null, oanda, 1)).toBe(false);
    expect(saveWillCheck(null, { ...oanda, credentials: { apiKey: "tok", apiSecret: "" } }, 1)).toBe(true);
    expect(saveWillCheck(null, { ...emptyForm(), broker: "paper" }, 0)).toBe(false);
    const edit = formFromAccount(ftmo);
    expect(saveWillCheck(ftmo, edit, 1)).toBe(false);
    expect(saveWillCheck(ftmo, { ...edit, status: "suspended" }, 1)).toBe(false);
    expect(saveWillCheck(ftmo, { ...edit, environment: "live" }, 1)).toBe(true);
    expect(saveWillCheck(ftmo, { ...edit, restUrl: "https://x.test" }, 1)).toBe(true);
  });
});
