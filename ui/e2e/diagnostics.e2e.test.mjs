// Browser tests of the connection widgets' link quality, session countdown and Diagnostics panel
// against the fake backend (`connections`: OANDA good, Alpaca fair after a drop, Tradier failed,
// Tastytrade with a 15-minute access token).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, shotTall, useBrowser } from "./harness.mjs";

const open = useBrowser();

const push = (page, accountId, channel, state) =>
  page.evaluate(([a, c, s]) => window.__brokerdeskMock.pushConnectionEvent(a, c, s), [accountId, channel, state]);
const clipboard = (page) => page.evaluate(() => window.__brokerdeskMock.clipboard());

describe("connection diagnostics", () => {
  test("quality per channel with its rule on hover, and the session's countdown ticking", async () => {
    const page = await open("connections", { query: "prices=off" });
    const alpaca = page.getByRole("article", { name: "Alpaca swing connections" });
    const quality = alpaca.getByRole("button", { name: "Link quality: Fair" });
    await quality.waitFor();
    assert.equal(await page.getByRole("article", { name: "FTMO challenge connections" }).getByTestId("channel-order").getByTestId("conn-quality").textContent(), "Good");
    assert.equal(await page.getByRole("article", { name: "Tradier income connections" }).getByTestId("conn-quality").textContent(), "Down");

    await quality.hover();
    const tip = alpaca.getByRole("tooltip");
    await tip.getByText("Fair: 1 drop in the last hour.").waitFor();
    assert.match(await tip.textContent(), /Poor — reconnecting, over 1 s latency, or 3 or more drops in the last hour/);
    await page.mouse.move(0, 0);
    await tip.waitFor({ state: "detached" });
    // Keyboard too; Escape closes it.
    await quality.focus();
    await tip.waitFor();
    await page.keyboard.press("Escape");
    await tip.waitFor({ state: "detached" });

    const session = page.getByRole("article", { name: "Tasty options connections" }).getByTestId("channel-order").getByTestId("conn-session");
    const first = await session.textContent();
    assert.match(first, /^Session expires in 12:3\d$/);
    await page.waitForFunction(
      ([sel, before]) => document.querySelector(sel)?.textContent !== before,
      ['[data-testid="conn-acc_tasty"] [data-testid="channel-order"] [data-testid="conn-session"]', first],
    );
    assert.equal(await page.getByRole("article", { name: "FTMO challenge connections" }).getByTestId("conn-session").count(), 0, "OANDA has no session");
  });

  test("the Diagnostics panel: the account, its endpoints, every channel's facts and history; live updates; copy", async () => {
    const page = await open("connections", { query: "prices=off" });
    const ftmo = page.getByRole("article", { name: "FTMO challenge connections" });
    const toggle = ftmo.getByRole("button", { name: "Diagnostics", exact: true });
    await toggle.click();
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    const panel = ftmo.getByRole("region", { name: "Diagnostics for FTMO challenge" });
    await panel.waitFor();

    const account = (key) => panel.getByTestId(`diag-account-${key}`).locator("dd").textContent();
    assert.equal(await account("broker"), "OANDA (oanda)");
    assert.equal(await account("environment"), "Practice (practice)");
    assert.equal(await account("brokerAccount"), "101-004-2718281-001");
    assert.equal(await account("mode"), "Live · In drawdown");
    assert.equal(await account("rest"), "https://api-fxpractice.oanda.combroker default");
    assert.equal(await account("stream"), "https://stream-fxpractice.oanda.combroker default");
    const cell = (channel, key) => panel.getByTestId(`diag-${channel}-${key}`).textContent();
    assert.equal(await cell("order", "state"), "Connected");
    assert.equal(await cell("order", "latency"), "38 ms");
    assert.equal(await cell("order", "messages"), "412");
    assert.equal(await cell("price", "messages"), "18,204");
    assert.equal(await cell("order", "quality"), "Good — latency 38 ms, no drop in the last hour");
    assert.equal(await cell("order", "session"), "—");
    assert.equal(await panel.getByRole("list", { name: "Orders full history" }).locator("li").count(), 2);

    // The widget follows a drop at once: state with its last error, attempt, next retry, quality.
    await push(page, "acc_ftmo", "order", { state: "reconnecting", attempt: 2, nextRetryMs: 8000, lastError: "stream closed by peer" });
    await panel.getByTestId("diag-order-state").getByText("Reconnecting — last error: stream closed by peer").waitFor();
    assert.equal(await cell("order", "attempt"), "2");
    assert.match(await cell("order", "nextRetry"), /^in [78] s$/);
    await panel.getByTestId("diag-order-quality").getByText("Poor — reconnecting").waitFor();
    await panel.getByTestId("diag-order-drops").getByText("1").waitFor();
    assert.equal(await panel.getByRole("list", { name: "Orders full history" }).locator("li").count(), 3);
    await push(page, "acc_ftmo", "order", { state: "connected" });
    await panel.getByTestId("diag-order-quality").getByText("Fair — 1 drop in the last hour").waitFor();

    // While open, the snapshot is read again (counters move without events).
    const before = (await calls(page, "connections_snapshot")).length;
    await page.evaluate(() => window.__brokerdeskMock.patchChannel("acc_ftmo", "price", { messages: 20000, latencyMs: 1450 }));
    await panel.getByTestId("diag-price-messages").getByText("20,000").waitFor({ timeout: 8000 });
    assert.equal(await cell("price", "quality"), "Poor — latency 1.5 s");
    assert.ok((await calls(page, "connections_snapshot")).length > before);

    await panel.getByRole("button", { name: "Copy diagnostics" }).click();
    await panel.getByTestId("diag-copy-status").getByText("Copied. The clipboard is cleared in 30 s.").waitFor();
    const report = await clipboard(page);
    assert.match(report, /^Brokerdesk connection diagnostics\nGenerated: \d{4}-/);
    assert.match(report, /\nApp version: 0\.1\.0\n/);
    assert.match(report, /\nAccount: FTMO challenge \(acc_ftmo\)\n/);
    assert.match(report, /\nREST endpoint: https:\/\/api-fxpractice\.oanda\.com \(broker default\)\n/);
    assert.match(report, /\nCredentials: Personal access token: stored\n/);
    assert.match(report, /\n== Orders \(order\) ==\nState: Connected\n/);
    assert.match(report, /\nDrops in the last hour: 1\n/);
    assert.match(report, /\nHistory \(4, oldest first\):\n/);
    assert.match(report, /Reconnecting \(attempt 2, retry after 8 s\): stream closed by peer/);
    assert.match(report, /\n== Prices \(price\) ==\n/);
    assert.ok(!report.includes("0123456789abcdef") && !report.includes("9f3a") && !report.includes("••••"), "no secret, not even masked");

    await toggle.click();
    await panel.waitFor({ state: "detached" });
  });

  test("screenshots with the panel open, light and dark, at 1280 and 960 px", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const page = await open("connections", { colorScheme, query: "prices=off" });
      const ftmo = page.getByRole("article", { name: "FTMO challenge connections" });
      await ftmo.getByRole("button", { name: "Diagnostics", exact: true }).click();
      await ftmo.getByTestId("diagnostics").waitFor();
      await push(page, "acc_alpaca", "order", { state: "reconnecting", attempt: 1, nextRetryMs: 30000, lastError: "heartbeat timeout" });
      const tradier = page.getByRole("article", { name: "Tradier income connections" });
      await tradier.getByRole("button", { name: "Diagnostics", exact: true }).click();
      await tradier.getByTestId("diagnostics").waitFor();
      // Nothing sticks out of its card at either width.
      for (const width of [1280, 960]) {
        await page.setViewportSize({ width, height: 800 });
        const overflow = await page.evaluate(() =>
          [...document.querySelectorAll('[data-testid="diagnostics"] *')]
            .filter((el) => {
              const card = el.closest(".conn-card").getBoundingClientRect();
              const r = el.getBoundingClientRect();
              return r.width > 0 && (r.right > card.right + 0.5 || r.left < card.left - 0.5);
            })
            .map((el) => el.outerHTML.slice(0, 80)),
        );
        assert.deepEqual(overflow, [], `nothing overflows its card at ${width} px`);
        await shotTall(page, `dashboard-diagnostics-${colorScheme}-${width}`);
      }
      await page.context().close();
    }
  });
});
