import { render, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type * as Client from "../../api/client";
import { ALPACA, FTMO } from "../../test/fixtures";
import { TestData } from "../../test/render";
import { ALPACA_RISK, FTMO_RISK, budget } from "../../test/risk";
import { RiskBudgetsCard } from "./RiskBudgetsCard";

vi.mock("../../api/client", async (importOriginal) => ({ ...(await importOriginal<typeof Client>()), riskReport: vi.fn() }));
const api = await import("../../api/client");

beforeEach(() => vi.mocked(api.riskReport).mockReset());

const renderCard = (account = FTMO) =>
  render(
    <TestData>
      <RiskBudgetsCard account={account} />
    </TestData>,
  );

describe("RiskBudgetsCard", () => {
  it("says there is no budget without loss rules", async () => {
    vi.mocked(api.riskReport).mockResolvedValue(ALPACA_RISK);
    renderCard(ALPACA);
    expect((await screen.findByTestId("risk-no-rules")).textContent).toMatch(/^No loss rules/);
    expect(screen.queryByTestId("budget-daily")).toBeNull();
  });

  it("says why the budgets are not measured", async () => {
    vi.mocked(api.riskReport).mockResolvedValue({
      ...FTMO_RISK,
      daily: null,
      total: null,
      unmeasured: "no fresh quote for an open position: the budgets are not measured, and new risk is refused",
    });
    renderCard();
    const note = await screen.findByRole("note");
    expect(note.textContent).toContain("Not measured right now");
    expect(note.textContent).toContain("No fresh quote for an open position: the budgets are not measured, and new risk is refused.");
    expect(screen.getByTestId("risk-next-reset")).toBeTruthy();
  });

  it("says when nothing more may be lost today, and marks a safety buffer", async () => {
    vi.mocked(api.riskReport).mockResolvedValue({ ...FTMO_RISK, daily: budget(5000, 100000, 4600, 90), total: budget(10000, 100000, 4600, 90) });
    renderCard();
    const daily = await screen.findByTestId("budget-daily");
    expect(within(daily).getByTestId("budget-daily-headline").textContent).toBe("No more loss allowed today");
    expect(daily.className).toContain("is-exhausted");
    expect(within(daily).getByRole("meter").getAttribute("aria-valuenow")).toBe("92");
    expect(daily.querySelector(".budget-meter-mark")).not.toBeNull();
    expect(within(daily).getByText(/the firm's floor is \$95,000\.00/)).toBeTruthy();
    expect(screen.getByTestId("budget-total-headline").textContent).toBe("You may lose $4,400.00 more in total");
  });
});
