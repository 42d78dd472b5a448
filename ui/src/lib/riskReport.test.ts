import { describe, expect, it } from "vitest";
import { budget } from "../test/risk";
import { budgetView, money, untilText, zoneTime } from "./riskReport";

describe("budgetView", () => {
  it("shows a budget in money, with where Brokerdesk acts", () => {
    const v = budgetView(budget(5000, 100000, 2000), "USD");
    expect(v).toMatchObject({ limit: "$5,000.00", used: "$2,000.00", remaining: "$3,000.00", usedPct: 40, trigger: "$95,000.00", buffered: false, exhausted: false });
  });

  it("marks a safety buffer: Brokerdesk acts before the firm's floor", () => {
    const v = budgetView(budget(5000, 100000, 1000, 90), "EUR");
    expect(v).toMatchObject({ remaining: "€3,500.00", trigger: "€95,500.00", floor: "€95,000.00", buffered: true, actAtPct: 90 });
  });

  it("says when nothing more may be lost, and keeps the meter within 0–100", () => {
    const v = budgetView(budget(5000, 100000, 6000), "USD");
    expect(v.exhausted).toBe(true);
    expect(v.usedPct).toBe(100);
  });
});

describe("money", () => {
  it("formats without a currency when none is known yet", () => {
    expect(money("1234.5", "")).toBe("1,234.50");
    expect(money("1234.5", "GBP")).toBe("£1,234.50");
  });
});

describe("times", () => {
  it("shows the reset on the firm's clock, across daylight saving", () => {
    // Midnight in Prague: 23:00 UTC in winter, 22:00 UTC in summer.
    expect(zoneTime("2026-11-21T23:00:00Z", "Europe/Prague")).toMatch(/Nov.*22|22.*Nov/);
    expect(zoneTime("2026-11-21T23:00:00Z", "Europe/Prague")).toMatch(/(12|00):00/);
    expect(zoneTime("2026-07-01T22:00:00Z", "Europe/Prague")).toMatch(/(12|00):00/);
    expect(zoneTime("2026-11-21T23:00:00Z", "Not/AZone")).toBeNull();
  });

  it("says how long until the reset", () => {
    const now = Date.parse("2026-11-21T12:00:00Z");
    expect(untilText("2026-11-21T23:00:00Z", now)).toBe("in 11 h 0 min");
    expect(untilText("2026-11-21T12:42:10Z", now)).toBe("in 42 min");
    expect(untilText("2026-11-21T12:00:30Z", now)).toBe("now");
    expect(untilText("2026-11-23T13:00:00Z", now)).toBe("in 2 d 1 h");
  });
});
