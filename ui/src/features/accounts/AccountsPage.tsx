import { useState } from "react";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import { Banner, ErrorText, Spinner } from "../../components/Banner";
import { BrokerBadge, ModePill, StatusPill } from "../../components/Badges";
import { Icon } from "../../components/Icon";
import { EmptyState, PageHeader } from "../../components/PageHeader";
import { RemoveAccountDialog } from "./RemoveAccountDialog";
import { VerifyDialog } from "./verify/VerifyDialog";
import { ENVIRONMENT_LABELS, unreadableCredentialText } from "../../lib/labels";
import { changeFailure } from "../../lib/errorHints";
import { canVerify } from "../../lib/verify";
import { useCatalog } from "../../data/resources";
import { routeHref } from "../../state/router";
import { useToast } from "../../state/ToastProvider";
import { useAccounts } from "../../data/resources";
import "./checks.css";

export function AccountsPage() {
  const { state, reload } = useAccounts();
  const catalog = useCatalog();
  const notify = useToast();
  const [removing, setRemoving] = useState<Account | null>(null);
  const [verifying, setVerifying] = useState<Account | null>(null);
  const brokerLabel = (a: Account) => catalog.broker(a.broker)?.label ?? a.broker;

  // The catalog names environments per broker ("Sandbox", "Paper"); fall back to the generic name.
  const environmentLabel = (a: Account) =>
    catalog.broker(a.broker)?.environments.find((e) => e.environment === a.environment)?.label ?? ENVIRONMENT_LABELS[a.environment];

  const addButton = (
    <a className="button button-primary" href="#/accounts/new">
      <Icon name="plus" size={16} />
      Add account
    </a>
  );

  const remove = async (account: Account) => {
    try {
      await api.accountRemove(account.id);
      notify(`Removed “${account.name}”.`);
    } catch (e) {
      const error = e as BrokerdeskError;
      // Already gone is what the user wanted; anything else is worth saying.
      if (error.code !== Code.NotFound) notify(changeFailure(error), error.code === Code.StepUpRequired ? "info" : "danger");
    } finally {
      setRemoving(null);
      reload();
    }
  };

  return (
    <div className="page page-wide">
      <PageHeader title="Accounts" description="Broker accounts in this vault. Credentials are encrypted and never shown in full." actions={addButton} />
      {state.phase === "loading" ? <Spinner label="Loading accounts…" /> : null}
      {state.phase === "error" ? (
        <Banner tone="danger" title="The accounts could not be read">
          <ErrorText error={state.error} />
        </Banner>
      ) : null}
      {state.phase === "ready" && state.accounts.length === 0 ? (
        <EmptyState title="No accounts yet" action={addButton}>
          Add an account at OANDA, Alpaca, Tradier, Tastytrade or Interactive Brokers, or a paper account that trades against
          simulated fills.
        </EmptyState>
      ) : null}
      {state.phase === "ready" && state.accounts.length > 0 ? (
        <div className="table-card">
          <table className="table" aria-label="Accounts">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Broker</th>
                <th scope="col">Broker account</th>
                <th scope="col">Mode · status</th>
                <th scope="col">Credentials</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {state.accounts.map((a) => (
                <tr key={a.id} data-account-id={a.id}>
                  <th scope="row">
                    <a className="row-link" href={routeHref({ page: "account-edit", id: a.id })}>
                      {a.name}
                    </a>
                  </th>
                  <td>
                    <div className="broker-cell">
                      <BrokerBadge broker={a.broker} label={catalog.broker(a.broker)?.label} />
                      <span className="muted">{environmentLabel(a)}</span>
                    </div>
                  </td>
                  <td className="mono">{a.brokerAccountId ?? <span className="muted">—</span>}</td>
                  <td>
                    <div className="state-cell">
                      <ModePill mode={a.mode} environment={a.environment} />
                      <StatusPill status={a.status} />
                    </div>
                  </td>
                  <td>
                    {a.credentials.length === 0 ? (
                      catalog.broker(a.broker)?.credentialFields.some((f) => f.required) ? (
                        // Imported without them: it cannot connect until they are entered.
                        <a className="cred-missing" href={routeHref({ page: "account-edit", id: a.id })} title="This account cannot connect until its credentials are entered">
                          Missing — enter them
                        </a>
                      ) : (
                        <span className="muted">None</span>
                      )
                    ) : (
                      <ul className="cred-list">
                        {a.credentials.map((c) => (
                          <li key={c.field} title={c.error ? unreadableCredentialText(c.label, c.error.message) : `${c.label}: ${c.masked}`}>
                            <span className="cred-label">
                              <span className="sr-only">{c.label}</span>
                              <span aria-hidden="true">{c.field === "api_secret" ? "Secret" : "Key"}</span>
                            </span>{" "}
                            {c.error ? (
                              // The stored value cannot be opened (tampered with or moved): it must be entered again.
                              <span className="pill pill-warning pill-xs" data-testid="credential-unreadable" data-code={c.error.code}>
                                <Icon name="alert" size={12} />
                                Unreadable
                                <span className="sr-only">: {unreadableCredentialText(c.label, c.error.message)}</span>
                              </span>
                            ) : (
                              <span className="mono">{c.masked}</span>
                            )}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td className="row-actions">
                    {canVerify(a.broker) ? (
                      <button
                        type="button"
                        className="icon-button"
                        aria-label={`Verify ${a.name} with ${brokerLabel(a)}`}
                        title="Verify with broker"
                        onClick={() => setVerifying(a)}
                      >
                        <Icon name="security" size={16} />
                      </button>
                    ) : null}
                    <a className="icon-button" href={routeHref({ page: "account-edit", id: a.id })} aria-label={`Edit ${a.name}`} title="Edit">
                      <Icon name="edit" size={16} />
                    </a>
                    <button type="button" className="icon-button icon-button-danger" aria-label={`Remove ${a.name}`} title="Remove" onClick={() => setRemoving(a)}>
                      <Icon name="trash" size={16} />
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {verifying ? <VerifyDialog account={verifying} broker={brokerLabel(verifying)} onClose={() => setVerifying(null)} /> : null}
      {removing ? <RemoveAccountDialog account={removing} onCancel={() => setRemoving(null)} onConfirm={() => remove(removing)} /> : null}
    </div>
  );
}
