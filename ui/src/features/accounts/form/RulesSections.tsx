import type { PropFirmPresetInfo } from "../../../bindings/PropFirmPresetInfo";
import { SelectField, Switch, TextField } from "../../../components/Field";
import type { RiskNumberKey } from "../../../lib/accountForm";
import { fieldDomId } from "../../../lib/fieldErrors";
import type { FormField } from "../../../lib/fieldErrors";
import { PROP_FIRM_VALUE_KEYS, applyPreset, editPropValue } from "../../../lib/propFirm";
import type { PropFirmValueKey } from "../../../lib/propFirm";
import { Section } from "./Section";
import type { SectionProps } from "./types";

const PROP_LABELS: Record<PropFirmValueKey, string> = {
  maxDailyLossPct: "Max daily loss",
  maxTotalLossPct: "Max total loss",
  profitTargetPct: "Profit target",
};

export function PropFirmSection({ form, update, errors, presets }: SectionProps & { presets: PropFirmPresetInfo[] }) {
  const options = presets.map((p) => ({ value: p.preset, label: p.label }));
  if (!options.some((o) => o.value === form.propFirm.preset)) options.push({ value: form.propFirm.preset, label: form.propFirm.preset });
  return (
    <Section
      id="section-prop"
      title="Prop firm rules"
      description="Funded-account rules. A preset fills in its numbers; changing a number makes it custom. Not yet enforced: orders are not checked against these rules in this release."
    >
      <SelectField
        id={fieldDomId("propFirm.preset")}
        label="Preset"
        value={form.propFirm.preset}
        options={options}
        onChange={(preset) => update((f) => ({ ...f, propFirm: applyPreset(f.propFirm, preset, presets) }))}
        error={errors["propFirm.preset"] ?? errors.propFirm}
        className="field-narrow"
      />
      <div className="grid-3">
        {PROP_FIRM_VALUE_KEYS.map((key) => {
          const path: FormField = `propFirm.${key}`;
          return (
            <TextField
              key={key}
              id={fieldDomId(path)}
              label={PROP_LABELS[key]}
              value={form.propFirm[key]}
              onChange={(value) => update((f) => ({ ...f, propFirm: editPropValue(f.propFirm, key, value) }))}
              error={errors[path]}
              inputMode="decimal"
              placeholder="No rule"
              suffix="%"
            />
          );
        })}
      </div>
    </Section>
  );
}

const RISK_FIELDS: { key: RiskNumberKey; label: string; suffix?: string; help: string; integer?: boolean }[] = [
  { key: "maxPositionSizePct", label: "Max position size", suffix: "%", help: "Of account equity, per position." },
  { key: "maxOpenPositions", label: "Max open positions", help: "Across all instruments.", integer: true },
  { key: "maxQty", label: "Max quantity", help: "Units, shares or contracts per order." },
  { key: "maxLeverage", label: "Max leverage", suffix: "×", help: "Effective leverage of the account." },
  { key: "maxCorrelation", label: "Max correlation", help: "Between open positions, 0 to 1." },
];

export function RiskSection({ form, update, errors }: SectionProps) {
  return (
    <Section id="section-risk" title="Risk limits" description="Leave a limit empty for no limit. Not yet enforced: orders are not checked against these limits in this release.">
      <div className="grid-3">
        {RISK_FIELDS.map(({ key, label, suffix, help, integer }) => {
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
        })}
      </div>
      <Switch
        id={fieldDomId("risk.requireStopLoss")}
        label="Require a stop-loss on every order"
        help="Orders without a stop-loss are rejected before they reach the broker."
        checked={form.risk.requireStopLoss}
        onChange={(requireStopLoss) => update((f) => ({ ...f, risk: { ...f.risk, requireStopLoss } }))}
        error={errors["risk.requireStopLoss"]}
      />
    </Section>
  );
}
