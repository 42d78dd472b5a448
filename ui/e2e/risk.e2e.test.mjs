// Browser tests of risk against the real core: a built-in paper account set up as an FTMO
// 2-Step challenge on 100,000 shows its loss budgets on the dashboard (measured by the core's
// risk watcher on the paper desk's simulated market), the core's pre-trade checks refuse an
// order over the account's max quantity in the ticket, and the header's kill switch cancels a
// resting order and suspends the account.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, nav, shotElement, shotTall, useBrowser } from "./harness.mjs";
import { accountInput, until } from "./scenarios.mjs";
import { PASSWORD } from "./backend.mjs";

const open = useBrowser();

/** The largest order the challenge account accepts. */
const MAX_QTY = "50000";

/**
 * A password vault with "FTMO paper": the built-in paper broker (its simulated market), FTMO
 * 2-Step's rules (the preset's numbers and clock filled in by the core) on an initial balance of
 * 100,000, at most 50,000 units an order. `buffer`: Brokerdesk acts at this % of a limit;
 * `plain`: a second paper account without loss rules ("Paper desk").
 */
async function ftmoPaper(bd, { buffer = null, plain = false } = {}) {
  await bd.api("vault_init", { password: PASSWORD });
  const { account } = await bd.api("account_add", {
    check: false,
    input: accountInput({
      name: "FTMO paper",
      broker: "paper",
      propFirm: { preset: "ftmo", maxDailyLossPct: null, maxTotalLossPct: null, profitTargetPct: null, initialBalance: "100000", safetyBufferPct: buffer },
      risk: { maxPositionSizePct: null, maxOpenPositions: null, maxQty: MAX_QTY, maxLeverage: null, requireStopLoss: false, maxCorrelation: null },
    }),
  });
  assert.equal(account.propFirm.preset, "ftmo");
  assert.equal(account.propFirm.resetTimezone, "Europe/Prague");
  // The core measures it: its first report has both budgets.
  await until(
    () => bd.api("risk_report", { accountId: account.id }),
    (r) => r.daily !== null && r.total !== null,
    { what: "the account's loss budgets" },
  );
  if (!plain) return { ftmo: account };
  const { account: desk } = await bd.api("account_add", { check: false, input: accountInput({ name: "Paper desk", broker: "paper" }) });
  return { ftmo: account, desk };
}

/** Fills the ticket and submits it. */
async function placeFromTicket(page, { symbol, qty, type = null, price = null }) {
  const ticket = page.getByTestId("order-ticket");
  await ticket.getByLabel("Symbol").fill(symbol);
  await ticket.getByLabel("Quantity").fill(qty);
  if (type) await ticket.getByLabel("Type").selectOption(type);
  if (price) await ticket.getByLabel(/price$/).fill(price);
  await ticket.getByTestId("ticket-submit").click();
}

