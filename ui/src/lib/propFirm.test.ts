import { describe, expect, it } from "vitest";
import type { PropFirmPresetInfo } from "../bindings/PropFirmPresetInfo";
import { applyPreset, editPropValue } from "./propFirm";
import type { PropFirmFormState } from "./propFirm";

const presets: PropFirmPresetInfo[] = [
  { preset: "none", label: "None", maxDailyLossPct: null, maxTotalLossPct: null, profitTargetPct: null },
  { preset: "ftmo", label: "FTMO", maxDailyLossPct: "5", maxTotalLossPct: "10", profitTargetPct: "10" },
  { preset: "the5ers", label: "The5ers", maxDailyLossPct: "4.5", maxTotalLossPct: "6", profitTargetPct: null },
  { preset: "custom", label: "Custom", maxDailyLossPct: null, maxTotalLossPct: null, profitTargetPct: null },
];

const empty: PropFirmFormState = { preset: "none", maxDailyLossPct: "", maxTotalLossPct: "", profitTargetPct: "" };

describe("applyPreset", () => {
  it("fills the three percentages from the chosen preset, null as empty", () => {
    expect(applyPreset(empty, "ftmo", presets)).toEqual({ preset: "ftmo", maxDailyLossPct: "5", maxTotalLossPct: "10", profitTargetPct: "10" });
    expect(applyPreset(empty, "the5ers", presets)).toEqual({ preset: "the5ers", maxDailyLossPct: "4.5", maxTotalLossPct: "6", profitTargetPct: "" });
  });

  it("clears the values for none", () => {
    const ftmo = applyPreset(empty, "ftmo", presets);
    expect(applyPreset(ftmo, "none", presets)).toEqual(empty);
  });

  it("keeps the current values when switching to custom", () => {
    const ftmo = applyPreset(empty, "ftmo", presets);
    expect(applyPreset(ftmo, "custom", presets)).toEqual({ ...ftmo, preset: "custom" });
  });

  it("keeps values for a preset missing from the catalog, but none still clears", () => {
    const ftmo = applyPreset(empty, "ftmo", presets);
    expect(applyPreset(ftmo, "funded_next", presets)).toEqual({ ...ftmo, preset: "funded_next" });
    expect(applyPreset(ftmo, "none", [])).toEqual(empty);
  });
});

describe("editPropValue", () => {
  it("switches the preset to custom when a value is edited", () => {
    const ftmo = applyPreset(empty, "ftmo", presets);
    expect(editPropValue(ftmo, "maxDailyLossPct", "4")).toEqual({ ...ftmo, maxDailyLossPct: "4", preset: "custom" });
    expect(editPropValue(empty, "profitTargetPct", "8")).toEqual({ ...empty, profitTargetPct: "8", preset: "custom" });
  });

  it("leaves the state alone when the value does not change", () => {
    const ftmo = applyPreset(empty, "ftmo", presets);
    expect(editPropValue(ftmo, "maxTotalLossPct", "10")).toBe(ftmo);
  });
});
