import { Code } from "../../../api/errors";
import type { AccountSummary } from "../../../bindings/AccountSummary";
import { Banner } from "../../../components/Banner";
import { Icon } from "../../../components/Icon";
import { formatMoney, maskedAccount, refusalTitle, sentence } from "../../../lib/accountCheck";
import type { CheckView } from "../../../lib/accountCheck";

/** What to do after a refusal, and that nothing was saved. */
function refusalAdvice(code: string, action: "test" | "save"): string {
  const saved = action === "save" ? "Nothing was saved." : "Nothing was saved: this was only a test.";
  switch (code) {
    case Code.BrokerAuth:
      return `${saved} Check the credentials (and that they are for this environment), then try again.`;
    case Code.VerifyRateLimited:
      return `${saved} Wait a minute before checking again.`;
    case Code.BrokerNotFound:
    case Code.BrokerConfig:
      return `${saved} Check the account ID and the endpoints, then try again.`;
    default:
      return saved;
  }
}

/** What the broker reported about the account: number (last 4), type, currency, balance, equity, buying power. */
export function SummaryGrid({ summary }: { summary: AccountSummary }) {
  const money = (v: string) => formatMoney(v, summary.currency);
  const items: [string, string, string, boolean][] = [
    ["Account", maskedAccount(summary), "account", true],
    ["Type", summary.accountType.charAt(0).toUpperCase() + summary.accountType.slice(1), "type", false],
    ["Currency", summary.currency, "currency", true],
    ["Balance", money(summary.balance), "balance", true],
    ["Equity", money(summary.equity), "equity", true],
    ["Buying power", money(summary.buyingPower), "buying-power", true],
  ];
  return (
    <dl className="check-summary" data-testid="check-summary">
      {items.map(([label, value, id, numeric]) => (
        <div key={id}>
          <dt>{label}</dt>
          <dd className={numeric ? "num" : undefined} data-testid={`summary-${id}`}>
            {value}
          </dd>
        </div>
      ))}
    </dl>
  );
}

interface Props {
  view: CheckView;
  broker: string;
  /** Saves the draft with `check: false` (offered once the broker could not be reached). */
  onSaveUnchecked: () => void;
  busy: boolean;
  editing: boolean;
}

/** The result of "Test connection", or why Save was refused, beside the credentials. */
export function CheckResult({ view, broker, onSaveUnchecked, busy, editing }: Props) {
  switch (view.kind) {
    case "idle":
      return null;
    case "checking":
      return (
        <div className="check-progress" role="status" data-testid="check-progress">
          <span className="spinner" aria-hidden="true" />
          <span>
            Checking with {broker}…{view.action === "save" ? " Nothing is saved until it answers." : ""}
          </span>
        </div>
      );
    case "verified":
      return (
        <div className="check-panel check-panel-ok" role="status" data-testid="check-result" data-status="verified">
          <div className="check-panel-head">
            <span className="check-panel-icon" aria-hidden="true">
              <Icon name="check" size={16} />
            </span>
            <div>
              <p className="check-panel-title">{broker} accepted the credentials</p>
              <p className="check-panel-text">Test only: nothing was saved. {editing ? "Save changes" : "Add the account"} to keep them.</p>
            </div>
          </div>
          <SummaryGrid summary={view.summary} />
        </div>
      );
    case "unreachable":
      return (
        <div data-testid="check-result" data-status="unreachable">
          <Banner tone="warning" title={`${broker} could not be reached`}>
            <p data-testid="check-reason">{view.reason}</p>
            <p>
              The credentials were not checked. You can save anyway: the account is stored unverified, and live trading stays
              locked until a check with {broker} succeeds.
            </p>
            <div className="check-actions">
              <button type="button" className="button button-secondary button-sm" onClick={onSaveUnchecked} disabled={busy}>
                Save without checking
              </button>
            </div>
          </Banner>
        </div>
      );
    case "refused":
      return (
        <div data-testid="check-result" data-status="refused" data-code={view.code}>
          <Banner tone="danger" title={refusalTitle(view.code, broker)}>
            <p data-testid="check-reason">{view.reason}</p>
            <p>{refusalAdvice(view.code, view.action)}</p>
          </Banner>
        </div>
      );
    case "skipped":
      return (
        <div data-testid="check-result" data-status="skipped">
          <Banner tone="info" title="Nothing to check">
            <p>{sentence(view.reason)}</p>
          </Banner>
        </div>
      );
  }
}
