import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import type { Budget } from "../../bindings/Budget";
import type { RiskReport } from "../../bindings/RiskReport";
import { Banner, ErrorText, Spinner } from "../../components/Banner";
import { useRiskReport } from "../../data/resources";
import { asSentence } from "../../lib/labels";
import { budgetView, localTime, money, untilText, zoneTime } from "../../lib/riskReport";
import { useNow } from "../../state/useNow";

/**
 * "What the rules mean in money today": the account's daily and total loss budgets as core
 * measures them now (on equity, on the firm's clock), for the saved rules.
 */
export function RiskBudgetsCard({ account }: { account: Account }) {
  const q = useRiskReport(account.id);
  return (
    <section className="card risk-money" aria-labelledby="risk-money-title" data-testid="risk-money">
      <header className="form-section-header">
        <h2 className="form-section-title" id="risk-money-title">
          Loss budgets today
        </h2>
        <p className="form-section-description">What the saved rules mean in money now: measured on equity, on the firm&apos;s clock.</p>
      </header>
      {q.data ? (
        <ReportBody report={q.data} />
      ) : q.error ? (
        <Banner tone="danger" title="The budgets could not be read">
          <ErrorText error={q.error as BrokerdeskError} />
        </Banner>
      ) : (
        <Spinner label="Measuring…" />
      )}
    </section>
  );
}

function ReportBody({ report }: { report: RiskReport }) {
  const now = useNow(30_000);
  const c = report.currency;
  const hasClock = report.nextResetAt !== null;
  if (!hasClock && !report.daily && !report.total) {
    return (
      <p className="muted" data-testid="risk-no-rules">
        No loss rules: this account has no max daily or total loss, so there is no budget to show. Set them under Prop firm rules below.
      </p>
    );
  }
  const firmZone = report.nextResetAt ? zoneTime(report.nextResetAt, report.resetTimezone) : null;
  return (
    <div className="risk-money-body">
      {report.unmeasured ? (
        <Banner tone="warning" title="Not measured right now">
          {asSentence(report.unmeasured)}
        </Banner>
      ) : !report.daily && !report.total ? (
        <p className="muted">Not measured yet: Brokerdesk has not read this account&apos;s balance and equity.</p>
      ) : null}
      {report.daily || report.total ? (
        <div className="budget-grid">
          {report.daily ? <BudgetBlock kind="daily" budget={report.daily} currency={c} /> : null}
          {report.total ? <BudgetBlock kind="total" budget={report.total} currency={c} /> : null}
        </div>
      ) : null}
      <dl className="risk-facts">
        {report.nextResetAt ? (
          <>
            <dt>Next daily reset</dt>
            <dd data-testid="risk-next-reset" className="risk-reset">
              <span>
                {localTime(report.nextResetAt)} <span className="muted">your time</span>
              </span>
              {firmZone ? (
                <span>
                  {firmZone} <span className="muted">on the firm&apos;s clock ({report.resetTimezone.replace(/_/g, " ")})</span>
                </span>
              ) : null}
              <span className="muted">{untilText(report.nextResetAt, now)}</span>
            </dd>
          </>
        ) : null}
        {report.dayStartedAt ? (
          <>
            <dt>Today started</dt>
            <dd>{localTime(report.dayStartedAt)}</dd>
          </>
        ) : null}
        {report.balance !== null ? (
          <>
            <dt>Balance · equity</dt>
            <dd>
              {money(report.balance, c)} · {report.equity !== null ? money(report.equity, c) : "—"}
            </dd>
          </>
        ) : null}
        {report.initialBalance !== null ? (
          <>
            <dt>Initial balance</dt>
            <dd data-testid="risk-initial-balance">
              {money(report.initialBalance, c)}{" "}
              <span className="muted">{report.initialBalanceSource === "configured" ? "(as set)" : "(the first balance Brokerdesk saw; set it under Prop firm rules)"}</span>
            </dd>
          </>
        ) : null}
      </dl>
    </div>
  );
}

function BudgetBlock({ kind, budget, currency }: { kind: "daily" | "total"; budget: Budget; currency: string }) {
  const v = budgetView(budget, currency);
  const daily = kind === "daily";
  return (
    <div className={`budget budget-${kind}${v.exhausted ? " is-exhausted" : ""}`} data-testid={`budget-${kind}`}>
      <h3 className="budget-title">{daily ? "Daily loss" : "Max loss"}</h3>
      <p className="budget-headline" data-testid={`budget-${kind}-headline`}>
        {v.exhausted ? (
          daily ? (
            "No more loss allowed today"
          ) : (
            "No more loss allowed"
          )
        ) : (
          <>
            You may lose <strong>{v.remaining}</strong> more {daily ? "today" : "in total"}
          </>
        )}
      </p>
      <div
        className="budget-meter"
        role="meter"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={v.usedPct}
        aria-label={`${daily ? "Daily" : "Max"} loss used: ${v.usedPct}%`}
      >
        <span className="budget-meter-fill" style={{ width: `${v.usedPct}%` }} />
        {v.buffered ? <span className="budget-meter-mark" style={{ left: `${v.actAtPct}%` }} title="Brokerdesk acts here (safety buffer)" /> : null}
      </div>
      <dl className="budget-figures">
        <dt>Limit</dt>
        <dd>{v.limit}</dd>
        <dt>{daily ? "Lost today" : "Lost so far"}</dt>
        <dd>
          {v.used} <span className="muted">({budget.usedPct}%)</span>
        </dd>
        <dt>Remaining</dt>
        <dd>{v.remaining}</dd>
        <dt>Brokerdesk acts at equity</dt>
        <dd>
          {v.trigger}
          {v.buffered ? <span className="muted"> (safety buffer; the firm&apos;s floor is {v.floor})</span> : null}
        </dd>
      </dl>
    </div>
  );
}
