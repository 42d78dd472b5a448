import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";
import * as api from "../api/client";
import { ErrorCodes } from "../api/client";
import type { BrokerdeskError } from "../api/client";
import type { Account } from "../bindings/Account";
import type { BrokerInfo } from "../bindings/BrokerInfo";
import type { PropFirmPresetInfo } from "../bindings/PropFirmPresetInfo";
import type { FieldError } from "../bindings/FieldError";
import { Banner, ErrorText, Spinner } from "../components/Banner";
import { Icon } from "../components/Icon";
import { PageHeader } from "../components/PageHeader";
import { clearChangedErrors, emptyForm, formFromAccount, rotatesCredentials, toAccountInput } from "../lib/accountForm";
import type { AccountFormState } from "../lib/accountForm";
import { itemsWithErrors, mapFieldErrors } from "../lib/fieldErrors";
import { changeFailure, errorHint } from "../lib/errorHints";
import { formatDateTime } from "../lib/labels";
import type { FieldErrorMap, FormField } from "../lib/fieldErrors";
import { useCatalog } from "../state/CatalogProvider";
import { navigate } from "../state/router";
import { useToast } from "../state/ToastProvider";
import { BrokerSection } from "./account-form/BrokerSection";
import { ConnectionSection } from "./account-form/ConnectionSection";
import { ErrorSummary } from "./account-form/ErrorSummary";
import { MarketsSection } from "./account-form/MarketsSection";
import { PropFirmSection, RiskSection } from "./account-form/RulesSections";
import { NotificationsSection, StatusSection } from "./account-form/StatusSections";
import type { FormUpdater } from "./account-form/types";

type Loaded = { phase: "loading" } | { phase: "error"; error: BrokerdeskError } | { phase: "ready"; account: Account | null };

const backLink = (
  <a className="back-link" href="#/accounts">
    <Icon name="chevronLeft" size={16} />
    Accounts
  </a>
);

/** The labels of the fields whose wording comes from the broker catalog. */
function brokerLabels(broker: BrokerInfo | undefined): Partial<Record<FormField, string>> {
  if (!broker) return {};
  const labels: Partial<Record<FormField, string>> = {};
  if (broker.accountIdLabel) labels.brokerAccountId = broker.accountIdLabel;
  for (const spec of broker.credentialFields) {
    labels[spec.field === "api_key" ? "credentials.apiKey" : "credentials.apiSecret"] = spec.label;
  }
  return labels;
}

/** Add (no id) or edit (id) an account. */
export function AccountEditorPage({ id }: { id?: string }) {
  const catalog = useCatalog();
  const [loaded, setLoaded] = useState<Loaded>(id ? { phase: "loading" } : { phase: "ready", account: null });
  const [form, setForm] = useState<AccountFormState>(emptyForm);

  useEffect(() => {
    if (!id) return;
    let live = true;
    api
      .accountGet(id)
      .then((account) => {
        if (!live) return;
        setForm(formFromAccount(account));
        setLoaded({ phase: "ready", account });
      })
      .catch((error: BrokerdeskError) => live && setLoaded({ phase: "error", error }));
    return () => {
      live = false;
    };
  }, [id]);

  const title = id ? "Edit account" : "Add account";
  if (catalog.state.phase === "error" || loaded.phase === "error") {
    const error = catalog.state.phase === "error" ? catalog.state.error : (loaded as { error: BrokerdeskError }).error;
    return (
      <div className="page">
        <PageHeader title={title} back={backLink} />
        <Banner tone="danger" title={error.code === ErrorCodes.notFound ? "This account no longer exists" : "The account could not be opened"}>
          <ErrorText error={error} />
        </Banner>
      </div>
    );
  }
  if (catalog.state.phase === "loading" || loaded.phase === "loading") {
    return (
      <div className="page">
        <PageHeader title={title} back={backLink} />
        <Spinner />
      </div>
    );
  }
  return <AccountForm account={loaded.account} form={form} setForm={setForm} brokers={catalog.state.brokers} presets={catalog.state.presets} />;
}

