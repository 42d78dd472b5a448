import type { BrokerdeskError } from "../../api/client";
import { Code } from "../../api/client";
import type { Code as CodeName } from "../../bindings/Code";
import { Banner } from "../../components/Banner";
import { asSentence } from "../../lib/labels";
import { AuthLayout } from "./AuthLayout";

/** What went wrong and the steps that fix it, for a profile that could not be opened at all. */
export interface OpenFailureFix {
  title: string;
  steps: string[];
}

/**
 * How to fix a profile that did not open, by the open error's code. Every case says what to do;
 * an unknown code still gets the general advice (and its code, for a bug report).
 */
export function openFailureFix(code: CodeName): OpenFailureFix {
  switch (code) {
    case Code.CorruptDatabase:
    case Code.MigrationFailed:
      return {
        title: code === Code.CorruptDatabase ? "The profile's database is damaged" : "The profile's database could not be upgraded",
        steps: [
          "Quit Brokerdesk.",
          "Restore your latest backup from a terminal: brokerdesk backup restore FILE (backups are in the data folder's backups/ folder, or the folder you chose in Settings → Backups). It checks the backup before it changes anything and keeps a copy of the current profile.",
          "No backup? Move the data folder aside, start Brokerdesk to set it up again, and import an exported configuration.",
          "Then start Brokerdesk again (or choose Try again).",
        ],
      };
    case Code.NewerSchema:
      return {
        title: "This profile was last used by a newer Brokerdesk",
        steps: [
          "Install that version of Brokerdesk (or a newer one): this one cannot read what it wrote, and does not change it.",
          "Or restore a backup made with this version: brokerdesk backup restore FILE.",
        ],
      };
    case Code.Busy:
    case Code.ProfileInUse:
      return {
        title: "Another Brokerdesk has this profile open",
        steps: ["Close the other Brokerdesk window, or wait for the brokerdesk command that is running to finish.", "Then choose Try again."],
      };
    case Code.DiskFull:
      return {
        title: "The disk is full",
        steps: ["Free some space on the disk that holds the data folder.", "Then choose Try again."],
      };
    case Code.NoDataDir:
    case Code.DataDir:
    case Code.Io:
    case Code.Storage:
      return {
        title: "The data folder cannot be used",
        steps: [
          "Check that the data folder exists and that your user may read and write it (its owner and permissions), and that its disk is mounted.",
          "Or use another folder: start Brokerdesk with the environment variable BROKERDESK_DATA_DIR set to it.",
          "Then choose Try again.",
        ],
      };
    default:
      return {
        title: "The profile could not be opened",
        steps: [
          "Choose Try again.",
          "If it keeps failing, quit Brokerdesk and run brokerdesk health in a terminal, or restore a backup with brokerdesk backup restore FILE.",
        ],
      };
  }
}

/** The screen shown when the profile could not be opened: what failed, its code, how to fix it, "Try again". */
export function StartFailure({ error, onRetry }: { error: BrokerdeskError; onRetry: () => void }) {
  const fix = openFailureFix(error.code);
  return (
    <AuthLayout>
      <h1 className="auth-title">Brokerdesk could not start</h1>
      <Banner tone="danger" title={fix.title}>
        <p>{asSentence(error.message)}</p>
        <p className="muted">
          Code <code className="mono">{error.code}</code>
        </p>
      </Banner>
      <div className="start-failure-fix" data-testid="start-failure-fix">
        <h2 className="start-failure-title">How to fix it</h2>
        <ol>
          {fix.steps.map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ol>
      </div>
      <div className="form-actions">
        <button type="button" className="button button-primary" onClick={onRetry}>
          Try again
        </button>
      </div>
    </AuthLayout>
  );
}
