import { useCallback, useState } from "react";
import type { FormEvent } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import type { AccountInput } from "../../bindings/AccountInput";
import type { BrokerInfo } from "../../bindings/BrokerInfo";
import type { SavedAccount } from "../../bindings/SavedAccount";
import type { PropFirmPresetInfo } from "../../bindings/PropFirmPresetInfo";
import type { FieldError } from "../../bindings/FieldError";
import { Banner, ErrorText, Spinner } from "../../components/Banner";
import { Icon } from "../../components/Icon";
import { PageHeader } from "../../components/PageHeader";
import { brokerReason, isRefusal, outcomeView, refusalTitle, refusalView, saveWillCheck } from "../../lib/accountCheck";
import type { CheckAction, CheckView } from "../../lib/accountCheck";
import { clearChangedErrors, emptyForm, formFromAccount, rotatesCredentials, toAccountInput } from "../../lib/accountForm";
import type { AccountFormState } from "../../lib/accountForm";
import { itemsWithErrors, mapFieldErrors } from "../../lib/fieldErrors";
import { loosenedProtections } from "../../lib/loosens";
import { changeFailure, errorHint } from "../../lib/errorHints";
import { formatDateTime } from "../../lib/labels";
import type { FieldErrorMap, FormField } from "../../lib/fieldErrors";
import { useAccount, useCatalog } from "../../data/resources";
import { navigate } from "../../state/router";
import { useToast } from "../../state/ToastProvider";
import { useTwoFactor } from "../security/StepUpProvider";
import { BrokerSection } from "./form/BrokerSection";
import type { PickerState } from "./form/BrokerAccountPicker";
import { ConnectionSection } from "./form/ConnectionSection";
import { ErrorSummary } from "./form/ErrorSummary";
import { MarketsSection } from "./form/MarketsSection";
import { PropFirmSection, RiskSection } from "./form/RulesSections";
import { SaveResult } from "./form/SaveResult";
import { NotificationsSection, StatusSection } from "./form/StatusSections";
import { AccountStatusPanel } from "./AccountStatusPanel";
import { ConfigHistoryCard } from "./ConfigHistoryCard";
import { GatewayCertificateCard } from "./GatewayCertificateCard";
import { RiskBudgetsCard } from "./RiskBudgetsCard";
import type { FormUpdater } from "./form/types";
import "./account-form.css";
import "./checks.css";
import "./account-page.css";

