import type { PropFirmPreset } from "../bindings/PropFirmPreset";
import type { PropFirmPresetInfo } from "../bindings/PropFirmPresetInfo";

export type PropFirmValueKey = "maxDailyLossPct" | "maxTotalLossPct" | "profitTargetPct";

export const PROP_FIRM_VALUE_KEYS: readonly PropFirmValueKey[] = ["maxDailyLossPct", "maxTotalLossPct", "profitTargetPct"];

/** The prop-firm part of the account form; numbers are kept as the text the user typed. */
export interface PropFirmFormState {
  preset: PropFirmPreset;
  maxDailyLossPct: string;
  maxTotalLossPct: string;
  profitTargetPct: string;
}

const toText = (n: string | null) => n ?? "";

/**
 * Returns the state after choosing a preset: a named preset (and "none") fills the three
 * percentages from the catalog; "custom" keeps whatever values are there.
 */
export function applyPreset(
  state: PropFirmFormState,
  preset: PropFirmPreset,
  presets: readonly PropFirmPresetInfo[],
): PropFirmFormState {
  if (preset === "custom") return { ...state, preset };
  const info = presets.find((p) => p.preset === preset);
  if (!info) {
    // An unknown preset cannot fill anything; "none" still means no rules.
    return preset === "none"
      ? { preset, maxDailyLossPct: "", maxTotalLossPct: "", profitTargetPct: "" }
      : { ...state, preset };
  }
  return {
    preset,
    maxDailyLossPct: toText(info.maxDailyLossPct),
    maxTotalLossPct: toText(info.maxTotalLossPct),
    profitTargetPct: toText(info.profitTargetPct),
  };
}

/** Returns the state after editing one percentage by hand: the preset becomes "custom". */
export function editPropValue(state: PropFirmFormState, key: PropFirmValueKey, value: string): PropFirmFormState {
  if (state[key] === value) return state;
  return { ...state, [key]: value, preset: "custom" };
}
