import { useEffect, useRef } from "react";
import type { ReactNode } from "react";
import type { SavedAccount } from "../../../bindings/SavedAccount";
import { Icon } from "../../../components/Icon";
import { PageHeader } from "../../../components/PageHeader";
import { brokerReason } from "../../../lib/accountCheck";
import { liveUnlockUntil } from "../../../lib/verify";
import { routeHref } from "../../../state/router";
import { useVerify } from "../verify/useVerify";
import { VerifyResult } from "../verify/VerifyResult";
import { SummaryGrid } from "./CheckResult";

interface Props {
  saved: SavedAccount;
  broker: string;
  editing: boolean;
  backLink: ReactNode;
}

/**
 * After a checked save: the broker's account summary (verified), or why the account was saved
 * unverified, with "Verify with …" to check the stored credentials once the broker answers.
 */
export function SaveResult({ saved, broker, editing, backLink }: Props) {
  const { account, check } = saved;
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const { state: verify, verify: runVerify } = useVerify(account.id);
  const verified = check.status === "verified";
  /** Saved unverified, then verified here. */
  const verifiedLater = check.status === "unreachable" && verify.phase === "verified";
  const ok = verified || verifiedLater;

  return (
    <div className="page">
      <PageHeader back={backLink} title={account.name} description={editing ? "Changes saved." : "Account added."} />
      <section
        className={`card save-result ${ok ? "save-result-ok" : "save-result-warn"}`}
        aria-labelledby="save-result-title"
        data-testid="save-result"
        data-status={verifiedLater ? "verified" : check.status}
      >
        <div className="save-result-head">
          <span className="save-result-icon" aria-hidden="true">
            <Icon name={ok ? "check" : "alert"} size={22} />
          </span>
          <div className="save-result-text">
            <h2 className="save-result-title" id="save-result-title" tabIndex={-1} ref={headingRef}>
              {ok ? `Verified with ${broker}` : "Saved without verification"}
            </h2>
            {check.status === "verified" ? (
              <p className="muted">
                {broker} accepted the credentials of “{account.name}”{editing ? "; the changes are saved" : " and the account is saved"}. This is what{" "}
                {broker} reports for it:
              </p>
            ) : null}
            {verifiedLater ? (
              <p className="muted" role="status" data-testid="verified-later">
                {broker} could not be reached when “{account.name}” was saved; it has now accepted the stored credentials, which lets the account
                switch to live trading until {liveUnlockUntil(verify.at)}. This is what {broker} reports for it:
              </p>
            ) : null}
            {check.status === "unreachable" && !verifiedLater ? (
              <>
                <p>
                  {broker} could not be reached, so the credentials were not checked. <span data-testid="unreachable-reason">{brokerReason(check.message)}</span>
                </p>
                <p className="muted">
                  “{account.name}” was saved unverified. It can trade on paper, but live trading stays locked until a check with {broker} succeeds:
                  verify once {broker} can be reached.
                </p>
              </>
            ) : null}
          </div>
        </div>
        {check.status === "verified" ? <SummaryGrid summary={check.summary} /> : null}
        {verifiedLater ? <SummaryGrid summary={verify.summary} /> : null}
        {check.status === "unreachable" && verify.phase === "failed" ? <VerifyResult state={verify} broker={broker} liveNote={false} /> : null}
        <div className="card-actions">
          {check.status === "unreachable" && !verifiedLater ? (
            <button type="button" className="button button-primary" onClick={() => void runVerify()} disabled={verify.phase === "checking"}>
              {verify.phase === "checking" ? (
                <>
                  <span className="spinner spinner-sm spinner-on-accent" aria-hidden="true" />
                  Checking with {broker}…
                </>
              ) : (
                <>
                  <Icon name="security" size={16} />
                  {verify.phase === "failed" ? `Try again with ${broker}` : `Verify with ${broker}`}
                </>
              )}
            </button>
          ) : null}
          <a className={check.status === "unreachable" && !verifiedLater ? "button button-secondary" : "button button-primary"} href={routeHref({ page: "accounts" })}>
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
