import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { Account } from "../../bindings/Account";
import type { AccountConnections } from "../../bindings/AccountConnections";
import type { TwoFactorStatus } from "../../bindings/TwoFactorStatus";
import { Code } from "../../api/client";
import { BROKERS, FTMO, PRESETS, bareChannel } from "../../test/fixtures";
import { ALPACA_RISK } from "../../test/risk";
import { TestData } from "../../test/render";
import { ToastProvider } from "../../state/ToastProvider";
import { StepUpProvider } from "../security/StepUpProvider";
import { AccountEditorPage } from "./AccountEditorPage";

const OLD = "AA:".repeat(31) + "AA";
const NEW = "BB:".repeat(31) + "BB";
const TWOFA: TwoFactorStatus = { enabled: true, pending: false, backupCodesRemaining: 10, stepUpUntil: null, lockedUntil: null, failedAttempts: 0 };
const IB: Account = {
  ...FTMO,
  id: "acc_ib",
  name: "IB",
  broker: "ibkr",
  credentials: [],
  restUrl: "https://localhost:5000/v1/api",
  tlsPin: { sha256: OLD, origin: "localhost:5000", pinnedAt: "2026-11-02T09:15:00Z", refusedSha256: NEW },
};

/** The order channel failed with certificate_changed (or is connected). */
function connections(failed: boolean): AccountConnections[] {
  const state = failed
    ? { state: "failed" as const, code: Code.CertificateChanged, reason: `the IBKR gateway presented SHA-256 ${NEW}` }
    : { state: "connected" as const };
  return [
    {
      accountId: IB.id,
      name: IB.name,
      broker: "ibkr",
      channels: [bareChannel("order", state, failed ? "down" : "good")],
    },
  ];
}

/** A backend with the IBKR account; trusting needs a step-up ("123456" is the right code). */
function backend(start: Account, failed: boolean) {
  let account = start;
  let status = TWOFA;
  const trusted: string[] = [];
  mockIPC((cmd, raw) => {
    const args = raw as Record<string, unknown>;
    switch (cmd) {
      case "broker_catalog":
        return BROKERS;
      case "prop_firm_presets":
        return PRESETS;
      case "account_get":
        return account;
      case "risk_report":
        return { ...ALPACA_RISK, accountId: account.id, status: account.status };
      case "connections_snapshot":
        return connections(failed && trusted.length === 0);
      case "twofa_status":
        return status;
      case "twofa_verify":
        if (args.code !== "123456") throw { code: "wrong_code", message: "wrong two-factor code", fields: [] };
        return (status = { ...status, stepUpUntil: new Date(Date.now() + 15 * 60_000).toISOString() });
      case "account_trust_certificate":
        if (!status.stepUpUntil) throw { code: "step_up_required", message: "this change needs a fresh two-factor code (or a backup code)", fields: [] };
        trusted.push(args.fingerprint as string);
        account = { ...account, tlsPin: { sha256: args.fingerprint as string, origin: "localhost:5000", pinnedAt: "2026-11-21T12:00:00Z", refusedSha256: null } };
        return account;
      default:
        return null;
    }
  });
  return { trusted };
}

function renderPage(id: string) {
  return render(
    <ToastProvider>
      <TestData>
        <StepUpProvider>
          <AccountEditorPage id={id} />
        </StepUpProvider>
      </TestData>
    </ToastProvider>,
  );
}

afterEach(() => clearMocks());

describe("the gateway certificate on an IBKR account's page", () => {
  it("shows the pin, and nothing to trust while the connection is fine", async () => {
    backend(IB, false);
    renderPage(IB.id);
    const card = await screen.findByTestId("gateway-certificate");
    expect(within(card).getByTestId("certificate-pinned").textContent).toBe(`SHA-256 ${OLD}`);
    await waitFor(() => expect(card.getAttribute("data-state")).toBe("pinned"));
    expect(within(card).queryByTestId("trust-certificate")).toBeNull();
  });

  it("offers the new certificate after certificate_changed and trusts it with a two-factor code", async () => {
    const b = backend(IB, true);
    renderPage(IB.id);
    const card = await screen.findByTestId("gateway-certificate");
    await waitFor(() => expect(card.getAttribute("data-state")).toBe("changed"));
    expect(within(card).getByTestId("certificate-presented").textContent).toBe(`SHA-256 ${NEW}`);
    fireEvent.click(within(card).getByTestId("trust-certificate"));
    const dialog = screen.getByRole("dialog", { name: "Trust the new certificate?" });
    expect(dialog.textContent).toContain(NEW);
    fireEvent.click(within(dialog).getByTestId("confirm-trust-certificate"));

    const stepUp = await screen.findByRole("dialog", { name: "Confirm with two-factor authentication" });
    fireEvent.change(within(stepUp).getByLabelText("6-digit code"), { target: { value: "123456" } });
    fireEvent.click(within(stepUp).getByRole("button", { name: "Confirm" }));

    await waitFor(() => expect(within(card).getByTestId("certificate-pinned").textContent).toBe(`SHA-256 ${NEW}`));
    expect(b.trusted).toEqual([NEW]);
    await waitFor(() => expect(card.getAttribute("data-state")).toBe("pinned"));
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("is not shown for other brokers", async () => {
    backend({ ...FTMO, tlsPin: null }, false);
    renderPage(FTMO.id);
    await screen.findByTestId("status-panel");
    expect(screen.queryByTestId("gateway-certificate")).toBeNull();
  });
});
