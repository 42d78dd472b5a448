import { useEffect, useRef } from "react";
import type { ReactNode } from "react";
import type { SavedAccount } from "../../bindings/SavedAccount";
import { Icon } from "../../components/Icon";
import { PageHeader } from "../../components/PageHeader";
import { brokerReason } from "../../lib/accountCheck";
import { routeHref } from "../../state/router";
import { SummaryGrid } from "./CheckResult";

interface Props {
  saved: SavedAccount;
  broker: string;
  editing: boolean;
  backLink: ReactNode;
}

/** After a checked save: the broker's account summary (verified), or why the account was saved unverified. */
export function SaveResult({ saved, broker, editing, backLink }: Props) {
  const { account, check } = saved;
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const verified = check.status === "verified";

  return (
    <div className="page">
      <PageHeader back={backLink} title={account.name} description={editing ? "Changes saved." : "Account added."} />
      <section
        className={`card save-result ${verified ? "save-result-ok" : "save-result-warn"}`}
        aria-labelledby="save-result-title"
        data-testid="save-result"
        data-status={check.status}
      >
        <div className="save-result-head">
          <span className="save-result-icon" aria-hidden="true">
            <Icon name={verified ? "check" : "alert"} size={22} />
          </span>
          <div className="save-result-text">
            <h2 className="save-result-title" id="save-result-title" tabIndex={-1} ref={headingRef}>
              {verified ? `Verified with ${broker}` : "Saved without verification"}
            </h2>
            {check.status === "verified" ? (
              <p className="muted">
                {broker} accepted the credentials of “{account.name}”{editing ? "; the changes are saved" : " and the account is saved"}. This is what{" "}
                {broker} reports for it:
              </p>
            ) : null}
            {check.status === "unreachable" ? (
              <>
                <p>
                  {broker} could not be reached, so the credentials were not checked. <span data-testid="unreachable-reason">{brokerReason(check.message)}</span>
                </p>
                <p className="muted">
                  “{account.name}” was saved unverified. It can trade on paper, but live trading stays locked until a check with {broker} succeeds.
                </p>
              </>
            ) : null}
          </div>
        </div>
        {check.status === "verified" ? <SummaryGrid summary={check.summary} /> : null}
        <div className="card-actions">
          <a className="button button-primary" href={routeHref({ page: "accounts" })}>
            Back to accounts
          </a>
          <a className="button button-secondary" href={routeHref({ page: "dashboard" })}>
            Open the Dashboard
          </a>
          {editing ? null : (
            <a className="button button-secondary" href={routeHref({ page: "account-edit", id: account.id })}>
              <Icon name="edit" size={16} />
              Edit account
            </a>
          )}
        </div>
      </section>
    </div>
  );
}