/** Under the account ID when a token reaches several accounts and none was chosen. */
export const CHOOSE_ACCOUNT_MESSAGE = "This token reaches several accounts: choose one below, under “Find accounts”.";

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
  const stored = useAccount(id);
  const [form, setForm] = useState<AccountFormState>(emptyForm);
  /** The form is filled from the stored account once: later reads (another window's change) keep what is being typed. */
  const [filledFrom, setFilledFrom] = useState<string | null>(null);
  if (id && stored.data && filledFrom !== id) {
    setFilledFrom(id);
    setForm(formFromAccount(stored.data));
  }
  let loaded: Loaded;
  if (!id) loaded = { phase: "ready", account: null };
  else if (stored.data && filledFrom === id) loaded = { phase: "ready", account: stored.data };
  else if (stored.error) loaded = { phase: "error", error: stored.error as BrokerdeskError };
  else loaded = { phase: "loading" };

  const title = id ? "Edit account" : "Add account";
  if (catalog.state.phase === "error" || loaded.phase === "error") {
    const error = catalog.state.phase === "error" ? catalog.state.error : (loaded as { error: BrokerdeskError }).error;
    return (
      <div className="page">
        <PageHeader title={title} back={backLink} />
        <Banner tone="danger" title={error.code === Code.NotFound ? "This account no longer exists" : "The account could not be opened"}>
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
  /** What the last check with the broker found (Test connection, or a refused Save). */
  const [check, setCheck] = useState<CheckView>({ kind: "idle" });
  /** What the summary's title says failed. */
  const [failedAction, setFailedAction] = useState<CheckAction>("save");
  const [picker, setPicker] = useState<PickerState>({ phase: "idle" });
  /** Set once saved with a check outcome worth showing (verified, or saved unverified). */
  const [saved, setSaved] = useState<SavedAccount | null>(null);
  const editing = account !== null;
  const broker = brokers.find((b) => b.kind === form.broker);
  const rotating = rotatesCredentials(account, form);
  const brokerName = broker?.label ?? "the broker";
  const willCheck = saveWillCheck(account, form, broker?.credentialFields.length ?? 0);
  const twofaOn = useTwoFactor().status?.enabled === true;
  // What the edit loosens (the core asks for a two-factor code to save it): said before saving.
  const draft = account ? toAccountInput(form, account.status) : null;
  const loosened = account && draft?.ok ? loosenedProtections(account, draft.input) : [];

  const update: FormUpdater = useCallback((fn) => setForm(fn), [setForm]);

  // Editing a field clears its error; the others stay until the next save. A check's result
  // describes the credentials it was made with, so changing the connection settings clears it.
  const [seenForm, setSeenForm] = useState(form);
  if (seenForm !== form) {
    setSeenForm(form);
    setErrors(clearChangedErrors(errors, seenForm, form));
    const connectionChanged =
      seenForm.broker !== form.broker ||
      seenForm.environment !== form.environment ||
      seenForm.credentials !== form.credentials ||
      seenForm.brokerAccountId !== form.brokerAccountId ||
      seenForm.restUrl !== form.restUrl ||
      seenForm.streamUrl !== form.streamUrl;
    if (connectionChanged && check.kind !== "idle" && check.kind !== "checking") setCheck({ kind: "idle" });
  }

  const fail = (next: FieldErrorMap, rest: FieldError[], message: string | null, action: CheckAction) => {
    setErrors(next);
    setUnmatched(rest);
    setGeneral(message);
    setFailedAction(action);
    setAttempt((n) => n + 1);
  };

  const clearProblems = () => {
    setErrors({});
    setUnmatched([]);
    setGeneral(null);
  };

  /** The form as the command's input, or null (its errors shown) when the client finds problems. */
  const inputOrFail = (action: CheckAction): AccountInput | null => {
    const converted = toAccountInput(form, account?.status ?? null);
    if (!converted.ok) {
      fail(converted.errors, [], null, action);
      return null;
    }
    return converted.input;
  };

  /** OANDA: asks which accounts the typed token reaches; one is filled in, several are offered as a choice. */
  const findAccounts = async (from?: AccountInput) => {
    let draft = from;
    if (!draft) {
      // The name is not needed to ask the broker; everything else must be valid.
      const converted = toAccountInput({ ...form, name: form.name.trim() || "Draft" }, account?.status ?? null);
      if (!converted.ok) {
        fail(converted.errors, [], null, "test");
        return;
      }
      draft = converted.input;
    }
    const token = form.credentials.apiKey;
    setPicker({ phase: "loading" });
    try {
      const accounts = await api.brokerAccounts(draft);
      setPicker({ phase: "ready", token, accounts });
      const only = accounts.length === 1 ? accounts[0] : undefined;
      if (only) update((f) => ({ ...f, brokerAccountId: only.accountId }));
    } catch (err) {
      setPicker({ phase: "error", error: err as BrokerdeskError });
    }
  };

  /** Shows what the backend refused: field errors inline, the broker's refusal beside the credentials. */
  const showFailure = (error: BrokerdeskError, input: AccountInput, action: CheckAction) => {
    if (error.code === Code.ChooseBrokerAccount) {
      // The picker says it better than the message (written for the command line).
      setCheck({ kind: "idle" });
      void findAccounts(input);
    } else if (isRefusal(error.code)) {
      setCheck(refusalView(error, action));
    } else {
      setCheck({ kind: "idle" });
    }
    const refused = isRefusal(error.code) && error.code !== Code.ChooseBrokerAccount;
    const message = refused
      ? `${refusalTitle(error.code, brokerName)}: ${brokerReason(error.message)}${action === "save" ? " Nothing was saved." : ""}`
      : error.hasFieldErrors()
        ? null
        : [changeFailure(error), errorHint(error.code)].filter(Boolean).join(" ");
    if (error.hasFieldErrors()) {
      const mapped = mapFieldErrors(error.fields);
      // The backend's wording is for the command line; here the picker below is the way to choose.
      if (error.code === Code.ChooseBrokerAccount) mapped.byField.brokerAccountId = CHOOSE_ACCOUNT_MESSAGE;
      setBadInstruments(itemsWithErrors(error.fields, "instruments", input.instruments));
      fail(mapped.byField, mapped.unmatched, message, action);
    } else {
      fail({}, [], message, action);
    }
  };

  const save = async (checkFirst: boolean) => {
    const input = inputOrFail("save");
    if (!input) return;
    setBusy(true);
    clearProblems();
    if (checkFirst && willCheck) setCheck({ kind: "checking", action: "save" });
    try {
      const result = account ? await api.accountUpdate(account.id, input, checkFirst) : await api.accountAdd(input, checkFirst);
      if (result.check.status === "skipped") {
        const name = result.account.name;
        notify(account ? `Saved “${name}”.${rotating ? " Its credentials were replaced." : ""}` : `Added “${name}”.`);
        navigate({ page: "accounts" });
        return;
      }
      setSaved(result);
    } catch (err) {
      showFailure(err as BrokerdeskError, input, "save");
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save(true);
  };

  const testConnection = async () => {
    const input = inputOrFail("test");
    if (!input) return;
    setBusy(true);
    clearProblems();
    setCheck({ kind: "checking", action: "test" });
    try {
      const outcome = await api.accountCheck(account?.id ?? null, input);
      setCheck(outcomeView(outcome, "test"));
    } catch (err) {
      showFailure(err as BrokerdeskError, input, "test");
    } finally {
      setBusy(false);
    }
  };

  if (saved) return <SaveResult saved={saved} broker={brokerName} editing={editing} backLink={backLink} />;

  return (
    <div className="page account-form">
      <PageHeader
        back={backLink}
        title={editing ? account.name : "Add account"}
        description={
          editing
            ? `Created ${formatDateTime(account.createdAt)} · last changed ${formatDateTime(account.updatedAt)}`
            : "Connect a broker account. Credentials are encrypted before they are stored."
        }
      />
      {editing && account.integrity ? (
        <Banner tone="danger" title="Changed outside Brokerdesk">
          {account.integrity.message} {errorHint(account.integrity.code)}
        </Banner>
      ) : null}
      {editing ? (
        // Outside the form: their dialogs have inputs of their own, and Enter there must not save the account.
        <div className="account-overview">
          <AccountStatusPanel account={account} />
          <RiskBudgetsCard account={account} />
          <GatewayCertificateCard account={account} />
        </div>
      ) : null}
      <form className="account-form-body" onSubmit={submit} noValidate aria-label={editing ? `Edit ${account.name}` : "Add account"}>
        <ErrorSummary
          errors={errors}
          unmatched={unmatched}
          general={general}
          attempt={attempt}
          labels={brokerLabels(broker)}
          action={failedAction}
        />
        <BrokerSection form={form} update={update} errors={errors} brokers={brokers} editing={editing} />
        {broker ? (
          <>
            <ConnectionSection
              form={form}
              update={update}
              errors={errors}
              broker={broker}
              account={account}
              check={check}
              onTest={() => void testConnection()}
              onSaveUnchecked={() => void save(false)}
              picker={picker}
              onFindAccounts={() => void findAccounts()}
              onChooseAccount={(brokerAccountId) => update((f) => ({ ...f, brokerAccountId }))}
              busy={busy}
            />
            <PropFirmSection form={form} update={update} errors={errors} presets={presets} />
            <RiskSection form={form} update={update} errors={errors} />
            <MarketsSection form={form} update={update} errors={errors} invalidInstruments={errors.instruments ? badInstruments : []} />
            <NotificationsSection form={form} update={update} errors={errors} />
            {editing ? null : <StatusSection form={form} update={update} errors={errors} />}
          </>
        ) : (
          <p className="hint-card">Choose a broker to see its connection settings.</p>
        )}
        {loosened.length > 0 ? (
          <Banner tone="warning" title="This loosens protection">
            <span data-testid="loosen-note">
              Saving loosens {loosened.join(", ")}.{" "}
              {twofaOn
                ? "You will be asked for a two-factor code."
                : "Two-factor authentication is off, so no code is asked; turn it on (Security) so that loosening always needs one."}
            </span>
          </Banner>
        ) : null}
        <div className="form-footer">
          <a className="button button-secondary" href="#/accounts">
            Cancel
          </a>
          <button type="submit" className="button button-primary" disabled={busy} data-testid="save-account">
            {busy && check.kind === "checking" && check.action === "save" ? (
              <>
                <span className="spinner spinner-sm spinner-on-accent" aria-hidden="true" />
                Checking with {brokerName}…
              </>
            ) : busy && check.kind !== "checking" ? (
              "Saving…"
            ) : rotating ? (
              "Save and rotate credentials"
            ) : editing ? (
              "Save changes"
            ) : (
              "Add account"
            )}
          </button>
        </div>
      </form>
      {editing ? <ConfigHistoryCard account={account} /> : null}
    </div>
  );
}
