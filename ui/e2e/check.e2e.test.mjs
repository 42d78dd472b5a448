// Browser tests of checking credentials with the broker in the account editor, against the
// real core and the OANDA simulator: its own answers (a wrong token is refused with OANDA's
// 401), a stopped simulator for an unreachable broker, the simulator's delay switch for a slow
// one, and tokens reaching one or two accounts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calls, nav, shot, shotTall, useBrowser } from "./harness.mjs";
import { DEMO } from "./scenarios.mjs";

const open = useBrowser();

/** How many accounts the core stores. */
const storedAccounts = async (bd) => (await bd.api("accounts_list")).length;

/** The URL of a simulator that was started and stopped again: nothing listens there. */
async function deadUrl(bd) {
  const sim = await bd.sim("oanda");
  await sim.stop();
  return sim.url;
}

async function newOandaAccount(page, sim, { name = "OANDA swing", token = DEMO.oanda.token, accountId = DEMO.oanda.accounts[0], url = sim.url } = {}) {
  await nav(page, "Accounts");
  await page.getByRole("link", { name: "Add account" }).click();
  await page.getByRole("heading", { name: "Add account" }).waitFor();
  await page.getByRole("radio", { name: /OANDA/ }).check({ force: true });
  await page.getByLabel(/^Account name/).fill(name);
  if (accountId) await page.getByLabel(/^v20 account ID/).fill(accountId);
  await page.getByLabel(/^API access token/).fill(token);
  await page.getByText("Advanced: endpoint overrides").click();
  await page.getByLabel("REST URL").fill(url);
  await page.getByLabel("Stream URL").fill(url);
}

