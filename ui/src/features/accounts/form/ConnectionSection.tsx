import { useId, useState } from "react";
import type { Account } from "../../../bindings/Account";
import type { BrokerInfo } from "../../../bindings/BrokerInfo";
import type { CredentialField } from "../../../bindings/CredentialField";
import { Banner } from "../../../components/Banner";
import { PasswordField, TextField } from "../../../components/Field";
import { Icon } from "../../../components/Icon";
import { fieldDomId } from "../../../lib/fieldErrors";
import type { FormField } from "../../../lib/fieldErrors";
import { rotatesCredentials } from "../../../lib/accountForm";
import { inSentence, unreadableCredentialText } from "../../../lib/labels";
import type { CheckView } from "../../../lib/accountCheck";
import { useTwoFactor } from "../../security/StepUpProvider";
import { BrokerAccountPicker } from "./BrokerAccountPicker";
import type { PickerState } from "./BrokerAccountPicker";
import { CheckResult } from "./CheckResult";
import { Section } from "./Section";
import type { SectionProps } from "./types";

const CREDENTIAL_KEY: Record<CredentialField, "apiKey" | "apiSecret"> = { api_key: "apiKey", api_secret: "apiSecret" };

interface Props extends SectionProps {
  broker: BrokerInfo;
  /** The stored account when editing. */
  account: Account | null;
  /** The last check with the broker (Test connection, or the refused Save). */
  check: CheckView;
  onTest: () => void;
  onSaveUnchecked: () => void;
  /** OANDA's account discovery. */
  picker: PickerState;
  onFindAccounts: () => void;
  onChooseAccount: (accountId: string) => void;
  /** A save or check is running. */
  busy: boolean;
}

