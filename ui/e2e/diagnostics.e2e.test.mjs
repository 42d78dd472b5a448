// Browser tests of the connection widgets' link quality, session countdown and Diagnostics
// panel against the real core and the simulators (`connections`: OANDA, Alpaca, Tradier
// refusing its token, Tastytrade with a 15-minute access token). Drops and slow answers come
// from the simulators' switches; every fact shown is the core's (connection-event at once,
// connection-stats every second).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, shotElement, shotTall, useBrowser, waitText } from "./harness.mjs";
import { DEMO, channelOf, connections, until } from "./scenarios.mjs";

const open = useBrowser();

describe("connection diagnostics", () => {
  test("quality per channel with its rule on hover, and the session's countdown ticking", async () => {
    const { page, bd, s } = await open(connections);
    const alpaca = page.getByRole("article", { name: "Alpaca swing connections" });
    await alpaca.getByTestId("channel-price").getByTestId("conn-state").getByText("Connected").waitFor();
    // Alpaca's price stream is cut once: it reconnects at once, and the drop is counted.
    await s.alpacaSim.cut();
    await until(() => bd.api("connections_snapshot"), (snap) => channelOf(snap, s.alpaca.id, "price")?.dropsLastHour === 1 && channelOf(snap, s.alpaca.id, "price")?.state.state === "connected", { what: "Alpaca's price stream back after a drop", ms: 30_000 });
    const quality = alpaca.getByTestId("channel-price").getByRole("button", { name: "Link quality: Fair" });
    await quality.waitFor();
    assert.equal(await page.getByRole("article", { name: "FTMO challenge connections" }).getByTestId("channel-order").getByTestId("conn-quality").textContent(), "Good");
    assert.equal(await page.getByRole("article", { name: "Tradier income connections" }).getByTestId("conn-quality").first().textContent(), "Down");

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

    // Tastytrade's access token lasts 15 minutes (the connector renews it before then).
    const session = page.getByRole("article", { name: "Tasty options connections" }).getByTestId("channel-order").getByTestId("conn-session");
    const first = await session.textContent();
    assert.match(first, /^Session expires in 1[45]:\d\d$/);
    await page.waitForFunction(
      ([sel, before]) => document.querySelector(sel)?.textContent !== before,
      [`[data-testid="conn-${s.tasty.id}"] [data-testid="channel-order"] [data-testid="conn-session"]`, first],
    );
    assert.equal(await page.getByRole("article", { name: "FTMO challenge connections" }).getByTestId("conn-session").count(), 0, "OANDA has no session");
  });

  test("the Diagnostics panel: the account, its endpoints, every channel's facts and history; live updates; copy", async () => {
    // Order connections checked every second: the slow-broker step sees its round trip at once.
    const { page, bd, s } = await open(connections, { keepaliveMs: 1000 });
    const ftmo = page.getByRole("article", { name: "FTMO challenge connections" });
    await ftmo.getByTestId("channel-price").getByTestId("conn-state").getByText("Connected").waitFor();
    const toggle = ftmo.getByRole("button", { name: "Diagnostics", exact: true });
    await toggle.click();
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    const panel = ftmo.getByRole("region", { name: "Diagnostics for FTMO challenge" });
    await panel.waitFor();

    const account = (key) => panel.getByTestId(`diag-account-${key}`).locator("dd").textContent();
    assert.equal(await account("broker"), "OANDA (oanda)");
    assert.equal(await account("environment"), "fxTrade Practice (practice)");
    assert.equal(await account("brokerAccount"), "101-004-1234567-001");
    assert.equal(await account("mode"), "Live · In drawdown");
    // Its own endpoints (the simulator), not the broker's defaults.
    assert.equal(await account("rest"), `${s.oanda.url}custom`);
    assert.equal(await account("stream"), `${s.oanda.url}custom`);
    const cell = (channel, key) => panel.getByTestId(`diag-${channel}-${key}`).textContent();
    assert.equal(await cell("order", "state"), "Connected");
    assert.match(await cell("order", "latency"), /^\d+ ms$/);
    assert.match(await cell("order", "messages"), /^[\d,]+$/);
    assert.match(await cell("order", "quality"), /^Good — latency \d+ ms, no drop in the last hour$/);
    assert.equal(await cell("order", "session"), "—");
    assert.equal(await panel.getByRole("list", { name: "Orders full history" }).locator("li").count(), 2);

    // While open, the counters move every second (connection-stats), without reading the snapshot again.
    const snapshots = (await calls(page, "connections_snapshot")).length;
    const count = async () => Number((await cell("price", "messages")).replaceAll(",", ""));
    const before = await count();
    await page.waitForFunction(
      ([sel, n]) => Number((document.querySelector(sel)?.textContent ?? "0").replaceAll(",", "")) > n,
      [`[data-testid="conn-${s.ftmo.id}"] [data-testid="diag-price-messages"]`, before],
    );
    assert.equal((await calls(page, "connections_snapshot")).length, snapshots);

    // The widget follows a drop at once: state with its last error, attempt, next retry, quality.
    await s.oanda.down(5000);
    await panel.getByTestId("diag-price-state").getByText(/^Reconnecting — last error: /).waitFor();
    assert.match(await cell("price", "attempt"), /^\d+$/);
    assert.match(await cell("price", "nextRetry"), /^(in \d+ s|now)$/);
    await panel.getByTestId("diag-price-quality").getByText("Poor — reconnecting").waitFor();
    await panel.getByTestId("diag-price-drops").getByText("1").waitFor();
    await panel.getByTestId("diag-price-quality").getByText("Fair — 1 drop in the last hour").waitFor({ timeout: 40_000 }); // reconnect backoff on a loaded machine
    assert.equal(await cell("price", "state"), "Connected");

    // A slow broker: the order channel's keepalive round trip is 1.5 s.
    await s.oanda.delay(1500);
    await panel.getByTestId("diag-order-quality").getByText(/^Poor — latency 1\.\d s$/).waitFor({ timeout: 15_000 });
    await s.oanda.delay(0);

    await panel.getByRole("button", { name: "Copy diagnostics" }).click();
    await panel.getByTestId("diag-copy-status").getByText("Copied. The clipboard is cleared in 30 s.").waitFor();
    // The page named the account; the core wrote the report onto the app's clipboard.
    assert.deepEqual(await calls(page, "clipboard_copy"), [{ item: { kind: "diagnostics", accountId: s.ftmo.id } }]);
    const lines = [
      "Brokerdesk connection diagnostics\nGenerated: 20",
      "\nApp version: 0.1.0\n",
      `\nAccount: FTMO challenge (${s.ftmo.id})\n`,
      `\nREST endpoint: ${s.oanda.url} (custom)\n`,
      "\nCredentials: API access token: stored\n",
      "\n== Orders (order) ==\nState: Connected\n",
      "\nDrops in the last hour: 1\n",
      "\nHistory (",
      "Reconnecting (attempt 1, retry after ",
      "\n== Prices (price) ==\n",
    ];
    assert.equal(await bd.clipboardContains(...lines), true, "the report names the account, its endpoint and both channels");
    for (const secret of [DEMO.oanda.token, "cdef", "••••"]) {
      assert.equal(await bd.clipboardContains(secret), false, "no secret, not even masked");
    }
    await toggle.click();
    await panel.waitFor({ state: "detached" });
  });

  test("screenshots with the panel open, light and dark, at 1280 and 960 px", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const { page, s } = await open(connections, { colorScheme });
      const ftmo = page.getByRole("article", { name: "FTMO challenge connections" });
      await ftmo.getByTestId("channel-price").getByTestId("conn-state").getByText("Connected").waitFor();
      await ftmo.getByRole("button", { name: "Diagnostics", exact: true }).click();
      await ftmo.getByTestId("diagnostics").waitFor();
      await s.alpacaSim.down(30_000);
      await page.getByRole("article", { name: "Alpaca swing connections" }).getByTestId("channel-price").getByTestId("conn-state").getByText("Reconnecting").waitFor();
      const tradier = page.getByRole("article", { name: "Tradier income connections" });
      await tradier.getByRole("button", { name: "Diagnostics", exact: true }).click();
      await tradier.getByTestId("diagnostics").waitFor();
      await waitText(page, `[data-testid="conn-${s.ftmo.id}"] [data-testid="diag-price-lastMessage"]`, /^(just now|1 s ago)$/);
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
        if (colorScheme === "light" && width === 1280) await shotElement(ftmo, "diagnostics", { docs: "diagnostics" });
      }
    }
  });
});
