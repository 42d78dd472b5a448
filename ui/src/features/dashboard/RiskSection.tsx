import type { BrokerdeskError } from "../../api/client";
import type { Account } from "../../bindings/Account";
import type { Budget } from "../../bindings/Budget";
import type { RiskReport } from "../../bindings/RiskReport";
import { BrokerBadge, ModePill, StatusPill } from "../../components/Badges";
import { Banner, ErrorText } from "../../components/Banner";
import { useCatalog, useMoney, useRiskReports } from "../../data/resources";
import { STATUS_LABELS, asSentence } from "../../lib/labels";
import { STATUS_MEANING, countdown, gaugeFill, gaugeTone, hasLossRules, localTime, triggerPct, zoneTime } from "../../lib/risk";
import { routeHref } from "../../state/router";
import { useNow } from "../../state/useNow";
import { money, num, tone } from "../trading/labels";
import "./dashboard.css";

/**
 * The dashboard's risk: a card per account with its equity, today's P&L, status, mode, open
 * positions and, for accounts with loss rules, today's and the total loss budget as gauges
 * and the time to the firm's next reset. Kept current by `risk-update` (several a second for
 * accounts with loss rules) and `account-money`.
 */
export function RiskSection({ accounts }: { accounts: readonly Account[] }) {
  const q = useRiskReports();
  const reports = q.data ?? [];
  return (
    <section className="risk-section" aria-labelledby="risk-title" data-testid="risk-section">
      <div className="conn-section-header">
        <h2 className="conn-section-title" id="risk-title">
          Risk
        </h2>
        <span className="muted risk-section-note">Loss budgets measured on equity, on each firm&apos;s clock</span>
      </div>
      {q.error ? (
        <Banner tone="danger" title="The risk reports could not be read">
          <ErrorText error={q.error as BrokerdeskError} />
        </Banner>
      ) : null}
      <div className="risk-grid">
        {accounts.map((a) => (
          <RiskCard key={a.id} account={a} report={reports.find((r) => r.accountId === a.id)} loading={q.isPending} />
        ))}
      </div>
    </section>
  );
}

