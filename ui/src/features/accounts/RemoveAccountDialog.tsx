import { useState } from "react";
import type { Account } from "../../bindings/Account";
import { Dialog } from "../../components/Dialog";

export function RemoveAccountDialog({ account, onCancel, onConfirm }: { account: Account; onCancel: () => void; onConfirm: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  return (
    <Dialog
      tone="danger"
      title={`Remove “${account.name}”?`}
      onClose={onCancel}
      actions={
        <>
          <button type="button" className="button button-secondary" onClick={onCancel} data-autofocus>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              await onConfirm();
            }}
          >
            {busy ? "Removing…" : "Remove account"}
          </button>
        </>
      }
    >
      <p>
        This deletes the account <strong>{account.name}</strong> and its encrypted credentials from this computer. Nothing
        changes at the broker. This cannot be undone.
      </p>
    </Dialog>
  );
}
