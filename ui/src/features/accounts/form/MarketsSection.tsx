import type { BrokerKind } from "../../../bindings/BrokerKind";
import { FieldShell, Switch, TextField } from "../../../components/Field";
import { Icon } from "../../../components/Icon";
import { TagInput } from "../../../components/TagInput";
import { TIMEFRAMES, TIMEZONES } from "../../../lib/labels";
import { fieldDomId } from "../../../lib/fieldErrors";
import { Section } from "./Section";
import { TimezoneField } from "./TimezoneField";
import type { SectionProps } from "./types";

function symbolExample(broker: BrokerKind | null): string {
  if (broker === "oanda") return "EUR_USD, GBP_USD, XAU_USD";
  if (broker === "paper" || broker === null) return "EUR_USD, AAPL";
  return "AAPL, SPY, QQQ";
}

export function MarketsSection({ form, update, errors, invalidInstruments = [] }: SectionProps & { invalidInstruments?: readonly string[] }) {
  const example = symbolExample(form.broker);

  return (
    <Section id="section-markets" title="Instruments & schedule" description="What this account trades, and when.">
      <FieldShell
        id={fieldDomId("instruments")}
        label="Instruments"
        help={`Type a symbol and press Enter or comma, e.g. ${example}. Empty means any instrument.`}
        error={errors.instruments}
      >
        <TagInput
          id={fieldDomId("instruments")}
          tags={form.instruments}
          draft={form.instrumentDraft}
          onChange={(instruments, instrumentDraft) => update((f) => ({ ...f, instruments, instrumentDraft }))}
          placeholder={example}
          help="instruments"
          error={errors.instruments}
          invalid={invalidInstruments}
        />
      </FieldShell>

      <fieldset className="fieldset" aria-describedby={errors.timeframes ? `${fieldDomId("timeframes")}-error` : undefined}>
        <legend className="field-label">Timeframes</legend>
        <div className="chips" id={fieldDomId("timeframes")} tabIndex={-1} role="group" aria-label="Timeframes">
          {TIMEFRAMES.map((tf) => {
            const on = form.timeframes.includes(tf);
            return (
              <button
                key={tf}
                type="button"
                className={`chip${on ? " is-on" : ""}`}
                aria-pressed={on}
                onClick={() =>
                  update((f) => ({
                    ...f,
                    timeframes: on ? f.timeframes.filter((x) => x !== tf) : TIMEFRAMES.filter((x) => x === tf || f.timeframes.includes(x)),
                  }))
                }
              >
                {tf}
              </button>
            );
          })}
        </div>
        {errors.timeframes ? (
          <p className="field-error" id={`${fieldDomId("timeframes")}-error`}>
            <Icon name="alert" size={14} />
            <span>{errors.timeframes}</span>
          </p>
        ) : null}
      </fieldset>

      <Switch
        id={fieldDomId("tradingHours")}
        label="Restrict trading hours"
        help="Outside these hours, new orders are refused. Off means any time the market is open."
        checked={form.hours.enabled}
        onChange={(enabled) => update((f) => ({ ...f, hours: { ...f.hours, enabled } }))}
        error={errors.tradingHours}
      />
      {form.hours.enabled ? (
        <div className="grid-3 indent">
          <TextField
            id={fieldDomId("tradingHours.start")}
            label="From"
            type="time"
            value={form.hours.start}
            onChange={(start) => update((f) => ({ ...f, hours: { ...f.hours, start } }))}
            error={errors["tradingHours.start"]}
          />
          <TextField
            id={fieldDomId("tradingHours.end")}
            label="To"
            type="time"
            value={form.hours.end}
            onChange={(end) => update((f) => ({ ...f, hours: { ...f.hours, end } }))}
            error={errors["tradingHours.end"]}
          />
          <TimezoneField
            id={fieldDomId("tradingHours.timezone")}
            label="Time zone"
            value={form.hours.timezone}
            zones={TIMEZONES}
            onChange={(timezone) => update((f) => ({ ...f, hours: { ...f.hours, timezone } }))}
            error={errors["tradingHours.timezone"]}
          />
        </div>
      ) : null}

      <Switch
        id={fieldDomId("weekendTrading")}
        label="Weekend trading"
        help="Allow orders on Saturdays and Sundays (crypto and some CFDs)."
        checked={form.weekendTrading}
        onChange={(weekendTrading) => update((f) => ({ ...f, weekendTrading }))}
        error={errors.weekendTrading}
      />
    </Section>
  );
}
