import { useState } from "react";
import * as api from "../api/client";
import type { BrokerdeskError } from "../api/client";
import type { VaultStatus } from "../bindings/VaultStatus";
import { Icon } from "../components/Icon";
import type { IconName } from "../components/Icon";
import { routeHref } from "../state/router";
import type { Route } from "../state/router";
import { useTheme } from "../state/ThemeProvider";
import { useToast } from "../state/ToastProvider";
import { useVault } from "../features/vault/VaultProvider";
import { useTwoFactor } from "../features/security/StepUpProvider";
import { useNow } from "../state/useNow";
import { minutesLeft, msUntil } from "../lib/twofa";
import { Brand } from "../features/vault/AuthLayout";
import { ReviewBadge } from "../features/trading/ReviewPanel";

const NAV: { route: Route; label: string; icon: IconName; matches: Route["page"][] }[] = [
  { route: { page: "dashboard" }, label: "Dashboard", icon: "dashboard", matches: ["dashboard"] },
  { route: { page: "trade" }, label: "Trade", icon: "trade", matches: ["trade"] },
  { route: { page: "accounts" }, label: "Accounts", icon: "accounts", matches: ["accounts", "account-new", "account-edit"] },
  { route: { page: "security" }, label: "Security", icon: "security", matches: ["security"] },
  { route: { page: "activity" }, label: "Activity", icon: "activity", matches: ["activity"] },
  { route: { page: "settings" }, label: "Settings", icon: "settings", matches: ["settings"] },
];

export const KEYCHAIN_LOCK_HINT = "Locking needs a master password. The key is kept in the OS keychain; set a master password under Security.";

export function Sidebar({ route, status }: { route: Route; status: VaultStatus }) {
  const { resolved, toggle } = useTheme();
  const { setStatus } = useVault();
  const notify = useToast();
  const [busy, setBusy] = useState(false);
  const canLock = status.protection === "password";
  const twofa = useTwoFactor().status;

  const lock = async () => {
    if (!canLock || busy) return;
    setBusy(true);
    try {
      setStatus(await api.vaultLock());
    } catch (e) {
      notify((e as BrokerdeskError).message, "danger");
    } finally {
      setBusy(false);
    }
  };

  return (
    <aside className="sidebar">
      <div className="sidebar-top">
        <Brand />
      </div>
      <nav className="nav" aria-label="Main">
        <ul>
          {NAV.map((item) => {
            const active = item.matches.includes(route.page);
            return (
              <li key={item.label}>
                <a href={routeHref(item.route)} className={`nav-link${active ? " is-active" : ""}`} aria-current={active ? "page" : undefined}>
                  <Icon name={item.icon} />
                  <span>{item.label}</span>
                  {item.route.page === "trade" ? <ReviewBadge /> : null}
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <div className="sidebar-bottom">
        <div className="vault-state">
          <span className="vault-dot" aria-hidden="true" />
          <span>
            Unlocked · <span data-testid="vault-protection">{status.protection === "password" ? "password" : "keychain"}</span>
          </span>
        </div>
        {twofa?.enabled && twofa.stepUpUntil ? <StepUpIndicator key={twofa.stepUpUntil} until={twofa.stepUpUntil} /> : null}
        <div className="sidebar-actions">
          <span className="tooltip-host" title={canLock ? undefined : KEYCHAIN_LOCK_HINT}>
            <button
              type="button"
              className="button button-secondary button-sm"
              onClick={lock}
              aria-disabled={!canLock || busy ? true : undefined}
              aria-describedby={canLock ? undefined : "lock-hint"}
            >
              <Icon name="lock" size={16} />
              Lock
            </button>
            {canLock ? null : (
              <span id="lock-hint" className="sr-only">
                {KEYCHAIN_LOCK_HINT}
              </span>
            )}
          </span>
          <button
            type="button"
            className="icon-button"
            onClick={toggle}
            aria-label={resolved === "dark" ? "Switch to light theme" : "Switch to dark theme"}
            title={resolved === "dark" ? "Switch to light theme" : "Switch to dark theme"}
          >
            <Icon name={resolved === "dark" ? "sun" : "moon"} />
          </button>
        </div>
      </div>
    </aside>
  );
}

/** "Verified · 14 min left": sensitive changes need no new two-factor code until the window closes. */
function StepUpIndicator({ until }: { until: string }) {
  const now = useNow(10_000);
  const left = msUntil(until, now);
  if (left === 0) return null;
  const time = new Date(until).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return (
    <div className="step-up-state" data-testid="step-up-indicator" title={`Two-factor verified. Sensitive changes need no new code until ${time}.`}>
      <Icon name="security" size={14} />
      <span>Verified · {minutesLeft(left)} min left</span>
    </div>
  );
}
