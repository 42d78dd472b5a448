import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import * as api from "../../api/client";
import { Code } from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import { Banner } from "../../components/Banner";
import { Dialog } from "../../components/Dialog";
import { keys } from "../../data/keys";
import { useConnections } from "../../data/resources";
import { certificateView, connectionRefusedCertificate, shownFingerprint } from "../../lib/certificate";
import { changeFailure } from "../../lib/errorHints";
import { formatDateTime } from "../../lib/labels";
import { useToast } from "../../state/ToastProvider";

/**
 * An IBKR account's gateway certificate: the SHA-256 pinned on the first connection, and —
 * when a connection failed with `certificate_changed` — the certificate the gateway presents
 * now, with "Trust the new certificate" (a two-factor step-up, asked by the StepUpProvider).
 */
export function GatewayCertificateCard({ account }: { account: Account }) {
  // Only IBKR's gateway on this machine is pinned; other accounts read no connections here.
  return account.broker === "ibkr" ? <IbkrCertificate account={account} /> : null;
}

function IbkrCertificate({ account }: { account: Account }) {
  const { state } = useConnections();
  const notify = useToast();
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const refused = state.phase === "ready" && connectionRefusedCertificate(state.accounts, account.id);
  const view = certificateView(account, refused);
  if (view.kind === "none") return null;

  const trust = async (fingerprint: string) => {
    setBusy(true);
    try {
      const updated = await api.accountTrustCertificate(account.id, fingerprint);
      // The runtime restarts the account's connections with the new pin; its events refresh
      // the connections, and the account is known now.
      qc.setQueryData(keys.account(account.id), updated);
      void qc.invalidateQueries({ queryKey: keys.accounts });
      void qc.invalidateQueries({ queryKey: keys.connections });
      notify(`“${account.name}” trusts the gateway's new certificate; it reconnects with it.`);
      setConfirming(false);
    } catch (e) {
      const error = e as BrokerdeskError;
      notify(changeFailure(error), error.code === Code.StepUpRequired ? "info" : "danger");
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card certificate-card" aria-labelledby="certificate-title" data-testid="gateway-certificate" data-state={view.kind}>
      <header className="form-section-header">
        <h2 className="form-section-title" id="certificate-title">
          Gateway certificate
        </h2>
        <p className="form-section-description">
          The Client Portal gateway on this computer uses a self-signed certificate. Brokerdesk pins it on the first connection
          and refuses any other, sending nothing to it.
        </p>
      </header>
      {view.kind === "unpinned" ? (
        <p className="muted" data-testid="certificate-unpinned">
          Not pinned yet: the first connection to the gateway (or “Verify with broker”) pins its certificate.
        </p>
      ) : (
        <dl className="certificate-facts">
          <dt>Pinned</dt>
          <dd className="mono certificate-fingerprint" data-testid="certificate-pinned">
            {shownFingerprint(view.pinned)}
          </dd>
          <dt>Gateway</dt>
          <dd className="mono">{view.origin}</dd>
          <dt>Since</dt>
          <dd>{formatDateTime(view.pinnedAt)}</dd>
        </dl>
      )}
      {view.kind === "changed" ? (
        <Banner tone="danger" title="The gateway presented another certificate">
          <p>The connection was refused and nothing was sent. If you replaced or regenerated the gateway's certificate, compare the fingerprint below with the gateway's before trusting it.</p>
          {view.presented ? (
            <>
              <p className="mono certificate-fingerprint" data-testid="certificate-presented">
                {shownFingerprint(view.presented)}
              </p>
              <button type="button" className="button button-primary" onClick={() => setConfirming(true)} data-testid="trust-certificate">
                Trust the new certificate…
              </button>
            </>
          ) : (
            <p className="muted">Reading the new certificate's fingerprint…</p>
          )}
        </Banner>
      ) : null}
      {confirming && view.kind === "changed" && view.presented ? (
        <Dialog
          title="Trust the new certificate?"
          onClose={() => setConfirming(false)}
          actions={
            <>
              <button type="button" className="button button-secondary" onClick={() => setConfirming(false)} data-autofocus>
                Cancel
              </button>
              <button type="button" className="button button-primary" disabled={busy} onClick={() => void trust(view.presented ?? "")} data-testid="confirm-trust-certificate">
                {busy ? "Trusting…" : "Trust certificate"}
              </button>
            </>
          }
        >
          <p>
            From now on <strong>{account.name}</strong> connects only to a gateway at {view.origin} presenting this certificate:
          </p>
          <p className="mono certificate-fingerprint">{shownFingerprint(view.presented)}</p>
          <p className="muted">Instead of: {shownFingerprint(view.pinned)}. With two-factor authentication on, you are asked for a code.</p>
        </Dialog>
      ) : null}
    </section>
  );
}
