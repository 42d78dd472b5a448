import type { AccountStatus } from "../bindings/AccountStatus";
import type { BrokerKind } from "../bindings/BrokerKind";
import type { TradingMode } from "../bindings/TradingMode";
import { BROKER_SHORT, STATUS_LABELS } from "../lib/labels";

export function BrokerBadge({ broker, label }: { broker: BrokerKind; label?: string }) {
  return (
    <span className={`broker-badge broker-${broker}`}>
      <span className="broker-dot" aria-hidden="true" />
      {label ?? BROKER_SHORT[broker]}
    </span>
  );
}

export function ModePill({ mode }: { mode: TradingMode }) {
  return <span className={`pill pill-mode-${mode}`}>{mode === "live" ? "LIVE" : "PAPER"}</span>;
}

export function StatusPill({ status }: { status: AccountStatus }) {
  return <span className={`pill pill-status-${status}`}>{STATUS_LABELS[status]}</span>;
}
