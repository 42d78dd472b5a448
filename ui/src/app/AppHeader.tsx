import { KillSwitchButton } from "../features/killswitch/KillSwitch";

/** The bar above every page: the kill switch, always in reach (it does not scroll away). */
export function AppHeader() {
  return (
    <header className="app-header" data-testid="app-header">
      <KillSwitchButton />
    </header>
  );
}
