// Browser tests of the Dashboard's watchlists against the fake backend's price feed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, nav, shotTall, useBrowser } from "./harness.mjs";

const open = useBrowser();

const mock = (page, fn, args) => page.evaluate(fn, args);
const pushPrices = (page, accountId, ticks) => mock(page, ([a, t]) => window.__brokerdeskMock.prices.push(a, t), [accountId, ticks]);
const pushState = (page, accountId, channel, state) =>
  mock(page, ([a, c, s]) => window.__brokerdeskMock.pushConnectionEvent(a, c, s), [accountId, channel, state]);

const ROW = (account, symbol) => `[data-testid="wl-${account}"] [data-testid="wl-row-${symbol}"]`;
const cellText = (page, account, symbol, cell) => page.locator(`${ROW(account, symbol)} [data-testid="wl-${cell}"]`).textContent();
const waitCell = (page, account, symbol, cell, text) =>
  page.waitForFunction(([sel, t]) => document.querySelector(sel)?.textContent === t, [`${ROW(account, symbol)} [data-testid="wl-${cell}"]`, text]);

describe("watchlists", () => {
  test("prices update field by field, with change since the first price and a flash on every move", async () => {
    // The random feed is off: every price comes from the test.
    const page = await open("connections", { reducedMotion: "no-preference", query: "prices=off" });
    const card = page.getByRole("article", { name: "FTMO challenge watchlist" });
    await card.getByTestId("wl-feed").getByText("Live").waitFor();
    assert.deepEqual(await card.locator("tbody th").allTextContents(), ["EUR_USD", "GBP_USD", "XAU_USD"]);
    assert.equal(await cellText(page, "acc_ftmo", "EUR_USD", "bid"), "—");

    await pushPrices(page, "acc_ftmo", [{ instrument: "EUR_USD", bid: "1.08412", ask: "1.08425" }, { instrument: "XAU_USD", bid: "2650.1", ask: "2650.45" }]);
    await waitCell(page, "acc_ftmo", "EUR_USD", "bid", "1.08412");
    assert.equal(await cellText(page, "acc_ftmo", "EUR_USD", "ask"), "1.08425");
    assert.equal(await cellText(page, "acc_ftmo", "EUR_USD", "spread"), "0.00013");
    assert.equal(await cellText(page, "acc_ftmo", "EUR_USD", "change"), "0.000000.00%");
    // Two decimals for gold, as it is quoted (2650.1 was sent without its trailing zero).
    assert.equal(await cellText(page, "acc_ftmo", "XAU_USD", "bid"), "2,650.10");

    // Up: the mid moved up, the row flashes green and the change is positive.
    await pushPrices(page, "acc_ftmo", [{ instrument: "EUR_USD", bid: "1.0843", ask: "1.08441" }]);
    await waitCell(page, "acc_ftmo", "EUR_USD", "bid", "1.08430");
    const row = page.locator(ROW("acc_ftmo", "EUR_USD"));
    assert.equal(await row.getAttribute("data-tick"), "up");
    assert.match(await row.getByTestId("wl-bid").getAttribute("class"), /wl-flash-up-1/);
    assert.match(await row.getByTestId("wl-bid").evaluate((el) => getComputedStyle(el).animationName), /^wl-flash-up-1$/);
    assert.equal(await cellText(page, "acc_ftmo", "EUR_USD", "change"), "+0.00017+0.02%");
    assert.match(await row.getByTestId("wl-change").getAttribute("class"), /is-up/);

    // A partial update (ask only) keeps the bid; the mid moved down: a red flash.
    await pushPrices(page, "acc_ftmo", [{ instrument: "EUR_USD", ask: "1.08401" }]);
    await waitCell(page, "acc_ftmo", "EUR_USD", "ask", "1.08401");
    assert.equal(await cellText(page, "acc_ftmo", "EUR_USD", "bid"), "1.08430", "the bid is kept");
    assert.equal(await row.getAttribute("data-tick"), "down");
    assert.match(await row.getByTestId("wl-bid").getAttribute("class"), /wl-flash-down-0/);
    assert.equal(await row.getAttribute("data-moves"), "2");
    // The sparkline has points to draw.
    assert.ok(Number(await row.locator("svg.wl-spark").getAttribute("data-points")) >= 1);
  });

  test("the flash is off with reduced motion; the price's colour still shows the direction", async () => {
    const page = await open("connections", { query: "prices=off" });
    await page.getByRole("article", { name: "FTMO challenge watchlist" }).getByTestId("wl-feed").getByText("Live").waitFor();
    await pushPrices(page, "acc_ftmo", [{ instrument: "GBP_USD", bid: "1.2647", ask: "1.26481" }]);
    await waitCell(page, "acc_ftmo", "GBP_USD", "bid", "1.26470");
    await pushPrices(page, "acc_ftmo", [{ instrument: "GBP_USD", bid: "1.265", ask: "1.26511" }]);
    await waitCell(page, "acc_ftmo", "GBP_USD", "bid", "1.26500");
    const bid = page.locator(`${ROW("acc_ftmo", "GBP_USD")} [data-testid="wl-bid"]`);
    assert.equal(await bid.evaluate((el) => getComputedStyle(el).animationName), "none");
    assert.match(await bid.getAttribute("class"), /is-up/);
  });

  test("add with autocomplete (debounced, keyboard), remove, persisted with watchlist_set", async () => {
    const page = await open("connections");
    const card = page.getByRole("article", { name: "FTMO challenge watchlist" });
    await card.getByTestId("wl-feed").getByText("Live").waitFor();
    const box = page.getByRole("combobox", { name: "Add instrument to FTMO challenge" });
    await box.click();
    await page.keyboard.type("jpy", { delay: 40 });
    const list = page.getByRole("listbox", { name: "Instruments to add to FTMO challenge" });
    await list.getByRole("option", { name: /USD_JPY/ }).waitFor();
    assert.deepEqual(await calls(page, "instruments_search"), [{ id: "acc_ftmo", query: "jpy" }], "one search once typing paused");
    assert.deepEqual(await list.getByRole("option").allTextContents(), ["USD_JPYUSD/JPYcurrency", "EUR_JPYEUR/JPYcurrency", "GBP_JPYGBP/JPYcurrency"]);
    assert.equal(await box.getAttribute("aria-expanded"), "true");
    await page.keyboard.press("ArrowDown");
    assert.equal(await list.getByRole("option", { selected: true }).textContent(), "EUR_JPYEUR/JPYcurrency");
    assert.equal(await box.getAttribute("aria-activedescendant"), await list.getByRole("option", { selected: true }).getAttribute("id"));
    await shotTall(page, "dashboard-watchlist-search");
    await page.keyboard.press("Enter");

    await card.getByTestId("wl-row-EUR_JPY").waitFor();
    assert.deepEqual(await calls(page, "watchlist_set"), [{ id: "acc_ftmo", instruments: ["EUR_USD", "GBP_USD", "XAU_USD", "EUR_JPY"] }]);
    assert.equal(await box.inputValue(), "", "ready for the next one");
    // The new instrument streams.
    await page.waitForFunction((sel) => /^\d+\.\d{3}$/.test(document.querySelector(sel)?.textContent ?? ""), `${ROW("acc_ftmo", "EUR_JPY")} [data-testid="wl-bid"]`);

    // Already on the list: offered, but marked.
    await box.fill("eur_u");
    await list.getByRole("option", { name: /EUR_USD/ }).waitFor();
    assert.equal(await list.getByRole("option", { name: /EUR_USD/ }).getAttribute("aria-disabled"), "true");
    await page.keyboard.press("Escape");
    assert.equal(await box.getAttribute("aria-expanded"), "false");
    await page.keyboard.press("Escape");
    assert.equal(await box.inputValue(), "");

    await card.getByRole("button", { name: "Remove GBP_USD from FTMO challenge" }).click();
    await card.getByTestId("wl-row-GBP_USD").waitFor({ state: "detached" });
    assert.deepEqual((await calls(page, "watchlist_set")).at(-1), { id: "acc_ftmo", instruments: ["EUR_USD", "XAU_USD", "EUR_JPY"] });

    // It was saved: a fresh Dashboard shows the same list.
    await nav(page, "Accounts");
    await nav(page, "Dashboard");
    await card.getByTestId("wl-row-EUR_JPY").waitFor();
    assert.deepEqual(await card.locator("tbody th").allTextContents(), ["EUR_USD", "XAU_USD", "EUR_JPY"]);
  });

  test("free text where the broker has no search; unknown instruments get a notice on their row, which can be dismissed", async () => {
    const page = await open("connections");
    const card = page.getByRole("article", { name: "Alpaca swing watchlist" });
    await card.getByTestId("wl-feed").getByText("Not streaming").waitFor();
    const box = page.getByRole("combobox", { name: "Add instrument to Alpaca swing" });
    await box.fill("nvda");
    await page.getByText("No instrument search at this broker: press Enter to add the symbol as typed.").waitFor();
    await page.getByRole("option", { name: /NVDA.*Add as typed/ }).waitFor();
    await page.keyboard.press("Enter");
    await card.getByTestId("wl-row-NVDA").waitFor();
    assert.deepEqual((await calls(page, "watchlist_set")).at(-1), { id: "acc_alpaca", instruments: ["AAPL", "SPY", "NVDA"] });
    // Its first watchlist change started the account's price stream.
    await card.getByTestId("wl-feed").getByText("Live").waitFor();
    await page.waitForFunction((sel) => /^\d+\.\d{2}$/.test(document.querySelector(sel)?.textContent ?? ""), `${ROW("acc_alpaca", "NVDA")} [data-testid="wl-bid"]`);

    // A symbol the broker does not know: the feed's notice lands on its row.
    await box.fill("zzzz");
    await page.keyboard.press("Enter");
    const notice = card.getByTestId("wl-notice-ZZZZ");
    await notice.getByText("Unknown instrument:").waitFor();
    await notice.getByText("The broker does not know the instrument ZZZZ").waitFor();
    await shotTall(page, "dashboard-watchlist-notice");
    await notice.getByRole("button", { name: "Dismiss the notice about ZZZZ" }).click();
    await notice.waitFor({ state: "detached" });
    await card.getByTestId("wl-row-ZZZZ").waitFor();
  });

  test("stale when the price channel drops: greyed, 'last update N s ago' ticking, reconnecting…; recovers by itself", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const page = await open("connections", { colorScheme });
      const card = page.getByRole("article", { name: "FTMO challenge watchlist" });
      await card.getByTestId("wl-feed").getByText("Live").waitFor();
      await page.waitForFunction((sel) => Number(document.querySelector(sel)?.dataset.moves ?? 0) >= 2, ROW("acc_ftmo", "EUR_USD"));
      await page.waitForTimeout(1500); // a little history for the sparklines
      await shotTall(page, `dashboard-watchlist-${colorScheme}`);

      await pushState(page, "acc_ftmo", "price", { state: "reconnecting", attempt: 1, nextRetryMs: 5000, lastError: "stream closed by peer" });
      await card.getByTestId("wl-feed").getByText("Stale").waitFor();
      assert.equal(await card.getAttribute("data-feed"), "stale");
      assert.match(await card.getAttribute("class"), /is-stale/);
      assert.equal(await card.getByTestId("wl-hint").textContent(), "reconnecting…");
      const age = card.getByTestId("wl-age");
      assert.match(await age.textContent(), /^last update [01] s ago$/);
      const frozen = await cellText(page, "acc_ftmo", "EUR_USD", "bid");
      await page.waitForFunction((sel) => /^last update [2-9] s ago$/.test(document.querySelector(sel)?.textContent ?? ""), '[data-testid="wl-acc_ftmo"] [data-testid="wl-age"]');
      assert.equal(await cellText(page, "acc_ftmo", "EUR_USD", "bid"), frozen, "no prices while the channel is down");
      assert.equal(
        await page.locator(`${ROW("acc_ftmo", "EUR_USD")} [data-testid="wl-bid"]`).evaluate((el) => getComputedStyle(el).color),
        await page.locator(`${ROW("acc_ftmo", "EUR_USD")} [data-testid="wl-spread"]`).evaluate((el) => getComputedStyle(el).color),
        "greyed",
      );
      await shotTall(page, `dashboard-watchlist-stale-${colorScheme}`);

      await pushState(page, "acc_ftmo", "price", { state: "connected" });
      await card.getByTestId("wl-feed").getByText("Live").waitFor();
      assert.equal(await card.getByTestId("wl-stale").count(), 0);
      const moves = Number(await page.locator(ROW("acc_ftmo", "EUR_USD")).getAttribute("data-moves"));
      await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel)?.dataset.moves ?? 0) > n, [ROW("acc_ftmo", "EUR_USD"), moves]);
      await page.context().close();
    }
  });

  test("notices from the feed itself, and a failed price channel", async () => {
    const page = await open("connections", { query: "prices=off" });
    const card = page.getByRole("article", { name: "FTMO challenge watchlist" });
    await card.getByTestId("wl-feed").getByText("Live").waitFor();
    await mock(page, () => window.__brokerdeskMock.prices.notice("acc_ftmo", null, "subscription_limit", "At most 20 instruments per stream"));
    await card.getByText("At most 20 instruments per stream").waitFor();
    await card.getByRole("button", { name: "Dismiss" }).click();
    await card.getByText("At most 20 instruments per stream").waitFor({ state: "detached" });
    await pushState(page, "acc_ftmo", "price", { state: "failed", code: "broker_auth", reason: "The broker rejected the token." });
    await card.getByTestId("wl-hint").getByText("price feed failed").waitFor();
    assert.equal(await card.getByTestId("wl-hint").getAttribute("title"), "The broker rejected the token.");
    assert.equal(await card.getByTestId("wl-age").textContent(), "no price received yet");
  });

  test("Settings: price updates per second, validated (1–120) and saved with the other settings", async () => {
    const page = await open("unlocked");
    await nav(page, "Settings");
    const rate = page.getByLabel("Price updates per second");
    assert.equal(await rate.inputValue(), "30");
    const save = page.getByRole("region", { name: "Live prices" }).getByRole("button", { name: "Save" });
    assert.equal(await save.isDisabled(), true, "nothing changed yet");
    await rate.fill("0");
    await save.click();
    await page.locator("#price-rate-error").getByText("Use 1 to 120 updates per second.").waitFor();
    assert.equal(await rate.getAttribute("aria-invalid"), "true");
    await rate.fill("2.5");
    await save.click();
    await page.locator("#price-rate-error").getByText("Enter a whole number of updates per second.").waitFor();
    assert.equal((await calls(page, "settings_update")).length, 0, "caught before the backend");
    await rate.fill("45");
    await save.click();
    await page.getByText("Prices now update up to 45 times a second per instrument.").waitFor();
    assert.deepEqual(await calls(page, "settings_update"), [{ settings: { autoLockMinutes: null, priceUpdatesPerSecond: 45 } }]);
    // Auto-lock keeps the new rate (one settings object, saved whole).
    await page.getByLabel("Auto-lock").selectOption({ label: "15 minutes" });
    await page.getByText("Brokerdesk now locks after 15 minutes without activity.").waitFor();
    assert.deepEqual((await calls(page, "settings_update")).at(-1), { settings: { autoLockMinutes: 15, priceUpdatesPerSecond: 45 } });
    await page.getByRole("button", { name: "Use the default (30)" }).click();
    assert.equal(await rate.inputValue(), "30");
  });
});
