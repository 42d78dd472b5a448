// Browser tests of trading against the real core: the built-in paper broker's simulated
// market (orders filled by the paper engine, positions and money moving), and the switch of a
// broker account to live with its dialog and a two-factor code, against the simulators.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nav, shot, shotElement, useBrowser } from "./harness.mjs";
import { DEMO, accountInput, enableTwofa, unlocked, until } from "./scenarios.mjs";
import { PASSWORD } from "./backend.mjs";
import { codeFor } from "./totp.mjs";

const open = useBrowser();

/** A password vault with the built-in paper broker's account ("Paper desk"). */
async function paperDesk(bd) {
  await bd.api("vault_init", { password: PASSWORD });
  const { account } = await bd.api("account_add", { check: false, input: accountInput({ name: "Paper desk", broker: "paper" }) });
  return { paper: account };
}

/** Fills the ticket and submits it. */
async function placeFromTicket(page, { symbol, qty, side = "Buy", type = null, price = null }) {
  const ticket = page.getByTestId("order-ticket");
  await ticket.getByLabel("Symbol").fill(symbol);
  await ticket.getByRole("radiogroup", { name: "Side" }).getByText(side, { exact: true }).click();
  await ticket.getByLabel("Quantity").fill(qty);
  if (type) await ticket.getByLabel("Type").selectOption(type);
  if (price) await ticket.getByLabel(/price$/).fill(price);
  await ticket.getByTestId("ticket-submit").click();
}

