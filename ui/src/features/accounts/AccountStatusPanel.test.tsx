import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { Account } from "../../bindings/Account";
import type { AccountStatus } from "../../bindings/AccountStatus";
import type { TwoFactorStatus } from "../../bindings/TwoFactorStatus";
import { ALPACA, BROKERS, PRESETS } from "../../test/fixtures";
import { ALPACA_RISK } from "../../test/risk";
import { TestData } from "../../test/render";
import { ToastProvider } from "../../state/ToastProvider";
import { StepUpProvider } from "../security/StepUpProvider";
import { AccountEditorPage } from "./AccountEditorPage";

const TWOFA: TwoFactorStatus = { enabled: true, pending: false, backupCodesRemaining: 10, stepUpUntil: null, lockedUntil: null, failedAttempts: 0 };

/**
 * A backend holding one account: `account_set_status` follows the core's status machine
 * (terminated is final; reactivating needs a step-up when 2FA is on), "123456" is the right code.
 */
function backend(start: Account, { twofa = false } = {}) {
  let account = start;
  let status: TwoFactorStatus = { ...TWOFA, enabled: twofa };
  const setStatus: { status: AccountStatus; reason: string | null }[] = [];
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
      case "twofa_status":
        return status;
      case "twofa_verify":
        if (args.code !== "123456") throw { code: "wrong_code", message: "wrong two-factor code", fields: [] };
        return (status = { ...status, stepUpUntil: new Date(Date.now() + 15 * 60_000).toISOString() });
      case "account_set_status": {
        const to = args.status as AccountStatus;
        setStatus.push({ status: to, reason: args.reason as string | null });
        if (account.status === "terminated")
          throw { code: "illegal_status_transition", message: "a terminated account stays terminated: add a new account instead", fields: [] };
        if (to === "active" && status.enabled && !status.stepUpUntil)
          throw { code: "step_up_required", message: "this change needs a fresh two-factor code (or a backup code)", fields: [] };
        account = {
          ...account,
          status: to,
          statusHistory: [...account.statusHistory, { status: to, reason: (args.reason as string | null) ?? "changed by hand", changedAt: "2026-11-21T12:00:00Z" }],
        };
        return account;
      }
      default:
        return null;
    }
  });
  return { setStatus, terminateElsewhere: () => (account = { ...account, status: "terminated" }) };
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

const panel = () => screen.findByTestId("status-panel");
const actionNames = (p: HTMLElement) => within(p).queryAllByRole("button", { name: /…$/ }).map((b) => b.textContent);

afterEach(() => clearMocks());

