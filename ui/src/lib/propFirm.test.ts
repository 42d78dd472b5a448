import { describe, expect, it } from "vitest";
import { PRESETS } from "../test/fixtures";
import { applyPreset, editPropValue, emptyPropFirm, parseWarnLevels, propFirmFromRules } from "./propFirm";
import type { PropFirmFormState } from "./propFirm";

const empty: PropFirmFormState = emptyPropFirm();

describe("applyPreset", () => {
  it("fills a firm's numbers and clock from the core's catalog", () => {
    expect(applyPreset(empty, "ftmo", PRESETS)).toEqual({
      ...empty,
      preset: "ftmo",
      maxDailyLossPct: "5",
      maxTotalLossPct: "10",
      profitTargetPct: "10",
      dailyBase: "initial_balance",
      resetTime: "00:00",
      resetTimezone: "Europe/Prague",
      maxLossMode: "static",
      dailyBreach: "terminate",
    });
    expect(applyPreset(empty, "the5ers", PRESETS)).toMatchObject({
      preset: "the5ers",
      maxDailyLossPct: "5",
      dailyBase: "higher_of_equity_and_balance",
      resetTime: "17:00",
      resetTimezone: "America/New_York",
    });
    expect(applyPreset(empty, "ftmo_1step", PRESETS)).toMatchObject({ maxDailyLossPct: "3", maxLossMode: "trailing" });
    expect(applyPreset(empty, "funded_next", PRESETS)).toMatchObject({ resetTimezone: "Europe/Athens" });
  });

  it("keeps the account's own settings (initial balance, buffer, closing, warnings) across presets", () => {
    const own = { ...empty, initialBalance: "200000", safetyBufferPct: "90", closeOnBreach: false, warnLevels: "80" };
    expect(applyPreset(own, "ftmo", PRESETS)).toMatchObject({ initialBalance: "200000", safetyBufferPct: "90", closeOnBreach: false, warnLevels: "80" });
  });

  it("clears the numbers and resets the clock for none", () => {
    const ftmo = applyPreset(empty, "ftmo", PRESETS);
    expect(applyPreset(ftmo, "none", PRESETS)).toEqual(empty);
    expect(applyPreset(ftmo, "none", [])).toEqual(empty);
  });

  it("keeps the current values when switching to custom", () => {
    const ftmo = applyPreset(empty, "ftmo", PRESETS);
    expect(applyPreset(ftmo, "custom", PRESETS)).toEqual({ ...ftmo, preset: "custom" });
  });

  it("keeps values for a preset missing from the catalog", () => {
    const ftmo = applyPreset(empty, "ftmo", PRESETS);
    expect(applyPreset(ftmo, "funded_next", [])).toEqual({ ...ftmo, preset: "funded_next" });
  });
});

describe("editPropValue", () => {
  it("makes the set custom when a firm's number or clock is edited, remembering which firm", () => {
    const ftmo = applyPreset(empty, "ftmo", PRESETS);
    expect(editPropValue(ftmo, "maxDailyLossPct", "4")).toEqual({ ...ftmo, maxDailyLossPct: "4", preset: "custom", customFrom: "ftmo" });
    expect(editPropValue(ftmo, "resetTimezone", "UTC")).toMatchObject({ preset: "custom", customFrom: "ftmo" });
    expect(editPropValue(ftmo, "dailyBreach", "pause")).toMatchObject({ preset: "custom", customFrom: "ftmo" });
    // A second edit still remembers the firm; choosing the firm again restores its rules.
    const twice = editPropValue(editPropValue(ftmo, "maxDailyLossPct", "4"), "resetTime", "01:00");
    expect(twice.customFrom).toBe("ftmo");
    expect(applyPreset(twice, "ftmo", PRESETS)).toEqual(ftmo);
  });

  it("makes numbers without a preset custom, from no firm", () => {
    expect(editPropValue(empty, "profitTargetPct", "8")).toEqual({ ...empty, profitTargetPct: "8", preset: "custom", customFrom: null });
  });

  it("leaves the state alone when the value does not change", () => {
    const ftmo = applyPreset(empty, "ftmo", PRESETS);
    expect(editPropValue(ftmo, "maxTotalLossPct", "10")).toBe(ftmo);
    expect(editPropValue(ftmo, "maxLossMode", "static")).toBe(ftmo);
  });
});

describe("propFirmFromRules", () => {
  it("shows stored rules as form text", () => {
    const form = propFirmFromRules({
      preset: "ftmo",
      maxDailyLossPct: "5",
      maxTotalLossPct: "10",
      profitTargetPct: null,
      initialBalance: "100000",
      dailyBase: "initial_balance",
      resetTime: "00:00",
      resetTimezone: "Europe/Prague",
      maxLossMode: "static",
      dailyBreach: "terminate",
      safetyBufferPct: null,
      closeOnBreach: true,
      warnLevels: [50, 80],
    });
    expect(form).toMatchObject({ profitTargetPct: "", initialBalance: "100000", safetyBufferPct: "", warnLevels: "50, 80", customFrom: null });
  });
});

describe("parseWarnLevels", () => {
  it("reads whole percentages, sorted and without repeats; empty means none", () => {
    expect(parseWarnLevels("95, 50 80%, 50")).toEqual({ value: [50, 80, 95] });
    expect(parseWarnLevels("  ")).toEqual({ value: [] });
  });

  it("refuses what the core would refuse", () => {
    for (const text of ["0", "100", "50.5", "abc", "-5"]) expect(parseWarnLevels(text).value, text).toBeNull();
    expect(parseWarnLevels("10, 20, 30, 40, 50, 60")).toEqual({ value: null, error: "Use at most five warning levels." });
  });
});
