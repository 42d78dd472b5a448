// Browser tests of the Dashboard's live connection widgets against the fake backend.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, shotTall, useBrowser } from "./harness.mjs";

const open = useBrowser();

const push = (page, accountId, channel, state) =>
  page.evaluate(([a, c, s]) => window.__brokerdeskMock.pushConnectionEvent(a, c, s), [accountId, channel, state]);

describe("dashboard connections", () => {
  test("shows each account's channels, follows pushed state changes, and reconnects", async () => {
    const page = await open("connections");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    assert.equal(await page.getByTestId("stat-total").textContent(), "4", "the summary cards stay");

    const oanda = page.getByRole("article", { name: "FTMO challenge connections" });
    const alpaca = page.getByRole("article", { name: "Alpaca swing connections" });
    const tradier = page.getByRole("article", { name: "Tradier income connections" });
    const orders = oanda.getByTestId("channel-order");
    await orders.getByTestId("conn-state").getByText("Connected").waitFor();
    assert.equal(await oanda.getByTestId("channel-price").getByTestId("conn-state").textContent(), "Connected");
    assert.equal(await orders.getByTestId("conn-latency").textContent(), "38 ms");
    assert.equal(await alpaca.locator(".conn-channel").count(), 1, "Alpaca has orders only");
    await tradier.getByTestId("conn-state").getByText("Failed").waitFor();
    assert.match(await tradier.getByTestId("conn-detail").textContent(), /rejected the credentials/);

    // The last message's age ticks.
    const age = await orders.getByTestId("conn-age").textContent();
    assert.match(age, /^\d+ s ago$/);
    await page.waitForFunction(
      ([sel, before]) => document.querySelector(sel)?.textContent !== before,
      ['[data-testid="conn-acc_ftmo"] [data-testid="channel-order"] [data-testid="conn-age"]', age],
    );

    // Connected → Reconnecting (with a countdown) → Connected.
    await push(page, "acc_ftmo", "order", { state: "reconnecting", attempt: 2, nextRetryMs: 5000, lastError: "stream closed by peer" });
    await orders.getByTestId("conn-state").getByText("Reconnecting").waitFor();
    const detail = orders.getByTestId("conn-detail");
    assert.match(await detail.textContent(), /^attempt 2, next try in [45] s$/);
    await page.waitForFunction(
      (sel) => /next try in [1-3] s/.test(document.querySelector(sel)?.textContent ?? ""),
      '[data-testid="conn-acc_ftmo"] [data-testid="channel-order"] [data-testid="conn-detail"]',
    );
    await orders.getByText(/^History \(3\)$/).click();
    await orders.getByRole("list", { name: "Orders history" }).getByText(/Reconnecting \(attempt 2.*stream closed by peer/).waitFor();
    await shotTall(page, "dashboard-connections-reconnecting");

    await push(page, "acc_ftmo", "order", { state: "connected" });
    await orders.getByTestId("conn-state").getByText("Connected").waitFor();
    assert.equal(await orders.getByTestId("conn-detail").count(), 0);
    await orders.getByText(/^History \(4\)$/).waitFor();

    // Reconnect one account, then all.
    await tradier.getByRole("button", { name: "Reconnect Tradier income" }).click();
    await page.locator(".toast-success").getByText("Reconnecting Tradier income").waitFor();
    assert.deepEqual(await calls(page, "connection_reconnect"), [{ accountId: "acc_tradier" }]);
    await page.getByRole("region", { name: "Connections" }).getByRole("button", { name: "Reconnect all" }).click();
    await page.locator(".toast-success").getByText("Reconnecting every connection").waitFor();
    assert.equal((await calls(page, "connections_reconnect_all")).length, 1);
    assert.ok((await calls(page, "connections_snapshot")).length >= 2, "events refresh the snapshot");
  });

  test("screenshots in light and dark", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const page = await open("connections", { colorScheme });
      await page.getByRole("article", { name: "Tradier income connections" }).getByTestId("conn-state").getByText("Failed").waitFor();
      await push(page, "acc_alpaca", "order", { state: "reconnecting", attempt: 1, nextRetryMs: 30000, lastError: "heartbeat timeout" });
      await page.getByRole("article", { name: "Alpaca swing connections" }).getByTestId("conn-state").getByText("Reconnecting").waitFor();
      await page.getByRole("article", { name: "FTMO challenge connections" }).getByTestId("channel-price").getByText(/^History/).click();
      await shotTall(page, `dashboard-connections-${colorScheme}`);
      await page.context().close();
    }
  });
});
