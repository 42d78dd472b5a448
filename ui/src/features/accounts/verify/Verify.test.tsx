import { fireEvent, render, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type * as Client from "../../../api/client";
import { BrokerdeskError, Code } from "../../../api/errors";
import type { AccountSummary } from "../../../bindings/AccountSummary";
import { ACCOUNTS, BROKERS, PRESETS } from "../../../test/fixtures";
import { TestData } from "../../../test/render";
import { ToastProvider } from "../../../state/ToastProvider";
import { AccountsPage } from "../AccountsPage";
import { SaveResult } from "../form/SaveResult";

vi.mock("../../../api/client", async (importOriginal) => ({
  ...(await importOriginal<typeof Client>()),
  brokerCatalog: vi.fn(),
  propFirmPresets: vi.fn(),
  accountsList: vi.fn(),
  accountVerify: vi.fn(),
}));

const api = await import("../../../api/client");

const accounts = ACCOUNTS;
const ftmo = accounts.find((a) => a.id === "acc_ftmo")!;
const paper = { ...ftmo, id: "acc_paper", name: "Sim", broker: "paper" as const, credentials: [] };
const SUMMARY: AccountSummary = {
  accountId: "101-004-2718281-001",
  accountLast4: "-001",
  accountType: "margin",
  currency: "USD",
  balance: "100000",
  equity: "100412.57",
  buyingPower: "97240.18",
};

/** A promise to settle by hand, to see the state while the broker is asked. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, ko) => {
    resolve = ok;
    reject = ko;
  });
  return { promise, resolve, reject };
}

beforeEach(() => {
  vi.mocked(api.brokerCatalog).mockResolvedValue(BROKERS);
  vi.mocked(api.propFirmPresets).mockResolvedValue(PRESETS);
  vi.mocked(api.accountsList).mockResolvedValue([...accounts, paper]);
});

function renderAccounts() {
  return render(
    <ToastProvider>
      <TestData>
        <AccountsPage />
      </TestData>
    </ToastProvider>,
  );
}

describe("Verify with broker (Accounts)", () => {
  it("is offered for broker accounts only, checks at once, and shows what the broker reports", async () => {
    const answer = deferred<AccountSummary>();
    vi.mocked(api.accountVerify).mockReturnValue(answer.promise);
    renderAccounts();
    const verify = await screen.findByRole("button", { name: "Verify FTMO challenge with OANDA" });
    expect(screen.getByRole("button", { name: "Verify Alpaca swing with Alpaca" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: /^Verify Sim/ })).toBeNull();

    fireEvent.click(verify);
    const dialog = screen.getByRole("dialog", { name: "Verify “FTMO challenge” with OANDA" });
    expect(within(dialog).getByTestId("verify-progress").textContent).toBe("Checking with OANDA…");
    expect(api.accountVerify).toHaveBeenCalledTimes(1);
    expect(api.accountVerify).toHaveBeenCalledWith("acc_ftmo");

    answer.resolve(SUMMARY);
    const result = await within(dialog).findByTestId("verify-result");
    expect(result.dataset.status).toBe("verified");
    expect(within(result).getByText("OANDA accepted the stored credentials")).toBeTruthy();
    expect(within(result).getByTestId("verify-live").textContent).toMatch(/lets the account switch to live trading until /);
    const field = (id: string) => within(result).getByTestId(`summary-${id}`).textContent;
    expect([field("account"), field("type"), field("currency"), field("balance"), field("equity"), field("buying-power")]).toEqual([
      "••••-001",
      "Margin",
      "USD",
      "$100,000.00",
      "$100,412.57",
      "$97,240.18",
    ]);
    expect(within(dialog).queryByRole("button", { name: "Try again" })).toBeNull();
    fireEvent.click(within(dialog).getByRole("button", { name: "Close" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(api.accountVerify).toHaveBeenCalledTimes(1);
  });

  it("a refusal: the broker's reason and what to do, no retry", async () => {
    vi.mocked(api.accountVerify).mockRejectedValue(
      new BrokerdeskError("broker_auth", "the broker refused the credentials: HTTP 401: Insufficient authorization to perform request."),
    );
    renderAccounts();
    fireEvent.click(await screen.findByRole("button", { name: "Verify FTMO challenge with OANDA" }));
    const dialog = screen.getByRole("dialog");
    const result = await within(dialog).findByTestId("verify-result");
    expect(result.dataset).toMatchObject({ status: "failed", code: "broker_auth" });
    expect(within(result).getByRole("alert").textContent).toContain("OANDA refused the stored credentials");
    expect(within(result).getByTestId("verify-reason").textContent).toBe("HTTP 401: Insufficient authorization to perform request.");
    expect(result.textContent).toContain("Edit the account and enter its credentials again");
    expect(result.textContent).toContain("Live trading stays locked until a check with OANDA succeeds.");
    expect(within(dialog).queryByRole("button", { name: "Try again" })).toBeNull();
    expect(within(dialog).getByRole("link", { name: "Edit account" }).getAttribute("href")).toBe("#/accounts/acc_ftmo");
  });

  it("the rate limit says to wait", async () => {
    vi.mocked(api.accountVerify).mockRejectedValue(
      new BrokerdeskError("verify_rate_limited", "FTMO challenge was checked 5 times in the last minute; wait a minute before checking again"),
    );
    renderAccounts();
    fireEvent.click(await screen.findByRole("button", { name: "Verify FTMO challenge with OANDA" }));
    const result = await screen.findByTestId("verify-result");
    expect(result.textContent).toContain("Too many checks in the last minute");
    expect(within(result).getByTestId("verify-reason").textContent).toBe(
      "FTMO challenge was checked 5 times in the last minute; wait a minute before checking again.",
    );
    expect(screen.queryByRole("button", { name: "Try again" })).toBeNull();
  });

  it("an unreachable broker: a warning and Try again, which can succeed", async () => {
    vi.mocked(api.accountVerify)
      .mockRejectedValueOnce(new BrokerdeskError("broker_timeout", "timed out: the broker did not answer within 10 s"))
      .mockResolvedValueOnce(SUMMARY);
    renderAccounts();
    fireEvent.click(await screen.findByRole("button", { name: "Verify FTMO challenge with OANDA" }));
    const dialog = screen.getByRole("dialog");
    const failed = await within(dialog).findByTestId("verify-result");
    expect(failed.dataset.code).toBe("broker_timeout");
    expect(failed.textContent).toContain("OANDA did not answer in time");
    expect(within(failed).queryByRole("alert")).toBeNull(); // a warning, not a refusal
    fireEvent.click(within(dialog).getByRole("button", { name: "Try again" }));
    expect(await within(dialog).findByText("OANDA accepted the stored credentials")).toBeTruthy();
    expect(api.accountVerify).toHaveBeenCalledTimes(2);
  });
});

describe("Verify with broker (after a save the broker could not check)", () => {
  const saved = {
    account: ftmo,
    check: {
      status: "unreachable" as const,
      code: Code.BrokerNetwork,
      message: "network error: could not connect to offline.invalid (connection refused); saved without checking — run `account verify` once the broker can be reached",
    },
  };
  const renderResult = () =>
    render(
      <ToastProvider>
        <SaveResult saved={saved} broker="OANDA" editing={false} backLink={<a href="#/accounts">Accounts</a>} />
      </ToastProvider>,
    );

  it("verifies the saved account: the heading turns to verified and the summary shows", async () => {
    const answer = deferred<AccountSummary>();
    vi.mocked(api.accountVerify).mockReturnValue(answer.promise);
    renderResult();
    const card = screen.getByTestId("save-result");
    expect(card.dataset.status).toBe("unreachable");
    expect(card.textContent).toContain("verify once OANDA can be reached");
    fireEvent.click(within(card).getByRole("button", { name: "Verify with OANDA" }));
    const busy = within(card).getByRole("button", { name: "Checking with OANDA…" });
    expect(busy).toHaveProperty("disabled", true);
    expect(api.accountVerify).toHaveBeenCalledWith("acc_ftmo");

    answer.resolve(SUMMARY);
    expect(await within(card).findByRole("heading", { name: "Verified with OANDA" })).toBeTruthy();
    expect(card.dataset.status).toBe("verified");
    expect(within(card).getByTestId("verified-later").textContent).toMatch(/it has now accepted the stored credentials, which lets the account switch to live trading until /);
    expect(within(card).getByTestId("summary-balance").textContent).toBe("$100,000.00");
    expect(within(card).queryByRole("button", { name: /Verify with OANDA/ })).toBeNull();
    expect(within(card).queryByTestId("unreachable-reason")).toBeNull();
  });

  it("still unreachable: says so and offers to try again", async () => {
    vi.mocked(api.accountVerify).mockRejectedValue(new BrokerdeskError("broker_network", "network error: could not connect to offline.invalid (connection refused)"));
    renderResult();
    const card = screen.getByTestId("save-result");
    fireEvent.click(within(card).getByRole("button", { name: "Verify with OANDA" }));
    const result = await within(card).findByTestId("verify-result");
    expect(result.textContent).toContain("OANDA could not be reached");
    expect(within(result).getByTestId("verify-reason").textContent).toBe("Network error: could not connect to offline.invalid (connection refused).");
    expect(within(card).getByRole("heading", { name: "Saved without verification" })).toBeTruthy();
    expect(within(card).getByRole("button", { name: "Try again with OANDA" })).toBeTruthy();
  });
});
