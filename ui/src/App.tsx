import { Banner, ErrorText, Spinner } from "./components/Banner";
import { FirstRun } from "./features/vault/FirstRun";
import { KeychainUnlock } from "./features/vault/KeychainUnlock";
import { Shell } from "./app/Shell";
import { Unlock } from "./features/vault/Unlock";
import { DataProvider } from "./data/DataProvider";
import { ThemeProvider } from "./state/ThemeProvider";
import { ToastProvider } from "./state/ToastProvider";
import { VaultProvider, useVault } from "./features/vault/VaultProvider";
import { AuthLayout } from "./features/vault/AuthLayout";

function Gate() {
  const { state, refresh } = useVault();
  if (state.phase === "loading") {
    return (
      <div className="boot">
        <Spinner label="Opening Brokerdesk…" />
      </div>
    );
  }
  if (state.phase === "error") {
    return (
      <AuthLayout>
        <h1 className="auth-title">Brokerdesk could not start</h1>
        <Banner tone="danger" title="The vault could not be read">
          <ErrorText error={state.error} />
        </Banner>
        <div className="form-actions">
          <button type="button" className="button button-primary" onClick={() => void refresh()}>
            Try again
          </button>
        </div>
      </AuthLayout>
    );
  }
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
