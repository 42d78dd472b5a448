import { Spinner } from "./components/Banner";
import { FirstRun } from "./features/vault/FirstRun";
import { KeychainUnlock } from "./features/vault/KeychainUnlock";
import { Shell } from "./app/Shell";
import { Unlock } from "./features/vault/Unlock";
import { DataProvider } from "./data/DataProvider";
import { ThemeProvider } from "./state/ThemeProvider";
import { ToastProvider } from "./state/ToastProvider";
import { VaultProvider, useVault } from "./features/vault/VaultProvider";
import { StartFailure } from "./features/vault/StartFailure";

function Gate() {
  const { state, refresh } = useVault();
  if (state.phase === "loading") {
    return (
      <div className="boot">
        <Spinner label="Opening Brokerdesk…" />
      </div>
    );
  }
  // The profile could not be opened at all: what failed, by its code, and how to fix it.
  if (state.phase === "error") return <StartFailure error={state.error} onRetry={() => void refresh()} />;
  const { status } = state;
  if (!status.initialized) return <FirstRun />;
  // A keychain vault has no password to ask for: when it is locked, the keychain failed at start.
  if (status.locked) return status.protection === "keychain" ? <KeychainUnlock /> : <Unlock />;
  return <Shell />;
}

export function App() {
  return (
    <ThemeProvider>
      <ToastProvider>
        <DataProvider>
          <VaultProvider>
            <Gate />
          </VaultProvider>
        </DataProvider>
      </ToastProvider>
    </ThemeProvider>
  );
}
