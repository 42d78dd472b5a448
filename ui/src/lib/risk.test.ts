import { describe, expect, it } from "vitest";
import { KILL_REPORT, budget } from "../test/risk";
import { ORDER_OUTCOME, POSITION_OUTCOME, countdown, gaugeFill, gaugeTone, hasLossRules, killTotals, outcomeText, outcomeTone, triggerPct, zoneTime } from "./risk";

describe("risk words", () => {
  it("a gauge is amber from 80 % used and red from 95 %", () => {
    expect(gaugeTone("0")).toBe("ok");
    expect(gaugeTone("79.99")).toBe("ok");
    expect(gaugeTone("80")).toBe("warn");
    expect(gaugeTone("94.99")).toBe("warn");
    expect(gaugeTone("95.00")).toBe("danger");
    expect(gaugeTone("140")).toBe("danger");
    expect(gaugeTone("not a number")).toBe("ok");
  });

  it("the bar fills with the share used, full past the limit", () => {
    expect(gaugeFill("0")).toBe(0);
    expect(gaugeFill("40.5")).toBe(40.5);
    expect(gaugeFill("120")).toBe(100);
    expect(gaugeFill("-3")).toBe(0);
  });

  it("the trigger mark sits where a safety buffer makes Brokerdesk act, and not at all without one", () => {
    expect(triggerPct(budget(5000, 100000, 2000))).toBeNull();
    expect(triggerPct(budget(5000, 100000, 2000, 90))).toBe(90);
    expect(triggerPct(budget(10000, 100000, 0, 75))).toBe(75);
    expect(triggerPct({ ...budget(5000, 100000, 0), limit: "0.00" })).toBeNull();
  });

  it("counts down to the reset in days, hours, minutes and seconds", () => {
    expect(countdown(0)).toBe("00:00");
    expect(countdown(-5000)).toBe("00:00");
    expect(countdown(65_000)).toBe("01:05");
    expect(countdown(4 * 3600_000 + 12 * 60_000 + 3_000)).toBe("04:12:03");
    expect(countdown(4 * 3600_000 + 12 * 60_000 + 2_001)).toBe("04:12:03");
    expect(countdown(400)).toBe("00:01");
    expect(countdown(2 * 86_400_000 + 3 * 3600_000 + 4 * 60_000 + 5_000)).toBe("2d 03:04:05");
  });

  it("names the reset's time in the firm's zone, with the weekday when it is another day there", () => {
    const now = Date.parse("2026-11-21T12:00:00Z");
    // Prague is UTC+1 in November: 23:00 UTC is midnight, the next day there.
    expect(zoneTime("2026-11-21T23:00:00Z", "Europe/Prague", now)).toBe("Sun 00:00");
    expect(zoneTime("2026-11-21T22:00:00Z", "Europe/Prague", now)).toBe("23:00");
    // In summer Prague is UTC+2.
    expect(zoneTime("2026-07-01T22:00:00Z", "Europe/Prague", Date.parse("2026-07-01T12:00:00Z"))).toBe("Thu 00:00");
    // An unknown zone falls back to UTC instead of throwing.
    expect(zoneTime("2026-11-21T22:00:00Z", "Mars/Olympus", now)).toBe("22:00");
  });

  it("an account has loss rules with a daily or a total limit", () => {
    const rules = (d: string | null, t: string | null) => ({ propFirm: { maxDailyLossPct: d, maxTotalLossPct: t } }) as Parameters<typeof hasLossRules>[0];
    expect(hasLossRules(rules(null, null))).toBe(false);
    expect(hasLossRules(rules("5", null))).toBe(true);
    expect(hasLossRules(rules(null, "10"))).toBe(true);
  });

  it("the kill switch's outcomes read as done, still at risk or failed", () => {
    expect(outcomeTone("cancelled")).toBe("ok");
    expect(outcomeTone("not_open")).toBe("ok");
    expect(outcomeTone("closed")).toBe("ok");
    expect(outcomeTone("failed")).toBe("bad");
    expect(outcomeTone("needs_review")).toBe("bad");
    expect(outcomeTone("open")).toBe("warn");
    expect(outcomeTone("filled")).toBe("warn");
    expect(outcomeTone("unknown")).toBe("warn");
    expect(outcomeText(ORDER_OUTCOME, "cancelled")).toBe("Cancelled");
    expect(outcomeText(POSITION_OUTCOME, "open")).toBe("Left open");
    expect(outcomeText(ORDER_OUTCOME, "something_new")).toBe("Something new");
    expect(killTotals(KILL_REPORT)).toEqual({ accounts: 2, orders: 2, cancelled: 1, closed: 0, open: 1, failures: 1 });
  });
});