export function ConnectionSection(props: Props) {
  const { form, update, errors, broker, account, check, onTest, onSaveUnchecked, picker, onFindAccounts, onChooseAccount, busy } = props;
  const env = broker.environments.find((e) => e.environment === form.environment) ?? broker.environments[0];
  const environmentChanged = account !== null && account.environment !== form.environment;
  const advancedErrors = Boolean(errors.restUrl || errors.streamUrl);
  const [advancedOpen, setAdvancedOpen] = useState(() => Boolean(account?.restUrl || account?.streamUrl));
  const advancedId = useId();
  const open = advancedOpen || advancedErrors;
  // The built-in paper broker has no endpoints (null in the catalog), so nothing to override —
  // unless overrides are somehow set, which must then be visible to be cleared.
  const hasEndpoints = env === undefined || env.restUrl !== null || env.streamUrl !== null;
  const showOverrides = hasEndpoints || advancedErrors || form.restUrl !== "" || form.streamUrl !== "";
  const rotating = rotatesCredentials(account, form);
  const twofaOn = useTwoFactor().status?.enabled === true;
  const storedLabels = (account?.credentials ?? []).map((c) => inSentence(c.label));

  return (
    <Section id="section-connection" title="Connection" description={`How Brokerdesk signs in to ${broker.label}.`}>
      {broker.accountIdLabel || broker.accountIdRequired ? (
        <TextField
          id={fieldDomId("brokerAccountId")}
          label={broker.accountIdLabel || "Broker account ID"}
          value={form.brokerAccountId}
          onChange={(brokerAccountId) => update((f) => ({ ...f, brokerAccountId }))}
          placeholder={broker.accountIdPlaceholder}
          help={broker.accountIdHelp || undefined}
          error={errors.brokerAccountId}
          required={broker.accountIdRequired}
          autoComplete="off"
          mono
        />
      ) : null}

      {broker.credentialFields.length === 0 ? (
        <p className="muted">
          {hasEndpoints ? `${broker.label} needs no credentials.` : `${broker.label} runs inside Brokerdesk: it needs no credentials and has no endpoints.`}
        </p>
      ) : (
        <>
          {environmentChanged ? (
            <Banner tone="warning" title="New credentials needed">
              Keys are issued per environment, so switching from {account.environment} to {form.environment} needs the
              credentials for the new environment.
            </Banner>
          ) : null}
          <div className="grid-2">
            {broker.credentialFields.map((spec) => {
              const key = CREDENTIAL_KEY[spec.field];
              const path: FormField = `credentials.${key}`;
              const stored = account?.credentials.find((c) => c.field === spec.field);
              const current = account !== null && !environmentChanged && stored !== undefined;
              // A stored value the backend cannot open (tampered with, or moved from another record).
              const unreadable = current && stored.error !== null ? stored.error : null;
              const keep = current && unreadable === null;
              const typed = form.credentials[key] !== "";
              const help = keep
                ? typed
                  ? `Replaces the stored ${stored.masked} when you save.`
                  : `Stored: ${stored.masked}. Leave empty to keep it.`
                : unreadable && typed
                  ? "Replaces the stored value that cannot be read."
                  : spec.help;
              return (
                <PasswordField
                  key={spec.field}
                  id={fieldDomId(path)}
                  label={spec.label}
                  badge={
                    unreadable ? (
                      <span className="pill pill-warning pill-sm" aria-hidden="true">
                        <Icon name="alert" size={11} />
                        Unreadable
                      </span>
                    ) : undefined
                  }
                  value={form.credentials[key]}
                  onChange={(value) => update((f) => ({ ...f, credentials: { ...f.credentials, [key]: value } }))}
                  placeholder={keep ? stored.masked : undefined}
                  help={help || undefined}
                  warning={unreadable && !typed ? unreadableCredentialText(spec.label, unreadable.message) : undefined}
                  error={errors[path]}
                  required={spec.required && !keep}
                  autoComplete="off"
                />
              );
            })}
          </div>
          {errors.credentials ? <Banner tone="danger">{errors.credentials}</Banner> : null}
          {broker.kind === "oanda" ? (
            <BrokerAccountPicker
              broker={broker.label}
              state={picker}
              token={form.credentials.apiKey}
              selected={form.brokerAccountId.trim()}
              onFind={onFindAccounts}
              onChoose={onChooseAccount}
              disabled={busy}
            />
          ) : null}
          <div className="check-bar">
            <button type="button" className="button button-secondary" onClick={onTest} disabled={busy} data-testid="test-connection">
              {check.kind === "checking" && check.action === "test" ? <span className="spinner spinner-sm" aria-hidden="true" /> : <Icon name="refresh" size={16} />}
              Test connection
            </button>
            <span className="field-help">
              Signs in to {broker.label} with {account !== null && !environmentChanged ? "these (or the stored)" : "these"} credentials and reads the account. Nothing is saved.
            </span>
          </div>
          <div aria-live="polite">
            <CheckResult view={check} broker={broker.label} onSaveUnchecked={onSaveUnchecked} busy={busy} editing={account !== null} />
          </div>
          {rotating ? (
            <Banner tone="info" title="Rotating credentials">
              <span data-testid="rotation-note">
                Saving replaces the stored {storedLabels.join(" and ")} with what you entered; the old values are deleted from this
                computer. Revoke the old key at {broker.label} once the new one works.
                {twofaOn ? " You will be asked for a two-factor code." : ""}
              </span>
            </Banner>
          ) : null}
        </>
      )}

      {showOverrides ? (
        <div className="disclosure">
          <button
            type="button"
            className="disclosure-button"
            aria-expanded={open}
            aria-controls={advancedId}
            onClick={() => setAdvancedOpen(!open)}
          >
            <Icon name="chevronDown" size={16} className={open ? "rotate-180" : undefined} />
            Advanced: endpoint overrides
          </button>
          <div id={advancedId} className="disclosure-panel" hidden={!open}>
            <p className="field-help">
              {hasEndpoints
                ? `For self-hosted gateways, proxies or the simulators. Leave empty to use ${broker.label}'s own endpoints.`
                : `${broker.label} runs inside Brokerdesk and has no endpoints: clear these fields.`}
            </p>
            <div className="grid-2">
              <TextField
                id={fieldDomId("restUrl")}
                label="REST URL"
                value={form.restUrl}
                onChange={(restUrl) => update((f) => ({ ...f, restUrl }))}
                placeholder={env?.restUrl ?? undefined}
                error={errors.restUrl}
                inputMode="url"
                autoComplete="off"
                mono
              />
              <TextField
                id={fieldDomId("streamUrl")}
                label="Stream URL"
                value={form.streamUrl}
                onChange={(streamUrl) => update((f) => ({ ...f, streamUrl }))}
                placeholder={env?.streamUrl ?? undefined}
                error={errors.streamUrl}
                inputMode="url"
                autoComplete="off"
                mono
              />
            </div>
          </div>
        </div>
      ) : null}
    </Section>
  );
}
