import type { BreachAction } from "../../../bindings/BreachAction";
import type { DailyBase } from "../../../bindings/DailyBase";
import type { MaxLossMode } from "../../../bindings/MaxLossMode";
import type { PropFirmPresetInfo } from "../../../bindings/PropFirmPresetInfo";
import { FieldShell, SelectField, Switch, TextField } from "../../../components/Field";
import { TagInput } from "../../../components/TagInput";
import type { RiskNumberKey } from "../../../lib/accountForm";
import { fieldDomId } from "../../../lib/fieldErrors";
import type { FormField } from "../../../lib/fieldErrors";
import { TIMEZONES } from "../../../lib/labels";
import { PROP_FIRM_VALUE_KEYS, applyPreset, editPropValue } from "../../../lib/propFirm";
import type { PropFirmValueKey } from "../../../lib/propFirm";
import { Section } from "./Section";
import { TimezoneField } from "./TimezoneField";
import type { SectionProps } from "./types";

const PROP_LABELS: Record<PropFirmValueKey, { label: string; help: string }> = {
  maxDailyLossPct: { label: "Max daily loss", help: "Of the base below, per firm day." },
  maxTotalLossPct: { label: "Max total loss", help: "Of the initial balance, over the account's life." },
  profitTargetPct: { label: "Profit target", help: "Of the initial balance. Shown, not enforced: reaching it stops nothing." },
};

export const DAILY_BASE_LABELS: Record<DailyBase, string> = {
  initial_balance: "Initial balance",
  previous_day_balance: "Balance at the day's start",
  higher_of_equity_and_balance: "Higher of equity and balance at the day's start",
};

export const MAX_LOSS_MODE_LABELS: Record<MaxLossMode, string> = {
  static: "Static: initial balance − max loss",
  trailing: "Trailing: highest end-of-day balance − max loss",
  trailing_then_locked: "Trailing, then locked at the initial balance",
};

export const DAILY_BREACH_LABELS: Record<BreachAction, string> = {
  pause: "Pause: close-only until the next reset",
  terminate: "Terminate the account",
};

/** Zones offered for the daily reset: the firms' clocks first, then the usual ones. */
const RESET_ZONES: readonly string[] = ["Europe/Prague", "Europe/Athens", ...TIMEZONES.filter((z) => z !== "Europe/Prague" && z !== "Europe/Athens")];

const options = <T extends string>(labels: Record<T, string>) => (Object.keys(labels) as T[]).map((value) => ({ value, label: labels[value] }));

/** The chosen preset's rules in one sentence, with the firm's page that states them. */
function PresetSummary({ info }: { info: PropFirmPresetInfo }) {
  return (
    <div className="preset-summary" data-testid="preset-summary">
      <p>{info.summary}</p>
      {info.source ? (
        <p className="preset-source">
          Source:{" "}
          <a className="link" href={info.source} rel="noreferrer">
            {new URL(info.source).hostname.replace(/^www\./, "")}
          </a>{" "}
          <span className="muted">(opens in your browser; firms change their rules, so check it before you rely on these numbers)</span>
        </p>
      ) : null}
    </div>
  );
}