describe("account status actions", () => {
  it("suspends with a reason; the page shows the new status, its meaning and its actions", async () => {
    const b = backend(ALPACA);
    renderPage(ALPACA.id);
    const p = await panel();
    expect(actionNames(p)).toEqual(["Suspend…", "Terminate…"]);
    fireEvent.click(within(p).getByRole("button", { name: "Suspend…" }));
    const dialog = screen.getByRole("dialog", { name: "Suspend “Alpaca swing”?" });
    expect(dialog.textContent).toContain("A suspended account opens no new positions");
    fireEvent.change(within(dialog).getByLabelText("Reason (optional)"), { target: { value: " News week " } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Suspend account" }));

    await waitFor(() => expect(p.getAttribute("data-status")).toBe("suspended"));
    expect(b.setStatus).toEqual([{ status: "suspended", reason: "News week" }]);
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(within(p).getByTestId("status-meaning").textContent).toBe("No new positions. Orders that reduce or close a position are still allowed.");
    expect(actionNames(p)).toEqual(["Reactivate…", "Terminate…"]);
    expect(within(p).getByRole("list", { name: "Status history" }).querySelector("li")?.textContent).toContain("News week");
    expect(await screen.findByText("Alpaca swing is suspended: no new positions.")).toBeTruthy();
  });

  it("reactivating asks for a two-factor code in the app's step-up prompt, then completes", async () => {
    const b = backend({ ...ALPACA, status: "suspended" }, { twofa: true });
    renderPage(ALPACA.id);
    const p = await panel();
    fireEvent.click(within(p).getByRole("button", { name: "Reactivate…" }));
    const dialog = screen.getByRole("dialog", { name: "Reactivate “Alpaca swing”?" });
    await within(dialog).findByText("You will be asked for a two-factor code.");
    fireEvent.click(within(dialog).getByRole("button", { name: "Reactivate" }));

    const stepUp = await screen.findByRole("dialog", { name: "Confirm with two-factor authentication" });
    fireEvent.change(within(stepUp).getByLabelText("6-digit code"), { target: { value: "123456" } });
    fireEvent.click(within(stepUp).getByRole("button", { name: "Confirm" }));

    await waitFor(() => expect(p.getAttribute("data-status")).toBe("active"));
    expect(b.setStatus.map((c) => c.status)).toEqual(["active", "active"]);
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(actionNames(p)).toEqual(["Suspend…", "Terminate…"]);
  });

  it("cancelling the code changes nothing, and the dialog says so", async () => {
    backend({ ...ALPACA, status: "suspended" }, { twofa: true });
    renderPage(ALPACA.id);
    const p = await panel();
    fireEvent.click(within(p).getByRole("button", { name: "Reactivate…" }));
    const dialog = screen.getByRole("dialog", { name: "Reactivate “Alpaca swing”?" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Reactivate" }));
    const stepUp = await screen.findByRole("dialog", { name: "Confirm with two-factor authentication" });
    fireEvent.click(within(stepUp).getByRole("button", { name: "Cancel" }));
    await within(dialog).findByText("Nothing was changed: the two-factor check was cancelled.");
    expect(p.getAttribute("data-status")).toBe("suspended");
  });

  it("terminating asks for the account's name and says it is final; a terminated account offers no actions", async () => {
    const b = backend(ALPACA);
    renderPage(ALPACA.id);
    const p = await panel();
    fireEvent.click(within(p).getByRole("button", { name: "Terminate…" }));
    const dialog = screen.getByRole("dialog", { name: "Terminate “Alpaca swing”?" });
    expect(dialog.textContent).toContain("Terminating is final.");
    expect(dialog.textContent).toContain("not even one that closes a position");
    const confirm = within(dialog).getByRole("button", { name: "Terminate account" }) as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    const name = within(dialog).getByLabelText(/Type the account name/);
    expect(document.activeElement).toBe(name);
    fireEvent.change(name, { target: { value: "alpaca swing" } });
    expect(confirm.disabled).toBe(true);
    // Enter does not go around the name check.
    fireEvent.submit(name);
    expect(b.setStatus).toEqual([]);
    fireEvent.change(name, { target: { value: "Alpaca swing" } });
    expect(confirm.disabled).toBe(false);
    fireEvent.click(confirm);

    await waitFor(() => expect(p.getAttribute("data-status")).toBe("terminated"));
    expect(b.setStatus).toEqual([{ status: "terminated", reason: null }]);
    expect(actionNames(p)).toEqual([]);
    expect(within(p).getByTestId("status-meaning").textContent).toMatch(/^No orders at all, not even closing ones\. Terminated is final/);
  });

  it("shows the core's refusal when the move is no longer allowed (terminated elsewhere)", async () => {
    const b = backend({ ...ALPACA, status: "suspended" });
    renderPage(ALPACA.id);
    const p = await panel();
    b.terminateElsewhere();
    fireEvent.click(within(p).getByRole("button", { name: "Reactivate…" }));
    const dialog = screen.getByRole("dialog", { name: "Reactivate “Alpaca swing”?" });
    expect(dialog.textContent).toContain("Two-factor authentication is off, so no code is asked.");
    fireEvent.click(within(dialog).getByRole("button", { name: "Reactivate" }));
    const alert = await within(dialog).findByRole("alert");
    expect(alert.textContent).toContain("Still suspended");
    expect(alert.textContent).toContain("A terminated account stays terminated: add a new account instead.");
  });
});
