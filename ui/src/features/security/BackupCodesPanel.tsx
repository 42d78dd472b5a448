import { useId, useState } from "react";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import { Banner } from "../../components/Banner";
import { Icon } from "../../components/Icon";

interface Props {
  codes: string[];
  saved: boolean;
  onSavedChange: (saved: boolean) => void;
}

/**
 * Ten fresh backup codes, shown once: copy (through the shell, which clears the clipboard after
 * 30 s), print (only the codes are printed), and a tick that they were saved. No file download:
 * the codes must not land in a Downloads folder.
 */
export function BackupCodesPanel({ codes, saved, onSavedChange }: Props) {
  const [copy, setCopy] = useState<{ tone: "success" | "danger"; text: string } | null>(null);
  const tickId = useId();

  const copyCodes = async () => {
    try {
      await api.clipboardCopy({ kind: "backupCodes" });
      setCopy({ tone: "success", text: "Copied. The clipboard is cleared in 30 s." });
    } catch (e) {
      setCopy({ tone: "danger", text: `The codes could not be copied: ${(e as BrokerdeskError).message}` });
    }
  };

  return (
    <div className="backup-codes">
      <p>
        Each code works once, in place of a code from your app — for example if you lose your phone. Keep them somewhere
        safe and away from this computer. <strong>They are shown only now.</strong>
      </p>
      <div className="print-area">
        <p className="print-only print-title">Brokerdesk backup codes</p>
        <p className="print-only">
          Made {new Date().toLocaleString()}. Each code works once. Making new codes cancels these.
        </p>
        <ol className="code-grid mono" aria-label="Backup codes" data-testid="backup-codes">
          {codes.map((code, i) => (
            <li key={code}>
              <span className="code-n" aria-hidden="true">
                {String(i + 1).padStart(2, "0")}
              </span>
              <span className="code">{code}</span>
            </li>
          ))}
        </ol>
      </div>
      <div className="backup-actions">
        <button type="button" className="button button-secondary button-sm" onClick={() => void copyCodes()}>
          <Icon name="copy" size={16} />
          Copy
        </button>
        <button type="button" className="button button-secondary button-sm" onClick={() => window.print()}>
          <Icon name="printer" size={16} />
          Print
        </button>
        {copy?.tone === "success" ? (
          <span className="inline-note" role="status">
            <Icon name="check" size={14} />
            {copy.text}
          </span>
        ) : null}
      </div>
      {copy?.tone === "danger" ? <Banner tone="danger">{copy.text}</Banner> : null}
      <label className="check-row" htmlFor={tickId}>
        <input id={tickId} type="checkbox" checked={saved} onChange={(e) => onSavedChange(e.target.checked)} />
        <span>I saved these codes</span>
      </label>
    </div>
  );
}
