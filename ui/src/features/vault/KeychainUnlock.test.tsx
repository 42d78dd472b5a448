import { fireEvent, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type * as Client from "../../api/client";
import { BrokerdeskError } from "../../api/errors";
import type { VaultStatus } from "../../bindings/VaultStatus";
import { KEYCHAIN_KEY_MISSING } from "../../test/fixtures";
import { ThemeProvider } from "../../state/ThemeProvider";
import { VaultProvider, useVault } from "./VaultProvider";
import { KeychainUnlock } from "./KeychainUnlock";
import { TestData } from "../../test/render";

vi.mock("../../api/client", async (importOriginal) => ({
  ...(await importOriginal<typeof Client>()),
  vaultStatus: vi.fn(),
  vaultRetryKeychain: vi.fn(),
  onVaultStatus: () => () => {},
}));

const api = await import("../../api/client");

const locked: VaultStatus = {
  initialized: true,
  locked: true,
  protection: "keychain",
  keychainAvailable: true,
  keychainError: null,
  autoUnlockError: KEYCHAIN_KEY_MISSING,
  keyGeneration: 1,
  dataDir: "/home/trader/.local/share/brokerdesk",
  version: "0.1.0",
};

function Probe() {
  const { state } = useVault();
  if (state.phase !== "ready") return null;
  return state.status.locked ? <KeychainUnlock /> : <p>Vault open</p>;
}

const renderScreen = () =>
  render(
    <ThemeProvider>
      <TestData>
        <VaultProvider>
          <Probe />
        </VaultProvider>
      </TestData>
    </ThemeProvider>,
  );

beforeEach(() => {
  vi.mocked(api.vaultStatus).mockResolvedValue(locked);
});

describe("KeychainUnlock", () => {
  it("explains why the keychain vault did not unlock, with the backend's message and the data folder", async () => {
    renderScreen();
    await screen.findByRole("heading", { name: "Brokerdesk could not open your vault" });
    expect(screen.getByText(/^If this data folder was copied or restored from another computer/)).toBeTruthy();
    expect(screen.getByTestId("keychain-error").textContent).toBe(
      "The OS keychain has no Brokerdesk key for this vault (it may have been deleted, or this data directory was copied from another user or machine).",
    );
    expect(screen.getByTestId("data-dir").textContent).toBe("/home/trader/.local/share/brokerdesk");
    expect(screen.queryByLabelText(/password/i)).toBeNull();
  });

  it("Try again asks the keychain again (password null): a new error replaces the advice, success opens the vault", async () => {
    vi.mocked(api.vaultRetryKeychain)
      .mockRejectedValueOnce(new BrokerdeskError("keychain_unavailable", "no OS keychain is reachable: Secret Service is not running"))
      .mockResolvedValueOnce({ ...locked, locked: false, autoUnlockError: null });
    renderScreen();
    fireEvent.click(await screen.findByRole("button", { name: "Try again" }));
    await screen.findByText(/^Make sure you are signed in to your desktop session and your keychain is unlocked/);
    expect(screen.getByTestId("keychain-error").textContent).toBe("No OS keychain is reachable: Secret Service is not running.");
    expect(screen.getByRole("status").textContent).toMatch(/^Tried again at .+: the vault is still locked\.$/);

    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    await screen.findByText("Vault open");
    expect(api.vaultRetryKeychain).toHaveBeenCalledTimes(2);
  });
});
