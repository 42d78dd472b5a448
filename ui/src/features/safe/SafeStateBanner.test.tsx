import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type * as Client from "../../api/client";
import { Code } from "../../api/client";
import type { StartupReport } from "../../bindings/StartupReport";
import { TestData } from "../../test/render";
import { openFailureFix } from "../vault/StartFailure";
import { SafeStateBanner } from "./SafeStateBanner";

vi.mock("../../api/client", async (importOriginal) => ({
  ...(await importOriginal<typeof Client>()),
  startupReport: vi.fn(),
  startupCheck: vi.fn(),
}));

const api = await import("../../api/client");

const HELD: StartupReport = {
  safeMode: true,
  failed: [
    {
      code: "accounts",
      subject: "Edited",
      status: "fail",
      detail: "its security settings were changed outside Brokerdesk (state_tampered)",
      fix: "open each account named, check its settings and save it (or remove it)",
    },
    {
      code: "audit_log",
      subject: null,
      status: "fail",
      detail: "the audit log was tampered with at entry 1: its contents were changed after it was written",
      fix: "restore a backup from before the edit with `brokerdesk backup restore FILE`",
    },
  ],
  warnings: [],
  complete: true,
  at: "2025-01-02T10:00:00Z",
};
const PASSING: StartupReport = { ...HELD, safeMode: false, failed: [] };

afterEach(() => vi.clearAllMocks());

const renderBanner = () =>
  render(
    <TestData>
      <SafeStateBanner />
    </TestData>,
  );

describe("the safe state's banner", () => {
  it("names every failed check by its code with what was found and how to fix it", async () => {
    vi.mocked(api.startupReport).mockResolvedValue(HELD);
    renderBanner();
    const banner = await screen.findByTestId("safe-state");
    expect(within(banner).getByRole("heading").textContent).toBe("Safe state: trading is held");
    expect(banner.textContent).toContain("sends no order (live or paper)");
    const accounts = within(banner).getByTestId("safe-state-accounts");
    expect(accounts.textContent).toContain("Accounts — Edited");
    expect(accounts.textContent).toContain("Its security settings were changed outside Brokerdesk (state_tampered).");
    expect(accounts.textContent).toContain("How to fix it:");
    expect(within(banner).getByTestId("safe-state-audit_log").textContent).toContain("brokerdesk backup restore FILE");
  });

  it("Check again: still failing says so; passing removes the banner", async () => {
    vi.mocked(api.startupReport).mockResolvedValue(HELD);
    vi.mocked(api.startupCheck).mockResolvedValueOnce(HELD).mockResolvedValueOnce(PASSING);
    renderBanner();
    fireEvent.click(await screen.findByRole("button", { name: "Check again" }));
    await screen.findByText(/Still failing/);
    fireEvent.click(screen.getByRole("button", { name: "Check again" }));
    await waitFor(() => expect(screen.queryByTestId("safe-state")).toBeNull());
    expect(api.startupCheck).toHaveBeenCalledTimes(2);
  });

  it("shows nothing when the checks pass", async () => {
    vi.mocked(api.startupReport).mockResolvedValue(PASSING);
    renderBanner();
    await waitFor(() => expect(api.startupReport).toHaveBeenCalled());
    expect(screen.queryByTestId("safe-state")).toBeNull();
  });
});

describe("a profile that could not be opened", () => {
  it("says how to fix it by code", () => {
    expect(openFailureFix(Code.CorruptDatabase).steps.join(" ")).toContain("brokerdesk backup restore FILE");
    expect(openFailureFix(Code.NewerSchema).steps.join(" ")).toContain("newer one");
    expect(openFailureFix(Code.Busy).title).toBe("Another Brokerdesk has this profile open");
    expect(openFailureFix(Code.ProfileInUse).steps[0]).toContain("Close the other Brokerdesk");
    expect(openFailureFix(Code.DataDir).steps[0]).toContain("permissions");
    expect(openFailureFix(Code.Internal).steps.length).toBeGreaterThan(0);
  });
});
