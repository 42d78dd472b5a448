import type { AccountStatus } from "../bindings/AccountStatus";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { Environment } from "../bindings/Environment";
import type { TradingMode } from "../bindings/TradingMode";
import { BROKER_SHORT, MODE_LABEL_TEXT, STATUS_LABELS, modeLabelOf } from "../lib/labels";

export function BrokerBadge({ broker, label }: { broker: BrokerKind; label?: string }) {
  return (
    <span className={`broker-badge broker-${broker}`}>
      <span className="broker-dot" aria-hidden="true" />
      {label ?? BROKER_SHORT[broker]}
    </span>
  );
}

/**
 * What an account's orders really do: PAPER (simulated in Brokerdesk), BROKER PRACTICE (live
 * mode on a broker's practice environment), LIVE — REAL MONEY (live mode on a live environment).
 */
export function ModePill({ mode, environment, size }: { mode: TradingMode; environment: Environment; size?: "lg" }) {
  const label = modeLabelOf(mode, environment);
  return (
    <span className={`pill pill-mode pill-mode-${label}${size === "lg" ? " pill-lg" : ""}`} data-testid="mode-pill" data-mode={label}>
      {MODE_LABEL_TEXT[label]}
    </span>
  );
}

export function StatusPill({ status }: { status: AccountStatus }) {
  return <span className={`pill pill-status-${status}`}>{STATUS_LABELS[status]}</span>;
}
