import { useEffect, useRef } from "react";
import { AccountEditorPage } from "../features/accounts/AccountEditorPage";
import { AccountsPage } from "../features/accounts/AccountsPage";
import { ActivityPage } from "../features/activity/ActivityPage";
import { DashboardPage } from "../features/dashboard/DashboardPage";
import { SecurityPage } from "../features/security/SecurityPage";
import { TradePage } from "../features/trading/TradePage";
import { SettingsPage } from "../features/settings/SettingsPage";
import { useRoute } from "../state/router";
import type { Route } from "../state/router";
import { Banner } from "../components/Banner";
import { useVault, useVaultStatus } from "../features/vault/VaultProvider";
import { StepUpProvider } from "../features/security/StepUpProvider";
import { usePriceFeed } from "../data/priceStore";
import { useActivityReporter } from "../state/useActivityReporter";
import { AppHeader } from "./AppHeader";
import { Sidebar } from "./Sidebar";
import { SafeStateBanner } from "../features/safe/SafeStateBanner";

function PageFor({ route }: { route: Route }) {
  switch (route.page) {
    case "dashboard":
      return <DashboardPage />;
    case "accounts":
      return <AccountsPage />;
    case "account-new":
      return <AccountEditorPage key="new" />;
    case "account-edit":
      return <AccountEditorPage key={route.id} id={route.id} />;
    case "trade":
      return <TradePage key={route.id ?? ""} id={route.id} symbol={route.symbol} />;
    case "security":
      return <SecurityPage />;
    case "activity":
      return <ActivityPage />;
    case "settings":
      return <SettingsPage />;
  }
}

export function Shell() {
  const status = useVaultStatus();
  const { notice, clearNotice, epoch } = useVault();
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);
  const routeKey = JSON.stringify(route);
  useActivityReporter();
  // Live prices flow into the price store for the whole unlocked session (sparklines span pages).
  usePriceFeed();

  // On navigation, start at the top and move focus to the page for keyboard and screen-reader users.
  useEffect(() => {
    const main = mainRef.current;
    if (!main) return;
    main.scrollTop = 0;
    main.focus({ preventScroll: true });
  }, [routeKey]);

  return (
    <StepUpProvider>
      <div className="shell">
        <a href="#main" className="skip-link" onClick={(e) => { e.preventDefault(); mainRef.current?.focus(); }}>
          Skip to content
        </a>
        <Sidebar route={route} status={status} />
        <div className="shell-body">
          <AppHeader />
          <main id="main" className="main" ref={mainRef} tabIndex={-1}>
            <SafeStateBanner />
            {notice ? (
              <div className="shell-notice">
                <Banner tone="warning">
                  {notice}{" "}
                  <button type="button" className="link-button" onClick={clearNotice}>
                    Dismiss
                  </button>
                </Banner>
              </div>
            ) : null}
            {/* A vault changed underneath (e.g. by the CLI) re-reads everything the page shows. A key
                rotation made here (a purge, "Rotate data key") keeps the page and its result dialog. */}
            <PageFor key={epoch} route={route} />
          </main>
        </div>
      </div>
    </StepUpProvider>
  );
}
