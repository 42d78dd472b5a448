import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type * as Client from "../../api/client";
import { BrokerdeskError } from "../../api/errors";
import type { Account } from "../../bindings/Account";
import type { SavedAccount } from "../../bindings/SavedAccount";
import { ALPACA, BROKERS, FTMO, PRESETS } from "../../test/fixtures";
import { FTMO_RISK } from "../../test/risk";
import { TestData } from "../../test/render";
import { ToastProvider } from "../../state/ToastProvider";
import { AccountEditorPage, CHOOSE_ACCOUNT_MESSAGE } from "./AccountEditorPage";

vi.mock("../../api/client", async (importOriginal) => ({
  ...(await importOriginal<typeof Client>()),
  brokerCatalog: vi.fn(),
  propFirmPresets: vi.fn(),
  accountAdd: vi.fn(),
  accountGet: vi.fn(),
  accountUpdate: vi.fn(),
  accountCheck: vi.fn(),
  brokerAccounts: vi.fn(),
  accountSetStatus: vi.fn(),
  riskReport: vi.fn(),
}));

const api = await import("../../api/client");

beforeEach(() => {
  vi.mocked(api.brokerCatalog).mockResolvedValue(BROKERS);
  vi.mocked(api.propFirmPresets).mockResolvedValue(PRESETS);
  vi.mocked(api.riskReport).mockResolvedValue(FTMO_RISK);
});

function renderEditor(id?: string) {
  return render(
    <ToastProvider>
      <TestData>
        <AccountEditorPage id={id} />
      </TestData>
    </ToastProvider>,
  );
}

/** A fixture account (FTMO challenge: OANDA; Alpaca swing: its API key unreadable). */
const seeded = (id: "acc_ftmo" | "acc_alpaca") => (id === "acc_ftmo" ? FTMO : ALPACA);

/** What account_add / account_update resolve with when the backend did not check (paper, nothing changed). */
const skipped = (account: Account): SavedAccount => ({ account, check: { status: "skipped", reason: "nothing the broker checks has changed" } });

const SUMMARY = { accountId: "101-004-7654321-001", accountLast4: "-001", accountType: "margin", currency: "USD", balance: "100000", equity: "100412.57", buyingPower: "97240.18" };

/** The text of the elements an input's aria-describedby points at. */
const description = (el: HTMLElement) =>
  (el.getAttribute("aria-describedby") ?? "")
    .split(" ")
    .filter(Boolean)
    .map((id) => document.getElementById(id)?.textContent ?? "")
    .join(" | ");

async function submitOanda(name: string) {
  fireEvent.click(await screen.findByRole("radio", { name: /OANDA/ }));
  fireEvent.change(screen.getByLabelText(/^Account name/), { target: { value: name } });
  fireEvent.click(screen.getByRole("button", { name: "Add account" }));
}