interface AccountFormProps {
  account: Account | null;
  form: AccountFormState;
  setForm: (update: (f: AccountFormState) => AccountFormState) => void;
  brokers: BrokerInfo[];
  presets: PropFirmPresetInfo[];
}

function AccountForm({ account, form, setForm, brokers, presets }: AccountFormProps) {
  const notify = useToast();
  const [errors, setErrors] = useState<FieldErrorMap>({});
  const [unmatched, setUnmatched] = useState<FieldError[]>([]);
  const [general, setGeneral] = useState<string | null>(null);
  /** Instruments the backend rejected (`instruments[<index>]` of what was sent). */
  const [badInstruments, setBadInstruments] = useState<string[]>([]);
  const [attempt, setAttempt] = useState(0);
  const [busy, setBusy] = useState(false);
  const editing = account !== null;
  const broker = brokers.find((b) => b.kind === form.broker);
  const rotating = rotatesCredentials(account, form);

  const update: FormUpdater = useCallback((fn) => setForm(fn), [setForm]);

  // Editing a field clears its error; the others stay until the next save.
  const [seenForm, setSeenForm] = useState(form);
  if (seenForm !== form) {
    setSeenForm(form);
    setErrors(clearChangedErrors(errors, seenForm, form));
  }

  const fail = (next: FieldErrorMap, rest: FieldError[], message: string | null) => {
    setErrors(next);
    setUnmatched(rest);
    setGeneral(message);
    setAttempt((n) => n + 1);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const converted = toAccountInput(form, account?.status ?? null);
    if (!converted.ok) {
      fail(converted.errors, [], null);
      return;
    }
    setBusy(true);
    try {
      const saved = account ? await api.accountUpdate(account.id, converted.input) : await api.accountAdd(converted.input);
      notify(account ? `Saved “${saved.name}”.${rotating ? " Its credentials were replaced." : ""}` : `Added “${saved.name}”.`);
      navigate({ page: "accounts" });
    } catch (err) {
      const error = err as BrokerdeskError;
      if (error.hasFieldErrors()) {
        const mapped = mapFieldErrors(error.fields);
        setBadInstruments(itemsWithErrors(error.fields, "instruments", converted.input.instruments));
        fail(mapped.byField, mapped.unmatched, null);
      } else {
        fail({}, [], [changeFailure(error), errorHint(error.code)].filter(Boolean).join(" "));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="page account-form" onSubmit={submit} noValidate aria-label={editing ? `Edit ${account.name}` : "Add account"}>
      <PageHeader
        back={backLink}
        title={editing ? account.name : "Add account"}
        description={
          editing
            ? `Created ${formatDateTime(account.createdAt)} · last changed ${formatDateTime(account.updatedAt)}`
            : "Connect a broker account. Credentials are encrypted before they are stored."
        }
      />
      <ErrorSummary errors={errors} unmatched={unmatched} general={general} attempt={attempt} labels={brokerLabels(broker)} />
      <BrokerSection form={form} update={update} errors={errors} brokers={brokers} editing={editing} />
      {broker ? (
        <>
          <ConnectionSection form={form} update={update} errors={errors} broker={broker} account={account} />
          <PropFirmSection form={form} update={update} errors={errors} presets={presets} />
          <RiskSection form={form} update={update} errors={errors} />
          <MarketsSection form={form} update={update} errors={errors} invalidInstruments={errors.instruments ? badInstruments : []} />
          <NotificationsSection form={form} update={update} errors={errors} />
          <StatusSection form={form} update={update} errors={errors} account={account} />
        </>
      ) : (
        <p className="hint-card">Choose a broker to see its connection settings.</p>
      )}
      <div className="form-footer">
        <a className="button button-secondary" href="#/accounts">
          Cancel
        </a>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Saving…" : rotating ? "Save and rotate credentials" : editing ? "Save changes" : "Add account"}
        </button>
      </div>
    </form>
  );
}
