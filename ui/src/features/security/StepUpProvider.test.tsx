import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import * as api from "../../api/client";
import type { BrokerdeskError } from "../../api/client";
import type { TwoFactorStatus } from "../../bindings/TwoFactorStatus";
import { TestData } from "../../test/render";
import { StepUpProvider } from "./StepUpProvider";

const STATUS: TwoFactorStatus = { enabled: true, pending: false, backupCodesRemaining: 10, stepUpUntil: null, lockedUntil: null, failedAttempts: 0 };

/** 2FA on; removing needs a step-up; "123456" verifies, "111111" locks out, anything else is wrong. */
function backend() {
  const seen: string[] = [];
  let status = { ...STATUS };
  mockIPC((cmd, args) => {
    seen.push(cmd);
    const code = (args as { code?: string }).code;
    switch (cmd) {
      case "twofa_status":
        return status;
      case "twofa_verify":
        if (code === "123456") return (status = { ...status, stepUpUntil: new Date(Date.now() + 15 * 60_000).toISOString() });
        if (code === "111111") {
          status = { ...status, lockedUntil: new Date(Date.now() + 60_000).toISOString() };
          throw { code: "twofa_locked_out", message: "too many wrong two-factor codes: try again after then", fields: [] };
        }
        throw { code: "wrong_code", message: "wrong two-factor code (4 attempts left before a lockout)", fields: [] };
      case "account_remove":
        if (!status.stepUpUntil) throw { code: "step_up_required", message: "this change needs a fresh two-factor code (or a backup code)", fields: [] };
        return null;
      default:
        return null;
    }
  });
  return seen;
}

function RemoveButton() {
  const [result, setResult] = useState("");
  return (
    <>
      <button type="button" onClick={() => api.accountRemove("acc_1").then(() => setResult("removed"), (e: BrokerdeskError) => setResult(e.code))}>
        Remove
      </button>
      <output>{result}</output>
    </>
  );
}

const renderApp = () =>
  render(
    <TestData>
      <StepUpProvider>
        <RemoveButton />
      </StepUpProvider>
    </TestData>,
  );

const submitCode = (code: string) => {
  fireEvent.change(screen.getByLabelText(/6-digit code|Backup code/), { target: { value: code } });
  fireEvent.click(screen.getByRole("button", { name: "Confirm" }));
};

afterEach(() => clearMocks());

describe("StepUpProvider", () => {
  it("asks for a code when a command needs a step-up, shows a wrong code inline, then completes the original call", async () => {
    const seen = backend();
    renderApp();
    fireEvent.click(screen.getByRole("button", { name: "Remove" }));
    const dialog = await screen.findByRole("dialog", { name: "Confirm with two-factor authentication" });
    const input = screen.getByLabelText("6-digit code");
    expect(input.getAttribute("autocomplete")).toBe("one-time-code");
    expect(input.getAttribute("inputmode")).toBe("numeric");

    submitCode("12");
    expect(await screen.findByText("Enter the 6-digit code your authenticator app shows.")).toBeTruthy();
    submitCode("654321");
    expect(await screen.findByText("Wrong two-factor code (4 attempts left before a lockout).")).toBeTruthy();
    submitCode("123456");
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("removed"));
    expect(dialog.isConnected).toBe(false);
    expect(seen.filter((c) => c !== "twofa_status")).toEqual(["account_remove", "twofa_verify", "twofa_verify", "account_remove"]);
  });

  it("Cancel rejects the caller with the original step_up_required; a lockout disables Confirm with a countdown", async () => {
    backend();
    renderApp();
    fireEvent.click(screen.getByRole("button", { name: "Remove" }));
    await screen.findByRole("dialog");
    fireEvent.click(screen.getByRole("button", { name: "Use a backup code" }));
    expect(screen.getByLabelText("Backup code").getAttribute("autocomplete")).toBe("off");
    fireEvent.click(screen.getByRole("button", { name: "Use the code from your app instead" }));
    submitCode("111111");
    const countdown = await screen.findByTestId("lockout-countdown");
    expect(countdown.textContent).toMatch(/Codes are refused for (1:00|0:59)/);
    expect((screen.getByRole("button", { name: "Confirm" }) as HTMLButtonElement).disabled).toBe(true);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    });
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("step_up_required"));
    expect(screen.queryByRole("dialog")).toBeNull();
  });
});
