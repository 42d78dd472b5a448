import type { BrokerInfo } from "../../../bindings/BrokerInfo";
import type { BrokerKind } from "../../../bindings/BrokerKind";
import { TextField } from "../../../components/Field";
import { Icon } from "../../../components/Icon";
import { fieldDomId } from "../../../lib/fieldErrors";
import { Section } from "./Section";
import type { SectionProps } from "./types";

/** Returns the host part of a URL for display ("api-fxpractice.oanda.com"), or the text itself. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

interface Props extends SectionProps {
  brokers: BrokerInfo[];
  editing: boolean;
}

export function BrokerSection({ form, update, errors, brokers, editing }: Props) {
  const selected = brokers.find((b) => b.kind === form.broker);

  const chooseBroker = (kind: BrokerKind) =>
    update((f) => {
      if (f.broker === kind) return f;
      const info = brokers.find((b) => b.kind === kind);
      const envs = info?.environments.map((e) => e.environment) ?? [];
      const environment = envs.includes(f.environment) ? f.environment : (envs[0] ?? "practice");
      // Never carry one broker's secrets (or its endpoint overrides) over to another.
      return { ...f, broker: kind, environment, credentials: { apiKey: "", apiSecret: "" }, restUrl: "", streamUrl: "" };
    });

  return (
    <Section id="section-broker" title="Account" description="A name for this account and where it lives.">
      <TextField
        id={fieldDomId("name")}
        label="Account name"
        value={form.name}
        onChange={(name) => update((f) => ({ ...f, name }))}
        error={errors.name}
        placeholder="e.g. OANDA swing, FTMO challenge #2"
        autoComplete="off"
        required
      />

      <fieldset className="fieldset" aria-describedby={errors.broker ? `${fieldDomId("broker")}-error` : undefined}>
        <legend className="field-label">
          Broker <span className="field-required" aria-hidden="true">*</span>
        </legend>
        {editing ? <p className="field-help">The broker cannot be changed after the account is created.</p> : null}
        <div className="broker-grid" id={fieldDomId("broker")} tabIndex={-1}>
          {brokers.map((b) => {
            const checked = form.broker === b.kind;
            const disabled = editing && !checked;
            return (
              <label key={b.kind} className={`broker-card${checked ? " is-selected" : ""}${disabled ? " is-disabled" : ""}`}>
                <input
                  type="radio"
                  name="broker"
                  value={b.kind}
                  checked={checked}
                  disabled={disabled}
                  onChange={() => chooseBroker(b.kind)}
                />
                <span className="broker-card-head">
                  <span className={`broker-logo broker-${b.kind}`} aria-hidden="true">
                    {b.label.slice(0, 1)}
                  </span>
                  <span className="broker-card-title">{b.label}</span>
                  {checked ? <Icon name="check" size={16} className="broker-card-check" /> : null}
                </span>
                <span className="broker-card-text">{b.description}</span>
              </label>
            );
          })}
        </div>
        {errors.broker ? (
          <p className="field-error" id={`${fieldDomId("broker")}-error`}>
            <Icon name="alert" size={14} />
            <span>{errors.broker}</span>
          </p>
        ) : null}
      </fieldset>

      {selected && selected.environments.length > 0 ? (
        <fieldset className="fieldset">
          <legend className="field-label">Environment</legend>
          <div className="segmented-cards" id={fieldDomId("environment")} tabIndex={-1}>
            {selected.environments.map((env) => (
              <label key={env.environment} className={`env-card${form.environment === env.environment ? " is-selected" : ""}`}>
                <input
                  type="radio"
                  name="environment"
                  value={env.environment}
                  checked={form.environment === env.environment}
                  onChange={() => update((f) => ({ ...f, environment: env.environment }))}
                />
                <span className="env-card-title">
                  {env.label}
                  {env.environment === "live" ? <span className="pill pill-mode-live pill-sm">REAL MONEY</span> : null}
                </span>
                {env.restUrl ? <span className="env-card-host mono">{hostOf(env.restUrl)}</span> : null}
              </label>
            ))}
          </div>
          {errors.environment ? (
            <p className="field-error" id={`${fieldDomId("environment")}-error`}>
              <Icon name="alert" size={14} />
              <span>{errors.environment}</span>
            </p>
          ) : null}
        </fieldset>
      ) : null}
    </Section>
  );
}