export function PropFirmSection({ form, update, errors, presets }: SectionProps & { presets: PropFirmPresetInfo[] }) {
  const p = form.propFirm;
  const presetOptions = presets.map((x) => ({ value: x.preset, label: x.label }));
  if (!presetOptions.some((o) => o.value === p.preset)) presetOptions.push({ value: p.preset, label: p.preset });
  const info = presets.find((x) => x.preset === p.preset);
  const from = p.customFrom ? presets.find((x) => x.preset === p.customFrom) : undefined;
  const firm = p.preset !== "none" && p.preset !== "custom";
  const hasLossRules = p.maxDailyLossPct.trim() !== "" || p.maxTotalLossPct.trim() !== "";
  const setRule = <K extends "dailyBase" | "resetTime" | "resetTimezone" | "maxLossMode" | "dailyBreach">(key: K, value: (typeof p)[K]) =>
    update((f) => ({ ...f, propFirm: editPropValue(f.propFirm, key, value) }));
  const setOwn = (patch: Partial<typeof p>) => update((f) => ({ ...f, propFirm: { ...f.propFirm, ...patch } }));

  return (
    <Section
      id="section-prop"
      title="Prop firm rules"
      description={
        <>
          A funded account&apos;s loss rules. Brokerdesk checks them in core before every order, paper and live, and measures the daily and total loss
          budgets on equity, on the firm&apos;s clock. A preset fills in the firm&apos;s numbers and clock; changing any of them makes the set custom.
          Loosening a rule later needs a two-factor code.
        </>
      }
    >
      <SelectField
        id={fieldDomId("propFirm.preset")}
        label="Preset"
        value={p.preset}
        options={presetOptions}
        onChange={(preset) => update((f) => ({ ...f, propFirm: applyPreset(f.propFirm, preset, presets) }))}
        error={errors["propFirm.preset"] ?? errors.propFirm}
        className="field-narrow"
      />
      {firm && info ? <PresetSummary info={info} /> : null}
      {p.preset === "custom" && from ? (
        <p className="preset-custom-note" data-testid="preset-custom-note" role="status">
          You changed {from.label}&apos;s rules, so this is now a <strong>custom</strong> rule set: Brokerdesk enforces your numbers, not {from.label}&apos;s. Choose{" "}
          {from.label} again to restore the firm&apos;s rules.
        </p>
      ) : null}

      <div className="grid-3">
        {PROP_FIRM_VALUE_KEYS.map((key) => {
          const path: FormField = `propFirm.${key}`;
          return (
            <TextField
              key={key}
              id={fieldDomId(path)}
              label={PROP_LABELS[key].label}
              help={PROP_LABELS[key].help}
              value={p[key]}
              onChange={(value) => update((f) => ({ ...f, propFirm: editPropValue(f.propFirm, key, value) }))}
              error={errors[path]}
              inputMode="decimal"
              placeholder="No rule"
              suffix="%"
            />
          );
        })}
      </div>

      <fieldset className="fieldset rules-group">
        <legend className="rules-group-title">The firm&apos;s clock</legend>
        <div className="grid-3">
          <TextField
            id={fieldDomId("propFirm.resetTime")}
            label="Daily reset time"
            type="time"
            value={p.resetTime}
            onChange={(value) => setRule("resetTime", value)}
            help="When the firm's trading day starts, in the zone beside it (daylight saving included)."
            error={errors["propFirm.resetTime"]}
          />
          <TimezoneField
            id={fieldDomId("propFirm.resetTimezone")}
            label="Reset time zone"
            value={p.resetTimezone}
            zones={RESET_ZONES}
            onChange={(zone) => setRule("resetTimezone", zone)}
            error={errors["propFirm.resetTimezone"]}
          />
          <SelectField
            id={fieldDomId("propFirm.dailyBase")}
            label="Daily loss is a % of"
            value={p.dailyBase}
            options={options(DAILY_BASE_LABELS)}
            onChange={(value) => setRule("dailyBase", value)}
            help="Measured from the balance at the day's start (the higher of equity and balance, for that base)."
            error={errors["propFirm.dailyBase"]}
          />
        </div>
        <div className="grid-2">
          <SelectField
            id={fieldDomId("propFirm.maxLossMode")}
            label="Max loss floor"
            value={p.maxLossMode}
            options={options(MAX_LOSS_MODE_LABELS)}
            onChange={(value) => setRule("maxLossMode", value)}
            help="Trailing floors rise with each new end-of-day high and never fall."
            error={errors["propFirm.maxLossMode"]}
          />
          <SelectField
            id={fieldDomId("propFirm.dailyBreach")}
            label="When the daily limit is reached"
            value={p.dailyBreach}
            options={options(DAILY_BREACH_LABELS)}
            onChange={(value) => setRule("dailyBreach", value)}
            help="Firms end the account; pausing keeps it close-only until the next reset. Reaching the max loss always terminates it."
            error={errors["propFirm.dailyBreach"]}
          />
        </div>
      </fieldset>

      <fieldset className="fieldset rules-group">
        <legend className="rules-group-title">This account</legend>
        <div className="grid-3">
          <TextField
            id={fieldDomId("propFirm.initialBalance")}
            label="Initial balance"
            value={p.initialBalance}
            onChange={(initialBalance) => setOwn({ initialBalance })}
            help="The starting balance the percentages are taken of, in the account's currency. Empty: the first balance Brokerdesk sees."
            error={errors["propFirm.initialBalance"]}
            inputMode="decimal"
            placeholder="First balance seen"
          />
          <TextField
            id={fieldDomId("propFirm.safetyBufferPct")}
            label="Safety buffer"
            value={p.safetyBufferPct}
            onChange={(safetyBufferPct) => setOwn({ safetyBufferPct })}
            help="Act at this share of a limit, before the firm's (50–100). With 90, a 5,000 daily limit pauses the account at a 4,500 loss."
            error={errors["propFirm.safetyBufferPct"]}
            inputMode="decimal"
            placeholder="At the limit"
            suffix="%"
          />
          <TextField
            id={fieldDomId("propFirm.warnLevels")}
            label="Warning levels"
            value={p.warnLevels}
            onChange={(warnLevels) => setOwn({ warnLevels })}
            help="Notify when this much of a budget is used, in %. Up to five; empty for none."
            error={errors["propFirm.warnLevels"]}
            placeholder="No warnings"
            suffix="%"
          />
        </div>
        <Switch
          id={fieldDomId("propFirm.closeOnBreach")}
          label="Close positions on a breach"
          help="When a loss limit is reached, cancel the account's open orders and close its positions at market."
          checked={p.closeOnBreach}
          onChange={(closeOnBreach) => setOwn({ closeOnBreach })}
          error={errors["propFirm.closeOnBreach"]}
        />
        {!hasLossRules ? <p className="field-help">No max daily or total loss is set: the clock and these settings do nothing until one is.</p> : null}
      </fieldset>
    </Section>
  );
}

