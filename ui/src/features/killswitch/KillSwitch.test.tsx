import { fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type * as Client from "../../api/client";
import { BrokerdeskError } from "../../api/errors";
import type { KillSwitchReport } from "../../bindings/KillSwitchReport";
import { KILL_REPORT } from "../../test/risk";
import { TestData } from "../../test/render";
import { KillSwitchButton } from "./KillSwitch";

vi.mock("../../api/client", async (importOriginal) => ({
  ...(await importOriginal<typeof Client>()),
  killSwitch: vi.fn(),
}));

const api = await import("../../api/client");

const renderButton = () =>
  render(
    <TestData>
      <KillSwitchButton />
    </TestData>,
  );

const openDialog = () => {
  fireEvent.click(screen.getByRole("button", { name: "Kill switch" }));
  return screen.getByRole("dialog", { name: "Stop all trading now?" });
};

afterEach(() => vi.clearAllMocks());

describe("the kill switch", () => {
  it("says exactly what it does before anything happens; positions stay unless flatten is chosen", () => {
    renderButton();
    const dialog = openDialog();
    expect(dialog.textContent).toContain("Every account goes to paper and is suspended.");
    expect(dialog.textContent).toContain("Every open order is cancelled, at every broker");
    expect(within(dialog).getByTestId("kill-step-positions").textContent).toBe("Positions stay open, unless you also choose to close them below.");
    const flatten = within(dialog).getByRole("checkbox", { name: /Also close every live position \(flatten\)/ });
    expect((flatten as HTMLInputElement).checked).toBe(false);
    expect(within(dialog).getByTestId("kill-switch-confirm").textContent).toBe("Stop all trading");
    fireEvent.click(flatten);
    expect(within(dialog).getByTestId("kill-step-positions").textContent).toContain("Every live position is closed at its broker");
    expect(within(dialog).getByTestId("kill-switch-confirm").textContent).toBe("Stop trading and close positions");
    // Cancel does nothing.
    fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(api.killSwitch).not.toHaveBeenCalled();
  });

  it("confirmed, it runs once and reports each account, order and position, failures highlighted with a pointer to Needs review", async () => {
    vi.mocked(api.killSwitch).mockResolvedValue(KILL_REPORT);
    renderButton();
    const dialog = openDialog();
    fireEvent.click(within(dialog).getByTestId("kill-switch-confirm"));
    const report = await screen.findByRole("dialog", { name: "Trading stopped, with failures" });
    expect(api.killSwitch).toHaveBeenCalledExactlyOnceWith(false);
    expect(within(report).getByTestId("kill-totals").textContent).toBe("2 accounts to paper and suspended · 1 of 2 open orders cancelled · 1 live position left open");
    expect(within(report).getByRole("alert").textContent).toContain("1 thing could not be done");
    expect(within(report).getByRole("alert").textContent).toContain("Needs review");

    const ftmo = within(report).getByRole("region", { name: "FTMO challenge: kill switch report" });
    expect(ftmo.className).not.toContain("has-failure");
    expect(within(ftmo).getByText("Suspended")).toBeTruthy();
    const cancelled = within(ftmo).getByTestId("kill-order");
    expect(cancelled.dataset.outcome).toBe("cancelled");
    expect(cancelled.textContent).toContain("EUR_USD");
    expect(cancelled.textContent).toContain("Cancelled");
    expect(cancelled.textContent).not.toContain("— cancelled");
    expect(cancelled.dataset.orderId).toBe("ord_1");

    const tasty = within(report).getByRole("region", { name: "Tasty options: kill switch report" });
    expect(tasty.className).toContain("has-failure");
    expect(tasty.textContent).toContain("was live, now paper");
    const failed = within(tasty).getByTestId("kill-order");
    expect(failed.className).toContain("kill-bad");
    expect(failed.textContent).toContain("Could not be cancelled — the broker did not answer in 10 s");
    const position = within(tasty).getByTestId("kill-position");
    expect(position.dataset.outcome).toBe("open");
    expect(position.textContent).toContain("QQQ 10");
    expect(position.textContent).toContain("Left open — flatten was not chosen");

    expect(within(report).getByTestId("kill-report-review").getAttribute("href")).toBe("#/trade");
    fireEvent.click(within(report).getByTestId("kill-report-close"));
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("with flatten, the positions closed are reported", async () => {
    const flattened: KillSwitchReport = {
      ...KILL_REPORT,
      flatten: true,
      failures: 0,
      accounts: [
        {
          accountId: "acc_tasty",
          name: "Tasty options",
          wasLive: true,
          status: "suspended",
          orders: [],
          positions: [{ symbol: "QQQ", quantity: "10", outcome: "closed", orderId: "ord_9", detail: null }],
          error: null,
        },
      ],
    };
    vi.mocked(api.killSwitch).mockResolvedValue(flattened);
    renderButton();
    const dialog = openDialog();
    fireEvent.click(within(dialog).getByRole("checkbox", { name: /flatten/ }));
    fireEvent.click(within(dialog).getByTestId("kill-switch-confirm"));
    const report = await screen.findByRole("dialog", { name: "Trading stopped" });
    expect(api.killSwitch).toHaveBeenCalledExactlyOnceWith(true);
    expect(within(report).getByTestId("kill-totals").textContent).toBe("1 account to paper and suspended · 0 of 0 open orders cancelled · 1 position closed");
    expect(within(report).queryByRole("alert")).toBeNull();
    expect(within(report).queryByTestId("kill-report-review")).toBeNull();
    expect(within(report).getByTestId("kill-position").textContent).toContain("Closed");
  });

  it("an error from the core is shown with its code, and the dialog stays to try again", async () => {
    vi.mocked(api.killSwitch).mockRejectedValue(new BrokerdeskError("locked", "the vault is locked"));
    renderButton();
    const dialog = openDialog();
    fireEvent.click(within(dialog).getByTestId("kill-switch-confirm"));
    const alert = await within(dialog).findByRole("alert");
    expect(alert.textContent).toContain("The kill switch did not run");
    expect(alert.textContent).toContain("The vault is locked.");
    expect(alert.textContent).toContain("Code locked");
    expect((within(dialog).getByTestId("kill-switch-confirm") as HTMLButtonElement).disabled).toBe(false);
  });

  it("an account the core could not finish names its error", async () => {
    vi.mocked(api.killSwitch).mockResolvedValue({
      ...KILL_REPORT,
      accounts: [{ ...KILL_REPORT.accounts[1]!, orders: [], positions: [], error: { code: "broker_timeout", message: "the broker did not answer in 10 s", fields: [] } }],
    });
    renderButton();
    fireEvent.click(within(openDialog()).getByTestId("kill-switch-confirm"));
    const report = await screen.findByRole("dialog", { name: "Trading stopped, with failures" });
    const tasty = within(report).getByRole("region", { name: "Tasty options: kill switch report" });
    expect(tasty.className).toContain("has-failure");
    expect(within(tasty).getByRole("alert").textContent).toContain("The broker did not answer in 10 s. broker_timeout");
  });
});
