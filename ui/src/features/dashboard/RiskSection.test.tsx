import { act, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type * as Client from "../../api/client";
import { BrokerdeskError } from "../../api/errors";
import type { Account } from "../../bindings/Account";
import type { AccountMoney } from "../../bindings/AccountMoney";
import type { PropFirmRules } from "../../bindings/PropFirmRules";
import type { RiskReport } from "../../bindings/RiskReport";
import { DataProvider } from "../../data/DataProvider";
import { setRiskReport } from "../../data/events";
import { createQueryClient } from "../../data/queryClient";
import { ALPACA, BROKERS, FTMO, PRESETS } from "../../test/fixtures";
import { ALPACA_RISK, FTMO_RISK, budget } from "../../test/risk";
import { Gauge, RiskSection } from "./RiskSection";

vi.mock("../../api/client", async (importOriginal) => ({
  ...(await importOriginal<typeof Client>()),
  brokerCatalog: vi.fn(),
  propFirmPresets: vi.fn(),
  riskReports: vi.fn(),
  accountMoney: vi.fn(),
}));

const api = await import("../../api/client");

/** FTMO 2-Step as the core stores it (the preset's numbers and clock filled in), on 100,000. */
const FTMO_RULES: PropFirmRules = {
  preset: "ftmo",
  maxDailyLossPct: "5",
  maxTotalLossPct: "10",
  profitTargetPct: "10",
  initialBalance: "100000",
  dailyBase: "initial_balance",
  resetTime: "00:00",
  resetTimezone: "Europe/Prague",
  maxLossMode: "static",
  dailyBreach: "terminate",
  safetyBufferPct: null,
  closeOnBreach: true,
  warnLevels: [50, 80, 95],
};
const NO_RULES: PropFirmRules = { ...FTMO_RULES, preset: "none", maxDailyLossPct: null, maxTotalLossPct: null, profitTargetPct: null, initialBalance: null };

const ftmo: Account = { ...FTMO, status: "active", propFirm: FTMO_RULES };
const alpaca: Account = { ...ALPACA, propFirm: NO_RULES };

const money = (accountId: string, fields: Partial<AccountMoney> = {}): AccountMoney => ({
  accountId,
  mode: "paper",
  source: "paper",
  currency: "USD",
  balance: "100000.00",
  equity: "98000.00",
  unrealizedPnl: "-2000.00",
  realizedPnl: "0",
  dayPnl: "-2000.00",
  marginUsed: null,
  positions: [
    { symbol: "EUR_USD", quantity: "100000", averagePrice: "1.1", markPrice: "1.08", unrealizedPnl: "-2000.00" },
    { symbol: "GBP_USD", quantity: "0", averagePrice: null, markPrice: null, unrealizedPnl: null },
  ],
  complete: true,
  at: FTMO_RISK.at,
  ...fields,
});

function renderSection(accounts: Account[], qc = createQueryClient()) {
  const view = render(
    <DataProvider client={qc} live={false}>
      <RiskSection accounts={accounts} />
    </DataProvider>,
  );
  return { ...view, qc };
}

const card = (name: string) => screen.getByRole("article", { name: `${name} risk` });

beforeEach(() => {
  vi.mocked(api.brokerCatalog).mockResolvedValue(BROKERS);
  vi.mocked(api.propFirmPresets).mockResolvedValue(PRESETS);
  vi.mocked(api.riskReports).mockResolvedValue([FTMO_RISK, ALPACA_RISK]);
  vi.mocked(api.accountMoney).mockImplementation(async (id) => (id === "acc_ftmo" ? money(id) : money(id, { equity: "25000.00", dayPnl: "125.5", positions: [] })));
});

afterEach(() => {
  vi.useRealTimers();
  vi.clearAllMocks();
});

describe("the dashboard's risk cards", () => {
  it("an account with loss rules: equity, today's P&L, status and its meaning, mode, positions, both budgets and the reset", async () => {
    renderSection([ftmo, alpaca]);
    const c = card("FTMO challenge");
    await within(c).findByText("98,000.00", { exact: false });
    expect(within(c).getByTestId("risk-day-pnl").textContent).toBe("-2,000.00");
    expect(within(c).getByTestId("risk-day-pnl").className).toContain("pnl-down");
    expect(within(c).getByTestId("risk-positions").textContent).toBe("1");
    expect(within(c).getByTestId("mode-pill").textContent).toBe("PAPER");
    expect(within(c).getByTestId("risk-status-meaning").textContent).toContain("Active: Trading allowed");

    const daily = await within(c).findByTestId("gauge-daily");
    expect(daily.dataset.tone).toBe("ok");
    expect(within(daily).getByTestId("gauge-daily-pct").textContent).toBe("40% used");
    expect(within(daily).getByTestId("gauge-daily-figures").textContent).toBe("2,000.00 of 5,000.00 USD lost · 3,000.00 left before Brokerdesk acts");
    const meter = within(daily).getByRole("meter", { name: "Today's loss budget used" });
    expect(meter.getAttribute("aria-valuenow")).toBe("40");
    expect((meter.querySelector(".gauge-fill") as HTMLElement).style.width).toBe("40%");
    expect(within(daily).queryByTestId("gauge-daily-trigger")).toBeNull();
    const total = within(c).getByTestId("gauge-total");
    expect(within(total).getByTestId("gauge-total-figures").textContent).toBe("2,000.00 of 10,000.00 USD lost · 8,000.00 left before Brokerdesk acts");
    expect(total.textContent).toContain("Firm's floor: equity 90,000.00");

    expect(within(c).getByTestId("risk-reset").textContent).toContain("Europe/Prague");
    expect(c.textContent).toContain("FTMO 2-Step");
    expect(c.textContent).toContain("initial balance 100,000.00");
  });

  it("an account without loss rules says so, and shows no gauges", async () => {
    renderSection([ftmo, alpaca]);
    const c = card("Alpaca swing");
    await within(c).findByText("25,000.00", { exact: false });
    expect(within(c).getByTestId("risk-none").textContent).toContain("No loss limits set");
    expect(within(c).queryByRole("meter")).toBeNull();
    expect(within(c).queryByTestId("risk-reset")).toBeNull();
    expect(within(c).getByTestId("risk-day-pnl").textContent).toBe("+125.50");
  });

  it("the countdown to the firm's reset ticks every second", async () => {
    // Only the clock and the interval are fake: the reads still resolve.
    vi.useFakeTimers({ now: Date.parse("2026-11-21T22:59:50Z"), toFake: ["Date", "setInterval", "clearInterval"] });
    renderSection([ftmo]);
    const countdown = await within(card("FTMO challenge")).findByTestId("risk-reset-countdown");
    expect(countdown.textContent).toBe("00:10");
    act(() => vi.advanceTimersByTime(3000));
    expect(countdown.textContent).toBe("00:07");
    expect(within(card("FTMO challenge")).getByTestId("risk-reset").textContent).toContain("Sun 00:00 Europe/Prague");
  });

  it("a risk-update moves the gauges as it comes, amber from 80 % and red from 95 %", async () => {
    const { qc } = renderSection([ftmo]);
    const c = card("FTMO challenge");
    await within(c).findByTestId("gauge-daily-pct");
    const daily = within(c).getByTestId("gauge-daily");
    const next = (used: number, at: string): RiskReport => ({ ...FTMO_RISK, equity: String(100000 - used), daily: budget(5000, 100000, used), total: budget(10000, 100000, used), at });
    // The cache tells its observers on the next tick, as it does for every event.
    act(() => setRiskReport(qc, next(4100, "2026-11-21T12:00:01Z")));
    await waitFor(() => expect(daily.dataset.tone).toBe("warn"));
    expect(within(daily).getByTestId("gauge-daily-pct").textContent).toBe("82% used");
    expect(within(c).getByTestId("gauge-total").dataset.tone).toBe("ok");
    act(() => setRiskReport(qc, next(4800, "2026-11-21T12:00:02Z")));
    await waitFor(() => expect(daily.dataset.tone).toBe("danger"));
    expect(within(daily).getByTestId("gauge-daily-figures").textContent).toContain("200.00 left before Brokerdesk acts");
  });

  it("with a safety buffer the gauge marks where Brokerdesk acts, before the firm's limit", async () => {
    vi.mocked(api.riskReports).mockResolvedValue([{ ...FTMO_RISK, daily: budget(5000, 100000, 2000, 90) }]);
    renderSection([{ ...ftmo, propFirm: { ...FTMO_RULES, preset: "custom", safetyBufferPct: "90" } }]);
    const c = card("FTMO challenge");
    const trigger = await within(c).findByTestId("gauge-daily-trigger");
    expect(trigger.textContent).toContain("Brokerdesk acts at equity 95,500.00 (90% of the limit)");
    expect((c.querySelector(".gauge-trigger") as HTMLElement).style.left).toBe("90%");
    expect(within(c).getByTestId("gauge-daily-figures").textContent).toContain("2,500.00 left before Brokerdesk acts");
    expect(c.textContent).toContain("Limit: 5% of the initial balance, from the day's starting balance");
  });

  it("budgets that cannot be measured say why, plainly, and the gauges show no numbers", async () => {
    const why = "no fresh quote for an open position: the budgets are not measured, and new risk is refused";
    vi.mocked(api.riskReports).mockResolvedValue([{ ...FTMO_RISK, daily: null, total: null, unmeasured: why }]);
    renderSection([ftmo]);
    const c = card("FTMO challenge");
    const note = await within(c).findByRole("note");
    expect(note.textContent).toContain("Loss budgets not measured");
    expect(note.textContent).toContain("No fresh quote for an open position: the budgets are not measured, and new risk is refused.");
    expect(within(c).getByTestId("gauge-daily").textContent).toContain("Not measured now.");
    expect(within(c).queryByRole("meter")).toBeNull();
  });

  it("a suspended account says what that means and why", async () => {
    const suspended: Account = {
      ...ftmo,
      status: "suspended",
      statusHistory: [...ftmo.statusHistory, { status: "suspended", reason: "kill switch", changedAt: "2026-11-21T12:00:00Z" }],
    };
    renderSection([suspended]);
    const meaning = within(card("FTMO challenge")).getByTestId("risk-status-meaning");
    expect(meaning.textContent).toBe("Suspended: No new positions: only orders that reduce a position are allowed. Why: kill switch");
    expect(within(card("FTMO challenge")).getByTestId("risk-status").dataset.status).toBe("suspended");
  });

  it("a failed read shows the core's message", async () => {
    vi.mocked(api.riskReports).mockRejectedValue(new BrokerdeskError("locked", "the vault is locked"));
    renderSection([ftmo]);
    await screen.findByText("The risk reports could not be read");
    expect(screen.getByText("The vault is locked.")).toBeTruthy();
  });
});

describe("a gauge", () => {
  it("past the limit it is full and red", () => {
    render(<Gauge title="Total loss budget" budget={budget(10000, 100000, 10500)} currency="USD" testid="g" />);
    const g = screen.getByTestId("g");
    expect(g.dataset.tone).toBe("danger");
    expect(screen.getByRole("meter").getAttribute("aria-valuenow")).toBe("100");
    expect(screen.getByTestId("g-figures").textContent).toBe("10,500.00 of 10,000.00 USD lost · 0.00 left before Brokerdesk acts");
  });
});
