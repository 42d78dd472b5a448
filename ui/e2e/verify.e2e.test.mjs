// Browser tests of "Verify with broker" (account_verify) against the fake backend: from the
// Accounts list, and on the result screen after a save the broker could not check.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, nav, shotTall, useBrowser } from "./harness.mjs";

const open = useBrowser();

const failNext = (page, command, error) => page.evaluate(([c, e]) => window.__brokerdeskMock.failNext(c, e), [command, { fields: [], ...error }]);
const setBrokerDelay = (page, ms) => page.evaluate((d) => window.__brokerdeskMock.setBrokerDelay(d), ms);

describe("verify with broker", () => {
  test("from the Accounts list: 'Checking with OANDA…', then what the broker reports", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const page = await open("unlocked", { colorScheme });
      await nav(page, "Accounts");
      await setBrokerDelay(page, 800);
      await page.getByRole("button", { name: "Verify FTMO challenge with OANDA" }).click();
      const dialog = page.getByRole("dialog", { name: "Verify “FTMO challenge” with OANDA" });
      await dialog.getByTestId("verify-progress").getByText("Checking with OANDA…").waitFor();
      const result = dialog.getByTestId("verify-result");
      await result.getByText("OANDA accepted the stored credentials").waitFor();
      assert.equal(await result.getAttribute("data-status"), "verified");
      const field = (id) => result.getByTestId(`summary-${id}`).textContent();
      assert.deepEqual(
        [await field("account"), await field("type"), await field("currency"), await field("balance"), await field("equity"), await field("buying-power")],
        ["••••-001", "Margin", "USD", "$100,000.00", "$100,412.57", "$97,240.18"],
      );
      assert.match(await result.getByTestId("verify-live").textContent(), /lets the account switch to live trading until /);
      assert.deepEqual(await calls(page, "account_verify"), [{ id: "acc_ftmo" }]);
      await shotTall(page, `verify-ok-${colorScheme}`);
      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "detached" });
      await page.context().close();
    }
  });

  test("refusals: wrong credentials, unreadable credentials, the rate limit; an unreachable broker can be retried", async () => {
    const page = await open("unlocked");
    await nav(page, "Accounts");
    await setBrokerDelay(page, 0);
    const table = page.getByRole("table", { name: "Accounts" });
    await table.waitFor();
    const dialog = page.getByRole("dialog");

    await failNext(page, "account_verify", { code: "broker_auth", message: "the broker refused the credentials: HTTP 401: Insufficient authorization to perform request." });
    await page.getByRole("button", { name: "Verify FTMO challenge with OANDA" }).click();
    const refused = dialog.getByTestId("verify-result");
    await refused.getByText("OANDA refused the stored credentials").waitFor();
    assert.equal(await refused.getAttribute("data-code"), "broker_auth");
    assert.equal(await refused.getByTestId("verify-reason").textContent(), "HTTP 401: Insufficient authorization to perform request.");
    await refused.getByText(/Edit the account and enter its credentials again/).waitFor();
    assert.equal(await dialog.getByRole("button", { name: "Try again" }).count(), 0);
    await shotTall(page, "verify-refused-light");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    // Alpaca's stored key cannot be opened.
    await page.getByRole("button", { name: "Verify Alpaca swing with Alpaca" }).click();
    await dialog.getByTestId("verify-result").getByText("The stored credentials cannot be read").waitFor();
    await page.keyboard.press("Escape");

    // The broker times out; Try again works.
    await failNext(page, "account_verify", { code: "broker_timeout", message: "timed out: the broker did not answer within 10 s" });
    await page.getByRole("button", { name: "Verify FTMO challenge with OANDA" }).click();
    await dialog.getByTestId("verify-result").getByText("OANDA did not answer in time").waitFor();
    await dialog.getByRole("button", { name: "Try again" }).click();
    await dialog.getByTestId("verify-result").getByText("OANDA accepted the stored credentials").waitFor();
    await page.keyboard.press("Escape");

    // Five checks a minute per account (one so far: the injected failures never reached the broker).
    for (let i = 0; i < 4; i++) {
      await page.getByRole("button", { name: "Verify FTMO challenge with OANDA" }).click();
      await dialog.getByTestId("verify-result").waitFor();
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
    }
    await page.getByRole("button", { name: "Verify FTMO challenge with OANDA" }).click();
    await dialog.getByTestId("verify-result").getByText("Too many checks in the last minute").waitFor();
    assert.match(await dialog.getByTestId("verify-reason").textContent(), /^FTMO challenge was checked 5 times in the last minute/);
  });

  test("after a save OANDA could not check: Verify with OANDA from the result", async () => {
    const page = await open("unlocked");
    await nav(page, "Accounts");
    await page.getByRole("link", { name: "Add account" }).click();
    await page.getByRole("radio", { name: /OANDA/ }).check({ force: true });
    await page.getByLabel(/^Account name/).fill("Travel laptop");
    await page.getByLabel(/^v20 account ID/).fill("101-004-7654321-001");
    await page.getByLabel(/^Personal access token/).fill("tok-0123456789-abcd-7f2e");
    await page.getByText("Advanced: endpoint overrides").click();
    await page.getByLabel("REST URL").fill("https://offline.invalid");
    await page.getByRole("button", { name: "Add account" }).click();

    const result = page.getByTestId("save-result");
    await result.getByRole("heading", { name: "Saved without verification" }).waitFor();
    await setBrokerDelay(page, 600);
    await result.getByRole("button", { name: "Verify with OANDA" }).click();
    await result.getByRole("button", { name: "Checking with OANDA…" }).waitFor();
    const failed = result.getByTestId("verify-result");
    await failed.getByText("OANDA could not be reached").waitFor();
    assert.equal(await failed.getByTestId("verify-reason").textContent(), "Network error: could not connect to offline.invalid (connection refused).");
    await result.getByRole("button", { name: "Try again with OANDA" }).waitFor();
    await shotTall(page, "save-result-verify-failed-light");
    const [{ id }] = await calls(page, "account_verify");
    assert.match(id, /^acc_/);
    assert.equal(await result.getByRole("heading", { name: "Saved without verification" }).count(), 1);
  });
});
