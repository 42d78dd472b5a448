// Browser tests of "Verify with broker" (account_verify) against the real core and the OANDA
// simulator: from the Accounts list, and on the result screen after a save the broker could
// not check. Refusals come from the simulator's fault switches (refused credentials, a slow
// answer past the core's 10 s timeout, down) and from a tampered stored secret; the limit of
// 5 checks a minute is the core's.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, nav, shotTall, useBrowser } from "./harness.mjs";
import { DEMO, tamperSecret, unlocked } from "./scenarios.mjs";

const open = useBrowser();

describe("verify with broker", () => {
  test("from the Accounts list: 'Checking with OANDA…', then what the broker reports", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const { page, s } = await open("unlocked", { colorScheme });
      await nav(page, "Accounts");
      await s.oanda.delay(800);
      await page.getByRole("button", { name: "Verify FTMO challenge with OANDA" }).click();
      const dialog = page.getByRole("dialog", { name: "Verify “FTMO challenge” with OANDA" });
      await dialog.getByTestId("verify-progress").getByText("Checking with OANDA…").waitFor();
      const result = dialog.getByTestId("verify-result");
      await result.getByText("OANDA accepted the stored credentials").waitFor();
      assert.equal(await result.getAttribute("data-status"), "verified");
      const field = (id) => result.getByTestId(`summary-${id}`).textContent();
      assert.deepEqual(
        [await field("account"), await field("type"), await field("currency"), await field("balance"), await field("equity"), await field("buying-power")],
        ["••••-001", "Margin", "USD", "$100,000.00", "$100,000.00", "$5,000,000.00"],
      );
      assert.match(await result.getByTestId("verify-live").textContent(), /lets the account switch to live trading until /);
      assert.deepEqual(await calls(page, "account_verify"), [{ id: s.ftmo.id }]);
      await shotTall(page, `verify-ok-${colorScheme}`);
      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "detached" });
    }
  });

  test("refusals: wrong credentials, unreadable credentials, a timeout that can be retried, the rate limit", async () => {
    const { page, s } = await open(async (bd) => {
      const s = await unlocked(bd);
      tamperSecret(bd, s.alpaca.id, "api_key");
      return s;
    });
    await nav(page, "Accounts");
    const table = page.getByRole("table", { name: "Accounts" });
    await table.waitFor();
    const dialog = page.getByRole("dialog");

    // The broker refuses the stored token (it was revoked at OANDA).
    await s.oanda.fault("refuse_auth");
    await page.getByRole("button", { name: "Verify FTMO challenge with OANDA" }).click();
    const refused = dialog.getByTestId("verify-result");
    await refused.getByText("OANDA refused the stored credentials").waitFor();
    assert.equal(await refused.getAttribute("data-code"), "broker_auth");
    assert.equal(await refused.getByTestId("verify-reason").textContent(), "Insufficient authorization to perform request.");
    await refused.getByText(/Edit the account and enter its credentials again/).waitFor();
    assert.equal(await dialog.getByRole("button", { name: "Try again" }).count(), 0);
    await shotTall(page, "verify-refused-light");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await s.oanda.fault(null);

    // Alpaca's stored key cannot be opened.
    await page.getByRole("button", { name: "Verify Alpaca swing with Alpaca" }).click();
    await dialog.getByTestId("verify-result").getByText("The stored credentials cannot be read").waitFor();
    await page.keyboard.press("Escape");

    // The broker answers later than the core waits (10 s); Try again works once it is quick.
    await s.oanda.delay(11_000);
    await page.getByRole("button", { name: "Verify FTMO challenge with OANDA" }).click();
    await dialog.getByTestId("verify-result").getByText("OANDA did not answer in time").waitFor({ timeout: 15_000 });
    await s.oanda.delay(0);
    await dialog.getByRole("button", { name: "Try again" }).click();
    await dialog.getByTestId("verify-result").getByText("OANDA accepted the stored credentials").waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    // Five checks a minute per account, whatever their outcome (the check when it was added
    // counts too): checking on runs into the limit.
    let limited = false;
    for (let i = 0; i < 5 && !limited; i++) {
      await page.getByRole("button", { name: "Verify FTMO challenge with OANDA" }).click();
      await dialog.getByTestId("verify-result").waitFor();
      limited = (await dialog.getByTestId("verify-result").getAttribute("data-code")) === "verify_rate_limited";
      if (!limited) {
        await page.keyboard.press("Escape");
        await dialog.waitFor({ state: "detached" });
      }
    }
    assert.ok(limited, "the sixth check in a minute is refused");
    await dialog.getByTestId("verify-result").getByText("Too many checks in the last minute").waitFor();
    assert.match(await dialog.getByTestId("verify-reason").textContent(), /^FTMO challenge was checked 5 times in the last minute/);
  });

  test("after a save OANDA could not check: Verify with OANDA from the result", async () => {
    const { page, bd, s } = await open("unlocked");
    // OANDA is down (503) for the next minute.
    await s.oanda.down(60_000);
    await nav(page, "Accounts");
    await page.getByRole("link", { name: "Add account" }).click();
    await page.getByRole("radio", { name: /OANDA/ }).check({ force: true });
    await page.getByLabel(/^Account name/).fill("Travel laptop");
    await page.getByLabel(/^v20 account ID/).fill(DEMO.oanda.accounts[1]);
    await page.getByLabel(/^API access token/).fill(DEMO.oanda.token);
    await page.getByText("Advanced: endpoint overrides").click();
    await page.getByLabel("REST URL").fill(s.oanda.url);
    await page.getByLabel("Stream URL").fill(s.oanda.url);
    await page.getByRole("button", { name: "Add account" }).click();

    const result = page.getByTestId("save-result");
    await result.getByRole("heading", { name: "Saved without verification" }).waitFor();
    await s.oanda.delay(600);
    await result.getByRole("button", { name: "Verify with OANDA" }).click();
    await result.getByRole("button", { name: "Checking with OANDA…" }).waitFor();
    const failed = result.getByTestId("verify-result");
    await failed.getByText("OANDA is unavailable right now").waitFor();
    assert.match(await failed.getByTestId("verify-reason").textContent(), /503/);
    await result.getByRole("button", { name: "Try again with OANDA" }).waitFor();
    await shotTall(page, "save-result-verify-failed-light");
    const [{ id }] = await calls(page, "account_verify");
    assert.equal(id, (await bd.api("accounts_list")).find((a) => a.name === "Travel laptop").id, "the account just saved");
    assert.equal(await result.getByRole("heading", { name: "Saved without verification" }).count(), 1);
  });
});