describe("risk", () => {
  test("an FTMO 2-Step paper account on 100,000 shows today's and the total loss budget on the dashboard", async () => {
    const { page, bd, s } = await open((bd) => ftmoPaper(bd, { buffer: "90", plain: true }));
    const card = page.getByRole("article", { name: "FTMO paper risk" });
    const daily = card.getByTestId("gauge-daily");
    const total = card.getByTestId("gauge-total");
    await daily.getByTestId("gauge-daily-figures").waitFor();
    assert.match(await daily.getByTestId("gauge-daily-figures").textContent(), /^[\d,.]+ of 5,000\.00 USD lost · [\d,.]+ left before Brokerdesk acts$/);
    assert.match(await total.getByTestId("gauge-total-figures").textContent(), /^[\d,.]+ of 10,000\.00 USD lost · [\d,.]+ left before Brokerdesk acts$/);
    assert.match(await total.textContent(), /Firm's floor: equity 90,000\.00/);
    // The safety buffer: Brokerdesk acts at 90 % of each limit, before the firm's floor.
    assert.equal(await total.getByTestId("gauge-total-trigger").textContent(), " · Brokerdesk acts at equity 91,000.00 (90% of the limit)");
    assert.equal(await daily.locator(".gauge-trigger").getAttribute("style"), "left: 90%;");
    assert.equal(await card.getByTestId("mode-pill").textContent(), "PAPER");
    assert.equal(await card.getByTestId("risk-status").getAttribute("data-status"), "active");
    assert.match(await card.textContent(), /FTMO 2-Step · initial balance 100,000\.00/);
    // The firm's clock: midnight in Prague, counting down every second.
    const reset = card.getByTestId("risk-reset");
    assert.match(await reset.textContent(), /Next daily reset in \d/);
    assert.match(await reset.textContent(), /00:00 Europe\/Prague/);
    const before = await card.getByTestId("risk-reset-countdown").textContent();
    await page.waitForFunction(
      ([sel, was]) => document.querySelector(sel)?.textContent !== was,
      [`[data-account="${s.ftmo.id}"] [data-testid="risk-reset-countdown"]`, before],
    );

    // A position: the count moves, and the spread paid shows in the budgets as the core measures it.
    await bd.api("order_place", { accountId: s.ftmo.id, draft: { symbol: "EUR_USD", side: "buy", quantity: "20000", orderType: "market", price: null, timeInForce: "day", stopLoss: null, takeProfit: null, clientOrderId: null } });
    await card.getByTestId("risk-positions").getByText("1").waitFor({ timeout: 10_000 });
    await page.waitForFunction(
      (sel) => !/^0(\.00)?% used$/.test(document.querySelector(sel)?.textContent ?? ""),
      `[data-account="${s.ftmo.id}"] [data-testid="gauge-daily-pct"]`,
      { timeout: 10_000 },
    );
    const report = await bd.api("risk_report", { accountId: s.ftmo.id });
    assert.notEqual(report.daily.used, "0", "the core measures a loss too");
    assert.equal(await daily.getAttribute("data-tone"), "ok");
    // The account without loss rules says so.
    const desk = page.getByRole("article", { name: "Paper desk risk" });
    await desk.getByTestId("risk-none").getByText("No loss limits set").waitFor();
    assert.equal(await desk.getByRole("meter").count(), 0);

    await shotTall(page, "risk-dashboard-light");
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    await shotTall(page, "risk-dashboard-dark");
    await shotElement(card, "risk-card-dark");
  });

  test("an order over the account's max quantity is refused in the ticket with the core's message", async () => {
    const { page, bd, s } = await open(ftmoPaper);
    await nav(page, "Trade");
    await page.getByTestId("trade-header").getByText("FTMO paper").waitFor();
    await placeFromTicket(page, { symbol: "EUR_USD", qty: "60000" });
    const ticket = page.getByTestId("order-ticket");
    await ticket.getByText("max quantity is 50000; this order is 60000").waitFor();
    await shotElement(ticket, "risk-ticket-max-qty");
    // Refused before anything was stored.
    assert.deepEqual(await bd.api("orders_list", { accountId: s.ftmo.id, open: null }), []);
    // Within the limit it goes through.
    await placeFromTicket(page, { symbol: "EUR_USD", qty: MAX_QTY });
    await page.getByTestId("ticket-last").getByText("Filled").waitFor({ timeout: 10_000 });
  });

  test("the kill switch: the dialog, then the report shows the resting order cancelled, and the account is suspended", async () => {
    const { page, bd, s } = await open(ftmoPaper);
    // A buy limit far below the market rests.
    const resting = await bd.api("order_place", {
      accountId: s.ftmo.id,
      draft: { symbol: "EUR_USD", side: "buy", quantity: "10000", orderType: "limit", price: "0.5", timeInForce: "gtc", stopLoss: null, takeProfit: null, clientOrderId: null },
    });
    assert.equal(resting.status, "open");
    const card = page.getByRole("article", { name: "FTMO paper risk" });
    await card.getByTestId("gauge-daily-figures").waitFor();

    await page.getByTestId("app-header").getByRole("button", { name: "Kill switch" }).click();
    const dialog = page.getByRole("dialog", { name: "Stop all trading now?" });
    await dialog.getByText("Every account goes to paper and is suspended.").waitFor();
    await dialog.getByText("Every open order is cancelled, at every broker").waitFor();
    assert.equal(await dialog.getByRole("checkbox", { name: /Also close every live position \(flatten\)/ }).isChecked(), false);
    await shotElement(dialog, "risk-kill-dialog-light");
    await dialog.getByTestId("kill-switch-confirm").click();

    const report = page.getByRole("dialog", { name: "Trading stopped" });
    const account = report.getByRole("region", { name: "FTMO paper: kill switch report" });
    const order = account.getByTestId("kill-order");
    await order.waitFor({ timeout: 15_000 });
    assert.equal(await order.getAttribute("data-outcome"), "cancelled", await order.textContent());
    assert.match(await order.textContent(), /EUR_USD.*Cancelled/);
    assert.equal(await order.getAttribute("data-order-id"), resting.id);
    assert.match(await report.getByTestId("kill-totals").textContent(), /^1 account to paper and suspended · 1 of 1 open order cancelled/);
    await account.getByText("Suspended").waitFor();
    await shotElement(report, "risk-kill-report-light");
    await report.getByTestId("kill-report-close").click();
    await report.waitFor({ state: "detached" });

    // The core agrees, and the dashboard shows it.
    assert.deepEqual(await bd.api("orders_list", { accountId: s.ftmo.id, open: true }), []);
    assert.equal((await bd.api("account_get", { id: s.ftmo.id })).status, "suspended");
    await page.locator(`[data-account="${s.ftmo.id}"] [data-testid="risk-status"][data-status="suspended"]`).waitFor();
    assert.match(await card.getByTestId("risk-status-meaning").textContent(), /^Suspended: No new positions.*Why: kill switch$/);
    await shotTall(page, "risk-dashboard-suspended-light");
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    await shotTall(page, "risk-dashboard-suspended-dark");

    // The kill switch again, in the dark, with flatten chosen: nothing left to cancel, and a
    // paper account has no live position to close.
    await page.getByTestId("app-header").getByRole("button", { name: "Kill switch" }).click();
    const second = page.getByRole("dialog", { name: "Stop all trading now?" });
    await second.getByRole("checkbox", { name: /flatten/ }).check();
    await second.getByText("Every live position is closed").waitFor();
    assert.equal(await second.getByTestId("kill-switch-confirm").textContent(), "Stop trading and close positions");
    await shotElement(second, "risk-kill-dialog-dark");
    await second.getByTestId("kill-switch-confirm").click();
    const again = page.getByRole("dialog", { name: "Trading stopped" });
    await again.getByText("No open orders.").waitFor({ timeout: 15_000 });
    assert.match(await again.getByTestId("kill-totals").textContent(), /0 positions closed$/);
    await shotElement(again, "risk-kill-report-dark");
    assert.deepEqual(await calls(page, "kill_switch"), [{ flatten: false }, { flatten: true }]);
  });
});
