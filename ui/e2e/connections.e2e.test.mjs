// Browser tests of the Dashboard's live connection widgets against the real core's connection
// manager and the simulators: OANDA streaming, Alpaca (orders only: an empty watchlist),
// Tradier refusing its token, Tastytrade with its 15-minute access token. Drops come from the
// simulators' fault switches.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, shotTall, useBrowser, waitText } from "./harness.mjs";
import { connected, connections } from "./scenarios.mjs";

const open = useBrowser();

/** `connections` with Alpaca on orders only (no instrument, so no price stream). */
const ordersOnlyAlpaca = (bd) => connections(bd, { alpaca: { instruments: [] } });

describe("dashboard connections", () => {
  test("shows each account's channels, follows state changes as they happen, and reconnects", async () => {
    const { page, bd, s } = await open(ordersOnlyAlpaca);
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByTestId("stat-total").getByText("4").waitFor();

    const oanda = page.getByRole("article", { name: "FTMO challenge connections" });
    const alpaca = page.getByRole("article", { name: "Alpaca swing connections" });
    const tradier = page.getByRole("article", { name: "Tradier income connections" });
    const orders = oanda.getByTestId("channel-order");
    const prices = oanda.getByTestId("channel-price");
    await orders.getByTestId("conn-state").getByText("Connected").waitFor();
    await prices.getByTestId("conn-state").getByText("Connected").waitFor();
    assert.match(await orders.getByTestId("conn-latency").textContent(), /^\d+ ms$/);
    assert.equal(await alpaca.locator(".conn-channel").count(), 1, "Alpaca has orders only");
    await tradier.getByTestId("conn-state").first().getByText("Failed").waitFor();
    assert.match(await tradier.getByTestId("conn-detail").first().textContent(), /refused the credentials/);

    // The last message's age ticks.
    const ageSel = `[data-testid="conn-${s.ftmo.id}"] [data-testid="channel-order"] [data-testid="conn-age"]`;
    const age = await orders.getByTestId("conn-age").textContent();
    assert.match(age, /^(just now|\d+ s ago)$/);
    await page.waitForFunction(([sel, before]) => document.querySelector(sel)?.textContent !== before, [ageSel, age]);

    // OANDA goes down for a few seconds: the price stream drops, reconnects with backoff (a
    // countdown), then is Connected again by itself.
    await s.oanda.down(4000);
    await prices.getByTestId("conn-state").getByText("Reconnecting").waitFor();
    assert.match(await prices.getByTestId("conn-detail").textContent(), /^attempt \d+, (next try in \d+ s|retrying now)$/);
    await prices.getByText(/^History \(\d+\)$/).click();
    await prices.getByRole("list", { name: "Prices history" }).getByText(/^Reconnecting \(attempt 1, retry after /).waitFor();
    await shotTall(page, "dashboard-connections-reconnecting");
    await prices.getByTestId("conn-state").getByText("Connected").waitFor({ timeout: 40_000 }); // reconnect backoff on a loaded machine
    assert.equal(await prices.getByTestId("conn-detail").count(), 0);

    // Reconnect one account, then all.
    await tradier.getByRole("button", { name: "Reconnect Tradier income" }).click();
    await page.locator(".toast-success").getByText("Reconnecting Tradier income").waitFor();
    assert.deepEqual(await calls(page, "connection_reconnect"), [{ accountId: s.tradier.id }]);
    await page.getByRole("region", { name: "Connections" }).getByRole("button", { name: "Reconnect all" }).click();
    await page.locator(".toast-success").getByText("Reconnecting every connection").waitFor();
    assert.equal((await calls(page, "connections_reconnect_all")).length, 1);
    await connected(bd, [s.ftmo.id, s.tasty.id]);
    await prices.getByTestId("conn-state").getByText("Connected").waitFor();
    // Read once; every change since came as events and stats.
    assert.equal((await calls(page, "connections_snapshot")).length, 1, "the snapshot is read once");
  });

  test("the Prices channel's last message stays current (connection-stats every second) while prices stream", async () => {
    const { page, s } = await open(ordersOnlyAlpaca);
    const prices = page.getByRole("article", { name: "FTMO challenge connections" }).getByTestId("channel-price");
    await prices.getByTestId("conn-state").getByText("Connected").waitFor();
    const ageSel = `[data-testid="conn-${s.ftmo.id}"] [data-testid="channel-price"] [data-testid="conn-age"]`;
    await waitText(page, ageSel, /^(just now|1 s ago)$/);
    // For 8 s, sampled 4 times a second, the age never reaches 2 s, and the counter grows.
    const seen = [];
    const before = (await calls(page, "connections_snapshot")).length;
    for (let i = 0; i < 32; i++) {
      seen.push(await page.locator(ageSel).textContent());
      await page.waitForTimeout(250);
    }
    const stale = seen.filter((t) => !/^(just now|1 s ago)$/.test(t));
    assert.deepEqual(stale, [], `the last message was always under 2 s old (saw ${[...new Set(seen)].join(", ")})`);
    assert.equal((await calls(page, "connections_snapshot")).length, before, "from the stats, not by reading the snapshot again");
    await shotTall(page, "dashboard-connections-streaming");
  });

  test("screenshots in light and dark", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const { page, s } = await open(ordersOnlyAlpaca, { colorScheme });
      await page.getByRole("article", { name: "Tradier income connections" }).getByTestId("conn-state").first().getByText("Failed").waitFor();
      await page.getByRole("article", { name: "FTMO challenge connections" }).getByTestId("channel-price").getByText("Connected").first().waitFor();
      await s.oanda.down(30_000);
      const ftmo = page.getByRole("article", { name: "FTMO challenge connections" });
      await ftmo.getByTestId("channel-price").getByTestId("conn-state").getByText("Reconnecting").waitFor();
      await ftmo.getByTestId("channel-price").getByText(/^History/).click();
      await shotTall(page, `dashboard-connections-${colorScheme}`);
    }
  });
});
