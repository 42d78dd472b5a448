import { Banner, ErrorText, Spinner } from "../../components/Banner";
import { BrokerBadge } from "../../components/Badges";
import { Icon } from "../../components/Icon";
import { EmptyState, PageHeader } from "../../components/PageHeader";
import { MODE_LABEL_TEXT, STATUSES, STATUS_LABELS } from "../../lib/labels";
import { summarizeAccounts } from "../../lib/summary";
import { useCatalog } from "../../data/resources";
import { useAccounts } from "../../data/resources";
import { useConnections } from "../../data/resources";
import { ConnectionsSection } from "../connections/ConnectionsSection";
import { WatchlistSection } from "../watchlist/WatchlistSection";
import { RiskSection } from "./RiskSection";

export function DashboardPage() {
  const { state } = useAccounts();
  const catalog = useCatalog();
  // One snapshot and one event subscription for both the watchlists and the connection widgets.
  const connections = useConnections();

  return (
    <div className="page">
      <PageHeader title="Dashboard" description="Your accounts' risk, live prices and broker connections." />
      {state.phase === "loading" ? <Spinner label="Loading accounts…" /> : null}
      {state.phase === "error" ? (
        <Banner tone="danger" title="The accounts could not be read">
          <ErrorText error={state.error} />
        </Banner>
      ) : null}
      {state.phase === "ready" && state.accounts.length === 0 ? (
        <EmptyState
          title="No accounts yet"
          action={
            <a className="button button-primary" href="#/accounts/new">
              <Icon name="plus" size={16} />
              Add your first account
            </a>
          }
        >
          Connect a broker account, or start with the built-in paper broker, which needs no credentials.
        </EmptyState>
      ) : null}
      {state.phase === "ready" && state.accounts.length > 0 ? <RiskSection accounts={state.accounts} /> : null}
      {state.phase === "ready" && state.accounts.length > 0 ? <WatchlistSection accounts={state.accounts} connections={connections.state} /> : null}
      {state.phase === "ready" && state.accounts.length > 0
        ? (() => {
            const s = summarizeAccounts(state.accounts);
            return (
              <div className="stat-grid" data-testid="dashboard-summary">
                <section className="card stat-card" aria-labelledby="stat-total">
                  <h2 className="card-eyebrow" id="stat-total">
                    Accounts
                  </h2>
                  <p className="stat-number" data-testid="stat-total">{s.total}</p>
                  <a className="link" href="#/accounts">
                    Manage accounts →
                  </a>
                </section>
                <section className="card stat-card" aria-labelledby="stat-mode">
                  <h2 className="card-eyebrow" id="stat-mode">
                    Trading mode
                  </h2>
                  <dl className="stat-list">
                    {(["paper", "broker_practice", "real_money"] as const).map((label) => (
                      <div key={label}>
                        <dt>
                          <span className={`pill pill-mode pill-mode-${label}`}>{MODE_LABEL_TEXT[label]}</span>
                        </dt>
                        <dd data-testid={`stat-mode-${label}`}>{s.byMode[label]}</dd>
                      </div>
                    ))}
                  </dl>
                </section>
                <section className="card stat-card" aria-labelledby="stat-broker">
                  <h2 className="card-eyebrow" id="stat-broker">
                    By broker
                  </h2>
                  <dl className="stat-list">
                    {s.byBroker.map(({ broker, count }) => (
                      <div key={broker}>
                        <dt>
                          <BrokerBadge broker={broker} label={catalog.broker(broker)?.label} />
                        </dt>
                        <dd>{count}</dd>
                      </div>
                    ))}
                  </dl>
                </section>
                <section className="card stat-card" aria-labelledby="stat-status">
                  <h2 className="card-eyebrow" id="stat-status">
                    By status
                  </h2>
                  <dl className="stat-list">
                    {STATUSES.map((status) => (
                      <div key={status} className={s.byStatus[status] === 0 ? "is-zero" : undefined}>
                        <dt>{STATUS_LABELS[status]}</dt>
                        <dd data-testid={`stat-status-${status}`}>{s.byStatus[status]}</dd>
                      </div>
                    ))}
                  </dl>
                </section>
              </div>
            );
          })()
        : null}
      {state.phase === "ready" && state.accounts.length > 0 ? <ConnectionsSection accounts={state.accounts} state={connections.state} /> : null}
    </div>
  );
}