describe("AccountEditorPage", () => {
  it("shows backend field errors under their inputs and in the summary", async () => {
    vi.mocked(api.accountAdd).mockRejectedValue(
      new BrokerdeskError("validation", "Some fields need attention.", [
        { field: "credentials.api_key", code: "required", message: "The token is required." },
        { field: "risk.maxLeverage", code: "out_of_range", message: "Use a leverage between 1 and 500." },
        { field: "instruments[1]", code: "invalid", message: "“EURUSD” is not an instrument." },
        { field: "somethingElse", code: "invalid", message: "Not tied to an input." },
      ]),
    );
    renderEditor();
    fireEvent.click(await screen.findByRole("radio", { name: /OANDA/ }));
    fireEvent.change(screen.getByLabelText(/^Account name/), { target: { value: "Swing" } });
    fireEvent.change(screen.getByLabelText("Max leverage"), { target: { value: "900" } });
    fireEvent.click(screen.getByRole("button", { name: "Add account" }));

    const token = screen.getByLabelText(/^API access token/);
    await waitFor(() => expect(token.getAttribute("aria-invalid")).toBe("true"));
    expect(document.getElementById(token.getAttribute("aria-describedby")!.split(" ").at(-1)!)?.textContent).toBe("The token is required.");
    const leverage = screen.getByLabelText("Max leverage");
    expect(leverage.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText("Use a leverage between 1 and 500.", { selector: ".field-error span" })).toBeTruthy();
    expect(screen.getByText("“EURUSD” is not an instrument.", { selector: ".field-error span" })).toBeTruthy();

    const summary = screen.getByTestId("error-summary");
    expect(within(summary).getByText(/4 problems to fix/)).toBeTruthy();
    expect(within(summary).getByText("API access token:")).toBeTruthy();
    expect(within(summary).getByText("somethingElse:")).toBeTruthy();

    // Fixing a field clears its inline error; the others stay until the next save.
    fireEvent.change(leverage, { target: { value: "50" } });
    expect(leverage.getAttribute("aria-invalid")).toBeNull();
    expect(token.getAttribute("aria-invalid")).toBe("true");
  });

  it("stops obvious mistakes before calling the backend", async () => {
    renderEditor();
    await screen.findByRole("radio", { name: /OANDA/ });
    fireEvent.click(screen.getByRole("button", { name: "Add account" }));
    expect(await screen.findByText("Give the account a name.", { selector: ".field-error span" })).toBeTruthy();
    expect(api.accountAdd).not.toHaveBeenCalled();
  });

  it("shows a non-field error as a message in the summary", async () => {
    vi.mocked(api.accountAdd).mockRejectedValue(new BrokerdeskError("storage", "The database is read-only."));
    renderEditor();
    fireEvent.click(await screen.findByRole("radio", { name: /Paper/ }));
    fireEvent.change(screen.getByLabelText(/^Account name/), { target: { value: "Sim" } });
    fireEvent.click(screen.getByRole("button", { name: "Add account" }));
    expect(await screen.findByText(/^The database is read-only\. Brokerdesk could not read or write its data folder/)).toBeTruthy();
    expect(vi.mocked(api.accountAdd).mock.calls[0]?.[0]).toMatchObject({ name: "Sim", broker: "paper", credentials: { apiKey: null, apiSecret: null } });
  });

  it("shows a duplicate name under the Name input, alone (duplicate_name) or among other problems (validation)", async () => {
    vi.mocked(api.accountAdd)
      .mockRejectedValueOnce(
        new BrokerdeskError("validation", "2 fields are invalid", [
          { field: "name", code: "duplicate", message: "An account named \"Swing\" already exists." },
          { field: "brokerAccountId", code: "invalid", message: "Use the form 101-004-1234567-001." },
        ]),
      )
      .mockRejectedValueOnce(
        new BrokerdeskError("duplicate_name", "an account named \"Swing\" already exists", [
          { field: "name", code: "duplicate", message: "An account named \"Swing\" already exists." },
        ]),
      );
    renderEditor();
    await submitOanda("Swing");
    const name = screen.getByLabelText(/^Account name/);
    await waitFor(() => expect(name.getAttribute("aria-invalid")).toBe("true"));
    expect(description(name)).toBe('An account named "Swing" already exists.');
    expect(screen.getByLabelText(/^v20 account ID/).getAttribute("aria-invalid")).toBe("true");
    expect(within(screen.getByTestId("error-summary")).getByText(/2 problems to fix/)).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Add account" }));
    await waitFor(() => expect(within(screen.getByTestId("error-summary")).getByText(/1 problem to fix/)).toBeTruthy());
    expect(description(name)).toBe('An account named "Swing" already exists.');
    expect(screen.getByLabelText(/^v20 account ID/).getAttribute("aria-invalid")).toBeNull();
  });

  it("marks the instruments the backend rejected by index (instruments[<i>])", async () => {
    vi.mocked(api.accountAdd).mockRejectedValue(
      new BrokerdeskError("validation", "1 field is invalid", [
        { field: "instruments[1]", code: "invalid", message: '"EUR$USD" is not a symbol.' },
      ]),
    );
    renderEditor();
    fireEvent.click(await screen.findByRole("radio", { name: /OANDA/ }));
    fireEvent.change(screen.getByLabelText(/^Account name/), { target: { value: "Swing" } });
    fireEvent.change(screen.getByRole("textbox", { name: "Instruments" }), { target: { value: "eur_usd, eur$usd, gbp_usd," } });
    fireEvent.click(screen.getByRole("button", { name: "Add account" }));
    await screen.findByText('"EUR$USD" is not a symbol.', { selector: ".field-error span" });
    expect(vi.mocked(api.accountAdd).mock.calls[0]?.[0].instruments).toEqual(["EUR_USD", "EUR$USD", "GBP_USD"]);
    const tags = screen.getByRole("list", { name: "Selected instruments" }).querySelectorAll("li");
    expect([...tags].map((t) => t.className)).toEqual(["tag", "tag is-invalid", "tag"]);
    // Removing the bad symbol clears the error and the mark.
    fireEvent.click(screen.getByRole("button", { name: "Remove EUR$USD" }));
    expect(screen.queryByText('"EUR$USD" is not a symbol.')).toBeNull();
  });

  it("warns about a stored secret that cannot be read, until a new one is typed", async () => {
    vi.mocked(api.accountGet).mockResolvedValue(seeded("acc_alpaca"));
    renderEditor("acc_alpaca");
    const key = await screen.findByLabelText(/^API key ID/);
    expect(description(key)).toContain(
      "This stored API key ID cannot be read: the sealed value for account:acc_alpaca:api_key has been tampered with or corrupted. Enter it again to replace it.",
    );
    expect(key.getAttribute("placeholder")).toBeNull();
    expect(key.hasAttribute("required")).toBe(true);
    // The readable secret is kept as usual.
    const secret = screen.getByLabelText(/^API secret key/);
    expect(description(secret)).toBe("Stored: ••••k2Lw. Leave empty to keep it.");

    fireEvent.change(key, { target: { value: "AKNEWKEY0042" } });
    expect(description(key)).toBe("Replaces the stored value that cannot be read.");
  });

  it("edits no status: the page shows it with its actions, and a save sends the stored one back", async () => {
    vi.mocked(api.accountGet).mockResolvedValue(seeded("acc_ftmo"));
    vi.mocked(api.accountUpdate).mockResolvedValue(skipped(seeded("acc_ftmo")));
    renderEditor("acc_ftmo");
    const panel = await screen.findByTestId("status-panel");
    expect(within(panel).getByText("In drawdown", { selector: ".status-current .pill" })).toBeTruthy();
    expect(within(panel).getByTestId("status-meaning").textContent).toMatch(/^Close-only until the next daily reset/);
    expect(within(panel).getByText(/Down 4\.1% on the day/, { selector: ".status-since" })).toBeTruthy();
    expect(within(panel).getByRole("list", { name: "Status history" }).querySelectorAll("li")).toHaveLength(2);
    expect(screen.queryByRole("combobox", { name: "Status" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(api.accountUpdate).toHaveBeenCalledTimes(1));
    expect(vi.mocked(api.accountUpdate).mock.calls[0]?.[1]).toMatchObject({ status: "in_drawdown", statusReason: null });
  });

  it("shows what the rules mean in money today", async () => {
    vi.mocked(api.accountGet).mockResolvedValue(seeded("acc_ftmo"));
    renderEditor("acc_ftmo");
    const card = await screen.findByTestId("risk-money");
    await within(card).findByTestId("budget-daily");
    expect(within(card).getByTestId("budget-daily-headline").textContent).toBe("You may lose $3,000.00 more today");
    expect(within(card).getByTestId("budget-total-headline").textContent).toBe("You may lose $8,000.00 more in total");
    expect(within(card).getByTestId("risk-next-reset").textContent).toMatch(/on the firm's clock \(Europe\/Prague\)/);
    expect(within(card).getByTestId("risk-initial-balance").textContent).toBe("$100,000.00 (as set)");
    expect(api.riskReport).toHaveBeenCalledWith("acc_ftmo");
  });

  it("shows the preset's summary and source; editing its numbers or clock makes it custom, and says so", async () => {
    renderEditor();
    fireEvent.click(await screen.findByRole("radio", { name: /Paper/ }));
    fireEvent.change(screen.getByLabelText("Preset"), { target: { value: "ftmo" } });
    const summary = screen.getByTestId("preset-summary");
    expect(summary.textContent).toContain("Max daily loss: equity may not fall more than 5% of the initial balance");
    expect(within(summary).getByRole("link", { name: "academy.ftmo.com" }).getAttribute("href")).toBe("https://academy.ftmo.com/lesson/maximum-daily-loss");
    expect((screen.getByLabelText("Max daily loss") as HTMLInputElement).value).toBe("5");
    expect((screen.getByLabelText("Reset time zone") as HTMLSelectElement).value).toBe("Europe/Prague");
    expect((screen.getByLabelText("When the daily limit is reached") as HTMLSelectElement).value).toBe("terminate");

    fireEvent.change(screen.getByLabelText("Daily reset time"), { target: { value: "01:00" } });
    expect((screen.getByLabelText("Preset") as HTMLSelectElement).value).toBe("custom");
    expect(screen.queryByTestId("preset-summary")).toBeNull();
    expect(screen.getByTestId("preset-custom-note").textContent).toContain("You changed FTMO 2-Step's rules, so this is now a custom rule set");

    fireEvent.change(screen.getByLabelText(/^Account name/), { target: { value: "Sim" } });
    vi.mocked(api.accountAdd).mockResolvedValue(skipped(seeded("acc_ftmo")));
    fireEvent.click(screen.getByRole("button", { name: "Add account" }));
    await waitFor(() => expect(api.accountAdd).toHaveBeenCalledTimes(1));
    expect(vi.mocked(api.accountAdd).mock.calls[0]?.[0].propFirm).toMatchObject({
      preset: "custom",
      maxDailyLossPct: "5",
      resetTime: "01:00",
      resetTimezone: "Europe/Prague",
      dailyBreach: "terminate",
      warnLevels: [50, 80, 95],
    });
  });

  it("says max correlation is not enforced, and that rules and limits are checked before every order", async () => {
    renderEditor();
    fireEvent.click(await screen.findByRole("radio", { name: /Paper/ }));
    expect(screen.queryByText(/not yet enforced/i)).toBeNull();
    expect(description(screen.getByLabelText(/^Max correlation/))).toMatch(/^Between open positions, 0 to 1\. Not enforced:/);
    expect(screen.getByText(/Checked in core before every order, paper and live/)).toBeTruthy();
    expect(screen.getByText(/Brokerdesk checks them in core before every order, paper and live, and measures the daily and total loss budgets on equity/)).toBeTruthy();
    expect((screen.getByRole("switch", { name: "Weekend trading" }) as HTMLInputElement).checked).toBe(true);
  });

  it("says before saving which protections an edit loosens", async () => {
    vi.mocked(api.accountGet).mockResolvedValue(seeded("acc_ftmo"));
    renderEditor("acc_ftmo");
    const daily = await screen.findByLabelText("Max daily loss");
    expect(screen.queryByTestId("loosen-note")).toBeNull();
    fireEvent.change(daily, { target: { value: "6" } });
    fireEvent.click(screen.getByRole("switch", { name: "Require a stop-loss on every order" }));
    expect(screen.getByTestId("loosen-note").textContent).toMatch(/^Saving loosens max daily loss, stop-loss required\./);
    fireEvent.change(daily, { target: { value: "4" } });
    fireEvent.click(screen.getByRole("switch", { name: "Require a stop-loss on every order" }));
    expect(screen.queryByTestId("loosen-note")).toBeNull();
  });

  it("offers an optional reason on create and sends it with the first status", async () => {
    vi.mocked(api.accountAdd).mockResolvedValue(skipped(seeded("acc_ftmo")));
    renderEditor();
    fireEvent.click(await screen.findByRole("radio", { name: /Paper/ }));
    fireEvent.change(screen.getByLabelText(/^Account name/), { target: { value: "Sim" } });
    const reason = screen.getByLabelText("Reason");
    expect(description(reason)).toBe("Optional. Recorded as the first entry of the status history.");
    fireEvent.change(reason, { target: { value: "Testing a strategy" } });
    fireEvent.click(screen.getByRole("button", { name: "Add account" }));
    await waitFor(() => expect(api.accountAdd).toHaveBeenCalledTimes(1));
    expect(vi.mocked(api.accountAdd).mock.calls[0]?.[0]).toMatchObject({ status: "active", statusReason: "Testing a strategy", restUrl: null });
  });

  it("has no endpoint overrides for the built-in paper broker (its environment's URLs are null)", async () => {
    renderEditor();
    fireEvent.click(await screen.findByRole("radio", { name: /OANDA/ }));
    expect(screen.getByText("Advanced: endpoint overrides")).toBeTruthy();
    fireEvent.click(screen.getByText("Advanced: endpoint overrides"));
    expect(screen.getByLabelText("REST URL").getAttribute("placeholder")).toBe("https://api-fxpractice.oanda.com");
    fireEvent.change(screen.getByLabelText("REST URL"), { target: { value: "http://127.0.0.1:9000" } });
    fireEvent.click(screen.getByRole("radio", { name: /Paper/ }));
    expect(screen.queryByText("Advanced: endpoint overrides")).toBeNull();
    expect(screen.getByText(/runs inside Brokerdesk: it needs no credentials and has no endpoints/)).toBeTruthy();
  });

  it("calls typing a new secret for an account with stored credentials a rotation", async () => {
    vi.mocked(api.accountGet).mockResolvedValue(seeded("acc_ftmo"));
    vi.mocked(api.accountUpdate).mockResolvedValue(skipped(seeded("acc_ftmo")));
    renderEditor("acc_ftmo");
    const token = await screen.findByLabelText(/^API access token/);
    expect(screen.getByRole("button", { name: "Save changes" })).toBeTruthy();
    expect(screen.queryByTestId("rotation-note")).toBeNull();

    fireEvent.change(token, { target: { value: "tok-0123456789-new-4242" } });
    expect(description(token)).toBe("Replaces the stored ••••9f3a when you save.");
    expect(screen.getByTestId("rotation-note").textContent).toContain(
      "Saving replaces the stored API access token with what you entered; the old values are deleted from this computer.",
    );
    fireEvent.click(screen.getByRole("button", { name: "Save and rotate credentials" }));
    await waitFor(() => expect(api.accountUpdate).toHaveBeenCalledTimes(1));
    expect(vi.mocked(api.accountUpdate).mock.calls[0]?.[1].credentials).toEqual({ apiKey: "tok-0123456789-new-4242", apiSecret: null });
  });

  describe("checking with the broker", () => {
    async function fillOanda(token = "tok-0123456789-abcd-7f2e", accountId = "101-004-7654321-001") {
      fireEvent.click(await screen.findByRole("radio", { name: /OANDA/ }));
      fireEvent.change(screen.getByLabelText(/^Account name/), { target: { value: "OANDA swing" } });
      fireEvent.change(screen.getByLabelText(/^v20 account ID/), { target: { value: accountId } });
      fireEvent.change(screen.getByLabelText(/^API access token/), { target: { value: token } });
    }

    it("says it is checking with the broker, then shows the verified account's summary", async () => {
      let resolve: (v: SavedAccount) => void = () => {};
      vi.mocked(api.accountAdd).mockReturnValue(new Promise((ok) => (resolve = ok)));
      renderEditor();
      await fillOanda();
      fireEvent.click(screen.getByRole("button", { name: "Add account" }));
      expect(await screen.findByRole("button", { name: "Checking with OANDA…" })).toBeTruthy();
      expect(screen.getByTestId("check-progress").textContent).toContain("Checking with OANDA…");
      expect(vi.mocked(api.accountAdd).mock.calls[0]?.[1]).toBe(true);

      resolve({ account: { ...seeded("acc_ftmo"), name: "OANDA swing" }, check: { status: "verified", summary: SUMMARY } });
      const result = await screen.findByTestId("save-result");
      expect(result.getAttribute("data-status")).toBe("verified");
      expect(within(result).getByRole("heading", { name: "Verified with OANDA" })).toBeTruthy();
      expect(screen.getByTestId("summary-account").textContent).toBe("••••-001");
      expect(screen.getByTestId("summary-type").textContent).toBe("Margin");
      expect(screen.getByTestId("summary-currency").textContent).toBe("USD");
      expect(screen.getByTestId("summary-balance").textContent).toBe("$100,000.00");
      expect(screen.getByTestId("summary-equity").textContent).toBe("$100,412.57");
      expect(screen.getByTestId("summary-buying-power").textContent).toBe("$97,240.18");
      expect(within(result).getByRole("link", { name: "Back to accounts" }).getAttribute("href")).toBe("#/accounts");
    });

    it("keeps the form filled and says nothing was saved when the broker refuses the key", async () => {
      vi.mocked(api.accountAdd).mockRejectedValue(
        new BrokerdeskError("broker_auth", "the broker refused the credentials: HTTP 401: Insufficient authorization to perform request.; nothing was saved"),
      );
      renderEditor();
      await fillOanda("wrong-token-0123456789");
      fireEvent.click(screen.getByRole("button", { name: "Add account" }));
      const result = await screen.findByTestId("check-result");
      expect(result.getAttribute("data-status")).toBe("refused");
      expect(within(result).getByText("OANDA refused the credentials")).toBeTruthy();
      expect(screen.getByTestId("check-reason").textContent).toBe("HTTP 401: Insufficient authorization to perform request.");
      expect(within(result).getByText(/^Nothing was saved\. Check the credentials/)).toBeTruthy();
      expect(within(screen.getByTestId("error-summary")).getByText(/OANDA refused the credentials: .* Nothing was saved\./)).toBeTruthy();
      expect((screen.getByLabelText(/^API access token/) as HTMLInputElement).value).toBe("wrong-token-0123456789");
      expect((screen.getByLabelText(/^Account name/) as HTMLInputElement).value).toBe("OANDA swing");
      // Typing another key clears the stale verdict.
      fireEvent.change(screen.getByLabelText(/^API access token/), { target: { value: "tok-0123456789-abcd-7f2e" } });
      expect(screen.queryByTestId("check-result")).toBeNull();
    });

    it("tests the connection without saving, and offers to save unchecked when the broker is unreachable", async () => {
      vi.mocked(api.accountCheck).mockResolvedValueOnce({ status: "verified", summary: SUMMARY });
      renderEditor();
      await fillOanda();
      fireEvent.click(screen.getByRole("button", { name: "Test connection" }));
      const verified = await screen.findByTestId("check-result");
      expect(verified.getAttribute("data-status")).toBe("verified");
      expect(within(verified).getByText("OANDA accepted the credentials")).toBeTruthy();
      expect(within(verified).getByText(/Test only: nothing was saved/)).toBeTruthy();
      expect(vi.mocked(api.accountCheck).mock.calls[0]?.[0]).toBeNull();
      expect(api.accountAdd).not.toHaveBeenCalled();
      expect(screen.queryByRole("button", { name: "Save without checking" })).toBeNull();

      vi.mocked(api.accountCheck).mockResolvedValueOnce({
        status: "unreachable",
        code: "broker_network",
        message: "network error: could not connect to offline.invalid (connection refused); saved without checking — run `account verify` once the broker can be reached",
      });
      fireEvent.click(screen.getByRole("button", { name: "Test connection" }));
      await waitFor(() => expect(screen.getByTestId("check-result").getAttribute("data-status")).toBe("unreachable"));
      expect(screen.getByText("Network error: could not connect to offline.invalid (connection refused).")).toBeTruthy();
      vi.mocked(api.accountAdd).mockResolvedValue({
        account: seeded("acc_ftmo"),
        check: { status: "skipped", reason: "not checked, as asked" },
      });
      fireEvent.click(screen.getByRole("button", { name: "Save without checking" }));
      await waitFor(() => expect(api.accountAdd).toHaveBeenCalledTimes(1));
      expect(vi.mocked(api.accountAdd).mock.calls[0]?.[1]).toBe(false);
    });

    it("shows why an account was saved unverified", async () => {
      vi.mocked(api.accountAdd).mockResolvedValue({
        account: { ...seeded("acc_ftmo"), name: "OANDA swing" },
        check: { status: "unreachable", code: "broker_timeout", message: "the broker did not answer within 10s; saved without checking — run `account verify` once the broker can be reached" },
      });
      renderEditor();
      await fillOanda();
      fireEvent.click(screen.getByRole("button", { name: "Add account" }));
      const result = await screen.findByTestId("save-result");
      expect(result.getAttribute("data-status")).toBe("unreachable");
      expect(within(result).getByRole("heading", { name: "Saved without verification" })).toBeTruthy();
      expect(screen.getByTestId("unreachable-reason").textContent).toBe("The broker did not answer within 10s.");
      expect(within(result).getByText(/live trading stays locked until a check with OANDA succeeds/)).toBeTruthy();
    });

    it("OANDA: a token reaching several accounts opens the picker; choosing one fills the account id", async () => {
      vi.mocked(api.accountAdd).mockRejectedValueOnce(
        new BrokerdeskError("choose_broker_account", "this OANDA token reaches 2 accounts (101-004-1-001, 101-004-1-002); choose one with --account-id (the app shows a picker)", [
          { field: "brokerAccountId", code: "choose_broker_account", message: "choose which of the token's accounts to add" },
        ]),
      );
      vi.mocked(api.brokerAccounts).mockResolvedValue([
        { accountId: "101-004-1-001", label: "Primary (USD)" },
        { accountId: "101-004-1-002", label: null },
      ]);
      renderEditor();
      await fillOanda("multi-token-0123456789", "");
      fireEvent.click(screen.getByRole("button", { name: "Add account" }));
      const second = await screen.findByRole("radio", { name: /101-004-1-002/ });
      expect(screen.getByRole("radio", { name: /101-004-1-001 Primary \(USD\)/ })).toBeTruthy();
      expect(screen.getByText(CHOOSE_ACCOUNT_MESSAGE, { selector: ".field-error span" })).toBeTruthy();
      expect(vi.mocked(api.brokerAccounts).mock.calls[0]?.[0]).toMatchObject({ broker: "oanda", credentials: { apiKey: "multi-token-0123456789" } });
      fireEvent.click(second);
      expect((screen.getByLabelText(/^v20 account ID/) as HTMLInputElement).value).toBe("101-004-1-002");
      expect(screen.queryByText(CHOOSE_ACCOUNT_MESSAGE, { selector: ".field-error span" })).toBeNull();

      // "Find accounts" with a token reaching one account fills it in at once.
      vi.mocked(api.brokerAccounts).mockResolvedValue([{ accountId: "101-004-9-001", label: null }]);
      fireEvent.change(screen.getByLabelText(/^API access token/), { target: { value: "single-token-0123456789" } });
      fireEvent.click(screen.getByRole("button", { name: "Find accounts" }));
      await waitFor(() => expect((screen.getByLabelText(/^v20 account ID/) as HTMLInputElement).value).toBe("101-004-9-001"));
      expect(screen.getByText(/This token reaches one account/).textContent).toContain("(filled in)");
    });

    it("does not offer Find accounts until a token is typed", async () => {
      renderEditor();
      fireEvent.click(await screen.findByRole("radio", { name: /OANDA/ }));
      expect((screen.getByRole("button", { name: "Find accounts" }) as HTMLButtonElement).disabled).toBe(true);
      fireEvent.change(screen.getByLabelText(/^API access token/), { target: { value: "tok" } });
      expect((screen.getByRole("button", { name: "Find accounts" }) as HTMLButtonElement).disabled).toBe(false);
      fireEvent.click(screen.getByRole("radio", { name: /Alpaca/ }));
      expect(screen.queryByRole("button", { name: "Find accounts" })).toBeNull();
    });
  });
});
