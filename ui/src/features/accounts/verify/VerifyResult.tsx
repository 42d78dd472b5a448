import { Banner } from "../../../components/Banner";
import { Icon } from "../../../components/Icon";
import { brokerReason } from "../../../lib/accountCheck";
import { errorHint } from "../../../lib/errorHints";
import { liveUnlockUntil, verifyFailure } from "../../../lib/verify";
import type { VerifyState } from "../../../lib/verify";
import { SummaryGrid } from "../form/CheckResult";

/**
 * What "Verify with broker" found: progress, the broker's account summary, or why it failed
 * (`liveNote`: add that live trading stays locked, unless the page around says so already).
 */
export function VerifyResult({ state, broker, liveNote = true }: { state: VerifyState; broker: string; liveNote?: boolean }) {
  switch (state.phase) {
    case "idle":
      return null;
    case "checking":
      return (
        <div className="check-progress" role="status" data-testid="verify-progress">
          <span className="spinner" aria-hidden="true" />
          <span>Checking with {broker}…</span>
        </div>
      );
    case "verified":
      return (
        <div className="check-panel check-panel-ok" role="status" data-testid="verify-result" data-status="verified">
          <div className="check-panel-head">
            <span className="check-panel-icon" aria-hidden="true">
              <Icon name="check" size={16} />
            </span>
            <div>
              <p className="check-panel-title">{broker} accepted the stored credentials</p>
              <p className="check-panel-text" data-testid="verify-live">
                Verified at {new Date(state.at).toLocaleTimeString(undefined, { timeStyle: "short" })}. This check lets the account switch to live
                trading until {liveUnlockUntil(state.at)}.
              </p>
            </div>
          </div>
          <SummaryGrid summary={state.summary} />
        </div>
      );
    case "failed": {
      const failure = verifyFailure(state.code, broker);
      const hint = errorHint(state.code);
      return (
        <div className="verify-failed" data-testid="verify-result" data-status="failed" data-code={state.code}>
          <Banner tone={failure.refused ? "danger" : "warning"} title={failure.title}>
            <p data-testid="verify-reason">{brokerReason(state.message)}</p>
            <p>{failure.advice}</p>
            {hint ? <p className="muted">{hint}</p> : null}
            {liveNote ? <p className="muted">Live trading stays locked until a check with {broker} succeeds.</p> : null}
          </Banner>
        </div>
      );
    }
  }
}
