import { useEffect } from "react";
import type { Account } from "../../../bindings/Account";
import { Dialog } from "../../../components/Dialog";
import { Icon } from "../../../components/Icon";
import { verifyFailure } from "../../../lib/verify";
import { routeHref } from "../../../state/router";
import { useVerify } from "./useVerify";
import { VerifyResult } from "./VerifyResult";

/**
 * "Verify with broker" from the Accounts list: checks the account's stored credentials as soon as
 * it opens, then shows the broker's summary or why it failed ("Try again" when the broker could
 * not be reached).
 */
export function VerifyDialog({ account, broker, onClose }: { account: Account; broker: string; onClose: () => void }) {
  const { state, verify } = useVerify(account.id);

  useEffect(() => {
    void verify();
  }, [verify]);

  const failure = state.phase === "failed" ? verifyFailure(state.code, broker) : null;
  return (
    <Dialog
      title={`Verify “${account.name}” with ${broker}`}
      size="wide"
      onClose={onClose}
      actions={
        <>
          {failure?.edit ? (
            <a className="button button-secondary" href={routeHref({ page: "account-edit", id: account.id })} onClick={onClose}>
              <Icon name="edit" size={16} />
              Edit account
            </a>
          ) : null}
          {failure?.retry ? (
            <button type="button" className="button button-secondary" onClick={() => void verify()}>
              <Icon name="refresh" size={16} />
              Try again
            </button>
          ) : null}
          <button type="button" className={state.phase === "verified" ? "button button-primary" : "button button-secondary"} onClick={onClose} data-autofocus>
            Close
          </button>
        </>
      }
    >
      <p>Signs in to {broker} with the stored credentials and reads the account. Nothing is changed.</p>
      <VerifyResult state={state} broker={broker} />
    </Dialog>
  );
}
