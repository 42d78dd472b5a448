import type { BreachAction } from "../bindings/BreachAction";
import type { DailyBase } from "../bindings/DailyBase";
import type { MaxLossMode } from "../bindings/MaxLossMode";
import type { PropFirmPreset } from "../bindings/PropFirmPreset";
import type { PropFirmPresetInfo } from "../bindings/PropFirmPresetInfo";
import type { PropFirmRules } from "../bindings/PropFirmRules";

export type PropFirmValueKey = "maxDailyLossPct" | "maxTotalLossPct" | "profitTargetPct";

export const PROP_FIRM_VALUE_KEYS: readonly PropFirmValueKey[] = ["maxDailyLossPct", "maxTotalLossPct", "profitTargetPct"];

/** The prop-firm part of the account form; numbers are kept as the text the user typed. */
export interface PropFirmFormState {
  preset: PropFirmPreset;
  maxDailyLossPct: string;
  maxTotalLossPct: string;
  profitTargetPct: string;
  /** The balance the percentages are taken of; empty = the first balance Brokerdesk sees. */
  initialBalance: string;
  dailyBase: DailyBase;
  /** `HH:MM`, in `resetTimezone`. */
  resetTime: string;
  resetTimezone: string;
  maxLossMode: MaxLossMode;
  dailyBreach: BreachAction;
  safetyBufferPct: string;
  closeOnBreach: boolean;
  /** The warning levels as typed ("50, 80, 95"). */
  warnLevels: string;
  /**
   * The firm preset the rules were edited away from (form only, never sent): the form says the
   * set is now custom and how to get the firm's rules back. Null otherwise.
   */
  customFrom: PropFirmPreset | null;
}

/** What a preset sets: the firm's numbers and its clock. Changing one makes the set custom. */
export type PresetKey = PropFirmValueKey | "dailyBase" | "resetTime" | "resetTimezone" | "maxLossMode" | "dailyBreach";

export const PRESET_KEYS: readonly PresetKey[] = [...PROP_FIRM_VALUE_KEYS, "dailyBase", "resetTime", "resetTimezone", "maxLossMode", "dailyBreach"];

/** The core's defaults for rules without a preset (`PropFirmRules::default`). */
const NO_RULES: Pick<PropFirmFormState, PresetKey> = {
  maxDailyLossPct: "",
  maxTotalLossPct: "",
  profitTargetPct: "",
  dailyBase: "initial_balance",
  resetTime: "00:00",
  resetTimezone: "UTC",
  maxLossMode: "static",
  dailyBreach: "pause",
};

export const DEFAULT_WARN_LEVELS: readonly number[] = [50, 80, 95];

/** The prop-firm state of a new account: no preset, the core's defaults. */
export function emptyPropFirm(): PropFirmFormState {
  return {
    preset: "none",
    ...NO_RULES,
    initialBalance: "",
    safetyBufferPct: "",
    closeOnBreach: true,
    warnLevels: formatWarnLevels(DEFAULT_WARN_LEVELS),
    customFrom: null,
  };
}

const toText = (n: string | number | null) => (n === null ? "" : String(n));

/** The form state of stored rules. */
export function propFirmFromRules(rules: PropFirmRules): PropFirmFormState {
  return {
    preset: rules.preset,
    maxDailyLossPct: toText(rules.maxDailyLossPct),
    maxTotalLossPct: toText(rules.maxTotalLossPct),
    profitTargetPct: toText(rules.profitTargetPct),
    initialBalance: toText(rules.initialBalance),
    dailyBase: rules.dailyBase,
    resetTime: rules.resetTime,
    resetTimezone: rules.resetTimezone,
    maxLossMode: rules.maxLossMode,
    dailyBreach: rules.dailyBreach,
    safetyBufferPct: toText(rules.safetyBufferPct),
    closeOnBreach: rules.closeOnBreach,
    warnLevels: formatWarnLevels(rules.warnLevels),
    customFrom: null,
  };
}

/** A preset's numbers and clock as form values. */
function presetValues(info: PropFirmPresetInfo): Pick<PropFirmFormState, PresetKey> {
  return {
    maxDailyLossPct: toText(info.maxDailyLossPct),
    maxTotalLossPct: toText(info.maxTotalLossPct),
    profitTargetPct: toText(info.profitTargetPct),
    dailyBase: info.dailyBase,
    resetTime: info.resetTime,
    resetTimezone: info.resetTimezone,
    maxLossMode: info.maxLossMode,
    dailyBreach: info.dailyBreach,
  };
}

/**
 * Returns the state after choosing a preset: a named preset (and "none") fills its numbers and
 * clock from the catalog; "custom" keeps whatever is there. The account's own settings (initial
 * balance, safety buffer, closing on a breach, warnings) are kept either way.
 */
export function applyPreset(state: PropFirmFormState, preset: PropFirmPreset, presets: readonly PropFirmPresetInfo[]): PropFirmFormState {
  if (preset === "custom") return { ...state, preset, customFrom: null };
  const info = presets.find((p) => p.preset === preset);
  if (!info) {
    // An unknown preset cannot fill anything; "none" still means no rules.
    return preset === "none" ? { ...state, ...NO_RULES, preset, customFrom: null } : { ...state, preset, customFrom: null };
  }
  return { ...state, ...presetValues(info), preset, customFrom: null };
}

/** Returns the state after editing one of a preset's values by hand: the set becomes "custom". */
export function editPropValue<K extends PresetKey>(state: PropFirmFormState, key: K, value: PropFirmFormState[K]): PropFirmFormState {
  if (state[key] === value) return state;
  const firm = state.preset !== "custom" && state.preset !== "none";
  return { ...state, [key]: value, preset: "custom", customFrom: firm ? state.preset : state.customFrom };
}

/** The warning levels as the form shows them ("50, 80, 95"). */
export function formatWarnLevels(levels: readonly number[]): string {
  return levels.join(", ");
}

/**
 * Parses the warning levels typed: whole percentages between 1 and 99, separated by commas or
 * spaces, at most five; sorted and without repeats. Empty means no warnings.
 */
export function parseWarnLevels(text: string): { value: number[] } | { value: null; error: string } {
  const parts = text
    .split(/[\s,;%]+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const levels: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n < 1 || n > 99) return { value: null, error: "Use whole percentages between 1 and 99, e.g. 50, 80, 95." };
    if (!levels.includes(n)) levels.push(n);
  }
  if (levels.length > 5) return { value: null, error: "Use at most five warning levels." };
  return { value: levels.sort((a, b) => a - b) };
}