describe("checking with the broker", () => {
  test("add: 'Checking with OANDA…' while the broker answers, then the verified account's summary", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const { page, s } = await open("unlocked", { colorScheme });
      await newOandaAccount(page, s.oanda, { accountId: DEMO.oanda.accounts[1] });
      await s.oanda.delay(1500);
      await page.getByRole("button", { name: "Add account" }).click();
      await page.getByRole("button", { name: "Checking with OANDA…" }).waitFor();
      await page.getByTestId("check-progress").getByText("Checking with OANDA… Nothing is saved until it answers.").waitFor();

      const result = page.getByTestId("save-result");
      await result.getByRole("heading", { name: "Verified with OANDA" }).waitFor();
      assert.equal(await result.getAttribute("data-status"), "verified");
      // What the simulator's account reports (100,000 USD, nothing open).
      const field = (id) => result.getByTestId(`summary-${id}`).textContent();
      assert.equal(await field("account"), "••••-002");
      assert.equal(await field("type"), "Margin");
      assert.equal(await field("currency"), "USD");
      assert.equal(await field("balance"), "$100,000.00");
      assert.equal(await field("equity"), "$100,000.00");
      assert.equal(await field("buying-power"), "$5,000,000.00");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "save-result-title", "focus moves to the result");
      await shotTall(page, `account-verified-${colorScheme}`);
      if (colorScheme === "light") await shot(page, "account-verified", { docs: "account-verified" });
      await s.oanda.delay(0);

      await result.getByRole("link", { name: "Back to accounts" }).click();
      const row = page.getByRole("table", { name: "Accounts" }).locator("tbody tr", { hasText: "OANDA swing" });
      await row.getByText(DEMO.oanda.accounts[1]).waitFor();
    }
  });

  test("a wrong key: the broker's reason inline, nothing saved, the form kept; Test connection; unreachable → Save without checking", async () => {
    const { page, bd, s } = await open("unlocked");
    await newOandaAccount(page, s.oanda, { token: "wrong-token-0123456789" });
    await page.getByRole("button", { name: "Add account" }).click();

    const result = page.getByTestId("check-result");
    await result.getByText("OANDA refused the credentials").waitFor();
    assert.equal(await result.getAttribute("data-status"), "refused");
    // OANDA's own 401 body, from the simulator.
    assert.equal(await result.getByTestId("check-reason").textContent(), "Insufficient authorization to perform request.");
    await result.getByText("Nothing was saved. Check the credentials (and that they are for this environment), then try again.").waitFor();
    await page.getByTestId("error-summary").getByText(/^OANDA refused the credentials: .* Nothing was saved\.$/).waitFor();
    assert.equal(await page.getByLabel(/^API access token/).inputValue(), "wrong-token-0123456789", "the form stays filled");
    assert.equal(await page.getByLabel(/^Account name/).inputValue(), "OANDA swing");
    assert.equal(await storedAccounts(bd), 2, "nothing was saved");
    await result.scrollIntoViewIfNeeded();
    await shotTall(page, "account-refused-light");

    // Test connection with the right key: verified, and still nothing saved.
    await page.getByLabel(/^API access token/).fill(DEMO.oanda.token);
    assert.equal(await page.getByTestId("check-result").count(), 0, "a new key clears the old verdict");
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByTestId("check-result").getByText("OANDA accepted the credentials").waitFor();
    await page.getByTestId("check-result").getByTestId("summary-balance").getByText("$100,000.00").waitFor();
    assert.equal(await storedAccounts(bd), 2);
    assert.equal((await calls(page, "account_check")).at(-1).id, null);

    // The broker cannot be reached: offered to save without checking.
    const dead = await deadUrl(bd);
    await page.getByLabel("REST URL").fill(dead);
    await page.getByLabel("Stream URL").fill(dead);
    await page.getByRole("button", { name: "Test connection" }).click();
    const unreachable = page.getByTestId("check-result");
    await unreachable.getByText("OANDA could not be reached").waitFor();
    assert.match(await unreachable.getByTestId("check-reason").textContent(), /^Network error: .*[Cc]onnection refused/);
    await unreachable.getByRole("button", { name: "Save without checking" }).click();
    await page.getByText("Added “OANDA swing”.").waitFor();
    assert.equal((await calls(page, "account_add")).at(-1).check, false);
    assert.equal(await storedAccounts(bd), 3);
  });

  test("saving while the broker is unreachable stores the account unverified and says live trading stays locked", async () => {
    const { page, bd, s } = await open("unlocked");
    await newOandaAccount(page, s.oanda, { name: "Travel laptop", url: await deadUrl(bd) });
    await page.getByRole("button", { name: "Add account" }).click();
    const result = page.getByTestId("save-result");
    await result.getByRole("heading", { name: "Saved without verification" }).waitFor();
    assert.match(await result.getByTestId("unreachable-reason").textContent(), /^Network error: .*[Cc]onnection refused/);
    await result.getByText(/live trading stays locked until a check with OANDA succeeds/).waitFor();
    await shotTall(page, "account-unverified-light");
    assert.equal(await storedAccounts(bd), 3);
  });

  test("OANDA: a token reaching several accounts opens the picker; the chosen one is added", async () => {
    const { page, bd, s } = await open("unlocked");
    await newOandaAccount(page, s.oanda, { name: "Multi", accountId: "" });
    await page.getByRole("button", { name: "Add account" }).click();

    const picker = page.getByTestId("account-picker");
    await picker.getByText("This token reaches 2 accounts: choose one").waitFor();
    await page.locator("#field-brokerAccountId-error").getByText("This token reaches several accounts: choose one below, under “Find accounts”.").waitFor();
    assert.equal(await picker.getByRole("radio").count(), 2);
    // OANDA's account list carries ids only (no alias or currency).
    await picker.getByRole("radio", { name: /101-004-1234567-001/ }).waitFor();
    assert.equal(await storedAccounts(bd), 2, "nothing was saved");
    await picker.scrollIntoViewIfNeeded();
    await shotTall(page, "account-picker-light");

    await picker.getByRole("radio", { name: /101-004-1234567-002/ }).check({ force: true });
    assert.equal(await page.getByLabel(/^v20 account ID/).inputValue(), "101-004-1234567-002");
    assert.equal(await page.locator("#field-brokerAccountId-error").count(), 0, "choosing clears the error");
    await page.getByRole("button", { name: "Add account" }).click();
    await page.getByTestId("save-result").getByRole("heading", { name: "Verified with OANDA" }).waitFor();
    assert.equal(await page.getByTestId("summary-account").textContent(), "••••-002");
    assert.equal((await calls(page, "account_add")).at(-1).input.brokerAccountId, "101-004-1234567-002");

    // "Find accounts" on another draft: a token reaching a single account fills its id at once.
    const single = await bd.sim("oanda", { accounts: ["101-004-7654321-001"] });
    await nav(page, "Accounts");
    await page.getByRole("link", { name: "Add account" }).click();
    await page.getByRole("radio", { name: /OANDA/ }).check({ force: true });
    const find = page.getByRole("button", { name: "Find accounts" });
    assert.equal(await find.isDisabled(), true, "needs a token first");
    await page.getByLabel(/^API access token/).fill(DEMO.oanda.token);
    await page.getByText("Advanced: endpoint overrides").click();
    await page.getByLabel("REST URL").fill(single.url);
    await find.click();
    await page.getByTestId("account-picker").getByText(/This token reaches one account: .* \(filled in\)\./).waitFor();
    assert.equal(await page.getByLabel(/^v20 account ID/).inputValue(), "101-004-7654321-001");
  });
});
