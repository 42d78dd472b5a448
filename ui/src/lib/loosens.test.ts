import { describe, expect, it } from "vitest";
import type { AccountInput } from "../bindings/AccountInput";
import { FTMO } from "../test/fixtures";
import { formFromAccount, toAccountInput } from "./accountForm";
import { loosenedProtections } from "./loosens";

/** The input that saves FTMO as it is, with `patch` applied to it. */
function edited(patch: (input: AccountInput) => AccountInput): AccountInput {
  const r = toAccountInput(formFromAccount(FTMO), FTMO.status);
  if (!r.ok) throw new Error("the fixture does not convert");
  return patch(r.input);
}

describe("loosenedProtections", () => {
  it("finds nothing when nothing changed, or when protection only tightens", () => {
    expect(loosenedProtections(FTMO, edited((i) => i))).toEqual([]);
    const tighter = edited((i) => ({
      ...i,
      propFirm: { ...i.propFirm, maxDailyLossPct: "4", safetyBufferPct: "90" },
      risk: { ...i.risk, maxOpenPositions: 2, maxQty: "10", allowedInstruments: ["EUR_USD"] },
      weekendTrading: false,
    }));
    expect(loosenedProtections(FTMO, tighter)).toEqual([]);
  });

  it("names each loosened protection as the core does", () => {
    const looser = edited((i) => ({
      ...i,
      propFirm: { ...i.propFirm, maxDailyLossPct: "6", maxTotalLossPct: null, initialBalance: "200000", dailyBreach: "pause", closeOnBreach: false },
      risk: { ...i.risk, maxOpenPositions: null, maxLeverage: "50", requireStopLoss: false },
    }));
    expect(loosenedProtections(FTMO, looser)).toEqual([
      "max daily loss",
      "max total loss",
      "initial balance",
      "daily breach action",
      "close positions on breach",
      "max open positions",
      "max leverage",
      "stop-loss required",
    ]);
  });

  it("treats another clock as loosening when there are loss rules, and compares decimals exactly", () => {
    expect(loosenedProtections(FTMO, edited((i) => ({ ...i, propFirm: { ...i.propFirm, resetTimezone: "UTC" } })))).toEqual([
      "the loss rules' clock or base",
    ]);
    expect(loosenedProtections(FTMO, edited((i) => ({ ...i, propFirm: { ...i.propFirm, maxDailyLossPct: "5.00" } })))).toEqual([]);
    expect(loosenedProtections(FTMO, edited((i) => ({ ...i, propFirm: { ...i.propFirm, maxDailyLossPct: "5.000001" } })))).toEqual(["max daily loss"]);
  });

  it("widening the allowed instruments, trading at weekends and dropping trading hours loosen", () => {
    const before = { ...FTMO, weekendTrading: false, tradingHours: { start: "08:00", end: "17:00", timezone: "UTC" }, risk: { ...FTMO.risk, allowedInstruments: ["EUR_USD"] } };
    const base = toAccountInput(formFromAccount(before), before.status);
    if (!base.ok) throw new Error("the fixture does not convert");
    expect(loosenedProtections(before, base.input)).toEqual([]);
    expect(loosenedProtections(before, { ...base.input, risk: { ...base.input.risk, allowedInstruments: ["eur_usd", "GBP_USD"] } })).toEqual(["allowed instruments"]);
    expect(loosenedProtections(before, { ...base.input, risk: { ...base.input.risk, allowedInstruments: [] } })).toEqual(["allowed instruments"]);
    expect(loosenedProtections(before, { ...base.input, weekendTrading: true, tradingHours: null })).toEqual(["weekend trading", "trading hours"]);
  });
});