const RISK_FIELDS: { key: RiskNumberKey; label: string; suffix?: string; help: string; integer?: boolean }[] = [
  { key: "maxPositionSizePct", label: "Max position size", suffix: "%", help: "Of account equity, per position, after the order." },
  { key: "maxOpenPositions", label: "Max open positions", help: "Across all instruments.", integer: true },
  { key: "maxQty", label: "Max quantity", help: "Units, shares or contracts per order." },
  { key: "maxLeverage", label: "Max leverage", suffix: "×", help: "All positions' value over equity, after the order." },
  {
    key: "maxRiskPerTradePct",
    label: "Max risk per trade",
    suffix: "%",
    help: "Loss from entry to the stop-loss, as a % of equity. While set, orders without a stop-loss are refused.",
  },
];

export function RiskSection({ form, update, errors }: SectionProps) {
  const field = (key: RiskNumberKey, label: string, help: string, suffix?: string, integer?: boolean) => {
    const path: FormField = `risk.${key}`;
    return (
      <TextField
        key={key}
        id={fieldDomId(path)}
        label={label}
        value={form.risk[key]}
        onChange={(value) => update((f) => ({ ...f, risk: { ...f.risk, [key]: value } }))}
        error={errors[path]}
        help={help}
        inputMode={integer ? "numeric" : "decimal"}
        placeholder="No limit"
        suffix={suffix}
      />
    );
  };
  const allowedId = fieldDomId("risk.allowedInstruments");
  return (
    <Section
      id="section-risk"
      title="Risk limits"
      description={
        <>
          Checked in core before every order, paper and live: an order that breaks a limit is refused before it is stored or sent. Orders that only
          reduce a position are always allowed. Leave a limit empty for no limit; loosening one later needs a two-factor code.
        </>
      }
    >
      <div className="grid-3">{RISK_FIELDS.map(({ key, label, suffix, help, integer }) => field(key, label, help, suffix, integer))}</div>
      <FieldShell
        id={allowedId}
        label="Allowed instruments"
        help="Orders in any other instrument are refused. Empty means any instrument."
        error={errors["risk.allowedInstruments"]}
      >
        <TagInput
          id={allowedId}
          tags={form.risk.allowedInstruments}
          draft={form.risk.allowedDraft}
          onChange={(allowedInstruments, allowedDraft) => update((f) => ({ ...f, risk: { ...f.risk, allowedInstruments, allowedDraft } }))}
          placeholder="Any instrument"
          help="allowed instruments"
          error={errors["risk.allowedInstruments"]}
          listLabel="Allowed instruments"
        />
      </FieldShell>
      <Switch
        id={fieldDomId("risk.requireStopLoss")}
        label="Require a stop-loss on every order"
        help="Orders that open or add to a position without a stop-loss are refused before they reach the broker."
        checked={form.risk.requireStopLoss}
        onChange={(requireStopLoss) => update((f) => ({ ...f, risk: { ...f.risk, requireStopLoss } }))}
        error={errors["risk.requireStopLoss"]}
      />
      <div className="grid-3">
        <TextField
          id={fieldDomId("risk.maxCorrelation")}
          label="Max correlation"
          badge={<span className="pill pill-sm pill-warning">Not enforced</span>}
          value={form.risk.maxCorrelation}
          onChange={(maxCorrelation) => update((f) => ({ ...f, risk: { ...f.risk, maxCorrelation } }))}
          error={errors["risk.maxCorrelation"]}
          help="Between open positions, 0 to 1. Not enforced: Brokerdesk has no price history to measure correlation with, so orders are never checked against it."
          inputMode="decimal"
          placeholder="No limit"
        />
      </div>
    </Section>
  );
}