/** One account's risk card. */
export function RiskCard({ account, report, loading = false }: { account: Account; report: RiskReport | undefined; loading?: boolean }) {
  const m = useMoney(account.id);
  const catalog = useCatalog();
  const rules = hasLossRules(account);
  const status = account.status;
  const reason = status === "active" ? null : (account.statusHistory.at(-1)?.reason ?? null);
  const currency = report?.currency || m.data?.currency || "";
  const equity = m.data?.equity ?? report?.equity ?? null;
  const dayPnl = m.data?.dayPnl ?? null;
  const positions = m.data ? m.data.positions.filter((p) => /[1-9]/.test(p.quantity)).length : null;
  const preset = catalog.state.phase === "ready" ? catalog.state.presets.find((p) => p.preset === account.propFirm.preset) : undefined;

  return (
    <article className={`card risk-card risk-card-${status}`} aria-label={`${account.name} risk`} data-testid="risk-card" data-account={account.id}>
      <header className="risk-card-head">
        <div className="risk-card-title">
          <h3 className="risk-card-name">{account.name}</h3>
          <BrokerBadge broker={account.broker} />
        </div>
        <div className="risk-card-pills">
          <ModePill mode={account.mode} environment={account.environment} />
          <span data-testid="risk-status" data-status={status}>
            <StatusPill status={status} />
          </span>
        </div>
      </header>

      <p className={`risk-status-meaning risk-status-${status}`} data-testid="risk-status-meaning">
        <strong>{STATUS_LABELS[status]}:</strong> {STATUS_MEANING[status]}
        {reason ? <span className="risk-status-reason"> Why: {reason}</span> : null}
      </p>

      <dl className="risk-figures">
        <div>
          <dt>Equity</dt>
          <dd data-testid="risk-equity">
            {money(equity)} {equity !== null ? <span className="risk-currency">{currency}</span> : null}
          </dd>
        </div>
        {dayPnl !== null ? (
          <div>
            <dt>Today&apos;s P&amp;L</dt>
            <dd className={`pnl-${tone(dayPnl)}`} data-testid="risk-day-pnl">
              {tone(dayPnl) === "up" ? "+" : ""}
              {money(dayPnl)}
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Open positions</dt>
          <dd data-testid="risk-positions">{positions ?? "—"}</dd>
        </div>
      </dl>

      {rules && report?.unmeasured ? (
        <Banner tone="warning" title="Loss budgets not measured">
          {asSentence(report.unmeasured)}
        </Banner>
      ) : null}

      {!rules ? (
        <p className="risk-none" data-testid="risk-none">
          No loss limits set.{" "}
          <a className="link" href={routeHref({ page: "account-edit", id: account.id })}>
            Set them on the account
          </a>
        </p>
      ) : (
        <div className="risk-gauges">
          {account.propFirm.maxDailyLossPct !== null ? (
            <Gauge
              title="Today's loss budget"
              budget={report?.daily ?? null}
              currency={currency}
              pending={loading || !report}
              testid="gauge-daily"
              limitNote={`${num(account.propFirm.maxDailyLossPct)}% ${dailyBaseWords(account)}`}
            />
          ) : null}
          {account.propFirm.maxTotalLossPct !== null ? (
            <Gauge
              title="Total loss budget"
              budget={report?.total ?? null}
              currency={currency}
              pending={loading || !report}
              testid="gauge-total"
              limitNote={`${num(account.propFirm.maxTotalLossPct)}% of the initial balance, ${MAX_LOSS_WORDS[account.propFirm.maxLossMode]}`}
            />
          ) : null}
          {report?.nextResetAt ? <ResetCountdown key={report.nextResetAt} at={report.nextResetAt} zone={report.resetTimezone} /> : null}
        </div>
      )}

      <footer className="risk-card-foot muted">
        {rules ? (
          <span>
            {preset?.label ?? account.propFirm.preset}
            {report?.initialBalance ? (
              <>
                {" "}
                · initial balance {money(report.initialBalance)}
                {report.initialBalanceSource === "first_seen" ? " (the first balance seen: none set)" : ""}
              </>
            ) : null}
          </span>
        ) : (
          <span />
        )}
        <a className="link" href={routeHref({ page: "trade", id: account.id })}>
          Trade →
        </a>
      </footer>
    </article>
  );
}

const MAX_LOSS_WORDS: Record<Account["propFirm"]["maxLossMode"], string> = {
  static: "static",
  trailing: "trailing",
  trailing_then_locked: "trailing, then locked at the initial balance",
};

function dailyBaseWords(a: Account): string {
  switch (a.propFirm.dailyBase) {
    case "initial_balance":
      return "of the initial balance, from the day's starting balance";
    case "previous_day_balance":
      return "of the day's starting balance";
    case "higher_of_equity_and_balance":
      return "of the day's starting balance or equity, whichever was higher";
  }
}

/**
 * A loss budget: used / limit in money and percent, a bar (amber from 80 %, red from 95 %),
 * what is left before Brokerdesk acts, the firm's floor and, with a safety buffer, the level
 * at which Brokerdesk acts first (a mark on the bar).
 */
export function Gauge({
  title,
  budget,
  currency,
  pending = false,
  testid,
  limitNote,
}: {
  title: string;
  budget: Budget | null;
  currency: string;
  pending?: boolean;
  testid: string;
  limitNote?: string;
}) {
  if (!budget) {
    return (
      <div className="gauge gauge-unknown" data-testid={testid} data-tone="unknown">
        <div className="gauge-head">
          <span className="gauge-title">{title}</span>
          <span className="gauge-pct">—</span>
        </div>
        <div className="gauge-bar" aria-hidden="true" />
        <p className="gauge-figures muted">{pending ? "Measuring…" : "Not measured now."}</p>
      </div>
    );
  }
  const t = gaugeTone(budget.usedPct);
  const fill = gaugeFill(budget.usedPct);
  const trigger = triggerPct(budget);
  const cur = currency ? ` ${currency}` : "";
  return (
    <div className={`gauge gauge-${t}`} data-testid={testid} data-tone={t}>
      <div className="gauge-head">
        <span className="gauge-title">{title}</span>
        <span className="gauge-pct" data-testid={`${testid}-pct`}>
          {num(budget.usedPct)}% used
        </span>
      </div>
      <div
        className="gauge-bar"
        role="meter"
        aria-label={`${title} used`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={fill}
        aria-valuetext={`${num(budget.usedPct)}% used: ${money(budget.used)} of ${money(budget.limit)}${cur}`}
      >
        <div className="gauge-fill" style={{ width: `${fill}%` }} />
        {trigger !== null ? <div className="gauge-trigger" style={{ left: `${trigger}%` }} title={`Brokerdesk acts at ${trigger}% of the limit`} /> : null}
      </div>
      <p className="gauge-figures" data-testid={`${testid}-figures`}>
        <strong>{money(budget.used)}</strong> of {money(budget.limit)}
        {cur} lost · <strong>{money(budget.remaining)}</strong> left before Brokerdesk acts
      </p>
      <p className="gauge-levels muted">
        Firm&apos;s floor: equity {money(budget.floor)}
        {trigger !== null ? (
          <span data-testid={`${testid}-trigger`}>
            {" "}
            · Brokerdesk acts at equity {money(budget.trigger)} ({trigger}% of the limit)
          </span>
        ) : null}
      </p>
      {limitNote ? <p className="gauge-note muted">Limit: {limitNote}</p> : null}
    </div>
  );
}

/** The time to the firm's next daily reset, counting down every second, and the reset in the firm's zone. */
export function ResetCountdown({ at, zone }: { at: string; zone: string }) {
  const now = useNow(1000);
  const left = Date.parse(at) - now;
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <p className="risk-card-reset" data-testid="risk-reset">
      <span className="risk-card-reset-label">Next daily reset in</span>{" "}
      <strong className="mono" data-testid="risk-reset-countdown">
        {left > 0 ? countdown(left) : "now — updating…"}
      </strong>{" "}
      <span className="muted">
        · {zoneTime(at, zone, now)} {zone}
        {own !== zone ? ` (${localTime(at)} your time)` : ""}
      </span>
    </p>
  );
}