describe("trading", () => {
  test("the paper broker: an order from the ticket to a fill, the position and the money move, a resting limit is changed and cancelled", async () => {
    const { page, bd, s } = await open(paperDesk);
    await nav(page, "Trade");
    await page.getByTestId("trade-header").getByText("SIMULATED PRICES").waitFor();
    assert.equal(await page.getByTestId("trade-header").getByTestId("mode-pill").textContent(), "PAPER");
    await page.getByTestId("money-balance").getByText("100,000.00").waitFor();

    // The estimate comes from the core with the simulated quote.
    const ticket = page.getByTestId("order-ticket");
    await ticket.getByLabel("Symbol").fill("EUR_USD");
    await ticket.getByLabel("Quantity").fill("10000");
    await ticket.getByTestId("ticket-estimate").waitFor({ timeout: 10_000 });
    await placeFromTicket(page, { symbol: "EUR_USD", qty: "10000" });
    await page.getByTestId("ticket-last").getByText("Filled").waitFor({ timeout: 10_000 });

    const position = page.getByTestId("positions").getByTestId("position-row");
    await position.getByText("EUR_USD").waitFor();
    assert.equal(await position.locator("td").first().textContent(), "10000");
    const history = page.getByTestId("order-history").getByTestId("order-row");
    await history.first().getByTestId("order-status").getByText("Filled").waitFor();

    // The core agrees: one filled paper order.
    const orders = await bd.api("orders_list", { accountId: s.paper.id, open: null });
    assert.equal(orders.length, 1);
    assert.equal(orders[0].status, "filled");
    assert.equal(orders[0].mode, "paper");

    // A buy limit far below the market rests as an open order; cancel it.
    await placeFromTicket(page, { symbol: "EUR_USD", qty: "5000", type: "limit", price: "0.5" });
    const openRow = page.getByTestId("open-orders").getByTestId("order-row");
    await openRow.getByTestId("order-status").getByText("Open").waitFor();
    await page.evaluate(() => document.querySelector("main")?.scrollTo(0, 0));
    await shot(page, "trade-paper", { docs: "trade-paper" });

    // Change it: the dialog, a new quantity and price, and the row and the core agree.
    await openRow.getByTestId("order-modify").click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("The paper engine changes the order").waitFor();
    await dialog.getByLabel("Quantity").fill("6000");
    await dialog.getByLabel("Limit price").fill("0.6");
    await shot(page, "trade-modify", { docs: "trade-modify" });
    await dialog.getByTestId("modify-confirm").click();
    await dialog.waitFor({ state: "detached" });
    await openRow.getByText("@ 0.6").waitFor({ timeout: 10_000 });
    assert.equal(await openRow.locator("td.num").first().textContent(), "6000");
    const [changed] = await bd.api("orders_list", { accountId: s.paper.id, open: true });
    assert.equal(changed.quantity, "6000");
    assert.equal(changed.limitPrice, "0.6");

    // Cancel it: the core first, then the window (which may be a refresh behind on a busy machine).
    await openRow.getByTestId("order-cancel").click();
    await until(
      () => bd.api("orders_list", { accountId: s.paper.id, open: true }),
      (open) => open.length === 0,
      { what: "the limit order cancelled in the core" },
    );
    await page.getByTestId("open-orders").getByText("No open orders.").waitFor({ timeout: 15_000 });

    // Close the position from its row: flat again.
    await position.getByRole("button", { name: "Close" }).click();
    await page.getByTestId("positions").getByText("No open positions.").waitFor({ timeout: 10_000 });

    // A bad quantity comes back under its field, from the core's validation.
    await placeFromTicket(page, { symbol: "EUR_USD", qty: "-3" });
    await page.getByTestId("order-ticket").locator(".field-invalid").first().waitFor();
  });

  test("switching a broker account to live: refused without 2FA, then the dialog, a code, and LIVE — REAL MONEY everywhere", async () => {
    const { page, bd, s } = await open(async (bd) => {
      const base = await unlocked(bd);
      const tastySim = await bd.sim("tastytrade");
      const { account: tasty } = await bd.api("account_add", {
        check: true,
        input: accountInput({
          name: "Tasty live",
          broker: "tastytrade",
          environment: "live",
          brokerAccountId: DEMO.tastytrade.account,
          restUrl: tastySim.url,
          streamUrl: `${tastySim.url.replace(/^http/, "ws")}/dxlink`,
          credentials: { apiKey: DEMO.tastytrade.refreshToken, apiSecret: DEMO.tastytrade.clientSecret },
          instruments: ["SPY"],
        }),
      });
      return { ...base, tasty, tastySim };
    });
    await page.goto(page.url().replace(/#.*$/, "") + `#/trade/${s.tasty.id}`);
    await page.getByTestId("trade-header").getByText("Tasty live").waitFor();

    // Without two-factor authentication the core refuses, and says why.
    await page.getByTestId("go-live").click();
    let dialog = page.getByRole("dialog", { name: "Trade with real money?" });
    await dialog.getByTestId("go-live-name").fill("Tasty live");
    await dialog.getByTestId("go-live-confirm").click();
    await dialog.getByText("Still in paper mode").waitFor();
    await dialog.getByText("Turn on two-factor authentication").waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();

    const { secret } = await enableTwofa(bd);
    // Enabling locked and unlocked the vault (to close the step-up window): start the window afresh.
    await page.reload();
    await page.getByTestId("trade-header").getByText("Tasty live").waitFor();
    await page.getByTestId("go-live").click();
    dialog = page.getByRole("dialog", { name: "Trade with real money?" });
    // The dialog names the account, the broker and the environment; the name must be typed.
    await dialog.getByText("Tastytrade").waitFor();
    assert.equal(await dialog.getByTestId("go-live-confirm").isDisabled(), true);
    await dialog.getByTestId("go-live-name").fill("Tasty liv");
    assert.equal(await dialog.getByTestId("go-live-confirm").isDisabled(), true);
    await dialog.getByTestId("go-live-name").fill("Tasty live");
    await shotElement(dialog, "trade-go-live-dialog", { docs: "trade-go-live-dialog" });
    await dialog.getByTestId("go-live-confirm").click();
    const stepUp = page.getByRole("dialog", { name: "Confirm with two-factor authentication" });
    await stepUp.getByLabel(/^(6-digit code|Backup code)/).fill(await codeFor(secret));
    await stepUp.getByRole("button", { name: "Confirm" }).click();
    await dialog.waitFor({ state: "detached" });

    const pill = page.getByTestId("trade-header").getByTestId("mode-pill");
    await pill.getByText("LIVE — REAL MONEY").waitFor();
    const account = await bd.api("account_get", { id: s.tasty.id });
    assert.equal(account.mode, "live");
    assert.equal(await page.getByTestId("order-ticket").getByTestId("mode-pill").textContent(), "LIVE — REAL MONEY");
    await nav(page, "Accounts");
    await page.getByText("LIVE — REAL MONEY").first().waitFor();
    await nav(page, "Trade");
    await page.goto(page.url().replace(/#.*$/, "") + `#/trade/${s.tasty.id}`);
    await shot(page, "trade-live", { docs: "trade-live" });

    // Back to paper is immediate.
    await page.getByTestId("go-paper").click();
    await page.getByTestId("go-paper-confirm").click();
    await pill.getByText("PAPER").waitFor();
    assert.equal((await bd.api("account_get", { id: s.tasty.id })).mode, "paper");
  });
});
